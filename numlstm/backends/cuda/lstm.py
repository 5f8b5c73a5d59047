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
from ._jit import cuda_kernel
from .plan import ROWS_PER_BLOCK


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
    R = ROWS_PER_BLOCK
    blocks = -(-B // R)
    threads = min(256, max(32, -(-(R * 4 * H) // 32) * 32))
    shared = 2 * R * H * X.dtype.itemsize
    dtype = np.dtype(X.dtype).type
    _forward_rows_kernel[blocks, threads, 0, shared](
        X, W_ih, W_hh, b, h0, c0, lengths, H_out, h_n, c_n, gates, cells,
        h_prev, dtype(1), dtype(0))
