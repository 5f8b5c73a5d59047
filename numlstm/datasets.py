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


def make_echo_sequence(n_samples: int = 1000, n_steps: int = 5,
                       n_features: int = 10, echo_step: int = 2,
                       random_state=None):
    """Echo: one-hot random sequences; the label is the value at one step.

    The network must remember the symbol seen at ``echo_step`` (counted from
    the start) until the sequence ends.

    Returns
    -------
    X : ndarray (n_samples, n_steps, n_features), one-hot
    y : ndarray (n_samples,) int, the symbol at ``echo_step``

    Examples
    --------
    >>> X, y = make_echo_sequence(4, n_steps=5, n_features=10, echo_step=2,
    ...                           random_state=0)
    >>> bool((X[:, 2].argmax(axis=1) == y).all())
    True
    """
    if not 0 <= echo_step < n_steps:
        raise ValueError(f"echo_step must lie in 0..{n_steps - 1}, got "
                         f"{echo_step}")
    rng = np.random.default_rng(random_state)
    symbols = rng.integers(0, n_features, size=(n_samples, n_steps))
    X = np.eye(n_features)[symbols]
    return X, symbols[:, echo_step]


def make_cumsum_threshold(n_samples: int = 1000, n_steps: int = 10,
                          threshold: float | None = None, random_state=None):
    """Per-step labels: has the running sum of U(0, 1) values passed a limit?

    The limit defaults to a quarter of ``n_steps``, so most sequences cross
    it about halfway.

    Returns
    -------
    X : ndarray (n_samples, n_steps, 1)
    y : ndarray (n_samples, n_steps) int, 1 once the running sum exceeds
        the limit

    Examples
    --------
    >>> X, y = make_cumsum_threshold(3, 10, random_state=0)
    >>> X.shape, y.shape
    ((3, 10, 1), (3, 10))
    """
    rng = np.random.default_rng(random_state)
    limit = n_steps / 4.0 if threshold is None else threshold
    values = rng.uniform(0.0, 1.0, size=(n_samples, n_steps))
    return values[:, :, None], (np.cumsum(values, axis=1) > limit).astype(int)


def make_latched_sign(n_samples: int = 4, n_steps: int = 1000,
                      pulse_every: float = 60.0, noise: float = 0.1,
                      random_state=None):
    """Long series whose target is the sign of the last pulse seen.

    Each step of each series is, with probability ``1 / pulse_every``, a
    pulse of +1 or -1 and otherwise 0, plus Gaussian noise of standard
    deviation ``noise``; the per-step label is 1 if the most recent pulse
    was positive, else 0 (0 before the first). A model must hold a pulse's
    sign for ``pulse_every`` steps on average, and often several times
    longer: longer than a chunk of truncated backpropagation through time
    (``tbptt_steps``) shorter than that, so it must learn to carry its
    state across chunks.

    Returns
    -------
    X : ndarray (n_samples, n_steps, 1)
    y : ndarray (n_samples, n_steps) int
    since : ndarray (n_samples, n_steps) int
        Steps since the last pulse (``n_steps`` before the first), to score
        the labels that need a long memory.

    Examples
    --------
    >>> X, y, since = make_latched_sign(2, 500, random_state=0)
    >>> X.shape, y.shape, int(since.max()) > 100
    ((2, 500, 1), (2, 500), True)
    """
    rng = np.random.default_rng(random_state)
    pulse = rng.random((n_samples, n_steps)) < 1.0 / pulse_every
    sign = np.where(rng.random((n_samples, n_steps)) < 0.5, -1.0, 1.0)
    X = np.where(pulse, sign, 0.0) + noise * rng.normal(size=(n_samples, n_steps))
    y = np.zeros((n_samples, n_steps), dtype=int)
    since = np.full((n_samples, n_steps), n_steps, dtype=int)
    for i in range(n_samples):
        label, last = 0, None
        for t in range(n_steps):
            if pulse[i, t]:
                label, last = int(sign[i, t] > 0), t
            y[i, t] = label
            if last is not None:
                since[i, t] = t - last
    return X[:, :, None], y, since


def make_windows(series, n_steps_in: int, n_steps_out: int = 1):
    """Sliding windows over a series for forecasting.

    Parameters
    ----------
    series : array (n_times,) or (n_times, n_features)
    n_steps_in : int
        Steps the model sees.
    n_steps_out : int, default=1
        Steps it predicts (of every feature).

    Returns
    -------
    X : ndarray (n_windows, n_steps_in, n_features)
    y : ndarray (n_windows,) for one step of a univariate series,
        (n_windows, n_steps_out) for several steps of one, and
        (n_windows, n_steps_out, n_features) for a multivariate series.

    Examples
    --------
    >>> X, y = make_windows(np.arange(6.0), n_steps_in=3, n_steps_out=2)
    >>> X[:, :, 0].tolist(), y.tolist()
    ([[0.0, 1.0, 2.0], [1.0, 2.0, 3.0]], [[3.0, 4.0], [4.0, 5.0]])
    """
    series = np.asarray(series, dtype=np.float64)
    if series.ndim not in (1, 2):
        raise ValueError(f"series must be 1-D or 2-D, got shape {series.shape}")
    if n_steps_in < 1 or n_steps_out < 1:
        raise ValueError("n_steps_in and n_steps_out must be >= 1")
    univariate = series.ndim == 1
    s = series[:, None] if univariate else series
    n = len(s) - n_steps_in - n_steps_out + 1
    if n < 1:
        raise ValueError(f"a series of {len(s)} steps is too short for windows "
                         f"of {n_steps_in} + {n_steps_out} steps")
    idx = np.arange(n)[:, None]
    X = s[idx + np.arange(n_steps_in)]
    y = s[idx + n_steps_in + np.arange(n_steps_out)]
    if univariate:
        y = y[:, :, 0]
        return X, (y[:, 0] if n_steps_out == 1 else y)
    return X, y


#: the characters of :func:`make_addition`: digits, plus, and the space that
#: pads numbers on the left
ADDITION_ALPHABET = "0123456789+ "


def make_addition(n_samples: int = 1000, n_terms: int = 3, largest: int = 50,
                  random_state=None):
    """The adding problem: ``"10+6+21"`` as characters in, ``" 37"`` out.

    Each sample adds ``n_terms`` random integers in ``[1, largest]``. The
    expression is right-aligned (left-padded with spaces) to a fixed width
    and one-hot encoded over :data:`ADDITION_ALPHABET`; the sum is written
    right-aligned to the width of the largest possible sum.

    Returns
    -------
    X : ndarray (n_samples, T_in, 12), one-hot characters
    y : ndarray (n_samples, T_out) of one-character strings

    Examples
    --------
    >>> X, y = make_addition(2, n_terms=3, largest=50, random_state=0)
    >>> X.shape, y.shape
    ((2, 8, 12), (2, 3))
    >>> expression = "".join(ADDITION_ALPHABET[i] for i in X[0].argmax(axis=1))
    >>> int(eval(expression)) == int("".join(y[0]))
    True
    """
    if n_terms < 1 or largest < 1:
        raise ValueError("n_terms and largest must be >= 1")
    rng = np.random.default_rng(random_state)
    terms = rng.integers(1, largest + 1, size=(n_samples, n_terms))
    width_in = n_terms * len(str(largest)) + n_terms - 1
    width_out = len(str(n_terms * largest))
    index = {c: k for k, c in enumerate(ADDITION_ALPHABET)}
    X = np.zeros((n_samples, width_in, len(ADDITION_ALPHABET)))
    y = np.empty((n_samples, width_out), dtype="<U1")
    for k, row in enumerate(terms):
        expression = "+".join(str(v) for v in row).rjust(width_in)
        X[k, np.arange(width_in), [index[c] for c in expression]] = 1.0
        y[k] = list(str(row.sum()).rjust(width_out))
    return X, y


def make_rectangles(n_samples: int = 1000, random_state=None):
    """Rectangles drawn point by point, the generative LSTM's classic problem.

    Each sample is the 5 points ``(x, y)`` of a walk around an axis-aligned
    rectangle: bottom-left, bottom-right, top-right, top-left, and back to
    bottom-left. The corner lies in ``[0, 0.5)^2`` and width and height in
    ``[0.1, 0.5)``.

    Returns
    -------
    X : ndarray (n_samples, 5, 2)

    Examples
    --------
    >>> X = make_rectangles(3, random_state=0)
    >>> bool(np.allclose(X[:, 0], X[:, 4]) and np.allclose(X[:, 1, 1], X[:, 0, 1]))
    True
    """
    rng = np.random.default_rng(random_state)
    x0, y0 = rng.uniform(0.0, 0.5, size=(2, n_samples))
    w, h = rng.uniform(0.1, 0.5, size=(2, n_samples))
    xs = np.stack([x0, x0 + w, x0 + w, x0, x0], axis=1)
    ys = np.stack([y0, y0, y0 + h, y0 + h, y0], axis=1)
    return np.stack([xs, ys], axis=2)


def make_seasonal_series(n_times: int = 600, period: int = 12, trend: float = 0.0,
                         noise: float = 0.1, random_state=None):
    """A seasonal series: two harmonics of ``period``, a trend and noise.

    Examples
    --------
    >>> make_seasonal_series(48, period=12, random_state=0).shape
    (48,)
    """
    rng = np.random.default_rng(random_state)
    t = np.arange(n_times)
    phase = 2 * np.pi * t / period
    return (np.sin(phase) + 0.5 * np.cos(2 * phase + 0.3) + trend * t / period
            + noise * rng.standard_normal(n_times))


def make_moving_square(n_samples: int = 200, size: int = 10, random_state=None):
    """The moving-square problem: which way does a growing line move?

    Each sample is ``size`` frames of a ``size x size`` image. In a random
    row, a line grows one cell per frame, from the left edge to the right
    ("right") or from the right edge to the left ("left"): frame t shows the
    first t + 1 cells.

    Returns
    -------
    X : ndarray (n_samples, size, size, size, 1), values 0 and 1
    y : ndarray (n_samples,) of ``"right"`` / ``"left"``

    Examples
    --------
    >>> X, y = make_moving_square(2, size=5, random_state=0)
    >>> X.shape
    (2, 5, 5, 5, 1)
    >>> [int(X[k, -1].sum()) for k in range(2)]
    [5, 5]
    """
    if size < 2:
        raise ValueError(f"size must be >= 2, got {size}")
    rng = np.random.default_rng(random_state)
    rows = rng.integers(0, size, size=n_samples)
    rightward = rng.random(n_samples) < 0.5
    X = np.zeros((n_samples, size, size, size, 1))
    for k in range(n_samples):
        for t in range(size):
            cols = slice(0, t + 1) if rightward[k] else slice(size - 1 - t, size)
            X[k, t:, rows[k], cols, 0] = 1.0
    return X, np.where(rightward, "right", "left")
