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
