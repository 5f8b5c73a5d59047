"""Command line: ``numlstm demo`` fits each architecture on its classic
problem; ``numlstm bench`` times numlstm against PyTorch (:mod:`numlstm.bench`)."""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from . import __version__, bench
from .datasets import (
    make_addition,
    make_cumsum_threshold,
    make_damped_sine,
    make_echo_sequence,
    make_moving_square,
    make_rectangles,
)
from .estimators import (
    BidirectionalLSTMClassifier,
    CNNLSTMClassifier,
    EncoderDecoderLSTMClassifier,
    GenerativeLSTM,
    StackedLSTMRegressor,
    VanillaLSTMClassifier,
)


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


def demo_bidirectional(seed: int = 0) -> dict:
    """Bidirectional LSTM labelling each step: has the running sum passed
    a limit yet?"""
    X, y = make_cumsum_threshold(1000, 10, random_state=seed)
    X_new, y_new = make_cumsum_threshold(500, 10, random_state=seed + 1)
    model = BidirectionalLSTMClassifier(units=8, return_sequences=True,
                                        max_iter=20, learning_rate_init=1e-2,
                                        random_state=seed)
    seconds = _timed_fit(model, X, y)
    return {"model": "BidirectionalLSTMClassifier(units=8)",
            "problem": "cumulative-sum threshold, per step",
            "score": f"accuracy {model.score(X_new, y_new):.3f}",
            "fit time": f"{seconds:.2f} s", "backend": model.backend_}


def demo_encoder_decoder(seed: int = 0) -> dict:
    """Encoder-decoder LSTM adding three numbers written as characters."""
    X, y = make_addition(6000, n_terms=3, largest=20, random_state=seed)
    X_new, y_new = make_addition(1000, n_terms=3, largest=20,
                                 random_state=seed + 1)
    model = EncoderDecoderLSTMClassifier((64, 64), 64, decoder="teacher_forcing",
                                         max_iter=40, n_iter_no_change=40,
                                         learning_rate_init=5e-3,
                                         random_state=seed)
    seconds = _timed_fit(model, X, y)
    exact = float(np.mean((model.predict(X_new) == y_new).all(axis=1)))
    return {"model": "EncoderDecoderLSTMClassifier((64, 64), 64, tf)",
            "problem": 'addition "12+7+20" -> " 39"',
            "score": f"exact match {exact:.3f}",
            "fit time": f"{seconds:.2f} s", "backend": model.backend_}


def demo_generative(seed: int = 0) -> dict:
    """Generative LSTM drawing rectangles point by point from two corners."""
    model = GenerativeLSTM((32,), sequence_length=5, max_iter=60,
                           learning_rate_init=1e-2, random_state=seed)
    seconds = _timed_fit(model, make_rectangles(1000, random_state=seed), None)
    errors = []
    for rect in make_rectangles(100, random_state=seed + 1):
        new = model.sample(1, length=3, prompt=rect[:2], temperature=0.01,
                           random_state=seed)[0]
        p = np.vstack([rect[:2], new])
        errors.append(max(abs(p[2, 0] - p[1, 0]), abs(p[3, 1] - p[2, 1]),
                          abs(p[3, 0] - p[0, 0]), np.abs(p[4] - p[0]).max()))
    return {"model": "GenerativeLSTM((32,))",
            "problem": "draw a rectangle from 2 corners",
            "score": f"closed within 0.05: {np.mean(np.array(errors) < 0.05):.2f}",
            "fit time": f"{seconds:.2f} s", "backend": model.backend_}


def demo_cnn_lstm(seed: int = 0) -> dict:
    """CNN-LSTM telling which way a line grows across 10x10 frames."""
    X, y = make_moving_square(400, size=10, random_state=seed)
    X_new, y_new = make_moving_square(200, size=10, random_state=seed + 1)
    model = CNNLSTMClassifier((8,), units=16, max_iter=15,
                              learning_rate_init=1e-2, random_state=seed)
    seconds = _timed_fit(model, X, y)
    return {"model": "CNNLSTMClassifier((8,), units=16)",
            "problem": "moving square: left or right?",
            "score": f"accuracy {model.score(X_new, y_new):.3f}",
            "fit time": f"{seconds:.2f} s", "backend": model.backend_}


DEMOS = [demo_vanilla, demo_stacked, demo_cnn_lstm, demo_bidirectional,
         demo_encoder_decoder, demo_generative]


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
    bench_parser = sub.add_parser(
        "bench", help="time numlstm against PyTorch on the CPU targets "
        "(latency, fits, start-up) and print ratios and GFLOP/s",
        description=bench.__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    bench.add_arguments(bench_parser)
    args = parser.parse_args(argv)
    if args.command == "bench":
        return bench.main(args)
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
