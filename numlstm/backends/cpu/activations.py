"""Numerically stable scalar activations and their array forms (CPU).

The scalar functions are plain Python written so that they can be compiled
for any target: ``cpu_kernel`` here, ``cuda.jit(device=True)`` for the GPU.
None of them overflows or returns NaN for finite inputs of any magnitude.
"""

import math

from ._jit import cpu_kernel


def sigmoid_scalar(x):
    """Logistic function, computed on the side where ``exp`` cannot overflow."""
    if x >= 0.0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


def tanh_scalar(x):
    """Hyperbolic tangent (``math.tanh`` saturates cleanly at +-1)."""
    return math.tanh(x)


def softplus_scalar(x):
    """``log(1 + exp(x))`` without overflow for large ``x``."""
    return max(x, 0.0) + math.log1p(math.exp(-abs(x)))


sigmoid_s = cpu_kernel(sigmoid_scalar)
tanh_s = cpu_kernel(tanh_scalar)
softplus_s = cpu_kernel(softplus_scalar)


@cpu_kernel
def sigmoid(x, out):
    """Element-wise logistic function of ``x`` into ``out`` (any shape)."""
    xf = x.ravel()
    of = out.ravel()
    for k in range(xf.size):
        of[k] = sigmoid_s(xf[k])


@cpu_kernel
def tanh(x, out):
    """Element-wise hyperbolic tangent of ``x`` into ``out`` (any shape)."""
    xf = x.ravel()
    of = out.ravel()
    for k in range(xf.size):
        of[k] = math.tanh(xf[k])


@cpu_kernel
def row_logsumexp(z, r):
    """``log(sum(exp(z[r])))``, shifted by the row maximum: no ``exp``
    overflows, finite for finite input of any magnitude."""
    m = z[r, 0]
    for j in range(1, z.shape[1]):
        if z[r, j] > m:
            m = z[r, j]
    s = 0.0
    for j in range(z.shape[1]):
        s += math.exp(z[r, j] - m)
    return m + math.log(s)


@cpu_kernel
def log_softmax(z, out):
    """Row-wise log-softmax of a 2-D array ``z`` into ``out``."""
    for r in range(z.shape[0]):
        lse = row_logsumexp(z, r)
        for j in range(z.shape[1]):
            out[r, j] = z[r, j] - lse

