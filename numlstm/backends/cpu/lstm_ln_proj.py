"""The LSTM layer with layer normalisation and/or a projection: forward and
full BPTT (CPU).

Two cells that change what the plain time loops of :mod:`.lstm` keep
between the products of a step, so they run in time loops of their own
(the same split of the batch rows over threads, the same register-tiled
products of :mod:`.tile`, the variant work fused into each step):

- a projection (LSTMP, Sak et al. 2014; PyTorch's ``proj_size``): ``m_t =
  o * tanh(c_t)`` of H units, then ``h_t = m_t W_hr^T`` of P, so ``h``,
  ``W_hh (4H, P)`` and the recurrent product are P wide;
- layer normalisation (Ba et al. 2016, as haste's LayerNormLSTM): the two
  products ``x_t W_ih^T`` and ``h_{t-1} W_hh^T`` are normalised apart
  (each over its 4H columns, gains ``g_ih``, ``g_hh``), then the bias is
  added; ``h_t = o * tanh(g_c * LN(c_t) + beta_c)``.

The backward needs what the forward normalised and projected, kept in an
``aux (B, T, aux_width)`` cache (:func:`aux_layout`): the normalised
products (whose room then takes the gradients of the two products, which
differ with layer normalisation), the normalised cell, the three inverse
standard deviations, ``m_t``, and the room for ``dh_t``, from which the
products after the time loop make ``dW_ih``, ``dW_hh`` and ``dW_hr``.
"""

import numba
import numpy as np
from numba import prange

from .._contract import LAYER_NORM_EPS
from ._jit import cpu_kernel, cpu_parallel_kernel
from ._nonliteral import runtime_false, runtime_true, runtime_zero
from ._threads import num_threads
from .activations import layer_norm_grad, lstm_cell_grads, lstm_output_grads
from .fastexp import tanh_fast
from .lstm import gate_grad_scratch
from .lstm_cell import gates_cell_row
from .lstm_weight_grads import column_sums
from .rows import add_into, copy_row, mul_row, zero_row
from .tile import (
    VECTOR_BYTES,
    chunk_rows,
    n_chunks_for,
    padded_width,
    row_length,
    tile_matmul,
    transpose_into,
    transpose_padded,
)

#: the layer normalisation's epsilon (the contract's)
LN_EPS = LAYER_NORM_EPS


@cpu_kernel
def aux_layout(n_hidden, proj_size, layer_norm, itemsize):
    """Column offsets of the parts of an ``aux`` row and its length:
    ``(x, h, c, r, m, dh, width)``: the normalised products (``gate_width``
    each, from ``x`` and ``h``), the normalised cell (from ``c``), the three
    inverse standard deviations (from ``r``), then ``m_t`` and ``dh_t``
    (from ``m`` and ``dh``); a part the cell lacks takes no room."""
    H, P = n_hidden, proj_size
    gw = row_length(padded_width(4 * H, itemsize), itemsize)
    hw = row_length(padded_width(H, itemsize), itemsize)
    pw = row_length(padded_width(P, itemsize), itemsize)
    vw = VECTOR_BYTES // itemsize
    x = 0
    h = x + (gw if layer_norm else 0)
    c = h + (gw if layer_norm else 0)
    r = c + (hw if layer_norm else 0)
    m = r + (vw if layer_norm else 0)
    dh = m + (hw if P > 0 else 0)
    width = dh + (pw if P > 0 else 0)
    return x, h, c, r, m, dh, width


def aux_width(n_hidden, proj_size, layer_norm, dtype):
    """Row length of the ``aux`` cache (0 for the other cells)."""
    if not proj_size and not layer_norm:
        return 0
    return int(aux_layout.py_func(int(n_hidden), int(proj_size),
                                  bool(layer_norm),
                                  np.dtype(dtype).itemsize)[6])


# ---------------------------------------------------------------- row math

# The row sums below run in eight interleaved partial sums, added in a
# fixed order at the end: without fastmath's ``reassoc`` (see _fastmath)
# LLVM keeps a plain loop's sum one serial chain of adds, which left the
# layer-norm cell at three times the plain cell's step (docs/performance.md).

@cpu_kernel
def _row_sum(a, n, shift):
    """``sum(a[:n] - shift)`` in eight partial sums."""
    zero = a.dtype.type(0.0)
    s0 = s1 = s2 = s3 = s4 = s5 = s6 = s7 = zero
    n8 = n // 8 * 8
    for j in range(0, n8, 8):
        s0 += a[j] - shift
        s1 += a[j + 1] - shift
        s2 += a[j + 2] - shift
        s3 += a[j + 3] - shift
        s4 += a[j + 4] - shift
        s5 += a[j + 5] - shift
        s6 += a[j + 6] - shift
        s7 += a[j + 7] - shift
    for j in range(n8, n):
        s0 += a[j] - shift
    return ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7))


@cpu_kernel
def _row_sum_squares(a, n, shift):
    """``sum((a[:n] - shift) ** 2)`` in eight partial sums."""
    zero = a.dtype.type(0.0)
    s0 = s1 = s2 = s3 = s4 = s5 = s6 = s7 = zero
    n8 = n // 8 * 8
    for j in range(0, n8, 8):
        d0, d1 = a[j] - shift, a[j + 1] - shift
        d2, d3 = a[j + 2] - shift, a[j + 3] - shift
        d4, d5 = a[j + 4] - shift, a[j + 5] - shift
        d6, d7 = a[j + 6] - shift, a[j + 7] - shift
        s0 += d0 * d0
        s1 += d1 * d1
        s2 += d2 * d2
        s3 += d3 * d3
        s4 += d4 * d4
        s5 += d5 * d5
        s6 += d6 * d6
        s7 += d7 * d7
    for j in range(n8, n):
        d = a[j] - shift
        s0 += d * d
    return ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7))


@cpu_kernel
def _row_dot(a, b, n):
    """``sum(a[:n] * b[:n])`` in eight partial sums."""
    zero = a.dtype.type(0.0)
    s0 = s1 = s2 = s3 = s4 = s5 = s6 = s7 = zero
    n8 = n // 8 * 8
    for j in range(0, n8, 8):
        s0 += a[j] * b[j]
        s1 += a[j + 1] * b[j + 1]
        s2 += a[j + 2] * b[j + 2]
        s3 += a[j + 3] * b[j + 3]
        s4 += a[j + 4] * b[j + 4]
        s5 += a[j + 5] * b[j + 5]
        s6 += a[j + 6] * b[j + 6]
        s7 += a[j + 7] * b[j + 7]
    for j in range(n8, n):
        s0 += a[j] * b[j]
    return ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7))


@cpu_kernel
def _normalise(a, n, out, eps):
    """``out[:n] = (a[:n] - mean) / sqrt(var + eps)`` (biased variance);
    returns ``1 / sqrt(var + eps)``."""
    inv_n = out.dtype.type(1.0) / out.dtype.type(n)
    mean = _row_sum(a, n, out.dtype.type(0.0)) * inv_n
    var = _row_sum_squares(a, n, mean) * inv_n
    rstd = out.dtype.type(1.0) / np.sqrt(var + eps)
    for j in range(n):
        out[j] = (a[j] - mean) * rstd
    return rstd


@cpu_kernel
def _normalise_back(dy, xhat, rstd, n, out):
    """The gradient of :func:`_normalise`'s input from ``dy``, its
    output's: ``rstd (dy - mean(dy) - xhat mean(dy xhat))``; ``out`` may be
    ``xhat`` (each element is read before it is written)."""
    inv_n = out.dtype.type(1.0) / out.dtype.type(n)
    m1 = _row_sum(dy, n, out.dtype.type(0.0)) * inv_n
    m2 = _row_dot(dy, xhat, n) * inv_n
    for j in range(n):
        out[j] = layer_norm_grad(dy[j], xhat[j], m1, m2, rstd)


@cpu_kernel
def _ln_preactivations(rx, rh, xn, hn, g_ih, g_hh, n, eps):
    """Normalise the two products of a row (``rx``, ``rh``) into ``xn`` and
    ``hn`` and leave ``g_ih xn + g_hh hn`` in ``rx``; returns the two
    inverse standard deviations."""
    r_x = _normalise(rx, n, xn, eps)
    r_h = _normalise(rh, n, hn, eps)
    for j in range(n):
        rx[j] = g_ih[j] * xn[j] + g_hh[j] * hn[j]
    return r_x, r_h


@cpu_kernel
def _ln_output(g, c, chat, g_c, beta_c, m, H, eps):
    """``m = o * tanh(g_c * LN(c) + beta_c)`` of a row, the normalised cell
    into ``chat``; returns its inverse standard deviation."""
    r_c = _normalise(c, H, chat, eps)
    for j in range(H):
        m[j] = g[3 * H + j] * tanh_fast(g_c[j] * chat[j] + beta_c[j])
    return r_c


@cpu_kernel
def _cell_grads_row(dm, g, c, c_prev, dc, chat, g_c, beta_c, r_c, work,
                    dgc, dbc, H):
    """The gate gradients of a row in place of its gates ``g`` from ``dm``,
    the gradient of ``m_t = o tanh(cc)`` (``cc = c``, or ``g_c chat +
    beta_c`` with layer norm, whose gradients ``dgc``, ``dbc`` this adds
    to); ``dc`` holds the gradient of ``c_t`` from step ``t + 1`` on entry
    and that of ``c_{t-1}`` on exit; ``work`` is an H-row of scratch."""
    one = g.dtype.type(1.0)
    zero = g.dtype.type(0.0)
    if chat is None:
        for j in range(H):
            g[3 * H + j], dc[j] = lstm_output_grads(
                dm[j], dc[j], g[3 * H + j], tanh_fast(c[j]), one)
    else:
        for j in range(H):
            g[3 * H + j], dcc = lstm_output_grads(
                dm[j], zero, g[3 * H + j],
                tanh_fast(g_c[j] * chat[j] + beta_c[j]), one)
            dgc[j] += dcc * chat[j]
            dbc[j] += dcc
            work[j] = dcc * g_c[j]
        _normalise_back(work, chat, r_c, H, work)
        add_into(work[:H], dc)
    for j in range(H):
        g[j], g[H + j], g[2 * H + j], dc[j] = lstm_cell_grads(
            dc[j], g[j], g[H + j], g[2 * H + j], c_prev[j], one)


@cpu_kernel
def _ln_product_grads(G, xn, hn, r_x, r_h, g_ih, g_hh, dg_ih, dg_hh, work, n):
    """With layer norm, the gradients of the two products of a row from its
    gate gradients ``G``: into ``xn`` and ``hn`` in place of the normalised
    products, after adding to the gains' gradients."""
    for j in range(n):
        dg_ih[j] += G[j] * xn[j]
        dg_hh[j] += G[j] * hn[j]
        work[j] = G[j] * g_ih[j]
    _normalise_back(work, xn, r_x, n, xn)
    for j in range(n):
        work[j] = G[j] * g_hh[j]
    _normalise_back(work, hn, r_h, n, hn)


# ----------------------------------------------------------------- forward

@cpu_kernel
def _step_row(s, t, rx, rh, b, gates, cells, c_n, aux, lay, g_ih, g_hh, g_c,
              beta_c, m, eps):
    """Step ``t`` of a live row ``s`` from its products ``rx`` (and ``rh``
    with layer norm): gates, ``c_t`` (carried in ``c_n``) and ``m``, the
    unit outputs ``o tanh(.)``; with layer norm the normalised values and
    their inverse standard deviations into ``aux``."""
    H = cells.shape[2]
    x, h, c, r = lay[0], lay[1], lay[2], lay[3]
    a = aux[s, t]
    if g_ih.size > 0:
        a[r], a[r + 1] = _ln_preactivations(rx[s], rh[s], a[x:], a[h:], g_ih,
                                            g_hh, 4 * H, eps)
    gates_cell_row(rx[s], b, gates[s, t], c_n[s], cells[s, t], m, H)
    copy_row(cells[s, t], c_n[s])
    if g_ih.size > 0:
        a[r + 2] = _ln_output(gates[s, t], cells[s, t], a[c:], g_c, beta_c, m,
                              H, eps)


@cpu_kernel
def _forward_rows(s0, s1, X, W_ihT, W_hhT, W_hrT, b, lengths, H_out, h_n,
                  c_n, gates, cells, h_prev, aux, lay, rx, rh, hp, h_mask,
                  g_ih, g_hh, g_c, beta_c, eps):
    """The time loop of :func:`lstm_forward_ln_proj` for the rows ``s0 <= s
    < s1``."""
    T, D = X.shape[1], X.shape[2]
    P = h_n.shape[1]
    H = cells.shape[2]
    N = padded_width(4 * H, X.itemsize)
    mo = lay[4]
    for t in range(T):
        for s in range(s0, s1):  # h_{t-1}, as the product reads it
            if t >= lengths[s]:
                zero_row(h_prev[s, t])
            elif h_mask.size > 0:  # recurrent dropout
                mul_row(h_n[s], h_mask[s], h_prev[s, t])
            else:
                copy_row(h_n[s], h_prev[s, t])
        tile_matmul(X[:, t], W_ihT, rx, s0, s1, N, D, runtime_false(s0))
        if g_ih.size == 0:  # one sum of the two products
            tile_matmul(h_prev[:, t], W_hhT, rx, s0, s1, N, P,
                        runtime_true(s0))
        else:  # layer norm: each normalised alone
            tile_matmul(h_prev[:, t], W_hhT, rh, s0, s1, N, P,
                        runtime_false(s0))
        for s in range(s0, s1):
            if t < lengths[s]:
                if W_hrT.size == 0:
                    _step_row(s, t, rx, rh, b, gates, cells, c_n, aux, lay,
                              g_ih, g_hh, g_c, beta_c, H_out[s, t], eps)
                    copy_row(H_out[s, t], h_n[s])
                else:
                    _step_row(s, t, rx, rh, b, gates, cells, c_n, aux, lay,
                              g_ih, g_hh, g_c, beta_c, aux[s, t, mo:mo + H],
                              eps)
            else:  # padding: the state is carried unchanged
                zero_row(gates[s, t])
                copy_row(c_n[s], cells[s, t])
                zero_row(H_out[s, t])
                if W_hrT.size > 0:
                    zero_row(aux[s, t, mo:mo + H])
        if W_hrT.size > 0:  # h_t = m_t W_hr^T
            tile_matmul(aux[:, t, mo:], W_hrT, hp, s0, s1,
                        padded_width(P, X.itemsize), H, runtime_false(s0))
            for s in range(s0, s1):
                if t < lengths[s]:
                    copy_row(hp[s, :P], H_out[s, t])
                    copy_row(hp[s, :P], h_n[s])


@cpu_parallel_kernel
def _forward_kernel(X, W_ihT, W_hhT, W_hrT, b, h0, c0, lengths, H_out, h_n,
                    c_n, gates, cells, h_prev, aux, lay, rx, rh, hp, h_mask,
                    g_ih, g_hh, g_c, beta_c, eps):
    """:func:`_forward_rows` over one chunk of rows per thread."""
    B = X.shape[0]
    for s in range(B):
        copy_row(h0[s], h_n[s])
        copy_row(c0[s], c_n[s])
    n_chunks = n_chunks_for(B, num_threads())
    if n_chunks == 1:  # no thread launch for a small batch
        _forward_rows(runtime_zero(B), B, X, W_ihT, W_hhT, W_hrT, b, lengths,
                      H_out, h_n, c_n, gates, cells, h_prev, aux, lay, rx, rh,
                      hp, h_mask, g_ih, g_hh, g_c, beta_c, eps)
    else:
        for c in prange(n_chunks):
            s0, s1 = chunk_rows(c, n_chunks, B)
            _forward_rows(s0, s1, X, W_ihT, W_hhT, W_hrT, b, lengths, H_out,
                          h_n, c_n, gates, cells, h_prev, aux, lay, rx, rh, hp,
                          h_mask, g_ih, g_hh, g_c, beta_c, eps)


def _layout(cells, h_n, W_hr, ln, itemsize):
    H = cells.shape[2]
    P = h_n.shape[1] if W_hr is not None else 0
    return aux_layout.py_func(H, P, ln is not None, itemsize)


def _ln_arrays(ln, dtype):
    """``ln``'s four arrays, or four empty ones for a cell without layer
    norm. The kernels tell a projection, layer norm and a recurrent
    dropout mask by their arrays' sizes, at run time, rather than by None,
    which would compile each combination apart: all eight are one
    specialisation a dtype (the CI's cold compile), and the few branches
    per row and step cost nothing measurable."""
    if ln is None:
        return (np.zeros(0, dtype),) * 4
    return ln


def _scratch(B, n, dtype):
    """Rows of ``n`` values padded for :func:`.tile.tile_matmul`."""
    itemsize = np.dtype(dtype).itemsize
    return np.empty((B, row_length.py_func(padded_width.py_func(n, itemsize),
                                           itemsize)), dtype)


def lstm_forward_ln_proj(X, W_ih, W_hh, b, h0, c0, lengths, H_out, h_n, c_n,
                         gates, cells, h_prev, h_mask, W_hr, ln, aux):
    """Run one LSTM layer with a projection ``W_hr (P, H)`` and/or layer
    normalisation ``ln = (g_ih, g_hh, g_c, beta_c)`` forward (the contract's
    ``lstm_forward``; either may be None, not both); ``aux`` receives what
    the backward needs (:func:`aux_layout`)."""
    B = X.shape[0]
    H = cells.shape[2]
    dt = X.dtype
    none = np.zeros((0, 0), dt)
    g_ih, g_hh, g_c, beta_c = _ln_arrays(ln, dt)
    _forward_kernel(
        X, transpose_padded(W_ih), transpose_padded(W_hh),
        none if W_hr is None else transpose_padded(W_hr), b, h0, c0, lengths,
        H_out, h_n, c_n, gates, cells, h_prev, aux,
        _layout(cells, h_n, W_hr, ln, dt.itemsize), _scratch(B, 4 * H, dt),
        none if ln is None else _scratch(B, 4 * H, dt),
        none if W_hr is None else _scratch(B, h_n.shape[1], dt),
        none if h_mask is None else h_mask, g_ih, g_hh, g_c, beta_c,
        dt.type(LN_EPS))


# ---------------------------------------------------------------- backward

@cpu_kernel
def _backward_rows(s0, s1, X, W_ihP, W_hhP, W_hrP, c0, lengths, cells,
                   dH_out, dX, dh0, dc0, G, aux, lay, dm, dxb, dhb, work,
                   h_mask, g_ih, g_hh, g_c, beta_c, dln_p, input_grad):
    """The time loop of :func:`lstm_backward_ln_proj` for the rows ``s0 <= s
    < s1``; the layer-norm parameters' gradients added into ``dln_p``."""
    T, D = X.shape[1], X.shape[2]
    P = dh0.shape[1]
    H = dc0.shape[1]
    G4 = 4 * H
    x, h, c, r, do = lay[0], lay[1], lay[2], lay[3], lay[5]
    for t in range(T - 1, -1, -1):
        # the gradient reaching h_t (with a projection, kept for dW_hr and
        # taken back through W_hr to m_t)
        for s in range(s0, s1):
            live = t < lengths[s]
            if W_hrP.size == 0:
                if live:
                    copy_row(dh0[s], dm[s, :H])
                    add_into(dH_out[s, t], dm[s, :H])
            elif live:
                copy_row(dh0[s], aux[s, t, do:do + P])
                add_into(dH_out[s, t], aux[s, t, do:do + P])
            else:
                zero_row(aux[s, t, do:do + P])
        if W_hrP.size > 0:
            tile_matmul(aux[:, t, do:], W_hrP, dm, s0, s1,
                        padded_width(H, X.itemsize), P, runtime_false(s0))
        for s in range(s0, s1):
            if t < lengths[s]:
                c_prev = cells[s, t - 1] if t > 0 else c0[s]
                a = aux[s, t]
                if g_ih.size == 0:
                    _cell_grads_row(dm[s], G[s, t], cells[s, t], c_prev, dc0[s],
                                    None, None, None, 0.0, work[s], None, None,
                                    H)
                else:
                    _cell_grads_row(dm[s], G[s, t], cells[s, t], c_prev, dc0[s],
                                    a[c:c + H], g_c, beta_c, a[r + 2], work[s],
                                    dln_p[2 * G4:2 * G4 + H],
                                    dln_p[2 * G4 + H:], H)
                    _ln_product_grads(G[s, t], a[x:x + G4], a[h:h + G4], a[r],
                                      a[r + 1], g_ih, g_hh, dln_p[:G4],
                                      dln_p[G4:2 * G4], work[s], G4)
            else:
                zero_row(G[s, t, :G4])
                if g_ih.size > 0:
                    zero_row(aux[s, t, x:x + G4])
                    zero_row(aux[s, t, h:h + G4])
        # dx_t = dA_x W_ih, dh_{t-1} = dA_h W_hh (dA_x = dA_h = the gate
        # gradients without layer norm)
        if g_ih.size == 0:
            if input_grad:
                tile_matmul(G[:, t], W_ihP, dxb, s0, s1,
                            padded_width(D, X.itemsize), G4, runtime_false(s0))
            tile_matmul(G[:, t], W_hhP, dhb, s0, s1,
                        padded_width(P, X.itemsize), G4, runtime_false(s0))
        else:
            if input_grad:
                tile_matmul(aux[:, t, x:], W_ihP, dxb, s0, s1,
                            padded_width(D, X.itemsize), G4, runtime_false(s0))
            tile_matmul(aux[:, t, h:], W_hhP, dhb, s0, s1,
                        padded_width(P, X.itemsize), G4, runtime_false(s0))
        for s in range(s0, s1):
            if t < lengths[s]:
                if input_grad:
                    copy_row(dxb[s, :D], dX[s, t])
                if h_mask.size > 0:
                    mul_row(dhb[s, :P], h_mask[s], dh0[s])
                else:
                    copy_row(dhb[s, :P], dh0[s])
            elif input_grad:
                zero_row(dX[s, t])


@cpu_parallel_kernel
def _backward_kernel(X, W_ihP, W_hhP, W_hrP, c0, lengths, cells, dH_out,
                     dh_n, dc_n, dX, dh0, dc0, G, aux, lay, dm, dxb, dhb, work,
                     h_mask, g_ih, g_hh, g_c, beta_c, dln_p, input_grad):
    """:func:`_backward_rows` over one chunk of rows per thread (``dln_p``
    holds one row of partial sums per chunk)."""
    B = X.shape[0]
    for s in range(B):
        copy_row(dh_n[s], dh0[s])
        copy_row(dc_n[s], dc0[s])
    n_chunks = dln_p.shape[0]
    if n_chunks == 1:
        _backward_rows(runtime_zero(B), B, X, W_ihP, W_hhP, W_hrP, c0, lengths,
                       cells, dH_out, dX, dh0, dc0, G, aux, lay, dm, dxb, dhb,
                       work, h_mask, g_ih, g_hh, g_c, beta_c, dln_p[0],
                       input_grad)
    else:
        for k in prange(n_chunks):
            s0, s1 = chunk_rows(k, n_chunks, B)
            _backward_rows(s0, s1, X, W_ihP, W_hhP, W_hrP, c0, lengths, cells,
                           dH_out, dX, dh0, dc0, G, aux, lay, dm, dxb, dhb,
                           work, h_mask, g_ih, g_hh, g_c, beta_c, dln_p[k],
                           input_grad)


@cpu_parallel_kernel
def _weight_grads(X, h_prev, G, aux, lay, has_ln, has_proj, dW_ih, dW_hh, db,
                  dW_hr):
    """``dW_ih = A_x^T X``, ``dW_hh = A_h^T H_prev`` (``A_x``, ``A_h``: the
    gradients of the two products, ``G`` itself without layer norm), ``db``
    the column sums of ``G`` and, with a projection, ``dW_hr = dH^T M``,
    each a sum over all ``B * T`` steps in order, split over the output
    rows between threads."""
    B, T, D = X.shape
    P = h_prev.shape[2]
    N = B * T
    n4 = db.shape[0]
    it = X.itemsize
    x, h, _, _, m, dh, _ = lay
    A2 = aux.reshape(N, aux.shape[2])
    G2 = G.reshape(N, G.shape[2])
    A_x = A2[:, x:] if has_ln else G2[:, 0:]
    A_h = A2[:, h:] if has_ln else G2[:, 0:]
    # the transposed (features, B T) operands as 'A' views, whatever their
    # sizes (one tile_matmul specialisation, see lstm._forward_rows)
    XT = X.reshape(N, D).T[:D]
    HT = h_prev.reshape(N, P).T[:P]
    cols = padded_width(n4, it)
    tX = np.empty((D, row_length(cols, it)), X.dtype)
    tH = np.empty((P, row_length(cols, it)), X.dtype)
    H = dW_hr.shape[1]
    tR = np.empty((dW_hr.shape[0], row_length(padded_width(H, it), it)),
                  X.dtype)
    n_chunks = n_chunks_for(max(D, P, n4), num_threads())
    for c in prange(n_chunks):
        k0, k1 = chunk_rows(c, n_chunks, D)
        tile_matmul(XT, A_x, tX, k0, k1, cols, N, runtime_false(k0))
        k0, k1 = chunk_rows(c, n_chunks, P)
        tile_matmul(HT, A_h, tH, k0, k1, cols, N, runtime_false(k0))
        if has_proj:
            tile_matmul(A2[:, dh:dh + P].T[:P], A2[:, m:], tR, k0, k1,
                        padded_width(H, it), N, runtime_false(k0))
        j0, j1 = chunk_rows(c, n_chunks, n4)
        column_sums(j0, j1, G, db)
    transpose_into(tX[:, :n4], dW_ih, runtime_zero(D))
    transpose_into(tH[:, :n4], dW_hh, runtime_zero(D))
    for p in range(dW_hr.shape[0]):
        copy_row(tR[p, :H], dW_hr[p])


@cpu_kernel
def _padded_rows(W):
    """``W (M, K)`` with its rows zero-padded for :func:`.tile.tile_matmul`
    (the ``W`` operand of a product ``A @ W``)."""
    M, K = W.shape
    out = np.zeros((M, row_length(padded_width(K, W.itemsize), W.itemsize)),
                   W.dtype)
    for j in range(M):
        copy_row(W[j], out[j, :K])
    return out


def lstm_backward_ln_proj(X, W_ih, W_hh, c0, lengths, gates, cells, h_prev,
                          dH_out, dh_n, dc_n, dX, dW_ih, dW_hh, db, dh0, dc0,
                          dgates, input_grad, h_mask, W_hr, dW_hr, ln, dln,
                          aux):
    """BPTT of :func:`lstm_forward_ln_proj` (the contract's
    ``lstm_backward``), consuming ``aux``: the time loop with the rows split
    over threads, then the weight gradients as products over all steps."""
    B, T, D = X.shape
    H = cells.shape[2]
    P = dh_n.shape[1]
    dt = X.dtype
    G4 = 4 * H
    G = gate_grad_scratch(dgates, gates, X, H, 4)
    lay = _layout(cells, dh_n, W_hr, ln, dt.itemsize)
    none = np.zeros((0, 0), dt)
    g_ih, g_hh, g_c, beta_c = _ln_arrays(ln, dt)
    n_chunks = n_chunks_for.py_func(B, numba.get_num_threads())
    dln_p = np.zeros((n_chunks, 10 * H if ln is not None else 0), dt)
    _backward_kernel(
        X, _padded_rows(W_ih), _padded_rows(W_hh),
        none if W_hr is None else _padded_rows(W_hr), c0, lengths, cells,
        dH_out, dh_n, dc_n, dX, dh0, dc0, G, aux, lay, _scratch(B, H, dt),
        _scratch(B, D, dt), _scratch(B, P, dt), np.empty((B, G4), dt),
        none if h_mask is None else h_mask,
        g_ih, g_hh, g_c, beta_c, dln_p, bool(input_grad))
    _weight_grads(X, h_prev, G, aux, lay, ln is not None, W_hr is not None,
                  dW_ih, dW_hh, db, none if dW_hr is None else dW_hr)
    if ln is not None:
        sums = dln_p.sum(axis=0) if n_chunks > 1 else dln_p[0]
        for k, part in enumerate(dln):
            n = part.shape[0]
            off = (0, G4, 2 * G4, 2 * G4 + H)[k]
            part[...] = sums[off:off + n]
