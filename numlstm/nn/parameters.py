"""All the weights of a network in one flat vector, with named views."""

from __future__ import annotations

import numpy as np


class FlatParameters:
    """Named arrays laid out back to back in one flat vector.

    ``theta`` holds every weight and ``grad`` every gradient, in the order the
    names were given, each block raveled in C order. ``views[name]`` and
    ``grad_views[name]`` are reshaped views into them, so a layer writing its
    gradient into its view writes straight into the flat gradient that the
    optimiser reads.

    Parameters
    ----------
    shapes : dict of str to tuple of int
        Canonical name -> shape, in layout order.
    dtype : numpy dtype
    backend : backend object
        Allocates the flat vectors (host memory on the CPU).

    Examples
    --------
    >>> import numpy as np
    >>> from numlstm.backends import resolve
    >>> p = FlatParameters({"dense.W": (2, 3), "dense.b": (2,)}, np.float64,
    ...                    resolve("cpu"))
    >>> p.size, p.views["dense.W"].shape
    (8, (2, 3))
    """

    def __init__(self, shapes: dict, dtype, backend) -> None:
        self.shapes = {name: tuple(int(n) for n in shape)
                       for name, shape in shapes.items()}
        self.dtype = np.dtype(dtype)
        self.offsets = {}
        size = 0
        for name, shape in self.shapes.items():
            self.offsets[name] = size
            size += int(np.prod(shape, dtype=np.int64))
        self.size = size
        self.backend = backend
        self.theta = backend.zeros(size, self.dtype)
        self.grad = backend.zeros(size, self.dtype)
        #: a copy of ``theta`` taken before each update, to undo one that
        #: overflows (see :func:`numlstm.nn.train_step`)
        self.backup = backend.zeros(size, self.dtype)
        self.views = self._views(self.theta)
        self.grad_views = self._views(self.grad)
        #: ``(start, stop)`` of each weight matrix (what L2 penalises, not
        #: the biases), as host ints and as a ``(k, 2)`` backend array
        self.host_segments = [
            (self.offsets[name], self.offsets[name] + int(np.prod(shape)))
            for name, shape in self.shapes.items() if len(shape) >= 2]
        self.segments = backend.asarray(
            np.array(self.host_segments, dtype=np.int64).reshape(-1, 2),
            np.int64)

    def _views(self, flat) -> dict:
        out = {}
        for name, shape in self.shapes.items():
            start = self.offsets[name]
            stop = start + int(np.prod(shape, dtype=np.int64))
            out[name] = flat[start:stop].reshape(shape)
        return out

    def host_views(self, flat) -> dict:
        """``views`` of a host vector laid out as ``theta``."""
        return self._views(flat)

    def to_dict(self) -> dict:
        """A copy of every weight, name -> array, in layout order (one
        read from the backend)."""
        host = np.array(self.backend.to_host(self.theta))
        return {name: view.copy() for name, view in self._views(host).items()}

    def load_dict(self, weights: dict) -> None:
        """Copy ``weights`` in after checking every name and shape.

        Raises
        ------
        ValueError
            If a name is missing or unexpected, a shape differs, or a value
            is not finite.
        """
        if not isinstance(weights, dict):
            raise ValueError(f"weights must be a dict name -> array, got "
                             f"{type(weights).__name__}")
        missing = [n for n in self.shapes if n not in weights]
        extra = [n for n in weights if n not in self.shapes]
        if missing or extra:
            raise ValueError(f"weight names do not match the network: missing "
                             f"{missing}, unexpected {extra}")
        host = np.empty(self.size, self.dtype)
        views = self._views(host)
        for name, shape in self.shapes.items():
            a = np.asarray(weights[name])
            if a.shape != shape:
                raise ValueError(f"weight {name!r} has shape {a.shape}, "
                                 f"expected {shape}")
            if not np.issubdtype(a.dtype, np.number) or np.iscomplexobj(a):
                raise ValueError(f"weight {name!r} must be real numbers, got "
                                 f"dtype {a.dtype}")
            if not np.all(np.isfinite(a)):
                raise ValueError(f"weight {name!r} contains NaN or infinity")
            views[name][...] = a
        self.backend.upload(host, self.theta)

    def set_flat(self, theta) -> None:
        """Copy a flat vector of the right size into ``theta``."""
        theta = np.asarray(theta)
        if theta.shape != (self.size,):
            raise ValueError(f"parameter vector has shape {theta.shape}, "
                             f"expected ({self.size},)")
        self.backend.upload(np.ascontiguousarray(theta, dtype=self.dtype),
                            self.theta)
