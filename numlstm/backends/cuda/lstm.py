"""The LSTM layer on CUDA: a product for the inputs of all steps, then the
whole time loop in one launch, then products for the gradients.

Forward:

1. the input projection ``b + x_t W_ih^T`` of every row and step in one
   tiled product (:mod:`.gemm`) straight into ``gates``;
2. the time loop in one launch, with the rows design of :mod:`.plan`: each
   block owns :data:`~.plan.ROWS_PER_BLOCK` batch rows for all ``T`` steps.
   Rows are independent through time, so no grid barrier is needed, only
   ``syncthreads`` between the two phases of a step: every ``(row, gate
   column)`` adds ``h_{t-1} W_hh^T`` to its pre-activation, then every
   ``(row, unit)`` activates its four gates in place and updates ``c_t``,
   ``h_t`` and the caches of the backward pass.

Backward: the time loop in one launch (gate gradients in place, ``dh``
carried through ``W_hh``), then ``dW_ih = G^T X``, ``dW_hh = G^T h_prev``
and ``dX = G W_ih`` as tiled products over all rows and steps, and ``db``
as column sums.

``h`` and ``c`` of the block's rows live in dynamic shared memory; ``W_hh``
is read from global memory (L1/L2) on every step. Keeping it resident in
shared memory (which needs the opt-in above 48 KiB) and the cooperative
kernel for large layers are the next steps, to be measured on a GPU.
Padded steps follow the CPU kernels: the state is carried, and ``H_out``,
``gates`` and ``h_prev`` are 0 there.
"""

import numpy as np
from numba import cuda

from . import scalar
from ._jit import cuda_kernel
from .gemm import column_sums, gemm
from .plan import ROWS_PER_BLOCK, check_layer_fits


@cuda_kernel
def _forward_rows_kernel(W_hh, h0, c0, lengths, H_out, h_n, c_n, gates,
                         cells, h_prev, one, zero):
    """The time loop; ``gates`` comes in holding ``b + x_t W_ih^T``."""
    B, T, _ = gates.shape
    H = h_n.shape[1]
    R = ROWS_PER_BLOCK
    row0 = cuda.blockIdx.x * R
    tid = cuda.threadIdx.x
    n_threads = cuda.blockDim.x
    state = cuda.shared.array(0, dtype=gates.dtype)
    # state[r * H + u] is h of row r, state[R * H + r * H + u] its c
    for k in range(tid, R * H, n_threads):
        s = row0 + k // H
        if s < B:
            state[k] = h0[s, k % H]
            state[R * H + k] = c0[s, k % H]
    cuda.syncthreads()
    for t in range(T):
        for k in range(tid, R * 4 * H, n_threads):
            r = k // (4 * H)
            j = k % (4 * H)
            s = row0 + r
            if s < B and t < lengths[s]:
                acc = gates[s, t, j]
                for q in range(H):
                    acc += state[r * H + q] * W_hh[j, q]
                gates[s, t, j] = acc
        cuda.syncthreads()
        for k in range(tid, R * H, n_threads):
            r = k // H
            u = k % H
            s = row0 + r
            if s < B:
                if t < lengths[s]:
                    i = scalar.sigmoid(gates[s, t, u], one)
                    f = scalar.sigmoid(gates[s, t, H + u], one)
                    g = scalar.tanh(gates[s, t, 2 * H + u])
                    o = scalar.sigmoid(gates[s, t, 3 * H + u], one)
                    gates[s, t, u] = i
                    gates[s, t, H + u] = f
                    gates[s, t, 2 * H + u] = g
                    gates[s, t, 3 * H + u] = o
                    h_prev[s, t, u] = state[k]
                    c = scalar.lstm_cell(i, f, g, state[R * H + k])
                    h = o * scalar.tanh(c)
                    cells[s, t, u] = c
                    H_out[s, t, u] = h
                    state[k] = h
                    state[R * H + k] = c
                else:
                    for m in range(4):
                        gates[s, t, m * H + u] = zero
                    cells[s, t, u] = state[R * H + k]
                    h_prev[s, t, u] = zero
                    H_out[s, t, u] = zero
        cuda.syncthreads()
    for k in range(tid, R * H, n_threads):
        s = row0 + k // H
        if s < B:
            h_n[s, k % H] = state[k]
            c_n[s, k % H] = state[R * H + k]


def lstm_forward(X, W_ih, W_hh, b, h0, c0, lengths,
                 H_out, h_n, c_n, gates, cells, h_prev, rec):
    """One LSTM layer forward over ragged sequences (see the contract);
    ``rec`` is unused here (the pre-activations go straight into ``gates``).
    """
    B, T, D = X.shape
    H = h_n.shape[1]
    check_layer_fits(H, X.dtype.itemsize)
    gemm(X.reshape(B * T, D), W_ih, gates.reshape(B * T, 4 * H), bias=b,
         b_t=True)
    R = ROWS_PER_BLOCK
    blocks = -(-B // R)
    threads = min(256, max(32, -(-(R * 4 * H) // 32) * 32))
    shared = 2 * R * H * X.dtype.itemsize
    dtype = np.dtype(X.dtype).type
    _forward_rows_kernel[blocks, threads, 0, shared](
        W_hh, h0, c0, lengths, H_out, h_n, c_n, gates, cells, h_prev,
        dtype(1), dtype(0))


# ------------------------------------------------------------------ backward

@cuda_kernel
def _backward_rows_kernel(W_hh, c0, lengths, gates, cells, dH_out, dh_n, dc_n,
                          dh0, dc0, dgates, one, zero):
    """BPTT through the time loop: the gate gradients of every step into
    ``dgates`` (which may be ``gates``: each thread reads its unit's four
    gates before writing their gradients), and ``dh0``, ``dc0``."""
    B, T, _ = gates.shape
    H = dh_n.shape[1]
    R = ROWS_PER_BLOCK
    row0 = cuda.blockIdx.x * R
    tid = cuda.threadIdx.x
    n_threads = cuda.blockDim.x
    state = cuda.shared.array(0, dtype=gates.dtype)
    # state[r * H + u] is dh of row r, state[R * H + r * H + u] its dc
    for k in range(tid, R * H, n_threads):
        s = row0 + k // H
        if s < B:
            state[k] = dh_n[s, k % H]
            state[R * H + k] = dc_n[s, k % H]
    cuda.syncthreads()
    for t in range(T - 1, -1, -1):
        for k in range(tid, R * H, n_threads):
            r = k // H
            u = k % H
            s = row0 + r
            if s < B:
                if t < lengths[s]:
                    i = gates[s, t, u]
                    f = gates[s, t, H + u]
                    g = gates[s, t, 2 * H + u]
                    o = gates[s, t, 3 * H + u]
                    c_prev = cells[s, t - 1, u] if t > 0 else c0[s, u]
                    dh = state[k] + dH_out[s, t, u]
                    do, dc = scalar.lstm_output_grads(
                        dh, state[R * H + k], o, scalar.tanh(cells[s, t, u]), one)
                    di, df, dg, dc_prev = scalar.lstm_cell_grads(
                        dc, i, f, g, c_prev, one)
                    dgates[s, t, u] = di
                    dgates[s, t, H + u] = df
                    dgates[s, t, 2 * H + u] = dg
                    dgates[s, t, 3 * H + u] = do
                    state[R * H + k] = dc_prev
                else:
                    for m in range(4):
                        dgates[s, t, m * H + u] = zero
        cuda.syncthreads()
        # dh_{t-1} = dgates_t @ W_hh on the live rows (padding carries dh)
        for k in range(tid, R * H, n_threads):
            r = k // H
            q = k % H
            s = row0 + r
            if s < B and t < lengths[s]:
                acc = zero
                for j in range(4 * H):
                    acc += dgates[s, t, j] * W_hh[j, q]
                state[k] = acc
        cuda.syncthreads()
    for k in range(tid, R * H, n_threads):
        s = row0 + k // H
        if s < B:
            dh0[s, k % H] = state[k]
            dc0[s, k % H] = state[R * H + k]


def lstm_gate_grad_width(n_hidden: int, dtype) -> int:
    """Row length of ``gates``: ``4H`` (the backward needs no padding); a
    layer the kernels cannot run is refused here (see the contract)."""
    check_layer_fits(int(n_hidden), np.dtype(dtype).itemsize)
    return 4 * int(n_hidden)


def lstm_backward(X, W_ih, W_hh, c0, lengths, gates, cells, h_prev,
                  dH_out, dh_n, dc_n, dX, dW_ih, dW_hh, db, dh0, dc0,
                  dgates, input_grad):
    """BPTT of :func:`lstm_forward` (see the contract): the time loop in one
    launch, then the weight gradients and, when ``input_grad``, ``dX``."""
    B, H = dh_n.shape
    check_layer_fits(H, X.dtype.itemsize)
    R = ROWS_PER_BLOCK
    dtype = np.dtype(X.dtype).type
    threads = min(256, max(32, -(-(R * H) // 32) * 32))
    _backward_rows_kernel[-(-B // R), threads, 0, 2 * R * H * X.dtype.itemsize](
        W_hh, c0, lengths, gates, cells, dH_out, dh_n, dc_n, dh0, dc0, dgates,
        dtype(1), dtype(0))
    # over every (row, step) in order: G (B T, 4H)
    T, D = X.shape[1], X.shape[2]
    G = dgates.reshape(B * T, 4 * H)
    gemm(G, X.reshape(B * T, D), dW_ih, a_t=True)
    gemm(G, h_prev.reshape(B * T, H), dW_hh, a_t=True)
    column_sums(G, db)
    if input_grad:
        gemm(G, W_ih, dX.reshape(B * T, D))
