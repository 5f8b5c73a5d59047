"""The memory a batch of sequences takes, and the budget batches are held to.

A network's buffers grow with the number of sequences it runs at once. The
training loop warns when ``batch_size`` would take more than
:data:`WORKSPACE_BUDGET`, and L-BFGS and ``make_objective`` evaluate the
whole data in chunks that fit in it (the loss is a weighted mean, so the
chunks add up to the same loss and gradient).
"""

from __future__ import annotations

import tracemalloc

import numpy as np

from ..nn import loss_and_gradient

#: bytes of buffers one forward and backward may take (512 MiB)
WORKSPACE_BUDGET = 512 * 2**20

#: sequences in the two measuring batches
_PROBES = (1, 3)


def _peak(network, loss, X, Y, lengths, k) -> int:
    """Peak bytes traced during one forward and backward of ``k`` sequences."""
    tracemalloc.reset_peak()
    before = tracemalloc.get_traced_memory()[0]
    loss_and_gradient(network, loss, X[:k], Y[:k], lengths[:k], np.ones(k),
                      training=False)
    return tracemalloc.get_traced_memory()[1] - before


def bytes_per_sequence(network, loss, X, Y, lengths, sample_weight) -> float:
    """Bytes that one forward and backward of ``network`` allocates for each
    sequence of ``X``, measured with :mod:`tracemalloc`.

    The batch of ``_PROBES[1]`` sequences allocates its buffers afresh after
    the one of ``_PROBES[0]``; the difference of their peaks over the
    difference of their sizes is the cost per sequence, without what a call
    allocates whatever its batch (weight transposes, say). ``network``
    should be fresh: buffers it already holds for a batch shape are not
    counted.
    """
    small, large = min(len(X), _PROBES[0]), min(len(X), _PROBES[1])
    tracing = tracemalloc.is_tracing()
    if not tracing:
        tracemalloc.start()
    try:
        first = _peak(network, loss, X, Y, lengths, small)
        second = _peak(network, loss, X, Y, lengths, large)
    finally:
        if not tracing:
            tracemalloc.stop()
    if large > small and second > first:
        return (second - first) / (large - small)
    return max(second, 1) / large


def chunk_size(per_sequence: float, budget: int = WORKSPACE_BUDGET) -> int:
    """Sequences per chunk that keep a forward and backward within ``budget``."""
    return max(1, int(budget // per_sequence))
