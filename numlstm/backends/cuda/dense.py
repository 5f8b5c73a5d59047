"""The time-distributed dense layer on CUDA: one thread per output element,
sums over the shared axis in order (no atomics, launch-independent bits).
Plain loops for now; the tiled GEMM of the design replaces them."""

import numpy as np
from numba import cuda

from ._jit import cuda_kernel, launch_shape


@cuda_kernel
def _forward_kernel(X, W, b, out):
    K = out.shape[1]
    for k in range(cuda.grid(1), out.size, cuda.gridsize(1)):
        n = k // K
        j = k % K
        acc = b[j]
        for d in range(X.shape[1]):
            acc += X[n, d] * W[j, d]
        out[n, j] = acc


@cuda_kernel
def _backward_kernel(X, W, dY, zero, dX, dW, db):
    N, D = X.shape
    K = dY.shape[1]
    n_dx = dX.size
    n_dw = dW.size
    for k in range(cuda.grid(1), n_dx + n_dw + K, cuda.gridsize(1)):
        acc = zero
        if k < n_dx:
            n = k // D
            d = k % D
            for j in range(K):
                acc += dY[n, j] * W[j, d]
            dX[n, d] = acc
        elif k < n_dx + n_dw:
            j = (k - n_dx) // D
            d = (k - n_dx) % D
            for n in range(N):
                acc += dY[n, j] * X[n, d]
            dW[j, d] = acc
        else:
            j = k - n_dx - n_dw
            for n in range(N):
                acc += dY[n, j]
            db[j] = acc


def dense_forward(X, W, b, out):
    """``out (N, K) = X (N, D) @ W.T + b``."""
    blocks, threads = launch_shape(out.size)
    _forward_kernel[blocks, threads](X, W, b, out)


def dense_backward(X, W, dY, dX, dW, db):
    """``dX = dY W``, ``dW = dY^T X``, ``db`` = column sums of ``dY``."""
    blocks, threads = launch_shape(dX.size + dW.size + db.size)
    _backward_kernel[blocks, threads](X, W, dY, np.dtype(X.dtype).type(0),
                                      dX, dW, db)
