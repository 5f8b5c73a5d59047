"""The CUDA convolutions against the numpy reference and finite differences."""

import numpy as np
import pytest
from numba import cuda

if not cuda.is_available():
    pytest.skip("needs an NVIDIA GPU or NUMBA_ENABLE_CUDASIM=1 (.ci/run runs "
                "this folder under the simulator)", allow_module_level=True)

import reference as ref  # noqa: E402

from numlstm.backends.cuda import conv  # noqa: E402


def _dev(*arrays):
    return [cuda.to_device(a) for a in arrays]


@pytest.mark.parametrize("dtype, tol", [(np.float64, 1e-12), (np.float32, 1e-5)])
@pytest.mark.parametrize("pad_left, pad_right", [(0, 0), (1, 1), (1, 0)])
def test_conv1d_matches_the_reference(pad_left, pad_right, dtype, tol):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(2, 5, 3)).astype(dtype)
    W = rng.normal(size=(4, 3, 3)).astype(dtype)
    b = rng.normal(size=4).astype(dtype)
    want = ref.conv1d_forward(X, W, b, pad_left, pad_right)
    out = cuda.to_device(np.full(want.shape, np.nan, dtype))
    conv.conv1d_forward(*_dev(X, W, b), pad_left, None, out)
    np.testing.assert_allclose(out.copy_to_host(), want, rtol=tol, atol=tol)
    dY = rng.normal(size=want.shape).astype(dtype)
    grads = _dev(*[np.full(a.shape, np.nan, dtype) for a in (X, W, b)])
    conv.conv1d_backward(*_dev(X, W, dY), pad_left, None, None, *grads)
    for got, w in zip(grads, ref.conv1d_backward(X, W, dY, pad_left, pad_right),
                      strict=True):
        np.testing.assert_allclose(got.copy_to_host(), w, rtol=tol, atol=tol)


@pytest.mark.parametrize("pads", [(0, 0, 0, 0), (1, 1, 1, 1)])
def test_conv2d_matches_the_reference(pads):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(2, 4, 5, 2))
    W = rng.normal(size=(3, 2, 3, 3))
    b = rng.normal(size=3)
    want = ref.conv2d_forward(X, W, b, pads)
    out = cuda.to_device(np.full(want.shape, np.nan))
    conv.conv2d_forward(*_dev(X, W, b), pads[0], pads[2], None, out)
    np.testing.assert_allclose(out.copy_to_host(), want, rtol=1e-12, atol=1e-12)
    dY = rng.normal(size=want.shape)
    grads = _dev(*[np.full(a.shape, np.nan) for a in (X, W, b)])
    conv.conv2d_backward(*_dev(X, W, dY), pads[0], pads[2], None, None, *grads)
    for got, w in zip(grads, ref.conv2d_backward(X, W, dY, pads), strict=True):
        np.testing.assert_allclose(got.copy_to_host(), w, rtol=1e-12, atol=1e-12)


def test_conv1d_weight_gradient_matches_finite_differences():
    rng = np.random.default_rng(2)
    X, W, b = rng.normal(size=(2, 4, 2)), rng.normal(size=(2, 2, 3)), \
        rng.normal(size=2)

    def forward(W):
        out = cuda.to_device(np.zeros((2, 4, 2)))
        conv.conv1d_forward(*_dev(X, W, b), 1, None, out)
        return out.copy_to_host()

    R = rng.normal(size=(2, 4, 2))
    grads = _dev(np.zeros_like(X), np.zeros_like(W), np.zeros_like(b))
    conv.conv1d_backward(*_dev(X, W, R), 1, None, None, *grads)
    dW = grads[1].copy_to_host()
    eps = 1e-6
    for idx in ((0, 0, 0), (1, 1, 2)):
        plus, minus = W.copy(), W.copy()
        plus[idx] += eps
        minus[idx] -= eps
        numeric = (np.sum(forward(plus) * R) - np.sum(forward(minus) * R)) / (2 * eps)
        assert dW[idx] == pytest.approx(numeric, rel=1e-7)
