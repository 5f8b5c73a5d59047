"""The cooperative LSTM time loops: hidden units split over blocks, one grid
barrier per step (the ``'cooperative'`` design of :mod:`.plan`).

Block ``g`` owns the hidden units ``u0 = g * units`` up to ``u0 + units``
of every batch row, and each thread one ``(row, unit)`` item at a time, for
all steps. Forward, an item sums its gates' recurrent products over
``h_{t-1}`` of all units, which other blocks wrote in the step before, then
runs its gate math; the barrier then publishes ``h_t``. Backward, an item
sums its ``dh`` over the gate gradients of all units of the step after,
then writes its gate gradients; the barrier publishes them. So only
``H_out`` and ``dgates`` cross blocks, both arrays of the contract, and no
scratch buffer is needed:

- padding sits at the end of a row, so ``h_{t-1}`` of a live step ``t`` is
  ``H_out[:, t - 1]`` (``h0`` at ``t = 0``), and ``h_n`` is the output of
  the row's last live step;
- ``c`` of an item stays with its thread: it is read back from ``cells``,
  and the backward's ``dc`` is carried in ``dc0``, the item's own entry.

Every sum runs over its ``k`` in order from 0, as in the rows kernels, so a
result does not depend on the number of blocks. The simulator runs a grid
barrier wrongly across blocks (``shared/design/cuda.md`` 2.8): there these
kernels run as one block, and their multi-block path is tested on a GPU
(``tests/cuda/test_cuda_lstm.py``).
"""

from numba import cuda

from ._jit import cuda_kernel
from .recurrence import (
    activate,
    dh_prev,
    gate_grads,
    gate_offsets,
    masked,
    zero_gates,
    zoned,
)


@cuda_kernel
def forward_units_kernel(W_hh, h0, c0, lengths, H_out, h_n, c_n, gates,
                         cells, h_prev, peep, h_mask, zone, units, one, zero):
    """The time loop; ``gates`` comes in holding ``b + x_t W_ih^T``."""
    B, T, _ = gates.shape
    G = W_hh.shape[0]
    H = h_n.shape[1]
    n = G // H
    gi, oi = gate_offsets(n, H)
    u0 = cuda.blockIdx.x * units
    n_own = min(units, H - u0)
    grid = cuda.cg.this_grid()
    for t in range(T):
        for k in range(cuda.threadIdx.x, B * n_own, cuda.blockDim.x):
            s = k // n_own
            u = u0 + k % n_own
            c_last = cells[s, t - 1, u] if t > 0 else c0[s, u]
            if t < lengths[s]:
                a_i = gates[s, t, u]
                a_f = gates[s, t, H + u] if n == 4 else zero
                a_g = gates[s, t, gi + u]
                a_o = gates[s, t, oi + u]
                for q in range(H):
                    h_q = masked(h_mask, s, q,
                                 H_out[s, t - 1, q] if t > 0 else h0[s, q])
                    a_i += h_q * W_hh[u, q]
                    if n == 4:
                        a_f += h_q * W_hh[H + u, q]
                    a_g += h_q * W_hh[gi + u, q]
                    a_o += h_q * W_hh[oi + u, q]
                h_prev[s, t, u] = masked(
                    h_mask, s, u, H_out[s, t - 1, u] if t > 0 else h0[s, u])
                c, h = activate(gates, s, t, u, H, n, a_i, a_f, a_g, a_o,
                                c_last, peep, one, zero)
                c = zoned(zone, s, t, u, c_last, c)
                h = zoned(zone, s, t, u,
                          H_out[s, t - 1, u] if t > 0 else h0[s, u], h)
                cells[s, t, u] = c
                H_out[s, t, u] = h
            else:
                zero_gates(gates, s, t, u, H, n, zero)
                cells[s, t, u] = c_last
                h_prev[s, t, u] = zero
                H_out[s, t, u] = zero
        grid.sync()
    for k in range(cuda.threadIdx.x, B * n_own, cuda.blockDim.x):
        s = k // n_own
        u = u0 + k % n_own
        last = lengths[s] - 1
        h_n[s, u] = H_out[s, last, u] if last >= 0 else h0[s, u]
        c_n[s, u] = cells[s, T - 1, u] if T > 0 else c0[s, u]


@cuda_kernel
def backward_units_kernel(W_hh, c0, lengths, gates, cells, dH_out, dh_n,
                          dc_n, dh0, dc0, dgates, peep, h_mask, zone, units,
                          one, zero):
    """BPTT through the time loop: the gate gradients of every step into
    ``dgates`` (which may be ``gates``: an item reads its own gates
    before writing their gradients, and other items read only the gradients
    of the step after), and ``dh0``, ``dc0``."""
    B, T, _ = gates.shape
    G = W_hh.shape[0]
    H = dh_n.shape[1]
    n = G // H
    u0 = cuda.blockIdx.x * units
    n_own = min(units, H - u0)
    grid = cuda.cg.this_grid()
    for k in range(cuda.threadIdx.x, B * n_own, cuda.blockDim.x):
        dc0[k // n_own, u0 + k % n_own] = dc_n[k // n_own, u0 + k % n_own]
    for t in range(T - 1, -1, -1):
        for k in range(cuda.threadIdx.x, B * n_own, cuda.blockDim.x):
            s = k // n_own
            u = u0 + k % n_own
            if t < lengths[s]:
                if t == lengths[s] - 1:
                    dh = dh_n[s, u]
                else:  # dh0 holds the share of dh_{t+1} zoneout carried
                    dh = masked(h_mask, s, u,
                                dh_prev(dgates, W_hh, s, t + 1, u, zero)) \
                        + dh0[s, u]
                dh += dH_out[s, t, u]
                dc0[s, u] = gate_grads(gates, cells, c0, dgates, s, t, u, H,
                                       n, dh, dc0[s, u], peep, zone, one, zero)
                dh0[s, u] = zoned(zone, s, t, u, dh, zero)
            else:
                zero_gates(dgates, s, t, u, H, n, zero)
        grid.sync()
    for k in range(cuda.threadIdx.x, B * n_own, cuda.blockDim.x):
        s = k // n_own
        u = u0 + k % n_own
        dh0[s, u] = masked(h_mask, s, u, dh_prev(dgates, W_hh, s, 0, u, zero)) \
            + dh0[s, u] if lengths[s] > 0 else dh_n[s, u]
