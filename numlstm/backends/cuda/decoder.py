"""The encoder-decoder's inputs on CUDA: teacher forcing and feedback."""

import numpy as np
from numba import cuda

from ._jit import cuda_kernel, launch_shape
from .arrays import copy


@cuda_kernel
def _teacher_values_kernel(start, targets, out):
    B, T, F = out.shape
    for k in range(cuda.grid(1), out.size, cuda.gridsize(1)):
        b = k // (T * F)
        t = (k // F) % T
        f = k % F
        out[b, t, f] = start[f] if t == 0 else targets[b, t - 1, f]


@cuda_kernel
def _teacher_codes_kernel(start, codes, binary, one, zero, out):
    """``codes (B, T)`` class indices, or 0/1 floats when ``binary``."""
    B, T, F = out.shape
    for k in range(cuda.grid(1), out.size, cuda.gridsize(1)):
        b = k // (T * F)
        t = (k // F) % T
        f = k % F
        if t == 0:
            out[b, t, f] = start[f]
        else:
            code = int(codes[b, t - 1])
            out[b, t, f] = one if code == f else zero


@cuda_kernel
def _feedback_codes_kernel(outputs, one, zero, out):
    """One-hot of each row's predicted class: argmax over ``K`` (the first
    maximum, as NumPy), or ``> 0`` for one logistic output."""
    B, K = outputs.shape
    F = out.shape[1]
    for k in range(cuda.grid(1), out.size, cuda.gridsize(1)):
        b = k // F
        f = k % F
        if K == 1:
            code = 1 if outputs[b, 0] > zero else 0
        else:
            code = 0
            for j in range(1, K):
                if outputs[b, j] > outputs[b, code]:
                    code = j
        out[b, f] = one if code == f else zero


def teacher_inputs(start, targets, n_classes, out):
    """Start input, then the targets shifted one step (see the contract)."""
    blocks, threads = launch_shape(out.size)
    if not n_classes:
        _teacher_values_kernel[blocks, threads](start, targets, out)
        return
    f = np.dtype(out.dtype).type
    codes = targets.reshape(targets.shape[0], targets.shape[1])
    _teacher_codes_kernel[blocks, threads](start, codes, targets.ndim == 3,
                                           f(1), f(0), out)


def feedback(outputs, n_classes, out):
    """The next decoder input from one step's outputs ``(B, 1, K)``."""
    if not n_classes:
        copy(outputs, out)
        return
    f = np.dtype(out.dtype).type
    blocks, threads = launch_shape(out.size)
    _feedback_codes_kernel[blocks, threads](
        outputs.reshape(outputs.shape[0], outputs.shape[2]), f(1), f(0),
        out.reshape(out.shape[0], out.shape[2]))
