"""Optimiser steps, the gradient norm and clipping as CUDA kernels.

The steps are element-wise and honour the contract's ``status``: once it
is set (a non-finite loss or norm), every thread leaves its weight alone,
so the host never has to read the status between batches. The norm is one
block's fixed float64 tree (:mod:`._reduce`): run to run the same bits, no
atomics and no scratch to allocate; a multi-block first pass, with its
partials in a caller's buffer, is for when a GPU shows the norm matters.
"""

import math

import numpy as np
from numba import cuda, float64

from ._jit import THREADS, cuda_kernel, launch_shape
from ._reduce import block_sum


@cuda_kernel
def _sgd_kernel(theta, g, velocity, lr, momentum, nesterov, status):
    if status[0] != 0:
        return
    for k in range(cuda.grid(1), theta.size, cuda.gridsize(1)):
        v = momentum * velocity[k] - lr * g[k]
        velocity[k] = v
        if nesterov:
            theta[k] += momentum * v - lr * g[k]
        else:
            theta[k] += v


@cuda_kernel
def _adam_kernel(theta, g, m, v, b1, b2, a1, a2, step_size, inv_sqrt_c2, eps,
                 status):
    if status[0] != 0:
        return
    for k in range(cuda.grid(1), theta.size, cuda.gridsize(1)):
        gk = g[k]
        mk = b1 * m[k] + a1 * gk
        vk = b2 * v[k] + a2 * gk * gk
        m[k] = mk
        v[k] = vk
        theta[k] -= step_size * mk / (math.sqrt(vk) * inv_sqrt_c2 + eps)


@cuda_kernel
def _rmsprop_kernel(theta, g, sq, lr, rho, one_minus_rho, eps, status):
    if status[0] != 0:
        return
    for k in range(cuda.grid(1), theta.size, cuda.gridsize(1)):
        s = rho * sq[k] + one_minus_rho * g[k] * g[k]
        sq[k] = s
        theta[k] -= lr * g[k] / (math.sqrt(s) + eps)


def sgd_step(theta, g, velocity, lr, momentum, nesterov, status):
    """scikit-learn's SGD with (Nesterov) momentum, unless ``status`` is set."""
    f = np.dtype(theta.dtype).type
    blocks, threads = launch_shape(theta.size)
    _sgd_kernel[blocks, threads](theta, g, velocity, f(lr), f(momentum),
                                 bool(nesterov), status)


def adam_step(theta, g, m, v, step, lr, beta1, beta2, eps, status):
    """Adam as the CPU kernel computes it (PyTorch's form, in the weights'
    dtype), unless ``status`` is set."""
    f = np.dtype(theta.dtype).type
    c1 = 1.0 - beta1 ** step
    c2 = 1.0 - beta2 ** step
    blocks, threads = launch_shape(theta.size)
    _adam_kernel[blocks, threads](
        theta, g, m, v, f(beta1), f(beta2), f(1.0 - beta1), f(1.0 - beta2),
        f(lr / c1), f(1.0 / math.sqrt(c2)), f(eps), status)


def rmsprop_step(theta, g, sq, lr, rho, eps, status):
    """RMSprop, unless ``status`` is set."""
    f = np.dtype(theta.dtype).type
    blocks, threads = launch_shape(theta.size)
    _rmsprop_kernel[blocks, threads](theta, g, sq, f(lr), f(rho), f(1.0 - rho),
                                     f(eps), status)


@cuda_kernel
def _norm_kernel(g, out):
    """One block: the sum of squares in float64 through the fixed tree."""
    tree = cuda.shared.array(THREADS, float64)
    s = 0.0
    for k in range(cuda.threadIdx.x, g.size, THREADS):
        x = float64(g[k])
        s += x * x
    total = block_sum(tree, s)
    if cuda.threadIdx.x == 0:
        out[0] = math.sqrt(total)


@cuda_kernel
def _clip_kernel(g, max_norm, out):
    norm = out[0]
    if norm > max_norm and abs(norm) < np.inf:
        scale = max_norm / norm
        for k in range(cuda.grid(1), g.size, cuda.gridsize(1)):
            g[k] *= scale


def global_norm(g, out):
    """``out[0]`` = the Euclidean norm of ``g``, accumulated in float64."""
    _norm_kernel[1, THREADS](g, out)


def clip_grad_norm(g, max_norm, out):
    """Scale ``g`` to norm at most ``max_norm``; ``out[0]`` the norm before
    (a non-finite norm leaves ``g`` alone)."""
    global_norm(g, out)
    blocks, threads = launch_shape(g.size)
    _clip_kernel[blocks, threads](g, np.float64(max_norm), out)
