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

#: sequences in the measuring batch
_PROBE = 4


def bytes_per_sequence(network, loss, X, Y, lengths, sample_weight) -> float:
    """Peak bytes that one forward and backward of ``network`` allocates per
    sequence of ``X`` (measured with :mod:`tracemalloc` on a few sequences).

    ``network`` should be fresh (no buffers yet): buffers it already holds
    for that batch shape are not counted.
    """
    k = min(len(X), _PROBE)
    tracing = tracemalloc.is_tracing()
    if not tracing:
        tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        before = tracemalloc.get_traced_memory()[0]
        loss_and_gradient(network, loss, X[:k], Y[:k], lengths[:k],
                          np.ones(k), training=False)
        peak = tracemalloc.get_traced_memory()[1] - before
    finally:
        if not tracing:
            tracemalloc.stop()
    return max(peak, 1) / k


def chunk_size(per_sequence: float, budget: int = WORKSPACE_BUDGET) -> int:
    """Sequences per chunk that keep a forward and backward within ``budget``."""
    return max(1, int(budget // per_sequence))
