"""Zeros and booleans that Numba does not type as literals.

Numba types a constant argument (``0``, ``False``) as a literal, so a
helper called with ``0`` at one site and with a variable at another is
compiled twice, and the LSTM kernels' cold compile grows with every such
site. These return the same values computed from a run-time integer, so
every call site shares one compiled specialisation.
"""

from ._jit import cpu_kernel


@cpu_kernel
def runtime_zero(n):
    """0, of the integer type of ``n``."""
    return n - n


@cpu_kernel
def runtime_false(n):
    """False."""
    return n < n


@cpu_kernel
def runtime_true(n):
    """True."""
    return n <= n
