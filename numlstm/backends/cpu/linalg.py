"""Matrix products into preallocated outputs.

Large products go to BLAS (the one SciPy ships, through Numba's ``np.dot``);
small ones run as plain loops in the calling thread. A multi-threaded BLAS
call returns with its worker threads still spinning for a while, and a Numba
parallel region that starts meanwhile (the LSTM kernels) shares the cores
with them. That was measured with numpy's OpenBLAS (the initialisation's
QR: up to 2x slower LSTM calls right after it); for the dense layer's small
products through SciPy's OpenBLAS it was not (limiting that pool to one
thread did not change a small fit), so the loops here are a precaution that
keeps small products off the BLAS threads altogether.
"""

import numpy as np

from ._jit import cpu_kernel

#: Products with fewer multiply-adds than this (4 Mi, 8 MFLOP) run as loops,
#: not BLAS.
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
