"""The CUDA LSTM kernels against the numpy reference, ragged lengths and
initial state included: the rows kernels over more than one block of rows,
the cooperative kernels on one block (the simulator) or three (a GPU)."""

import numpy as np
import pytest
from numba import config, cuda

if not cuda.is_available():
    pytest.skip("needs an NVIDIA GPU or NUMBA_ENABLE_CUDASIM=1 (.ci/run runs "
                "this folder under the simulator)", allow_module_level=True)

import reference as ref  # noqa: E402

from numlstm.backends.cuda import lstm  # noqa: E402
from numlstm.backends.cuda.plan import ROWS_PER_BLOCK, DeviceLimits  # noqa: E402


@pytest.mark.parametrize("dtype, tol", [(np.float64, 1e-12), (np.float32, 1e-5)])
def test_forward_matches_the_reference(dtype, tol, tiled, loop):
    # rows: two blocks, the second partial
    _check_forward(np.random.default_rng(0), (ROWS_PER_BLOCK + 3, 4, 3, 2),
                   dtype, tol)


@pytest.mark.parametrize("alias", [False, True])
@pytest.mark.parametrize("dtype, tol", [(np.float64, 1e-12), (np.float32, 1e-4)])
def test_backward_matches_the_reference(dtype, tol, alias, tiled, loop):
    _check_backward(np.random.default_rng(1), (ROWS_PER_BLOCK + 2, 4, 3, 2),
                    dtype, tol, alias)


@pytest.mark.skipif(config.ENABLE_CUDASIM, reason=(
    "a GPU test (benchmarks/gpu_check.sh runs it): the simulator runs a grid "
    "barrier wrongly across blocks (shared/design/cuda.md 2.8)"))
@pytest.mark.parametrize("dtype, tol", [(np.float64, 1e-12), (np.float32, 1e-4)])
def test_the_cooperative_kernels_across_blocks(dtype, tol, monkeypatch):
    """7 units over 3 blocks (3, 3 and 1 units): ``h_t`` and the gate
    gradients cross blocks at every step."""
    monkeypatch.setattr(lstm, "time_loop", lambda hidden, itemsize: "cooperative")
    monkeypatch.setattr(lstm, "device_limits",
                        lambda: DeviceLimits(shared_per_block=48 * 1024, n_sms=3))
    _check_forward(np.random.default_rng(3), (5, 6, 3, 7), dtype, tol)
    _check_backward(np.random.default_rng(4), (5, 6, 3, 7), dtype, tol, True)


def _check_forward(rng, sizes, dtype, tol):
    X, W_ih, W_hh, b, h0, c0, lengths = _layer(rng, *sizes, dtype)
    out = _forward(X, W_ih, W_hh, b, h0, c0, lengths, dtype)
    H_out, h_n, c_n, cache = ref.lstm_forward(X, W_ih, W_hh, b, h0, c0,
                                              lengths)
    steps = cache[3]
    got = {name: a.copy_to_host() for name, a in out.items()}
    np.testing.assert_allclose(got["H_out"], H_out, rtol=tol, atol=tol)
    np.testing.assert_allclose(got["h_n"], h_n, rtol=tol, atol=tol)
    np.testing.assert_allclose(got["c_n"], c_n, rtol=tol, atol=tol)
    for t, (h_prev, _, i, f, g, o, c_new, live, _) in enumerate(steps):
        live = live[:, 0]
        gates = np.concatenate([i, f, g, o], axis=1)
        np.testing.assert_allclose(got["gates"][live, t], gates[live],
                                   rtol=tol, atol=tol)
        np.testing.assert_array_equal(got["gates"][~live, t], 0)
        np.testing.assert_allclose(got["cells"][live, t], c_new[live],
                                   rtol=tol, atol=tol)
        np.testing.assert_allclose(got["h_prev"][live, t], h_prev[live],
                                   rtol=tol, atol=tol)
        np.testing.assert_array_equal(got["H_out"][~live, t], 0)


def _check_backward(rng, sizes, dtype, tol, alias):
    B, T, D, H = sizes
    X, W_ih, W_hh, b, h0, c0, lengths = _layer(rng, *sizes, dtype)
    fwd = _forward(X, W_ih, W_hh, b, h0, c0, lengths, dtype)
    dH_out = rng.normal(size=(B, T, H)).astype(dtype)
    dh_n, dc_n = (rng.normal(size=(B, H)).astype(dtype) for _ in range(2))
    out = {name: cuda.to_device(np.full(shape, np.nan, dtype)) for name, shape in
           dict(dX=(B, T, D), dW_ih=W_ih.shape, dW_hh=W_hh.shape, db=b.shape,
                dh0=(B, H), dc0=(B, H), dgates=(B, T, 4 * H)).items()}
    dgates = fwd["gates"] if alias else out["dgates"]
    lstm.lstm_backward(*[cuda.to_device(a) for a in (X, W_ih, W_hh, c0, lengths)],
                       fwd["gates"], fwd["cells"], fwd["h_prev"],
                       *[cuda.to_device(a) for a in (dH_out, dh_n, dc_n)],
                       out["dX"], out["dW_ih"], out["dW_hh"], out["db"],
                       out["dh0"], out["dc0"], dgates, True)
    *_, cache = ref.lstm_forward(X, W_ih, W_hh, b, h0, c0, lengths)
    want = ref.lstm_backward(dH_out, dh_n, dc_n, cache)
    for name, w in zip(("dX", "dW_ih", "dW_hh", "db", "dh0", "dc0"), want,
                       strict=True):
        np.testing.assert_allclose(out[name].copy_to_host(), w, rtol=tol,
                                   atol=tol, err_msg=name)


def _layer(rng, B, T, D, H, dtype):
    X = rng.normal(size=(B, T, D)).astype(dtype)
    W_ih = rng.normal(scale=0.5, size=(4 * H, D)).astype(dtype)
    W_hh = rng.normal(scale=0.5, size=(4 * H, H)).astype(dtype)
    b = rng.normal(scale=0.1, size=4 * H).astype(dtype)
    h0, c0 = (rng.normal(size=(B, H)).astype(dtype) for _ in range(2))
    lengths = rng.integers(1, T + 1, size=B).astype(np.int64)
    lengths[0] = T
    return X, W_ih, W_hh, b, h0, c0, lengths


def _forward(X, W_ih, W_hh, b, h0, c0, lengths, dtype):
    B, T, _ = X.shape
    H = W_hh.shape[1]
    out = {name: cuda.to_device(np.full(shape, np.nan, dtype)) for name, shape in
           dict(H_out=(B, T, H), h_n=(B, H), c_n=(B, H), gates=(B, T, 4 * H),
                cells=(B, T, H), h_prev=(B, T, H), rec=(B, 4 * H)).items()}
    lstm.lstm_forward(*[cuda.to_device(a) for a in (X, W_ih, W_hh, b, h0, c0,
                                                     lengths)],
                      out["H_out"], out["h_n"], out["c_n"], out["gates"],
                      out["cells"], out["h_prev"], out["rec"])
    return out


def test_backward_matches_finite_differences_in_float64(loop):
    """``L = <H_out, R1> + <h_n, R2> + <c_n, R3>``: the kernels' gradients
    against central differences of the CUDA forward itself."""
    rng = np.random.default_rng(2)
    B, T, D, H = 3, 3, 2, 2
    X, W_ih, W_hh, b, h0, c0, lengths = _layer(rng, B, T, D, H, np.float64)
    R1 = rng.normal(size=(B, T, H))
    R2, R3 = rng.normal(size=(B, H)), rng.normal(size=(B, H))

    def loss(W_ih, W_hh):
        out = _forward(X, W_ih, W_hh, b, h0, c0, lengths, np.float64)
        return (np.sum(out["H_out"].copy_to_host() * R1)
                + np.sum(out["h_n"].copy_to_host() * R2)
                + np.sum(out["c_n"].copy_to_host() * R3))

    fwd = _forward(X, W_ih, W_hh, b, h0, c0, lengths, np.float64)
    dW_ih, dW_hh = cuda.to_device(np.zeros_like(W_ih)), cuda.to_device(
        np.zeros_like(W_hh))
    scratch = {name: cuda.to_device(np.zeros(shape)) for name, shape in
               dict(dX=X.shape, db=b.shape, dh0=(B, H), dc0=(B, H)).items()}
    lstm.lstm_backward(*[cuda.to_device(a) for a in (X, W_ih, W_hh, c0, lengths)],
                       fwd["gates"], fwd["cells"], fwd["h_prev"],
                       *[cuda.to_device(a) for a in (R1, R2, R3)],
                       scratch["dX"], dW_ih, dW_hh, scratch["db"],
                       scratch["dh0"], scratch["dc0"], fwd["gates"], False)
    eps = 1e-6
    for grad, which in ((dW_ih.copy_to_host(), 0), (dW_hh.copy_to_host(), 1)):
        for j, d in ((0, 0), (H + 1, 1), (2 * H, 0), (4 * H - 1, 1)):
            plus = [W_ih.copy(), W_hh.copy()]
            minus = [W_ih.copy(), W_hh.copy()]
            plus[which][j, d] += eps
            minus[which][j, d] -= eps
            numeric = (loss(*plus) - loss(*minus)) / (2 * eps)
            assert grad[j, d] == pytest.approx(numeric, rel=1e-6, abs=1e-8), \
                (which, j, d)
