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

import math

from ._jit import cpu_kernel
from .activations import sigmoid_s
from .linalg import np_dot_into


@cpu_kernel
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
    for t in range(T):
        np_dot_into(h_n, W_hh.T, rec)
        for s in range(B):
            if t < lengths[s]:
                for j in range(H):
                    i = sigmoid_s(gates[s, t, j] + rec[s, j] + b[j])
                    f = sigmoid_s(gates[s, t, H + j] + rec[s, H + j] + b[H + j])
                    g = math.tanh(gates[s, t, 2 * H + j] + rec[s, 2 * H + j]
                                  + b[2 * H + j])
                    o = sigmoid_s(gates[s, t, 3 * H + j] + rec[s, 3 * H + j]
                                  + b[3 * H + j])
                    gates[s, t, j] = i
                    gates[s, t, H + j] = f
                    gates[s, t, 2 * H + j] = g
                    gates[s, t, 3 * H + j] = o
                    c = f * c_n[s, j] + i * g
                    h = o * math.tanh(c)
                    h_prev[s, t, j] = h_n[s, j]
                    cells[s, t, j] = c
                    c_n[s, j] = c
                    h_n[s, j] = h
                    H_out[s, t, j] = h
            else:
                gates[s, t, :] = 0.0
                cells[s, t, :] = c_n[s, :]
                h_prev[s, t, :] = 0.0
                H_out[s, t, :] = 0.0


@cpu_kernel
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
    for t in range(T - 1, -1, -1):
        for s in range(B):
            if t < lengths[s]:
                for j in range(H):
                    dh = dh0[s, j] + dH_out[s, t, j]
                    i = gates[s, t, j]
                    f = gates[s, t, H + j]
                    g = gates[s, t, 2 * H + j]
                    o = gates[s, t, 3 * H + j]
                    c_prev = cells[s, t - 1, j] if t > 0 else c0[s, j]
                    tc = math.tanh(cells[s, t, j])
                    dc = dc0[s, j] + dh * o * (1.0 - tc * tc)
                    dai = dc * g * i * (1.0 - i)
                    daf = dc * c_prev * f * (1.0 - f)
                    dag = dc * i * (1.0 - g * g)
                    dao = dh * tc * o * (1.0 - o)
                    dgates_t[s, j] = dai
                    dgates_t[s, H + j] = daf
                    dgates_t[s, 2 * H + j] = dag
                    dgates_t[s, 3 * H + j] = dao
                    dgates[s, t, j] = dai
                    dgates[s, t, H + j] = daf
                    dgates[s, t, 2 * H + j] = dag
                    dgates[s, t, 3 * H + j] = dao
                    dc0[s, j] = dc * f
            else:
                dgates_t[s, :] = 0.0
                dgates[s, t, :] = 0.0
        np_dot_into(dgates_t, W_hh, drec)
        for s in range(B):
            if t < lengths[s]:
                dh0[s, :] = drec[s, :]
    G = dgates.reshape(B * T, 4 * H)
    np_dot_into(G.T, X.reshape(B * T, D), dW_ih)
    np_dot_into(G.T, h_prev.reshape(B * T, H), dW_hh)
    np_dot_into(G, W_ih, dX.reshape(B * T, D))
    db[:] = 0.0
    for r in range(B * T):
        for k in range(4 * H):
            db[k] += G[r, k]
