"""Which recurrent kernel runs a layer: a pure function of sizes and limits.

Two designs (``docs/architecture.md``, "The CUDA backend"):

- **rows**: each block owns ``ROWS_PER_BLOCK`` batch rows for every step,
  with ``W_hh`` resident in the block's shared memory; batch rows are
  independent through time, so no grid barrier is needed. It fits when
  ``W_hh`` (``4H x H``) plus the rows' state (``R x H``) and
  pre-activations (``R x 4H``) fit in one block's opt-in shared memory.
- **cooperative**: hidden units split over co-resident blocks, one grid
  barrier per step, each block's slice of ``W_hh`` on chip; for larger
  layers.

Like :func:`numlstm.backends.cpu.use_wide` it depends on nothing but its
arguments, so it is tested on the host for any device.
"""

from __future__ import annotations

from dataclasses import dataclass

#: batch rows one block of the rows kernel owns
ROWS_PER_BLOCK = 8
#: shared memory left for the compiler's own use and alignment (bytes)
SHARED_RESERVE = 1024


@dataclass(frozen=True)
class DeviceLimits:
    """What the plan needs to know of a device.

    ``shared_per_block`` is the opt-in maximum of dynamic shared memory per
    block (``MAX_SHARED_MEMORY_PER_BLOCK_OPTIN``: 227 KiB on sm_90), and
    ``n_sms`` the number of multiprocessors.
    """

    shared_per_block: int
    n_sms: int


#: an H100/H200 (sm_90): 227 KiB opt-in shared memory per block, 132 SMs
HOPPER = DeviceLimits(shared_per_block=232448, n_sms=132)


def rows_kernel_shared_bytes(hidden: int, itemsize: int,
                             rows: int = ROWS_PER_BLOCK) -> int:
    """Dynamic shared memory of the rows kernel: ``W_hh``, ``h`` and the
    pre-activations of its rows."""
    return (4 * hidden * hidden + rows * hidden + rows * 4 * hidden) * itemsize


def recurrent_kernel(hidden: int, itemsize: int, limits: DeviceLimits) -> str:
    """``'rows'`` or ``'cooperative'`` for a layer of ``hidden`` units.

    Parameters
    ----------
    hidden : int
        The layer's hidden units ``H`` (at least 1).
    itemsize : int
        4 (float32) or 8 (float64).
    limits : DeviceLimits

    Examples
    --------
    >>> recurrent_kernel(64, 4, HOPPER), recurrent_kernel(64, 8, HOPPER)
    ('rows', 'rows')
    >>> recurrent_kernel(128, 4, HOPPER), recurrent_kernel(96, 8, HOPPER)
    ('cooperative', 'cooperative')
    """
    if hidden < 1 or itemsize not in (4, 8):
        raise ValueError(f"need hidden >= 1 and itemsize 4 or 8, got "
                         f"{hidden}, {itemsize}")
    need = rows_kernel_shared_bytes(hidden, itemsize) + SHARED_RESERVE
    return "rows" if need <= limits.shared_per_block else "cooperative"


#: dynamic shared memory a launch may take without opting in to more
#: (every CUDA device numba supports)
SHARED_WITHOUT_OPT_IN = 48 * 1024


def state_shared_bytes(hidden: int, itemsize: int,
                       rows: int = ROWS_PER_BLOCK) -> int:
    """Dynamic shared memory of today's recurrent kernels, which keep only
    ``h`` and ``c`` (or ``dh`` and ``dc``) of their rows on chip."""
    return 2 * rows * hidden * itemsize


def check_layer_fits(hidden: int, itemsize: int) -> None:
    """Raise a clear ``ValueError`` before a launch that would fail: until
    the cooperative kernel exists, a layer's state must fit a block's
    shared memory (H <= 768 in float32, 384 in float64).

    Examples
    --------
    >>> check_layer_fits(768, 4)
    >>> check_layer_fits(385, 8)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: ... at most 384 units in float64 (the layer has 385); ...
    """
    if state_shared_bytes(hidden, itemsize) > SHARED_WITHOUT_OPT_IN:
        most = SHARED_WITHOUT_OPT_IN // state_shared_bytes(1, itemsize)
        dtype = "float32" if itemsize == 4 else "float64"
        raise ValueError(
            f"the CUDA backend runs LSTM layers of at most {most} units in "
            f"{dtype} (the layer has {hidden}); larger layers need its "
            "cooperative kernel, not written yet: use backend='cpu'")
