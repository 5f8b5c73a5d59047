"""First-call compile time of the CPU LSTM kernels (cold and warm cache) and
import time.

Run with any environment that has numlstm's dependencies::

    python benchmarks/compile_time.py

Compile time: two fresh processes share one new ``NUMBA_CACHE_DIR``. The
first finds the cache empty (cold: Numba compiles and writes it), the second
finds it filled (warm: Numba loads the machine code). Each times the first
call of ``lstm_forward`` and then ``lstm_backward`` in float32, then float64,
on tiny arrays, so the time is all compilation or cache loading. The first
call of a process also pays Numba's one-time start-up, which lands in the
float32 row.

Import time: ``import numlstm``, ``import numlstm.backends.cpu`` (and
``import numba`` for scale) in fresh processes: the time of the import
statement itself and the wall time of the whole ``python -c "import ..."``,
medians over several processes.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _cpuload import OtherCPU, wait_for_quiet

ROOT = Path(__file__).resolve().parents[1]

CHILD = r"""
import json, time
t = time.perf_counter()
import numpy as np
from numlstm.backends import resolve
be = resolve("cpu")
out = {"import_and_resolve": time.perf_counter() - t, "kernels": []}
B, T, D, H = 2, 3, 4, 5
for dtype in ("float32", "float64"):
    dt = np.dtype(dtype)
    rng = np.random.default_rng(0)
    X = rng.standard_normal((B, T, D)).astype(dt)
    W_ih = rng.standard_normal((4 * H, D)).astype(dt)
    W_hh = rng.standard_normal((4 * H, H)).astype(dt)
    b = np.zeros(4 * H, dt)
    h0 = np.zeros((B, H), dt); c0 = np.zeros((B, H), dt)
    L = np.full(B, T, np.int64)
    H_out = np.empty((B, T, H), dt); h_n = np.empty((B, H), dt)
    c_n = np.empty((B, H), dt); gates = np.empty((B, T, 4 * H), dt)
    cells = np.empty((B, T, H), dt); h_prev = np.empty((B, T, H), dt)
    rec = np.empty((B, 4 * H), dt)
    t = time.perf_counter()
    be.lstm_forward(X, W_ih, W_hh, b, h0, c0, L, H_out, h_n, c_n, gates,
                    cells, h_prev, rec)
    t_fwd = time.perf_counter() - t
    dH = np.ones((B, T, H), dt)
    t = time.perf_counter()
    be.lstm_backward(X, W_ih, W_hh, c0, L, gates, cells, h_prev, dH,
                     np.zeros((B, H), dt), np.zeros((B, H), dt),
                     np.empty_like(X), np.empty_like(W_ih), np.empty_like(W_hh),
                     np.empty_like(b), np.empty((B, H), dt), np.empty((B, H), dt),
                     np.empty((B, T, 4 * H), dt), True)
    t_bwd = time.perf_counter() - t
    out["kernels"].append((dtype, t_fwd, t_bwd))
print("RESULT " + json.dumps(out))
"""

IMPORT_CHILD = (
    "import time; t = time.perf_counter(); import {mod}; "
    "print('RESULT', time.perf_counter() - t)"
)


def child_env(cache_dir: str | None = None) -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [str(ROOT)] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else []))
    if cache_dir is not None:
        env["NUMBA_CACHE_DIR"] = cache_dir
    return env


def run_child(code: str, env: dict) -> tuple[str, float]:
    """Run ``python -c code``; return its RESULT payload and wall time."""
    t = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT,
                          capture_output=True, text=True)
    wall = time.perf_counter() - t
    if proc.returncode != 0:
        raise RuntimeError(f"child failed ({proc.returncode}):\n{proc.stderr}")
    line = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT")][-1]
    return line.split(" ", 1)[1], wall


def compile_times() -> None:
    with tempfile.TemporaryDirectory(prefix="numlstm-numba-cache-") as cache:
        env = child_env(cache)
        runs = []
        for label in ("cold", "warm"):
            with OtherCPU() as others:
                payload, wall = run_child(CHILD, env)
            runs.append((label, json.loads(payload), wall, others.percent))
        n_files = sum(1 for p in Path(cache).rglob("*") if p.suffix in
                      (".nbi", ".nbc"))
    print("## First call of lstm_forward + lstm_backward (B, T, D, H = 2, 3, 4, 5)\n")
    print(f"Fresh NUMBA_CACHE_DIR per script run; the cold run left {n_files} "
          f"cache files (.nbi/.nbc).\n")
    print("| cache | dtype | forward s | backward s | forward+backward s |")
    print("|---|---|---:|---:|---:|")
    for label, res, _, _ in runs:
        for dtype, f, b in res["kernels"]:
            print(f"| {label} | {dtype} | {f:.3f} | {b:.3f} | {f + b:.3f} |")
    print()
    for label, res, wall, other in runs:
        total = sum(f + b for _, f, b in res["kernels"])
        print(f"- {label}: import + resolve('cpu') {res['import_and_resolve']:.3f} s, "
              f"first calls, both dtypes {total:.3f} s, whole process {wall:.2f} s "
              f"(other processes used {other:.0f}% of a core meanwhile)")
    print()


def import_times(repeats: int) -> None:
    env = child_env()
    rows = []
    with OtherCPU() as others:
        base = statistics.median(run_child("print('RESULT 0')", env)[1]
                                 for _ in range(repeats))
        for mod in ("numlstm", "numlstm.backends.cpu", "numba"):
            stmt, walls = [], []
            for _ in range(repeats):
                payload, wall = run_child(IMPORT_CHILD.format(mod=mod), env)
                stmt.append(float(payload))
                walls.append(wall)
            rows.append((mod, statistics.median(stmt), statistics.median(walls)))
    print(f"## Import time (median of {repeats} fresh processes)\n")
    print(f"Bare interpreter start-up (`python -c pass`): {base:.3f} s. "
          f"Other processes used {others.percent:.0f}% of a core meanwhile.\n")
    print("| module | import statement s | whole `python -c \"import ...\"` s |")
    print("|---|---:|---:|")
    for mod, t_stmt, t_wall in rows:
        print(f"| {mod} | {t_stmt:.3f} | {t_wall:.3f} |")
    print()


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--repeats", type=int, default=5,
                   help="fresh processes per import measurement (default 5)")
    p.add_argument("--wait-quiet", type=float, default=0.0, metavar="SECONDS",
                   help="first wait up to SECONDS for other processes to go idle")
    args = p.parse_args(argv)
    if args.wait_quiet > 0:
        wait_for_quiet(args.wait_quiet)
    import numba
    import numpy

    print(f"Python {sys.version.split()[0]} ({sys.executable}), "
          f"numpy {numpy.__version__}, numba {numba.__version__}, "
          f"1-min load average {os.getloadavg()[0]:.2f}\n")
    compile_times()
    import_times(args.repeats)
    return 0


if __name__ == "__main__":
    sys.exit(main())
