"""The projection (LSTMP) and layer-normalised LSTM cells of the kernels
against the NumPy oracle, finite differences and, for the projection,
PyTorch's ``nn.LSTM(proj_size=P)`` when torch is installed.

Every test takes the ``backend`` fixture (each available backend); the
CUDA kernels are tested on the simulator in ``tests/cuda``.
"""

import numpy as np
import pytest
from helpers import (
    LN_NAMES,
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
    reference_lstm,
    tol_for,
    torch_projected_lstm,
    variant_grad_names,
)

#: (proj_size, layer_norm, recurrent dropout) of each cell. The kernels
#: tell them apart at run time (one specialisation a dtype), so every cell
#: runs in both dtypes
CELLS = {"proj": (2, False, 0.0), "ln": (0, True, 0.0),
         "proj-ln": (2, True, 0.0), "proj-ln-dropout": (3, True, 0.4)}
REFERENCE_CASES = [(cell, dtype) for cell in CELLS
                   for dtype in (np.float64, np.float32)]
SHAPES = [(1, 1, 1, 4, None), (2, 5, 1, 5, [5, 1]), (4, 6, 3, 5, "ragged"),
          (9, 7, 4, 8, [7, 1, 3, 7, 2, 6, 5, 7, 1])]
SHAPE_IDS = [f"B{b}T{t}D{d}H{h}" for b, t, d, h, _ in SHAPES]
FWD_OUT = ("H_out", "h_n", "c_n")


def _case(seed, shape, dtype, cell):
    B, T, D, H, lengths = shape
    proj, ln, rate = CELLS[cell]
    rng = np.random.default_rng(seed)
    case = make_lstm_case(rng, B, T, D, H, dtype, lengths=lengths,
                          proj_size=proj, layer_norm=ln,
                          recurrent_dropout=rate)
    return case, make_lstm_seeds(rng, case)


def _weight_inputs(case):
    """The case's inputs in the order of ``LSTM_GRADS`` and then
    :func:`variant_grad_names`."""
    extra = tuple(name[1:] for name in variant_grad_names(case))
    return LSTM_INPUTS + extra


@pytest.mark.parametrize("cell, dtype", REFERENCE_CASES)
@pytest.mark.parametrize("shape", SHAPES, ids=SHAPE_IDS)
def test_matches_the_reference(shape, dtype, cell, backend):
    case, seeds = _case(1, shape, dtype, cell)
    fwd, grads = lstm_forward_backward(case, seeds, backend)
    want_f, want_g = reference_lstm(case, seeds)
    for name in FWD_OUT:
        assert fwd[name].dtype == dtype
        assert_close(fwd[name], want_f[name], tol_for(dtype), name)
    for name in LSTM_GRADS + variant_grad_names(case):
        assert grads[name].dtype == dtype
        assert_close(grads[name], want_g[name], tol_for(dtype), name)


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("lengths", [[3, 3], [3, 1]], ids=["full", "ragged"])
def test_gradients_match_finite_differences(lengths, cell, backend):
    case, seeds = _case(3, (2, 3, 2, 4, lengths), np.float64, cell)
    _, grads = lstm_forward_backward(case, seeds, backend)
    inputs = _weight_inputs(case)
    fd = central_fd(lambda: lstm_scalar_loss(case, seeds, backend),
                    {k: case[k] for k in inputs}, eps=1e-6)
    for k, gname in zip(inputs, LSTM_GRADS + variant_grad_names(case),
                        strict=True):
        assert np.abs(fd[k]).max() > 0.0, k
        assert_close(grads[gname], fd[k], 1e-6, gname)


@pytest.mark.parametrize("cell", ["proj", "ln"])
def test_gate_gradients_in_place_of_the_gates(cell, backend):
    """``dgates`` passed as ``gates`` (rows as wide as the backend asks
    for): the same gradients as into a separate scratch, and no ``dX`` work
    changes any other result."""
    case, seeds = _case(2, SHAPES[2], np.float64, cell)
    H = case["W_ih"].shape[0] // 4
    width = backend.lstm_gate_grad_width(H, np.float64, 4)
    apart = host(backend, lstm_backward(case, lstm_forward(case, backend),
                                        seeds, backend))
    fwd = lstm_forward(case, backend, gate_width=width)
    together = host(backend, lstm_backward(case, fwd, seeds, backend,
                                           dgates=fwd["gates"],
                                           input_grad=False))
    for name in ("dW_ih", "dW_hh", "db", "dh0", "dc0") + \
            variant_grad_names(case):
        np.testing.assert_array_equal(together[name], apart[name], err_msg=name)
    assert np.isnan(together["dX"]).all()


def test_layer_norm_removes_a_shift_of_each_product(backend):
    """Adding the same vector to every row of ``W_ih`` (and another to
    ``W_hh``) shifts every column of a step's product by one number, which
    each normalisation takes out again; the plain cell would change."""
    case, _ = _case(5, SHAPES[2], np.float64, "ln")
    rng = np.random.default_rng(9)
    shifted = dict(case)
    for name in ("W_ih", "W_hh"):
        shifted[name] = case[name] + rng.normal(size=case[name].shape[1])
    base = host(backend, lstm_forward(case, backend))
    again = host(backend, lstm_forward(shifted, backend))
    for name in FWD_OUT:
        assert_close(again[name], base[name], 1e-12, name)
    for name in LN_NAMES:
        del case[name], shifted[name]
    plain = host(backend, lstm_forward(case, backend))["H_out"]
    assert not np.allclose(host(backend, lstm_forward(shifted, backend))["H_out"],
                           plain)


def test_an_identity_projection_is_the_plain_cell(backend):
    """``W_hr`` the identity on the first P of H units: those are the plain
    cell of P units (the others reach neither ``h`` nor the gates)."""
    rng = np.random.default_rng(6)
    P, H = 3, 5
    case = make_lstm_case(rng, 4, 6, 2, H, np.float64, lengths="ragged",
                          proj_size=P)
    case["W_hr"] = np.eye(P, H)
    plain = make_lstm_case(np.random.default_rng(7), 4, 6, 2, P, np.float64,
                           lengths=case["lengths"])
    for name in ("X", "h0"):
        plain[name] = case[name]
    keep = np.r_[0:P, H:H + P, 2 * H:2 * H + P, 3 * H:3 * H + P]
    plain["W_ih"], plain["W_hh"] = case["W_ih"][keep], case["W_hh"][keep]
    plain["b"], plain["c0"] = case["b"][keep], case["c0"][:, :P]
    got = host(backend, lstm_forward(case, backend))
    want = host(backend, lstm_forward(plain, backend))
    for name in ("H_out", "h_n"):
        assert_close(got[name], want[name], 1e-12, name)
    assert_close(got["c_n"][:, :P], want["c_n"], 1e-12, "c_n")


@pytest.mark.parametrize("shape", SHAPES[1:3], ids=SHAPE_IDS[1:3])
def test_projection_matches_pytorch(shape, backend):
    """PyTorch's ``nn.LSTM(proj_size=P)``, float32, outputs and gradients
    (torch is installed in the benchmark environment, not the test
    extras)."""
    torch = pytest.importorskip("torch", reason=(
        "torch is no numlstm dependency and not in the test extras (a CPU "
        "build is gigabytes); the projection is checked against the NumPy "
        "reference and finite differences everywhere, and against PyTorch "
        "where torch is installed"))
    B, T, D, H, _ = shape
    case, seeds = _case(8, (B, T, D, H, None), np.float32, "proj")
    fwd, grads = lstm_forward_backward(case, seeds, backend)
    want_f, want_g = torch_projected_lstm(torch, case, seeds)
    for name, want in want_f.items():
        assert_close(fwd[name], want, 1e-5, name)
    for name, want in want_g.items():
        assert_close(grads[name], want, 1e-5, name)
