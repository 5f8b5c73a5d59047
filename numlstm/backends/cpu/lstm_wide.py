"""One LSTM layer over a batch, threads split over gate columns: large layers.

Same signatures, layout, arithmetic and ragged-batch rules as :mod:`.lstm`
(read its docstring first); only the split of the work over threads differs.
:mod:`numlstm.backends.cpu` picks this version for layers whose weights
outgrow the caches (:func:`numlstm.backends.cpu.use_wide`).

:mod:`.lstm` gives each thread a chunk of the batch and the whole time loop,
so every thread streams all of ``[W_ih, W_hh]`` at every step; once the
weights are tens of MiB that is memory traffic, and a batch of 64 rows
leaves each thread few rows to reuse each loaded weight on. Here every step
is split the other way: each thread computes a range of the gate columns for
all rows (``h_{t-1} @ W_hh^T`` forward, ``dgates_t @ [W_ih, W_hh]``
backward), so each thread streams only its share of the weights; then the
gate math of the step runs split over rows. Two parallel regions per step
cost some microseconds, against milliseconds of product. The input
projection ``X @ W_ih^T`` of all steps is one tiled product before the time
loop (split over rows), and the weight gradients one after it, as in
:mod:`.lstm`.

The products are :func:`.tile.tile_matmul` as in :mod:`.lstm`, with the
same chains of multiply-adds in the same order, so both versions give the
same results to the last bit, whatever the batch.
"""

import numpy as np
from numba import prange

from ._jit import cpu_kernel, cpu_parallel_kernel
from ._nonliteral import runtime_zero
from ._threads import num_threads
from .lstm import backward_setup, gate_grad_scratch, zone_work
from .lstm_cell import gate_grads_rows, mask_rows, step_rows, take_input_grads
from .lstm_cell_variants import (
    peephole_grads,
    peephole_grads_by_chunks,
    variant_cells,
    variant_gate_grads,
)
from .lstm_weight_grads import sums_per_chunk, weight_grads
from .rows import copy_row, copy_rows
from .tile import (
    VECTOR_BYTES,
    chunk_rows,
    n_chunks_for,
    padded_width,
    tile_matmul,
    transpose_padded,
)


@cpu_kernel
def _column_chunk(c, n_chunks, n_cols, width):
    """Columns ``[j0, j1)`` of chunk ``c``: whole tiles of ``width``."""
    tiles = (n_cols + width - 1) // width
    j0 = width * (tiles * c // n_chunks)
    j1 = min(n_cols, width * (tiles * (c + 1) // n_chunks))
    return j0, j1


@cpu_parallel_kernel
def lstm_forward_wide(X, W_ih, W_hh, b, h0, c0, lengths,
                      H_out, h_n, c_n, gates, cells, h_prev, rec, peep, h_mask,
                      zone):
    """Forward pass; arguments as :func:`numlstm.backends.cpu.lstm.lstm_forward`."""
    B, T, D = X.shape
    H = W_hh.shape[1]
    dtype = X.dtype
    N = padded_width(b.shape[0], X.itemsize)
    vw = VECTOR_BYTES // X.itemsize
    W_ihT = transpose_padded(W_ih)
    W_hhT = transpose_padded(W_hh)
    L = W_hhT.shape[1]
    # the input projection of every step, (B*T, N), before the time loop:
    # in ``gates`` when its rows are at least N long (row (s, t) is read at
    # step t before the gates of step t overwrite it), else in a new array
    if gates.shape[2] >= N:
        P = gates.reshape(B * T, gates.shape[2])
    else:
        P = np.empty((B * T, L), dtype)
    X2 = X.reshape(B * T, D)
    n_threads = num_threads()
    n_chunks = n_chunks_for(B * T, n_threads)
    for c in prange(n_chunks):
        r0, r1 = chunk_rows(c, n_chunks, B * T)
        # X2[:, :D] and h_n[:, :H] below: 'A' views, as every first operand
        # of tile_matmul (fewer specialisations to compile, see lstm.py)
        tile_matmul(X2[:, :D], W_ihT, P, r0, r1, N, D, r1 < r0)
    copy_rows(h0, h_n)
    copy_rows(c0, c_n)
    rec_p = np.empty((B, L), dtype)
    n_col_chunks = max(1, min(n_threads, N // (4 * vw)))
    n_row_chunks = n_chunks_for(B, n_threads)
    for t in range(T):
        if h_mask is not None:  # recurrent dropout: the masked h_{t-1}
            mask_rows(runtime_zero(B), B, t, lengths, h_n, h_mask, h_prev)
        # rec = P[:, t] + h_{t-1} @ W_hh^T, split over columns
        for c in prange(n_col_chunks):
            j0, j1 = _column_chunk(c, n_col_chunks, N, 4 * vw)
            for s in range(B):
                copy_row(P[s * T + t, j0:j1], rec_p[s, j0:j1])
            if h_mask is not None:
                tile_matmul(h_prev[:, t], W_hhT[:, j0:j1], rec_p[:, j0:j1], 0,
                            B, j1 - j0, H, j0 <= j1)
            else:
                tile_matmul(h_n[:, :H], W_hhT[:, j0:j1], rec_p[:, j0:j1], 0, B,
                            j1 - j0, H, j0 <= j1)
        # the gate math of the step, split over rows
        for c in prange(n_row_chunks):
            s0, s1 = chunk_rows(c, n_row_chunks, B)
            if peep is not None:  # a variant cell
                variant_cells(s0, s1, t, rec_p, b, lengths, H_out, c_n, gates,
                              cells, peep)
            step_rows(s0, s1, t, rec_p, b, lengths, H_out, h_n, c_n, gates,
                      cells, h_prev, peep, h_mask, zone)


def lstm_backward_wide(X, W_ih, W_hh, c0, lengths, gates, cells, h_prev,
                       dH_out, dh_n, dc_n,
                       dX, dW_ih, dW_hh, db, dh0, dc0, dgates, input_grad,
                       peep, dpeep, h_mask, zone):
    """BPTT; arguments as :func:`numlstm.backends.cpu.lstm.lstm_backward`:
    the time loop here, then :func:`.lstm.weight_grads`."""
    H = W_hh.shape[1]
    n_gates = W_hh.shape[0] // H
    G = gate_grad_scratch(dgates, gates, X, H, n_gates)
    _backward_wide_loop(X, W_ih, W_hh, c0, lengths, cells, dH_out,
                        dh_n, dc_n, dX, dh0, dc0, G, bool(input_grad), peep,
                        h_mask, zone, zone_work(zone, X.shape[0], H, X.dtype))
    weight_grads(X, h_prev, G, dW_ih, dW_hh, db)
    if dpeep is not None:  # summed as lstm.lstm_backward sums them
        if sums_per_chunk(X.shape[0], X.shape[2], H, X.itemsize):
            peephole_grads_by_chunks(G, cells, c0, n_gates, dpeep)
        else:
            peephole_grads(G, cells, c0, n_gates, dpeep)


@cpu_parallel_kernel
def _backward_wide_loop(X, W_ih, W_hh, c0, lengths, cells, dH_out,
                        dh_n, dc_n, dX, dh0, dc0, G, input_grad, peep,
                        h_mask, zone, zone_work):
    """The time loop of :func:`lstm_backward_wide`: every step's gate
    gradients in place of its gates in ``G``, ``dX`` (if ``input_grad``),
    ``dh0``, ``dc0``."""
    B, T, D = X.shape
    H = W_hh.shape[1]
    d_in = D if input_grad else runtime_zero(D)
    K = d_in + H
    vw = VECTOR_BYTES // X.itemsize
    W_cat, dxh = backward_setup(X, W_ih, W_hh, dh_n, dc_n, dh0, dc0, d_in)
    NK = padded_width(K, X.itemsize)
    n_threads = num_threads()
    n_col_chunks = max(1, min(n_threads, NK // (4 * vw)))
    n_row_chunks = n_chunks_for(B, n_threads)
    for t in range(T - 1, -1, -1):
        for c in prange(n_row_chunks):
            s0, s1 = chunk_rows(c, n_row_chunks, B)
            if peep is not None:  # a variant cell
                variant_gate_grads(s0, s1, t, c0, lengths, cells, dH_out, dh0,
                                   dc0, G, W_hh.shape[0] // H, peep, zone,
                                   zone_work)
            gate_grads_rows(s0, s1, t, c0, lengths, cells, dH_out, dh0, dc0,
                            G, W_hh.shape[0] // H, peep)
        # [dx_t, dh_{t-1}] = dgates_t @ [W_ih, W_hh], split over columns
        for c in prange(n_col_chunks):
            j0, j1 = _column_chunk(c, n_col_chunks, NK, 4 * vw)
            tile_matmul(G[:, t], W_cat[:, j0:j1], dxh[:, j0:j1], 0, B, j1 - j0,
                        W_cat.shape[0], j1 < j0)
        take_input_grads(runtime_zero(B), B, t, dxh, lengths, dX, dh0, d_in,
                         h_mask, zone_work)
