"""``numlstm bench``: the parts that need neither a clock nor torch.

FLOP counting, the case registry and its targets, the weight transfer to
PyTorch's names (checked against the numpy reference LSTM, which follows
PyTorch's equations), the table, and the command line. Nothing here times
anything: benchmarks live in ``asv_bench/`` and ``numlstm bench`` itself.
"""

import argparse
import json
import math
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
import reference
from sklearn.exceptions import ConvergenceWarning

from numlstm import StackedLSTMRegressor, VanillaLSTMRegressor, bench
from numlstm.bench.machine import OtherCPU, machine_lines
from numlstm.cli import main

REPO = Path(__file__).resolve().parent.parent


def timing(*seconds):
    return bench.Timing(tuple(seconds))


def row(name="small", ours=(2.0, 1.0, 3.0), theirs=(4.0,), other=0.0,
        quick=False, peak=100.0):
    case = bench.CASES[name]
    return bench.Row(case, timing(*ours),
                     None if theirs is None else timing(*theirs),
                     bench.case_flops(case), peak, other, quick=quick)


# --------------------------------------------------------------------------
# the case registry


def test_configurations_are_those_of_the_guide_and_the_issue():
    assert bench.CONFIGS == {"latency": (1, 50, 8, 64), "small": (32, 50, 8, 64),
                             "medium": (64, 100, 32, 256),
                             "large": (64, 100, 512, 1024)}
    c = bench.CASES
    assert list(c) == ["latency", "small", "medium", "large", "start"]
    assert (c["latency"].kind, c["latency"].config) == ("predict", (1, 50, 8, 64))
    assert (c["small"].n_sequences, c["small"].epochs) == (1024, 3)
    assert (c["medium"].n_sequences, c["medium"].epochs) == (512, 2)
    assert (c["large"].n_sequences, c["large"].epochs) == (128, 1)
    assert c["large"].slow and not any(c[n].slow for n in c if n != "large")
    assert c["start"].kind == "start" and c["start"].config == (32, 50, 8, 64)


def test_targets_are_those_of_the_issue():
    c = bench.CASES
    assert [c[n].max_ratio for n in c] == [0.2, 0.5, 0.8, 1.0, None]
    assert c["large"].min_peak_percent == 80.0
    assert c["start"].max_seconds == 1.5
    assert c["large"].target == "ratio <= 1 and >= 80% sgemm"
    assert c["start"].target == "<= 1.5 s"
    assert c["small"].description == "fit, 1024 seqs, 3 epochs"


def test_quick_shrinks_only_the_fits():
    small = bench.CASES["small"].quick()
    assert (small.n_sequences, small.epochs, small.config) == (128, 1,
                                                               (32, 50, 8, 64))
    assert bench.CASES["large"].quick().n_sequences == 64  # one full batch
    assert bench.CASES["latency"].quick() == bench.CASES["latency"]
    assert bench.CASES["start"].quick() == bench.CASES["start"]


def test_select_cases_leaves_large_out_unless_asked():
    assert bench.select_cases() == ["latency", "small", "medium", "start"]
    assert bench.select_cases(large=True) == list(bench.CASES)
    assert bench.select_cases(["large"]) == ["large"]
    assert bench.select_cases(["start", "small"], large=True) == [
        "small", "large", "start"]


def test_parse_cases_orders_and_rejects_unknown_names():
    assert bench.parse_cases(" start,latency ,small,") == ["latency", "small",
                                                            "start"]
    with pytest.raises(ValueError, match="unknown case 'nope'; choose from "
                       "latency, small, medium, large, start"):
        bench.parse_cases("small,nope")
    with pytest.raises(ValueError, match="unknown cases 'a', 'b'"):
        bench.parse_cases("a,b")
    with pytest.raises(ValueError, match="no case given"):
        bench.parse_cases(" , ")


# --------------------------------------------------------------------------
# floating-point operations


def test_flops_follow_the_issue_formula():
    assert bench.forward_flops(1, 50, 8, 64) == 8 * 50 * 64 * (8 + 64)
    assert bench.training_flops(32, 50, 8, 64) == 3 * 8 * 32 * 50 * 64 * 72
    assert bench.batch_sizes(1024, 32) == [32] * 32
    assert bench.batch_sizes(70, 32) == [32, 32, 6]
    assert bench.batch_sizes(10, 32) == [10]


@pytest.mark.parametrize("name", ["small", "medium", "large"])
def test_fit_flops_sum_training_steps_over_every_epoch(name):
    case = bench.CASES[name]
    B, T, D, H = case.config
    steps = case.n_sequences // B * case.epochs
    assert case.n_sequences % B == 0
    assert bench.case_flops(case) == steps * 3 * 8 * B * T * H * (D + H)


def test_fit_flops_count_a_short_last_batch_by_its_size():
    case = bench.Case("x", "fit", (32, 5, 2, 3), 70, 2)
    assert bench.case_flops(case) == 2 * 3 * 8 * 70 * 5 * 3 * (2 + 3)


def test_predict_flops_are_one_forward_pass_and_start_has_none():
    assert bench.case_flops(bench.CASES["latency"]) == 8 * 50 * 64 * 72
    assert bench.case_flops(bench.CASES["start"]) is None


# --------------------------------------------------------------------------
# targets, rows and the table


def test_target_met():
    small, large, start = (bench.CASES[n] for n in ("small", "large", "start"))
    assert bench.target_met(small, 0.5, 9.0, None) is True
    assert bench.target_met(small, 0.51, 9.0, None) is False
    assert bench.target_met(small, None, 9.0, None) is None  # no torch
    assert bench.target_met(large, 0.9, 9.0, 85.0) is True
    assert bench.target_met(large, 0.9, 9.0, 79.0) is False
    assert bench.target_met(large, 1.1, 9.0, 85.0) is False
    assert bench.target_met(large, None, 9.0, 79.0) is False  # already missed
    assert bench.target_met(large, None, 9.0, 85.0) is None
    assert bench.target_met(start, None, 1.4, None) is True
    assert bench.target_met(start, None, 1.6, None) is False


def test_row_figures():
    r = row("small", ours=(2.0, 1.0, 3.0), theirs=(4.0, 5.0, 3.0), peak=50.0)
    assert (r.ours.median, r.ours.min, r.ours.max) == (2.0, 1.0, 3.0)
    assert r.ratio == 0.5
    assert math.isclose(r.gflops, bench.case_flops(r.case) / 2.0 / 1e9)
    assert math.isclose(r.peak_percent, 100 * r.gflops / 50.0)
    assert r.met is True
    assert row(quick=True).met is None
    assert row(theirs=None).ratio is None
    assert row("start", theirs=None).gflops is None


def test_format_table():
    rows = [row("latency", ours=(1e-4,), theirs=(1e-3,)),
            row("small", ours=(2.0, 1.0, 3.0), theirs=(1.0,)),
            row("start", ours=(1.2,), theirs=None)]
    lines = bench.format_table(rows).splitlines()
    assert len(lines) == 2 + len(rows)
    assert lines[0] == "| " + " | ".join(bench.COLUMNS) + " |"
    assert lines[1].count("|") == len(bench.COLUMNS) + 1
    body = [lines[0], *lines[2:]]
    assert all(line.startswith("| ") and line.endswith(" |") for line in body)
    assert {line.count(" | ") for line in body} == {len(bench.COLUMNS) - 1}
    latency, small, start = (line.split(" | ") for line in lines[2:])
    assert latency[0] == "| latency: predict, 1 sequence(s) (1, 50, 8, 64)"
    assert (latency[3], latency[4], latency[5]) == ("0.10", "ratio <= 0.2", "yes")
    assert small[1] == "2 (1-3)" and small[3] == "2.00" and small[5] == "no"
    assert float(small[6]) == pytest.approx(bench.case_flops(
        bench.CASES["small"]) / 2e9, rel=1e-2)
    assert (start[2], start[3], start[5], start[6]) == ("-", "-", "yes", "-")
    tiny = bench.format_table([row("latency", ours=(1e-6,), theirs=(1.0,))])
    assert tiny.splitlines()[2].split(" | ")[3] == "1.0e-06"


def test_format_table_says_when_torch_is_missing():
    rows = [row("small", theirs=None), row("start", theirs=None)]
    small, start = (line.split(" | ") for line in
                    bench.format_table(rows, torch_missing=True).splitlines()[2:])
    assert small[2] == "torch missing" and small[5] == "-"
    assert start[2] == "-"


def test_busy_rows_get_a_warning():
    rows = [row(other=5.0), row("medium", other=35.0)]
    (warning,) = bench.busy_warnings(rows)
    assert "35%" in warning and "'medium'" in warning
    assert bench.busy_warnings([row(other=float("nan"))]) == []


def test_rows_to_json_is_plain_data():
    data = bench.rows_to_json([row(), row("start", theirs=None)])
    assert json.loads(json.dumps(data)) == data
    assert data[0]["numlstm_s"] == [2.0, 1.0, 3.0] and data[1]["torch_s"] is None


def test_measure_averages_number_calls_per_sample():
    calls = []
    t = bench.measure(lambda: calls.append(1), repeats=3, number=4)
    assert len(calls) == 12 and len(t.samples) == 3
    assert bench.calls_to_fill(lambda: None, 0.0) == 1


# --------------------------------------------------------------------------
# the weight transfer to torch's names


def test_torch_state_maps_get_weights_names():
    X = np.random.default_rng(0).normal(size=(8, 6, 3))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = VanillaLSTMRegressor(units=5, max_iter=1, random_state=0,
                                     dtype="float64").fit(X, X[:, 0, 0])
    w = model.get_weights()
    state = bench.torch_state_from_weights(w)
    assert set(state) == {"lstm.weight_ih_l0", "lstm.weight_hh_l0",
                          "lstm.bias_ih_l0", "lstm.bias_hh_l0", "dense.weight",
                          "dense.bias"}
    # nn.LSTM(3, 5) and nn.Linear(5, 1) shapes
    assert state["lstm.weight_ih_l0"].shape == (20, 3)
    assert state["lstm.weight_hh_l0"].shape == (20, 5)
    assert state["lstm.bias_ih_l0"].shape == state["lstm.bias_hh_l0"].shape == (20,)
    assert state["dense.weight"].shape == (1, 5) and state["dense.bias"].shape == (1,)
    np.testing.assert_array_equal(state["lstm.weight_ih_l0"], w["lstm.0.W_ih"])
    np.testing.assert_array_equal(state["lstm.bias_hh_l0"], 0.0)
    assert all(v.flags.c_contiguous for v in state.values())

    # PyTorch's equations on those arrays give the estimator's predictions
    B, T = X.shape[:2]
    zeros = np.zeros((B, 5))
    _, h_n, _, _ = reference.lstm_forward(
        X, state["lstm.weight_ih_l0"], state["lstm.weight_hh_l0"],
        state["lstm.bias_ih_l0"] + state["lstm.bias_hh_l0"], zeros, zeros,
        np.full(B, T))
    out = h_n @ state["dense.weight"].T + state["dense.bias"]
    np.testing.assert_allclose(out[:, 0], model.predict(X), rtol=1e-10,
                               atol=1e-12)


def test_torch_state_refuses_other_architectures():
    X = np.zeros((4, 3, 2))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = StackedLSTMRegressor((3, 3), max_iter=1, random_state=0).fit(
            X, np.zeros(4))
    with pytest.raises(ValueError, match="extra weights.*lstm.1"):
        bench.torch_state_from_weights(model.get_weights())


# --------------------------------------------------------------------------
# the fresh-interpreter case and the machine


def test_start_command_imports_this_checkout():
    case = bench.CASES["start"]
    cmd, env = bench.start_command(case, "float64")
    assert cmd[0] == sys.executable and cmd[1] == "-c"
    compile(cmd[2], "<start>", "exec")
    assert "(32, 50, 8, 64)" in cmd[2] and "'float64'" in cmd[2]
    assert f"({case.n_sequences}, T, D)" in cmd[2]
    assert env["PYTHONPATH"].split(":")[0] == str(REPO)


def test_machine_lines_without_torch():
    with OtherCPU() as others:
        pass
    assert others.percent >= 0 or math.isnan(others.percent)
    lines = machine_lines(2, 100.0, 90.0, 3.0, torch=None)
    text = "\n".join(lines)
    assert lines[0].startswith("- CPU: ")
    assert "torch not importable" in text and "numlstm 0.1.0" in text
    assert "numpy 100.0 GFLOP/s" in text and "OMP_NUM_THREADS" in text


# --------------------------------------------------------------------------
# the command line


def test_bench_help_exits_0(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["bench", "--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    for option in ("--cases", "--large", "--repeats", "--dtype", "--quick",
                   "--no-torch", "--json"):
        assert option in out
    assert "numlstm/torch" in out  # the module docstring explains the table


@pytest.mark.parametrize("argv, message", [
    (["--cases", "nonexistent"], "argument --cases: unknown case 'nonexistent'; "
                                 "choose from latency, small, medium, large, start"),
    (["--repeats", "0"], "argument --repeats: must be >= 1, got 0"),
    (["--dtype", "float16"], "argument --dtype: invalid choice"),
])
def test_bench_rejects_bad_arguments(capsys, argv, message):
    with pytest.raises(SystemExit) as exc:
        main(["bench", *argv])
    assert exc.value.code == 2
    assert message in capsys.readouterr().err


def test_bench_arguments_parse():
    parser = argparse.ArgumentParser()
    bench.add_arguments(parser)
    args = parser.parse_args([])
    assert (args.cases, args.large, args.repeats, args.dtype, args.quick,
            args.no_torch, args.json) == (None, False, 3, "float32", False,
                                          False, None)
    args = parser.parse_args(["--cases", "small,start", "--large", "--repeats",
                              "5", "--dtype", "float64"])
    assert args.cases == ["small", "start"] and args.repeats == 5
    assert bench.select_cases(args.cases, args.large) == ["small", "large",
                                                          "start"]


def test_numlstm_bench_help_in_a_fresh_process():
    proc = subprocess.run([sys.executable, "-m", "numlstm", "bench", "--help"],
                          cwd=REPO, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "usage: numlstm bench" in proc.stdout


def test_measure_alternately_pairs_the_samples():
    calls = []
    ours, theirs = bench.measure_alternately(
        lambda: calls.append("o"), lambda: calls.append("t"), repeats=3,
        ours_number=2, theirs_number=1, pause=lambda: calls.append("|"))
    assert "".join(calls) == "|oo|t|t|oo|oo|t"
    assert len(ours.samples) == len(theirs.samples) == 3


def test_ratio_is_the_median_of_the_paired_ratios():
    r = row("small", ours=(1.0, 4.0, 3.0), theirs=(2.0, 4.0, 10.0))
    assert r.ratio == pytest.approx(0.5)  # pairs 0.5, 1.0, 0.3
    assert r.ours.median / r.theirs.median == pytest.approx(0.75)
