"""The peephole and coupled-gate (CIFG) cells on rows of a batch (CPU).

The same step as :mod:`.lstm_cell`'s plain cell, for the two variants that
change the gate math only (the time loops call one or the other row
function, by the shapes they are given):

- peephole weights ``peep`` (Gers & Schmidhuber 2000): gates i and f see
  ``c_{t-1}``, gate o sees ``c_t``, each through a diagonal weight;
  ``peep`` is ``(3H,)`` in the order i, f, o, or ``(0,)`` for none;
- coupled gates (Greff et al. 2017), when the weights have 3H rows: gate
  blocks i, g, o and ``f = 1 - i``; with peepholes ``peep`` is then
  ``(2H,)``, i and o.

So the gate blocks of a row are i, f, g, o (4H) or i, g, o (3H): the g
block starts at ``(n - 2) H`` and the o block at ``(n - 1) H`` for ``n``
gate blocks, and ``p_o`` at ``(n - 2) H`` of ``peep``. The gradients are
the shared scalar math of :mod:`numlstm.backends._scalar`.
"""

from ._jit import cpu_kernel
from .activations import (
    coupled_cell_grads,
    lstm_cell,
    peephole_cell_grads,
    peephole_output_grads,
    sigmoid_from_tanh,
)
from .fastexp import tanh_fast
from .rows import zero_row


@cpu_kernel
def _peep(peep, k, zero):
    """``peep[k]``, or 0 for a cell without peepholes (``peep`` empty)."""
    return peep[k] if peep.shape[0] > 0 else zero


@cpu_kernel
def gates_cell_row_variant(r, b, g, c_prev, c_out, h_out, H, peep):
    """:func:`.lstm_cell.gates_cell_row` for a peephole and/or coupled cell:
    ``len(b) // H`` gate blocks (4, or 3 coupled)."""
    half = g.dtype.type(0.5)
    one = g.dtype.type(1.0)
    zero = g.dtype.type(0.0)
    n = b.shape[0] // H
    gi, oi = (n - 2) * H, (n - 1) * H
    for j in range(H):
        cp = c_prev[j]
        i = sigmoid_from_tanh(
            tanh_fast(half * (r[j] + b[j] + _peep(peep, j, zero) * cp)), half)
        if n == 3:
            f = one - i
        else:
            f = sigmoid_from_tanh(tanh_fast(
                half * (r[H + j] + b[H + j] + _peep(peep, H + j, zero) * cp)),
                half)
            g[H + j] = f
        gg = tanh_fast(r[gi + j] + b[gi + j])
        c = lstm_cell(i, f, gg, cp)
        o = sigmoid_from_tanh(tanh_fast(
            half * (r[oi + j] + b[oi + j] + _peep(peep, gi + j, zero) * c)),
            half)
        g[j] = i
        g[gi + j] = gg
        g[oi + j] = o
        c_out[j] = c
        h_out[j] = o * tanh_fast(c)


@cpu_kernel
def gate_grads_row_variant(dh_next, dH_t, g, c, c_prev, dc, H, n, peep):
    """:func:`.lstm_cell.gate_grads_row` for a peephole and/or coupled cell
    of ``n`` gate blocks: the gates in ``g`` become their gradients, ``dc``
    goes from ``c_t``'s gradient to ``c_{t-1}``'s."""
    one = g.dtype.type(1.0)
    zero = g.dtype.type(0.0)
    gi, oi = (n - 2) * H, (n - 1) * H
    for j in range(H):
        do, dcj = peephole_output_grads(dh_next[j] + dH_t[j], dc[j], g[oi + j],
                                        tanh_fast(c[j]),
                                        _peep(peep, gi + j, zero), one)
        i, gg = g[j], g[gi + j]
        p_i = _peep(peep, j, zero)
        if n == 3:
            di, dg, dcp = coupled_cell_grads(dcj, i, gg, c_prev[j], p_i, one)
        else:
            di, df, dg, dcp = peephole_cell_grads(
                dcj, i, g[H + j], gg, c_prev[j], p_i,
                _peep(peep, H + j, zero), one)
            g[H + j] = df
        g[j] = di
        g[gi + j] = dg
        g[oi + j] = do
        dc[j] = dcp


@cpu_kernel
def peephole_grads(G, cells, c0, n, dpeep):
    """The peephole weights' gradient from the gate gradients ``G`` of every
    step (``n`` gate blocks): ``dpeep`` of i (and f) sums ``G c_{t-1}``, that
    of o sums ``G c_t``, over rows and steps in order (padded steps have
    zero gate gradients, so add nothing)."""
    B, T, H = cells.shape
    gi, oi = (n - 2) * H, (n - 1) * H
    zero_row(dpeep)
    for s in range(B):
        for t in range(T):
            c_prev = cells[s, t - 1] if t > 0 else c0[s]
            c = cells[s, t]
            row = G[s, t]
            for j in range(H):
                dpeep[j] += row[j] * c_prev[j]
                dpeep[gi + j] += row[oi + j] * c[j]
            if n == 4:
                for j in range(H):
                    dpeep[H + j] += row[H + j] * c_prev[j]
