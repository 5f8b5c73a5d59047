"""One LSTM layer over a batch of sequences: forward and full BPTT (CPU).

Layout is batch-first, ``X`` of shape ``(B, T, D)``, with the canonical
(PyTorch) weights: ``W_ih (4H, D)``, ``W_hh (4H, H)``, ``b (4H,)``, gate
blocks in the order i, f, g, o.

How the work is laid out (see docs/performance.md, "Kernel design"): the
rows of the batch are independent through time, so each kernel splits them
into one chunk per thread (``prange``) and runs the whole time loop of its
chunk without synchronising with the other threads. Each step computes the
gate pre-activations ``x_t @ W_ih^T + h_{t-1} @ W_hh^T`` with the
register-tiled product of :mod:`.tile` (the second product continues the
multiply-add chains of the first), followed by vectorised gate math
(:mod:`.fastexp`). The backward step computes
``dgates_t @ [W_ih, W_hh] = [dx_t, dh_{t-1}]`` the same way (``dgates_t @
W_hh`` alone when the caller does not want ``dX``) and keeps the gate
gradients of every step; right after its time loop each thread sums the
weight gradients of its rows, ``[X, H_prev]^T @ dgates`` over their steps
(reading ``X`` and ``h_prev`` in place) and ``db``, and the chunks' sums
are added in order (:func:`weight_grads`; large layers split that product
over its rows instead). No BLAS is called: a multi-threaded BLAS call leaves
its worker threads spinning, which starves the threads of the next parallel
region.
Layers whose weights outgrow the caches split each step by gate columns
instead (:mod:`.lstm_wide`, same arithmetic).

Ragged batches: ``lengths[b]`` is the number of real steps of sequence ``b``.
At a padded step (``t >= lengths[b]``) the state is carried unchanged, the
output is zero, and the step receives and passes on no gradient of its own:
``dH_out`` there is ignored, so padding never leaks into a loss.

Kernels only read their inputs and write their outputs (one exception, when
the caller asks for it: the backward turns ``gates`` into the gate gradients
in place when it is passed as ``dgates`` too); they raise nothing, and
allocate only a few work arrays once per call, before any time loop.
All arrays must be C-contiguous and of one float dtype (checked by the
caller, see :mod:`numlstm.backends.cpu`).
"""

import numba
import numpy as np
from numba import prange

from ._jit import cpu_kernel, cpu_parallel_kernel
from ._threads import num_threads
from .fastexp import tanh_fast
from .tile import (
    chunk_rows,
    n_chunks_for,
    padded_width,
    row_length,
    tile_matmul,
    transpose_into,
    transpose_padded,
)

#: ``_ZERO * n`` and ``s1 < s0`` below are a 0 and a False that Numba does not
#: type as literals, so that every call site of a helper shares one compiled
#: specialisation (a literal 0 or False argument compiles another one).
_ZERO = 0

# The gate math of one row is a few simple loops over contiguous 1-D rows, each
# with few arrays, so that LLVM vectorises every one of them.


@cpu_kernel
def _gates_cell_row(r, b, g, c_prev, c_out, h_out, H):
    """One row of one step from its pre-activations ``r``: the gates
    ``g = act(r + b)`` (sigmoid on the i, f, o blocks, tanh on g), then
    ``c_out = f * c_prev + i * g`` and ``h_out = o * tanh(c_out)``.

    One vectorised loop over the H units; ``sigmoid(a) = (1 + tanh(a / 2)) /
    2``, so all five activations are the same ``tanh_fast``.
    """
    half = g.dtype.type(0.5)
    for j in range(H):
        i = tanh_fast(half * (r[j] + b[j])) * half + half
        f = tanh_fast(half * (r[H + j] + b[H + j])) * half + half
        gg = tanh_fast(r[2 * H + j] + b[2 * H + j])
        o = tanh_fast(half * (r[3 * H + j] + b[3 * H + j])) * half + half
        g[j] = i
        g[H + j] = f
        g[2 * H + j] = gg
        g[3 * H + j] = o
        c = f * c_prev[j] + i * gg
        c_out[j] = c
        h_out[j] = o * tanh_fast(c)


@cpu_kernel
def _copy_row(src, dst):
    for j in range(src.size):
        dst[j] = src[j]


@cpu_kernel
def _copy_rows(src, dst):
    """``dst[:] = src`` for two 2-D arrays of rows."""
    for s in range(src.shape[0]):
        _copy_row(src[s], dst[s])


@cpu_kernel
def _zero_row(dst):
    for j in range(dst.size):
        dst[j] = 0.0


@cpu_kernel
def _step_rows(s0, s1, t, rec, b, lengths, H_out, h_n, c_n, gates, cells,
               h_prev):
    """Step ``t`` of rows ``s0 .. s1 - 1`` from their pre-activations
    ``rec``: gates, cell and hidden state, and the state carried on."""
    H = h_n.shape[1]
    for s in range(s0, s1):
        if t < lengths[s]:
            _copy_row(h_n[s], h_prev[s, t])
            _gates_cell_row(rec[s], b, gates[s, t], c_n[s], cells[s, t],
                            H_out[s, t], H)
            _copy_row(cells[s, t], c_n[s])
            _copy_row(H_out[s, t], h_n[s])
        else:  # padding: the state is carried unchanged
            _zero_row(gates[s, t])
            _copy_row(c_n[s], cells[s, t])
            _zero_row(h_prev[s, t])
            _zero_row(H_out[s, t])


@cpu_kernel
def _forward_rows(s0, s1, X, W_ihT, W_hhT, b, lengths, H_out, h_n, c_n, gates,
                  cells, h_prev, rec):
    """The time loop of :func:`lstm_forward` for the rows ``s0 <= s < s1``."""
    T, D = X.shape[1], X.shape[2]
    H = h_n.shape[1]
    N = padded_width(4 * H, X.itemsize)
    for t in range(T):
        # rec = x_t @ W_ih^T + h_{t-1} @ W_hh^T: the second product continues
        # the multiply-add chains of the first, as one product over
        # [x_t, h_{t-1}] would. Every first operand of tile_matmul is passed
        # as a strided ('A' layout) view, here h_n[:, :H] like X[:, t], so
        # that all calls share one compiled specialisation of it (cold
        # compile of forward + backward: 20 -> 15.5 s per dtype)
        tile_matmul(X[:, t], W_ihT, rec, s0, s1, N, D, s1 < s0)
        tile_matmul(h_n[:, :H], W_hhT, rec, s0, s1, N, H, s0 <= s1)
        _step_rows(s0, s1, t, rec, b, lengths, H_out, h_n, c_n, gates, cells,
                   h_prev)


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
    gates : (B, T, >= 4H) out, activated gates i, f, g, o in the first 4H
        columns of each row (kept for backward; rows :func:`gate_width` long
        let the backward work in them in place).
    cells : (B, T, H) out, cell state ``c_t`` of every step (for backward).
    h_prev : (B, T, H) out, ``h_{t-1}`` of every step (for backward).
    rec : (B, 4H) scratch (unused: the kernel keeps its own padded rows;
        kept for the shared kernel signature).
    """
    B = X.shape[0]
    # work arrays, once per call: W_ih^T and W_hh^T zero-padded to whole
    # vectors, and the gate pre-activations of one step
    W_ihT = transpose_padded(W_ih)
    W_hhT = transpose_padded(W_hh)
    rec_p = np.empty((B, W_hhT.shape[1]), X.dtype)
    _copy_rows(h0, h_n)
    _copy_rows(c0, c_n)
    n_chunks = n_chunks_for(B, num_threads())
    if n_chunks == 1:  # no thread launch for a small batch
        _forward_rows(_ZERO * B, B, X, W_ihT, W_hhT, b, lengths, H_out, h_n, c_n,
                      gates, cells, h_prev, rec_p)
    else:
        for c in prange(n_chunks):
            s0, s1 = chunk_rows(c, n_chunks, B)
            _forward_rows(s0, s1, X, W_ihT, W_hhT, b, lengths, H_out, h_n, c_n,
                          gates, cells, h_prev, rec_p)


@cpu_kernel
def _gate_grads_row(dh_next, dH_t, g, c, c_prev, dc, H):
    """Gate pre-activation gradients of one row of one step, in place: ``g``
    holds the activated gates i, f, g, o on entry and their gradients on
    exit (each unit's gates are read before its gradients are written).

    ``dc`` holds the gradient of ``c_t`` from step ``t + 1`` on entry and
    that of ``c_{t-1}`` on exit.
    """
    one = g.dtype.type(1.0)
    for j in range(H):
        dh = dh_next[j] + dH_t[j]
        o = g[3 * H + j]
        tc = tanh_fast(c[j])
        dcj = dc[j] + dh * o * (one - tc * tc)
        g[3 * H + j] = dh * tc * o * (one - o)
        dc[j] = dcj
    for j in range(H):
        dcj = dc[j]
        i = g[j]
        f = g[H + j]
        gg = g[2 * H + j]
        g[j] = dcj * gg * i * (one - i)
        g[H + j] = dcj * c_prev[j] * f * (one - f)
        g[2 * H + j] = dcj * i * (one - gg * gg)
        dc[j] = dcj * f


@cpu_kernel
def _gate_grads_rows(s0, s1, t, c0, lengths, cells, dH_out, dh0, dc0, G):
    """The gate gradients ``G[s, t]`` of step ``t`` for rows ``s0 .. s1 - 1``
    in place of the gates there (zero at padded steps); ``dh0``/``dc0`` hold
    the running gradients."""
    H = dh0.shape[1]
    for s in range(s0, s1):
        if t < lengths[s]:
            c_prev = cells[s, t - 1] if t > 0 else c0[s]
            _gate_grads_row(dh0[s], dH_out[s, t], G[s, t], cells[s, t],
                            c_prev, dc0[s], H)
        else:
            _zero_row(G[s, t, :4 * H])


@cpu_kernel
def _take_input_grads(s0, s1, t, dxh, lengths, dX, dh0, d_in):
    """Split ``dxh = [dx_t, dh_{t-1}]`` of rows ``s0 .. s1 - 1`` into ``dX``
    and the running ``dh0`` (padded steps: ``dX`` is 0, ``dh0`` carried);
    ``dx_t`` has ``d_in`` columns, 0 when ``dX`` is not wanted."""
    K = d_in + dh0.shape[1]
    for s in range(s0, s1):
        if t < lengths[s]:
            if d_in > 0:
                _copy_row(dxh[s, :d_in], dX[s, t])
            _copy_row(dxh[s, d_in:K], dh0[s])
        elif d_in > 0:
            _zero_row(dX[s, t])


@cpu_kernel
def _backward_rows(s0, s1, X, W_cat, c0, lengths, cells, dH_out, dX,
                   dh0, dc0, G, dxh, d_in):
    """The time loop of :func:`lstm_backward` for the rows ``s0 <= s < s1``."""
    T = X.shape[1]
    H = dh0.shape[1]
    K = d_in + H
    for t in range(T - 1, -1, -1):
        _gate_grads_rows(s0, s1, t, c0, lengths, cells, dH_out, dh0, dc0, G)
        # [dx_t, dh_{t-1}] = dgates_t @ [W_ih, W_hh] (dh_{t-1} alone when
        # dX is not wanted)
        tile_matmul(G[:, t], W_cat, dxh, s0, s1, padded_width(K, X.itemsize),
                    4 * H, s1 < s0)
        _take_input_grads(s0, s1, t, dxh, lengths, dX, dh0, d_in)


#: The weight gradients are summed per batch chunk (each thread right after
#: its own time loop, on the gate gradients still in its caches) while the
#: partial sums of all chunks take at most this many elements; beyond it
#: (large layers, many threads) one product split over the rows of
#: ``[X, H_prev]^T @ G`` after the loop, which writes each gradient once.
PARTIAL_MAX_ELEMENTS = 1 << 22

#: From this many partial-sum elements on, adding them up is split between
#: threads (H=256: 0.72 ms in one loop before, 0.17 ms now on two threads;
#: H=64: 16 us on one thread, 19 us on two).
PARALLEL_SUM_MIN = 1 << 17


@cpu_kernel
def _partial_grads(s0, s1, X, h_prev, G, P, db_p):
    """The weight gradients of rows ``s0 .. s1 - 1`` of the batch:
    ``P = [X, H_prev]^T @ G`` (``(K, width)``, transposed) over their steps,
    and ``db_p`` the column sums of their ``G``."""
    K = X.shape[2] + h_prev.shape[2]
    G_s = G[s0:s1]
    _weight_grads_rows(_ZERO * K, K, X[s0:s1], h_prev[s0:s1], G_s, P)
    _column_sums(_ZERO * K, 4 * h_prev.shape[2], G_s, db_p)


@cpu_kernel
def _sum_partials(j0, j1, P, db_p, dW_ih, dW_hh, db):
    """Columns ``j0 .. j1 - 1`` (of 4H) of ``dW_ih``, ``dW_hh`` and ``db``
    from the partial sums of the chunks: the chunks added into ``P[0]`` in
    chunk order, then turned around."""
    n_chunks, K = P.shape[0], P.shape[1]
    D = dW_ih.shape[1]
    P0 = P[0]
    for c in range(1, n_chunks):
        for k in range(K):
            _add_into(P[c, k, j0:j1], P0[k, j0:j1])
        _add_into(db_p[c, j0:j1], db_p[0, j0:j1])
    _copy_row(db_p[0, j0:j1], db[j0:j1])
    transpose_into(P0[:D, j0:j1], dW_ih[j0:j1], _ZERO * D)
    transpose_into(P0[D:K, j0:j1], dW_hh[j0:j1], _ZERO * D)


@cpu_parallel_kernel
def _sum_all_partials(P, db_p, dW_ih, dW_hh, db):
    """:func:`_sum_partials` over all columns, split between threads when
    there are :data:`PARALLEL_SUM_MIN` elements or more (small ones take
    longer to start a parallel region for than to add)."""
    G4 = db.shape[0]
    n_chunks = 1
    if P.shape[0] * P.shape[1] * G4 >= PARALLEL_SUM_MIN:
        n_chunks = n_chunks_for(G4, num_threads())
    if n_chunks == 1:
        _sum_partials(_ZERO * G4, G4, P, db_p, dW_ih, dW_hh, db)
    else:
        for c in prange(n_chunks):
            j0, j1 = chunk_rows(c, n_chunks, G4)
            _sum_partials(j0, j1, P, db_p, dW_ih, dW_hh, db)


@cpu_kernel
def _partials_buffers(n_chunks, X, h_prev, G):
    """The partial sums' arrays: ``(n_chunks, K, width)`` and
    ``(n_chunks, 4H)``."""
    K = X.shape[2] + h_prev.shape[2]
    P = np.empty((n_chunks, K, G.shape[2]), X.dtype)
    db_p = np.empty((n_chunks, 4 * h_prev.shape[2]), X.dtype)
    return P, db_p


@cpu_parallel_kernel
def weight_grads_by_chunks(X, h_prev, G, dW_ih, dW_hh, db):
    """The weight gradients summed per batch chunk (one chunk per thread,
    :func:`.tile.chunk_rows`), then the chunks added in order."""
    B = X.shape[0]
    n_chunks = n_chunks_for(B, num_threads())
    P, db_p = _partials_buffers(n_chunks, X, h_prev, G)
    for c in prange(n_chunks):
        s0, s1 = chunk_rows(c, n_chunks, B)
        _partial_grads(s0, s1, X, h_prev, G, P[c], db_p[c])
    _sum_all_partials(P, db_p, dW_ih, dW_hh, db)


@cpu_kernel
def _weight_grads_rows(k0, k1, X, h_prev, G, dW_catT):
    """Rows ``k0 .. k1 - 1`` of the weight gradients, transposed:
    ``dW_catT = [X, H_prev]^T @ G`` over all ``B * T`` steps (rows ``k < D``
    from the inputs, the others from the previous hidden states)."""
    B, T, D = X.shape
    H = h_prev.shape[2]
    n_cols = padded_width(4 * H, X.itemsize)
    G2 = G.reshape(B * T, G.shape[2])
    # [:D] and [:H] make the transposed operands 'A' views (one tile_matmul
    # specialisation for all calls, see _forward_rows)
    if k0 < D:
        tile_matmul(X.reshape(B * T, D).T[:D], G2, dW_catT, k0, min(k1, D),
                    n_cols, B * T, k1 < k0)
    if k1 > D:
        tile_matmul(h_prev.reshape(B * T, H).T[:H], G2, dW_catT[D:],
                    max(k0, D) - D, k1 - D, n_cols, B * T, k1 < k0)


@cpu_kernel
def _column_sums(j0, j1, G, db):
    """``db[j] = sum over (s, t) of G[s, t, j]`` for ``j0 <= j < j1``."""
    for j in range(j0, j1):
        db[j] = 0.0
    for s in range(G.shape[0]):
        for t in range(G.shape[1]):
            _add_into(G[s, t, j0:j1], db[j0:j1])


@cpu_kernel
def _add_into(src, dst):
    """``dst += src`` for two 1-D rows."""
    for j in range(dst.size):
        dst[j] += src[j]


@cpu_parallel_kernel
def weight_grads_split_k(X, h_prev, G, dW_ih, dW_hh, db):
    """The weight gradients as one product ``[X, H_prev]^T @ G`` over all
    steps (transposed, ``(K, 4H)``) split over its rows between threads, then
    turned around; ``db`` the column sums of ``G``."""
    D = X.shape[2]
    H = h_prev.shape[2]
    K = D + H
    dW_catT = np.empty((K, G.shape[2]), X.dtype)
    n_chunks = n_chunks_for(K, num_threads())
    for c in prange(n_chunks):
        k0, k1 = chunk_rows(c, n_chunks, K)
        _weight_grads_rows(k0, k1, X, h_prev, G, dW_catT)
        j0, j1 = chunk_rows(c, n_chunks, 4 * H)
        _column_sums(j0, j1, G, db)
    transpose_into(dW_catT[:D, :4 * H], dW_ih, _ZERO * D)
    transpose_into(dW_catT[D:K, :4 * H], dW_hh, _ZERO * D)


def sums_per_chunk(n_samples, n_inputs, n_hidden, itemsize):
    """Whether the weight gradients of a batch are summed per chunk of rows:
    while the chunks' partial sums (one per thread) take at most
    :data:`PARTIAL_MAX_ELEMENTS`. Decided here, in Python, so that a kernel
    compiles only the summation it runs."""
    n_chunks = n_chunks_for.py_func(n_samples, numba.get_num_threads())
    width = gate_width(n_hidden, itemsize)
    return n_chunks * (n_inputs + n_hidden) * width <= PARTIAL_MAX_ELEMENTS


def weight_grads(X, h_prev, G, dW_ih, dW_hh, db):
    """``dW_ih``, ``dW_hh`` and ``db`` from the gate gradients ``G`` of every
    step: :func:`weight_grads_by_chunks` or :func:`weight_grads_split_k`, as
    :func:`sums_per_chunk` says (the summation order, so the last bits,
    depend on it and on the number of threads)."""
    B, _, D = X.shape
    if sums_per_chunk(B, D, h_prev.shape[2], X.itemsize):
        weight_grads_by_chunks(X, h_prev, G, dW_ih, dW_hh, db)
    else:
        weight_grads_split_k(X, h_prev, G, dW_ih, dW_hh, db)


def gate_grad_scratch(dgates, gates, X, n_hidden):
    """The array the backward kernels work in, of :func:`gate_width` rows:
    it holds the gates on entry and the gate gradients on exit.

    ``gates`` itself when ``dgates`` is ``gates`` with rows that long (the
    ``numlstm.nn.LSTM`` workspace: nothing copied, the gates are consumed);
    otherwise ``dgates`` (or a new array, when its rows are not that long)
    with the gates copied in.
    """
    B, T = X.shape[0], X.shape[1]
    width = gate_width(n_hidden, X.itemsize)
    if dgates is gates and gates.shape == (B, T, width):
        return gates
    G = dgates if dgates.shape == (B, T, width) else np.empty((B, T, width),
                                                              X.dtype)
    G[:, :, :4 * n_hidden] = gates[:, :, :4 * n_hidden]
    return G


def gate_width(n_hidden, itemsize):
    """Row length of the ``gates`` the backward kernels turn into gate
    gradients in place (``(B, T, gate_width)``): 4H rounded up to whole
    vectors, an odd number of them."""
    return row_length.py_func(padded_width.py_func(4 * n_hidden, itemsize),
                              itemsize)


@cpu_kernel
def _backward_setup(X, W_ih, W_hh, dh_n, dc_n, dh0, dc0, d_in):
    """Start a backward pass: ``dh0``/``dc0`` take ``dh_n``/``dc_n`` (they
    carry the running gradient of ``(h_t, c_t)`` back in time), and the
    work arrays: ``[W_ih, W_hh]`` (4H, d_in + H) zero-padded to whole
    vectors (``W_hh`` alone when ``d_in`` is 0: no ``dX`` wanted) and the
    products ``[dx_t, dh_{t-1}]`` of one step."""
    B = X.shape[0]
    H = W_hh.shape[1]
    K = d_in + H
    _copy_rows(dh_n, dh0)
    _copy_rows(dc_n, dc0)
    L = row_length(padded_width(K, X.itemsize), X.itemsize)
    W_cat = np.zeros((4 * H, L), X.dtype)
    for j in range(4 * H):
        if d_in > 0:
            _copy_row(W_ih[j], W_cat[j, :d_in])
        _copy_row(W_hh[j], W_cat[j, d_in:K])
    dxh = np.empty((B, L), X.dtype)
    return W_cat, dxh


@cpu_kernel
def _backward_chunk(c, n_chunks, X, W_cat, c0, lengths, cells, h_prev,
                    dH_out, dX, dh0, dc0, G, dxh, P, db_p, d_in, per_chunk):
    """Chunk ``c`` of :func:`lstm_backward`: the time loop of its rows, then,
    if ``per_chunk``, the partial sums of their weight gradients (on the gate
    gradients still in this thread's caches)."""
    s0, s1 = chunk_rows(c, n_chunks, X.shape[0])
    _backward_rows(s0, s1, X, W_cat, c0, lengths, cells, dH_out, dX,
                   dh0, dc0, G, dxh, d_in)
    if per_chunk:
        _partial_grads(s0, s1, X, h_prev, G, P[c], db_p[c])


def lstm_backward(X, W_ih, W_hh, c0, lengths, gates, cells, h_prev,
                  dH_out, dh_n, dc_n,
                  dX, dW_ih, dW_hh, db, dh0, dc0, dgates, input_grad):
    """Backpropagate through one LSTM layer (full BPTT).

    Parameters
    ----------
    X, W_ih, W_hh, c0, lengths : as given to :func:`lstm_forward`.
    gates, cells, h_prev : as written by :func:`lstm_forward`.
    dH_out : (B, T, H) gradient of the loss with respect to ``H_out``.
    dh_n, dc_n : (B, H) gradient with respect to the final state.
    dX : (B, T, D) out, unless ``input_grad`` is False.
    dW_ih, dW_hh, db : out, gradients of the weights (overwritten).
    dh0, dc0 : (B, H) out, gradient with respect to the initial state.
    dgates : (B, T, >= 4H) scratch for the gate gradients of every step.
        Pass ``gates`` itself, with rows :func:`gate_width` long (as the
        ``numlstm.nn.LSTM`` workspace does), and the gradients overwrite
        the gates in place: no copy and no second array of that size (for
        (64, 100, 512, 1024), 105 MB less to allocate and fault in). Any
        other array gets a copy of the gates first (a new one, when its
        rows are not that long), and ``gates`` is left as it was.
    input_grad : bool
        Whether to compute ``dX``. False (the layer reads the data, whose
        gradient nobody uses) leaves ``dX`` untouched and skips ``D`` of the
        ``D + H`` columns of each step's product; every other result is the
        same to the last bit.

    The time loops and, in most cases, the weight gradients run in one
    parallel kernel; for large layers (:func:`sums_per_chunk` False) the
    weight gradients follow in :func:`weight_grads_split_k`. The choice is
    made here so that each kernel compiles only what it runs.
    """
    B, _, D = X.shape
    H = W_hh.shape[1]
    G = gate_grad_scratch(dgates, gates, X, H)
    per_chunk = sums_per_chunk(B, D, H, X.itemsize)
    _backward_kernel(X, W_ih, W_hh, c0, lengths, cells, h_prev, dH_out,
                     dh_n, dc_n, dX, dW_ih, dW_hh, db, dh0, dc0, G,
                     bool(input_grad), per_chunk)
    if not per_chunk:
        weight_grads_split_k(X, h_prev, G, dW_ih, dW_hh, db)


@cpu_parallel_kernel
def _backward_kernel(X, W_ih, W_hh, c0, lengths, cells, h_prev,
                     dH_out, dh_n, dc_n, dX, dW_ih, dW_hh, db, dh0, dc0, G,
                     input_grad, per_chunk):
    """:func:`lstm_backward` on ``G`` (:func:`gate_width` rows, the gates
    on entry, their gradients on exit); the weight gradients only when
    ``per_chunk``."""
    B, D = X.shape[0], X.shape[2]
    d_in = D if input_grad else _ZERO * D
    W_cat, dxh = _backward_setup(X, W_ih, W_hh, dh_n, dc_n, dh0, dc0, d_in)
    n_chunks = n_chunks_for(B, num_threads())
    P, db_p = _partials_buffers(n_chunks if per_chunk else 0, X, h_prev, G)
    if n_chunks == 1:
        _backward_chunk(_ZERO * B, 1, X, W_cat, c0, lengths, cells, h_prev,
                        dH_out, dX, dh0, dc0, G, dxh, P, db_p, d_in, per_chunk)
    else:
        for c in prange(n_chunks):
            _backward_chunk(c, n_chunks, X, W_cat, c0, lengths, cells, h_prev,
                            dH_out, dX, dh0, dc0, G, dxh, P, db_p, d_in,
                            per_chunk)
    if per_chunk:
        _sum_all_partials(P, db_p, dW_ih, dW_hh, db)
