"""Floating-point operations of the LSTM layer, for the GFLOP/s column.

Only the LSTM layer counts (the dense head and the optimiser are small
beside it): a forward pass over a batch is ``8 B T H (D + H)`` operations
(four gates, each an ``(D + H)``-long multiply-add per unit and step), a
training step three forward passes (forward, and the two products of the
backward pass).
"""

from __future__ import annotations

from .cases import Case


def forward_flops(B: int, T: int, D: int, H: int) -> float:
    """FLOPs of one LSTM layer's forward pass over a batch.

    Parameters
    ----------
    B, T, D, H : int
        Batch, steps, inputs and hidden units.

    Returns
    -------
    float
        ``8 B T H (D + H)``.

    Examples
    --------
    >>> forward_flops(1, 50, 8, 64)
    1843200.0
    """
    return 8.0 * B * T * H * (D + H)


def training_flops(B: int, T: int, D: int, H: int) -> float:
    """FLOPs of one training step (forward + backward) over a batch.

    Parameters
    ----------
    B, T, D, H : int
        Batch, steps, inputs and hidden units.

    Returns
    -------
    float
        Three times :func:`forward_flops`.
    """
    return 3.0 * forward_flops(B, T, D, H)


def batch_sizes(n_sequences: int, batch_size: int) -> list[int]:
    """The batch sizes of one epoch; the last batch may be short.

    Parameters
    ----------
    n_sequences : int
        Sequences in the epoch.
    batch_size : int
        Sequences per full batch.

    Returns
    -------
    list of int

    Examples
    --------
    >>> batch_sizes(70, 32)
    [32, 32, 6]
    """
    return [min(batch_size, n_sequences - start)
            for start in range(0, n_sequences, batch_size)]


def case_flops(case: Case) -> float | None:
    """FLOPs of one timed run of ``case``.

    Parameters
    ----------
    case : Case

    Returns
    -------
    float or None
        A predict is one forward pass; a fit a training step per batch,
        summed over every epoch; None for the ``start`` case.
    """
    B, T, D, H = case.config
    if case.kind == "predict":
        return forward_flops(B, T, D, H)
    if case.kind == "fit":
        per_epoch = sum(training_flops(b, T, D, H)
                        for b in batch_sizes(case.n_sequences, B))
        return per_epoch * case.epochs
    return None
