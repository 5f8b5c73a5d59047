"""The CUDA decoder inputs against the CPU operations."""

import numpy as np
import pytest
from numba import cuda

if not cuda.is_available():
    pytest.skip("needs an NVIDIA GPU or NUMBA_ENABLE_CUDASIM=1 (.ci/run runs "
                "this folder under the simulator)", allow_module_level=True)

from numlstm.backends.cpu import arrays as cpu  # noqa: E402
from numlstm.backends.cuda import decoder as gpu  # noqa: E402

rng = np.random.default_rng(0)


def _same(op, *inputs, shape):
    host = np.full(shape, np.nan)
    getattr(cpu, op)(*inputs, host)
    dev = cuda.to_device(np.full(shape, np.nan))
    getattr(gpu, op)(*[cuda.to_device(a) if isinstance(a, np.ndarray) else a
                       for a in inputs], dev)
    np.testing.assert_array_equal(dev.copy_to_host(), host)


def test_teacher_inputs_values_codes_and_binary():
    B, T = 3, 4
    _same("teacher_inputs", rng.normal(size=2), rng.normal(size=(B, T, 2)), 0,
          shape=(B, T, 2))
    _same("teacher_inputs", rng.normal(size=5),
          rng.integers(0, 5, size=(B, T)).astype(np.int64), 5, shape=(B, T, 5))
    _same("teacher_inputs", rng.normal(size=2),
          rng.integers(0, 2, size=(B, T, 1)).astype(np.float64), 2,
          shape=(B, T, 2))


def test_feedback_values_argmax_and_logistic():
    outputs = rng.normal(size=(4, 1, 3))
    outputs[0, 0] = [1.0, 1.0, 0.0]  # a tie: the first maximum, as NumPy
    _same("feedback", outputs, 0, shape=(4, 1, 3))
    _same("feedback", outputs, 3, shape=(4, 1, 3))
    _same("feedback", rng.normal(size=(4, 1, 1)), 2, shape=(4, 1, 2))
