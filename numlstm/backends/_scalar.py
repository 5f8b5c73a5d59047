"""Scalar math written once for every target: plain Python, compiled twice.

The CPU backend compiles these functions with ``njit`` (see
:mod:`.cpu.activations`); the CUDA backend will compile the same source
with ``cuda.jit(device=True, inline="always")``. They use nothing but
arithmetic, comparisons and :mod:`math`, so both compilers accept them.

**Typed constants.** No function here writes a float literal: a literal is
a float64, and one of them turns float32 device code into float64 code
(``1.0 / (1.0 + math.exp(-x))`` compiled to eight ``.f64`` operations for
float32 ``x``). Every constant comes from the caller's ``one`` (or
``half``), which the caller types: a kernel takes ``one =
x.dtype.type(1.0)`` from its array for float32 work. The CPU's losses pass
a float64 ``one``, which evaluates them in float64 as they always were.

None of these overflows or returns NaN for finite inputs of any magnitude.
The LSTM functions take activated gates and a ``tanh`` computed by the
caller, because each target has its own fastest ``tanh`` (the CPU a
branch-free vectorisable one, :mod:`.cpu.fastexp`); the arithmetic around
it, which fixes the results' bits, is what they share.
"""

import math


def sigmoid(x, one):
    """Logistic function, evaluated on the side where ``exp`` cannot
    overflow."""
    if x >= one - one:
        return one / (one + math.exp(-x))
    e = math.exp(x)
    return e / (one + e)


def tanh(x):
    """Hyperbolic tangent (``math.tanh`` saturates cleanly at +-1)."""
    return math.tanh(x)


def softplus(x, one):
    """``log(1 + exp(x))`` without overflow for large ``x``."""
    return max(x, one - one) + math.log1p(math.exp(-abs(x)))


def relu(x, one):
    """``max(x, 0)``, with NaN kept (``max`` would drop it)."""
    return one - one if x <= one - one else x


def relu_grad(x, dy, one):
    """The gradient through :func:`relu`: ``dy`` where ``x > 0``, else 0
    (the gradient at 0 is taken as 0)."""
    return dy if x > one - one else one - one


def sigmoid_from_tanh(t, half):
    """``sigmoid(a)`` from ``t = tanh(a / 2)``: ``(1 + t) / 2``, so that
    every gate activation is the same ``tanh``."""
    return t * half + half


def lstm_cell(i, f, g, c_prev):
    """The cell state of one unit from its activated gates: ``f c_{t-1} +
    i g``. The hidden state is then ``o tanh(c_t)``."""
    return f * c_prev + i * g


def lstm_output_grads(dh, dc, o, tc, one):
    """Back through ``h_t = o tanh(c_t)`` of one unit, ``tc = tanh(c_t)``.

    ``dh`` and ``dc`` are the gradients reaching ``h_t`` and ``c_t``;
    returns the gradient of the output gate's pre-activation and the whole
    gradient of ``c_t``.
    """
    return dh * tc * o * (one - o), dc + dh * o * (one - tc * tc)


def lstm_cell_grads(dc, i, f, g, c_prev, one):
    """Back through :func:`lstm_cell` of one unit, ``dc`` the gradient of
    ``c_t``: the gradients of the i, f and g pre-activations (sigmoid,
    sigmoid, tanh) and that of ``c_{t-1}``."""
    return (dc * g * i * (one - i), dc * c_prev * f * (one - f),
            dc * i * (one - g * g), dc * f)


def peephole_output_grads(dh, dc, o, tc, p_o, one):
    """:func:`lstm_output_grads` when the output gate also sees ``c_t``
    through the peephole weight ``p_o``: ``c_t`` then receives the output
    gate's gradient times ``p_o`` too. (Written out: a function here calls
    no other, since each target compiles them one by one.)"""
    do = dh * tc * o * (one - o)
    return do, dc + dh * o * (one - tc * tc) + do * p_o


def peephole_cell_grads(dc, i, f, g, c_prev, p_i, p_f, one):
    """:func:`lstm_cell_grads` when the i and f gates also see ``c_{t-1}``
    through the peephole weights ``p_i``, ``p_f``."""
    di = dc * g * i * (one - i)
    df = dc * c_prev * f * (one - f)
    return di, df, dc * i * (one - g * g), dc * f + di * p_i + df * p_f


def coupled_cell_grads(dc, i, g, c_prev, p_i, one):
    """Back through the coupled cell (CIFG) ``c_t = (1 - i) c_{t-1} + i g``
    of one unit: the gradients of the i and g pre-activations and that of
    ``c_{t-1}`` (``p_i`` the input gate's peephole weight, 0 without)."""
    di = dc * (g - c_prev) * i * (one - i)
    return di, dc * i * (one - g * g), dc * (one - i) + di * p_i


def layer_norm_grad(dy, x_hat, mean_dy, mean_dy_x_hat, rstd):
    """Back through a layer normalisation ``x_hat = (a - mean(a)) rstd`` of
    one element: the gradient of ``a`` from ``dy``, that of ``x_hat``, given
    the row's means of ``dy`` and of ``dy x_hat``."""
    return rstd * (dy - mean_dy - x_hat * mean_dy_x_hat)
