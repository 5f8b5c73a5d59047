"""The decorator every CPU kernel is compiled with."""

from numba import njit

from .._fastmath import FASTMATH

#: ``@cpu_kernel`` = ``@njit(cache=True, fastmath=FASTMATH, error_model="numpy")``:
#: compiled lazily on first call, cached on disk, one fastmath policy for the
#: whole package. ``error_model="numpy"`` makes a float division by zero give
#: IEEE inf/NaN instead of raising ``ZeroDivisionError`` (kernels never raise);
#: it also removes the per-division zero test, a branch that stops LLVM from
#: vectorising any loop containing a division.
cpu_kernel = njit(cache=True, fastmath=set(FASTMATH), error_model="numpy")

#: The same policy with ``parallel=True``, for kernels that split independent
#: samples over Numba's threads with ``prange`` (one chunk per thread).
cpu_parallel_kernel = njit(cache=True, fastmath=set(FASTMATH), error_model="numpy",
                           parallel=True)
