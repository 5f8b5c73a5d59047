"""Copies and sums of 1-D rows: the small loops the kernels are built from.

Each is one loop over contiguous elements, which LLVM vectorises; the
kernels call them on rows of larger arrays instead of slice assignments,
which Numba would turn into allocating array expressions.
"""

from ._jit import cpu_kernel


@cpu_kernel
def copy_row(src, dst):
    """``dst[:] = src`` for two 1-D rows."""
    for j in range(src.size):
        dst[j] = src[j]


@cpu_kernel
def copy_rows(src, dst):
    """``dst[:] = src`` for two 2-D arrays of rows."""
    for s in range(src.shape[0]):
        copy_row(src[s], dst[s])


@cpu_kernel
def mul_row(a, b, dst):
    """``dst[:] = a * b`` for three 1-D rows."""
    for j in range(dst.size):
        dst[j] = a[j] * b[j]


@cpu_kernel
def zone_row(z, prev, new):
    """``new[:] += z * (prev - new)``: zoneout, each unit keeping ``z`` of
    its previous value."""
    for j in range(new.size):
        new[j] += z[j] * (prev[j] - new[j])


@cpu_kernel
def zero_row(dst):
    """``dst[:] = 0`` for a 1-D row."""
    for j in range(dst.size):
        dst[j] = 0.0


@cpu_kernel
def add_into(src, dst):
    """``dst += src`` for two 1-D rows."""
    for j in range(dst.size):
        dst[j] += src[j]
