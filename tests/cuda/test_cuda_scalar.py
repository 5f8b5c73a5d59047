"""The shared scalar math compiled as CUDA device functions gives the CPU
kernels' results (the same source, ``backends/_scalar.py``).

Equal to a few units in the last place, not bit for bit: the CPU policy
lets LLVM fuse multiply-adds (``contract``), and where a target fuses
differs (the simulator runs plain Python and fuses none).
"""

import numpy as np
import pytest
from numba import cuda

if not cuda.is_available():
    pytest.skip("needs an NVIDIA GPU or NUMBA_ENABLE_CUDASIM=1 (.ci/run runs "
                "this folder under the simulator)", allow_module_level=True)

from numlstm.backends.cpu import activations as cpu  # noqa: E402
from numlstm.backends.cuda import scalar as dev  # noqa: E402


def _ulps(dtype):
    return 4 * np.finfo(dtype).eps


@cuda.jit
def _unary(x, one, half, out):
    k = cuda.grid(1)
    if k < x.size:
        out[0, k] = dev.sigmoid(x[k], one)
        out[1, k] = dev.tanh(x[k])
        out[2, k] = dev.softplus(x[k], one)
        out[3, k] = dev.relu(x[k], one)
        out[4, k] = dev.relu_grad(x[k], x[k] + one, one)
        out[5, k] = dev.sigmoid_from_tanh(dev.tanh(half * x[k]), half)


@cuda.jit
def _cell(i, f, g, c_prev, o, dh, dc, one, out):
    k = cuda.grid(1)
    if k < i.size:
        c = dev.lstm_cell(i[k], f[k], g[k], c_prev[k])
        tc = dev.tanh(c)
        do, dc_total = dev.lstm_output_grads(dh[k], dc[k], o[k], tc, one)
        di, df, dg, dc_prev = dev.lstm_cell_grads(dc_total, i[k], f[k], g[k],
                                                  c_prev[k], one)
        out[0, k] = c
        out[1, k] = do
        out[2, k] = dc_total
        out[3, k] = di
        out[4, k] = df
        out[5, k] = dg
        out[6, k] = dc_prev


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_activations_match_the_cpu(dtype):
    x = np.array([-1e4, -30.0, -1.0, -1e-8, 0.0, 1e-8, 0.5, 30.0, 1e4], dtype)
    one, half = dtype(1.0), dtype(0.5)
    out = cuda.to_device(np.full((6, x.size), np.nan, dtype))
    _unary[1, 32](cuda.to_device(x), one, half, out)
    got = out.copy_to_host()
    want = np.array([[cpu.sigmoid_s(v, one) for v in x],
                     [cpu.tanh_s(v) for v in x],
                     [cpu.softplus_s(v, one) for v in x],
                     [cpu.relu_s(v, one) for v in x],
                     [cpu.relu_grad_s(v, v + one, one) for v in x],
                     [cpu.sigmoid_from_tanh(cpu.tanh_s(half * v), half)
                      for v in x]], dtype)
    np.testing.assert_allclose(got, want, rtol=_ulps(dtype), atol=_ulps(dtype))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_lstm_cell_and_its_gradients_match_the_cpu(dtype):
    rng = np.random.default_rng(0)
    i, f, o = (rng.uniform(size=16).astype(dtype) for _ in range(3))
    g, c_prev, dh, dc = (rng.normal(size=16).astype(dtype) for _ in range(4))
    one = dtype(1.0)
    out = cuda.to_device(np.full((7, 16), np.nan, dtype))
    _cell[1, 32](*[cuda.to_device(a) for a in (i, f, g, c_prev, o, dh, dc)],
                 one, out)
    got = out.copy_to_host()
    for k in range(16):
        c = cpu.lstm_cell(i[k], f[k], g[k], c_prev[k])
        do, dc_total = cpu.lstm_output_grads(dh[k], dc[k], o[k],
                                             cpu.tanh_s(c), one)
        rest = cpu.lstm_cell_grads(dc_total, i[k], f[k], g[k], c_prev[k], one)
        np.testing.assert_allclose(got[:, k], [c, do, dc_total, *rest],
                                   rtol=_ulps(dtype), atol=_ulps(dtype))
