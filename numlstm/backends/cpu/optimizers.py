"""Optimiser steps updating one flat parameter vector in place (CPU).

Each step reads the gradient ``g`` and the optimiser's state arrays and
updates ``theta`` and the state in place; the formulas are the textbook ones
(and PyTorch's), written out in each docstring.
"""

import math

import numpy as np

from ._jit import cpu_kernel


@cpu_kernel
def sgd_step(theta, g, velocity, lr, momentum, nesterov):
    """SGD with (Nesterov) momentum, as scikit-learn's ``SGDOptimizer``.

    ``v <- momentum * v - lr * g``; then ``theta += v``, or with Nesterov
    ``theta += momentum * v - lr * g``.
    """
    for k in range(theta.size):
        v = momentum * velocity[k] - lr * g[k]
        velocity[k] = v
        if nesterov:
            theta[k] += momentum * v - lr * g[k]
        else:
            theta[k] += v


@cpu_kernel
def adam_step(theta, g, m, v, step, lr, beta1, beta2, eps):
    """Adam (Kingma and Ba, 2015); ``step`` is the 1-based update count.

    ``m <- b1 m + (1 - b1) g``, ``v <- b2 v + (1 - b2) g^2``,
    ``theta -= lr * m_hat / (sqrt(v_hat) + eps)`` with the bias-corrected
    ``m_hat = m / (1 - b1^step)`` and ``v_hat = v / (1 - b2^step)``.

    Written as PyTorch's ``Adam`` computes it, ``theta -= (lr / c1) * m /
    (sqrt(v) / sqrt(c2) + eps)`` with ``c = 1 - b^step`` worked out once, and
    in the weights' dtype (float32 weights: float32 arithmetic, as PyTorch):
    one division and one square root per element instead of three and one,
    in float32 vectors twice as wide as float64 ones.
    """
    f = theta.dtype.type
    c1 = 1.0 - beta1 ** step
    c2 = 1.0 - beta2 ** step
    b1, b2 = f(beta1), f(beta2)
    a1, a2 = f(1.0 - beta1), f(1.0 - beta2)
    step_size, inv_sqrt_c2, e = f(lr / c1), f(1.0 / math.sqrt(c2)), f(eps)
    for k in range(theta.size):
        gk = g[k]
        mk = b1 * m[k] + a1 * gk
        vk = b2 * v[k] + a2 * gk * gk
        m[k] = mk
        v[k] = vk
        theta[k] -= step_size * mk / (math.sqrt(vk) * inv_sqrt_c2 + e)


@cpu_kernel
def rmsprop_step(theta, g, sq, lr, rho, eps):
    """RMSprop (Hinton): ``sq <- rho sq + (1 - rho) g^2``,
    ``theta -= lr * g / (sqrt(sq) + eps)``."""
    for k in range(theta.size):
        sq[k] = rho * sq[k] + (1.0 - rho) * g[k] * g[k]
        theta[k] -= lr * g[k] / (math.sqrt(sq[k]) + eps)


@cpu_kernel
def global_norm(g):
    """Euclidean norm of the flat gradient, accumulated in float64.

    Eight running sums over interleaved elements, added pairwise at the end:
    one sum would be a chain of dependent additions (the fastmath policy has
    no ``reassoc`` to vectorise it), eight independent ones vectorise.
    """
    n = g.size
    m = n - n % 8
    s0 = s1 = s2 = s3 = s4 = s5 = s6 = s7 = 0.0
    for k in range(0, m, 8):
        s0 += _square(g[k])
        s1 += _square(g[k + 1])
        s2 += _square(g[k + 2])
        s3 += _square(g[k + 3])
        s4 += _square(g[k + 4])
        s5 += _square(g[k + 5])
        s6 += _square(g[k + 6])
        s7 += _square(g[k + 7])
    for k in range(m, n):
        s0 += _square(g[k])
    return math.sqrt(((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7)))


@cpu_kernel
def _square(x):
    """``x * x`` in float64."""
    y = np.float64(x)
    return y * y


@cpu_kernel
def clip_grad_norm(g, max_norm):
    """Scale ``g`` in place so that its norm is at most ``max_norm``.

    Returns the norm before clipping (as ``torch.nn.utils.clip_grad_norm_``).
    A non-finite norm is returned as is and ``g`` is left untouched, so the
    caller can stop the fit with a clear message.
    """
    norm = global_norm(g)
    if norm > max_norm and math.isfinite(norm):
        scale = max_norm / norm
        for k in range(g.size):
            g[k] *= scale
    return norm
