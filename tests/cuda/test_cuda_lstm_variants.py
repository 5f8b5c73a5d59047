"""The CUDA LSTM kernels' peephole and coupled-gate (CIFG) cells against the
NumPy oracle and finite differences, in both time loops (the cooperative
one on one block under the simulator), ragged lengths and initial state
included."""

import numpy as np
import pytest
from helpers import (
    LSTM_GRADS,
    LSTM_INPUTS,
    assert_close,
    central_fd,
    lstm_forward_backward,
    lstm_scalar_loss,
    make_lstm_case,
    make_lstm_seeds,
    reference_lstm,
)
from numba import cuda

if not cuda.is_available():
    pytest.skip("needs an NVIDIA GPU or NUMBA_ENABLE_CUDASIM=1 (.ci/run runs "
                "this folder under the simulator)", allow_module_level=True)

from numlstm.backends import resolve  # noqa: E402
from numlstm.backends.cuda.plan import ROWS_PER_BLOCK  # noqa: E402

CELLS = {"peephole": (False, True), "coupled": (True, False),
         "coupled-peephole": (True, True)}


def _case(seed, B, T, D, H, dtype, cell):
    coupled, peephole = CELLS[cell]
    rng = np.random.default_rng(seed)
    case = make_lstm_case(rng, B, T, D, H, dtype, lengths="ragged",
                          coupled=coupled, peephole=peephole)
    return case, make_lstm_seeds(rng, case)


def _grad_names(case):
    return LSTM_GRADS + (("dpeep",) if "peep" in case else ())


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("dtype, tol", [(np.float64, 1e-12), (np.float32, 1e-4)])
def test_matches_the_reference(dtype, tol, cell, loop):
    """Two blocks of rows, the second partial."""
    be = resolve("cuda")
    case, seeds = _case(0, ROWS_PER_BLOCK + 2, 4, 3, 2, dtype, cell)
    fwd, grads = lstm_forward_backward(case, seeds, be)
    want_f, want_g = reference_lstm(case, seeds)
    for name in ("H_out", "h_n", "c_n"):
        assert_close(fwd[name], want_f[name], tol, name)
    for name in _grad_names(case):
        assert_close(grads[name], want_g[name], tol, name)


@pytest.mark.parametrize("cell", CELLS)
def test_gradients_match_finite_differences(cell, loop):
    """Central differences of the CUDA forward itself, float64."""
    be = resolve("cuda")
    case, seeds = _case(1, 2, 3, 2, 2, np.float64, cell)
    _, grads = lstm_forward_backward(case, seeds, be)
    inputs = LSTM_INPUTS + (("peep",) if "peep" in case else ())
    fd = central_fd(lambda: lstm_scalar_loss(case, seeds, be),
                    {k: case[k] for k in inputs}, eps=1e-6)
    for k, gname in zip(inputs, _grad_names(case), strict=True):
        assert np.abs(fd[k]).max() > 0.0, k
        assert_close(grads[gname], fd[k], 1e-6, gname)
