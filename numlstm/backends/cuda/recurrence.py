"""The per-``(row, unit)`` work that both LSTM time loops share (the rows
kernels of :mod:`.lstm_rows`, the cooperative ones of :mod:`.lstm_units`),
as inlined device functions: only where the state lives and who sums the
recurrent products differ between the two."""

from . import scalar
from ._jit import device_function


@device_function
def activate(gates, s, t, u, H, a_i, a_f, a_g, a_o, c_prev, one):
    """The four gates of unit ``u`` of row ``s`` at step ``t`` from their
    pre-activations, into ``gates[s, t]``; returns ``(c_t, h_t)``."""
    i = scalar.sigmoid(a_i, one)
    f = scalar.sigmoid(a_f, one)
    g = scalar.tanh(a_g)
    o = scalar.sigmoid(a_o, one)
    gates[s, t, u] = i
    gates[s, t, H + u] = f
    gates[s, t, 2 * H + u] = g
    gates[s, t, 3 * H + u] = o
    c = scalar.lstm_cell(i, f, g, c_prev)
    return c, o * scalar.tanh(c)


@device_function
def gate_grads(gates, cells, c0, dgates, s, t, u, H, dh, dc, one):
    """The gate gradients of unit ``u`` of row ``s`` at step ``t`` into
    ``dgates[s, t]`` (which may be ``gates``: the four gates are read
    first), from ``dh`` and ``dc`` of ``h_t`` and ``c_t``; returns the
    gradient of ``c_{t-1}``."""
    i = gates[s, t, u]
    f = gates[s, t, H + u]
    g = gates[s, t, 2 * H + u]
    o = gates[s, t, 3 * H + u]
    c_prev = cells[s, t - 1, u] if t > 0 else c0[s, u]
    do, dc = scalar.lstm_output_grads(dh, dc, o, scalar.tanh(cells[s, t, u]),
                                      one)
    di, df, dg, dc_prev = scalar.lstm_cell_grads(dc, i, f, g, c_prev, one)
    dgates[s, t, u] = di
    dgates[s, t, H + u] = df
    dgates[s, t, 2 * H + u] = dg
    dgates[s, t, 3 * H + u] = do
    return dc_prev


@device_function
def zero_gates(gates, s, t, u, H, zero):
    """Unit ``u``'s four gates (or gate gradients) of a padded step."""
    for m in range(4):
        gates[s, t, m * H + u] = zero


@device_function
def dh_prev(dgates, W_hh, s, t, q, zero):
    """``(dgates[s, t] @ W_hh)[q]``: the gradient that step ``t`` passes to
    unit ``q`` of ``h_{t-1}``, summed in order over the gate columns."""
    acc = zero
    for j in range(W_hh.shape[0]):
        acc += dgates[s, t, j] * W_hh[j, q]
    return acc
