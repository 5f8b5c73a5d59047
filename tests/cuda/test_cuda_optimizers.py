"""The CUDA optimiser steps, norm and clipping against the CPU kernels."""

import numpy as np
import pytest
from numba import cuda

if not cuda.is_available():
    pytest.skip("needs an NVIDIA GPU or NUMBA_ENABLE_CUDASIM=1 (.ci/run runs "
                "this folder under the simulator)", allow_module_level=True)

from numlstm.backends.cpu import scalars as cpu  # noqa: E402
from numlstm.backends.cuda import optimizers as gpu  # noqa: E402

rng = np.random.default_rng(0)


def _run(step, dtype, *args, n=37, status=0.0):
    """The step on copies of the same state on both backends."""
    state = [rng.normal(size=n).astype(dtype) for _ in range(4)]
    state[2:] = [np.abs(a) for a in state[2:]]  # second moments are >= 0
    host = [a.copy() for a in state]
    getattr(cpu, step)(*host[:_N_STATE[step]], *args, np.array([status, 0, 0]))
    dev = [cuda.to_device(a) for a in state]
    getattr(gpu, step)(*dev[:_N_STATE[step]], *args,
                       cuda.to_device(np.array([status, 0.0, 0.0])))
    return state, host, [d.copy_to_host() for d in dev]


_N_STATE = {"sgd_step": 3, "rmsprop_step": 3, "adam_step": 4}
_ARGS = {"sgd_step": (0.1, 0.9, True), "rmsprop_step": (0.01, 0.9, 1e-8),
         "adam_step": (3, 1e-3, 0.9, 0.999, 1e-8)}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("step", sorted(_ARGS))
def test_steps_match_the_cpu_and_honour_the_status(step, dtype):
    _, host, dev = _run(step, dtype, *_ARGS[step])
    tol = 4 * np.finfo(dtype).eps
    for h, d in zip(host, dev, strict=False):
        np.testing.assert_allclose(d, h, rtol=tol, atol=tol)
    before, _, dev = _run(step, dtype, *_ARGS[step], status=1.0)
    for b, d in zip(before, dev, strict=False):
        np.testing.assert_array_equal(d, b)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_norm_and_clipping(dtype):
    g = rng.normal(size=300).astype(dtype)  # more elements than threads
    out = cuda.to_device(np.zeros(1))
    gpu.global_norm(cuda.to_device(g), out)
    want = np.sqrt(np.sum(g.astype(np.float64) ** 2))
    assert out.copy_to_host()[0] == pytest.approx(want, rel=1e-14)
    d = cuda.to_device(g)
    gpu.clip_grad_norm(d, 1.0, out)
    host = g.copy()
    expect = np.zeros(1)
    cpu.clip_grad_norm(host, 1.0, expect)
    assert out.copy_to_host()[0] == pytest.approx(expect[0], rel=1e-14)
    np.testing.assert_allclose(d.copy_to_host(), host, rtol=1e-6)
    bad = g.copy()
    bad[3] = np.inf
    d = cuda.to_device(bad)
    gpu.clip_grad_norm(d, 1.0, out)
    assert out.copy_to_host()[0] == np.inf
    np.testing.assert_array_equal(d.copy_to_host(), bad)
