"""The LSTM layer's forward pass on CUDA: the whole time loop in one launch.

The rows design of :mod:`.plan`: each block owns :data:`~.plan.ROWS_PER_BLOCK`
batch rows for all ``T`` steps. Rows are independent through time, so no
grid barrier is needed, only ``syncthreads`` between the two phases of a
step:

1. every ``(row, gate column)`` pre-activation ``b + x_t W_ih^T + h_{t-1}
   W_hh^T`` into ``gates`` (a thread per item, grid-stride);
2. every ``(row, unit)``: the four gates activated in place, ``c_t``,
   ``h_t``, and the caches of the backward pass.

``h`` and ``c`` of the block's rows live in dynamic shared memory. This first
version reads ``W_ih`` and ``W_hh`` from global memory (L1/L2) on every step.
Keeping ``W_hh`` resident in shared memory and hoisting the input projection
into one GEMM before the loop, as the design plans, is the next step, to be
measured on a GPU. Padded steps follow the CPU kernels: the state is carried,
and ``H_out``, ``gates`` and ``h_prev`` are 0 there.
"""

import numpy as np
from numba import cuda

from . import scalar
from ._jit import cuda_kernel, launch_shape
from .plan import ROWS_PER_BLOCK, check_layer_fits


@cuda_kernel
def _forward_rows_kernel(X, W_ih, W_hh, b, h0, c0, lengths, H_out, h_n, c_n,
                         gates, cells, h_prev, one, zero):
    B, T, D = X.shape
    H = h_n.shape[1]
    R = ROWS_PER_BLOCK
    row0 = cuda.blockIdx.x * R
    tid = cuda.threadIdx.x
    n_threads = cuda.blockDim.x
    state = cuda.shared.array(0, dtype=X.dtype)
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
                acc = b[j]
                for d in range(D):
                    acc += X[s, t, d] * W_ih[j, d]
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
    B, H = h_n.shape
    check_layer_fits(H, X.dtype.itemsize)
    R = ROWS_PER_BLOCK
    blocks = -(-B // R)
    threads = min(256, max(32, -(-(R * 4 * H) // 32) * 32))
    shared = 2 * R * H * X.dtype.itemsize
    dtype = np.dtype(X.dtype).type
    _forward_rows_kernel[blocks, threads, 0, shared](
        X, W_ih, W_hh, b, h0, c0, lengths, H_out, h_n, c_n, gates, cells,
        h_prev, dtype(1), dtype(0))


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


@cuda_kernel
def _weight_grads_kernel(X, h_prev, dgates, zero, dW_ih, dW_hh, db):
    """``dW_ih = G^T X``, ``dW_hh = G^T h_prev``, ``db`` the column sums of
    ``G``, over every (row, step) in order: one thread per output element,
    no atomics, so the sums do not depend on the launch."""
    B, T, D = X.shape
    H = h_prev.shape[2]
    n_ih = dW_ih.size
    n_hh = dW_hh.size
    for k in range(cuda.grid(1), n_ih + n_hh + db.size, cuda.gridsize(1)):
        acc = zero
        if k < n_ih:
            j = k // D
            d = k % D
            for s in range(B):
                for t in range(T):
                    acc += dgates[s, t, j] * X[s, t, d]
            dW_ih[j, d] = acc
        elif k < n_ih + n_hh:
            j = (k - n_ih) // H
            q = (k - n_ih) % H
            for s in range(B):
                for t in range(T):
                    acc += dgates[s, t, j] * h_prev[s, t, q]
            dW_hh[j, q] = acc
        else:
            j = k - n_ih - n_hh
            for s in range(B):
                for t in range(T):
                    acc += dgates[s, t, j]
            db[j] = acc


@cuda_kernel
def _input_grads_kernel(W_ih, dgates, zero, dX):
    """``dX = G W_ih`` for every (row, step, input)."""
    B, T, D = dX.shape
    n_gates = W_ih.shape[0]
    for k in range(cuda.grid(1), dX.size, cuda.gridsize(1)):
        s = k // (T * D)
        t = (k // D) % T
        d = k % D
        acc = zero
        for j in range(n_gates):
            acc += dgates[s, t, j] * W_ih[j, d]
        dX[s, t, d] = acc


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
    n = dW_ih.size + dW_hh.size + db.size
    blocks, threads = launch_shape(n)
    _weight_grads_kernel[blocks, threads](X, h_prev, dgates, dtype(0), dW_ih,
                                          dW_hh, db)
    if input_grad:
        blocks, threads = launch_shape(dX.size)
        _input_grads_kernel[blocks, threads](W_ih, dgates, dtype(0), dX)
