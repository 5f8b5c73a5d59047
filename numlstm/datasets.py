"""The classic sequence problems each architecture is tested on.

Every generator takes ``random_state`` (int, Generator or None) and returns
NumPy arrays in the batch-first layout ``(n_samples, n_steps, n_features)``.
"""

from __future__ import annotations

import numpy as np


def make_damped_sine(n_samples: int = 1000, n_steps_in: int = 20,
                     n_steps_out: int = 5, random_state=None):
    """Damped sine waves: predict the next ``n_steps_out`` points.

    Each series is ``0.5 + 0.5 sin(2 pi i / period) exp(-decay i)`` with a
    random period in [10, 20), decay in [0.01, 0.1) and a random phase
    offset, so every value lies in [0, 1].

    Returns
    -------
    X : ndarray (n_samples, n_steps_in, 1)
    y : ndarray (n_samples, n_steps_out)

    Examples
    --------
    >>> X, y = make_damped_sine(8, 20, 5, random_state=0)
    >>> X.shape, y.shape
    ((8, 20, 1), (8, 5))
    """
    rng = np.random.default_rng(random_state)
    period = rng.uniform(10, 20, size=(n_samples, 1))
    decay = rng.uniform(0.01, 0.1, size=(n_samples, 1))
    offset = rng.integers(0, 10, size=(n_samples, 1))
    i = np.arange(n_steps_in + n_steps_out)[None, :] + offset
    series = 0.5 + 0.5 * np.sin(2 * np.pi * i / period) * np.exp(-decay * i)
    return series[:, :n_steps_in, None], series[:, n_steps_in:]
