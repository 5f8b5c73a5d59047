"""The one compilation policy of the CUDA kernels, and launch shapes.

``fastmath=False``: CUDA's fastmath is one switch that also flushes
denormals and approximates division, ``exp`` and ``log``, which the CPU
policy (:mod:`.._fastmath`) does not allow; without it the PTX still fuses
multiply-adds, as the CPU policy's ``contract`` does.
"""

import functools

from numba import config, cuda

from .plan import SIMULATOR, DeviceLimits

#: threads per block of the element-wise and gather kernels
THREADS = 256
#: at most this many blocks: grid-stride loops cover the rest
MAX_BLOCKS = 1024


def cuda_kernel(function):
    """A ``@cuda.jit`` kernel with numlstm's policy (cached on disk)."""
    return cuda.jit(cache=True, fastmath=False)(function)


def device_function(function):
    """A device function, inlined where it is called (so that it compiles
    without a driver too, see ``shared/design/cuda.md`` 2.9)."""
    return cuda.jit(device=True, inline="always")(function)


def launch_shape(n: int) -> tuple[int, int]:
    """``(blocks, threads)`` for ``n`` independent items with a grid-stride
    loop: whole warps, no more threads than items (the simulator runs one
    thread per OS thread), at most :data:`MAX_BLOCKS` blocks.

    >>> launch_shape(10), launch_shape(1000), launch_shape(10**9)
    ((1, 32), (4, 256), (1024, 256))
    """
    threads = min(THREADS, max(32, -(-n // 32) * 32))
    blocks = min(MAX_BLOCKS, max(1, -(-n // threads)))
    return blocks, threads


def device_limits() -> DeviceLimits:
    """The current device's :class:`~.plan.DeviceLimits` (read once per
    device), or :data:`~.plan.SIMULATOR` under the simulator."""
    if config.ENABLE_CUDASIM:
        return SIMULATOR
    return _limits_of(cuda.get_current_device().id)


@functools.cache
def _limits_of(device_id: int) -> DeviceLimits:
    device = cuda.get_current_device()
    return DeviceLimits(
        shared_per_block=device.MAX_SHARED_MEMORY_PER_BLOCK_OPTIN,
        n_sms=device.MULTIPROCESSOR_COUNT)
