"""The LSTM layer with a projection and/or layer normalisation on CUDA:
forward and full BPTT.

The cells (the CPU's :mod:`..cpu.lstm_ln_proj`, the contract's
``lstm_forward``): a projection (LSTMP; PyTorch's ``proj_size``) makes
``h_t = m_t W_hr^T`` of P units from ``m_t = o * tanh(.)`` of H; layer
normalisation (as haste's LayerNormLSTM) normalises the products ``x_t
W_ih^T`` and ``h_{t-1} W_hh^T`` apart over their 4H columns (gains
``g_ih``, ``g_hh``, then the bias) and the cell for the output, ``m_t = o
* tanh(g_c * LN(c_t) + beta_c)``; ``LN`` with the biased variance and
epsilon :data:`LN_EPS`.

The rows design of :mod:`.lstm_rows`: each block owns
:data:`~.plan.ROWS_PER_BLOCK` batch rows for every step, one launch per
pass, no grid barrier. Within a row, ``lanes`` lanes (:func:`row_lanes`:
one per unit up to :data:`MAX_LANES`, a warp) split the work by a fixed
partition: lane ``k`` owns the hidden units ``u = k (mod lanes)`` with
their four gate columns, and the units ``p = k (mod lanes)`` of ``h``. A
thread takes one ``(row, lane)`` item at a time (``item = r * lanes +
k``), so the launch width changes no result. Each row mean and variance
is a fixed-shape reduction in dynamic shared memory: every lane writes the
sum of its own values and the sum of their squared deviations from its own
mean (two passes over them), then, after a ``syncthreads``, every lane
combines all the lanes' partials in lane order (``M2 = sum_k M2_k + n_k
(mean_k - mean)^2``): the same bits in all, no atomics, no second
barrier. The state needs no shared memory, as in :mod:`.lstm_units`:
padding sits at the end of a row, so ``h_{t-1}`` of a live step is
``H_out[:, t-1]`` (``h0`` at 0) and ``c_{t-1}`` is ``cells[:, t-1]``; the
backward carries ``dh`` and ``dc`` in ``dh0`` and ``dc0``. So no layer
size is refused: a block's shared memory is :func:`shared_bytes`, at most
12 KiB whatever ``H`` and ``P``; a large layer is slow rather than
refused (32 lanes per row, each summing its columns' products serially).

Forward, per step: the lanes' recurrent products (and without layer norm
at once the gates, ``c_t`` and ``m_t``); with layer norm, the normalised
products, gates and ``c_t``, then the normalised cell and ``m_t``; with a
projection, ``h_t``: a ``syncthreads`` after each, two to four a step.
Backward, per step: the gradients of ``m_t`` (through ``W_hr`` with a
projection) and of the gates; with layer norm, through the cell norm, then
the gradients of the normalised products; then ``dh_{t-1} = (dA_h W_hh)
* h_mask`` (with a projection, the lane also keeps ``dh_{t-1}`` plus its
output's gradient for the next step's ``W_hr``): two or four barriers a
step. The weight gradients follow as the products and column sums of
:mod:`.gemm` over all rows and steps, each a sum in order.

``aux (B, T, width)`` (:func:`aux_layout`) holds what the backward needs
and then its scratch: with layer norm ``xn``, ``hn`` (the normalised
products, 4H each; the backward overwrites them with ``dA * xn`` and ``dA
* hn``, whose column sums are the gains' gradients), ``dax``, ``dah`` (the
gradients of the two products, 4H each, for ``dW_ih``, ``dX`` and
``dW_hh``), ``cn`` (the normalised cell, then ``dcc * cn``), ``dcc`` (the
gradient of ``g_c * cn + beta_c``, whose column sums are ``dbeta_c``) and
``r`` (the three inverse standard deviations); with a projection ``m``
(``m_t``, H) and ``dh`` (``dh_t``, P; ``dW_hr = dh^T m``). Without layer
norm, ``dgates`` serves as both products' gradients, as in the plain
layer. Padded steps: the state is carried; ``H_out``, ``gates``,
``h_prev`` and ``m`` are 0 there, and the backward writes 0 to all the
scratch it sums.
"""

import math

import numpy as np
from numba import cuda

from .._contract import LAYER_NORM_EPS
from . import scalar
from ._jit import cuda_kernel, device_function
from .gemm import column_sums, gemm
from .plan import ROWS_PER_BLOCK
from .recurrence import masked

#: the layer normalisation's epsilon (torch.nn.LayerNorm's default)
LN_EPS = LAYER_NORM_EPS
#: at most this many lanes per batch row (a warp)
MAX_LANES = 32
#: partial sums per lane in shared memory (the forward's x, h and c
#: moments; the backward's two cell and four product means)
N_PARTIALS = 6


def row_lanes(hidden: int, proj_size: int) -> int:
    """Lanes per batch row of a layer: one per unit of ``h`` or ``c`` up to
    :data:`MAX_LANES`. The fixed partition of a row's work, so of its sums:
    a pure function of the layer's sizes, so the same layer gives the same
    bits on any device and at any launch width.

    >>> row_lanes(4, 3), row_lanes(100, 0), row_lanes(4, 40)
    (4, 32, 32)
    """
    return min(MAX_LANES, max(int(hidden), int(proj_size)))


def block_threads(lanes: int, rows: int = ROWS_PER_BLOCK) -> int:
    """Threads per block: one per ``(row, lane)`` item, in whole warps.

    >>> block_threads(4), block_threads(3), block_threads(32)
    (32, 32, 256)
    """
    return -(-rows * int(lanes) // 32) * 32


def shared_bytes(lanes: int, itemsize: int, rows: int = ROWS_PER_BLOCK) -> int:
    """Dynamic shared memory of a block of these kernels: the lanes'
    partial sums only, whatever ``H`` and ``P``, so no layer size is
    refused (at most 6 KiB in float32, 12 KiB in float64).

    >>> shared_bytes(32, 4), shared_bytes(32, 8), shared_bytes(3, 8)
    (6144, 12288, 1152)
    """
    return int(rows) * int(lanes) * N_PARTIALS * int(itemsize)


def aux_layout(hidden: int, proj_size: int, layer_norm: bool) -> tuple:
    """Column offsets of the parts of an ``aux`` row, and its width:
    ``(xn, hn, dax, dah, cn, dcc, r, m, dh, width)`` (see the module
    docstring); a part the cell lacks takes no room.

    >>> aux_layout(3, 2, True)
    (0, 12, 24, 36, 48, 51, 54, 57, 60, 62)
    >>> aux_layout(3, 2, False)[-3:], aux_layout(3, 0, True)[-1]
    ((0, 3, 5), 57)
    """
    H, P = int(hidden), int(proj_size)
    G = 4 * H
    ln = G if layer_norm else 0
    xn = 0
    hn = xn + ln
    dax = hn + ln
    dah = dax + ln
    cn = dah + ln
    dcc = cn + (H if layer_norm else 0)
    r = dcc + (H if layer_norm else 0)
    m = r + (3 if layer_norm else 0)
    dh = m + (H if P else 0)
    width = dh + P
    return xn, hn, dax, dah, cn, dcc, r, m, dh, width


# ------------------------------------------------------------ lane helpers

@device_function
def _lane_units(k, H, lanes):
    """How many of ``H`` units lane ``k`` of ``lanes`` owns."""
    return (H - k + lanes - 1) // lanes if k < H else 0


@device_function
def _h_last(H_out, h0, s, t, q):
    """Unit ``q`` of ``h_{t-1}`` of a live step of row ``s``."""
    return H_out[s, t - 1, q] if t > 0 else h0[s, q]


@device_function
def _c_last(cells, c0, s, t, u):
    """Unit ``u`` of ``c_{t-1}`` of row ``s``."""
    return cells[s, t - 1, u] if t > 0 else c0[s, u]


@device_function
def _row_norm(part, row_base, slot, per_unit, H, lanes, eps, one, zero):
    """``(mean, 1 / sqrt(var + eps))`` of a row of ``per_unit * H`` values
    from the partials of the lanes that own units (the sum of a lane's
    values and their squared deviations from its own mean), combined in
    lane order: the same bits in every lane."""
    n_lanes = lanes if lanes < H else H
    total = zero
    for k in range(n_lanes):
        total += part[row_base + k * N_PARTIALS + slot]
    mean = total / part.dtype.type(per_unit * H)
    M2 = zero
    for k in range(n_lanes):
        n_k = part.dtype.type(per_unit * _lane_units(k, H, lanes))
        d = part[row_base + k * N_PARTIALS + slot] / n_k - mean
        M2 += part[row_base + k * N_PARTIALS + slot + 1] + n_k * d * d
    return mean, one / math.sqrt(M2 / part.dtype.type(per_unit * H) + eps)


@device_function
def _row_mean(part, row_base, slot, per_unit, H, lanes, zero):
    """The mean of a row of ``per_unit * H`` values from the partial sums
    of the lanes that own units, in lane order."""
    total = zero
    for k in range(lanes if lanes < H else H):
        total += part[row_base + k * N_PARTIALS + slot]
    return total / part.dtype.type(per_unit * H)


@device_function
def _activate(gates, s, t, u, H, a_i, a_f, a_g, a_o, c_prev, one):
    """The four gates of unit ``u`` from their pre-activations into
    ``gates[s, t]``; returns ``(c_t, o)``."""
    i = scalar.sigmoid(a_i, one)
    f = scalar.sigmoid(a_f, one)
    g = scalar.tanh(a_g)
    o = scalar.sigmoid(a_o, one)
    gates[s, t, u] = i
    gates[s, t, H + u] = f
    gates[s, t, 2 * H + u] = g
    gates[s, t, 3 * H + u] = o
    return scalar.lstm_cell(i, f, g, c_prev), o


# ------------------------------------------------------------------ forward

@device_function
def _pad_step(s, t, k, lanes, H, P, gates, cells, c0, h_prev, H_out, aux,
              m_at, has_proj, zero):
    """A padded step of row ``s``, lane ``k``: the state carried, zeros."""
    for u in range(k, H, lanes):
        for gate in range(4):
            gates[s, t, gate * H + u] = zero
        cells[s, t, u] = _c_last(cells, c0, s, t, u)
        if has_proj:
            aux[s, t, m_at + u] = zero
    for p in range(k, P, lanes):
        h_prev[s, t, p] = zero
        H_out[s, t, p] = zero


@device_function
def _output(s, t, u, m, H_out, aux, m_at, has_proj):
    """``m_t`` of unit ``u``: ``h_t`` itself, or kept for the projection."""
    if has_proj:
        aux[s, t, m_at + u] = m
    else:
        H_out[s, t, u] = m


@device_function
def _plain_step(s, t, k, lanes, W_hh, h0, c0, H_out, gates, cells, aux, m_at,
                h_mask, has_proj, one):
    """Without layer norm, all of a step's cell work of lane ``k``:
    ``gates`` comes in holding ``b + x_t W_ih^T``."""
    H = cells.shape[2]
    P = H_out.shape[2]
    for u in range(k, H, lanes):
        a_i = gates[s, t, u]
        a_f = gates[s, t, H + u]
        a_g = gates[s, t, 2 * H + u]
        a_o = gates[s, t, 3 * H + u]
        for q in range(P):
            h_q = masked(h_mask, s, q, _h_last(H_out, h0, s, t, q))
            a_i += h_q * W_hh[u, q]
            a_f += h_q * W_hh[H + u, q]
            a_g += h_q * W_hh[2 * H + u, q]
            a_o += h_q * W_hh[3 * H + u, q]
        c, o = _activate(gates, s, t, u, H, a_i, a_f, a_g, a_o,
                         _c_last(cells, c0, s, t, u), one)
        cells[s, t, u] = c
        _output(s, t, u, o * scalar.tanh(c), H_out, aux, m_at, has_proj)


@device_function
def _ln_products(s, t, k, lanes, W_hh, h0, H_out, gates, aux, hn_at, h_mask,
                 part, base, zero):
    """With layer norm, lane ``k``'s recurrent products into ``aux``'s
    ``hn`` part, and its partial moments of both products (``gates``
    holding ``x_t W_ih^T``)."""
    H = gates.shape[2] // 4
    P = H_out.shape[2]
    sum_x = zero
    sum_h = zero
    for u in range(k, H, lanes):
        a_i = zero
        a_f = zero
        a_g = zero
        a_o = zero
        for q in range(P):
            h_q = masked(h_mask, s, q, _h_last(H_out, h0, s, t, q))
            a_i += h_q * W_hh[u, q]
            a_f += h_q * W_hh[H + u, q]
            a_g += h_q * W_hh[2 * H + u, q]
            a_o += h_q * W_hh[3 * H + u, q]
        aux[s, t, hn_at + u] = a_i
        aux[s, t, hn_at + H + u] = a_f
        aux[s, t, hn_at + 2 * H + u] = a_g
        aux[s, t, hn_at + 3 * H + u] = a_o
        for gate in range(4):
            sum_x += gates[s, t, gate * H + u]
        sum_h += a_i + a_f + a_g + a_o
    n_own = 4 * _lane_units(k, H, lanes)
    M2_x = zero
    M2_h = zero
    if n_own > 0:
        mean_x = sum_x / gates.dtype.type(n_own)
        mean_h = sum_h / gates.dtype.type(n_own)
        for u in range(k, H, lanes):
            for gate in range(4):
                d = gates[s, t, gate * H + u] - mean_x
                M2_x += d * d
                d = aux[s, t, hn_at + gate * H + u] - mean_h
                M2_h += d * d
    part[base] = sum_x
    part[base + 1] = M2_x
    part[base + 2] = sum_h
    part[base + 3] = M2_h


@device_function
def _ln_gates(s, t, k, lanes, b, c0, gates, cells, aux, lay, g_ih, g_hh, part,
              row_base, base, eps, one, zero):
    """With layer norm, lane ``k``'s gates from the normalised products
    (kept in ``aux``), its ``c_t`` and the partial moments of ``c_t``."""
    H = cells.shape[2]
    xn, hn, r = lay[0], lay[1], lay[6]
    mean_x, r_x = _row_norm(part, row_base, 0, 4, H, lanes, eps, one, zero)
    mean_h, r_h = _row_norm(part, row_base, 2, 4, H, lanes, eps, one, zero)
    if k == 0:
        aux[s, t, r] = r_x
        aux[s, t, r + 1] = r_h
    total = zero
    for u in range(k, H, lanes):
        for gate in range(4):
            j = gate * H + u
            x_hat = (gates[s, t, j] - mean_x) * r_x
            h_hat = (aux[s, t, hn + j] - mean_h) * r_h
            aux[s, t, xn + j] = x_hat
            aux[s, t, hn + j] = h_hat
            gates[s, t, j] = g_ih[j] * x_hat + g_hh[j] * h_hat + b[j]
        c, _ = _activate(gates, s, t, u, H, gates[s, t, u], gates[s, t, H + u],
                         gates[s, t, 2 * H + u], gates[s, t, 3 * H + u],
                         _c_last(cells, c0, s, t, u), one)
        cells[s, t, u] = c
        total += c
    n_own = _lane_units(k, H, lanes)
    M2 = zero
    if n_own > 0:
        mean = total / cells.dtype.type(n_own)
        for u in range(k, H, lanes):
            d = cells[s, t, u] - mean
            M2 += d * d
    part[base + 4] = total
    part[base + 5] = M2


@device_function
def _ln_output(s, t, k, lanes, gates, cells, H_out, aux, lay, g_c, beta_c,
               part, row_base, has_proj, eps, one, zero):
    """With layer norm, lane ``k``'s ``m_t = o tanh(g_c LN(c_t) + beta_c)``
    and the normalised cell (kept in ``aux``)."""
    H = cells.shape[2]
    cn, r, m_at = lay[4], lay[6], lay[7]
    mean, r_c = _row_norm(part, row_base, 4, 1, H, lanes, eps, one, zero)
    if k == 0:
        aux[s, t, r + 2] = r_c
    for u in range(k, H, lanes):
        c_hat = (cells[s, t, u] - mean) * r_c
        aux[s, t, cn + u] = c_hat
        m = gates[s, t, 3 * H + u] * scalar.tanh(g_c[u] * c_hat + beta_c[u])
        _output(s, t, u, m, H_out, aux, m_at, has_proj)


@device_function
def _project(s, t, k, lanes, W_hr, H_out, aux, m_at, zero):
    """Lane ``k``'s units of ``h_t = m_t W_hr^T``."""
    P, H = W_hr.shape
    for p in range(k, P, lanes):
        acc = zero
        for u in range(H):
            acc += aux[s, t, m_at + u] * W_hr[p, u]
        H_out[s, t, p] = acc


@cuda_kernel
def forward_kernel(W_hh, W_hr, b, h0, c0, lengths, H_out, h_n, c_n, gates,
                   cells, h_prev, aux, lay, h_mask, g_ih, g_hh, g_c, beta_c,
                   lanes, eps, one, zero):
    """The time loop. ``gates`` comes in holding ``x_t W_ih^T``, plus ``b``
    without layer norm; ``W_hr`` of shape ``(0, 0)`` without a projection,
    the four layer-norm vectors of length 0 without layer norm."""
    B, T, _ = gates.shape
    H = cells.shape[2]
    P = H_out.shape[2]
    has_proj = W_hr.shape[0] > 0
    has_ln = g_ih.shape[0] > 0
    m_at = lay[7]
    R = ROWS_PER_BLOCK
    row0 = cuda.blockIdx.x * R
    tid = cuda.threadIdx.x
    n_threads = cuda.blockDim.x
    # part[(r * lanes + k) * N_PARTIALS + slot]: lane k of row r's partials
    part = cuda.shared.array(0, dtype=gates.dtype)
    for t in range(T):
        for item in range(tid, R * lanes, n_threads):
            s = row0 + item // lanes
            k = item % lanes
            if s < B:
                if t < lengths[s]:
                    for p in range(k, P, lanes):
                        h_prev[s, t, p] = masked(h_mask, s, p,
                                                 _h_last(H_out, h0, s, t, p))
                    if has_ln:
                        _ln_products(s, t, k, lanes, W_hh, h0, H_out, gates,
                                     aux, lay[1], h_mask, part,
                                     item * N_PARTIALS, zero)
                    else:
                        _plain_step(s, t, k, lanes, W_hh, h0, c0, H_out, gates,
                                    cells, aux, m_at, h_mask, has_proj, one)
                else:
                    _pad_step(s, t, k, lanes, H, P, gates, cells, c0, h_prev,
                              H_out, aux, m_at, has_proj, zero)
        cuda.syncthreads()
        if has_ln:  # the row moments of both products are in `part` now
            for item in range(tid, R * lanes, n_threads):
                s = row0 + item // lanes
                k = item % lanes
                if s < B and t < lengths[s] and k < H:
                    _ln_gates(s, t, k, lanes, b, c0, gates, cells, aux, lay,
                              g_ih, g_hh, part, (item - k) * N_PARTIALS,
                              item * N_PARTIALS, eps, one, zero)
            cuda.syncthreads()
            for item in range(tid, R * lanes, n_threads):
                s = row0 + item // lanes
                k = item % lanes
                if s < B and t < lengths[s] and k < H:
                    _ln_output(s, t, k, lanes, gates, cells, H_out, aux, lay,
                               g_c, beta_c, part, (item - k) * N_PARTIALS,
                               has_proj, eps, one, zero)
            cuda.syncthreads()
        if has_proj:
            for item in range(tid, R * lanes, n_threads):
                s = row0 + item // lanes
                if s < B and t < lengths[s]:
                    _project(s, t, item % lanes, lanes, W_hr, H_out, aux, m_at,
                             zero)
            cuda.syncthreads()
    for item in range(tid, R * lanes, n_threads):
        s = row0 + item // lanes
        k = item % lanes
        if s < B:
            last = lengths[s] - 1
            for p in range(k, P, lanes):
                h_n[s, p] = H_out[s, last, p] if last >= 0 else h0[s, p]
            for u in range(k, H, lanes):
                c_n[s, u] = cells[s, T - 1, u] if T > 0 else c0[s, u]


# ----------------------------------------------------------------- backward

@device_function
def _zero_scratch(s, t, k, lanes, H, dgates, aux, lay, has_ln, zero):
    """A padded step of row ``s``, lane ``k``: zeros wherever the products
    and column sums after the loop read (``dh`` is zeroed before)."""
    xn, hn, dax, dah, cn, dcc = lay[0], lay[1], lay[2], lay[3], lay[4], lay[5]
    for u in range(k, H, lanes):
        for gate in range(4):
            j = gate * H + u
            dgates[s, t, j] = zero
            if has_ln:
                aux[s, t, xn + j] = zero
                aux[s, t, hn + j] = zero
                aux[s, t, dax + j] = zero
                aux[s, t, dah + j] = zero
        if has_ln:
            aux[s, t, cn + u] = zero
            aux[s, t, dcc + u] = zero


@device_function
def _output_grads(s, t, k, lanes, W_hr, c0, gates, cells, dH_out, dh0, dc0,
                  dgates, aux, lay, g_c, beta_c, part, base, has_ln, has_proj,
                  one, zero):
    """Lane ``k``'s gradients of ``m_t``'s units and their output gates;
    without layer norm the whole gate gradients and ``dc_{t-1}`` (into
    ``dc0``), with it the gradient ``dcc`` of the normalised cell (into
    ``aux``) and the lane's partial sums of the cell norm's backward."""
    H = cells.shape[2]
    cn, dcc_at, dh = lay[4], lay[5], lay[8]
    sum_y = zero
    sum_yc = zero
    for u in range(k, H, lanes):
        if has_proj:
            dm = zero
            for p in range(W_hr.shape[0]):
                dm += aux[s, t, dh + p] * W_hr[p, u]
        else:
            dm = dh0[s, u] + dH_out[s, t, u]
        o = gates[s, t, 3 * H + u]
        if has_ln:
            c_hat = aux[s, t, cn + u]
            do, dcc = scalar.lstm_output_grads(
                dm, zero, o, scalar.tanh(g_c[u] * c_hat + beta_c[u]), one)
            dgates[s, t, 3 * H + u] = do
            aux[s, t, dcc_at + u] = dcc
            y = dcc * g_c[u]
            sum_y += y
            sum_yc += y * c_hat
        else:
            do, dc = scalar.lstm_output_grads(
                dm, dc0[s, u], o, scalar.tanh(cells[s, t, u]), one)
            di, df, dg, dc_prev = scalar.lstm_cell_grads(
                dc, gates[s, t, u], gates[s, t, H + u], gates[s, t, 2 * H + u],
                _c_last(cells, c0, s, t, u), one)
            dc0[s, u] = dc_prev
            dgates[s, t, u] = di
            dgates[s, t, H + u] = df
            dgates[s, t, 2 * H + u] = dg
            dgates[s, t, 3 * H + u] = do
    part[base] = sum_y
    part[base + 1] = sum_yc


@device_function
def _ln_cell_grads(s, t, k, lanes, c0, gates, cells, dc0, dgates, aux, lay,
                   g_ih, g_hh, g_c, part, row_base, base, one, zero):
    """With layer norm, lane ``k``'s ``dc_t`` through the cell norm, its
    gate gradients, ``dc_{t-1}`` (into ``dc0``) and its partial sums of the
    product norms' backward; ``dcc * cn`` replaces ``cn``."""
    H = cells.shape[2]
    xn, hn, cn, dcc_at, r = lay[0], lay[1], lay[4], lay[5], lay[6]
    mean_y = _row_mean(part, row_base, 0, 1, H, lanes, zero)
    mean_yc = _row_mean(part, row_base, 1, 1, H, lanes, zero)
    r_c = aux[s, t, r + 2]
    sum_yx = zero
    sum_yxx = zero
    sum_yh = zero
    sum_yhh = zero
    for u in range(k, H, lanes):
        c_hat = aux[s, t, cn + u]
        dcc = aux[s, t, dcc_at + u]
        aux[s, t, cn + u] = dcc * c_hat
        dc = dc0[s, u] + scalar.layer_norm_grad(dcc * g_c[u], c_hat, mean_y,
                                                mean_yc, r_c)
        di, df, dg, dc_prev = scalar.lstm_cell_grads(
            dc, gates[s, t, u], gates[s, t, H + u], gates[s, t, 2 * H + u],
            _c_last(cells, c0, s, t, u), one)
        dc0[s, u] = dc_prev
        dgates[s, t, u] = di
        dgates[s, t, H + u] = df
        dgates[s, t, 2 * H + u] = dg
        for gate in range(4):
            j = gate * H + u
            y_x = dgates[s, t, j] * g_ih[j]
            y_h = dgates[s, t, j] * g_hh[j]
            sum_yx += y_x
            sum_yxx += y_x * aux[s, t, xn + j]
            sum_yh += y_h
            sum_yhh += y_h * aux[s, t, hn + j]
    part[base + 2] = sum_yx
    part[base + 3] = sum_yxx
    part[base + 4] = sum_yh
    part[base + 5] = sum_yhh


@device_function
def _ln_product_grads(s, t, k, lanes, dgates, aux, lay, g_ih, g_hh, part,
                      row_base, zero):
    """With layer norm, lane ``k``'s gradients of the two products (into
    ``dax``, ``dah``); ``dA * xn`` and ``dA * hn`` replace ``xn``, ``hn``."""
    H = dgates.shape[2] // 4
    xn, hn, dax, dah, r = lay[0], lay[1], lay[2], lay[3], lay[6]
    mean_yx = _row_mean(part, row_base, 2, 4, H, lanes, zero)
    mean_yxx = _row_mean(part, row_base, 3, 4, H, lanes, zero)
    mean_yh = _row_mean(part, row_base, 4, 4, H, lanes, zero)
    mean_yhh = _row_mean(part, row_base, 5, 4, H, lanes, zero)
    r_x = aux[s, t, r]
    r_h = aux[s, t, r + 1]
    for u in range(k, H, lanes):
        for gate in range(4):
            j = gate * H + u
            dA = dgates[s, t, j]
            x_hat = aux[s, t, xn + j]
            h_hat = aux[s, t, hn + j]
            aux[s, t, dax + j] = scalar.layer_norm_grad(
                dA * g_ih[j], x_hat, mean_yx, mean_yxx, r_x)
            aux[s, t, dah + j] = scalar.layer_norm_grad(
                dA * g_hh[j], h_hat, mean_yh, mean_yhh, r_h)
            aux[s, t, xn + j] = dA * x_hat
            aux[s, t, hn + j] = dA * h_hat


@device_function
def _keep_dh(s, t, p, dh0, dH_out, aux, dh):
    """With a projection, unit ``p`` of the whole gradient of ``h_t`` of a
    live step into ``aux`` (for ``dm_t = dh_t W_hr`` and ``dW_hr``)."""
    if t >= 0:
        aux[s, t, dh + p] = dh0[s, p] + dH_out[s, t, p]


@device_function
def _dh_prev(s, t, k, lanes, W_hh, dh0, dH_out, dgates, aux, lay, h_mask,
             has_ln, has_proj, zero):
    """Lane ``k``'s units of ``dh_{t-1} = (dA_h W_hh) * h_mask`` into
    ``dh0``, summed in order over the gate columns (and, with a
    projection, ``dh_{t-1}`` plus its output's gradient into ``aux``)."""
    G, P = W_hh.shape
    dah = lay[3]
    for q in range(k, P, lanes):
        acc = zero
        for j in range(G):
            dA = aux[s, t, dah + j] if has_ln else dgates[s, t, j]
            acc += dA * W_hh[j, q]
        dh0[s, q] = masked(h_mask, s, q, acc)
        if has_proj:
            _keep_dh(s, t - 1, q, dh0, dH_out, aux, lay[8])


@cuda_kernel
def backward_kernel(W_hh, W_hr, c0, lengths, gates, cells, dH_out, dh_n, dc_n,
                    dh0, dc0, dgates, aux, lay, h_mask, g_ih, g_hh, g_c,
                    beta_c, lanes, one, zero):
    """BPTT through the time loop: the gate gradients of every step into
    ``dgates`` (which may be ``gates``: a lane reads its units' gates
    before writing their gradients), the scratch of ``aux`` for the
    products after the loop, and ``dh0``, ``dc0`` (which carry ``dh`` and
    ``dc`` between steps)."""
    B, T, _ = gates.shape
    H = cells.shape[2]
    P = dh0.shape[1]
    has_proj = W_hr.shape[0] > 0
    has_ln = g_ih.shape[0] > 0
    dh = lay[8]
    R = ROWS_PER_BLOCK
    row0 = cuda.blockIdx.x * R
    tid = cuda.threadIdx.x
    n_threads = cuda.blockDim.x
    part = cuda.shared.array(0, dtype=gates.dtype)
    for item in range(tid, R * lanes, n_threads):
        s = row0 + item // lanes
        k = item % lanes
        if s < B:  # each lane carries its own units' dh and dc
            for p in range(k, P, lanes):
                dh0[s, p] = dh_n[s, p]
                if has_proj:  # dh_t of the padded steps and the last live
                    for t in range(lengths[s], T):
                        aux[s, t, dh + p] = zero
                    _keep_dh(s, lengths[s] - 1, p, dh0, dH_out, aux, dh)
            for u in range(k, H, lanes):
                dc0[s, u] = dc_n[s, u]
    cuda.syncthreads()
    for t in range(T - 1, -1, -1):
        for item in range(tid, R * lanes, n_threads):
            s = row0 + item // lanes
            k = item % lanes
            if s < B:
                if t < lengths[s]:
                    _output_grads(s, t, k, lanes, W_hr, c0, gates, cells,
                                  dH_out, dh0, dc0, dgates, aux, lay, g_c,
                                  beta_c, part, item * N_PARTIALS, has_ln,
                                  has_proj, one, zero)
                else:
                    _zero_scratch(s, t, k, lanes, H, dgates, aux, lay, has_ln,
                                  zero)
        cuda.syncthreads()
        if has_ln:
            for item in range(tid, R * lanes, n_threads):
                s = row0 + item // lanes
                k = item % lanes
                if s < B and t < lengths[s] and k < H:
                    _ln_cell_grads(s, t, k, lanes, c0, gates, cells, dc0,
                                   dgates, aux, lay, g_ih, g_hh, g_c, part,
                                   (item - k) * N_PARTIALS, item * N_PARTIALS,
                                   one, zero)
            cuda.syncthreads()
            for item in range(tid, R * lanes, n_threads):
                s = row0 + item // lanes
                k = item % lanes
                if s < B and t < lengths[s] and k < H:
                    _ln_product_grads(s, t, k, lanes, dgates, aux, lay, g_ih,
                                      g_hh, part, (item - k) * N_PARTIALS,
                                      zero)
            cuda.syncthreads()
        for item in range(tid, R * lanes, n_threads):
            s = row0 + item // lanes
            if s < B and t < lengths[s]:
                _dh_prev(s, t, item % lanes, lanes, W_hh, dh0, dH_out, dgates,
                         aux, lay, h_mask, has_ln, has_proj, zero)
        cuda.syncthreads()


# ------------------------------------------------------------------- layer

def _variants(W_hr, ln, dtype):
    """``W_hr`` and the four layer-norm vectors, zero-length for a part the
    cell lacks: the kernels take arrays either way."""
    if W_hr is None:
        W_hr = cuda.device_array((0, 0), dtype)
    if ln is None:
        ln = tuple(cuda.device_array((0,), dtype) for _ in range(4))
    return W_hr, ln


def _launch(B, lanes, itemsize):
    """``[blocks, threads, stream, shared]`` of the time-loop kernels."""
    return (-(-B // ROWS_PER_BLOCK), _threads(lanes), 0,
            shared_bytes(lanes, itemsize))


#: the launch width (tests narrow it: the kernels loop over their items)
_threads = block_threads


def aux_width(n_hidden: int, proj_size: int, layer_norm: bool, dtype) -> int:
    """Row length of the ``aux`` cache (:func:`aux_layout`); 0 for the
    cells without a projection or layer norm. No size is refused (see
    :func:`shared_bytes`)."""
    if not proj_size and not layer_norm:
        return 0
    return aux_layout(n_hidden, proj_size, layer_norm)[-1]


def lstm_forward_ln_proj(X, W_ih, W_hh, b, h0, c0, lengths, H_out, h_n, c_n,
                         gates, cells, h_prev, h_mask, W_hr, ln, aux):
    """One layer forward with a projection ``W_hr (P, H)`` and/or layer
    normalisation ``ln = (g_ih, g_hh, g_c, beta_c)`` (either may be None,
    not both; ``h_mask`` None or ``(B, P)``); ``aux`` receives what the
    backward needs (:func:`aux_layout`)."""
    B, T, D = X.shape
    H = cells.shape[2]
    P = H_out.shape[2]
    G = 4 * H
    # with layer norm, x_t W_ih^T is normalised alone: the bias comes after
    gemm(X.reshape(B * T, D), W_ih, gates.reshape(B * T, G),
         bias=b if ln is None else None, b_t=True)
    dtype = np.dtype(X.dtype).type
    lay = aux_layout(H, P if W_hr is not None else 0, ln is not None)
    if h_mask is None:
        h_mask = cuda.device_array((0, 0), X.dtype)
    W_hr, ln = _variants(W_hr, ln, X.dtype)
    lanes = row_lanes(H, P)
    forward_kernel[_launch(B, lanes, X.dtype.itemsize)](
        W_hh, W_hr, b, h0, c0, lengths, H_out, h_n, c_n, gates, cells, h_prev,
        aux, lay, h_mask, *ln, lanes, dtype(LN_EPS), dtype(1), dtype(0))


def lstm_backward_ln_proj(X, W_ih, W_hh, c0, lengths, gates, cells, h_prev,
                          dH_out, dh_n, dc_n, dX, dW_ih, dW_hh, db, dh0, dc0,
                          dgates, input_grad, h_mask, W_hr, dW_hr, ln, dln,
                          aux):
    """BPTT of :func:`lstm_forward_ln_proj`: the time loop in one launch,
    then the weight gradients (``dW_hr`` with a projection, ``dln`` with
    layer norm) and, when ``input_grad``, ``dX``, as products and column
    sums over every row and step in order."""
    B, T, D = X.shape
    H = cells.shape[2]
    P = dh0.shape[1]
    G = 4 * H
    has_proj, has_ln = W_hr is not None, ln is not None
    dtype = np.dtype(X.dtype).type
    lay = aux_layout(H, P if has_proj else 0, has_ln)
    mask = cuda.device_array((0, 0), X.dtype) if h_mask is None else h_mask
    W_hr_k, ln_k = _variants(W_hr, ln, X.dtype)
    lanes = row_lanes(H, P)
    backward_kernel[_launch(B, lanes, X.dtype.itemsize)](
        W_hh, W_hr_k, c0, lengths, gates, cells, dH_out, dh_n, dc_n, dh0, dc0,
        dgates, aux, lay, mask, *ln_k, lanes, dtype(1), dtype(0))
    M = B * T
    A = dgates.reshape(M, G)
    rows = aux.reshape(M, aux.shape[2])
    xn, hn, dax, dah, cn, dcc, _, m, dh, _ = lay
    dA_x = rows[:, dax:dax + G] if has_ln else A
    dA_h = rows[:, dah:dah + G] if has_ln else A
    gemm(dA_x, X.reshape(M, D), dW_ih, a_t=True)
    gemm(dA_h, h_prev.reshape(M, P), dW_hh, a_t=True)
    column_sums(A, db)
    if input_grad:
        gemm(dA_x, W_ih, dX.reshape(M, D))
    if has_proj:
        gemm(rows[:, dh:dh + P], rows[:, m:m + H], dW_hr, a_t=True)
    if has_ln:
        for (start, width), out in zip(((xn, G), (hn, G), (cn, H), (dcc, H)),
                                       dln, strict=True):
            column_sums(rows[:, start:start + width], out)
