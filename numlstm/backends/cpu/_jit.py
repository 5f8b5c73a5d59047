"""The decorator every CPU kernel is compiled with."""

from numba import njit

from .._fastmath import FASTMATH

#: ``@cpu_kernel`` = ``@njit(cache=True, fastmath=FASTMATH)``: compiled lazily on
#: first call, cached on disk, one fastmath policy for the whole package.
cpu_kernel = njit(cache=True, fastmath=set(FASTMATH))
