"""The CUDA LSTM kernels of a projection (LSTMP) and of layer normalisation
(:mod:`numlstm.backends.cuda.lstm_ln_proj`) against the NumPy oracle and
finite differences: ragged lengths, initial state and recurrent dropout
included, over two blocks of rows (the second partial)."""

import numpy as np
import pytest
from helpers import (
    LSTM_GRADS,
    LSTM_INPUTS,
    assert_close,
    host,
    lstm_backward,
    lstm_forward,
    lstm_forward_backward,
    lstm_scalar_loss,
    make_lstm_case,
    make_lstm_seeds,
    reference_lstm,
    variant_grad_names,
)
from numba import cuda

if not cuda.is_available():
    pytest.skip("needs an NVIDIA GPU or NUMBA_ENABLE_CUDASIM=1 (.ci/run runs "
                "this folder under the simulator)", allow_module_level=True)

from numlstm.backends import resolve  # noqa: E402
from numlstm.backends.cuda import lstm_ln_proj  # noqa: E402
from numlstm.backends.cuda.plan import ROWS_PER_BLOCK  # noqa: E402

#: (projection, layer norm, recurrent dropout) of each cell; the
#: projection is H - 1 wide (it must be narrower than the cell)
CELLS = {"proj": (True, False, 0.0), "layer-norm": (False, True, 0.0),
         "proj-layer-norm-dropout": (True, True, 0.4)}


def _case(seed, B, T, D, H, dtype, cell):
    proj, layer_norm, rate = CELLS[cell]
    rng = np.random.default_rng(seed)
    case = make_lstm_case(rng, B, T, D, H, dtype, lengths="ragged",
                          proj_size=H - 1 if proj else 0,
                          layer_norm=layer_norm, recurrent_dropout=rate)
    return case, make_lstm_seeds(rng, case)


def _grad_names(case):
    return LSTM_GRADS + variant_grad_names(case)


def _weights(case):
    """The inputs whose gradients :func:`_grad_names` lists, in its order."""
    return LSTM_INPUTS + tuple(name[1:] for name in variant_grad_names(case))


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("dtype, tol", [(np.float64, 1e-12), (np.float32, 1e-4)])
def test_matches_the_reference(dtype, tol, cell):
    """Two blocks of rows, the second partial; at padded steps the state is
    carried and ``gates``, ``h_prev`` and ``H_out`` are 0."""
    be = resolve("cuda")
    case, seeds = _case(0, ROWS_PER_BLOCK + 2, 3, 3, 4, dtype, cell)
    fwd = lstm_forward(case, be)
    cache = host(be, {k: fwd[k] for k in ("gates", "cells", "h_prev")})
    cache = {k: v.copy() for k, v in cache.items()}  # the backward eats them
    grads = host(be, lstm_backward(case, fwd, seeds, be))
    fwd = host(be, fwd)
    want_f, want_g = reference_lstm(case, seeds)
    for name in ("H_out", "h_n", "c_n"):
        assert_close(fwd[name], want_f[name], tol, name)
    for name in _grad_names(case):
        assert_close(grads[name], want_g[name], tol, name)
    T = case["X"].shape[1]
    for s, length in enumerate(case["lengths"]):
        np.testing.assert_array_equal(cache["gates"][s, length:], 0)
        np.testing.assert_array_equal(cache["h_prev"][s, length:], 0)
        np.testing.assert_array_equal(fwd["H_out"][s, length:], 0)
        np.testing.assert_array_equal(
            cache["cells"][s, length:], np.broadcast_to(
                fwd["c_n"][s], (T - length, fwd["c_n"].shape[1])))


@pytest.mark.parametrize("cell", ["proj", "proj-layer-norm-dropout"])
def test_gradients_match_finite_differences(cell):
    """Central differences of the CUDA forward itself, float64, along random
    directions through every input and weight at once (two forwards each,
    the simulator being slow): the time loops without layer norm, and with
    all of it (layer norm alone is the reference's)."""
    be = resolve("cuda")
    case, seeds = _case(1, 2, 3, 2, 3, np.float64, cell)
    _, grads = lstm_forward_backward(case, seeds, be)
    inputs = _weights(case)
    rng = np.random.default_rng(2)
    eps = 1e-6
    for _ in range(2):
        direction = {k: rng.normal(size=case[k].shape) for k in inputs}
        base = {k: case[k].copy() for k in inputs}
        values = []
        for sign in (1, -1):
            for k in inputs:
                case[k][...] = base[k] + sign * eps * direction[k]
            values.append(lstm_scalar_loss(case, seeds, be))
        for k in inputs:
            case[k][...] = base[k]
        fd = (values[0] - values[1]) / (2 * eps)
        exact = sum(float(np.sum(grads[g] * direction[k]))
                    for k, g in zip(inputs, _grad_names(case), strict=True))
        assert abs(exact) > 1e-3
        assert abs(fd - exact) <= 1e-6 * max(1.0, abs(exact)), (fd, exact)


def test_in_place_and_at_any_launch_width_the_same_bits(monkeypatch):
    """The gate gradients in place of the gates give the bits of a separate
    scratch, and so does a launch of 8 threads a block (each thread taking
    several ``(row, lane)`` items): every sum has a fixed order."""
    be = resolve("cuda")
    case, seeds = _case(3, 3, 3, 2, 3, np.float32, "proj-layer-norm-dropout")
    want_f, want_g = lstm_forward_backward(case, seeds, be)
    monkeypatch.setattr(lstm_ln_proj, "_threads", lambda lanes: 8)
    fwd = lstm_forward(case, be)
    got_g = host(be, lstm_backward(case, fwd, seeds, be, dgates=fwd["gates"]))
    got_f = host(be, {k: fwd[k] for k in ("H_out", "h_n", "c_n")})
    for name in ("H_out", "h_n", "c_n"):
        np.testing.assert_array_equal(got_f[name], want_f[name], err_msg=name)
    for name in _grad_names(case):
        np.testing.assert_array_equal(got_g[name], want_g[name], err_msg=name)
