"""Matrix products into preallocated outputs (BLAS through Numba)."""

import numpy as np

from ._jit import cpu_kernel


@cpu_kernel
def np_dot_into(a, b, out):
    """``out[:] = a @ b`` for 2-D ``a`` and ``b``, without allocating.

    ``a`` and ``b`` may be C- or F-ordered (a transpose is free); ``out`` must
    be C-contiguous. Numba hands the product to the same BLAS as SciPy.
    """
    np.dot(a, b, out)
