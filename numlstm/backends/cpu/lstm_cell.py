"""The LSTM cell on rows of a batch: one step forward, one step back (CPU).

The per-unit arithmetic is the shared scalar math of
:mod:`numlstm.backends._scalar` (the same source the CUDA kernels compile);
here it runs over the H units of a row in one loop with few arrays, so
that LLVM vectorises it, with the branch-free ``tanh_fast`` of
:mod:`.fastexp` for every activation (``sigmoid(a) = (1 + tanh(a / 2)) /
2``). The time loops that call these are in :mod:`.lstm` and
:mod:`.lstm_wide`. Layout, gate order and the ragged-batch rules are those
of :mod:`.lstm`'s docstring.
"""

from ._jit import cpu_kernel
from .activations import (
    lstm_cell,
    lstm_cell_grads,
    lstm_output_grads,
    sigmoid_from_tanh,
)
from .fastexp import tanh_fast
from .rows import add_into, copy_row, mul_row, zero_row, zone_row
from .tile import padded_width, row_length


@cpu_kernel
def gates_cell_row(r, b, g, c_prev, c_out, h_out, H):
    """One row of one step from its pre-activations ``r``: the gates
    ``g = act(r + b)`` (sigmoid on the i, f, o blocks, tanh on g), then
    ``c_out = f * c_prev + i * g`` and ``h_out = o * tanh(c_out)``."""
    half = g.dtype.type(0.5)
    for j in range(H):
        i = sigmoid_from_tanh(tanh_fast(half * (r[j] + b[j])), half)
        f = sigmoid_from_tanh(tanh_fast(half * (r[H + j] + b[H + j])), half)
        gg = tanh_fast(r[2 * H + j] + b[2 * H + j])
        o = sigmoid_from_tanh(tanh_fast(half * (r[3 * H + j] + b[3 * H + j])),
                              half)
        g[j] = i
        g[H + j] = f
        g[2 * H + j] = gg
        g[3 * H + j] = o
        c = lstm_cell(i, f, gg, c_prev[j])
        c_out[j] = c
        h_out[j] = o * tanh_fast(c)


@cpu_kernel
def step_rows(s0, s1, t, rec, b, lengths, H_out, h_n, c_n, gates, cells,
              h_prev, peep, h_mask, zone):
    """Step ``t`` of rows ``s0 .. s1 - 1`` from their pre-activations
    ``rec``: gates, cell and hidden state, and the state carried on. For a
    variant cell (``peep`` not None, see :func:`.lstm.lstm_forward`) the
    caller has run the cell (:func:`.lstm_cell_variants.variant_cells`)
    and this carries the state on; with a recurrent dropout mask
    ``h_mask`` the caller has written ``h_prev`` (the masked state the
    product read). With zoneout weights ``zone (B, T, H)`` each unit keeps
    that share of its previous ``c`` and ``h``."""
    H = h_n.shape[1]
    for s in range(s0, s1):
        if t < lengths[s]:
            if h_mask is None:
                copy_row(h_n[s], h_prev[s, t])
            if peep is None:
                gates_cell_row(rec[s], b, gates[s, t], c_n[s], cells[s, t],
                               H_out[s, t], H)
            if zone is not None:
                zone_row(zone[s, t], c_n[s], cells[s, t])
                zone_row(zone[s, t], h_n[s], H_out[s, t])
            copy_row(cells[s, t], c_n[s])
            copy_row(H_out[s, t], h_n[s])
        else:  # padding: the state is carried unchanged
            zero_row(gates[s, t])
            copy_row(c_n[s], cells[s, t])
            zero_row(h_prev[s, t])
            zero_row(H_out[s, t])


@cpu_kernel
def mask_rows(s0, s1, t, lengths, h_n, h_mask, h_prev):
    """``h_prev[s, t] = h_mask[s] * h_n[s]`` for the live rows of ``s0 .. s1
    - 1`` at step ``t``: the masked state the recurrent product reads."""
    for s in range(s0, s1):
        if t < lengths[s]:
            mul_row(h_n[s], h_mask[s], h_prev[s, t])


@cpu_kernel
def gate_grads_row(dh_next, dH_t, g, c, c_prev, dc, H):
    """Gate pre-activation gradients of one row of one step, in place: ``g``
    holds the activated gates i, f, g, o on entry and their gradients on
    exit (each unit's gates are read before its gradients are written).

    ``dc`` holds the gradient of ``c_t`` from step ``t + 1`` on entry and
    that of ``c_{t-1}`` on exit. Two loops, each over few arrays, so that
    both vectorise.
    """
    one = g.dtype.type(1.0)
    for j in range(H):
        do, dcj = lstm_output_grads(dh_next[j] + dH_t[j], dc[j], g[3 * H + j],
                                    tanh_fast(c[j]), one)
        g[3 * H + j] = do
        dc[j] = dcj
    for j in range(H):
        g[j], g[H + j], g[2 * H + j], dc[j] = lstm_cell_grads(
            dc[j], g[j], g[H + j], g[2 * H + j], c_prev[j], one)


@cpu_kernel
def gate_grads_rows(s0, s1, t, c0, lengths, cells, dH_out, dh0, dc0, G, n,
                    peep):
    """The gate gradients ``G[s, t]`` of step ``t`` for rows ``s0 .. s1 - 1``
    in place of the gates there (zero at padded steps); ``dh0``/``dc0`` hold
    the running gradients; ``n`` gate blocks and ``peep`` as
    :func:`step_rows` reads them from ``b`` and ``peep``. The live rows of
    a variant cell are left to
    :func:`.lstm_cell_variants.variant_gate_grads`."""
    H = dh0.shape[1]
    for s in range(s0, s1):
        if t < lengths[s]:
            if peep is None:
                c_prev = cells[s, t - 1] if t > 0 else c0[s]
                gate_grads_row(dh0[s], dH_out[s, t], G[s, t], cells[s, t],
                               c_prev, dc0[s], H)
        else:
            zero_row(G[s, t, :n * H])


@cpu_kernel
def take_input_grads(s0, s1, t, dxh, lengths, dX, dh0, d_in, h_mask,
                     zone_work):
    """Split ``dxh = [dx_t, dh_{t-1}]`` of rows ``s0 .. s1 - 1`` into ``dX``
    and the running ``dh0`` (padded steps: ``dX`` is 0, ``dh0`` carried);
    ``dx_t`` has ``d_in`` columns, 0 when ``dX`` is not wanted. A recurrent
    dropout mask ``h_mask`` (not None) scales ``dh_{t-1}`` as the forward
    scaled ``h_{t-1}``; with zoneout, ``zone_work[s, 2]`` (the share of
    ``dh_t`` the unit kept, :func:`.lstm_cell_variants.variant_gate_grads`)
    is added."""
    K = d_in + dh0.shape[1]
    for s in range(s0, s1):
        if t < lengths[s]:
            if d_in > 0:
                copy_row(dxh[s, :d_in], dX[s, t])
            if h_mask is not None:
                mul_row(dxh[s, d_in:K], h_mask[s], dh0[s])
            else:
                copy_row(dxh[s, d_in:K], dh0[s])
            if zone_work is not None:
                add_into(zone_work[s, 2], dh0[s])
        elif d_in > 0:
            zero_row(dX[s, t])


def gate_width(n_hidden, itemsize, n_gates=4):
    """Row length of the ``gates`` the backward kernels turn into gate
    gradients in place (``(B, T, gate_width)``): ``n_gates * H`` (4H, or 3H
    with coupled gates) rounded up to whole vectors, an odd number of
    them."""
    return row_length.py_func(
        padded_width.py_func(n_gates * n_hidden, itemsize), itemsize)
