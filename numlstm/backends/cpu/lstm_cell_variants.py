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
gate blocks, and ``p_o`` at ``(n - 2) H`` of ``peep``. The row functions
branch on the cell once per row, never inside their loops over the units
(a variant cell without peepholes reads zero peepholes), so
those loops vectorise as the plain cell's do. The gradients are the shared
scalar math of :mod:`numlstm.backends._scalar`.
"""

import numpy as np
from numba import prange

from ._jit import cpu_kernel, cpu_parallel_kernel
from ._threads import num_threads
from .activations import (
    coupled_cell_grads,
    lstm_cell,
    lstm_cell_grads,
    lstm_output_grads,
    sigmoid_from_tanh,
)
from .fastexp import tanh_fast
from .rows import add_into, zero_row
from .tile import chunk_rows, n_chunks_for


@cpu_kernel
def _zone_split(z, dh, dH_t, dc, w):
    """Split the gradients of a zoned unit's ``h_t`` (``dh + dH_t``) and
    ``c_t`` (``dc``): the cell's shares (``1 - z``) into ``w[1]`` and
    ``dc``, the carry's (``z``) into ``w[2]`` and ``w[3]``."""
    for j in range(dc.size):
        d = dh[j] + dH_t[j]
        w[2, j] = z[j] * d
        w[1, j] = d - w[2, j]
        w[3, j] = z[j] * dc[j]
        dc[j] -= w[3, j]


@cpu_kernel
def _new_cell(g, c_prev, H, n, out):
    """The cell's new ``c~_t`` (before zoneout) from its gates."""
    one = g.dtype.type(1.0)
    gi = (n - 2) * H
    for j in range(H):
        f = one - g[j] if n == 3 else g[H + j]
        out[j] = lstm_cell(g[j], f, g[gi + j], c_prev[j])


@cpu_kernel
def gates_cell_row_variant(r, b, g, c_prev, c_out, h_out, H, peep):
    """:func:`.lstm_cell.gates_cell_row` for a peephole and/or coupled cell:
    ``len(b) // H`` gate blocks (4, or 3 coupled), ``peep`` zeros for a
    variant cell without peepholes."""
    half = g.dtype.type(0.5)
    one = g.dtype.type(1.0)
    if b.shape[0] == 3 * H:
        for j in range(H):
            cp = c_prev[j]
            i = sigmoid_from_tanh(tanh_fast(half * (r[j] + b[j] + peep[j] * cp)),
                                  half)
            gg = tanh_fast(r[H + j] + b[H + j])
            c = lstm_cell(i, one - i, gg, cp)
            o = sigmoid_from_tanh(tanh_fast(
                half * (r[2 * H + j] + b[2 * H + j] + peep[H + j] * c)), half)
            g[j] = i
            g[H + j] = gg
            g[2 * H + j] = o
            c_out[j] = c
            h_out[j] = o * tanh_fast(c)
    else:
        for j in range(H):
            cp = c_prev[j]
            i = sigmoid_from_tanh(tanh_fast(half * (r[j] + b[j] + peep[j] * cp)),
                                  half)
            f = sigmoid_from_tanh(tanh_fast(
                half * (r[H + j] + b[H + j] + peep[H + j] * cp)), half)
            gg = tanh_fast(r[2 * H + j] + b[2 * H + j])
            c = lstm_cell(i, f, gg, cp)
            o = sigmoid_from_tanh(tanh_fast(
                half * (r[3 * H + j] + b[3 * H + j] + peep[2 * H + j] * c)),
                half)
            g[j] = i
            g[H + j] = f
            g[2 * H + j] = gg
            g[3 * H + j] = o
            c_out[j] = c
            h_out[j] = o * tanh_fast(c)


@cpu_kernel
def variant_cells(s0, s1, t, rec, b, lengths, H_out, c_n, gates, cells, peep):
    """The variant cell of step ``t`` for the live rows of ``s0 .. s1 - 1``,
    before :func:`.lstm_cell.step_rows` (which then carries the state on).
    A loop of its own, called from the time loop: inside ``step_rows``'
    loop over rows beside the plain cell, LLVM left the variant cell's
    loop scalar (3.2x the plain forward at the small configuration)."""
    H = c_n.shape[1]
    for s in range(s0, s1):
        if t < lengths[s]:
            gates_cell_row_variant(rec[s], b, gates[s, t], c_n[s], cells[s, t],
                                   H_out[s, t], H, peep)


@cpu_kernel
def gate_grads_row_variant(dh_next, dH_t, g, c, c_prev, dc, H, n, peep):
    """:func:`.lstm_cell.gate_grads_row` for a peephole and/or coupled cell
    of ``n`` gate blocks (``peep`` as :func:`gates_cell_row_variant`'s): the
    gates in ``g`` become their gradients, ``dc`` goes from ``c_t``'s
    gradient to ``c_{t-1}``'s.

    The plain cell's two loops, each over few arrays, with the peephole
    terms added by loops of their own: the gradient ``c_t`` receives from
    the output gate, and those ``c_{t-1}`` receives from the input and
    forget gates (the sums of :func:`~numlstm.backends._scalar.
    peephole_output_grads` and ``peephole_cell_grads``, term by term). A
    loop over more arrays stayed scalar (2.5x the plain cell's)."""
    one = g.dtype.type(1.0)
    zero = g.dtype.type(0.0)
    oi = (n - 1) * H
    po = (n - 2) * H
    for j in range(H):
        do, dcj = lstm_output_grads(dh_next[j] + dH_t[j], dc[j], g[oi + j],
                                    tanh_fast(c[j]), one)
        g[oi + j] = do
        dc[j] = dcj
    for j in range(H):
        dc[j] += g[oi + j] * peep[po + j]
    if n == 3:
        for j in range(H):
            g[j], g[H + j], dc[j] = coupled_cell_grads(
                dc[j], g[j], g[H + j], c_prev[j], zero, one)
        for j in range(H):
            dc[j] += g[j] * peep[j]
    else:
        for j in range(H):
            g[j], g[H + j], g[2 * H + j], dc[j] = lstm_cell_grads(
                dc[j], g[j], g[H + j], g[2 * H + j], c_prev[j], one)
        for j in range(H):
            dc[j] += g[j] * peep[j] + g[H + j] * peep[H + j]


@cpu_kernel
def variant_gate_grads(s0, s1, t, c0, lengths, cells, dH_out, dh0, dc0, G, n,
                       peep, zone, zone_work):
    """:func:`gate_grads_row_variant` for the live rows of ``s0 .. s1 - 1``
    at step ``t``, before :func:`.lstm_cell.gate_grads_rows` (which zeroes
    the padded ones): a loop of its own, as :func:`variant_cells`. With
    zoneout, the cell gets its ``1 - z`` share of the gradients, at its own
    ``c~_t`` (recomputed from the gates), and ``c_{t-1}`` the carried
    share ``z`` too; ``zone_work[s, 2]`` keeps ``h_{t-1}``'s share for
    :func:`.lstm_cell.take_input_grads`."""
    H = dh0.shape[1]
    for s in range(s0, s1):
        if t < lengths[s]:
            c_prev = cells[s, t - 1] if t > 0 else c0[s]
            if zone is not None:
                w = zone_work[s]
                _new_cell(G[s, t], c_prev, H, n, w[0])
                _zone_split(zone[s, t], dh0[s], dH_out[s, t], dc0[s], w)
                gate_grads_row_variant(w[1], w[4], G[s, t], w[0], c_prev,
                                       dc0[s], H, n, peep)
                add_into(w[3], dc0[s])
            else:
                gate_grads_row_variant(dh0[s], dH_out[s, t], G[s, t],
                                       cells[s, t], c_prev, dc0[s], H, n, peep)


@cpu_kernel
def peephole_grads_rows(s0, s1, G, cells, c0, n, dpeep):
    """The peephole weights' gradient over rows ``s0 .. s1 - 1`` from their
    gate gradients ``G`` of every step (``n`` gate blocks): ``dpeep`` of i
    (and f) sums ``G c_{t-1}``, that of o sums ``G c_t``, over the rows and
    steps in order (padded steps have zero gate gradients, so add
    nothing)."""
    T, H = cells.shape[1], cells.shape[2]
    gi, oi = (n - 2) * H, (n - 1) * H
    zero_row(dpeep)
    for s in range(s0, s1):
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


@cpu_kernel
def peephole_grads(G, cells, c0, n, dpeep):
    """:func:`peephole_grads_rows` over the whole batch."""
    peephole_grads_rows(0, cells.shape[0], G, cells, c0, n, dpeep)


@cpu_kernel
def sum_peephole_partials(partials, dpeep):
    """``dpeep`` = the chunks' partial gradients added in chunk order."""
    zero_row(dpeep)
    for c in range(partials.shape[0]):
        add_into(partials[c], dpeep)


@cpu_parallel_kernel
def peephole_grads_by_chunks(G, cells, c0, n, dpeep):
    """:func:`peephole_grads` summed per batch chunk (one per thread, as
    :func:`.lstm_weight_grads.weight_grads_by_chunks` splits them), then the
    chunks added in order: the sums :mod:`.lstm`'s backward makes in its
    time loop's chunks, so that both thread splits give the same bits."""
    B = cells.shape[0]
    n_chunks = n_chunks_for(B, num_threads())
    partials = np.empty((n_chunks, dpeep.shape[0]), dpeep.dtype)
    for c in prange(n_chunks):
        s0, s1 = chunk_rows(c, n_chunks, B)
        peephole_grads_rows(s0, s1, G, cells, c0, n, partials[c])
    sum_peephole_partials(partials, dpeep)
