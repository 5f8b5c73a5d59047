"""One LLVM intrinsic: ``2**n`` built from the exponent bits (CPU only).

:func:`pow2_int` is the last step of a vectorisable ``exp`` (see
:mod:`numlstm.backends.cpu.fastexp`). It is a Numba ``@intrinsic``, which
emits LLVM IR directly, so it compiles for the CPU target only: the CUDA
backend needs its own variant (there, ``__expf``/``exp`` or
``__int_as_float`` do the same job).
"""

from llvmlite import ir
from numba import types
from numba.core.errors import TypingError
from numba.extending import intrinsic


@intrinsic
def pow2_int(typingctx, n):
    """``2.0**n`` for a float ``n`` holding an integer, in ``n``'s own type.

    ``n`` must lie in ``[-127, 127]`` (float32) or ``[-1023, 1023]``
    (float64); the lowest value gives exactly ``+0.0`` (an all-zero bit
    pattern), which makes a saturated ``exp`` underflow to exactly 0. No
    branch, no call: the conversion, shift and bit cast vectorise.
    """
    if not isinstance(n, types.Float):
        raise TypingError("pow2_int takes a float")
    if n.bitwidth == 32:
        ityp, bias, shift = ir.IntType(32), 127, 23
    else:
        ityp, bias, shift = ir.IntType(64), 1023, 52

    def codegen(context, builder, signature, args):
        [nf] = args
        k = builder.fptosi(nf, ityp)
        k = builder.add(k, ir.Constant(ityp, bias))
        k = builder.shl(k, ir.Constant(ityp, shift))
        return builder.bitcast(k, nf.type)

    return n(n), codegen
