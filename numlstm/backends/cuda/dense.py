"""The time-distributed dense layer on CUDA: tiled products (:mod:`.gemm`)
and column sums, each output summed in order (no atomics, launch-independent
bits)."""

from .gemm import column_sums, gemm


def dense_forward(X, W, b, out):
    """``out (N, K) = X (N, D) @ W.T + b``."""
    gemm(X, W, out, bias=b, b_t=True)


def dense_backward(X, W, dY, dX, dW, db):
    """``dX = dY W``, ``dW = dY^T X``, ``db`` = column sums of ``dY``."""
    gemm(dY, W, dX)
    gemm(dY, X, dW, a_t=True)
    column_sums(dY, db)
