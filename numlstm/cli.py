"""Command line: ``numlstm demo`` fits each architecture on its classic problem."""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from . import __version__
from .datasets import make_damped_sine, make_echo_sequence
from .estimators import StackedLSTMRegressor, VanillaLSTMClassifier


def _timed_fit(model, X, y):
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, y)
    return time.perf_counter() - start


def demo_vanilla(seed: int = 0) -> dict:
    """Vanilla LSTM on the echo problem: recall the symbol seen at step 2."""
    X, y = make_echo_sequence(2000, 5, 10, echo_step=2, random_state=seed)
    X_new, y_new = make_echo_sequence(1000, 5, 10, echo_step=2,
                                      random_state=seed + 1)
    model = VanillaLSTMClassifier(units=25, max_iter=30, learning_rate_init=1e-2,
                                  random_state=seed)
    seconds = _timed_fit(model, X, y)
    return {"model": "VanillaLSTMClassifier(units=25)",
            "problem": "echo sequence (T=5, 10 symbols)",
            "score": f"accuracy {model.score(X_new, y_new):.3f}",
            "fit time": f"{seconds:.2f} s", "backend": model.backend_}


def demo_stacked(seed: int = 0) -> dict:
    """Stacked LSTM on damped sine waves: forecast the next 5 points."""
    X, y = make_damped_sine(1000, 20, 5, random_state=seed)
    X_new, y_new = make_damped_sine(300, 20, 5, random_state=seed + 1)
    model = StackedLSTMRegressor((20, 20), max_iter=25, learning_rate_init=1e-2,
                                 random_state=seed)
    seconds = _timed_fit(model, X, y)
    mae = float(np.mean(np.abs(model.predict(X_new) - y_new)))
    return {"model": "StackedLSTMRegressor((20, 20))",
            "problem": "damped sine, next 5 points",
            "score": f"MAE {mae:.4f}",
            "fit time": f"{seconds:.2f} s", "backend": model.backend_}


DEMOS = [demo_vanilla, demo_stacked]


def _table(rows: list[dict]) -> str:
    cols = list(rows[0])
    widths = [max(len(c), *(len(str(r[c])) for r in rows)) for c in cols]
    line = "  ".join(c.ljust(w) for c, w in zip(cols, widths, strict=True))
    body = ["  ".join(str(r[c]).ljust(w) for c, w in zip(cols, widths, strict=True))
            for r in rows]
    return "\n".join([line, "  ".join("-" * w for w in widths), *body])


def main(argv=None) -> int:
    """Entry point of the ``numlstm`` command."""
    parser = argparse.ArgumentParser(prog="numlstm",
                                     description="LSTM networks on Numba kernels")
    parser.add_argument("--version", action="version", version=__version__)
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="fit every architecture on its classic "
                          "problem and print score and time")
    demo.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.command == "demo":
        print(f"numlstm {__version__} demo: each architecture on its classic "
              "problem, scored on fresh data (the first run compiles the "
              "kernels: a few seconds more)\n", flush=True)
        rows = []
        for run in DEMOS:
            rows.append(run(args.seed))
            print(f"  done: {rows[-1]['model']}", flush=True)
        print()
        print(_table(rows))
    return 0
