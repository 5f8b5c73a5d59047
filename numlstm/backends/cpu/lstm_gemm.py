"""One LSTM layer over a batch, built on BLAS GEMMs: the path for large layers.

Same signatures, layout and ragged-batch rules as :mod:`.lstm` (read its
docstring first); :mod:`numlstm.backends.cpu` picks this version when the
weights outgrow the caches (:func:`numlstm.backends.cpu.use_gemm`).

Where :mod:`.lstm` splits the rows of the batch over Numba threads and runs a
hand-written product per step, this version hands every product to the
multi-threaded BLAS (the one SciPy ships, through Numba's ``np.dot``), and
runs the gate math in the calling thread, never in a parallel region (BLAS
threads and Numba threads at once fight over the cores):

- forward: the input projection of all steps is one GEMM
  ``X (B*T, D) @ W_ih^T``, written into ``gates``; each step adds one
  ``h_{t-1} (B, H) @ W_hh^T`` GEMM;
- backward: each step computes the gate gradients of the batch and one
  ``dgates_t (B, 4H) @ W_hh`` GEMM for ``dh_{t-1}``; after the loop
  ``dX``, ``dW_ih``, ``dW_hh`` are three GEMMs over all ``B*T`` steps.

With weights of tens of MiB the per-step GEMMs are large enough for BLAS's
packed kernels and threads to pay off. Unlike :mod:`.lstm`, a row's result
may differ in the last bit with the batch it is computed in (BLAS blocks
rows together).
"""

import numpy as np

from ._jit import cpu_kernel
from .lstm import (
    _activate_row,
    _add_into,
    _cell_row,
    _copy_row,
    _gate_grads_row,
    _zero_row,
)


@cpu_kernel
def lstm_forward_gemm(X, W_ih, W_hh, b, h0, c0, lengths,
                      H_out, h_n, c_n, gates, cells, h_prev, rec):
    """Forward pass; arguments as :func:`numlstm.backends.cpu.lstm.lstm_forward`."""
    B, T, D = X.shape
    H = W_hh.shape[1]
    for s in range(B):
        _copy_row(h0[s], h_n[s])
        _copy_row(c0[s], c_n[s])
    # the transposed weights, contiguous: OpenBLAS's small-matrix kernels are
    # up to 3x faster on them than on a transposed view (B=32, H=64)
    W_ihT = np.ascontiguousarray(W_ih.T)
    W_hhT = np.ascontiguousarray(W_hh.T)
    # gates[s, t] holds x_t @ W_ih^T until step t turns it into the gates
    np.dot(X.reshape((B * T, D)), W_ihT, gates.reshape((B * T, 4 * H)))
    for t in range(T):
        np.dot(h_n, W_hhT, rec)
        for s in range(B):
            g = gates[s, t]
            if t < lengths[s]:
                _add_into(g, rec[s])
                _activate_row(rec[s], b, g, H)
                _copy_row(h_n[s], h_prev[s, t])
                _cell_row(g, c_n[s], cells[s, t], H_out[s, t], H)
                _copy_row(cells[s, t], c_n[s])
                _copy_row(H_out[s, t], h_n[s])
            else:
                _zero_row(g)
                _copy_row(c_n[s], cells[s, t])
                _zero_row(h_prev[s, t])
                _zero_row(H_out[s, t])


@cpu_kernel
def lstm_backward_gemm(X, W_ih, W_hh, c0, lengths, gates, cells, h_prev,
                       dH_out, dh_n, dc_n,
                       dX, dW_ih, dW_hh, db, dh0, dc0, dgates, dgates_t, drec):
    """BPTT; arguments as :func:`numlstm.backends.cpu.lstm.lstm_backward`.

    Here ``dgates`` (B, T, 4H) receives the gate gradients of every step,
    ``dgates_t`` (B, 4H) those of the current step and ``drec`` (B, H) the
    product ``dgates_t @ W_hh``.
    """
    B, T, D = X.shape
    H = W_hh.shape[1]
    # dh0 and dc0 carry the running gradient of (h_t, c_t) back in time
    for s in range(B):
        _copy_row(dh_n[s], dh0[s])
        _copy_row(dc_n[s], dc0[s])
    for t in range(T - 1, -1, -1):
        for s in range(B):
            if t < lengths[s]:
                c_prev = cells[s, t - 1] if t > 0 else c0[s]
                _gate_grads_row(dh0[s], dH_out[s, t], gates[s, t], cells[s, t],
                                c_prev, dc0[s], dgates_t[s], H)
            else:
                _zero_row(dgates_t[s])
            _copy_row(dgates_t[s], dgates[s, t])
        np.dot(dgates_t, W_hh, drec)
        for s in range(B):
            if t < lengths[s]:
                _copy_row(drec[s], dh0[s])
    G = dgates.reshape((B * T, 4 * H))
    np.dot(G, W_ih, dX.reshape((B * T, D)))
    np.dot(G.T, X.reshape((B * T, D)), dW_ih)
    np.dot(G.T, h_prev.reshape((B * T, H)), dW_hh)
    _zero_row(db)
    for r in range(B * T):
        _add_into(G[r], db)
