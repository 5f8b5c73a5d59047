"""``num_threads()``: Numba's thread count, callable from cached kernels.

``numba.get_num_threads()`` inside jitted code reads the count through a
ctypes function pointer, which Numba cannot write to its on-disk cache
(``cache=True`` then silently stops working for the caller). This intrinsic
calls the same C function of Numba's threading layer by its symbol name,
``get_num_threads``, which the threading layer registers with LLVM when it
starts; so the machine code is cacheable.

Use it only in ``parallel=True`` kernels that contain a ``prange``: Numba
starts the threading layer when such a kernel is compiled or loaded from the
cache, which is what makes the symbol resolvable. CPU only (LLVM IR).
"""

from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic


@intrinsic
def num_threads(typingctx):
    """The number of threads a ``prange`` of the calling kernel runs on."""
    from numba.np.ufunc.parallel import _launch_threads

    _launch_threads()  # compile time only: registers the symbol

    def codegen(context, builder, signature, args):
        # declared as Numba's parfor lowering declares it (returning intp),
        # since both may end up in one LLVM module
        fnty = ir.FunctionType(cgutils.intp_t, [])
        fn = cgutils.get_or_insert_function(builder.module, fnty,
                                            "get_num_threads")
        return builder.call(fn, [])

    return types.intp(), codegen
