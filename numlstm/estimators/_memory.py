"""The memory a batch of sequences takes, and the budget batches are held to.

A network's buffers grow with the number of sequences it runs at once. The
training loop warns when ``batch_size`` would take more than
:data:`WORKSPACE_BUDGET`, and L-BFGS and ``make_objective`` evaluate the
whole data in chunks that fit in it (the loss is a weighted mean, so the
chunks add up to the same loss and gradient).
"""

from __future__ import annotations

import tracemalloc
import warnings

import numpy as np

from ..nn.training import batch_loss_and_gradient

#: bytes of buffers one forward and backward may take (512 MiB)
WORKSPACE_BUDGET = 512 * 2**20

#: sequences in the two measuring batches
_PROBES = (1, 3)
#: on top of the held buffers: what a call allocates and frees again
_TRANSIENT_MARGIN = 1.25


def _forward_backward(network, loss, data, k) -> None:
    """One forward and backward of the first ``k`` sequences of ``data``."""
    out = network.backend.zeros(1, np.float64)
    X, Y, lengths, w = data.slice(slice(0, k))
    batch_loss_and_gradient(network, loss, X, Y, lengths, w, 0.0, False, out)


def _held_and_peak(network, loss, data, k) -> tuple:
    """Traced bytes held after, and the peak above the start of, one forward
    and backward of ``k`` sequences."""
    tracemalloc.reset_peak()
    before = tracemalloc.get_traced_memory()[0]
    _forward_backward(network, loss, data, k)
    held, peak = tracemalloc.get_traced_memory()
    return held, peak - before


def bytes_per_sequence(network, loss, data) -> float:
    """Bytes that one forward and backward of ``network`` allocates for each
    sequence of ``data`` (a :class:`~numlstm.nn.SequenceData`), measured
    with :mod:`tracemalloc` (host memory: what a CPU backend allocates).

    After an untraced call, batches of ``_PROBES[0]`` and then
    ``_PROBES[1]`` sequences each replace the network's buffers: the growth
    of the bytes held from one to the other, over the growth of the batch,
    is what the buffers cost per sequence (without what a call allocates
    whatever its batch, such as weight transposes), and
    ``_TRANSIENT_MARGIN`` adds what a call allocates and frees again (the
    loss gradient, a layer's input gradient).
    ``network`` should be fresh: buffers it already holds for a batch shape
    are not counted.
    """
    small, large = min(data.n, _PROBES[0]), min(data.n, _PROBES[1])
    # one untraced call first: on a cold cache it compiles the kernels, and
    # Numba's compiler under tracemalloc runs about twice as slowly
    _forward_backward(network, loss, data, large)
    tracing = tracemalloc.is_tracing()
    if not tracing:
        tracemalloc.start()
    try:
        held_small, _ = _held_and_peak(network, loss, data, small)
        held_large, peak = _held_and_peak(network, loss, data, large)
    finally:
        if not tracing:
            tracemalloc.stop()
    if large == small:
        return max(peak, 1) / large
    buffers = (held_large - held_small) / (large - small)
    return max(_TRANSIENT_MARGIN * buffers, 1.0)


def chunk_size(per_sequence: float) -> int:
    """Sequences per chunk that keep a forward and backward within
    :data:`WORKSPACE_BUDGET`."""
    return max(1, int(WORKSPACE_BUDGET // per_sequence))


def warn_if_batch_too_large(owner: str, batch: int, n_steps: int,
                            per_sequence: float) -> None:
    """A :class:`ResourceWarning` when ``batch`` sequences would take more
    than :data:`WORKSPACE_BUDGET` of buffers."""
    need = batch * per_sequence
    if need > WORKSPACE_BUDGET:
        warnings.warn(
            f"{owner}: batch_size={batch} (of sequences of {n_steps} steps) "
            f"needs about {need / 2**20:,.0f} MiB of buffers, more than the "
            f"{WORKSPACE_BUDGET / 2**20:.0f} MiB budget; about "
            f"{chunk_size(per_sequence)} sequences per batch fit in it. Lower "
            "batch_size unless the memory is there.", ResourceWarning,
            stacklevel=6)
