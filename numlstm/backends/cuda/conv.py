"""Stride-1 convolutions on CUDA, channels last; 1-D as 2-D of height 1.

Direct loops, one thread per output element, each summing over its window
(or, for ``dX``, over the outputs whose windows cover it) in a fixed
order: a gather, so no two threads write one element and no atomics are
needed. The contract's ``cols`` and ``dcols`` scratch, which the CPU's
im2col uses, go unused here; an im2col + tiled GEMM path is for when a GPU
shows it is worth it.
"""

import numpy as np
from numba import cuda

from ._jit import cuda_kernel, launch_shape


@cuda_kernel
def _forward_kernel(X, W, b, pad_top, pad_left, out):
    N, H, Wd, C = X.shape
    F, _, KH, KW = W.shape
    _, H_out, W_out, _ = out.shape
    for k in range(cuda.grid(1), out.size, cuda.gridsize(1)):
        n = k // (H_out * W_out * F)
        i = (k // (W_out * F)) % H_out
        j = (k // F) % W_out
        f = k % F
        acc = b[f]
        for c in range(C):
            for ki in range(KH):
                y = i + ki - pad_top
                if 0 <= y < H:
                    for kj in range(KW):
                        x = j + kj - pad_left
                        if 0 <= x < Wd:
                            acc += X[n, y, x, c] * W[f, c, ki, kj]
        out[n, i, j, f] = acc


@cuda_kernel
def _backward_kernel(X, W, dY, pad_top, pad_left, zero, dX, dW, db):
    N, H, Wd, C = X.shape
    F, _, KH, KW = W.shape
    _, H_out, W_out, _ = dY.shape
    n_dx = dX.size
    n_dw = dW.size
    for k in range(cuda.grid(1), n_dx + n_dw + F, cuda.gridsize(1)):
        acc = zero
        if k < n_dx:
            n = k // (H * Wd * C)
            y = (k // (Wd * C)) % H
            x = (k // C) % Wd
            c = k % C
            for f in range(F):
                for ki in range(KH):
                    i = y - ki + pad_top
                    if 0 <= i < H_out:
                        for kj in range(KW):
                            j = x - kj + pad_left
                            if 0 <= j < W_out:
                                acc += dY[n, i, j, f] * W[f, c, ki, kj]
            dX[n, y, x, c] = acc
        elif k < n_dx + n_dw:
            m = k - n_dx
            f = m // (C * KH * KW)
            c = (m // (KH * KW)) % C
            ki = (m // KW) % KH
            kj = m % KW
            for n in range(N):
                for i in range(H_out):
                    y = i + ki - pad_top
                    if 0 <= y < H:
                        for j in range(W_out):
                            x = j + kj - pad_left
                            if 0 <= x < Wd:
                                acc += dY[n, i, j, f] * X[n, y, x, c]
            dW[f, c, ki, kj] = acc
        else:
            f = k - n_dx - n_dw
            for n in range(N):
                for i in range(H_out):
                    for j in range(W_out):
                        acc += dY[n, i, j, f]
            db[f] = acc


def _images(a):
    """``(N, L, C)`` as ``(N, 1, L, C)``."""
    return a.reshape(a.shape[0], 1, a.shape[1], a.shape[2])


def _kernels(W):
    """``(F, C, k)`` as ``(F, C, 1, k)``."""
    return W.reshape(W.shape[0], W.shape[1], 1, W.shape[2])


def _forward(X, W, b, pad_top, pad_left, out):
    blocks, threads = launch_shape(out.size)
    _forward_kernel[blocks, threads](X, W, b, int(pad_top), int(pad_left), out)


def _backward(X, W, dY, pad_top, pad_left, dX, dW, db):
    blocks, threads = launch_shape(dX.size + dW.size + db.size)
    _backward_kernel[blocks, threads](X, W, dY, int(pad_top), int(pad_left),
                                      np.dtype(X.dtype).type(0), dX, dW, db)


def conv1d_forward(X, W, b, pad_left, cols, out):
    """Stride-1 convolution of ``X (N, L, C)`` by ``W (F, C, k)``."""
    _forward(_images(X), _kernels(W), b, 0, pad_left, _images(out))


def conv1d_backward(X, W, dY, pad_left, cols, dcols, dX, dW, db):
    """Gradients of :func:`conv1d_forward`."""
    _backward(_images(X), _kernels(W), _images(dY), 0, pad_left, _images(dX),
              _kernels(dW), db)


def conv2d_forward(X, Wt, b, pad_top, pad_left, cols, out):
    """Stride-1 convolution of ``X (N, H, W, C)`` by ``Wt (F, C, k, k)``."""
    _forward(X, Wt, b, pad_top, pad_left, out)


def conv2d_backward(X, Wt, dY, pad_top, pad_left, cols, dcols, dX, dW, db):
    """Gradients of :func:`conv2d_forward`."""
    _backward(X, Wt, dY, pad_top, pad_left, dX, dW, db)
