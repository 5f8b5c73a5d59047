"""The CUDA LSTM forward kernel against the numpy reference, ragged lengths
and initial state included, over more than one block of rows."""

import numpy as np
import pytest
from numba import cuda

if not cuda.is_available():
    pytest.skip("needs an NVIDIA GPU or NUMBA_ENABLE_CUDASIM=1 (.ci/run runs "
                "this folder under the simulator)", allow_module_level=True)

import reference as ref  # noqa: E402

from numlstm.backends.cuda import lstm  # noqa: E402
from numlstm.backends.cuda.plan import ROWS_PER_BLOCK  # noqa: E402


@pytest.mark.parametrize("dtype, tol", [(np.float64, 1e-12), (np.float32, 1e-5)])
def test_forward_matches_the_reference(dtype, tol):
    rng = np.random.default_rng(0)
    B, T, D, H = ROWS_PER_BLOCK + 3, 4, 3, 2  # two blocks, the second partial
    X = rng.normal(size=(B, T, D)).astype(dtype)
    W_ih = rng.normal(scale=0.5, size=(4 * H, D)).astype(dtype)
    W_hh = rng.normal(scale=0.5, size=(4 * H, H)).astype(dtype)
    b = rng.normal(scale=0.1, size=4 * H).astype(dtype)
    h0, c0 = (rng.normal(size=(B, H)).astype(dtype) for _ in range(2))
    lengths = rng.integers(1, T + 1, size=B).astype(np.int64)
    lengths[0] = T
    d = {name: cuda.to_device(a) for name, a in
         dict(X=X, W_ih=W_ih, W_hh=W_hh, b=b, h0=h0, c0=c0,
              lengths=lengths).items()}
    out = {name: cuda.to_device(np.full(shape, np.nan, dtype)) for name, shape in
           dict(H_out=(B, T, H), h_n=(B, H), c_n=(B, H), gates=(B, T, 4 * H),
                cells=(B, T, H), h_prev=(B, T, H), rec=(B, 4 * H)).items()}
    lstm.lstm_forward(d["X"], d["W_ih"], d["W_hh"], d["b"], d["h0"], d["c0"],
                      d["lengths"], out["H_out"], out["h_n"], out["c_n"],
                      out["gates"], out["cells"], out["h_prev"], out["rec"])
    H_out, h_n, c_n, (_, _, _, steps) = ref.lstm_forward(X, W_ih, W_hh, b, h0,
                                                         c0, lengths)
    got = {name: a.copy_to_host() for name, a in out.items()}
    np.testing.assert_allclose(got["H_out"], H_out, rtol=tol, atol=tol)
    np.testing.assert_allclose(got["h_n"], h_n, rtol=tol, atol=tol)
    np.testing.assert_allclose(got["c_n"], c_n, rtol=tol, atol=tol)
    for t, (h_prev, _, i, f, g, o, c_new, live) in enumerate(steps):
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
