"""One LSTM layer over a batch of sequences: forward and full BPTT (CPU).

Layout is batch-first, ``X`` of shape ``(B, T, D)``, with the canonical
(PyTorch) weights: ``W_ih (4H, D)``, ``W_hh (4H, H)``, ``b (4H,)``, gate
blocks in the order i, f, g, o.

How the work is laid out (see docs/performance.md, "Kernel design"): the
rows of the batch are independent through time, so each kernel splits them
into one chunk per thread (``prange``) and runs the whole time loop of its
chunk without synchronising with the other threads. Each step computes
``[x_t, h_{t-1}] @ [W_ih, W_hh]^T`` for the chunk's rows with the
register-tiled product of :mod:`.tile` (the input projection rides along
with the recurrent product), followed by vectorised gate math
(:mod:`.fastexp`). The backward step computes
``dgates_t @ [W_ih, W_hh] = [dx_t, dh_{t-1}]`` the same way and keeps the
gate gradients and ``[x_t, h_{t-1}]`` of every step as rows, so that the
weight gradients are one tiled product ``[X, H_prev]^T @ dgates`` after the
loop (split over its rows), and ``db`` the column sums of ``dgates``. No
BLAS is called: a multi-threaded BLAS call leaves its worker threads
spinning, which starves the threads of the next parallel region. Layers
whose weights outgrow the caches run on :mod:`.lstm_gemm` instead.

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
from .tile import chunk_rows, n_chunks_for, padded_width, row_length, tile_matmul

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
def _transpose_into(src, dst, row0):
    """``dst[row0 + k, j] = src[j, k]``, in blocks of 16 rows of ``src``
    (each read cache line serves 16 writes, each written run is contiguous)."""
    n, m = src.shape
    for j0 in range(0, n, 16):
        j1 = min(n, j0 + 16)
        for k in range(m):
            row = dst[row0 + k]
            for j in range(j0, j1):
                row[j] = src[j, k]


@cpu_kernel
def _transpose_from(src, row0, dst):
    """``dst[j, k] = src[row0 + k, j]``, in blocks of 16 rows of ``dst``."""
    n, m = dst.shape
    for j0 in range(0, n, 16):
        j1 = min(n, j0 + 16)
        for k in range(m):
            row = src[row0 + k]
            for j in range(j0, j1):
                dst[j, k] = row[j]


@cpu_kernel
def _forward_rows(s0, s1, X, W_catT, b, lengths, H_out, h_n, c_n, gates, cells,
                  h_prev, rec, xh):
    """The time loop of :func:`lstm_forward` for the rows ``s0 <= s < s1``."""
    T, D = X.shape[1], X.shape[2]
    H = h_n.shape[1]
    K = D + H
    for t in range(T):
        for s in range(s0, s1):
            _copy_row(X[s, t], xh[s, :D])
        tile_matmul(xh, W_catT, rec, s0, s1, padded_width(4 * H, X.itemsize), K,
                    s1 < s0)
        for s in range(s0, s1):
            if t < lengths[s]:
                g = gates[s, t]
                _activate_row(rec[s], b, g, H)
                _copy_row(h_n[s], h_prev[s, t])
                _cell_row(g, c_n[s], cells[s, t], H_out[s, t], H)
                _copy_row(cells[s, t], c_n[s])
                _copy_row(H_out[s, t], h_n[s])
                _copy_row(H_out[s, t], xh[s, D:K])
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
    rec : (B, 4H) scratch (unused: the kernel keeps its own padded rows;
        kept for the shared kernel signature).
    """
    B, T, D = X.shape
    H = W_hh.shape[1]
    K = D + H
    dtype = X.dtype
    # work arrays, once per call: the stacked weights transposed,
    # [W_ih, W_hh]^T (K, 4H), zero-padded to whole vectors; the gate
    # pre-activations of one step; per row, the step input [x_t, h_{t-1}]
    N = padded_width(4 * H, X.itemsize)
    W_catT = np.zeros((K, row_length(N, X.itemsize)), dtype)
    _transpose_into(W_ih, W_catT, _ZERO * D)
    _transpose_into(W_hh, W_catT, D)
    rec_p = np.empty((B, row_length(N, X.itemsize)), dtype)
    xh = np.empty((B, K), dtype)
    for s in range(B):
        _copy_row(h0[s], h_n[s])
        _copy_row(c0[s], c_n[s])
        _copy_row(h0[s], xh[s, D:K])
    n_chunks = n_chunks_for(B, num_threads())
    if n_chunks == 1:  # no thread launch for a small batch
        _forward_rows(_ZERO * B, B, X, W_catT, b, lengths, H_out, h_n, c_n, gates,
                      cells, h_prev, rec_p, xh)
    else:
        for c in prange(n_chunks):
            s0, s1 = chunk_rows(c, n_chunks, B)
            _forward_rows(s0, s1, X, W_catT, b, lengths, H_out, h_n, c_n, gates,
                          cells, h_prev, rec_p, xh)


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
def _backward_rows(s0, s1, X, W_cat, c0, lengths, gates, cells, h_prev,
                   dH_out, dX, dh0, dc0, dg, dxh, G, XH):
    """The time loop of :func:`lstm_backward` for the rows ``s0 <= s < s1``."""
    B, T, D = X.shape
    H = dh0.shape[1]
    K = D + H
    for t in range(T - 1, -1, -1):
        for s in range(s0, s1):
            if t < lengths[s]:
                c_prev = cells[s, t - 1] if t > 0 else c0[s]
                _gate_grads_row(dh0[s], dH_out[s, t], gates[s, t], cells[s, t],
                                c_prev, dc0[s], dg[s], H)
            else:
                _zero_row(dg[s])
        # [dx_t, dh_{t-1}] = dgates_t @ [W_ih, W_hh]
        tile_matmul(dg, W_cat, dxh, s0, s1, padded_width(K, X.itemsize), 4 * H,
                    s1 < s0)
        for s in range(s0, s1):
            n = t * B + s  # row of G and XH, for the weight gradients
            _copy_row(dg[s], G[n, :4 * H])
            if t < lengths[s]:
                _copy_row(dxh[s, :D], dX[s, t])
                _copy_row(dxh[s, D:K], dh0[s])
                _copy_row(X[s, t], XH[n, :D])
                _copy_row(h_prev[s, t], XH[n, D:K])
            else:  # G[n] is zero; XH[n] stays zero
                _zero_row(dX[s, t])


@cpu_kernel
def _weight_grads_rows(k0, k1, G, XH, dW_catT):
    """``dW_catT = XH^T @ G`` (the weight gradients, transposed) on rows
    ``k0 .. k1 - 1``: ``dW_catT[k] = sum_n XH[n, k] G[n]``."""
    n_cols = padded_width(G.shape[1], G.itemsize)
    tile_matmul(XH.T, G, dW_catT, k0, k1, n_cols, G.shape[0], k1 < k0)


@cpu_kernel
def _column_sums(j0, j1, G, db):
    """``db[j] = G[:, j].sum()`` for ``j0 <= j < j1``."""
    for j in range(j0, j1):
        db[j] = 0.0
    for n in range(G.shape[0]):
        _add_into(G[n, j0:j1], db[j0:j1])


@cpu_kernel
def _add_into(src, dst):
    """``dst += src`` for two 1-D rows."""
    for j in range(dst.size):
        dst[j] += src[j]


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
    dgates : (B, T, 4H) scratch: the gate gradients of every step, as rows
        ``t * B + s`` of a ``(T * B, 4H)`` matrix.
    dgates_t : (B, 4H) scratch, the gate gradients of one step.
    drec : (B, H) scratch (unused; kept for the shared kernel signature).
    """
    B, T, D = X.shape
    H = W_hh.shape[1]
    K = D + H
    dtype = X.dtype
    # dh0 and dc0 carry the running gradient of (h_t, c_t) back in time.
    for s in range(B):
        _copy_row(dh_n[s], dh0[s])
        _copy_row(dc_n[s], dc0[s])
    # work arrays, once per call, before the time loop: [W_ih, W_hh] (4H, K)
    # zero-padded to whole vectors, the products [dx_t, dh_{t-1}] of one
    # step, and the step inputs [x_t, h_{t-1}] of every step (rows t*B + s)
    N = padded_width(K, X.itemsize)
    W_cat = np.zeros((4 * H, row_length(N, X.itemsize)), dtype)
    for j in range(4 * H):
        _copy_row(W_ih[j], W_cat[j, :D])
        _copy_row(W_hh[j], W_cat[j, D:K])
    dxh = np.empty((B, row_length(N, X.itemsize)), dtype)
    # G (T*B, 4H): the scratch, zero-padded to whole vectors if 4H is not
    G = dgates.reshape(T * B, 4 * H)
    if padded_width(4 * H, X.itemsize) != 4 * H:
        G = np.zeros((T * B, row_length(padded_width(4 * H, X.itemsize),
                                         X.itemsize)), dtype)
    XH = np.zeros((T * B, K), dtype)
    n_chunks = n_chunks_for(B, num_threads())
    if n_chunks == 1:
        _backward_rows(_ZERO * B, B, X, W_cat, c0, lengths, gates, cells, h_prev,
                       dH_out, dX, dh0, dc0, dgates_t, dxh, G, XH)
    else:
        for c in prange(n_chunks):
            s0, s1 = chunk_rows(c, n_chunks, B)
            _backward_rows(s0, s1, X, W_cat, c0, lengths, gates, cells,
                           h_prev, dH_out, dX, dh0, dc0, dgates_t, dxh, G, XH)
    # the weight gradients, transposed: dW_catT = XH^T @ G, split over rows k
    dW_catT = np.empty((K, row_length(padded_width(4 * H, X.itemsize),
                                      X.itemsize)), dtype)
    n_chunks = n_chunks_for(K, num_threads())
    for c in prange(n_chunks):
        k0, k1 = chunk_rows(c, n_chunks, K)
        _weight_grads_rows(k0, k1, G, XH, dW_catT)
        j0, j1 = chunk_rows(c, n_chunks, 4 * H)
        _column_sums(j0, j1, G, db)
    _transpose_from(dW_catT, _ZERO * D, dW_ih)
    _transpose_from(dW_catT, D, dW_hh)
