"""The CUDA dense kernels against the numpy reference and finite
differences."""

import numpy as np
import pytest
from numba import cuda

if not cuda.is_available():
    pytest.skip("needs an NVIDIA GPU or NUMBA_ENABLE_CUDASIM=1 (.ci/run runs "
                "this folder under the simulator)", allow_module_level=True)

import reference as ref  # noqa: E402

from numlstm.backends.cuda import dense  # noqa: E402


def _forward(X, W, b):
    out = cuda.to_device(np.full((X.shape[0], W.shape[0]), np.nan, X.dtype))
    dense.dense_forward(cuda.to_device(X), cuda.to_device(W), cuda.to_device(b),
                        out)
    return out.copy_to_host()


@pytest.mark.parametrize("dtype, tol", [(np.float64, 1e-13), (np.float32, 1e-5)])
def test_dense_matches_the_reference(dtype, tol):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(7, 3)).astype(dtype)
    W = rng.normal(size=(2, 3)).astype(dtype)
    b = rng.normal(size=2).astype(dtype)
    dY = rng.normal(size=(7, 2)).astype(dtype)
    np.testing.assert_allclose(_forward(X, W, b), ref.dense_forward(X, W, b),
                               rtol=tol, atol=tol)
    grads = [cuda.to_device(np.full(a.shape, np.nan, dtype)) for a in (X, W, b)]
    dense.dense_backward(cuda.to_device(X), cuda.to_device(W),
                         cuda.to_device(dY), *grads)
    for got, want in zip(grads, ref.dense_backward(X, W, dY), strict=True):
        np.testing.assert_allclose(got.copy_to_host(), want, rtol=tol, atol=tol)


def test_dense_weight_gradient_matches_finite_differences():
    rng = np.random.default_rng(1)
    X, W, b = rng.normal(size=(4, 3)), rng.normal(size=(2, 3)), rng.normal(size=2)
    R = rng.normal(size=(4, 2))
    grads = [cuda.to_device(np.zeros(a.shape)) for a in (X, W, b)]
    dense.dense_backward(cuda.to_device(X), cuda.to_device(W),
                         cuda.to_device(R), *grads)
    dW = grads[1].copy_to_host()
    eps = 1e-6
    for j, d in ((0, 0), (1, 2)):
        plus, minus = W.copy(), W.copy()
        plus[j, d] += eps
        minus[j, d] -= eps
        numeric = (np.sum(_forward(X, plus, b) * R)
                   - np.sum(_forward(X, minus, b) * R)) / (2 * eps)
        assert dW[j, d] == pytest.approx(numeric, rel=1e-7)
