"""The CUDA losses against the CPU kernels (the reference-checked ones)."""

import numpy as np
import pytest
from numba import cuda

if not cuda.is_available():
    pytest.skip("needs an NVIDIA GPU or NUMBA_ENABLE_CUDASIM=1 (.ci/run runs "
                "this folder under the simulator)", allow_module_level=True)

import reference as ref  # noqa: E402

from numlstm.backends.cpu import scalars as cpu  # noqa: E402
from numlstm.backends.cuda import losses as gpu  # noqa: E402


def _inputs(name, dtype, rng):
    logits = rng.normal(scale=3.0, size=(9, 3)).astype(dtype)
    logits[0] = [1e4, -1e4, 0.0]  # no overflow at extreme logits
    if name == "softmax_cross_entropy":
        target = rng.integers(0, 3, size=9).astype(np.int64)
    elif name == "mse_loss":
        target = rng.normal(size=(9, 3)).astype(dtype)
    else:
        target = rng.integers(0, 2, size=(9, 3)).astype(dtype)
    w = rng.uniform(size=9).astype(dtype)
    w[4] = 0.0
    return logits, target, w


@pytest.mark.parametrize("dtype, tol", [(np.float64, 1e-13), (np.float32, 1e-5)])
@pytest.mark.parametrize("name", ["mse_loss", "softmax_cross_entropy",
                                  "sigmoid_binary_cross_entropy"])
def test_losses_match_the_cpu(name, dtype, tol):
    logits, target, w = _inputs(name, dtype, np.random.default_rng(0))
    grad, out = np.full_like(logits, np.nan), np.zeros(1)
    getattr(cpu, name)(logits, target, w, grad, out)
    d_grad, d_out = cuda.to_device(np.full_like(logits, np.nan)), \
        cuda.to_device(np.zeros(1))
    getattr(gpu, name)(cuda.to_device(logits), cuda.to_device(target),
                       cuda.to_device(w), d_grad, d_out)
    assert np.isfinite(d_out.copy_to_host()[0])
    assert d_out.copy_to_host()[0] == pytest.approx(out[0], rel=tol)
    np.testing.assert_allclose(d_grad.copy_to_host(), grad, rtol=tol, atol=tol)


def test_mse_matches_the_reference():
    rng = np.random.default_rng(1)
    pred, true, w = rng.normal(size=(5, 2)), rng.normal(size=(5, 2)), \
        rng.uniform(size=5)
    out = cuda.to_device(np.zeros(1))
    gpu.mse_loss(*[cuda.to_device(a) for a in (pred, true, w)],
                 cuda.to_device(np.zeros((5, 2))), out)
    want = ref.mse_loss(pred, true, w)
    want = want[0] if isinstance(want, tuple) else want
    assert out.copy_to_host()[0] == pytest.approx(want, rel=1e-13)
