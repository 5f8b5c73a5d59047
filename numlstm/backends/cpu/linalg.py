"""Matrix products into preallocated outputs.

Large products go to BLAS (the one SciPy ships, through Numba's ``np.dot``);
small ones run as plain loops in the calling thread. The split matters on a
machine with few cores: a multi-threaded BLAS call returns with its worker
threads still spinning for a while, and a Numba parallel region that starts
meanwhile (the LSTM kernels) shares the cores with them. On the 2-core
development machine, the dense layer's two small BLAS calls per batch made
the next ``lstm_backward`` 1.7x slower (small fit: 0.29 s against 0.21 s with
the loops).
"""

import numpy as np

from ._jit import cpu_kernel

#: Products with fewer multiply-adds than this run as loops, not BLAS: at
#: this size the loops take about 0.3 ms, enough to amortise BLAS's threads.
BLAS_MIN_MACS = 1 << 22


@cpu_kernel
def np_dot_into(a, b, out):
    """``out[:] = a @ b`` for 2-D ``a`` and ``b``, without allocating.

    ``a`` and ``b`` may be C- or F-ordered (a transpose is free); ``out`` must
    be C-contiguous. Small products (under :data:`BLAS_MIN_MACS`
    multiply-adds) are computed in the calling thread, row by row
    (``out[i] = sum_p a[i, p] * b[p]``, vectorised along the rows of ``b``);
    larger ones by BLAS.
    """
    m, n = a.shape
    k = b.shape[1]
    if m * n * k >= BLAS_MIN_MACS:
        np.dot(a, b, out)
        return
    for i in range(m):
        row = out[i]
        for j in range(k):
            row[j] = 0.0
        for p in range(n):
            _axpy(a[i, p], b[p], row)


@cpu_kernel
def _axpy(alpha, x, y):
    """``y += alpha * x`` for 1-D ``x`` and ``y``."""
    for j in range(y.size):
        y[j] += alpha * x[j]
