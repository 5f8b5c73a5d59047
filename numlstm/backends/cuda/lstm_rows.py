"""The rows LSTM time loops: each block owns :data:`~.plan.ROWS_PER_BLOCK`
batch rows for all steps (the ``'rows'`` design of :mod:`.plan`).

Rows are independent through time, so no grid barrier is needed, only
``syncthreads`` between the two phases of a step. Forward: every ``(row,
gate column)`` adds ``h_{t-1} W_hh^T`` to its pre-activation, then every
``(row, unit)`` activates its four gates in place and updates ``c_t``,
``h_t`` and the caches of the backward pass. Backward: every ``(row,
unit)`` writes its gate gradients, then ``dh_{t-1} = dgates_t W_hh``. ``h``
and ``c`` (or ``dh`` and ``dc``) of the block's rows live in dynamic shared
memory.
"""

from numba import cuda

from . import scalar
from ._jit import cuda_kernel
from .plan import ROWS_PER_BLOCK


@cuda_kernel
def forward_rows_kernel(W_hh, h0, c0, lengths, H_out, h_n, c_n, gates,
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


@cuda_kernel
def backward_rows_kernel(W_hh, c0, lengths, gates, cells, dH_out, dh_n, dc_n,
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
