"""The peephole and coupled-gate (CIFG) cells, recurrent dropout and
zoneout of the LSTM kernels against the NumPy oracle, finite differences
and, for peepholes, onnxruntime's ONNX ``LSTM`` operator.

Every test takes the ``backend`` fixture (each available backend); the
CPU's wide thread split is checked against its rows split, bit for bit;
the CUDA kernels' variants are tested on the simulator in ``tests/cuda``.
"""

import numpy as np
import pytest
from helpers import (
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
)
from test_lstm_kernels import CPU_SPLITS

#: (coupled, peephole, recurrent dropout, zoneout) of each variant. Each
#: combination of the kernels' variant arguments is a specialisation of its
#: own (~10 s of cold compile a kernel, dtype and thread split), so float32
#: and the CPU's wide split run the two cells that take every variant code
#: path between them, and the estimator tests run float64
CELLS = {"peephole": (False, True, 0.0, 0.0), "coupled": (True, False, 0.0, 0.0),
         "coupled-peephole": (True, True, 0.0, 0.0),
         "recurrent-dropout": (False, False, 0.4, 0.0),
         "zoneout": (False, False, 0.0, 0.3),
         "coupled-peephole-dropout": (True, True, 0.4, 0.0),
         "coupled-zoneout-dropout": (True, False, 0.4, 0.3)}
#: the cells that run in float32 and on the wide split
ALL_PATHS = ("coupled-peephole-dropout", "coupled-zoneout-dropout")
REFERENCE_CASES = [(cell, np.float64) for cell in CELLS] + \
    [(cell, np.float32) for cell in ALL_PATHS]
SHAPES = [(1, 1, 1, 1, None), (2, 5, 1, 3, [5, 1]), (4, 6, 3, 5, "ragged"),
          (5, 7, 4, 8, [7, 1, 3, 7, 2])]
SHAPE_IDS = [f"B{b}T{t}D{d}H{h}" for b, t, d, h, _ in SHAPES]
FWD_OUT = ("H_out", "h_n", "c_n")


def _case(seed, shape, dtype, cell, **kw):
    B, T, D, H, lengths = shape
    coupled, peephole, rate, zoneout = CELLS[cell]
    rng = np.random.default_rng(seed)
    case = make_lstm_case(rng, B, T, D, H, dtype, lengths=lengths,
                          coupled=coupled, peephole=peephole,
                          recurrent_dropout=rate, zoneout=zoneout, **kw)
    return case, make_lstm_seeds(rng, case)


def _grad_names(case):
    return LSTM_GRADS + (("dpeep",) if "peep" in case else ())


@pytest.mark.parametrize("cell, dtype", REFERENCE_CASES)
@pytest.mark.parametrize("shape", SHAPES, ids=SHAPE_IDS)
def test_matches_the_reference(shape, dtype, cell, backend):
    """On every backend (the CPU's wide split gives the rows split's bits,
    tested below in float64)."""
    case, seeds = _case(1, shape, dtype, cell)
    fwd, grads = lstm_forward_backward(case, seeds, backend)
    want_f, want_g = reference_lstm(case, seeds)
    for name in FWD_OUT:
        assert fwd[name].dtype == dtype
        assert_close(fwd[name], want_f[name], tol_for(dtype), name)
    for name in _grad_names(case):
        assert grads[name].dtype == dtype
        assert_close(grads[name], want_g[name], tol_for(dtype), name)


@pytest.mark.parametrize("cell", CELLS)
def test_gate_gradients_in_place_of_the_gates(cell, backend):
    """``dgates`` passed as ``gates`` (rows as wide as the backend asks for
    them): the same gradients as into a separate scratch."""
    case, seeds = _case(2, SHAPES[2], np.float64, cell)
    H, G = case["W_hh"].shape[1], case["W_hh"].shape[0]
    width = backend.lstm_gate_grad_width(H, np.float64, G // H)
    assert width >= G
    apart = host(backend, lstm_backward(case, lstm_forward(case, backend),
                                        seeds, backend))
    fwd = lstm_forward(case, backend, gate_width=width)
    together = host(backend, lstm_backward(case, fwd, seeds, backend,
                                           dgates=fwd["gates"]))
    for name in _grad_names(case):
        np.testing.assert_array_equal(together[name], apart[name], err_msg=name)


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("lengths", [[3, 3], [3, 1]], ids=["full", "ragged"])
def test_gradients_match_finite_differences(lengths, cell, backend):
    case, seeds = _case(3, (2, 3, 2, 3, lengths), np.float64, cell)
    _, grads = lstm_forward_backward(case, seeds, backend)
    inputs = LSTM_INPUTS + (("peep",) if "peep" in case else ())
    fd = central_fd(lambda: lstm_scalar_loss(case, seeds, backend),
                    {k: case[k] for k in inputs}, eps=1e-6)
    for k, gname in zip(inputs, _grad_names(case), strict=True):
        assert np.abs(fd[k]).max() > 0.0, k
        assert_close(grads[gname], fd[k], 1e-6, gname)


@pytest.mark.parametrize("cell", ALL_PATHS)
def test_rows_and_wide_kernels_agree_bit_for_bit(cell):
    case, seeds = _case(4, (9, 5, 3, 70, "ragged"), np.float64, cell)
    rows, wide = CPU_SPLITS["cpu-rows"], CPU_SPLITS["cpu-wide"]
    fwd_r, fwd_w = lstm_forward(case, rows), lstm_forward(case, wide)
    grads_r = lstm_backward(case, fwd_r, seeds, rows)
    grads_w = lstm_backward(case, fwd_w, seeds, wide)
    for name in FWD_OUT + ("cells", "h_prev"):
        np.testing.assert_array_equal(fwd_w[name], fwd_r[name], err_msg=name)
    for name in _grad_names(case):
        np.testing.assert_array_equal(grads_w[name], grads_r[name], err_msg=name)


@pytest.mark.parametrize("dtype", [np.float64])
def test_zero_peepholes_are_the_plain_cell(dtype, backend):
    """Peephole weights of 0 give the plain cell's results, to rounding
    (the variant cell's loops are compiled apart, and LLVM may contract or
    vectorise them otherwise)."""
    case, seeds = _case(5, SHAPES[3], dtype, "peephole")
    case["peep"][:] = 0
    plain = {k: v for k, v in case.items() if k != "peep"}
    fwd_p, grads_p = lstm_forward_backward(case, seeds, backend)
    fwd, grads = lstm_forward_backward(plain, seeds, backend)
    tol = 1e-14 if dtype == np.float64 else 1e-6
    for name in FWD_OUT:
        assert_close(fwd_p[name], fwd[name], tol, name)
    for name in LSTM_GRADS:
        assert_close(grads_p[name], grads[name], tol, name)


def test_a_mask_of_ones_is_no_dropout(backend):
    """A recurrent dropout mask of ones: the results without a mask, to
    rounding (the masked product reads a copy of the state)."""
    case, seeds = _case(8, SHAPES[3], np.float64, "recurrent-dropout")
    case["h_mask"][:] = 1
    plain = {k: v for k, v in case.items() if k != "h_mask"}
    fwd_m, grads_m = lstm_forward_backward(case, seeds, backend)
    fwd, grads = lstm_forward_backward(plain, seeds, backend)
    for name in FWD_OUT:
        assert_close(fwd_m[name], fwd[name], 1e-14, name)
    for name in LSTM_GRADS:
        assert_close(grads_m[name], grads[name], 1e-14, name)


def test_recurrent_dropout_drops_units_of_the_recurrence(backend):
    """Units the mask drops reach no gate through ``W_hh``: zeroing their
    columns of ``W_hh`` changes nothing."""
    case, _ = _case(9, SHAPES[3], np.float64, "recurrent-dropout")
    case["h_mask"][:] = case["h_mask"][0]  # the same units dropped in each row
    dropped = case["h_mask"][0] == 0
    assert dropped.any() and not dropped.all()
    cut = dict(case, W_hh=case["W_hh"].copy())
    cut["W_hh"][:, dropped] = 0
    got = host(backend, lstm_forward(case, backend))
    want = host(backend, lstm_forward(cut, backend))
    for name in FWD_OUT:
        assert_close(got[name], want[name], 1e-14, name)


def test_coupled_gates_are_a_tied_forget_gate(backend):
    """A CIFG cell is the plain cell whose forget gate has the input gate's
    weights negated (``sigmoid(-a) = 1 - sigmoid(a)``)."""
    case, _ = _case(6, SHAPES[2], np.float64, "coupled")
    H = case["W_hh"].shape[1]
    plain = dict(case)
    for k in ("W_ih", "W_hh", "b"):
        w = case[k]
        plain[k] = np.ascontiguousarray(np.concatenate([w[:H], -w[:H], w[H:]]))
    got = host(backend, lstm_forward(case, backend))
    want = host(backend, lstm_forward(plain, backend))
    for name in FWD_OUT:
        assert_close(got[name], want[name], 1e-12, name)


# ----------------------------------------------------------- ONNX's LSTM

def _onnx_lstm(case):
    """The ONNX ``LSTM`` operator (gate order i, o, f, c; peepholes ``P`` in
    the order i, o, f) on ``case``, run by onnxruntime in float32 (the type
    its LSTM kernel implements)."""
    onnx = pytest.importorskip("onnx", reason="onnx is in the test extras")
    ort = pytest.importorskip("onnxruntime",
                              reason="onnxruntime is in the test extras")
    from onnx import TensorProto, helper

    X, W_ih, W_hh, b = (case[k].astype(np.float32)
                        for k in ("X", "W_ih", "W_hh", "b"))
    B, T, D = X.shape
    H = W_hh.shape[1]

    def onnx_order(w):  # i, f, g, o -> i, o, f, c
        i, f, g, o = np.split(w, 4)
        return np.concatenate([i, o, f, g])

    p_i, p_f, p_o = np.split(case["peep"].astype(np.float32), 3)
    feeds = {
        "X": np.ascontiguousarray(X.transpose(1, 0, 2)),  # (T, B, D)
        "W": onnx_order(W_ih)[None],
        "R": onnx_order(W_hh)[None],
        "B": np.concatenate([onnx_order(b), np.zeros(4 * H, np.float32)])[None],
        "sequence_lens": case["lengths"].astype(np.int32),
        "initial_h": case["h0"].astype(np.float32)[None],
        "initial_c": case["c0"].astype(np.float32)[None],
        "P": np.concatenate([p_i, p_o, p_f])[None],
    }
    inputs = [helper.make_tensor_value_info(
        k, TensorProto.INT32 if k == "sequence_lens" else TensorProto.FLOAT,
        v.shape) for k, v in feeds.items()]
    node = helper.make_node("LSTM", list(feeds), ["Y", "Y_h", "Y_c"],
                            hidden_size=H)
    outputs = [helper.make_tensor_value_info(k, TensorProto.FLOAT, shape)
               for k, shape in (("Y", (T, 1, B, H)), ("Y_h", (1, B, H)),
                                ("Y_c", (1, B, H)))]
    model = helper.make_model(
        helper.make_graph([node], "lstm", inputs, outputs),
        opset_imports=[helper.make_opsetid("", 14)])
    onnx.checker.check_model(model)
    session = ort.InferenceSession(model.SerializeToString(),
                                   providers=["CPUExecutionProvider"])
    Y, Y_h, Y_c = session.run(None, feeds)
    return {"H_out": Y[:, 0].transpose(1, 0, 2), "h_n": Y_h[0], "c_n": Y_c[0]}


@pytest.mark.parametrize("shape", SHAPES, ids=SHAPE_IDS)
def test_peepholes_match_onnxruntime(shape, backend):
    """The peephole cell is ONNX's: the same outputs as onnxruntime's LSTM,
    ragged batches (``sequence_lens``) and initial state included."""
    case, _ = _case(7, shape, np.float32, "peephole")
    want = _onnx_lstm(case)
    got = host(backend, lstm_forward(case, backend))
    for name in FWD_OUT:
        assert_close(got[name], want[name], 1e-5, name)
