"""Weight initialisers (Keras' defaults for LSTM and dense layers)."""

from __future__ import annotations

import numpy as np


def glorot_uniform(rng: np.random.Generator, fan_out: int, fan_in: int,
                   shape=None):
    """A draw of U(-a, a), a = sqrt(6 / (fan_in + fan_out)), of shape
    ``(fan_out, fan_in)`` unless ``shape`` is given (convolution kernels)."""
    limit = np.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-limit, limit,
                       size=(fan_out, fan_in) if shape is None else shape)


def orthogonal(rng: np.random.Generator, rows: int, cols: int):
    """A (rows, cols) matrix with orthonormal columns (or rows, if wider).

    Saxe et al. (2014): the Q factor of a Gaussian matrix, its signs fixed
    by the diagonal of R so that the distribution is uniform.
    """
    a = rng.standard_normal((max(rows, cols), min(rows, cols)))
    q, r = np.linalg.qr(a)
    q *= np.sign(np.diag(r))
    return q if rows >= cols else q.T
