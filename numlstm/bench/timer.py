"""The one timer of the benchmarks: :func:`measure` and what builds on it.

Every figure of ``numlstm bench``, of the scripts under ``benchmarks/`` and
of the asv ratio benchmark is a :class:`Timing` from :func:`measure`:
:func:`measure_alternately` interleaves two callables' samples,
:func:`time_median` sizes the number of samples to a time budget and
:func:`calls_to_fill` the calls per sample of a very short callable.
"""

from __future__ import annotations

import dataclasses
import math
import statistics
import time
from collections.abc import Callable


@dataclasses.dataclass(frozen=True)
class Timing:
    """Seconds of the timed runs of one callable.

    Parameters
    ----------
    samples : tuple of float
        Seconds per call, one value per sample.
    """

    samples: tuple

    @property
    def median(self) -> float:
        """The median sample."""
        return statistics.median(self.samples)

    @property
    def min(self) -> float:
        """The fastest sample."""
        return min(self.samples)

    @property
    def max(self) -> float:
        """The slowest sample."""
        return max(self.samples)


def measure(fn: Callable, repeats: int, number: int = 1) -> Timing:
    """Time ``repeats`` samples of ``fn`` (warm it up first).

    Parameters
    ----------
    fn : callable
        Called without arguments; what it returns is dropped.
    repeats : int
        Samples to take.
    number : int, default 1
        Back-to-back calls per sample; a sample is their mean.

    Returns
    -------
    Timing
    """
    samples = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        samples.append((time.perf_counter() - t0) / number)
    return Timing(tuple(samples))


def measure_alternately(ours: Callable, theirs: Callable, repeats: int,
                        ours_number: int = 1, theirs_number: int = 1,
                        pause: Callable[[], None] = lambda: None
                        ) -> tuple[Timing, Timing]:
    """Time ``repeats`` samples of each side, the two sides taking turns.

    Sample ``i`` of one side is taken next to sample ``i`` of the other (who
    goes first alternates), so that a slow minute of the machine falls on
    both sides of a pair rather than on one side's whole block; the ratio of
    a case is the median of these pairs' ratios (``Row.ratio``).

    Parameters
    ----------
    ours, theirs : callable
        The two sides, called without arguments.
    repeats : int
        Samples of each side.
    ours_number, theirs_number : int, default 1
        Calls per sample of each side (see :func:`measure`).
    pause : callable, optional
        Runs before every sample (:func:`settle`); by default nothing.

    Returns
    -------
    ours, theirs : Timing

    Examples
    --------
    >>> calls = []
    >>> a, b = measure_alternately(lambda: calls.append("a"),
    ...                            lambda: calls.append("b"), repeats=2)
    >>> "".join(calls), len(a.samples), len(b.samples)
    ('abba', 2, 2)
    """
    runs = [(ours, ours_number), (theirs, theirs_number)]
    samples = ([], [])
    for i in range(repeats):
        for side in (0, 1) if i % 2 == 0 else (1, 0):
            pause()
            fn, number = runs[side]
            samples[side].append(measure(fn, 1, number).samples[0])
    return Timing(tuple(samples[0])), Timing(tuple(samples[1]))


def calls_to_fill(fn: Callable, seconds: float) -> int:
    """How many calls of ``fn`` take about ``seconds``.

    Parameters
    ----------
    fn : callable
        Called without arguments until ``seconds`` have passed (at most
        100,000 times).
    seconds : float

    Returns
    -------
    int
        At least 1.
    """
    count, t0 = 0, time.perf_counter()
    while True:
        fn()
        count += 1
        elapsed = time.perf_counter() - t0
        if elapsed >= seconds or count >= 100_000:
            break
    return max(1, math.ceil(count * seconds / elapsed))


def time_median(fn: Callable, budget: float, max_repeats: int,
                warmup: int = 3) -> tuple[float, int]:
    """Median of about ``budget`` seconds' worth of timed calls of ``fn``.

    Parameters
    ----------
    fn : callable
        Called without arguments.
    budget : float
        Seconds aimed at; the warm-up also stops once it has taken as long.
    max_repeats : int
        Most timed calls (at least 5 are timed whatever the budget).
    warmup : int, default 3
        Untimed calls first.

    Returns
    -------
    median : float
        Seconds per call.
    n : int
        Calls timed.
    """
    t0 = time.perf_counter()
    for _ in range(warmup):
        fn()
        if time.perf_counter() - t0 > budget:
            break
    estimate = max(measure(fn, 1).samples[0], 1e-7)
    n = int(min(max_repeats, max(5, budget / estimate)))
    return measure(fn, n).median, n


def settle(seconds: float = 0.2) -> None:
    """Let the spinning worker threads of the last library go to sleep.

    numpy's OpenBLAS, SciPy's OpenBLAS (the one Numba's ``np.dot`` calls) and
    torch's OpenMP each keep a pool busy-waiting for a while after work; on a
    machine with few cores the next library would otherwise share them.

    Parameters
    ----------
    seconds : float, default 0.2
        How long to sleep.
    """
    time.sleep(seconds)
