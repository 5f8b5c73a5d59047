"""The LSTM weight gradients from the gate gradients of every step (CPU).

``dW_ih``, ``dW_hh`` and ``db`` are sums over all ``B * T`` steps of
``[x_t, h_{t-1}]^T @ dgates_t`` and of ``dgates_t``. Two ways to add them
up, chosen by :func:`sums_per_chunk`: per batch chunk (each thread right
after its own time loop, on the gate gradients still in its caches, then
the chunks added in order), or, for large layers, as one product split over
its rows after the time loop. The summation order, and so the last bits,
depends on the choice and on the number of threads.
"""

import numba
import numpy as np
from numba import prange

from ._jit import cpu_kernel, cpu_parallel_kernel
from ._nonliteral import runtime_false, runtime_zero
from ._threads import num_threads
from .lstm_cell import gate_width
from .rows import add_into, copy_row
from .tile import chunk_rows, n_chunks_for, padded_width, tile_matmul, transpose_into

#: The weight gradients are summed per batch chunk (each thread right after
#: its own time loop, on the gate gradients still in its caches) while the
#: partial sums of all chunks take at most this many elements; beyond it
#: (large layers, many threads) one product split over the rows of
#: ``[X, H_prev]^T @ G`` after the loop, which writes each gradient once.
PARTIAL_MAX_ELEMENTS = 1 << 22

#: From this many partial-sum elements on, adding them up is split between
#: threads; below it one thread is as fast (docs/performance.md,
#: 'Measurements behind the code').
PARALLEL_SUM_MIN = 1 << 17


@cpu_kernel
def partial_grads(s0, s1, X, h_prev, G, P, db_p):
    """The weight gradients of rows ``s0 .. s1 - 1`` of the batch:
    ``P = [X, H_prev]^T @ G`` (``(K, width)``, transposed) over their steps,
    and ``db_p`` the column sums of their ``G``."""
    K = X.shape[2] + h_prev.shape[2]
    G_s = G[s0:s1]
    n_cols = db_p.shape[0]
    _weight_grads_rows(runtime_zero(K), K, X[s0:s1], h_prev[s0:s1], G_s, P,
                       n_cols)
    column_sums(runtime_zero(K), n_cols, G_s, db_p)


@cpu_kernel
def _sum_partials(j0, j1, P, db_p, dW_ih, dW_hh, db):
    """Columns ``j0 .. j1 - 1`` (of 4H, or 3H) of ``dW_ih``, ``dW_hh`` and ``db``
    from the partial sums of the chunks: the chunks added into ``P[0]`` in
    chunk order, then turned around."""
    n_chunks, K = P.shape[0], P.shape[1]
    D = dW_ih.shape[1]
    P0 = P[0]
    for c in range(1, n_chunks):
        for k in range(K):
            add_into(P[c, k, j0:j1], P0[k, j0:j1])
        add_into(db_p[c, j0:j1], db_p[0, j0:j1])
    copy_row(db_p[0, j0:j1], db[j0:j1])
    transpose_into(P0[:D, j0:j1], dW_ih[j0:j1], runtime_zero(D))
    transpose_into(P0[D:K, j0:j1], dW_hh[j0:j1], runtime_zero(D))


@cpu_parallel_kernel
def sum_all_partials(P, db_p, dW_ih, dW_hh, db):
    """:func:`_sum_partials` over all columns, split between threads when
    there are :data:`PARALLEL_SUM_MIN` elements or more (small ones take
    longer to start a parallel region for than to add)."""
    G4 = db.shape[0]
    n_chunks = 1
    if P.shape[0] * P.shape[1] * G4 >= PARALLEL_SUM_MIN:
        n_chunks = n_chunks_for(G4, num_threads())
    if n_chunks == 1:
        _sum_partials(runtime_zero(G4), G4, P, db_p, dW_ih, dW_hh, db)
    else:
        for c in prange(n_chunks):
            j0, j1 = chunk_rows(c, n_chunks, G4)
            _sum_partials(j0, j1, P, db_p, dW_ih, dW_hh, db)


@cpu_kernel
def partials_buffers(n_chunks, X, h_prev, G, n_cols):
    """The partial sums' arrays: ``(n_chunks, K, width)`` and
    ``(n_chunks, n_cols)`` (``n_cols`` gate columns, 4H or 3H)."""
    K = X.shape[2] + h_prev.shape[2]
    P = np.empty((n_chunks, K, G.shape[2]), X.dtype)
    db_p = np.empty((n_chunks, n_cols), X.dtype)
    return P, db_p


@cpu_parallel_kernel
def weight_grads_by_chunks(X, h_prev, G, dW_ih, dW_hh, db):
    """The weight gradients summed per batch chunk (one chunk per thread,
    :func:`.tile.chunk_rows`), then the chunks added in order."""
    B = X.shape[0]
    n_chunks = n_chunks_for(B, num_threads())
    P, db_p = partials_buffers(n_chunks, X, h_prev, G, db.shape[0])
    for c in prange(n_chunks):
        s0, s1 = chunk_rows(c, n_chunks, B)
        partial_grads(s0, s1, X, h_prev, G, P[c], db_p[c])
    sum_all_partials(P, db_p, dW_ih, dW_hh, db)


@cpu_kernel
def _weight_grads_rows(k0, k1, X, h_prev, G, dW_catT, n_gate_cols):
    """Rows ``k0 .. k1 - 1`` of the weight gradients, transposed:
    ``dW_catT = [X, H_prev]^T @ G`` over all ``B * T`` steps (rows ``k < D``
    from the inputs, the others from the previous hidden states), for the
    first ``n_gate_cols`` columns of ``G``."""
    B, T, D = X.shape
    H = h_prev.shape[2]
    n_cols = padded_width(n_gate_cols, X.itemsize)
    G2 = G.reshape(B * T, G.shape[2])
    # [:D] and [:H] make the transposed operands 'A' views (one tile_matmul
    # specialisation for all calls, see _forward_rows)
    if k0 < D:
        tile_matmul(X.reshape(B * T, D).T[:D], G2, dW_catT, k0, min(k1, D),
                    n_cols, B * T, runtime_false(k0))
    if k1 > D:
        tile_matmul(h_prev.reshape(B * T, H).T[:H], G2, dW_catT[D:],
                    max(k0, D) - D, k1 - D, n_cols, B * T, runtime_false(k0))


@cpu_kernel
def column_sums(j0, j1, G, db):
    """``db[j] = sum over (s, t) of G[s, t, j]`` for ``j0 <= j < j1``."""
    for j in range(j0, j1):
        db[j] = 0.0
    for s in range(G.shape[0]):
        for t in range(G.shape[1]):
            add_into(G[s, t, j0:j1], db[j0:j1])


@cpu_parallel_kernel
def weight_grads_split_k(X, h_prev, G, dW_ih, dW_hh, db):
    """The weight gradients as one product ``[X, H_prev]^T @ G`` over all
    steps (transposed, ``(K, 4H)``) split over its rows between threads, then
    turned around; ``db`` the column sums of ``G``."""
    D = X.shape[2]
    H = h_prev.shape[2]
    K = D + H
    n_cols = db.shape[0]
    dW_catT = np.empty((K, G.shape[2]), X.dtype)
    n_chunks = n_chunks_for(K, num_threads())
    for c in prange(n_chunks):
        k0, k1 = chunk_rows(c, n_chunks, K)
        _weight_grads_rows(k0, k1, X, h_prev, G, dW_catT, n_cols)
        j0, j1 = chunk_rows(c, n_chunks, n_cols)
        column_sums(j0, j1, G, db)
    transpose_into(dW_catT[:D, :n_cols], dW_ih, runtime_zero(D))
    transpose_into(dW_catT[D:K, :n_cols], dW_hh, runtime_zero(D))


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
