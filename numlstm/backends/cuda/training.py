"""The L2 penalty and the update guard on CUDA."""

import numpy as np
from numba import cuda, float64

from ._jit import THREADS, cuda_kernel, launch_shape
from ._reduce import block_sum


@cuda_kernel
def _l2_kernel(theta, grad, segments, alpha, alpha64, out):
    """One block: ``grad += alpha * w`` over the segments, and ``alpha / 2
    * sum(w**2)`` in float64 through a fixed tree, added to ``out[0]``."""
    tree = cuda.shared.array(THREADS, float64)
    tid = cuda.threadIdx.x
    s = 0.0
    for m in range(segments.shape[0]):
        for k in range(segments[m, 0] + tid, segments[m, 1], THREADS):
            w = theta[k]
            s += float64(w) * float64(w)
            grad[k] += alpha * w
    total = block_sum(tree, s)
    if tid == 0:
        out[0] += 0.5 * alpha64 * total


@cuda_kernel
def _flag_non_finite_kernel(theta, status):
    if status[0] != 0:
        return
    for k in range(cuda.grid(1), theta.size, cuda.gridsize(1)):
        if not abs(theta[k]) < np.inf:
            status[0] = 2.0  # every writer writes the same value


@cuda_kernel
def _restore_kernel(theta, backup, status):
    if status[0] != 2:
        return
    for k in range(cuda.grid(1), theta.size, cuda.gridsize(1)):
        theta[k] = backup[k]


def l2_penalty(theta, grad, segments, alpha, out):
    """``out[0] += alpha / 2 * ||w||^2`` over ``segments (k, 2)`` and
    ``grad[s:e] += alpha * theta[s:e]``."""
    _l2_kernel[1, THREADS](theta, grad, segments,
                           np.dtype(theta.dtype).type(alpha),
                           np.float64(alpha), out)


def guard_update(theta, backup, status):
    """Undo an update that left a non-finite weight (status 2)."""
    blocks, threads = launch_shape(theta.size)
    _flag_non_finite_kernel[blocks, threads](theta, status)
    _restore_kernel[blocks, threads](theta, backup, status)
