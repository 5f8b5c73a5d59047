"""One LSTM layer over a batch of sequences: forward and full BPTT (CPU).

Layout is batch-first, ``X`` of shape ``(B, T, D)``, with the canonical
(PyTorch) weights: ``W_ih (4H, D)``, ``W_hh (4H, H)``, ``b (4H,)``, gate
blocks in the order i, f, g, o.

The shape of the work follows oneDNN/cuDNN: the input projection
``X W_ih^T`` of every step is one matrix product before the time loop; inside
the loop only ``h W_hh^T`` is computed step by step (one GEMM into a
preallocated buffer), fused with the gate math; in the backward pass
``dX``, ``dW_ih`` and ``dW_hh`` are single matrix products after the loop.

Ragged batches: ``lengths[b]`` is the number of real steps of sequence ``b``.
At a padded step (``t >= lengths[b]``) the state is carried unchanged, the
output is zero, and the step receives and passes on no gradient of its own:
``dH_out`` there is ignored, so padding never leaks into a loss.

Kernels only read their inputs and write their outputs; they allocate
nothing and raise nothing. All arrays must be C-contiguous and of one float
dtype (checked by the caller, see :mod:`numlstm.backends.cpu`).
"""

import numpy as np
from numba import prange

from ._jit import cpu_kernel, cpu_parallel_kernel
from ._threads import num_threads
from .fastexp import sigmoid_fast, tanh_fast
from .linalg import np_dot_into
from .matmul import matmul_nt_rows

# The gate math of one row is a few simple loops over contiguous 1-D rows, each
# with few arrays, so that LLVM vectorises every one of them (see
# docs/architecture.md, "Kernel performance").


@cpu_kernel
def _activate_row(g, r, b, H):
    """``g = act(g + r + b)`` in place: sigmoid on i, f, o; tanh on g."""
    for j in range(2 * H):
        g[j] = sigmoid_fast(g[j] + r[j] + b[j])
    for j in range(2 * H, 3 * H):
        g[j] = tanh_fast(g[j] + r[j] + b[j])
    for j in range(3 * H, 4 * H):
        g[j] = sigmoid_fast(g[j] + r[j] + b[j])


@cpu_kernel
def _cell_row(g, c_prev, c_out, H):
    """``c_out = f * c_prev + i * g`` from the activated gates ``g``."""
    for j in range(H):
        c_out[j] = g[H + j] * c_prev[j] + g[j] * g[2 * H + j]


@cpu_kernel
def _hidden_row(g, c, h_out, H):
    """``h_out = o * tanh(c)``."""
    for j in range(H):
        h_out[j] = g[3 * H + j] * tanh_fast(c[j])


@cpu_kernel
def _copy_row(src, dst):
    for j in range(src.size):
        dst[j] = src[j]


@cpu_kernel
def _zero_row(dst):
    for j in range(dst.size):
        dst[j] = 0.0


@cpu_kernel
def _row_chunk(c, n_chunks, B):
    """Rows ``[s0, s1)`` of chunk ``c``: pairs of rows split as evenly as possible."""
    pairs = (B + 1) // 2
    s0 = 2 * (pairs * c // n_chunks)
    s1 = min(B, 2 * (pairs * (c + 1) // n_chunks))
    return s0, s1


@cpu_kernel
def _n_chunks(B, n_threads):
    """One chunk of rows per thread, at least a pair of rows per chunk."""
    return max(1, min(n_threads, (B + 1) // 2))


@cpu_kernel
def _forward_rows(s0, s1, W_hh, b, lengths, H_out, h_n, c_n, gates, cells,
                  h_prev, rec):
    """The time loop of :func:`lstm_forward` for the rows ``s0 <= s < s1``."""
    T = gates.shape[1]
    H = W_hh.shape[1]
    for t in range(T):
        matmul_nt_rows(h_n, W_hh, rec, s0, s1)
        for s in range(s0, s1):
            if t < lengths[s]:
                g = gates[s, t]
                _activate_row(g, rec[s], b, H)
                _copy_row(h_n[s], h_prev[s, t])
                _cell_row(g, c_n[s], cells[s, t], H)
                _hidden_row(g, cells[s, t], H_out[s, t], H)
                _copy_row(cells[s, t], c_n[s])
                _copy_row(H_out[s, t], h_n[s])
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
    rec : (B, 4H) scratch for the recurrent product.
    """
    B, T, D = X.shape
    H = W_hh.shape[1]
    h_n[:] = h0
    c_n[:] = c0
    np_dot_into(X.reshape(B * T, D), W_ih.T, gates.reshape(B * T, 4 * H))
    n_chunks = _n_chunks(B, num_threads())
    for c in prange(n_chunks):
        s0, s1 = _row_chunk(c, n_chunks, B)
        _forward_rows(s0, s1, W_hh, b, lengths, H_out, h_n, c_n, gates, cells,
                      h_prev, rec)


@cpu_kernel
def _gate_grads_row(dh_next, dH_t, g, c, c_prev, dc, dg_t, dg, H):
    """Gate pre-activation gradients of one row of one step.

    ``dc`` holds the gradient of ``c_t`` from step ``t + 1`` on entry and
    that of ``c_{t-1}`` on exit; ``dg_t`` and ``dg`` both receive the four
    gate blocks.
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
    _copy_row(dg_t, dg)


@cpu_kernel
def _backward_rows(s0, s1, W_hhT, c0, lengths, gates, cells, dH_out, dh0, dc0,
                   dgates, dgates_t, drec):
    """The time loop of :func:`lstm_backward` for the rows ``s0 <= s < s1``."""
    T = gates.shape[1]
    H = W_hhT.shape[0]
    for t in range(T - 1, -1, -1):
        for s in range(s0, s1):
            if t < lengths[s]:
                c_prev = cells[s, t - 1] if t > 0 else c0[s]
                _gate_grads_row(dh0[s], dH_out[s, t], gates[s, t], cells[s, t],
                                c_prev, dc0[s], dgates_t[s], dgates[s, t], H)
            else:
                _zero_row(dgates_t[s])
                _zero_row(dgates[s, t])
        matmul_nt_rows(dgates_t, W_hhT, drec, s0, s1)
        for s in range(s0, s1):
            if t < lengths[s]:
                _copy_row(drec[s], dh0[s])


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
    dgates : (B, T, 4H) scratch, gate pre-activation gradients.
    dgates_t : (B, 4H) scratch, the same for the current step.
    drec : (B, H) scratch for the recurrent product.
    """
    B, T, D = X.shape
    H = W_hh.shape[1]
    # dh0 and dc0 carry the running gradient of (h_t, c_t) back in time.
    dh0[:] = dh_n
    dc0[:] = dc_n
    # W_hh^T with contiguous rows, for the product dgates_t @ W_hh (allocated
    # once per call, before the time loop).
    W_hhT = np.ascontiguousarray(W_hh.T)
    n_chunks = _n_chunks(B, num_threads())
    for c in prange(n_chunks):
        s0, s1 = _row_chunk(c, n_chunks, B)
        _backward_rows(s0, s1, W_hhT, c0, lengths, gates, cells, dH_out, dh0,
                       dc0, dgates, dgates_t, drec)
    G = dgates.reshape(B * T, 4 * H)
    np_dot_into(G.T, X.reshape(B * T, D), dW_ih)
    np_dot_into(G.T, h_prev.reshape(B * T, H), dW_hh)
    np_dot_into(G, W_ih, dX.reshape(B * T, D))
    db[:] = 0.0
    for r in range(B * T):
        for k in range(4 * H):
            db[k] += G[r, k]
