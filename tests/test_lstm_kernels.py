"""LSTM forward/BPTT kernels against the NumPy oracle and finite differences.

Every test takes this module's ``backend`` fixture, so runs on each available
backend, except the few named CPU-only below (they test the CPU kernels'
internals: its two thread splits, its weight-gradient sums, Numba's cache).
"""

from functools import partial

import numpy as np
import pytest
from helpers import (
    DTYPES,
    LSTM_GRADS,
    LSTM_INPUTS,
    assert_close,
    central_fd,
    host,
    lstm_backward,
    lstm_forward,
    lstm_forward_backward,
    lstm_scalar_loss,
    make_lstm_case,
    make_lstm_seeds,
    nans,
    on,
    reference_lstm,
    strict_fp,
    tol_for,
)
from hypothesis import given, settings
from hypothesis import strategies as st

from numlstm.backends import available_backends, cpu, resolve
from numlstm.backends.cpu import (
    CPUBackend,
    lstm_cell,
    lstm_weight_grads,
)

# (B, T, D, H, lengths): T=1, B=1, H=1, full and ragged batches.
SHAPES = [
    (1, 1, 1, 1, None),
    (1, 4, 3, 2, None),
    (3, 1, 2, 4, None),
    (2, 5, 1, 3, [5, 1]),
    (4, 6, 3, 5, "ragged"),
    (5, 7, 4, 8, [7, 1, 3, 7, 2]),
    (3, 4, 2, 3, [2, 2, 2]),  # every sequence padded at the end
]
SHAPE_IDS = [f"B{b}T{t}D{d}H{h}-{'full' if L is None else 'ragged'}"
             for b, t, d, h, L in SHAPES]
FWD_OUT = ("H_out", "h_n", "c_n")


class _RowsCPU(CPUBackend):
    """The CPU backend with its LSTM always split over threads by batch rows."""

    lstm_forward = staticmethod(partial(cpu.lstm_forward_split, False))
    lstm_backward = staticmethod(partial(cpu.lstm_backward_split, False))


class _WideCPU(CPUBackend):
    """The CPU backend with its LSTM always split over threads by gate
    columns."""

    lstm_forward = staticmethod(partial(cpu.lstm_forward_split, True))
    lstm_backward = staticmethod(partial(cpu.lstm_backward_split, True))


#: The CPU backend's two LSTM thread splits: it picks one by layer size, the
#: tests run both on every shape.
CPU_SPLITS = {"cpu-rows": _RowsCPU(), "cpu-wide": _WideCPU()}

#: Every available backend (as the ``backend`` fixture of conftest.py), the
#: CPU one once per thread split.
TARGETS = [target for name in available_backends()
           for target in (CPU_SPLITS if name == "cpu" else [name])]


@pytest.fixture(params=TARGETS, scope="module")
def backend(request):
    """This module's ``backend``, in place of conftest.py's: each available
    backend object in turn, the CPU one pinned to each thread split."""
    return CPU_SPLITS.get(request.param) or resolve(request.param)


def _case(seed, shape, dtype, **kw):
    B, T, D, H, lengths = shape
    rng = np.random.default_rng(seed)
    case = make_lstm_case(rng, B, T, D, H, dtype, lengths=lengths, **kw)
    return case, make_lstm_seeds(rng, case)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", SHAPES, ids=SHAPE_IDS)
def test_forward_matches_reference(shape, dtype, backend):
    case, _ = _case(1, shape, dtype)
    fwd = host(backend, lstm_forward(case, backend))
    want, _ = reference_lstm(case)
    for name in FWD_OUT:
        assert fwd[name].dtype == dtype
        assert_close(fwd[name], want[name], tol_for(dtype), name)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", SHAPES, ids=SHAPE_IDS)
def test_backward_matches_reference(shape, dtype, backend):
    case, seeds = _case(2, shape, dtype)
    _, grads = lstm_forward_backward(case, seeds, backend)
    _, want = reference_lstm(case, seeds)
    for name in LSTM_GRADS:
        assert grads[name].dtype == dtype
        assert_close(grads[name], want[name], tol_for(dtype), name)


def test_final_state_is_last_real_step(backend):
    case, _ = _case(3, SHAPES[5], np.float64)
    fwd = host(backend, lstm_forward(case, backend))
    for s, L in enumerate(case["lengths"]):
        np.testing.assert_array_equal(fwd["h_n"][s], fwd["H_out"][s, L - 1])
        np.testing.assert_array_equal(fwd["c_n"][s], fwd["cells"][s, L - 1])
        # At padded steps the state is carried unchanged.
        for t in range(L, case["X"].shape[1]):
            np.testing.assert_array_equal(fwd["cells"][s, t], fwd["c_n"][s])


def test_kernels_do_not_modify_inputs(backend):
    case, seeds = _case(4, SHAPES[4], np.float64)
    before = {k: v.copy() for k, v in {**case, **seeds}.items()}
    case, seeds = on(backend, case), on(backend, seeds)
    fwd = lstm_forward(case, backend)
    saved = {k: backend.to_host(fwd[k]).copy()
             for k in ("gates", "cells", "h_prev")}
    lstm_backward(case, fwd, seeds, backend)
    for k, v in host(backend, {**case, **seeds}).items():
        np.testing.assert_array_equal(v, before[k], err_msg=k)
    for k, v in saved.items():
        np.testing.assert_array_equal(backend.to_host(fwd[k]), v, err_msg=k)


@pytest.mark.parametrize("dtype", DTYPES)
def test_padded_steps_are_zero_and_inert(dtype, backend):
    shape = (4, 6, 3, 5, [6, 1, 4, 2])
    case, seeds = _case(5, shape, dtype)
    lengths = case["lengths"]
    T = case["X"].shape[1]
    pad = np.arange(T)[None, :] >= lengths[:, None]  # (B, T)
    assert pad.any()

    fwd, grads = lstm_forward_backward(case, seeds, backend)
    assert np.all(fwd["H_out"][pad] == 0.0)
    assert np.all(grads["dX"][pad] == 0.0)
    assert np.all(fwd["H_out"][~pad] != 0.0)
    assert np.all(np.abs(grads["dX"][~pad]).sum(axis=-1) > 0.0)

    # Garbage in X and dH_out at the padded steps changes nothing at all.
    rng = np.random.default_rng(55)
    case2 = dict(case)
    seeds2 = dict(seeds)
    case2["X"] = case["X"].copy()
    case2["X"][pad] = rng.normal(scale=100.0, size=case2["X"][pad].shape)
    seeds2["dH_out"] = seeds["dH_out"].copy()
    seeds2["dH_out"][pad] = rng.normal(scale=100.0,
                                       size=seeds2["dH_out"][pad].shape)
    fwd2, grads2 = lstm_forward_backward(case2, seeds2, backend)
    for name in FWD_OUT:
        np.testing.assert_array_equal(fwd2[name], fwd[name], err_msg=name)
    for name in LSTM_GRADS:
        np.testing.assert_array_equal(grads2[name], grads[name], err_msg=name)


@pytest.mark.parametrize("dtype", DTYPES)
def test_saturated_gates_bias_dominated(dtype, backend):
    """Every pre-activation has |a| in ~[1e3, 1e4]: gates exactly 0 or 1."""
    rng = np.random.default_rng(6)
    B, T, D, H = 3, 5, 4, 6
    case = make_lstm_case(rng, B, T, D, H, dtype, lengths=[5, 1, 3],
                          w_scale=5.0)
    b = rng.uniform(1e3, 1e4, size=4 * H) * rng.choice([-1.0, 1.0], 4 * H)
    case["b"] = np.ascontiguousarray(b, dtype=dtype)
    seeds = make_lstm_seeds(rng, case)
    with strict_fp():
        fwd, grads = lstm_forward_backward(case, seeds, backend)
        want_f, want_g = reference_lstm(case, seeds)
    for name, arr in {**fwd, **grads}.items():
        assert np.all(np.isfinite(arr)), name
    live = fwd["gates"][np.arange(T)[None, :] < case["lengths"][:, None]]
    assert np.all((live == 0.0) | (np.abs(live) == 1.0))
    for name in FWD_OUT:
        assert_close(fwd[name], want_f[name], tol_for(dtype), name)
    for name in LSTM_GRADS:
        assert_close(grads[name], want_g[name], tol_for(dtype), name)


@pytest.mark.parametrize("scale", [1e2, 1e3, 1e4])
def test_saturated_gates_large_weights_float64(scale, backend):
    """Weights scaled so that pre-activations are ~scale (some near 0)."""
    rng = np.random.default_rng(7)
    case = make_lstm_case(rng, 3, 6, 3, 4, np.float64, lengths=[6, 2, 4],
                          w_scale=scale, b_scale=scale)
    seeds = make_lstm_seeds(rng, case)
    with strict_fp():
        fwd, grads = lstm_forward_backward(case, seeds, backend)
        want_f, want_g = reference_lstm(case, seeds)
    for name, arr in {**fwd, **grads}.items():
        assert np.all(np.isfinite(arr)), name
    for name in FWD_OUT:
        assert_close(fwd[name], want_f[name], 1e-10, name)
    for name in LSTM_GRADS:
        assert_close(grads[name], want_g[name], 1e-10, name)


@pytest.mark.parametrize("scale", [1e2, 1e4])
def test_saturated_gates_large_weights_float32_finite(scale, backend):
    rng = np.random.default_rng(8)
    case = make_lstm_case(rng, 3, 6, 3, 4, np.float32, lengths=[6, 2, 4],
                          w_scale=scale, b_scale=scale)
    seeds = make_lstm_seeds(rng, case)
    with strict_fp():
        fwd, grads = lstm_forward_backward(case, seeds, backend)
    for name, arr in {**fwd, **grads}.items():
        assert np.all(np.isfinite(arr)), name
    assert np.all(np.abs(fwd["H_out"]) <= 1.0)
    assert np.all((fwd["gates"] >= -1.0) & (fwd["gates"] <= 1.0))


@pytest.mark.parametrize("lengths", [[3, 3], [3, 1], [2, 1]],
                         ids=["full", "ragged", "all-ragged"])
def test_gradients_match_finite_differences(lengths, backend):
    rng = np.random.default_rng(9)
    case = make_lstm_case(rng, 2, 3, 2, 3, np.float64, lengths=lengths)
    seeds = make_lstm_seeds(rng, case)
    _, grads = lstm_forward_backward(case, seeds, backend)
    fd = central_fd(lambda: lstm_scalar_loss(case, seeds, backend),
                    {k: case[k] for k in LSTM_INPUTS}, eps=1e-6)
    for k, gname in zip(LSTM_INPUTS, LSTM_GRADS, strict=True):
        assert np.abs(fd[k]).max() > 0.0, k
        assert_close(grads[gname], fd[k], 1e-6, gname)


@st.composite
def lstm_problems(draw):
    B = draw(st.integers(1, 4))
    T = draw(st.integers(1, 6))
    D = draw(st.integers(1, 4))
    H = draw(st.integers(1, 5))
    lengths = draw(st.lists(st.integers(1, T), min_size=B, max_size=B))
    seed = draw(st.integers(0, 2**32 - 1))
    return B, T, D, H, lengths, seed


@settings(max_examples=40, deadline=None)
@given(lstm_problems())
def test_property_matches_reference_float64(backend, problem):
    B, T, D, H, lengths, seed = problem
    case, seeds = _case(seed, (B, T, D, H, lengths), np.float64)
    fwd, grads = lstm_forward_backward(case, seeds, backend)
    want_f, want_g = reference_lstm(case, seeds)
    for name in FWD_OUT:
        assert_close(fwd[name], want_f[name], 1e-10, name)
    for name in LSTM_GRADS:
        assert_close(grads[name], want_g[name], 1e-10, name)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", SHAPES + [(9, 5, 3, 70, "ragged")],
                         ids=SHAPE_IDS + ["B9T5D3H70-ragged"])
def test_rows_and_wide_kernels_agree_bit_for_bit(shape, dtype):
    """The two thread splits run the same operations in the same order
    (CPU-only: the two splits are the CPU backend's)."""
    case, seeds = _case(11, shape, dtype)
    rows, wide = CPU_SPLITS["cpu-rows"], CPU_SPLITS["cpu-wide"]
    fwd_r, fwd_w = lstm_forward(case, rows), lstm_forward(case, wide)
    grads_r = lstm_backward(case, fwd_r, seeds, rows)
    grads_w = lstm_backward(case, fwd_w, seeds, wide)
    for name in FWD_OUT + ("gates", "cells", "h_prev"):
        np.testing.assert_array_equal(fwd_w[name], fwd_r[name], err_msg=name)
    for name in LSTM_GRADS:
        np.testing.assert_array_equal(grads_w[name], grads_r[name], err_msg=name)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", SHAPES, ids=SHAPE_IDS)
def test_backward_without_input_grad(shape, dtype, backend):
    """``input_grad=False`` leaves ``dX`` untouched and gives every other
    gradient to the last bit."""
    case, seeds = _case(13, shape, dtype)
    fwd = lstm_forward(case, backend)
    full = host(backend, lstm_backward(case, fwd, seeds, backend))
    part = host(backend, lstm_backward(case, fwd, seeds, backend,
                                       input_grad=False))
    assert np.isnan(part["dX"]).all()
    for name in LSTM_GRADS:
        if name != "dX":
            np.testing.assert_array_equal(part[name], full[name], err_msg=name)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("order", ["by_chunks", "split_k"])
@pytest.mark.parametrize("B, T, D, H", [(1, 3, 2, 1), (9, 4, 3, 5), (6, 2, 17, 12)])
def test_weight_gradient_summation_orders(order, B, T, D, H, dtype):
    """Both ways of summing the weight gradients over the batch (per chunk of
    rows then chunks added, or split over the rows of ``[X, H_prev]^T @ G``)
    against NumPy; columns of ``G`` past 4H (row padding) are never read
    into a result (CPU-only: these are the CPU backward's own sums)."""
    rng = np.random.default_rng(12)
    X = rng.standard_normal((B, T, D)).astype(dtype)
    h_prev = rng.standard_normal((B, T, H)).astype(dtype)
    width = lstm_cell.gate_width(H, np.dtype(dtype).itemsize)
    G = np.full((B, T, width), np.nan, dtype)
    G[..., :4 * H] = rng.standard_normal((B, T, 4 * H))
    dW_ih, dW_hh = np.empty((4 * H, D), dtype), np.empty((4 * H, H), dtype)
    db = np.empty(4 * H, dtype)
    kernel = {"by_chunks": lstm_weight_grads.weight_grads_by_chunks,
              "split_k": lstm_weight_grads.weight_grads_split_k}[order]
    kernel(X, h_prev, G, dW_ih, dW_hh, db)
    G2 = G[..., :4 * H].reshape(B * T, 4 * H).astype(np.float64)
    tol = tol_for(dtype)
    assert_close(dW_ih, G2.T @ X.reshape(B * T, D), tol, "dW_ih")
    assert_close(dW_hh, G2.T @ h_prev.reshape(B * T, H), tol, "dW_hh")
    assert_close(db, G2.sum(axis=0), tol, "db")


_COMPILE_SCRIPT = """
import numpy as np
from helpers import lstm_backward, lstm_forward, make_lstm_case, make_lstm_seeds
from numlstm.backends import resolve
be = resolve("cpu")
rng = np.random.default_rng(0)
out = []
for B, T, D, H in [(3, 5, 2, 1), (2, 4, 3, 5)]:
    case = make_lstm_case(rng, B, T, D, H, np.float64)
    seeds = make_lstm_seeds(rng, case)
    fwd = lstm_forward(case, be)
    grads = lstm_backward(case, fwd, seeds, be)
    out += [v.tobytes().hex() for v in (*fwd.values(), *grads.values())]
print(" ".join(out))
"""


def test_compiled_and_cached_kernels_give_the_same_bits(tmp_path):
    """A process that compiles the kernels and one that loads them from the
    Numba cache compute the same bits (with ``reassoc`` in the fastmath
    flags they did not: the backward differed in the last bit at H=1).
    CPU-only: the cache is Numba's, the CPU backend's."""
    import os
    import subprocess
    import sys

    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path / "cache"),
               PYTHONPATH=os.pathsep.join([os.path.dirname(__file__),
                                           os.environ.get("PYTHONPATH", "")]))
    runs = [subprocess.run([sys.executable, "-c", _COMPILE_SCRIPT], env=env,
                           capture_output=True, text=True, check=True).stdout
            for _ in range(2)]
    assert any((tmp_path / "cache").rglob("*.nbc"))  # the second run loaded
    assert runs[0] == runs[1]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [SHAPES[1], SHAPES[4], SHAPES[5]],
                         ids=[SHAPE_IDS[1], SHAPE_IDS[4], SHAPE_IDS[5]])
def test_backward_in_place_of_the_gates(shape, dtype, backend):
    """``dgates`` passed as ``gates`` with :meth:`lstm_gate_grad_width` rows
    (what ``nn.LSTM`` does): the forward writes the same gates into the
    longer rows, the backward gives the same gradients to the last bit as
    with a separate scratch, and the gates become their gradients; a
    separate scratch leaves the gates as they were."""
    case, seeds = _case(21, shape, dtype)
    H = shape[3]
    fwd = lstm_forward(case, backend)
    longer = lstm_forward(case, backend,
                          gate_width=backend.lstm_gate_grad_width(H, dtype))
    for name, want in host(backend, fwd).items():
        got = backend.to_host(longer[name])
        got = got[..., :4 * H] if name == "gates" else got
        np.testing.assert_array_equal(got, want, err_msg=name)

    gates = backend.to_host(fwd["gates"]).copy()
    scratch = nans(backend, longer["gates"].shape, dtype)
    apart = host(backend, lstm_backward(case, fwd, seeds, backend,
                                        dgates=scratch))
    np.testing.assert_array_equal(backend.to_host(fwd["gates"]),
                                  gates)  # left as it was
    together = host(backend, lstm_backward(case, longer, seeds, backend,
                                           dgates=longer["gates"]))
    for name in LSTM_GRADS:
        np.testing.assert_array_equal(together[name], apart[name], err_msg=name)
    in_place = backend.to_host(longer["gates"])[..., :4 * H]
    np.testing.assert_array_equal(in_place,
                                  backend.to_host(scratch)[..., :4 * H])
    assert not np.array_equal(in_place, gates)
