"""``numlstm bench``: numlstm against PyTorch on the CPU targets of issue 6.

Run it in an environment that has torch (never a numlstm dependency; without
it numlstm runs alone and the torch columns say so)::

    numlstm bench                      # latency, small, medium, start
    numlstm bench --large              # also the large fit (slow)
    numlstm bench --cases latency,small --repeats 5 --dtype float64
    numlstm bench --quick              # smaller fits: checks the tool works

The cases (``--cases``, comma-separated; ``(B, T, D, H)`` = batch, steps,
inputs, hidden units):

latency
    ``VanillaLSTMRegressor.predict`` on one sequence (1, 50, 8, 64) against
    ``nn.LSTM`` + ``nn.Linear`` under ``torch.no_grad()``, holding the same
    weights (``get_weights``: ``lstm.0.W_ih/W_hh/b`` into
    ``weight_ih_l0``/``weight_hh_l0``/``bias_ih_l0``, ``bias_hh_l0`` = 0,
    ``dense.W/b`` into the ``Linear``). One timing is the mean of enough
    calls to fill 0.2 s. Target: numlstm/torch <= 0.2.
small
    ``VanillaLSTMRegressor(units=64, batch_size=32, max_iter=3,
    n_iter_no_change=4, shuffle=True)`` fitted (Adam, lr 1e-3) on 1,024
    sequences (32, 50, 8, 64) against a plain PyTorch loop over the same
    model shape: Adam with the same learning rate, batch size and epochs,
    shuffled each epoch, mean squared error, gradients clipped to norm 5
    (numlstm's default ``clip_norm``). Target <= 0.5.
medium
    The same on 512 sequences (64, 100, 32, 256), 2 epochs. Target <= 0.8.
large
    The same on 128 sequences (64, 100, 512, 1024), 1 epoch. Target <= 1.0
    and numlstm at >= 80% of the sgemm rate. Slow: it runs only with
    ``--large`` or when named in ``--cases``.
start
    Wall time of a fresh interpreter (a subprocess) that imports numlstm,
    fits 4 batches of the small configuration for one epoch and predicts,
    with a warm Numba cache (one run beforehand fills it). Target <= 1.5 s.

Every case runs once first (JIT compilation, caches), then ``--repeats``
times (default 3); the table shows the median with the minimum and maximum.
numlstm's and torch's samples are taken in turns, and the ratio is the
median of the ratios of these pairs (lower is better; < 1 means numlstm is
faster): a slow minute of the machine then weighs on both sides of a pair.
GFLOP/s counts the LSTM layer alone: a forward pass of a batch is
``8 B T H (D + H)`` floating-point operations, a training step three times
that, summed over the batches of every epoch; "% sgemm" sets it against
numpy's float32 2048x2048 matmul measured at the start (the float32 rate
even for ``--dtype float64``). torch runs with as many threads as the
BLAS numlstm's kernels call. The "other CPU" column is the CPU time other
processes used while the row was timed, in % of one core: above 10% the
row is disturbed and a warning follows the table.

``--quick`` shrinks the fits (an eighth of the sequences, at least one
batch, one epoch) and times each case once: a check that everything runs,
not a measurement against the targets.

The machinery is importable: :data:`CASES`, :func:`prepare_case` (the two
callables of a case, ready to time) and :func:`measure_alternately` are what the asv
benchmark ``track_ratio_vs_torch`` uses.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import statistics
import subprocess
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np

from ._machine import (
    BUSY_PERCENT,
    OtherCPU,
    machine_lines,
    numlstm_blas_threads,
    settle,
    sgemm_peak,
)

#: name -> (B, T, D, H): the configurations of the design guide, section 6
CONFIGS = {
    "latency": (1, 50, 8, 64),
    "small": (32, 50, 8, 64),
    "medium": (64, 100, 32, 256),
    "large": (64, 100, 512, 1024),
}

#: learning rate of every fit, numlstm's and torch's
LEARNING_RATE = 1e-3
#: gradient-norm clipping of every fit (numlstm's default ``clip_norm``)
CLIP_NORM = 5.0
#: a latency timing is the mean of as many calls as fill this many seconds
LATENCY_MIN_TIME = 0.2
#: batches fitted by the ``start`` case's fresh interpreter
START_BATCHES = 4


@dataclasses.dataclass(frozen=True)
class Case:
    """One row of the table: what runs and which target it has.

    ``kind`` is ``'predict'``, ``'fit'`` or ``'start'``. A target is a
    ceiling on the numlstm/torch ratio (``max_ratio``), a floor on the % of
    the sgemm rate (``min_peak_percent``) or a ceiling on numlstm's seconds
    (``max_seconds``); every one given must hold.
    """

    name: str
    kind: str
    config: tuple
    n_sequences: int
    epochs: int
    max_ratio: float | None = None
    min_peak_percent: float | None = None
    max_seconds: float | None = None
    slow: bool = False

    @property
    def description(self) -> str:
        """What runs, in words, as the table prints it."""
        if self.kind == "predict":
            return f"predict, {self.config[0]} sequence(s)"
        if self.kind == "fit":
            return (f"fit, {self.n_sequences} seqs, {self.epochs} "
                    f"epoch{'s' if self.epochs != 1 else ''}")
        return (f"fresh process: import, fit {self.n_sequences} seqs, "
                "predict")

    @property
    def target(self) -> str:
        """The target in words, as the table prints it."""
        parts = []
        if self.max_ratio is not None:
            parts.append(f"ratio <= {self.max_ratio:g}")
        if self.min_peak_percent is not None:
            parts.append(f">= {self.min_peak_percent:g}% sgemm")
        if self.max_seconds is not None:
            parts.append(f"<= {self.max_seconds:g} s")
        return " and ".join(parts)

    def quick(self) -> Case:
        """This case with an eighth of the sequences (>= one batch), 1 epoch."""
        if self.kind != "fit":
            return self
        B = self.config[0]
        return dataclasses.replace(self, n_sequences=max(B, self.n_sequences // 8),
                                   epochs=1)


#: every case of ``numlstm bench``, in table order
CASES = {
    "latency": Case("latency", "predict", CONFIGS["latency"], 1, 0,
                    max_ratio=0.2),
    "small": Case("small", "fit", CONFIGS["small"], 1024, 3, max_ratio=0.5),
    "medium": Case("medium", "fit", CONFIGS["medium"], 512, 2, max_ratio=0.8),
    "large": Case("large", "fit", CONFIGS["large"], 128, 1, max_ratio=1.0,
                  min_peak_percent=80.0, slow=True),
    "start": Case("start", "start", CONFIGS["small"], START_BATCHES * 32, 1,
                  max_seconds=1.5),
}


def select_cases(names: list[str] | None = None, large: bool = False) -> list[str]:
    """The cases to run, in table order.

    ``names`` (``--cases``) None means every case but the slow one (large);
    ``large`` (``--large``) adds it either way.

    Examples
    --------
    >>> select_cases()
    ['latency', 'small', 'medium', 'start']
    >>> select_cases(["small"], large=True)
    ['small', 'large']
    """
    chosen = set(names) if names is not None else {
        name for name, case in CASES.items() if not case.slow}
    if large:
        chosen.add("large")
    return [name for name in CASES if name in chosen]


def parse_cases(text: str) -> list[str]:
    """Case names from a comma-separated list, checked, in table order.

    Raises
    ------
    ValueError
        If a name is not in :data:`CASES` or none is given.

    Examples
    --------
    >>> parse_cases("small, latency")
    ['latency', 'small']
    """
    names = [part.strip() for part in text.split(",") if part.strip()]
    unknown = [name for name in names if name not in CASES]
    if unknown:
        raise ValueError(f"unknown case{'s' if len(unknown) > 1 else ''} "
                         f"{', '.join(map(repr, unknown))}; choose from "
                         f"{', '.join(CASES)}")
    if not names:
        raise ValueError(f"no case given; choose from {', '.join(CASES)}")
    return [name for name in CASES if name in names]


# --------------------------------------------------------------------------
# floating-point operations


def forward_flops(B: int, T: int, D: int, H: int) -> float:
    """FLOPs of one LSTM layer's forward pass over a batch: ``8 B T H (D + H)``.

    Examples
    --------
    >>> forward_flops(1, 50, 8, 64)
    1843200.0
    """
    return 8.0 * B * T * H * (D + H)


def training_flops(B: int, T: int, D: int, H: int) -> float:
    """FLOPs of one training step (forward + backward): three forward passes."""
    return 3.0 * forward_flops(B, T, D, H)


def batch_sizes(n_sequences: int, batch_size: int) -> list[int]:
    """The batch sizes of one epoch over ``n_sequences`` (the last may be short).

    Examples
    --------
    >>> batch_sizes(70, 32)
    [32, 32, 6]
    """
    return [min(batch_size, n_sequences - start)
            for start in range(0, n_sequences, batch_size)]


def case_flops(case: Case) -> float | None:
    """FLOPs of one timed run of ``case`` (None for the ``start`` case).

    A predict is one forward pass; a fit is a training step per batch,
    summed over every epoch.
    """
    B, T, D, H = case.config
    if case.kind == "predict":
        return forward_flops(B, T, D, H)
    if case.kind == "fit":
        per_epoch = sum(training_flops(b, T, D, H)
                        for b in batch_sizes(case.n_sequences, B))
        return per_epoch * case.epochs
    return None


# --------------------------------------------------------------------------
# timing


@dataclasses.dataclass(frozen=True)
class Timing:
    """Seconds of the timed runs of one callable."""

    samples: tuple

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    @property
    def min(self) -> float:
        return min(self.samples)

    @property
    def max(self) -> float:
        return max(self.samples)


def measure(fn: Callable, repeats: int, number: int = 1) -> Timing:
    """Time ``repeats`` runs of ``fn`` (already warmed up).

    Each sample is the mean of ``number`` back-to-back calls.
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
    a case is the median of these pairs' ratios (:attr:`Row.ratio`).
    ``pause`` runs between two samples (:func:`settle`).

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
    """How many calls of ``fn`` take about ``seconds`` (at least 1)."""
    count, t0 = 0, time.perf_counter()
    while True:
        fn()
        count += 1
        elapsed = time.perf_counter() - t0
        if elapsed >= seconds or count >= 100_000:
            break
    return max(1, math.ceil(count * seconds / elapsed))


# --------------------------------------------------------------------------
# the two sides of a case


def torch_state_from_weights(weights: dict) -> dict:
    """numlstm ``get_weights`` of a one-layer LSTM + dense model, by the names
    of the torch module :func:`make_torch_regressor` builds.

    ``lstm.0.b`` (the two PyTorch biases summed) becomes ``bias_ih_l0`` and
    ``bias_hh_l0`` is zero. The arrays are numpy; load them with
    ``module.load_state_dict({k: torch.from_numpy(v) ...})``.

    Examples
    --------
    >>> import numpy as np
    >>> w = {"lstm.0.W_ih": np.ones((8, 3)), "lstm.0.W_hh": np.ones((8, 2)),
    ...      "lstm.0.b": np.ones(8), "dense.W": np.ones((1, 2)),
    ...      "dense.b": np.ones(1)}
    >>> sorted(torch_state_from_weights(w))  # doctest: +NORMALIZE_WHITESPACE
    ['dense.bias', 'dense.weight', 'lstm.bias_hh_l0', 'lstm.bias_ih_l0',
     'lstm.weight_hh_l0', 'lstm.weight_ih_l0']
    """
    extra = set(weights) - {"lstm.0.W_ih", "lstm.0.W_hh", "lstm.0.b",
                            "dense.W", "dense.b"}
    if extra:
        raise ValueError(f"not a one-layer LSTM + dense model: extra weights "
                         f"{sorted(extra)}")
    b = np.ascontiguousarray(weights["lstm.0.b"])
    return {
        "lstm.weight_ih_l0": np.ascontiguousarray(weights["lstm.0.W_ih"]),
        "lstm.weight_hh_l0": np.ascontiguousarray(weights["lstm.0.W_hh"]),
        "lstm.bias_ih_l0": b,
        "lstm.bias_hh_l0": np.zeros_like(b),
        "dense.weight": np.ascontiguousarray(weights["dense.W"]),
        "dense.bias": np.ascontiguousarray(weights["dense.b"]),
    }


def import_torch():
    """The torch module, or None where it cannot be imported."""
    try:
        import torch
    except ImportError:
        return None
    return torch


def make_torch_regressor(torch, D: int, H: int, n_outputs: int, dtype: str):
    """``nn.LSTM(batch_first=True)`` then ``nn.Linear`` on the last step."""

    class LSTMRegressor(torch.nn.Module):
        def __init__(self):
            super().__init__()
            tdtype = getattr(torch, dtype)
            self.lstm = torch.nn.LSTM(D, H, batch_first=True, dtype=tdtype)
            self.dense = torch.nn.Linear(H, n_outputs, dtype=tdtype)

        def forward(self, x):
            return self.dense(self.lstm(x)[0][:, -1])

    return LSTMRegressor()


def torch_fit(torch, X, y, H: int, batch_size: int, epochs: int, dtype: str,
              seed: int = 0):
    """The plain PyTorch training loop the fit cases compare against."""
    torch.manual_seed(seed)
    model = make_torch_regressor(torch, X.shape[2], H, y.shape[1], dtype)
    opt = torch.optim.Adam(model.parameters(), lr=LEARNING_RATE)
    X, y = torch.from_numpy(X), torch.from_numpy(y)
    g = torch.Generator().manual_seed(seed)
    n = len(X)
    for _ in range(epochs):
        order = torch.randperm(n, generator=g)
        for start in range(0, n, batch_size):
            idx = order[start:start + batch_size]
            opt.zero_grad()
            loss = torch.nn.functional.mse_loss(model(X[idx]), y[idx])
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), CLIP_NORM)
            opt.step()
    return model


def _numlstm_regressor(case: Case, dtype: str, max_iter: int):
    from .estimators import VanillaLSTMRegressor

    B, _, _, H = case.config
    return VanillaLSTMRegressor(
        units=H, batch_size=B, max_iter=max_iter, n_iter_no_change=max_iter + 1,
        shuffle=True, learning_rate_init=LEARNING_RATE, clip_norm=CLIP_NORM,
        random_state=0, dtype=dtype)


def _fit_quietly(model, X, y):
    from sklearn.exceptions import ConvergenceWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return model.fit(X, y)


def _data(case: Case, dtype: str, n: int, seed: int = 0):
    _, T, D, _ = case.config
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, T, D)).astype(dtype)
    y = X[:, :, 0].mean(axis=1).astype(dtype)
    return X, y


@dataclasses.dataclass
class PreparedCase:
    """A case ready to time: its callables, warmed up by :func:`prepare_case`.

    ``theirs`` is None where there is no torch counterpart (the ``start``
    case) or torch is missing. ``ours_number`` and ``theirs_number`` are
    the calls per timing sample of each; ``check`` says how far numlstm's
    and torch's outputs are apart.
    """

    case: Case
    ours: Callable
    theirs: Callable | None = None
    ours_number: int = 1
    theirs_number: int = 1
    check: str = ""


def prepare_case(case: Case, dtype: str = "float32", torch=None) -> PreparedCase:
    """Build the data and models of ``case`` and run each side once.

    The warm-up run compiles the kernels (or loads them from the Numba
    cache) so that no timing that follows includes JIT compilation.
    """
    if case.kind == "predict":
        return _prepare_predict(case, dtype, torch)
    if case.kind == "fit":
        return _prepare_fit(case, dtype, torch)
    if case.kind == "start":
        return _prepare_start(case, dtype)
    raise ValueError(f"unknown kind of case {case.kind!r}")


def _prepare_predict(case, dtype, torch):
    B, T, D, H = case.config
    X_fit, y_fit = _data(case, dtype, 64)
    model = _fit_quietly(_numlstm_regressor(dataclasses.replace(case, config=(
        32, T, D, H)), dtype, max_iter=1), X_fit, y_fit)
    X1 = X_fit[:B].copy()
    prepared = PreparedCase(case, lambda: model.predict(X1))
    ours_out = model.predict(X1)  # warm-up
    if torch is not None:
        net = make_torch_regressor(torch, D, H, 1, dtype)
        state = torch_state_from_weights(model.get_weights())
        net.load_state_dict({k: torch.from_numpy(v) for k, v in state.items()})
        net.eval()
        x1 = torch.from_numpy(X1)

        def theirs():
            with torch.no_grad():
                return net(x1)

        theirs_out = theirs().numpy().ravel()  # warm-up
        err = float(np.max(np.abs(ours_out - theirs_out)))
        prepared.theirs = theirs
        prepared.check = f"max |numlstm - torch| prediction {err:.1e}"
        prepared.theirs_number = calls_to_fill(theirs, LATENCY_MIN_TIME)
    prepared.ours_number = calls_to_fill(prepared.ours, LATENCY_MIN_TIME)
    return prepared


def _prepare_fit(case, dtype, torch):
    B, _, _, H = case.config
    X, y = _data(case, dtype, case.n_sequences)

    def ours():
        return _fit_quietly(_numlstm_regressor(case, dtype, case.epochs), X, y)

    prepared = PreparedCase(case, ours)
    ours()  # warm-up
    if torch is not None:
        y2 = np.ascontiguousarray(y[:, None])

        def theirs():
            return torch_fit(torch, X, y2, H, B, case.epochs, dtype)

        theirs()  # warm-up
        prepared.theirs = theirs
    return prepared


START_CHILD = """\
import warnings
import numpy as np
import numlstm
B, T, D, H = {config}
rng = np.random.default_rng(0)
X = rng.standard_normal(({n}, T, D)).astype({dtype!r})
y = X[:, :, 0].mean(axis=1)
model = numlstm.VanillaLSTMRegressor(units=H, batch_size=B, max_iter=1,
                                     n_iter_no_change=2, random_state=0,
                                     dtype={dtype!r})
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    model.fit(X, y)
model.predict(X[:1])
"""


def start_command(case: Case, dtype: str) -> tuple[list[str], dict]:
    """The ``start`` case's command line and environment.

    The child imports the numlstm this process imported (its checkout goes
    first on ``PYTHONPATH``) and shares this process's Numba cache.
    """
    code = START_CHILD.format(config=tuple(case.config), n=case.n_sequences,
                              dtype=dtype)
    env = dict(os.environ)
    root = str(Path(__file__).resolve().parents[1])
    env["PYTHONPATH"] = os.pathsep.join(
        [root] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else []))
    return [sys.executable, "-c", code], env


def _prepare_start(case, dtype):
    cmd, env = start_command(case, dtype)

    def ours():
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
        if proc.returncode != 0:
            raise RuntimeError(f"the start case's child failed "
                               f"({proc.returncode}):\n{proc.stderr}")

    ours()  # fills the Numba cache
    return PreparedCase(case, ours)


# --------------------------------------------------------------------------
# one row


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


# --------------------------------------------------------------------------
# the table


COLUMNS = ("case (B, T, D, H)", "numlstm s (min-max)", "torch s (min-max)",
           "numlstm/torch", "target", "met?", "numlstm GFLOP/s", "% sgemm",
           "other CPU %")


def _seconds(t: Timing | None, missing: str) -> str:
    if t is None:
        return missing
    return f"{t.median:.4g} ({t.min:.4g}-{t.max:.4g})"


def _number(x: float | None, fmt: str) -> str:
    return "-" if x is None or x != x else format(x, fmt)


def format_row(row: Row, torch_missing: bool = False) -> list[str]:
    """The cells of one row of the table."""
    case = row.case
    missing = "torch missing" if torch_missing and case.kind != "start" else "-"
    met = {True: "yes", False: "no", None: "-"}[row.met]
    return [f"{case.name}: {case.description} {tuple(case.config)}",
            _seconds(row.ours, "-"), _seconds(row.theirs, missing),
            _number(row.ratio, ".2f" if (row.ratio or 1) >= 0.01 else ".1e"),
            case.target, met,
            _number(row.gflops, ".2f"), _number(row.peak_percent, ".1f"),
            _number(row.other_cpu, ".0f")]


def format_table(rows: list[Row], torch_missing: bool = False) -> str:
    """The rows as a markdown table (header, alignment line, one line each).

    Examples
    --------
    >>> print(format_table([]))
    | case (B, T, D, H) | numlstm s (min-max) | torch s (min-max) | numlstm/torch | target | met? | numlstm GFLOP/s | % sgemm | other CPU % |
    |---|---:|---:|---:|---|---|---:|---:|---:|
    """  # noqa: E501
    lines = ["| " + " | ".join(COLUMNS) + " |",
             "|---|---:|---:|---:|---|---|---:|---:|---:|"]
    for row in rows:
        lines.append("| " + " | ".join(format_row(row, torch_missing)) + " |")
    return "\n".join(lines)


def busy_warnings(rows: list[Row], threshold: float = BUSY_PERCENT) -> list[str]:
    """A warning line for each row timed while others used > ``threshold`` %."""
    return [f"WARNING: other processes used {row.other_cpu:.0f}% of a core "
            f"while '{row.case.name}' was timed (above {threshold:g}%): that "
            "row is disturbed; run it again on a quieter machine."
            for row in rows if row.other_cpu > threshold]


def rows_to_json(rows: list[Row]) -> list[dict]:
    """The rows as plain data (seconds as lists of samples)."""
    return [{"case": row.case.name, "config": list(row.case.config),
             "n_sequences": row.case.n_sequences, "epochs": row.case.epochs,
             "numlstm_s": list(row.ours.samples),
             "torch_s": None if row.theirs is None else list(row.theirs.samples),
             "ratio": row.ratio, "target": row.case.target, "met": row.met,
             "gflops": row.gflops, "peak_percent": row.peak_percent,
             "other_cpu_percent": row.other_cpu, "check": row.check}
            for row in rows]


# --------------------------------------------------------------------------
# the command


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


def _cases_arg(text: str) -> list[str]:
    try:
        return parse_cases(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``numlstm bench``."""
    parser.add_argument("--cases", type=_cases_arg, default=None,
                        metavar="NAME[,NAME...]",
                        help=f"cases to run, from {', '.join(CASES)} (default: "
                             "all but large; --large adds it)")
    parser.add_argument("--large", action="store_true",
                        help="also run the large fit (64, 100, 512, 1024): slow")
    parser.add_argument("--repeats", type=_positive_int, default=3,
                        help="timed runs per case after the warm-up; the table "
                             "shows their median, min and max (default 3)")
    parser.add_argument("--dtype", default="float32",
                        choices=["float32", "float64"],
                        help="dtype of both libraries (default float32)")
    parser.add_argument("--no-torch", action="store_true",
                        help="run numlstm alone even where torch is importable")
    parser.add_argument("--quick", action="store_true",
                        help="an eighth of the sequences, 1 epoch, 1 repeat: "
                             "checks the tool runs, not the targets")
    parser.add_argument("--json", metavar="FILE", default=None,
                        help="also write the rows and the machine to FILE")


def main(args: argparse.Namespace) -> int:
    """Run ``numlstm bench`` with parsed ``args``; print the report."""
    names = select_cases(args.cases, args.large)
    repeats = 1 if args.quick else args.repeats
    torch = None if args.no_torch else import_torch()
    if torch is not None:
        torch.set_num_threads(numlstm_blas_threads())

    import numlstm

    against = f"vs torch {torch.__version__}" if torch is not None else "alone"
    print(f"numlstm bench: numlstm {numlstm.__version__} {against}, "
          f"{args.dtype}, median of {repeats} run(s) after a warm-up"
          f"{' (QUICK: reduced fits, targets not judged)' if args.quick else ''}\n",
          flush=True)
    if torch is None:
        why = "--no-torch" if args.no_torch else "torch is not importable here"
        print(f"{why}: running numlstm alone; install torch (CPU build) in "
              "this environment for the ratios.\n", flush=True)
    print(f"1-min load average before the run: {os.getloadavg()[0]:.2f}\n")

    with OtherCPU() as others:
        peak_np, peak_sp = sgemm_peak()
    settle()
    machine = machine_lines(numlstm_blas_threads(), peak_np, peak_sp,
                            others.percent, torch)
    print("## Machine and versions\n")
    print("\n".join(machine))
    print(flush=True)

    rows = []
    for name in names:
        case = CASES[name].quick() if args.quick else CASES[name]
        print(f"  running {name} ...", flush=True)
        rows.append(run_case(case, args.dtype, repeats, torch, peak_np,
                             args.quick))
    print()
    print(f"## numlstm vs torch, {args.dtype}\n")
    print(format_table(rows, torch_missing=torch is None))
    print()
    print("numlstm/torch: median of the ratios of samples taken in turns, "
          "lower is better (< 1: numlstm is faster). GFLOP/s: LSTM layer "
          "only, 8 B T H (D + H) per forward pass, 3x that per training "
          "step; % sgemm: of numpy's float32 2048x2048 matmul, "
          f"{peak_np:.1f} GFLOP/s here. other CPU %: CPU "
          "time of other processes while the row ran, in % of one core.")
    for row in rows:
        if row.check:
            print(f"- {row.case.name}: {row.check}")
    warnings_ = busy_warnings(rows)
    if warnings_:
        print()
        print("\n".join(warnings_))
    if args.json:
        payload = {"dtype": args.dtype, "repeats": repeats, "quick": args.quick,
                   "sgemm_gflops": peak_np, "machine": machine,
                   "rows": rows_to_json(rows)}
        Path(args.json).write_text(json.dumps(payload, indent=2) + "\n")
        print(f"\nwrote {args.json}")
    return 0
