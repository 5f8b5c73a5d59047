"""numlstm's CPU LSTM kernels beside PyTorch's ``nn.LSTM``, in one process.

Run with an environment that has torch (torch is never a numlstm dependency)::

    python benchmarks/bench_vs_torch.py            # latency, small, medium
    python benchmarks/bench_vs_torch.py --large    # also (64, 100, 512, 1024)

For each configuration ``(B, T, D, H)`` of the design guide (section 6) it
times, in float32 unless ``--dtype`` says otherwise:

- numlstm: forward and forward + backward of one ``numlstm.nn.LSTM`` layer
  (the ``lstm_forward``/``lstm_backward`` kernels of ``resolve('cpu')`` on
  the workspace the layer allocates once), after a warm-up (so neither
  allocation nor JIT compilation is timed);
- torch: ``nn.LSTM(batch_first=True)`` with the same weights, forward under
  ``inference_mode`` and forward + ``out.backward(g)`` with ``X`` requiring a
  gradient (numlstm computes ``dX`` too), ``torch.set_num_threads`` set to
  the thread count of the BLAS that numlstm's kernels call.

Each time is the median of up to ``--repeats`` calls (``time.perf_counter``),
as many as fit in ``--budget`` seconds (at least 5). GFLOP/s counts
``8 B T H (D + H)`` for a forward pass and three times that for a training
step, and is set against an sgemm peak measured here (float32 matmul).
"""

from __future__ import annotations

import argparse
import functools
import os
import sys
from pathlib import Path

import numpy as np

# Benchmark this checkout, installed or not.
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402

from numlstm.bench.machine import (  # noqa: E402
    OtherCPU,
    machine_lines,
    numlstm_blas_threads,
    sgemm_peak,
    wait_for_quiet,
)
from numlstm.bench.timer import settle, time_median  # noqa: E402
from numlstm.nn import LSTM, Sequential  # noqa: E402

try:
    import threadpoolctl
except ImportError:  # pragma: no cover - reported, not required
    threadpoolctl = None

#: name -> (B, T, D, H), the design guide's configurations
CONFIGS = {
    "latency": (1, 50, 8, 64),
    "small": (32, 50, 8, 64),
    "medium": (64, 100, 32, 256),
    "large": (64, 100, 512, 1024),
}


def print_machine(n_threads: int, peak_np: float, peak_sp: float,
                  peak_other: float) -> None:
    print("## Machine and versions\n")
    print("\n".join(machine_lines(n_threads, peak_np, peak_sp, peak_other,
                                   torch)))
    print()


def time_pair(f_ours, f_torch, budget: float, max_repeats: int) -> tuple:
    """:func:`time_median` of numlstm's call, then of torch's."""
    settle()
    ours = time_median(f_ours, budget, max_repeats)
    settle()
    return ours, time_median(f_torch, budget, max_repeats)


# --------------------------------------------------------------------------
# the two implementations


class NumlstmLSTM:
    """One numlstm LSTM layer (``numlstm.nn.LSTM``: its kernels through
    ``resolve('cpu')``, every buffer allocated once by the layer)."""

    def __init__(self, B, T, D, H, dtype, rng):
        # input_grad: dX too, as torch computes it for an input requiring grad
        self.net = Sequential([LSTM(D, H, return_sequences=True)], dtype=dtype,
                              backend="cpu", input_grad=True)
        self.layer = self.net.layers[0]
        dt = np.dtype(dtype)
        k = 1.0 / np.sqrt(H)  # torch's init scale
        self.net.params.theta[:] = k * rng.standard_normal(self.net.params.size)
        self.X = rng.standard_normal((B, T, D)).astype(dt)
        self.dH_out = rng.standard_normal((B, T, H)).astype(dt)
        self.lengths = np.full(B, T, np.int64)
        w = self.net.params.views
        self.W_ih, self.W_hh, self.b = (w["lstm.0.W_ih"], w["lstm.0.W_hh"],
                                        w["lstm.0.b"])

    def forward(self):
        self.H_out = self.layer.forward(self.X, self.lengths)

    def forward_backward(self):
        self.forward()
        self.dX = self.layer.backward(self.dH_out)
        self.dW_hh = self.net.params.grad_views["lstm.0.W_hh"]


class TorchLSTM:
    """``nn.LSTM(batch_first=True)`` holding the same weights as ``ref``."""

    def __init__(self, ref: NumlstmLSTM):
        D, H = ref.X.shape[2], ref.W_hh.shape[1]
        dtype = torch.float32 if ref.X.dtype == np.float32 else torch.float64
        self.lstm = torch.nn.LSTM(D, H, batch_first=True, dtype=dtype)
        with torch.no_grad():
            self.lstm.weight_ih_l0.copy_(torch.from_numpy(ref.W_ih))
            self.lstm.weight_hh_l0.copy_(torch.from_numpy(ref.W_hh))
            self.lstm.bias_ih_l0.copy_(torch.from_numpy(ref.b))
            self.lstm.bias_hh_l0.zero_()
        self.X = torch.from_numpy(ref.X.copy())
        self.Xg = self.X.clone().requires_grad_(True)
        self.g = torch.from_numpy(ref.dH_out.copy())

    def forward(self):
        with torch.inference_mode():
            return self.lstm(self.X)[0]

    def forward_backward(self):
        self.lstm.zero_grad(set_to_none=True)
        self.Xg.grad = None
        out, _ = self.lstm(self.Xg)
        out.backward(self.g)


def check_same_function(ours: NumlstmLSTM, theirs: TorchLSTM) -> tuple:
    """Max relative differences of H_out, dX and dW_hh (same weights)."""
    ours.forward_backward()
    theirs.forward_backward()
    with torch.no_grad():
        out = theirs.lstm(theirs.X)[0].numpy()

    def rel(a, b):
        return float(np.abs(a - b).max() / max(np.abs(b).max(), 1e-30))

    return (rel(ours.H_out, out), rel(ours.dX, theirs.Xg.grad.numpy()),
            rel(ours.dW_hh, theirs.lstm.weight_hh_l0.grad.numpy()))


# --------------------------------------------------------------------------


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--large", action="store_true",
                   help="also run the large configuration (64, 100, 512, 1024)")
    p.add_argument("--dtype", default="float32", choices=["float32", "float64"])
    p.add_argument("--repeats", type=int, default=50,
                   help="most timed calls per measurement (default 50)")
    p.add_argument("--budget", type=float, default=2.0,
                   help="seconds aimed at per measurement (default 2)")
    p.add_argument("--threads", type=int, default=None,
                   help="limit numlstm's BLAS and torch to this many threads "
                        "(default: the BLAS default, which torch then matches)")
    p.add_argument("--wait-quiet", type=float, default=0.0, metavar="SECONDS",
                   help="before each measurement wait up to SECONDS for other "
                        "processes to go idle (default 0: do not wait)")
    p.add_argument("--retries", type=int, default=0,
                   help="measure a row again, up to this many times, while other "
                        "processes used more than 10%% of a core (default 0)")
    args = p.parse_args(argv)

    def measure(fn):
        """``fn()`` under :class:`OtherCPU`, retried while others were busy."""
        tries = 0
        while True:
            tries += 1
            if args.wait_quiet > 0:
                wait_for_quiet(args.wait_quiet)
            with OtherCPU() as others:
                result = fn()
            if others.percent <= 10.0 or tries > args.retries:
                return result, others.percent, tries

    if args.threads is not None:
        if threadpoolctl is None:
            p.error("--threads needs threadpoolctl")
        threadpoolctl.threadpool_limits(args.threads, user_api="blas")
    n_threads = numlstm_blas_threads()
    torch.set_num_threads(n_threads)
    print(f"1-min load average before the run: {os.getloadavg()[0]:.2f}\n")
    (peak_np, peak_sp), peak_other, _ = measure(sgemm_peak)
    settle()
    print_machine(n_threads, peak_np, peak_sp, peak_other)

    names = ["latency", "small", "medium"] + (["large"] if args.large else [])
    rows, checks = [], []
    rng = np.random.default_rng(0)
    for name in names:
        B, T, D, H = CONFIGS[name]
        ours = NumlstmLSTM(B, T, D, H, args.dtype, rng)
        theirs = TorchLSTM(ours)
        checks.append((name, *check_same_function(ours, theirs)))
        passes = ["forward"] if name == "latency" else ["forward", "forward+backward"]
        fwd_flops = 8.0 * B * T * H * (D + H)
        for kind in passes:
            method = "forward" if kind == "forward" else "forward_backward"
            flops = fwd_flops * (1 if kind == "forward" else 3)
            pair = functools.partial(time_pair, getattr(ours, method),
                                     getattr(theirs, method), args.budget,
                                     args.repeats)
            ((t_ours, n_ours), (t_torch, n_torch)), other, tries = measure(pair)
            gflops = flops / t_ours / 1e9
            rows.append((f"{name} {(B, T, D, H)}",
                         "predict" if name == "latency" else kind,
                         t_ours * 1e3, t_torch * 1e3, t_torch / t_ours, gflops,
                         100.0 * gflops / peak_np, n_ours, n_torch, other, tries))

    print(f"## numlstm vs torch.nn.LSTM, {args.dtype}, {n_threads} thread(s) each\n")
    print("| config (B, T, D, H) | pass | numlstm ms | torch ms | torch/numlstm "
          "| numlstm GFLOP/s | % sgemm peak | n (numlstm, torch) | other CPU % "
          "| tries |")
    print("|---|---|---:|---:|---:|---:|---:|---|---:|---:|")
    for r in rows:
        print(f"| {r[0]} | {r[1]} | {r[2]:.3f} | {r[3]:.3f} | {r[4]:.2f} "
              f"| {r[5]:.2f} | {r[6]:.1f} | {r[7]}, {r[8]} | {r[9]:.0f} "
              f"| {r[10]} |")
    print(f"\ntorch/numlstm > 1 means numlstm is faster. Medians of n calls; "
          f"sgemm peak = numpy float32 2048x2048 matmul, {peak_np:.1f} GFLOP/s.")
    print("\nother CPU % = CPU time of other processes during the row's "
          "timings, in % of one core; above ~10% the row is disturbed "
          "(thread pools wait on descheduled threads).")
    print("\nSame function check (max relative difference, same weights):\n")
    print("| config | H_out | dX | dW_hh |")
    print("|---|---:|---:|---:|")
    for c in checks:
        print(f"| {c[0]} | {c[1]:.1e} | {c[2]:.1e} | {c[3]:.1e} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
