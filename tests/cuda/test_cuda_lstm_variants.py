"""The CUDA LSTM kernels' peephole and coupled-gate (CIFG) cells, recurrent
dropout and zoneout against the NumPy oracle and finite differences, in both
time loops (the cooperative one on one block under the simulator), ragged
lengths and initial state included."""

import numpy as np
import pytest
from helpers import (
    LSTM_GRADS,
    LSTM_INPUTS,
    assert_close,
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

#: (coupled, peephole, recurrent dropout, zoneout) of each variant
CELLS = {"peephole": (False, True, 0.0, 0.0), "coupled": (True, False, 0.0, 0.0),
         "coupled-peephole": (True, True, 0.0, 0.0),
         "recurrent-dropout": (False, False, 0.4, 0.0),
         "coupled-peephole-dropout": (True, True, 0.4, 0.0),
         "zoneout": (False, False, 0.0, 0.3),
         "coupled-zoneout-dropout": (True, False, 0.4, 0.3)}


def _case(seed, B, T, D, H, dtype, cell):
    coupled, peephole, rate, zoneout = CELLS[cell]
    rng = np.random.default_rng(seed)
    case = make_lstm_case(rng, B, T, D, H, dtype, lengths="ragged",
                          coupled=coupled, peephole=peephole,
                          recurrent_dropout=rate, zoneout=zoneout)
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
    """Central differences of the CUDA forward itself, float64, along random
    directions through every input at once (each direction checks all the
    gradients together; two forwards each, the simulator being slow)."""
    be = resolve("cuda")
    case, seeds = _case(1, 2, 3, 2, 2, np.float64, cell)
    _, grads = lstm_forward_backward(case, seeds, be)
    inputs = LSTM_INPUTS + (("peep",) if "peep" in case else ())
    rng = np.random.default_rng(2)
    eps = 1e-6
    for _ in range(3):
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


@pytest.mark.parametrize("cell", [
    dict(peephole=True, coupled_gates=True, recurrent_dropout=0.3),
    dict(coupled_gates=True, zoneout=0.3)], ids=["peephole", "zoneout"])
def test_a_variant_fit_through_cuda_gives_the_cpu_results(cell):
    """Two epochs in float64 with the variants together (zoneout does not
    combine with peepholes): the weights (``w_peep`` included) within 1e-8
    of the CPU's (one family: the others pass the cell to the same layer,
    ~30 s each here)."""
    import warnings

    from registry import ESTIMATORS

    maker, data = ESTIMATORS["vanilla-reg"]
    X, y = data()
    models = {}
    for backend in ("cpu", "cuda"):
        model = maker(max_iter=2, batch_size=6, random_state=0,
                      dtype="float64", backend=backend, **cell)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # 2 epochs: not converged
            models[backend] = model.fit(X[:6], y[:6])
    want, got = models["cpu"].get_weights(), models["cuda"].get_weights()
    assert list(got) == list(want)
    for name, w in want.items():
        np.testing.assert_allclose(got[name], w, rtol=0, atol=1e-8,
                                   err_msg=name)
    np.testing.assert_allclose(models["cuda"].predict(X), models["cpu"].predict(X),
                               rtol=1e-10, atol=1e-12)
