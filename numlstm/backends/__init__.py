"""Backend dispatcher: one object of kernels per compute target.

Everything above this package (``numlstm.nn``, the estimators) reaches the
kernels only through the object :func:`resolve` returns, never by importing a
kernel module.
"""

from __future__ import annotations

#: The names every backend object exposes (its contract, checked by the tests).
KERNEL_NAMES = (
    "lstm_forward", "lstm_backward", "dense_forward", "dense_backward",
    "conv1d_forward", "conv1d_backward", "conv2d_forward", "conv2d_backward",
    "relu_forward", "relu_backward", "maxpool1d_forward", "maxpool1d_backward",
    "maxpool2d_forward", "maxpool2d_backward",
    "matmul_into", "sigmoid", "tanh", "log_softmax",
    "mse_loss", "softmax_cross_entropy", "sigmoid_binary_cross_entropy",
    "sgd_step", "adam_step", "rmsprop_step", "global_norm", "clip_grad_norm",
    "empty", "zeros", "asarray", "to_host",
)


def _load_cpu():
    from .cpu import CPUBackend

    return CPUBackend()


#: name -> loader; a later backend (``'cuda'``) registers itself here.
_LOADERS = {"cpu": _load_cpu}
_CACHE: dict = {}


def available_backends() -> list[str]:
    """Names of the backends that can run on this machine.

    Examples
    --------
    >>> "cpu" in available_backends()
    True
    """
    return [name for name in _LOADERS if _is_available(name)]


def _is_available(name: str) -> bool:
    return name == "cpu"


def resolve(name: str = "auto"):
    """Return the backend object for ``name``.

    Parameters
    ----------
    name : {'auto', 'cpu'}
        ``'auto'`` picks CUDA when a CUDA backend exists and a real GPU is
        present, else the CPU.

    Returns
    -------
    backend
        An object exposing every name of :data:`KERNEL_NAMES`.

    Raises
    ------
    ValueError
        If ``name`` is unknown or not available here; the message lists the
        available backends.

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
        key = "cpu"
    if key == "cuda" and key not in _LOADERS:
        raise ValueError(
            f"backend {name!r}: the CUDA backend is not implemented yet "
            "(it is planned); use 'cpu' or 'auto'.")
    if key not in _LOADERS or not _is_available(key):
        raise ValueError(
            f"unknown or unavailable backend {name!r}; available on this "
            f"machine: {['auto', *available_backends()]}")
    if key not in _CACHE:
        _CACHE[key] = _LOADERS[key]()
    return _CACHE[key]


__all__ = ["KERNEL_NAMES", "available_backends", "resolve"]
