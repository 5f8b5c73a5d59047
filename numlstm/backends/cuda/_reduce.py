"""A block-wide sum through a fixed tree in shared memory.

Every reduction of the CUDA backend that produces a result goes through
this one tree, in float64: the same bits whatever the data's order of
arrival, and no atomics.
"""

from numba import cuda

from ._jit import THREADS, device_function


@device_function
def block_sum(tree, value):
    """The sum of every thread's ``value`` over a block of :data:`THREADS`
    threads (all must call it), through ``tree``, a shared float64 array of
    :data:`THREADS`; returned to every thread."""
    tid = cuda.threadIdx.x
    tree[tid] = value
    cuda.syncthreads()
    width = THREADS // 2
    while width > 0:
        if tid < width:
            tree[tid] += tree[tid + width]
        cuda.syncthreads()
        width //= 2
    total = tree[0]
    cuda.syncthreads()  # the tree may be reused at once
    return total
