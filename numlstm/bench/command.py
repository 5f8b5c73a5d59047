"""The command ``numlstm bench``: its options and its report."""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

from .cases import CASES, parse_cases, select_cases
from .machine import OtherCPU, machine_lines, numlstm_blas_threads, sgemm_peak
from .rows import run_case
from .table import busy_warnings, format_table, rows_to_json
from .timer import settle
from .torch_peer import import_torch


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
