"""ReLU and max-pooling on CUDA, channels last, as the CPU kernels.

Windows do not overlap, so each input position is the maximum of at most
one window: the backward zeroes ``dX`` and scatters every ``dY`` to its
window's maximum without any two threads writing one element.
"""

import numpy as np
from numba import cuda

from . import scalar
from ._jit import cuda_kernel, launch_shape
from .arrays import fill


@cuda_kernel
def _relu_forward_kernel(X, one, out):
    for k in range(cuda.grid(1), out.size, cuda.gridsize(1)):
        out[k] = scalar.relu(X[k], one)


@cuda_kernel
def _relu_backward_kernel(X, dY, one, dX):
    for k in range(cuda.grid(1), dX.size, cuda.gridsize(1)):
        dX[k] = scalar.relu_grad(X[k], dY[k], one)


def relu_forward(X, out):
    """``out = max(X, 0)``, NaN kept."""
    blocks, threads = launch_shape(out.size)
    _relu_forward_kernel[blocks, threads](X.reshape(X.size), np.dtype(
        X.dtype).type(1), out.reshape(out.size))


def relu_backward(X, dY, dX):
    """``dX = dY * (X > 0)``."""
    blocks, threads = launch_shape(dX.size)
    _relu_backward_kernel[blocks, threads](
        X.reshape(X.size), dY.reshape(dY.size), np.dtype(X.dtype).type(1),
        dX.reshape(dX.size))


@cuda_kernel
def _maxpool_forward_kernel(X, height, pool, out, argmax):
    """Windows of ``height x pool`` positions of ``X (N, H, W, C)`` (height
    1 for 1-D data); ``argmax`` the flat index ``h * W + w``."""
    N, H_out, W_out, C = out.shape
    Wd = X.shape[2]
    for k in range(cuda.grid(1), out.size, cuda.gridsize(1)):
        n = k // (H_out * W_out * C)
        i = (k // (W_out * C)) % H_out
        j = (k // C) % W_out
        c = k % C
        y0 = i * height
        x0 = j * pool
        best = X[n, y0, x0, c]
        at = y0 * Wd + x0
        for y in range(y0, y0 + height):
            for x in range(x0, x0 + pool):
                v = X[n, y, x, c]
                # NaN compares false: the second test lets it through once
                if v > best or (v != v and best == best):
                    best = v
                    at = y * Wd + x
        out[n, i, j, c] = best
        argmax[n, i, j, c] = at


@cuda_kernel
def _maxpool_backward_kernel(dY, argmax, dX):
    N, H_out, W_out, C = dY.shape
    Wd = dX.shape[2]
    for k in range(cuda.grid(1), dY.size, cuda.gridsize(1)):
        n = k // (H_out * W_out * C)
        i = (k // (W_out * C)) % H_out
        j = (k // C) % W_out
        c = k % C
        at = argmax[n, i, j, c]
        dX[n, at // Wd, at % Wd, c] = dY[n, i, j, c]


def _as_images(a):
    """``(N, L, C)`` as ``(N, 1, L, C)``; 4-D arrays as they are."""
    return a.reshape(a.shape[0], 1, a.shape[1], a.shape[2]) if a.ndim == 3 else a


def _maxpool_forward(X, height, pool, out, argmax):
    blocks, threads = launch_shape(out.size)
    _maxpool_forward_kernel[blocks, threads](_as_images(X), height, int(pool),
                                             _as_images(out), _as_images(argmax))


def maxpool1d_forward(X, pool, out, argmax):
    """Max over windows of ``pool`` steps of ``X (N, L, C)``."""
    _maxpool_forward(X, 1, pool, out, argmax)


def maxpool2d_forward(X, pool, out, argmax):
    """Max over ``pool x pool`` windows of ``X (N, H, W, C)``; ``argmax``
    the flat index ``h * W + w`` in the image."""
    _maxpool_forward(X, int(pool), pool, out, argmax)


def maxpool_backward(dY, argmax, dX):
    """``dX`` zero but at each window's maximum, where it is ``dY`` (1-D
    and 2-D alike)."""
    fill(dX, 0.0)
    blocks, threads = launch_shape(dY.size)
    _maxpool_backward_kernel[blocks, threads](_as_images(dY), _as_images(argmax),
                                              _as_images(dX))


