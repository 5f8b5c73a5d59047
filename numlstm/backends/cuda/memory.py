"""Device memory: allocation and the two ways across the host edge.

Only :func:`asarray` and :func:`upload` copy host data in, and only
:func:`to_host` copies out, so every transfer of a fit is one of the
calls the estimator makes at its edge (``docs/architecture.md``).
"""

import numpy as np
from numba import cuda

from .arrays import fill


def is_device_array(a) -> bool:
    """Whether ``a`` is a numba CUDA device array (or the simulator's, which
    has no ``cuda.is_cuda_array``: both have ``copy_to_host``)."""
    return hasattr(a, "copy_to_host") and not isinstance(a, np.ndarray)


def empty(shape, dtype):
    """An uninitialised device array."""
    return cuda.device_array(shape, np.dtype(dtype))


def zeros(shape, dtype):
    """A zero-filled device array."""
    out = empty(shape, dtype)
    fill(out, 0)
    return out


def asarray(a, dtype):
    """``a`` as a C-contiguous device array of ``dtype``: a device array
    that already is one comes back as it is; host data is copied once."""
    dtype = np.dtype(dtype)
    if is_device_array(a):
        if a.dtype == dtype and a.flags["C_CONTIGUOUS"]:
            return a
        raise TypeError(f"asarray: a device array of {a.dtype}, shape "
                        f"{a.shape} cannot become {dtype} C-contiguous "
                        "without a host round trip; convert it before")
    return cuda.to_device(np.ascontiguousarray(a, dtype=dtype))


def upload(host, out):
    """Copy the host array ``host`` into the device array ``out``."""
    out.copy_to_device(np.ascontiguousarray(host, dtype=out.dtype))


def to_host(a):
    """``a``'s values as a new NumPy array (waits for the device)."""
    return a.copy_to_host() if is_device_array(a) else np.asarray(a)


def on_host(a) -> bool:
    """Whether NumPy may read ``a`` directly."""
    return not is_device_array(a)
