"""Command line: ``numlstm demo`` fits each architecture on its classic problem."""

from __future__ import annotations

import argparse
import time

import numpy as np

from . import __version__
from .datasets import make_damped_sine
from .nn import LSTM, Adam, Dense, MeanSquaredError, Sequential, train_step


def demo_engine(epochs: int = 30, random_state: int = 0, out=print) -> dict:
    """Fit a small LSTM network on damped sine waves through the engine.

    Predicts the next 5 points of a damped sine from its first 20, with
    Adam on mini-batches of 32, and reports the held-out mean absolute
    error, the fit time and the backend.
    """
    X, y = make_damped_sine(1200, 20, 5, random_state=random_state)
    X_train, y_train, X_test, y_test = X[:1000], y[:1000], X[1000:], y[1000:]
    net = Sequential([LSTM(1, 32), Dense(32, 5)], dtype="float32",
                     random_state=random_state)
    loss, opt = MeanSquaredError(), Adam(net.backend, learning_rate=1e-2)
    rng = np.random.default_rng(random_state)
    start = time.perf_counter()
    for epoch in range(epochs):
        order = rng.permutation(len(X_train))
        total = 0.0
        for s in range(0, len(order), 32):
            idx = order[s:s + 32]
            total += len(idx) * train_step(net, loss, opt, X_train[idx],
                                           y_train[idx], clip_norm=5.0)
        if epoch % 10 == 0 or epoch == epochs - 1:
            out(f"  epoch {epoch + 1:3d}  train mse {total / len(order):.5f}")
    seconds = time.perf_counter() - start
    mae = float(np.mean(np.abs(net.forward(X_test) - y_test)))
    return {"model": "LSTM(32) + Dense(5) [engine]",
            "problem": "damped sine, next 5 points", "score": f"MAE {mae:.4f}",
            "fit time": f"{seconds:.2f} s", "backend": net.backend.name}


def _table(rows: list[dict]) -> str:
    cols = list(rows[0])
    widths = [max(len(c), *(len(str(r[c])) for r in rows)) for c in cols]
    line = "  ".join(c.ljust(w) for c, w in zip(cols, widths, strict=False))
    body = ["  ".join(str(r[c]).ljust(w) for c, w in zip(cols, widths, strict=False))
            for r in rows]
    return "\n".join([line, "  ".join("-" * w for w in widths), *body])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="numlstm",
                                     description="LSTM networks on Numba kernels")
    parser.add_argument("--version", action="version", version=__version__)
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="fit every architecture on its classic "
                          "problem and print score and time")
    demo.add_argument("--epochs", type=int, default=30)
    demo.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.command == "demo":
        print(f"numlstm {__version__} demo")
        rows = [demo_engine(args.epochs, args.seed)]
        print()
        print(_table(rows))
    return 0
