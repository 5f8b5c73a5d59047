"""The training step of each LSTM cell variant against the plain cell's, on
the CPU: one layer's forward + backward, as ``numlstm.nn.LSTM`` runs it.

::

    python benchmarks/cell_variants.py [--configs small,medium] [--rounds 7]

Each round times every cell once, in turn (so that the machine's drift
falls on all of them alike), each timing the best of ``--repeats`` calls;
the table gives each cell's median and best over the rounds and their
ratios to the plain cell's (the issue's bound: at most 1.3). On a shared
machine the best is the steadier figure. Configurations as
``asv_bench/benchmarks/_configs.py``, float32.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "asv_bench"))

from benchmarks._configs import CONFIGS  # noqa: E402

from numlstm.backends import resolve  # noqa: E402
from numlstm.nn import LSTM, Sequential  # noqa: E402

CELLS = {"plain": {}, "peephole": dict(peephole=True),
         "coupled": dict(coupled_gates=True),
         "coupled+peephole": dict(peephole=True, coupled_gates=True),
         "recurrent_dropout": dict(recurrent_dropout=0.25),
         "zoneout": dict(zoneout=0.1),
         # the projection to half the units (h and W_hh half as wide)
         "proj_size=H/2": dict(proj_size=0.5),
         "layer_norm": dict(layer_norm=True),
         "layer_norm+proj_size=H/2": dict(layer_norm=True, proj_size=0.5)}


def layer_step(config: str, cell: dict, dtype: str = "float32"):
    """A function running one forward + backward of a layer of ``config``
    (a fractional ``proj_size`` is a share of the units)."""
    B, T, D, H = CONFIGS[config]
    cell = dict(cell)
    if "proj_size" in cell:
        cell["proj_size"] = int(cell["proj_size"] * H)
    rng = np.random.default_rng(0)
    net = Sequential([LSTM(D, H, return_sequences=True, **cell)], dtype=dtype,
                     backend=resolve("cpu"), random_state=0)
    layer = net.layers[0]
    X = rng.standard_normal((B, T, D)).astype(dtype)
    lengths = np.full(B, T, dtype=np.int64)
    dY = rng.standard_normal((B, T, layer.output_size)).astype(dtype)

    def step():
        layer.forward(X, lengths, training=True)
        layer.backward(dY)

    step()  # compile, allocate
    return step


def best_of(step, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    return min(times)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--configs", default="small,medium")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    print("| config | cell | median (ms) | / plain | best (ms) | / plain |")
    print("|---|---|---|---|---|---|")
    for config in args.configs.split(","):
        steps = {name: layer_step(config, cell) for name, cell in CELLS.items()}
        times = {name: [] for name in CELLS}
        for _ in range(args.rounds):
            for name, step in steps.items():
                times[name].append(best_of(step, args.repeats))
        plain = statistics.median(times["plain"]), min(times["plain"])
        for name in CELLS:
            t = statistics.median(times[name]), min(times[name])
            print(f"| {config} {CONFIGS[config]} | {name} | {t[0] * 1e3:.2f} | "
                  f"{t[0] / plain[0]:.2f} | {t[1] * 1e3:.2f} | "
                  f"{t[1] / plain[1]:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
