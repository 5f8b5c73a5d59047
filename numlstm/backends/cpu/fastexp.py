"""Branch-free, vectorisable ``exp``, sigmoid and tanh for the CPU kernels.

Numba lowers ``math.exp``/``math.tanh`` to scalar libm calls (there is no
SVML here), which keeps LLVM from vectorising a loop that uses them, and the
stable sigmoid of :mod:`.activations` branches on the sign. The functions
below are written so that a loop over contiguous elements vectorises
(AVX-512/AVX2 on x86):

- :func:`exp_fast`: Cody-Waite range reduction ``x = n ln2 + r``, a
  polynomial for ``exp(r)`` and ``2**n`` from the exponent bits
  (:func:`._bits.pow2_int`). The argument is clamped, so the result is finite
  for every finite input, and exactly 0 far below the underflow threshold.
- :func:`sigmoid_fast`: ``1 / (1 + e)`` or ``e / (1 + e)`` with
  ``e = exp(-|x|) <= 1``, chosen by a select, not a branch: never overflows,
  and saturates to exactly 0 or 1.
- :func:`tanh_fast`: in float64 ``sign(x) (1 - e) / (1 + e)`` with
  ``e = exp(-2|x|)`` (absolute error ~1 ulp of 1 near 0, which is what the
  kernels need; the relative error there is larger); in float32 a rational
  approximation (Eigen's), no ``exp`` and 0.25 against 0.42 ns per element.
  Both are exactly +-1 when saturated.

Each is a stub with a Numba ``@overload`` per float width, so float32 code
uses float32 constants and a shorter polynomial (float32 math stays float32)
and float64 code keeps about full double precision. They are CPU-only (the
bit cast is an LLVM intrinsic); the CUDA backend compiles the target-neutral
scalar forms of :mod:`.activations` or its own variants instead.
"""

import math

import numpy as np
from numba import types
from numba.extending import overload

from .._fastmath import FASTMATH
from ._bits import pow2_int

#: the package's one fastmath policy, for the overload implementations too
_JIT_OPTIONS = {"fastmath": set(FASTMATH), "error_model": "numpy"}

_LN2_HI32 = 0.693359375
_LN2_LO32 = -2.12194440e-4
_LN2_HI64 = 6.93145751953125e-1
_LN2_LO64 = 1.42860682030941723212e-6
_LOG2E = 1.4426950408889634

# exp(r) = 1 + r + r^2 P(r) on |r| <= ln2/2 (Cephes expf), ~1 ulp in float32
_P32 = (1.9875691500e-4, 1.3981999507e-3, 8.3334519073e-3, 4.1665795894e-2,
        1.6666665459e-1, 5.0000001201e-1)
# float64: Taylor coefficients 1/k!, k = 12 .. 2 (error < 2e-16 on |r| <= ln2/2)
_P64 = tuple(1.0 / math.factorial(k) for k in range(12, 1, -1))


def exp_fast(x):
    """``exp(x)``, branch-free and vectorisable (jitted code only)."""
    raise NotImplementedError("exp_fast is compiled by Numba only")


def sigmoid_fast(x):
    """Logistic function, branch-free and vectorisable (jitted code only)."""
    raise NotImplementedError("sigmoid_fast is compiled by Numba only")


def tanh_fast(x):
    """Hyperbolic tangent, branch-free and vectorisable (jitted code only)."""
    raise NotImplementedError("tanh_fast is compiled by Numba only")


def _exp_impl(ftype):
    """The ``exp_fast`` implementation whose constants are all of ``ftype``."""
    f = ftype
    if f is np.float32:
        # n in [-127, 127]; n = -127 is the all-zero bit pattern: exp -> +0.0
        lo, hi, ln2_hi, ln2_lo, coeffs = -88.0, 88.0, _LN2_HI32, _LN2_LO32, _P32
    else:
        # n in [-1023, 1023]; n = -1023 gives +0.0
        lo, hi, ln2_hi, ln2_lo, coeffs = -709.0, 709.0, _LN2_HI64, _LN2_LO64, _P64
    lo, hi, ln2_hi, ln2_lo = f(lo), f(hi), f(ln2_hi), f(ln2_lo)
    c0, rest = f(coeffs[0]), tuple(f(c) for c in coeffs[1:])
    log2e, half, one = f(_LOG2E), f(0.5), f(1.0)

    def impl(x):
        x = min(max(x, lo), hi)
        n = np.floor(x * log2e + half)
        r = x - n * ln2_hi
        r = r - n * ln2_lo
        p = c0  # Horner: exp(r) = 1 + r + r^2 P(r)
        for c in rest:
            p = p * r + c
        p = (p * r) * r + r + one
        return p * pow2_int(n)

    return impl


def _ftype(x):
    if isinstance(x, types.Float):
        return np.float32 if x.bitwidth == 32 else np.float64
    return None


@overload(exp_fast, jit_options=_JIT_OPTIONS)
def _ol_exp_fast(x):
    f = _ftype(x)
    if f is not None:
        return _exp_impl(f)


@overload(sigmoid_fast, jit_options=_JIT_OPTIONS)
def _ol_sigmoid_fast(x):
    f = _ftype(x)
    if f is None:
        return None
    zero, one = f(0.0), f(1.0)

    def impl(x):
        e = exp_fast(-abs(x))
        num = one if x >= zero else e
        return num / (one + e)

    return impl


@overload(tanh_fast, jit_options=_JIT_OPTIONS)
def _ol_tanh_fast(x):
    f = _ftype(x)
    if f is None:
        return None
    if f is np.float32:
        return _tanh_rational32()
    zero, one, mtwo = f(0.0), f(1.0), f(-2.0)

    def impl(x):
        e = exp_fast(mtwo * abs(x))
        t = (one - e) / (one + e)
        return t if x >= zero else -t

    return impl


# float32 tanh as Eigen's ``ptanh_float``: an odd degree-13 over an even
# degree-6 polynomial on |x| <= 7.905..., ~2 ulp of 1 (max abs error 2.6e-7)
_TANH32_CLAMP = 7.90531110763549805
_TANH32_P = (-2.76076847742355e-16, 2.00018790482477e-13, -8.60467152213735e-11,
             5.12229709037114e-08, 1.48572235717979e-05, 6.37261928875436e-04,
             4.89352455891786e-03)
_TANH32_Q = (1.19825839466702e-06, 1.18534705686654e-04, 2.26843463243900e-03,
             4.89352518554385e-03)
#: from here on float32 ``tanh`` rounds to exactly 1 (tanh(9.02) = 1 - 2.9e-8)
_TANH32_SATURATED = 9.02


def _tanh_rational32():
    """float32 ``tanh_fast``: the rational approximation, one division and
    no ``exp``, exactly +-1 from :data:`_TANH32_SATURATED` on (as float32's
    correctly rounded tanh), so that saturated gates are exactly 0 and 1."""
    f = np.float32
    clamp, saturated = f(_TANH32_CLAMP), f(_TANH32_SATURATED)
    zero, one = f(0.0), f(1.0)
    p0, p_rest = f(_TANH32_P[0]), tuple(f(c) for c in _TANH32_P[1:])
    q0, q_rest = f(_TANH32_Q[0]), tuple(f(c) for c in _TANH32_Q[1:])

    def impl(x):
        xc = min(max(x, -clamp), clamp)
        x2 = xc * xc
        p = p0  # Horner in x^2
        for c in p_rest:
            p = p * x2 + c
        q = q0
        for c in q_rest:
            q = q * x2 + c
        t = (p * xc) / q
        if abs(x) >= saturated:
            t = one if x >= zero else -one
        return t

    return impl
