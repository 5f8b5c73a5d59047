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

#: Numba's parallel transformations, all off but ``prange``: array
#: expressions and slice assignments stay serial loops (each one converted
#: into a parallel region would cost a thread launch and its own compilation).
_PRANGE_ONLY = {"prange": True, "comprehension": False, "numpy": False,
                "reduction": False, "setitem": False, "stencil": False,
                "fusion": False, "inplace_binop": False}

#: The same policy with ``prange`` enabled, for kernels that split independent
#: samples over Numba's threads (one chunk of samples per thread).
cpu_parallel_kernel = njit(cache=True, fastmath=set(FASTMATH), error_model="numpy",
                           parallel=_PRANGE_ONLY)
