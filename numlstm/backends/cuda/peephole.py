"""The gradient of an LSTM layer's peephole weights, after its time loop.

One thread per weight sums its gate's gradient times the cell state it
sees over every row and step in order: ``c_{t-1}`` for i and f, ``c_t`` for
o (padded steps have zero gate gradients). No atomics, so the result does
not depend on the launch shape. Layout as :mod:`.recurrence`.
"""

from numba import cuda

from ._jit import cuda_kernel, launch_shape
from .recurrence import gate_offsets


@cuda_kernel
def _peephole_grads_kernel(dgates, cells, c0, dpeep, zero):
    B, T, H = cells.shape
    n = dpeep.shape[0] // H + 1
    gi, oi = gate_offsets(n, H)
    for k in range(cuda.grid(1), dpeep.shape[0], cuda.gridsize(1)):
        u = k % H
        output_gate = k >= gi
        col = oi + u if output_gate else k
        acc = zero
        for s in range(B):
            for t in range(T):
                if output_gate:
                    c = cells[s, t, u]
                else:
                    c = cells[s, t - 1, u] if t > 0 else c0[s, u]
                acc += dgates[s, t, col] * c
        dpeep[k] = acc


def peephole_grads(dgates, cells, c0, dpeep):
    """``dpeep`` from the gate gradients ``dgates (B, T, nH)`` of every step,
    the ``cells (B, T, H)`` and the initial cell state ``c0 (B, H)``."""
    blocks, threads = launch_shape(dpeep.shape[0])
    zero = dpeep.dtype.type(0)
    _peephole_grads_kernel[blocks, threads](dgates, cells, c0, dpeep, zero)
