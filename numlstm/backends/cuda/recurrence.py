"""The per-``(row, unit)`` work that both LSTM time loops share (the rows
kernels of :mod:`.lstm_rows`, the cooperative ones of :mod:`.lstm_units`),
as inlined device functions: only where the state lives and who sums the
recurrent products differ between the two.

Cell variants, as the CPU's :mod:`..cpu.lstm_cell_variants`: ``n`` gate
blocks, i, f, g, o (4) or, with coupled gates (CIFG), i, g, o (3) and ``f
= 1 - i``; so the g block starts at ``(n - 2) H`` and the o block at ``(n
- 1) H``. ``peep`` holds the peephole weights, ``(n - 1) H`` of them (i,
f, o, or i, o), or nothing (a zero-length array). ``h_mask (B, H)`` is a
recurrent dropout mask on ``h_{t-1}`` in the recurrent product (``h_prev``
then caches the masked state, and ``dh_{t-1}`` is masked alike), or
nothing (``(0, 0)``). ``zone (B, T, H)`` holds zoneout weights (each
unit keeps that share of its previous ``c`` and ``h``), or nothing.
"""

from . import scalar
from ._jit import device_function


@device_function
def gate_offsets(n, H):
    """Where the g and the o blocks start for ``n`` gate blocks."""
    return (n - 2) * H, (n - 1) * H


@device_function
def peephole(peep, k, zero):
    """``peep[k]``, or 0 for a cell without peepholes."""
    return peep[k] if peep.shape[0] > 0 else zero


@device_function
def activate(gates, s, t, u, H, n, a_i, a_f, a_g, a_o, c_prev, peep, one,
             zero):
    """The gates of unit ``u`` of row ``s`` at step ``t`` from their
    pre-activations (``a_f`` unused when coupled), into ``gates[s, t]``;
    returns ``(c_t, h_t)``."""
    gi, oi = gate_offsets(n, H)
    i = scalar.sigmoid(a_i + peephole(peep, u, zero) * c_prev, one)
    if n == 3:
        f = one - i
    else:
        f = scalar.sigmoid(a_f + peephole(peep, H + u, zero) * c_prev, one)
        gates[s, t, H + u] = f
    g = scalar.tanh(a_g)
    c = scalar.lstm_cell(i, f, g, c_prev)
    o = scalar.sigmoid(a_o + peephole(peep, gi + u, zero) * c, one)
    gates[s, t, u] = i
    gates[s, t, gi + u] = g
    gates[s, t, oi + u] = o
    return c, o * scalar.tanh(c)


@device_function
def zoned(zone, s, t, u, prev, new):
    """``new`` after zoneout: ``new + z (prev - new)``, ``z = zone[s, t,
    u]`` (``new`` itself without zoneout)."""
    return new + zone[s, t, u] * (prev - new) if zone.shape[0] > 0 else new


@device_function
def gate_grads(gates, cells, c0, dgates, s, t, u, H, n, dh, dc, peep, zone,
               one, zero):
    """The gate gradients of unit ``u`` of row ``s`` at step ``t`` into
    ``dgates[s, t]`` (which may be ``gates``: the unit's gates are read
    first), from ``dh`` and ``dc`` of ``h_t`` and ``c_t``; returns the
    gradient of ``c_{t-1}``. With zoneout, the cell gets its ``1 - z``
    share of ``dh`` and ``dc``, at its own new ``c~_t`` (recomputed from
    the gates), and ``c_{t-1}`` the carried share ``z`` of ``dc`` too (the
    caller carries ``z dh`` to ``h_{t-1}``)."""
    gi, oi = gate_offsets(n, H)
    i = gates[s, t, u]
    g = gates[s, t, gi + u]
    o = gates[s, t, oi + u]
    c_prev = cells[s, t - 1, u] if t > 0 else c0[s, u]
    carry = zero
    c_new = cells[s, t, u]
    if zone.shape[0] > 0:
        z = zone[s, t, u]
        carry = z * dc
        dh = dh - z * dh
        dc = dc - carry
        f = one - i if n == 3 else gates[s, t, H + u]
        c_new = scalar.lstm_cell(i, f, g, c_prev)
    do, dc = scalar.peephole_output_grads(
        dh, dc, o, scalar.tanh(c_new), peephole(peep, gi + u, zero), one)
    p_i = peephole(peep, u, zero)
    if n == 3:
        di, dg, dc_prev = scalar.coupled_cell_grads(dc, i, g, c_prev, p_i, one)
    else:
        di, df, dg, dc_prev = scalar.peephole_cell_grads(
            dc, i, gates[s, t, H + u], g, c_prev, p_i,
            peephole(peep, H + u, zero), one)
        dgates[s, t, H + u] = df
    dgates[s, t, u] = di
    dgates[s, t, gi + u] = dg
    dgates[s, t, oi + u] = do
    return dc_prev + carry


@device_function
def masked(h_mask, s, q, value):
    """``value`` times the recurrent dropout mask of row ``s``, unit ``q``
    (``value`` itself without a mask, ``h_mask`` of shape ``(0, 0)``)."""
    return value * h_mask[s, q] if h_mask.shape[0] > 0 else value


@device_function
def zero_gates(gates, s, t, u, H, n, zero):
    """Unit ``u``'s ``n`` gates (or gate gradients) of a padded step."""
    for m in range(n):
        gates[s, t, m * H + u] = zero


@device_function
def dh_prev(dgates, W_hh, s, t, q, zero):
    """``(dgates[s, t] @ W_hh)[q]``: the gradient that step ``t`` passes to
    unit ``q`` of ``h_{t-1}``, summed in order over the gate columns."""
    acc = zero
    for j in range(W_hh.shape[0]):
        acc += dgates[s, t, j] * W_hh[j, q]
    return acc
