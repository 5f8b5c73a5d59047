"""Activations on the CPU: the shared scalar math compiled, and array forms.

The scalar functions are those of :mod:`numlstm.backends._scalar`, written
once for the CPU and the GPU, compiled here with the CPU policy; the losses
use :func:`row_logsumexp`. The array forms of ReLU write into the caller's
buffer, allocate nothing and raise nothing.
"""

import math

from .. import _scalar
from ._jit import cpu_kernel

sigmoid_s = cpu_kernel(_scalar.sigmoid)
tanh_s = cpu_kernel(_scalar.tanh)
softplus_s = cpu_kernel(_scalar.softplus)
relu_s = cpu_kernel(_scalar.relu)
relu_grad_s = cpu_kernel(_scalar.relu_grad)
sigmoid_from_tanh = cpu_kernel(_scalar.sigmoid_from_tanh)
lstm_cell = cpu_kernel(_scalar.lstm_cell)
lstm_output_grads = cpu_kernel(_scalar.lstm_output_grads)
lstm_cell_grads = cpu_kernel(_scalar.lstm_cell_grads)
coupled_cell_grads = cpu_kernel(_scalar.coupled_cell_grads)
layer_norm_grad = cpu_kernel(_scalar.layer_norm_grad)


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
def relu_forward(X, out):
    """``out = max(X, 0)`` element-wise, any shape (NaN stays NaN)."""
    xf = X.ravel()
    of = out.ravel()
    for k in range(xf.size):
        of[k] = relu_s(xf[k], 1.0)


@cpu_kernel
def relu_backward(X, dY, dX):
    """``dX = dY`` where ``X > 0``, else 0 (the gradient at 0 is taken as 0)."""
    xf = X.ravel()
    gf = dY.ravel()
    of = dX.ravel()
    for k in range(xf.size):
        of[k] = relu_grad_s(xf[k], gf[k], 1.0)
