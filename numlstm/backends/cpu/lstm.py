"""One LSTM layer over a batch of sequences: forward and full BPTT (CPU).

Layout is batch-first, ``X`` of shape ``(B, T, D)``, with the canonical
(PyTorch) weights: ``W_ih (4H, D)``, ``W_hh (4H, H)``, ``b (4H,)``, gate
blocks in the order i, f, g, o.

How the work is laid out (see docs/architecture.md, "Kernel performance"):
the rows of the batch are independent through time, so each kernel splits
them into one chunk per thread (``prange``) and runs the whole time loop of
its chunk without synchronising with the other threads. Each step computes
``[x_t, h_{t-1}] @ [W_ih, W_hh]^T`` for the chunk's rows with a hand-written
register-blocked product (:mod:`.matmul`), followed by vectorised gate math
(:mod:`.fastexp`). The backward step computes
``dgates_t @ [W_ih, W_hh] = [dx_t, dh_{t-1}]`` the same way, and stores
``dgates`` and ``[x_t, h_{t-1}]`` transposed, so that ``dW_ih``, ``dW_hh``
and ``db`` are one blocked product (split over the gate rows) after the
loop. No BLAS is called: a multi-threaded BLAS call leaves its worker
threads spinning, which starves the threads of the next parallel region.

Ragged batches: ``lengths[b]`` is the number of real steps of sequence ``b``.
At a padded step (``t >= lengths[b]``) the state is carried unchanged, the
output is zero, and the step receives and passes on no gradient of its own:
``dH_out`` there is ignored, so padding never leaks into a loss.

Kernels only read their inputs and write their outputs; they raise nothing,
and allocate only a few work arrays once per call, before any time loop.
All arrays must be C-contiguous and of one float dtype (checked by the
caller, see :mod:`numlstm.backends.cpu`).
"""

import numpy as np
from numba import prange

from ._jit import cpu_kernel, cpu_parallel_kernel
from ._threads import num_threads
from .fastexp import tanh_fast
from .matmul import chunk_rows, matmul_nt_rows, n_chunks_for

#: ``_ZERO * n`` and ``s1 < s0`` below are a 0 and a False that Numba does not
#: type as literals, so that every call site of a helper shares one compiled
#: specialisation (a literal 0 or False argument compiles another one).
_ZERO = 0

# The gate math of one row is a few simple loops over contiguous 1-D rows, each
# with few arrays, so that LLVM vectorises every one of them.


@cpu_kernel
def _activate_row(r, b, g, H):
    """``g = act(r + b)``: sigmoid on the i, f, o blocks, tanh on the g block.

    One branch-free loop over all four blocks, so it vectorises as one:
    ``sigmoid(a) = (1 + tanh(a / 2)) / 2``, and the g block takes
    ``tanh(a)`` through the same expression with other constants (selects on
    the index, not branches).
    """
    one = g.dtype.type(1.0)
    half = g.dtype.type(0.5)
    zero = g.dtype.type(0.0)
    for j in range(4 * H):
        is_g = (j >= 2 * H) & (j < 3 * H)
        scale = one if is_g else half
        shift = zero if is_g else half
        g[j] = tanh_fast(scale * (r[j] + b[j])) * scale + shift


@cpu_kernel
def _cell_row(g, c_prev, c_out, h_out, H):
    """``c_out = f * c_prev + i * g`` and ``h_out = o * tanh(c_out)``."""
    for j in range(H):
        c = g[H + j] * c_prev[j] + g[j] * g[2 * H + j]
        c_out[j] = c
        h_out[j] = g[3 * H + j] * tanh_fast(c)


@cpu_kernel
def _copy_row(src, dst):
    for j in range(src.size):
        dst[j] = src[j]


@cpu_kernel
def _zero_row(dst):
    for j in range(dst.size):
        dst[j] = 0.0


@cpu_kernel
def _concat_weights(W_ih, W_hh, W_cat):
    """``W_cat[:, :D + H] = [W_ih, W_hh]`` (``W_cat`` may have more columns)."""
    D = W_ih.shape[1]
    for j in range(W_ih.shape[0]):
        _copy_row(W_ih[j], W_cat[j, :D])
        _copy_row(W_hh[j], W_cat[j, D:D + W_hh.shape[1]])


@cpu_kernel
def _forward_rows(s0, s1, X, W_cat, b, lengths, H_out, h_n, c_n, gates, cells,
                  h_prev, rec, xh):
    """The time loop of :func:`lstm_forward` for the rows ``s0 <= s < s1``."""
    T, D = X.shape[1], X.shape[2]
    H = h_n.shape[1]
    for t in range(T):
        for s in range(s0, s1):
            _copy_row(X[s, t], xh[s, :D])
        matmul_nt_rows(xh, W_cat, rec, s0, s1, _ZERO * s0, xh.shape[1], s1 < s0)
        for s in range(s0, s1):
            if t < lengths[s]:
                g = gates[s, t]
                _activate_row(rec[s], b, g, H)
                _copy_row(h_n[s], h_prev[s, t])
                _cell_row(g, c_n[s], cells[s, t], H_out[s, t], H)
                _copy_row(cells[s, t], c_n[s])
                _copy_row(H_out[s, t], h_n[s])
                _copy_row(H_out[s, t], xh[s, D:D + H])
            else:
                _zero_row(gates[s, t])
                _copy_row(c_n[s], cells[s, t])
                _zero_row(h_prev[s, t])
                _zero_row(H_out[s, t])


@cpu_parallel_kernel
def lstm_forward(X, W_ih, W_hh, b, h0, c0, lengths,
                 H_out, h_n, c_n, gates, cells, h_prev, rec):
    """Run one LSTM layer forward over a batch.

    Parameters
    ----------
    X : (B, T, D) input sequences.
    W_ih, W_hh, b : weights ``(4H, D)``, ``(4H, H)``, bias ``(4H,)``.
    h0, c0 : (B, H) initial state.
    lengths : (B,) int64, real steps of each sequence (``1 <= lengths <= T``).
    H_out : (B, T, H) out, hidden state of every step (0 at padded steps).
    h_n, c_n : (B, H) out, state after each sequence's last real step.
    gates : (B, T, 4H) out, activated gates i, f, g, o (kept for backward).
    cells : (B, T, H) out, cell state ``c_t`` of every step (for backward).
    h_prev : (B, T, H) out, ``h_{t-1}`` of every step (for backward).
    rec : (B, 4H) scratch for the gate pre-activations of one step.
    """
    B, T, D = X.shape
    H = W_hh.shape[1]
    # work arrays, once per call: the stacked weights and, per row, the
    # stacked step input [x_t, h_{t-1}]
    W_cat = np.empty((4 * H, D + H), X.dtype)
    _concat_weights(W_ih, W_hh, W_cat)
    xh = np.empty((B, D + H), X.dtype)
    for s in range(B):
        _copy_row(h0[s], h_n[s])
        _copy_row(c0[s], c_n[s])
        _copy_row(h0[s], xh[s, D:D + H])
    n_chunks = n_chunks_for(B, num_threads())
    if n_chunks == 1:  # no thread launch for a batch of one or two
        _forward_rows(_ZERO * B, B, X, W_cat, b, lengths, H_out, h_n, c_n, gates,
                      cells, h_prev, rec, xh)
    else:
        for c in prange(n_chunks):
            s0, s1 = chunk_rows(c, n_chunks, B)
            _forward_rows(s0, s1, X, W_cat, b, lengths, H_out, h_n, c_n, gates,
                          cells, h_prev, rec, xh)


@cpu_kernel
def _gate_grads_row(dh_next, dH_t, g, c, c_prev, dc, dg_t, H):
    """Gate pre-activation gradients of one row of one step into ``dg_t``.

    ``dc`` holds the gradient of ``c_t`` from step ``t + 1`` on entry and
    that of ``c_{t-1}`` on exit.
    """
    one = g.dtype.type(1.0)
    for j in range(H):
        dh = dh_next[j] + dH_t[j]
        o = g[3 * H + j]
        tc = tanh_fast(c[j])
        dcj = dc[j] + dh * o * (one - tc * tc)
        dg_t[3 * H + j] = dh * tc * o * (one - o)
        dc[j] = dcj
    for j in range(H):
        dcj = dc[j]
        i = g[j]
        f = g[H + j]
        gg = g[2 * H + j]
        dg_t[j] = dcj * gg * i * (one - i)
        dg_t[H + j] = dcj * c_prev[j] * f * (one - f)
        dg_t[2 * H + j] = dcj * i * (one - gg * gg)
        dc[j] = dcj * f


@cpu_kernel
def _store_columns(src, K, s0, s1, dst, col):
    """``dst[k, col + s] = src[s, k]`` for ``k < K`` and ``s0 <= s < s1``.

    A transpose in blocks of 16 ``k``: each source row is read along ``k``
    (reading down a column of ``src`` hits one cache set when its row stride
    is a multiple of 4 KiB), and each destination row receives a contiguous
    run of ``s``.
    """
    for k0 in range(0, K, 16):
        n = min(16, K - k0)
        for s in range(s0, s1):
            row = src[s, k0:k0 + n]
            c = col + s
            for k in range(n):
                dst[k0 + k, c] = row[k]


@cpu_kernel
def _backward_rows(s0, s1, X, W_catT, c0, lengths, gates, cells, h_prev,
                   dH_out, dX, dh0, dc0, dg, dxh, GT, XHT):
    """The time loop of :func:`lstm_backward` for the rows ``s0 <= s < s1``."""
    B, T, D = X.shape
    H = dh0.shape[1]
    for t in range(T - 1, -1, -1):
        for s in range(s0, s1):
            if t < lengths[s]:
                c_prev = cells[s, t - 1] if t > 0 else c0[s]
                _gate_grads_row(dh0[s], dH_out[s, t], gates[s, t], cells[s, t],
                                c_prev, dc0[s], dg[s, :4 * H], H)
            else:
                _zero_row(dg[s, :4 * H])
        # [dx_t, dh_{t-1}] = dgates_t @ [W_ih, W_hh]
        matmul_nt_rows(dg, W_catT, dxh, s0, s1, _ZERO * s0, dg.shape[1], s1 < s0)
        for s in range(s0, s1):
            if t < lengths[s]:
                _copy_row(dxh[s, :D], dX[s, t])
                _copy_row(dxh[s, D:], dh0[s])
                _copy_row(X[s, t], dxh[s, :D])  # dxh now holds [x_t, h_{t-1}]
                _copy_row(h_prev[s, t], dxh[s, D:])
            else:
                _zero_row(dX[s, t])
                _zero_row(dxh[s])
        # columns t*B + s of dgates^T and [X, h_prev]^T, for the weight grads
        _store_columns(dg, 4 * H, s0, s1, GT, t * B)
        _store_columns(dxh, D + H, s0, s1, XHT, t * B)


@cpu_kernel
def _weight_grads_rows(j0, j1, GT, XHT, dW_cat, db):
    """``dW_cat = GT @ XHT^T`` and ``db = GT.sum(1)`` on rows ``j0 .. j1 - 1``.

    The sum over the ``B * T`` columns runs in blocks that stay in cache.
    """
    n = GT.shape[1]
    kb = 512
    for k0 in range(0, n, kb):
        matmul_nt_rows(GT, XHT, dW_cat, j0, j1, k0, min(k0 + kb, n), k0 > 0)
    for j in range(j0, j1):
        acc = GT.dtype.type(0.0)
        g = GT[j]
        for k in range(n):
            acc += g[k]
        db[j] = acc


@cpu_parallel_kernel
def lstm_backward(X, W_ih, W_hh, c0, lengths, gates, cells, h_prev,
                  dH_out, dh_n, dc_n,
                  dX, dW_ih, dW_hh, db, dh0, dc0, dgates, dgates_t, drec):
    """Backpropagate through one LSTM layer (full BPTT).

    Parameters
    ----------
    X, W_ih, W_hh, c0, lengths : as given to :func:`lstm_forward`.
    gates, cells, h_prev : as written by :func:`lstm_forward`.
    dH_out : (B, T, H) gradient of the loss with respect to ``H_out``.
    dh_n, dc_n : (B, H) gradient with respect to the final state.
    dX : (B, T, D) out.
    dW_ih, dW_hh, db : out, gradients of the weights (overwritten).
    dh0, dc0 : (B, H) out, gradient with respect to the initial state.
    dgates : (B, T, 4H) scratch (used as the gate gradients, transposed).
    dgates_t, drec : (B, 4H), (B, H) scratch (unused: the kernel keeps its
        own padded buffers; kept for the shared kernel signature).
    """
    B, T, D = X.shape
    H = W_hh.shape[1]
    dtype = X.dtype
    # dh0 and dc0 carry the running gradient of (h_t, c_t) back in time.
    for s in range(B):
        _copy_row(dh_n[s], dh0[s])
        _copy_row(dc_n[s], dc0[s])
    # work arrays, once per call, before the time loop
    # The rows of dg (the gate gradients of one step) and of W_catT are
    # padded with zeros when 4H values would make them a multiple of 2 KiB
    # long: rows 4 KiB apart all fall in the same L1 cache sets.
    K4 = 4 * H
    if (K4 * X.itemsize) % 2048 == 0:
        K4 += 16
    W_catT = np.zeros((D + H, K4), dtype)  # [W_ih, W_hh]^T
    for j in range(4 * H):
        for k in range(D):
            W_catT[k, j] = W_ih[j, k]
        for k in range(H):
            W_catT[D + k, j] = W_hh[j, k]
    dg = np.zeros((B, K4), dtype)
    dxh = np.empty((B, D + H), dtype)
    GT = dgates.reshape(4 * H, T * B)  # the scratch, as (4H, T*B)
    XHT = np.empty((D + H, T * B), dtype)
    n_chunks = n_chunks_for(B, num_threads())
    if n_chunks == 1:
        _backward_rows(_ZERO * B, B, X, W_catT, c0, lengths, gates, cells, h_prev,
                       dH_out, dX, dh0, dc0, dg, dxh, GT, XHT)
    else:
        for c in prange(n_chunks):
            s0, s1 = chunk_rows(c, n_chunks, B)
            _backward_rows(s0, s1, X, W_catT, c0, lengths, gates, cells,
                           h_prev, dH_out, dX, dh0, dc0, dg, dxh, GT, XHT)
    dW_cat = np.empty((4 * H, D + H), dtype)
    n_chunks = n_chunks_for(4 * H, num_threads())
    for c in prange(n_chunks):
        j0, j1 = chunk_rows(c, n_chunks, 4 * H)
        _weight_grads_rows(j0, j1, GT, XHT, dW_cat, db)
    for j in range(4 * H):
        _copy_row(dW_cat[j, :D], dW_ih[j])
        _copy_row(dW_cat[j, D:], dW_hh[j])
