"""The rows LSTM time loops: each block owns :data:`~.plan.ROWS_PER_BLOCK`
batch rows for all steps (the ``'rows'`` design of :mod:`.plan`).

Rows are independent through time, so no grid barrier is needed, only
``syncthreads`` between the two phases of a step. Forward: every ``(row,
gate column)`` adds ``h_{t-1} W_hh^T`` to its pre-activation, then every
``(row, unit)`` activates its gates (four, or three coupled) in place and
updates ``c_t``, ``h_t`` and the caches of the backward pass. Backward:
every ``(row, unit)`` writes its gate gradients, then ``dh_{t-1} = dgates_t
W_hh``. ``h`` and ``c`` (or ``dh`` and ``dc``) of the block's rows live in
dynamic shared memory.
"""

from numba import cuda

from ._jit import cuda_kernel, device_function
from .plan import ROWS_PER_BLOCK
from .recurrence import (
    activate,
    dh_prev,
    gate_grads,
    gate_offsets,
    masked,
    zero_gates,
    zoned,
)


@device_function
def _load(state, a, b, row0, tid, n_threads):
    """``a`` and ``b`` (``(B, H)``) of the block's rows into ``state``:
    ``state[r * H + u]`` from ``a``, ``state[R * H + r * H + u]`` from ``b``."""
    B, H = a.shape
    R = ROWS_PER_BLOCK
    for k in range(tid, R * H, n_threads):
        s = row0 + k // H
        if s < B:
            state[k] = a[s, k % H]
            state[R * H + k] = b[s, k % H]


@device_function
def _store(state, a, b, row0, tid, n_threads):
    """The inverse of :func:`_load`."""
    B, H = a.shape
    R = ROWS_PER_BLOCK
    for k in range(tid, R * H, n_threads):
        s = row0 + k // H
        if s < B:
            a[s, k % H] = state[k]
            b[s, k % H] = state[R * H + k]


@cuda_kernel
def forward_rows_kernel(W_hh, h0, c0, lengths, H_out, h_n, c_n, gates,
                        cells, h_prev, peep, h_mask, zone, one, zero):
    """The time loop; ``gates`` comes in holding ``b + x_t W_ih^T``."""
    B, T, _ = gates.shape
    G = W_hh.shape[0]
    H = h_n.shape[1]
    n = G // H
    gi, oi = gate_offsets(n, H)
    R = ROWS_PER_BLOCK
    row0 = cuda.blockIdx.x * R
    tid = cuda.threadIdx.x
    n_threads = cuda.blockDim.x
    state = cuda.shared.array(0, dtype=gates.dtype)
    # state[r * H + u] is h of row r, state[R * H + r * H + u] its c
    _load(state, h0, c0, row0, tid, n_threads)
    cuda.syncthreads()
    for t in range(T):
        for k in range(tid, R * G, n_threads):
            r = k // G
            j = k % G
            s = row0 + r
            if s < B and t < lengths[s]:
                acc = gates[s, t, j]
                for q in range(H):
                    acc += masked(h_mask, s, q, state[r * H + q]) * W_hh[j, q]
                gates[s, t, j] = acc
        cuda.syncthreads()
        for k in range(tid, R * H, n_threads):
            r = k // H
            u = k % H
            s = row0 + r
            if s < B:
                if t < lengths[s]:
                    h_prev[s, t, u] = masked(h_mask, s, u, state[k])
                    c, h = activate(gates, s, t, u, H, n, gates[s, t, u],
                                    gates[s, t, H + u], gates[s, t, gi + u],
                                    gates[s, t, oi + u], state[R * H + k],
                                    peep, one, zero)
                    c = zoned(zone, s, t, u, state[R * H + k], c)
                    h = zoned(zone, s, t, u, state[k], h)
                    cells[s, t, u] = c
                    H_out[s, t, u] = h
                    state[k] = h
                    state[R * H + k] = c
                else:
                    zero_gates(gates, s, t, u, H, n, zero)
                    cells[s, t, u] = state[R * H + k]
                    h_prev[s, t, u] = zero
                    H_out[s, t, u] = zero
        cuda.syncthreads()
    _store(state, h_n, c_n, row0, tid, n_threads)


@cuda_kernel
def backward_rows_kernel(W_hh, c0, lengths, gates, cells, dH_out, dh_n, dc_n,
                         dh0, dc0, dgates, peep, h_mask, zone, one, zero):
    """BPTT through the time loop: the gate gradients of every step into
    ``dgates`` (which may be ``gates``: each thread reads its unit's
    gates before writing their gradients), and ``dh0``, ``dc0``."""
    B, T, _ = gates.shape
    G = W_hh.shape[0]
    H = dh_n.shape[1]
    n = G // H
    R = ROWS_PER_BLOCK
    row0 = cuda.blockIdx.x * R
    tid = cuda.threadIdx.x
    n_threads = cuda.blockDim.x
    state = cuda.shared.array(0, dtype=gates.dtype)
    # state[r * H + u] is dh of row r, state[R * H + r * H + u] its dc
    _load(state, dh_n, dc_n, row0, tid, n_threads)
    cuda.syncthreads()
    for t in range(T - 1, -1, -1):
        for k in range(tid, R * H, n_threads):
            r = k // H
            u = k % H
            s = row0 + r
            if s < B:
                if t < lengths[s]:
                    dh = state[k] + dH_out[s, t, u]
                    state[R * H + k] = gate_grads(
                        gates, cells, c0, dgates, s, t, u, H, n, dh,
                        state[R * H + k], peep, zone, one, zero)
                    # zoneout: the share of dh_t carried to h_{t-1}
                    state[k] = zoned(zone, s, t, u, dh, zero)
                else:
                    zero_gates(dgates, s, t, u, H, n, zero)
        cuda.syncthreads()
        # dh_{t-1} = dgates_t @ W_hh on the live rows (padding carries dh)
        for k in range(tid, R * H, n_threads):
            r = k // H
            q = k % H
            s = row0 + r
            if s < B and t < lengths[s]:
                state[k] = masked(h_mask, s, q,
                                  dh_prev(dgates, W_hh, s, t, q, zero)) \
                    + state[k]
        cuda.syncthreads()
    _store(state, dh0, dc0, row0, tid, n_threads)
