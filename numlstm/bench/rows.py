"""One row of ``numlstm bench``: a case timed, and whether it met its target."""

from __future__ import annotations

import dataclasses
import statistics

from .cases import Case
from .flops import case_flops
from .machine import OtherCPU
from .prepare import prepare_case
from .timer import Timing, measure, measure_alternately, settle


@dataclasses.dataclass
class Row:
    """The measured numbers of one case."""

    case: Case
    ours: Timing
    theirs: Timing | None
    flops: float | None
    peak_gflops: float
    other_cpu: float
    check: str = ""
    quick: bool = False

    @property
    def ratio(self) -> float | None:
        """numlstm's time over torch's (lower is better): the median of the
        ratios of the pairs of samples taken side by side
        (:func:`measure_alternately`), or of the medians where the two sides
        have different numbers of samples."""
        if self.theirs is None:
            return None
        ours, theirs = self.ours.samples, self.theirs.samples
        if len(ours) != len(theirs):
            return self.ours.median / self.theirs.median
        return statistics.median(a / b for a, b in zip(ours, theirs, strict=True))

    @property
    def gflops(self) -> float | None:
        if self.flops is None:
            return None
        return self.flops / self.ours.median / 1e9

    @property
    def peak_percent(self) -> float | None:
        if self.gflops is None or not self.peak_gflops > 0:
            return None
        return 100.0 * self.gflops / self.peak_gflops

    @property
    def met(self) -> bool | None:
        """Whether every target of the case holds (None: cannot tell)."""
        if self.quick:
            return None
        return target_met(self.case, self.ratio, self.ours.median,
                          self.peak_percent)


def target_met(case: Case, ratio: float | None, seconds: float,
               peak_percent: float | None) -> bool | None:
    """Whether ``case``'s targets hold; None where a needed figure is missing.

    Examples
    --------
    >>> from numlstm.bench import CASES
    >>> target_met(CASES["small"], 0.4, 1.0, None)
    True
    >>> target_met(CASES["small"], None, 1.0, None) is None
    True
    """
    checks = []
    if case.max_ratio is not None:
        checks.append(None if ratio is None else ratio <= case.max_ratio)
    if case.min_peak_percent is not None:
        checks.append(None if peak_percent is None
                      else peak_percent >= case.min_peak_percent)
    if case.max_seconds is not None:
        checks.append(seconds <= case.max_seconds)
    if False in checks:
        return False
    if None in checks or not checks:
        return None
    return True


def run_case(case: Case, dtype: str, repeats: int, torch, peak_gflops: float,
             quick: bool = False) -> Row:
    """Prepare, warm up and time one case, numlstm's and torch's samples
    taking turns (:func:`measure_alternately`).

    ``other_cpu`` covers the timed runs, not the preparation.
    """
    prepared = prepare_case(case, dtype, torch)
    settle()
    with OtherCPU() as others:
        if prepared.theirs is None:
            ours = measure(prepared.ours, repeats, prepared.ours_number)
            theirs = None
        else:
            ours, theirs = measure_alternately(
                prepared.ours, prepared.theirs, repeats, prepared.ours_number,
                prepared.theirs_number, pause=settle)
    return Row(case, ours, theirs, case_flops(case), peak_gflops,
               others.percent, prepared.check, quick)
