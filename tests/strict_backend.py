"""A backend whose arrays refuse every NumPy operation outside the backend.

The CPU kernels behind arrays that, like a GPU's device arrays, have a
shape, a dtype, basic slicing and contiguous reshapes, and nothing else: an
operator, a NumPy function or ufunc, ``np.asarray``, a fancy index, reading
or writing an element, ``copy()`` or ``astype()`` on one raises
:class:`StrictError`. So does handing a kernel a host array where a backend
array belongs. A network or estimator that trains and predicts through it
leaves all array work to the backend and moves data only through
``asarray``, ``upload`` and ``to_host``.

It wraps arrays rather than subclassing ``ndarray``: ``np.asarray``,
``np.array``, ``.copy()`` and ``.astype()`` on an ndarray subclass bypass
every hook a subclass can define, and those are the calls a device array
cannot take.
"""

import functools
import inspect

import numpy as np

from numlstm.backends import CONTRACT_NAMES
from numlstm.backends.cpu import CPUBackend

#: methods whose first argument is a host array by design
_HOST_ARGUMENTS = {"asarray": (0,), "upload": (0,)}


class StrictError(TypeError):
    """NumPy work was done on a backend array outside the backend."""


def _refuse(what):
    def method(self, *args, **kwargs):
        raise StrictError(f"{what} on a backend array outside the backend")
    return method


class StrictArray:
    """A backend array: shape, dtype, basic slicing, contiguous reshapes."""

    __array_ufunc__ = None  # arithmetic operators raise TypeError

    def __init__(self, array: np.ndarray) -> None:
        self._a = array

    def __array__(self, dtype=None, copy=None):
        raise StrictError("np.asarray/np.array on a backend array; use "
                          "backend.to_host")

    def __array_function__(self, func, types, args, kwargs):
        raise StrictError(f"np.{func.__name__} on a backend array outside "
                          "the backend")

    shape = property(lambda self: self._a.shape)
    dtype = property(lambda self: self._a.dtype)
    ndim = property(lambda self: self._a.ndim)
    size = property(lambda self: self._a.size)
    nbytes = property(lambda self: self._a.nbytes)

    def __len__(self):
        return len(self._a)

    def reshape(self, *shape):
        if not self._a.flags.c_contiguous:
            raise StrictError("reshape of a strided backend array")
        return StrictArray(self._a.reshape(*shape))

    def __getitem__(self, key):
        keys = key if isinstance(key, tuple) else (key,)
        if not all(isinstance(k, (int, np.integer, slice)) or k is Ellipsis
                   for k in keys):
            raise StrictError(f"fancy index {key!r} of a backend array")
        view = self._a[key]
        if not isinstance(view, np.ndarray) or view.ndim == 0:
            raise StrictError("reading an element of a backend array; use "
                              "backend.to_host")
        return StrictArray(view)

    __setitem__ = _refuse("assignment")
    __iter__ = _refuse("iteration")
    __bool__ = _refuse("truth value")
    __float__ = _refuse("float()")
    __int__ = _refuse("int()")
    __index__ = _refuse("index()")
    __eq__ = _refuse("==")
    __ne__ = _refuse("!=")
    __lt__ = _refuse("<")
    __gt__ = _refuse(">")
    __hash__ = object.__hash__

    def __reduce__(self):
        return StrictArray, (self._a,)

    def __repr__(self):
        return f"StrictArray(shape={self.shape}, dtype={self.dtype})"


def _unwrap(name, position, value):
    if isinstance(value, StrictArray):
        return value._a
    if isinstance(value, np.ndarray) and \
            position not in _HOST_ARGUMENTS.get(name, ()):
        raise StrictError(f"backend.{name} was given a host array (argument "
                          f"{position}); move it with backend.asarray first")
    return value


def _wrap_result(value):
    return StrictArray(value) if isinstance(value, np.ndarray) else value


def _strict(name, function):
    target = getattr(function, "py_func", function)

    @functools.wraps(target)
    def method(*args, **kwargs):
        plain = [_unwrap(name, k, a) for k, a in enumerate(args)]
        named = {k: _unwrap(name, k, a) for k, a in kwargs.items()}
        return _wrap_result(function(*plain, **named))

    method.__signature__ = inspect.signature(target)
    return method


class StrictBackend:
    """The CPU kernels over :class:`StrictArray` arrays (``'strict'``)."""

    name = "strict"
    is_gpu = False

    def __init__(self) -> None:
        cpu = CPUBackend()
        for name in CONTRACT_NAMES:
            if name not in type(self).__dict__:
                setattr(self, name, _strict(name, getattr(cpu, name)))

    @staticmethod
    def asarray(a, dtype):
        """A backend array: ``a`` itself when it is one of the right dtype
        (as a device backend), else a copy (never sharing the host's memory,
        as a device array cannot)."""
        if isinstance(a, StrictArray):
            if a.dtype == np.dtype(dtype) and a._a.flags.c_contiguous:
                return a
            a = a._a
        elif not isinstance(a, np.ndarray):
            a = np.asarray(a)
        return StrictArray(np.array(a, dtype=dtype, order="C", copy=True))

    @staticmethod
    def to_host(a):
        """A NumPy copy of a backend array."""
        if not isinstance(a, StrictArray):
            raise StrictError("to_host of an array that is not the backend's")
        return np.array(a._a)

    @staticmethod
    def on_host(a):
        """Only host arrays are."""
        return not isinstance(a, StrictArray)

    @staticmethod
    def lstm_gate_grad_width(n_hidden, dtype, n_gates=4):
        """As the CPU's."""
        return CPUBackend.lstm_gate_grad_width(n_hidden, dtype, n_gates)

    def __repr__(self):
        return "StrictBackend()"
