"""Training data moved to the backend once, and mini-batches gathered there."""

from __future__ import annotations

import numpy as np

from ._workspace import Workspace


class SequenceData:
    """Sequences, targets, lengths and sample weights in backend memory.

    The estimator makes one per fit from its validated host arrays (the one
    copy to a device); mini-batches are then gathered from it by the
    backend into buffers reused from batch to batch, and chunks are views of
    it. The host arrays stay referenced (not copied) for what the host
    computes: the sums of the weights and the validation scores.

    Parameters
    ----------
    backend : backend object
    X : ndarray (n, T, ...)
    Y : ndarray (n, ...)
        Targets as the loss takes them (values, or class indices).
    lengths : ndarray (n,) of int
    sample_weight : ndarray (n,)
    dtype : numpy dtype
        The network's.

    Examples
    --------
    >>> import numpy as np
    >>> from numlstm.backends import resolve
    >>> data = SequenceData(resolve("cpu"), np.zeros((4, 3, 2)), np.arange(4.0),
    ...                     np.array([3, 2, 3, 1]), np.ones(4), np.float32)
    >>> X, Y, lengths, w = data.gather(np.array([2, 0]))
    >>> X.shape, Y.tolist(), lengths.tolist()
    ((2, 3, 2), [2.0, 0.0], [3, 3])
    """

    def __init__(self, backend, X, Y, lengths, sample_weight, dtype) -> None:
        self.backend, self.n = backend, len(X)
        self.host_Y = Y
        self.host_lengths = np.asarray(lengths, dtype=np.int64)
        self.host_weight = np.asarray(sample_weight, dtype=np.float64)
        self.X = backend.asarray(X, dtype)
        self.Y = backend.asarray(Y, Y.dtype)
        self.lengths = backend.asarray(self.host_lengths, np.int64)
        self.weight = backend.asarray(self.host_weight, dtype)
        self.buffers = Workspace(backend)

    def slice(self, part: slice) -> tuple:
        """``(X, Y, lengths, sample_weight)`` of the rows ``part``: views."""
        return self.X[part], self.Y[part], self.lengths[part], self.weight[part]

    def gather(self, index) -> tuple:
        """``(X, Y, lengths, sample_weight)`` of the rows ``index`` (a
        backend int64 array), in buffers kept for each batch size."""
        be, k = self.backend, index.shape[0]
        index = be.asarray(index, np.int64)
        batch = []
        for name in ("X", "Y", "lengths", "weight"):
            src = getattr(self, name)
            out = self.buffers.get(f"{name}{k}", (k, *src.shape[1:]), src.dtype)
            be.take_rows(src, index, out)
            batch.append(out)
        return tuple(batch)


class ChunkedSequenceData:
    """Sequences cut into consecutive chunks of steps, for truncated
    backpropagation through time: chunk ``k`` is a :class:`SequenceData` of
    steps ``k S`` up to ``(k + 1) S`` of every sequence.

    A sequence that ends before chunk ``k`` has length 0 there; batches
    therefore list their rows longest first (:meth:`batch_order`), so that
    the rows still running in chunk ``k`` are the first
    :meth:`live_rows` of the batch, and the state a chunk hands to the next
    is a prefix of its rows. Memory is that of the data once.

    Examples
    --------
    >>> import numpy as np
    >>> from numlstm.backends import resolve
    >>> data = ChunkedSequenceData(resolve("cpu"), np.zeros((3, 5, 1)),
    ...                            np.zeros((3, 5, 1)), np.array([5, 2, 4]),
    ...                            np.ones(3), np.float64, steps=2)
    >>> [chunk.host_lengths.tolist() for chunk in data.chunks]
    [[2, 2, 2], [2, 0, 2], [1, 0, 0]]
    >>> rows = data.batch_order(np.array([0, 1, 2]))
    >>> rows.tolist(), [data.live_rows(rows, k) for k in range(3)]
    ([0, 2, 1], [3, 2, 1])
    """

    def __init__(self, backend, X, Y, lengths, sample_weight, dtype,
                 steps: int) -> None:
        self.n, self.steps = len(X), int(steps)
        self.n_steps = X.shape[1]
        self.host_Y = Y
        self.host_lengths = np.asarray(lengths, dtype=np.int64)
        self.host_weight = np.asarray(sample_weight, dtype=np.float64)
        self.chunks = []
        for start in range(0, X.shape[1], self.steps):
            part = slice(start, start + self.steps)
            chunk_lengths = np.clip(self.host_lengths - start, 0, self.steps)
            self.chunks.append(SequenceData(
                backend, np.ascontiguousarray(X[:, part]),
                np.ascontiguousarray(Y[:, part]), chunk_lengths,
                sample_weight, dtype))

    def batch_order(self, rows):
        """``rows`` (host int array) longest sequence first, ties in order."""
        return rows[np.argsort(-self.host_lengths[rows], kind="stable")]

    def live_rows(self, rows, k: int) -> int:
        """How many of ``rows`` (in :meth:`batch_order`) run in chunk ``k``."""
        return int(np.count_nonzero(self.host_lengths[rows] > k * self.steps))
