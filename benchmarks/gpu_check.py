"""The CUDA backend on a real GPU: tests, launch cost, the table against
PyTorch's cuDNN LSTM, and run-to-run bit identity.

Run by ``benchmarks/gpu_check.sh OUT`` (all steps, about 7 minutes), or one
step alone::

    python benchmarks/gpu_check.py STEP --out OUT [--smoke]

Steps: ``env``, ``tests``, ``launch``, ``table``, ``repro``, ``summary``.
Each writes ``OUT/STEP.json``; ``summary`` prints the short table of all
of them. ``--smoke`` runs every step at toy sizes (under
``NUMBA_ENABLE_CUDASIM=1`` and a CPU torch it checks that the script
itself works; its numbers mean nothing).

Nothing is installed: the repository is put on ``PYTHONPATH`` and Numba
caches into ``OUT`` (the shell script does both). torch is optional; its
columns are empty without it.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from numba import cuda

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from numlstm.bench.cases import CASES, CLIP_NORM, LEARNING_RATE  # noqa: E402
from numlstm.bench.flops import case_flops  # noqa: E402
from numlstm.bench.torch_peer import (  # noqa: E402
    import_torch,
    torch_fit,
    torch_state_from_weights,
)

#: the issue's GPU targets: numlstm time / cuDNN time
TARGETS = {"latency": 0.5, "small": 1.0, "medium": 1.0, "large": 1.5}
#: timing repeats per side (medians reported)
REPEATS = 3


def _save(out: Path, step: str, result: dict) -> None:
    (out / f"{step}.json").write_text(json.dumps(result, indent=1))


def _torch_device(torch, smoke: bool) -> str | None:
    if torch is None:
        return None
    if torch.cuda.is_available():
        return "cuda"
    return "cpu" if smoke else None


# ----------------------------------------------------------------- env

def step_env(out: Path, smoke: bool) -> dict:
    """What ran: the card, the driver, the versions."""
    import numba

    import numlstm
    from numlstm.backends._cuda_probe import cuda_status

    torch = import_torch()
    result = {"python": platform.python_version(), "numba": numba.__version__,
              "numlstm": numlstm.__version__,
              "torch": None if torch is None else torch.__version__,
              "probe": str(cuda_status())}
    try:
        smi = subprocess.run(
            ["nvidia-smi", "--query-gpu=name,driver_version,memory.total",
             "--format=csv,noheader"], capture_output=True, text=True,
            timeout=30)
        result["gpu"] = smi.stdout.strip() or smi.stderr.strip()
    except (OSError, subprocess.TimeoutExpired) as exc:
        result["gpu"] = f"nvidia-smi failed: {exc}"
    if torch is not None and torch.cuda.is_available():
        result["torch_gpu"] = torch.cuda.get_device_name(0)
        result["cudnn"] = torch.backends.cudnn.version()
    return result


# --------------------------------------------------------------- tests

def step_tests(out: Path, smoke: bool) -> dict:
    """The CUDA tests on the hardware, implicit host copies as errors: the
    simulator's folder, then every test of the main suite whose name or
    backend parameter says cuda (the kernel tests' ``backend`` fixture
    includes CUDA wherever it is available)."""
    env = dict(os.environ, NUMBA_CUDA_WARN_ON_IMPLICIT_COPY="1")
    strict = ["-W", "error::numba.core.errors.NumbaPerformanceWarning",
              "-p", "no:cacheprovider", "-q"]
    runs = {"tests/cuda": [*strict, "tests/cuda"],
            "tests -k cuda": [*strict, "tests", "-k", "cuda",
                              "--ignore=tests/cuda"]}
    if smoke:
        runs = {"tests/cuda (smoke)": [*strict, "tests/cuda/test_cuda_scalar.py"]}
    result = {}
    for name, args in runs.items():
        start = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "pytest", *args],
                              cwd=REPO, env=env, capture_output=True, text=True)
        log = out / f"tests-{name.replace('/', '_').replace(' ', '_')}.log"
        log.write_text(proc.stdout + proc.stderr)
        tail = (proc.stdout.strip().splitlines() or ["(no output)"])[-1]
        result[name] = {"returncode": proc.returncode, "summary": tail,
                        "seconds": round(time.perf_counter() - start, 1)}
        print(f"{name}: {tail}", flush=True)
    return result


# -------------------------------------------------------------- launch

def _barriers(x, n):
    """``n`` grid barriers (compiled in :func:`step_launch`; at module level
    because the simulator swaps ``cuda`` in a kernel's globals only)."""
    grid = cuda.cg.this_grid()
    for _ in range(n):
        grid.sync()


def step_launch(out: Path, smoke: bool) -> dict:
    """An empty kernel's launch cost, and the LSTM forward kernel's cost per
    step (from two sequence lengths) with each time-loop kernel, and a grid
    barrier's cost on one block per multiprocessor."""

    from numlstm.backends import resolve

    @cuda.jit
    def empty(x):
        pass

    d = cuda.device_array(1)
    empty[1, 32](d)
    cuda.synchronize()
    n = 20 if smoke else 5000
    start = time.perf_counter()
    for _ in range(n):
        empty[1, 32](d)
    cuda.synchronize()
    launch_us = (time.perf_counter() - start) / n * 1e6

    # a grid barrier: the cooperative kernel's cost per step beyond its math
    from numlstm.backends.cuda import lstm
    from numlstm.backends.cuda._jit import device_limits

    barriers = cuda.jit(_barriers)
    blocks = device_limits().n_sms
    per_n = {}
    for n_sync in ((1, 11) if smoke else (1, 2001)):
        barriers[blocks, 256](d, n_sync)
        cuda.synchronize()
        start = time.perf_counter()
        for _ in range(3 if smoke else 20):
            barriers[blocks, 256](d, n_sync)
        cuda.synchronize()
        per_n[n_sync] = (time.perf_counter() - start) / (3 if smoke else 20)
    (n1, s1), (n2, s2) = sorted(per_n.items())
    barrier_us = (s2 - s1) / (n2 - n1) * 1e6

    be = resolve("cuda")
    B, _, D, H = (2, 3, 2, 3) if smoke else CASES["small"].config
    per_step = {}
    for loop in ("rows", "cooperative"):
        per_T = {}
        for T in ((2, 4) if smoke else (50, 100)):
            per_T[T] = _forward_seconds(be, lstm, loop, B, T, D, H, smoke)
        (T1, t1), (T2, t2) = sorted(per_T.items())
        per_step[loop] = {
            "lstm_forward_us": {str(k): round(v * 1e6, 1) for k, v in per_T.items()},
            "us_per_step": round((t2 - t1) / (T2 - T1) * 1e6, 2)}
    return {"empty_launch_us": round(launch_us, 2),
            "lstm_forward": per_step,
            "lstm_forward_us_per_step": per_step[lstm.time_loop(H, 4)]["us_per_step"],
            "picked": lstm.time_loop(H, 4),
            "config": [B, "T", D, H],
            "grid_barrier_us": round(barrier_us, 2),
            "grid_barrier_blocks": blocks}


def _forward_seconds(be, lstm, loop, B, T, D, H, smoke):
    """Seconds of one LSTM forward (float32) with its time loop in ``loop``."""
    rng = np.random.default_rng(0)
    f32 = np.float32
    host = {"X": rng.standard_normal((B, T, D)), "W_ih": rng.standard_normal(
        (4 * H, D)) * 0.1, "W_hh": rng.standard_normal((4 * H, H)) * 0.1,
        "b": np.zeros(4 * H), "h0": np.zeros((B, H)), "c0": np.zeros((B, H))}
    dev = {k: be.asarray(v, f32) for k, v in host.items()}
    lengths = be.asarray(np.full(B, T, np.int64), np.int64)
    width = be.lstm_gate_grad_width(H, f32)
    outs = [be.zeros(s, f32) for s in ((B, T, H), (B, H), (B, H),
                                      (B, T, width), (B, T, H), (B, T, H),
                                      (B, 4 * H))]
    chosen = lstm.time_loop
    lstm.time_loop = lambda hidden, itemsize: loop
    try:
        def forward():
            be.lstm_forward(dev["X"], dev["W_ih"], dev["W_hh"], dev["b"],
                            dev["h0"], dev["c0"], lengths, *outs)

        forward()
        cuda.synchronize()
        reps = 3 if smoke else 200
        start = time.perf_counter()
        for _ in range(reps):
            forward()
        cuda.synchronize()
        return (time.perf_counter() - start) / reps
    finally:
        lstm.time_loop = chosen


# --------------------------------------------------------------- table

def _numlstm_fit(case, X, y):
    from numlstm import VanillaLSTMRegressor

    B, _, _, H = case.config
    model = VanillaLSTMRegressor(
        units=H, batch_size=B, max_iter=case.epochs,
        n_iter_no_change=case.epochs + 1, learning_rate_init=LEARNING_RATE,
        clip_norm=CLIP_NORM, random_state=0, dtype="float32", backend="cuda")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return model.fit(X, y)


def _median_seconds(fn, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def _cases(smoke):
    import dataclasses

    cases = [CASES[name] for name in ("latency", "small", "medium", "large")]
    if smoke:
        cases = [dataclasses.replace(c, config=(min(c.config[0], 2), 3, 2, 3),
                                     n_sequences=min(c.n_sequences, 4),
                                     epochs=min(c.epochs, 1) or c.epochs)
                 for c in cases]
    return cases


def step_table(out: Path, smoke: bool) -> dict:
    """numlstm on CUDA against torch nn.LSTM + Linear + Adam on cuDNN,
    float32, TF32 off (and on, for reference), same run, both warm; the
    sides alternate, medians of REPEATS."""
    torch = import_torch()
    device = _torch_device(torch, smoke)
    rows = {}
    for case in _cases(smoke):
        rows[case.name] = _table_row(case, torch, device, smoke)
        print(f"{case.name}: {json.dumps(rows[case.name])}", flush=True)
    return {"torch_device": device, "rows": rows}


def _table_row(case, torch, device, smoke) -> dict:
    B, T, D, H = case.config
    rng = np.random.default_rng(0)
    n = case.n_sequences if case.kind == "fit" else 64
    X = rng.standard_normal((n, T, D)).astype(np.float32)
    y = X[:, :, 0].mean(axis=1).astype(np.float32)
    y2 = np.ascontiguousarray(y[:, None])
    row = {"config": case.config, "kind": case.kind,
           "target": TARGETS[case.name]}
    try:
        if case.kind == "fit":
            def ours():
                return _numlstm_fit(case, X, y)
        else:
            fit_case = type(case)("fit", "fit", (32, T, D, H), 64, 1)
            model = _numlstm_fit(fit_case, X, y)
            X1 = X[:B].copy()

            def ours():
                return model.predict(X1)
        ours()  # warm
    except ValueError as exc:  # a layer the kernels refuse
        row["numlstm"] = f"refused: {exc}"
        return row
    theirs = None
    if device is not None and case.kind == "fit":
        def theirs():
            return torch_fit(torch, X, y2, H, B, case.epochs, "float32",
                             device=device)
    elif device is not None:
        theirs = _torch_predict(torch, model, X1, device)
    times = {"numlstm": [], "tf32_off": [], "tf32_on": []}
    if theirs is not None:
        theirs()  # warm
    for _ in range(1 if smoke else REPEATS):
        times["numlstm"].append(_median_seconds(ours, 1))
        if theirs is None:
            continue
        for name in ("tf32_off", "tf32_on"):
            if device == "cuda":
                torch.backends.cuda.matmul.allow_tf32 = name == "tf32_on"
                torch.backends.cudnn.allow_tf32 = name == "tf32_on"
            times[name].append(_median_seconds(theirs, 1))
    med = {k: float(np.median(v)) for k, v in times.items() if v}
    row.update({f"{k}_s": v for k, v in med.items()})
    if "tf32_off" in med:
        row["ratio"] = med["numlstm"] / med["tf32_off"]
        row["ratio_tf32_on"] = med["numlstm"] / med["tf32_on"]
    row["numlstm_gflops"] = case_flops(case) / med["numlstm"] / 1e9
    return row


def _torch_predict(torch, model, X1, device):
    from numlstm.bench.torch_peer import make_torch_regressor

    B, T, D = X1.shape
    H = model.units
    net = make_torch_regressor(torch, D, H, 1, "float32")
    state = torch_state_from_weights(model.get_weights())
    net.load_state_dict({k: torch.from_numpy(v) for k, v in state.items()})
    net = net.to(device).eval()
    x1 = torch.from_numpy(X1).to(device)

    def theirs():
        with torch.no_grad():
            out = net(x1)
        if device == "cuda":
            torch.cuda.synchronize()
        return out

    return theirs


# --------------------------------------------------------------- repro

def step_repro(out: Path, smoke: bool) -> dict:
    """Two fits with the same seed on the GPU: bit-identical weights?"""
    case = _cases(smoke)[1]  # small
    rng = np.random.default_rng(1)
    B, T, D, H = case.config
    X = rng.standard_normal((case.n_sequences, T, D)).astype(np.float32)
    y = X[:, :, 0].mean(axis=1).astype(np.float32)
    a = _numlstm_fit(case, X, y).get_weights()
    b = _numlstm_fit(case, X, y).get_weights()
    differ = [k for k in a if not np.array_equal(a[k], b[k])]
    return {"identical": not differ, "differing": differ}


# ------------------------------------------------------------- summary

def step_summary(out: Path, smoke: bool) -> dict:
    def load(step):
        path = out / f"{step}.json"
        return json.loads(path.read_text()) if path.exists() else None

    env, tests, launch = load("env"), load("tests"), load("launch")
    table, repro = load("table"), load("repro")
    lines = ["== numlstm gpu_check " + ("(SMOKE: numbers mean nothing) " if smoke
                                       else "") + "=="]
    if env:
        lines.append(f"gpu: {env.get('gpu')}; numba {env['numba']}, torch "
                     f"{env['torch']}, cudnn {env.get('cudnn')}")
    for name, r in (tests or {}).items():
        lines.append(f"tests {name}: rc={r['returncode']} {r['summary']}")
    if launch:
        loops = ", ".join(f"{k} {v['us_per_step']}" for k, v in
                          launch["lstm_forward"].items())
        lines.append(f"launch: empty kernel {launch['empty_launch_us']} us; "
                     f"LSTM forward us per step at {launch['config']}: "
                     f"{loops} (picked: {launch['picked']}); grid barrier "
                     f"{launch['grid_barrier_us']} us on "
                     f"{launch['grid_barrier_blocks']} blocks")
    if table:
        lines.append(f"{'case':8} {'numlstm s':>10} {'cuDNN s':>9} "
                     f"{'ratio':>6} {'tf32 on':>8} {'target':>6} {'GFLOP/s':>8}")
        for name, r in table["rows"].items():
            if "numlstm_s" not in r:
                lines.append(f"{name:8} {r['numlstm']}")
                continue
            ratio = r.get("ratio")
            lines.append(
                f"{name:8} {r['numlstm_s']:10.4f} "
                f"{r.get('tf32_off_s', float('nan')):9.4f} "
                f"{ratio if ratio is not None else float('nan'):6.2f} "
                f"{r.get('ratio_tf32_on', float('nan')):8.2f} "
                f"{r['target']:6.2f} {r['numlstm_gflops']:8.1f}")
    if repro:
        lines.append(f"two fits bit-identical: {repro['identical']} "
                     f"{repro['differing'] or ''}")
    text = "\n".join(lines)
    print(text)
    (out / "summary.txt").write_text(text + "\n")
    return {"lines": lines}


STEPS = {"env": step_env, "tests": step_tests, "launch": step_launch,
         "table": step_table, "repro": step_repro, "summary": step_summary}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("step", choices=list(STEPS))
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--smoke", action="store_true",
                        help="toy sizes: check the script, not the GPU")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    result = STEPS[args.step](args.out, args.smoke)
    if args.step != "summary":
        _save(args.out, args.step, result)
    if args.step == "tests":
        return max(r["returncode"] for r in result.values())
    return 0


if __name__ == "__main__":
    sys.exit(main())
