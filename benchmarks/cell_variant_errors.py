"""The errors of every LSTM cell variant's kernels on one backend, as the
tests check them, printed as a table for the record (docs/performance.md):

- against the NumPy reference (``tests/reference.py``), float64 and
  float32, every output and gradient (largest relative error);
- against central differences in float64, every gradient (``--directions
  K``: the directional derivatives along K random directions through all
  inputs instead, as the simulator's tests do: two runs each rather than
  two per entry);
- the peephole cell against onnxruntime's ONNX ``LSTM`` (float32 outputs)
  and the projection against PyTorch's ``nn.LSTM(proj_size)`` (float32
  outputs and gradients), where those are installed.

::

    python benchmarks/cell_variant_errors.py
    NUMBA_ENABLE_CUDASIM=1 python benchmarks/cell_variant_errors.py \
        --backend cuda --directions 4

Relative error: ``max |a - b| / max(1, max |b|)``, as the tests' ``assert_close``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

TESTS = Path(__file__).resolve().parents[1] / "tests"
sys.path.insert(0, str(TESTS))

from helpers import (  # noqa: E402
    LSTM_GRADS,
    LSTM_INPUTS,
    central_fd,
    lstm_forward_backward,
    lstm_scalar_loss,
    make_lstm_case,
    make_lstm_seeds,
    reference_lstm,
    rel_err,
    torch_projected_lstm,
    variant_grad_names,
)

from numlstm.backends import resolve  # noqa: E402

CELLS = {
    "peephole": dict(peephole=True),
    "coupled": dict(coupled=True),
    "coupled+peephole": dict(coupled=True, peephole=True),
    "recurrent_dropout": dict(recurrent_dropout=0.4),
    "zoneout": dict(zoneout=0.3),
    "proj_size": dict(proj_size=2),
    "layer_norm": dict(layer_norm=True),
    "proj_size+layer_norm+recurrent_dropout": dict(
        proj_size=3, layer_norm=True, recurrent_dropout=0.4),
}


def _case(cell, dtype, shape, seed=1):
    B, T, D, H, lengths = shape
    rng = np.random.default_rng(seed)
    case = make_lstm_case(rng, B, T, D, H, dtype, lengths=lengths,
                          **CELLS[cell])
    return case, make_lstm_seeds(rng, case)


def reference_error(be, cell, dtype, shape):
    case, seeds = _case(cell, dtype, shape)
    fwd, grads = lstm_forward_backward(case, seeds, be)
    want_f, want_g = reference_lstm(case, seeds)
    errs = [rel_err(fwd[k], want_f[k]) for k in ("H_out", "h_n", "c_n")]
    errs += [rel_err(grads[k], want_g[k])
             for k in LSTM_GRADS + variant_grad_names(case)]
    return max(errs)


def fd_error(be, cell, directions=0, eps=1e-6):
    case, seeds = _case(cell, np.float64, (2, 3, 2, 4, [3, 1]), seed=3)
    _, grads = lstm_forward_backward(case, seeds, be)
    inputs = LSTM_INPUTS + tuple(n[1:] for n in variant_grad_names(case))
    names = LSTM_GRADS + variant_grad_names(case)
    loss = lambda: lstm_scalar_loss(case, seeds, be)  # noqa: E731
    if not directions:
        fd = central_fd(loss, {k: case[k] for k in inputs}, eps)
        return max(rel_err(grads[g], fd[k])
                   for k, g in zip(inputs, names, strict=True))
    rng = np.random.default_rng(4)
    errs = []
    for _ in range(directions):
        v = {k: rng.normal(size=case[k].shape) for k in inputs}
        want = sum(float(np.sum(grads[g] * v[k]))
                   for k, g in zip(inputs, names, strict=True))
        base = {k: case[k].copy() for k in inputs}
        values = []
        for sign in (1, -1):
            for k in inputs:
                case[k][...] = base[k] + sign * eps * v[k]
            values.append(loss())
        for k in inputs:
            case[k][...] = base[k]
        errs.append(abs((values[0] - values[1]) / (2 * eps) - want)
                    / max(1.0, abs(want)))
    return max(errs)


def onnx_error(be):
    import pytest  # the test's onnx runner skips through pytest
    from helpers import host, lstm_forward
    from test_lstm_cell_variants import _onnx_lstm
    errs = []
    for shape in ((2, 5, 1, 3, [5, 1]), (5, 7, 4, 8, [7, 1, 3, 7, 2])):
        case, _ = _case("peephole", np.float32, shape, seed=7)
        try:
            want = _onnx_lstm(case)
        except pytest.skip.Exception:
            return None
        got = host(be, lstm_forward(case, be))
        errs += [rel_err(got[k], want[k]) for k in want]
    return max(errs)


def torch_error(be):
    try:
        import torch
    except ImportError:
        return None
    errs = []
    for shape in ((2, 5, 1, 5, None), (4, 6, 3, 5, None)):
        case, seeds = _case("proj_size", np.float32, shape, seed=8)
        fwd, grads = lstm_forward_backward(case, seeds, be)
        want_f, want_g = torch_projected_lstm(torch, case, seeds)
        errs += [rel_err(fwd[k], v) for k, v in want_f.items()]
        errs += [rel_err(grads[k], v) for k, v in want_g.items()]
    return max(errs)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", default="cpu")
    parser.add_argument("--directions", type=int, default=0,
                        help="directional finite differences (0: every entry)")
    args = parser.parse_args(argv)
    be = resolve(args.backend)
    shape = (5, 7, 4, 8, [7, 1, 3, 7, 2])
    print(f"backend {args.backend}; reference: B, T, D, H = 5, 7, 4, 8, "
          "ragged; finite differences: 2, 3, 2, 4, ragged")
    fd = (f"{args.directions} directions" if args.directions
          else "every entry")
    print(f"| cell | vs reference, float64 | float32 | vs finite "
          f"differences ({fd}) |")
    print("|---|---|---|---|")
    for cell in CELLS:
        try:
            be.lstm_aux_width(8, CELLS[cell].get("proj_size", 0),
                              CELLS[cell].get("layer_norm", False), np.float64)
        except ValueError as error:
            print(f"| {cell} | not on this backend: {error} | | |")
            continue
        print(f"| {cell} | {reference_error(be, cell, np.float64, shape):.1e} "
              f"| {reference_error(be, cell, np.float32, shape):.1e} "
              f"| {fd_error(be, cell, args.directions):.1e} |")
    for name, err in (("peephole vs onnxruntime (float32 outputs)",
                       onnx_error(be)),
                      ("proj_size vs PyTorch (float32 outputs and gradients)",
                       torch_error(be))):
        print(f"{name}: " + ("not installed" if err is None else f"{err:.1e}"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
