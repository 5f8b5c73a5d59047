"""The losses on CUDA: the weighted mean into ``out[0]`` and its gradient.

One block per call: its threads take the rows in turn, and the weight sum
and the loss are each reduced through a fixed tree in shared memory, in
float64 (as the CPU kernels accumulate), so the bits do not depend on the
launch. The activations are the shared scalar math of :mod:`.scalar`.
"""

import math

import numpy as np
from numba import cuda, float64

from . import scalar
from ._jit import THREADS, cuda_kernel, device_function
from ._reduce import block_sum


@device_function
def _weight_sum(tree, w):
    s = 0.0
    for r in range(cuda.threadIdx.x, w.size, THREADS):
        s += float64(w[r])
    return block_sum(tree, s)


@cuda_kernel
def _mse_kernel(pred, true, w, two, grad, out):
    tree = cuda.shared.array(THREADS, float64)
    n, k = pred.shape
    scale = 1.0 / (_weight_sum(tree, w) * k)
    s = 0.0
    for r in range(cuda.threadIdx.x, n, THREADS):
        for j in range(k):
            d = pred[r, j] - true[r, j]
            s += w[r] * d * d
            grad[r, j] = two * scale * w[r] * d
    total = block_sum(tree, s)
    if cuda.threadIdx.x == 0:
        out[0] = total * scale


@cuda_kernel
def _softmax_ce_kernel(logits, labels, w, grad, out):
    tree = cuda.shared.array(THREADS, float64)
    n, k = logits.shape
    wsum = _weight_sum(tree, w)
    s = 0.0
    for r in range(cuda.threadIdx.x, n, THREADS):
        m = logits[r, 0]
        for j in range(1, k):
            m = max(m, logits[r, j])
        e = 0.0
        for j in range(k):
            e += math.exp(logits[r, j] - m)
        lse = m + math.log(e)
        s += w[r] * (lse - logits[r, labels[r]])
        for j in range(k):
            grad[r, j] = w[r] * math.exp(logits[r, j] - lse) / wsum
        grad[r, labels[r]] -= w[r] / wsum
    total = block_sum(tree, s)
    if cuda.threadIdx.x == 0:
        out[0] = total / wsum


@cuda_kernel
def _sigmoid_bce_kernel(logits, targets, w, one, grad, out):
    tree = cuda.shared.array(THREADS, float64)
    n, k = logits.shape
    scale = 1.0 / (_weight_sum(tree, w) * k)
    s = 0.0
    for r in range(cuda.threadIdx.x, n, THREADS):
        for j in range(k):
            z = logits[r, j]
            s += w[r] * (scalar.softplus(z, one) - z * targets[r, j])
            grad[r, j] = scale * w[r] * (scalar.sigmoid(z, one) - targets[r, j])
    total = block_sum(tree, s)
    if cuda.threadIdx.x == 0:
        out[0] = total * scale


def mse_loss(pred, true, w, grad, out):
    """Weighted mean squared error into ``out[0]``, gradient into ``grad``."""
    _mse_kernel[1, THREADS](pred, true, w, np.dtype(pred.dtype).type(2), grad,
                            out)


def softmax_cross_entropy(logits, labels, w, grad, out):
    """Weighted softmax cross-entropy against int64 ``labels``."""
    _softmax_ce_kernel[1, THREADS](logits, labels, w, grad, out)


def sigmoid_binary_cross_entropy(logits, targets, w, grad, out):
    """Weighted binary cross-entropy of sigmoid(``logits``), overflow-free."""
    _sigmoid_bce_kernel[1, THREADS](logits, targets, w,
                                    np.dtype(logits.dtype).type(1), grad, out)
