"""CUDA ReLU and max-pooling against the CPU kernels."""

import numpy as np
import pytest
from numba import cuda

if not cuda.is_available():
    pytest.skip("needs an NVIDIA GPU or NUMBA_ENABLE_CUDASIM=1 (.ci/run runs "
                "this folder under the simulator)", allow_module_level=True)

from numlstm.backends.cpu import activations, pooling  # noqa: E402
from numlstm.backends.cuda import pooling as gpu  # noqa: E402


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_relu(dtype):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(3, 4, 2)).astype(dtype)
    X[0, 0, 0] = np.nan
    X[0, 0, 1] = 0.0
    dY = rng.normal(size=X.shape).astype(dtype)
    out, dX = np.empty_like(X), np.empty_like(X)
    activations.relu_forward(X, out)
    activations.relu_backward(X, dY, dX)
    d_out, d_dX = cuda.to_device(np.empty_like(X)), cuda.to_device(np.empty_like(X))
    gpu.relu_forward(cuda.to_device(X), d_out)
    gpu.relu_backward(cuda.to_device(X), cuda.to_device(dY), d_dX)
    np.testing.assert_array_equal(d_out.copy_to_host(), out)
    np.testing.assert_array_equal(d_dX.copy_to_host(), dX)


@pytest.mark.parametrize("dims", [1, 2])
def test_maxpool_forward_and_backward(dims):
    rng = np.random.default_rng(1)
    pool = 2
    shape = (2, 5, 3) if dims == 1 else (2, 5, 4, 3)  # dropped tail / rows
    X = rng.normal(size=shape)
    X.flat[7] = np.nan
    out_shape = (shape[0], *[s // pool for s in shape[1:-1]], shape[-1])
    forward = getattr(pooling, f"maxpool{dims}d_forward")
    backward = getattr(pooling, f"maxpool{dims}d_backward")
    out, argmax = np.empty(out_shape), np.empty(out_shape, np.int64)
    forward(X, pool, out, argmax)
    dY = rng.normal(size=out_shape)
    dX = np.empty_like(X)
    backward(dY, argmax, dX)
    d_out = cuda.to_device(np.empty(out_shape))
    d_arg = cuda.to_device(np.empty(out_shape, np.int64))
    getattr(gpu, f"maxpool{dims}d_forward")(cuda.to_device(X), pool, d_out, d_arg)
    np.testing.assert_array_equal(d_out.copy_to_host(), out)
    np.testing.assert_array_equal(d_arg.copy_to_host(), argmax)
    d_dX = cuda.to_device(np.full_like(X, np.nan))
    gpu.maxpool_backward(cuda.to_device(dY), d_arg, d_dX)
    np.testing.assert_array_equal(d_dX.copy_to_host(), dX)
