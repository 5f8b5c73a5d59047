"""Fully connected layer ``Y = X W^T + b``: forward and backward (CPU)."""

from ._jit import cpu_kernel
from .linalg import np_dot_into
from .tile import matmul_nt


@cpu_kernel
def dense_forward(X, W, b, out):
    """``out = X @ W.T + b`` for ``X (N, K)``, ``W (M, K)``, ``b (M,)``.

    Uses the tiled product of :mod:`.tile`, not BLAS, in the calling thread:
    a row's output does not depend on the other rows, so predictions are the
    same whatever batch a sample is in, bit for bit.
    """
    matmul_nt(X, W, out)
    n, m = out.shape
    for r in range(n):
        for k in range(m):
            out[r, k] += b[k]


@cpu_kernel
def dense_backward(X, W, dY, dX, dW, db):
    """Gradients of :func:`dense_forward` given ``dY (N, M)``.

    Writes ``dX (N, K)``, ``dW (M, K)`` and ``db (M,)`` (overwritten).
    """
    np_dot_into(dY.T, X, dW)
    np_dot_into(dY, W, dX)
    n, m = dY.shape
    db[:] = 0.0
    for r in range(n):
        for k in range(m):
            db[k] += dY[r, k]
