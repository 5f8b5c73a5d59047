"""Which recurrent kernel runs a layer: a pure function of sizes and limits.

Two designs (``docs/architecture.md``, "The CUDA backend"):

- **rows**: each block owns ``ROWS_PER_BLOCK`` batch rows for every step;
  batch rows are independent through time, so no grid barrier is needed.
  It is chosen while ``W_hh`` (``4H x H``) plus the rows' state
  (``R x H``) and pre-activations (``R x 4H``) would fit in one block's
  opt-in shared memory, where the design keeps them.
- **cooperative**: hidden units split over co-resident blocks
  (:func:`cooperative_split`), one grid barrier per step; for larger layers.

Both kernels read ``W_hh`` from global memory (L1/L2) so far: keeping it,
or each block's slice of it, resident in shared memory needs more than the
48 KiB a launch gets without opting in, and so a GPU to test on.

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
#: numba's simulator: the shared memory of a launch without opting in, and
#: one block for the cooperative kernel (its grid barrier is wrong across
#: blocks there, ``shared/design/cuda.md`` 2.8)
SIMULATOR = DeviceLimits(shared_per_block=48 * 1024, n_sms=1)


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


def cooperative_split(hidden: int, max_blocks: int) -> tuple[int, int]:
    """``(blocks, units)`` of the cooperative kernel: block ``g`` owns the
    hidden units ``g * units`` up to ``(g + 1) * units`` (the last block
    fewer), every block owns at least one, and there are at most
    ``max_blocks`` blocks, the ones that are certain to be resident at once.

    Parameters
    ----------
    hidden : int
        The layer's hidden units ``H`` (at least 1).
    max_blocks : int
        At most this many blocks (at least 1): the multiprocessors on a
        GPU, one block each, since a block of the kernel needs no dynamic
        shared memory and at most 256 threads, so one always fits; 1 on the
        simulator, which runs a grid barrier wrongly across blocks.

    Examples
    --------
    >>> cooperative_split(1024, 132), cooperative_split(7, 3)
    ((128, 8), (3, 3))
    >>> cooperative_split(5, 132), cooperative_split(5, 1)
    ((5, 1), (1, 5))
    """
    if hidden < 1 or max_blocks < 1:
        raise ValueError(f"need hidden >= 1 and max_blocks >= 1, got "
                         f"{hidden}, {max_blocks}")
    units = -(-hidden // min(hidden, max_blocks))
    return -(-hidden // units), units
