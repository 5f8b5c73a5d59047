"""Backend dispatcher: one object of kernels per compute target.

Everything above this package (``numlstm.nn``, the estimators) reaches the
kernels only through the object :func:`resolve` returns, never by importing a
kernel module. What that object provides is written down in
:class:`Backend` (:mod:`._contract`); :func:`register_backend` adds one.
"""

from __future__ import annotations

from ._contract import CONTRACT_NAMES, Backend, check_backend

#: name -> (factory, available): filled by :func:`register_backend`
_REGISTRY: dict = {}
_CACHE: dict = {}


def register_backend(name: str, factory, available=None) -> None:
    """Make a backend available to every estimator as ``backend=name``.

    Parameters
    ----------
    name : str
        Lower-case name; not ``'auto'``. Registering a name again replaces
        the backend (and drops the object made from the old factory).
    factory : callable
        Called with no argument the first time the backend is resolved; it
        returns the backend object, which must implement the whole
        :class:`Backend` contract (checked then, with
        :func:`~numlstm.backends.check_backend`). Import heavy modules in
        the factory, not at registration: nothing should be compiled or
        imported before a backend is used.
    available : callable, optional
        Called with no argument whenever the dispatcher asks whether the
        backend can run on this machine (a GPU backend probes for a device);
        by default it always can.

    Examples
    --------
    A backend that is the CPU one under another name:

    >>> from numlstm.backends import register_backend, resolve, unregister_backend
    >>> from numlstm.backends.cpu import CPUBackend
    >>> class Renamed(CPUBackend):
    ...     name = "renamed"
    >>> register_backend("renamed", Renamed)
    >>> resolve("renamed").name
    'renamed'
    >>> unregister_backend("renamed")
    """
    if not isinstance(name, str) or not name or name != name.lower() \
            or name == "auto":
        raise ValueError(f"a backend name must be a non-empty lower-case "
                         f"string other than 'auto', got {name!r}")
    if not callable(factory) or (available is not None and not callable(available)):
        raise TypeError("factory and available must be callables")
    _REGISTRY[name] = (factory, available)
    _CACHE.pop(name, None)


def unregister_backend(name: str) -> None:
    """Remove a backend :func:`register_backend` added (not ``'cpu'``)."""
    if name == "cpu":
        raise ValueError("the CPU backend cannot be unregistered")
    _REGISTRY.pop(name, None)
    _CACHE.pop(name, None)


def available_backends() -> list[str]:
    """Names of the backends that can run on this machine.

    Examples
    --------
    >>> "cpu" in available_backends()
    True
    """
    return [name for name in _REGISTRY if _is_available(name)]


def _is_available(name: str) -> bool:
    available = _REGISTRY[name][1]
    return available is None or bool(available())


def resolve(name: str = "auto"):
    """Return the backend object for ``name``.

    Parameters
    ----------
    name : str
        A registered backend (``'cpu'``, ``'cuda'``, ...), or ``'auto'``:
        the CPU (CUDA on a real GPU once :data:`AUTO_PICKS_CUDA` is on).

    Returns
    -------
    backend
        An object implementing :class:`Backend`; one per name, cached.

    Raises
    ------
    ValueError
        If ``name`` is unknown or not available here; the message lists the
        available backends, or for ``'cuda'`` says which part is missing
        (numba-cuda, the driver, a device) and how to fix it.
    TypeError
        If the registered factory makes an object that breaks the contract.

    Examples
    --------
    >>> resolve("auto").name
    'cpu'
    """
    if not isinstance(name, str):
        raise ValueError(f"backend must be a string, got {name!r}; "
                         f"available: {['auto', *available_backends()]}")
    key = name.lower()
    if key == "auto":
        key = _auto_choice()
    if key == "cuda" and key in _REGISTRY and not _is_available(key):
        from ._cuda_probe import cuda_status

        raise ValueError(f"backend {name!r} cannot run here: "
                         f"{cuda_status().problem}. Use 'cpu' or 'auto'.")
    if key not in _REGISTRY or not _is_available(key):
        raise ValueError(
            f"unknown or unavailable backend {name!r}; available on this "
            f"machine: {['auto', *available_backends()]}")
    if key not in _CACHE:
        backend = _REGISTRY[key][0]()
        problems = check_backend(backend)
        if problems:
            raise TypeError(f"backend {key!r} does not implement the backend "
                            f"contract: {'; '.join(problems)}")
        _CACHE[key] = backend
    return _CACHE[key]


#: Whether ``'auto'`` picks a real GPU. Off until the CUDA backend has
#: passed its tests on hardware (``benchmarks/gpu_check.sh``, issue 14):
#: until then a user gets CUDA only by asking for it by name.
AUTO_PICKS_CUDA = False


def _auto_choice() -> str:
    """The backend ``'auto'`` stands for: ``'cuda'`` on a real GPU (never
    the simulator) once :data:`AUTO_PICKS_CUDA` is on, else ``'cpu'``."""
    if AUTO_PICKS_CUDA and "cuda" in _REGISTRY:
        from ._cuda_probe import cuda_status

        status = cuda_status()
        if status.usable and not status.simulated:
            return "cuda"
    return "cpu"


def _cpu_backend():
    from .cpu import CPUBackend

    return CPUBackend()


def _cuda_backend():
    from .cuda.backend import CUDABackend

    return CUDABackend()


def _cuda_usable() -> bool:
    from ._cuda_probe import cuda_status

    return cuda_status().usable


register_backend("cpu", _cpu_backend)
register_backend("cuda", _cuda_backend, available=_cuda_usable)

__all__ = ["CONTRACT_NAMES", "Backend", "available_backends", "check_backend",
           "register_backend", "resolve", "unregister_backend"]
