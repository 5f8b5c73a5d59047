"""The CUDA L2 penalty and update guard against the CPU operations."""

import numpy as np
import pytest
from numba import cuda

if not cuda.is_available():
    pytest.skip("needs an NVIDIA GPU or NUMBA_ENABLE_CUDASIM=1 (.ci/run runs "
                "this folder under the simulator)", allow_module_level=True)

from numlstm.backends.cpu import arrays as cpu  # noqa: E402
from numlstm.backends.cuda import training as gpu  # noqa: E402


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_l2_penalty(dtype):
    rng = np.random.default_rng(0)
    theta = rng.normal(size=600).astype(dtype)
    grad = rng.normal(size=600).astype(dtype)
    segments = np.array([[0, 10], [50, 590]], np.int64)
    host_grad, host_out = grad.copy(), np.array([1.0])
    cpu.l2_penalty(theta, host_grad, [tuple(s) for s in segments], 1e-2, host_out)
    d_grad, d_out = cuda.to_device(grad), cuda.to_device(np.array([1.0]))
    gpu.l2_penalty(cuda.to_device(theta), d_grad, cuda.to_device(segments), 1e-2,
                   d_out)
    np.testing.assert_array_equal(d_grad.copy_to_host(), host_grad)
    assert d_out.copy_to_host()[0] == pytest.approx(host_out[0], rel=1e-14)


def test_guard_update_restores_only_a_non_finite_update():
    backup = np.arange(5.0)
    for theta, status, restored in ((np.ones(5), 0.0, False),
                                    (np.array([1, np.nan, 1, 1, 1.0]), 0.0, True),
                                    (np.array([1, np.inf, 1, 1, 1.0]), 1.0, False)):
        d_theta = cuda.to_device(theta)
        d_status = cuda.to_device(np.array([status, 0, 0]))
        gpu.guard_update(d_theta, cuda.to_device(backup), d_status)
        host_theta, host_status = theta.copy(), np.array([status, 0, 0])
        cpu.guard_update(host_theta, backup, host_status)
        np.testing.assert_array_equal(d_theta.copy_to_host(), host_theta)
        np.testing.assert_array_equal(d_status.copy_to_host(), host_status)
        assert (d_status.copy_to_host()[0] == 2.0) == restored
