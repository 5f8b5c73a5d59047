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
are added in order (:mod:`.lstm_weight_grads`; large layers split that
product over its rows instead). The cell math of one step is in
:mod:`.lstm_cell`. No BLAS is called: a multi-threaded BLAS call leaves
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
from ._nonliteral import runtime_false, runtime_true, runtime_zero
from ._threads import num_threads
from .lstm_cell import (
    gate_grads_rows,
    gate_width,
    mask_rows,
    step_rows,
    take_input_grads,
)
from .lstm_cell_variants import (
    peephole_grads,
    peephole_grads_rows,
    sum_peephole_partials,
    variant_cells,
    variant_gate_grads,
)
from .lstm_weight_grads import (
    partial_grads,
    partials_buffers,
    sum_all_partials,
    sums_per_chunk,
    weight_grads_split_k,
)
from .rows import copy_row, copy_rows
from .tile import (
    chunk_rows,
    n_chunks_for,
    padded_width,
    row_length,
    tile_matmul,
    transpose_padded,
)


@cpu_kernel
def _forward_rows(s0, s1, X, W_ihT, W_hhT, b, lengths, H_out, h_n, c_n, gates,
                  cells, h_prev, rec, peep, h_mask, zone):
    """The time loop of :func:`lstm_forward` for the rows ``s0 <= s < s1``."""
    T, D = X.shape[1], X.shape[2]
    H = h_n.shape[1]
    N = padded_width(b.shape[0], X.itemsize)
    for t in range(T):
        # rec = x_t @ W_ih^T + h_{t-1} @ W_hh^T: the second product continues
        # the multiply-add chains of the first, as one product over
        # [x_t, h_{t-1}] would. Every first operand of tile_matmul is passed
        # as a strided ('A' layout) view, here h_n[:, :H] like X[:, t], so
        # that all calls share one compiled specialisation of it (a
        # shorter cold compile)
        tile_matmul(X[:, t], W_ihT, rec, s0, s1, N, D, runtime_false(s0))
        if h_mask is not None:  # recurrent dropout: the masked h_{t-1}
            mask_rows(s0, s1, t, lengths, h_n, h_mask, h_prev)
            tile_matmul(h_prev[:, t], W_hhT, rec, s0, s1, N, H,
                        runtime_true(s0))
        else:
            tile_matmul(h_n[:, :H], W_hhT, rec, s0, s1, N, H, runtime_true(s0))
        if peep is not None:  # a variant cell
            variant_cells(s0, s1, t, rec, b, lengths, H_out, c_n, gates, cells,
                          peep)
        step_rows(s0, s1, t, rec, b, lengths, H_out, h_n, c_n, gates, cells,
                  h_prev, peep, h_mask, zone)


@cpu_parallel_kernel
def lstm_forward(X, W_ih, W_hh, b, h0, c0, lengths,
                 H_out, h_n, c_n, gates, cells, h_prev, rec, peep, h_mask,
                 zone):
    """Run one LSTM layer forward over a batch.

    Parameters
    ----------
    X : (B, T, D) input sequences.
    W_ih, W_hh, b : weights ``(4H, D)``, ``(4H, H)``, bias ``(4H,)`` (3H
        rows each with coupled gates, :mod:`.lstm_cell_variants`).
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
    peep : (3H,) or (2H,) peephole weights (zeros for a variant cell
        without peepholes: coupled gates, zoneout), or None: the plain cell.
    h_mask : (B, H) recurrent dropout mask on ``h_{t-1}`` in the recurrent
        product (``h_prev`` then holds the masked state), or None.
    zone : (B, T, H) zoneout weights (each unit keeps that share of its
        previous ``c`` and ``h``; ``cells`` and ``H_out`` hold the zoned
        state), or None. Not with peepholes.

    Every variant argument is None or an array, and the kernels test them
    with ``is None``, which Numba decides when it compiles: a plain layer's
    kernels compile no variant code (a cold compile as long as before the
    variants), each variant's compile only what it runs.
    """
    B = X.shape[0]
    # work arrays, once per call: W_ih^T and W_hh^T zero-padded to whole
    # vectors, and the gate pre-activations of one step
    W_ihT = transpose_padded(W_ih)
    W_hhT = transpose_padded(W_hh)
    rec_p = np.empty((B, W_hhT.shape[1]), X.dtype)
    copy_rows(h0, h_n)
    copy_rows(c0, c_n)
    n_chunks = n_chunks_for(B, num_threads())
    if n_chunks == 1:  # no thread launch for a small batch
        _forward_rows(runtime_zero(B), B, X, W_ihT, W_hhT, b, lengths, H_out,
                      h_n, c_n, gates, cells, h_prev, rec_p, peep, h_mask,
                      zone)
    else:
        for c in prange(n_chunks):
            s0, s1 = chunk_rows(c, n_chunks, B)
            _forward_rows(s0, s1, X, W_ihT, W_hhT, b, lengths, H_out, h_n, c_n,
                          gates, cells, h_prev, rec_p, peep, h_mask, zone)


@cpu_kernel
def _backward_rows(s0, s1, X, W_cat, c0, lengths, cells, dH_out, dX,
                   dh0, dc0, G, dxh, d_in, peep, h_mask, zone, zone_work):
    """The time loop of :func:`lstm_backward` for the rows ``s0 <= s < s1``."""
    T = X.shape[1]
    H = dh0.shape[1]
    K = d_in + H
    n_cols = W_cat.shape[0]
    for t in range(T - 1, -1, -1):
        if peep is not None:  # a variant cell
            variant_gate_grads(s0, s1, t, c0, lengths, cells, dH_out, dh0, dc0,
                               G, n_cols // H, peep, zone, zone_work)
        gate_grads_rows(s0, s1, t, c0, lengths, cells, dH_out, dh0, dc0, G,
                        n_cols // H, peep)
        # [dx_t, dh_{t-1}] = dgates_t @ [W_ih, W_hh] (dh_{t-1} alone when
        # dX is not wanted)
        tile_matmul(G[:, t], W_cat, dxh, s0, s1, padded_width(K, X.itemsize),
                    n_cols, runtime_false(s0))
        take_input_grads(s0, s1, t, dxh, lengths, dX, dh0, d_in, h_mask,
                         zone_work)


def gate_grad_scratch(dgates, gates, X, n_hidden, n_gates):
    """The array the backward kernels work in, of :func:`gate_width` rows:
    it holds the gates on entry and the gate gradients on exit.

    ``gates`` itself when ``dgates`` is ``gates`` with rows that long (the
    ``numlstm.nn.LSTM`` workspace: nothing copied, the gates are consumed);
    otherwise ``dgates`` (or a new array, when its rows are not that long)
    with the gates copied in.
    """
    B, T = X.shape[0], X.shape[1]
    width = gate_width(n_hidden, X.itemsize, n_gates)
    if dgates is gates and gates.shape == (B, T, width):
        return gates
    G = dgates if dgates.shape == (B, T, width) else np.empty((B, T, width),
                                                              X.dtype)
    n_cols = n_gates * n_hidden
    G[:, :, :n_cols] = gates[:, :, :n_cols]
    return G



@cpu_kernel
def backward_setup(X, W_ih, W_hh, dh_n, dc_n, dh0, dc0, d_in):
    """Start a backward pass: ``dh0``/``dc0`` take ``dh_n``/``dc_n`` (they
    carry the running gradient of ``(h_t, c_t)`` back in time), and the
    work arrays: ``[W_ih, W_hh]`` (4H or 3H, d_in + H) zero-padded to whole
    vectors (``W_hh`` alone when ``d_in`` is 0: no ``dX`` wanted) and the
    products ``[dx_t, dh_{t-1}]`` of one step."""
    B = X.shape[0]
    H = W_hh.shape[1]
    K = d_in + H
    copy_rows(dh_n, dh0)
    copy_rows(dc_n, dc0)
    L = row_length(padded_width(K, X.itemsize), X.itemsize)
    W_cat = np.zeros((W_hh.shape[0], L), X.dtype)
    for j in range(W_hh.shape[0]):
        if d_in > 0:
            copy_row(W_ih[j], W_cat[j, :d_in])
        copy_row(W_hh[j], W_cat[j, d_in:K])
    dxh = np.empty((B, L), X.dtype)
    return W_cat, dxh


@cpu_kernel
def _backward_chunk(c, n_chunks, X, W_cat, c0, lengths, cells, h_prev,
                    dH_out, dX, dh0, dc0, G, dxh, P, db_p, d_in, per_chunk,
                    peep, h_mask, zone, zone_work, dpeep_p):
    """Chunk ``c`` of :func:`lstm_backward`: the time loop of its rows, then,
    if ``per_chunk``, the partial sums of their weight gradients (on the gate
    gradients still in this thread's caches), the peephole weights' too
    when ``dpeep_p`` has room for them."""
    s0, s1 = chunk_rows(c, n_chunks, X.shape[0])
    _backward_rows(s0, s1, X, W_cat, c0, lengths, cells, dH_out, dX,
                   dh0, dc0, G, dxh, d_in, peep, h_mask, zone, zone_work)
    if per_chunk:
        partial_grads(s0, s1, X, h_prev, G, P[c], db_p[c])
        if dpeep_p is not None:
            peephole_grads_rows(s0, s1, G, cells, c0,
                                W_cat.shape[0] // c0.shape[1], dpeep_p[c])


def lstm_backward(X, W_ih, W_hh, c0, lengths, gates, cells, h_prev,
                  dH_out, dh_n, dc_n,
                  dX, dW_ih, dW_hh, db, dh0, dc0, dgates, input_grad,
                  peep, dpeep, h_mask, zone):
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
    peep : the peephole weights as given to :func:`lstm_forward`.
    dpeep : their gradient (out), or None (no peepholes).
    h_mask, zone : the recurrent dropout mask and zoneout weights given to
        :func:`lstm_forward`.

    The time loops and, in most cases, the weight gradients run in one
    parallel kernel; for large layers (:func:`sums_per_chunk` False) the
    weight gradients follow in :func:`weight_grads_split_k`. The choice is
    made here so that each kernel compiles only what it runs.
    """
    B, _, D = X.shape
    H = W_hh.shape[1]
    G = gate_grad_scratch(dgates, gates, X, H, W_hh.shape[0] // H)
    per_chunk = sums_per_chunk(B, D, H, X.itemsize)
    # the peephole weights' per-chunk sums, when the chunks sum the others
    dpeep_p = None
    if dpeep is not None and per_chunk:
        n_chunks = n_chunks_for.py_func(B, numba.get_num_threads())
        dpeep_p = np.empty((n_chunks, dpeep.shape[0]), X.dtype)
    _backward_kernel(X, W_ih, W_hh, c0, lengths, cells, h_prev, dH_out,
                     dh_n, dc_n, dX, dW_ih, dW_hh, db, dh0, dc0, G,
                     bool(input_grad), per_chunk, peep, h_mask, zone,
                     zone_work(zone, B, H, X.dtype), dpeep, dpeep_p)
    if not per_chunk:
        weight_grads_split_k(X, h_prev, G, dW_ih, dW_hh, db)
        if dpeep is not None:
            peephole_grads(G, cells, c0, W_hh.shape[0] // H, dpeep)


def zone_work(zone, B, H, dtype):
    """The backward's zoneout scratch ``(B, 5, H)``, or None without
    zoneout (:func:`.lstm_cell_variants.variant_gate_grads`)."""
    return None if zone is None else np.zeros((B, 5, H), dtype)


@cpu_parallel_kernel
def _backward_kernel(X, W_ih, W_hh, c0, lengths, cells, h_prev,
                     dH_out, dh_n, dc_n, dX, dW_ih, dW_hh, db, dh0, dc0, G,
                     input_grad, per_chunk, peep, h_mask, zone, zone_work,
                     dpeep, dpeep_p):
    """:func:`lstm_backward` on ``G`` (:func:`gate_width` rows, the gates
    on entry, their gradients on exit); the weight gradients (and the
    peephole weights', into ``dpeep`` through ``dpeep_p`` when that is not
    None) only when ``per_chunk``."""
    B, D = X.shape[0], X.shape[2]
    d_in = D if input_grad else runtime_zero(D)
    W_cat, dxh = backward_setup(X, W_ih, W_hh, dh_n, dc_n, dh0, dc0, d_in)
    n_chunks = n_chunks_for(B, num_threads())
    P, db_p = partials_buffers(n_chunks if per_chunk else 0, X, h_prev, G,
                               db.shape[0])
    if n_chunks == 1:
        _backward_chunk(runtime_zero(B), 1, X, W_cat, c0, lengths, cells, h_prev,
                        dH_out, dX, dh0, dc0, G, dxh, P, db_p, d_in, per_chunk,
                        peep, h_mask, zone, zone_work, dpeep_p)
    else:
        for c in prange(n_chunks):
            _backward_chunk(c, n_chunks, X, W_cat, c0, lengths, cells, h_prev,
                            dH_out, dX, dh0, dc0, G, dxh, P, db_p, d_in,
                            per_chunk, peep, h_mask, zone, zone_work, dpeep_p)
    if per_chunk:
        sum_all_partials(P, db_p, dW_ih, dW_hh, db)
        if dpeep_p is not None:
            sum_peephole_partials(dpeep_p, dpeep)
