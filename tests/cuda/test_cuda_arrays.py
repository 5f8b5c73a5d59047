"""The CUDA backend's array operations against the CPU backend's.

The CPU operations are the NumPy expressions the network evaluated before
the contract, so they are the reference here. Element-wise operations,
gathers and merges must match exactly; the sums run in another order than
NumPy's pairwise sum and must match to the dtype's rounding. Tiny sizes:
the simulator runs one OS thread per CUDA thread.
"""

import numpy as np
import pytest
from numba import cuda

if not cuda.is_available():
    pytest.skip("needs an NVIDIA GPU or NUMBA_ENABLE_CUDASIM=1 (.ci/run runs "
                "this folder under the simulator)", allow_module_level=True)

from numlstm.backends.cpu import arrays as cpu  # noqa: E402
from numlstm.backends.cuda import arrays as gpu  # noqa: E402
from numlstm.backends.cuda._jit import launch_shape  # noqa: E402

DTYPES = [np.float32, np.float64]
rng = np.random.default_rng(0)


def both(op, *inputs, outputs):
    """Run ``op`` on the CPU and on the device; the outputs of each."""
    host_out = [np.full_like(o, np.nan) for o in outputs]
    getattr(cpu, op)(*inputs, *host_out)
    device_out = [cuda.to_device(np.full_like(o, np.nan)) for o in outputs]
    getattr(gpu, op)(*[cuda.to_device(np.ascontiguousarray(a))
                       if isinstance(a, np.ndarray) else a
                       for a in inputs], *device_out)
    return host_out, [d.copy_to_host() for d in device_out]


def assert_same(op, *inputs, outputs, rtol=0.0):
    host, device = both(op, *inputs, outputs=outputs)
    for h, d in zip(host, device, strict=True):
        if rtol:
            np.testing.assert_allclose(d, h, rtol=rtol, atol=rtol)
        else:
            np.testing.assert_array_equal(d, h)


def test_launch_shape_covers_every_item_with_whole_warps():
    for n in (1, 31, 33, 256, 257, 10**7):
        blocks, threads = launch_shape(n)
        assert threads % 32 == 0 and 32 <= threads <= 256
        assert blocks >= 1 and (blocks * threads >= n or blocks == 1024)


@pytest.mark.parametrize("dtype", DTYPES)
def test_elementwise(dtype):
    a = rng.normal(size=(3, 5, 2)).astype(dtype)
    b = rng.normal(size=(3, 5, 2)).astype(dtype)
    assert_same("copy", a, outputs=[a])
    assert_same("add", a, b, outputs=[a])
    assert_same("mul", a, b, outputs=[a])
    assert_same("broadcast", a[:, :1], outputs=[a])
    assert_same("broadcast", a[0, 0], outputs=[a[0]])
    out = cuda.to_device(np.zeros((4, 3), dtype))
    gpu.fill(out, 2.5)
    np.testing.assert_array_equal(out.copy_to_host(), 2.5)


def test_add_into_an_input_and_copy_of_a_strided_view():
    a = rng.normal(size=(4, 6))
    b = rng.normal(size=(4, 6))
    da, db = cuda.to_device(a), cuda.to_device(b)
    gpu.add(da, db, da)
    np.testing.assert_array_equal(da.copy_to_host(), a + b)
    out = cuda.to_device(np.zeros((4, 3)))
    gpu.copy(db[:, ::2], out)
    np.testing.assert_array_equal(out.copy_to_host(), b[:, ::2])
    row = cuda.to_device(np.zeros(4))
    gpu.copy(db[:, 1], row)
    np.testing.assert_array_equal(row.copy_to_host(), b[:, 1])


@pytest.mark.parametrize("dtype", DTYPES)
def test_gathers_and_reversal(dtype):
    x = rng.normal(size=(5, 4, 3)).astype(dtype)
    index = np.array([4, 0, 0, 2], dtype=np.int64)
    assert_same("take_rows", x, index, outputs=[x[:4]])
    lengths = np.array([4, 1, 3, 2, 4], dtype=np.int64)
    assert_same("reverse_steps", x, lengths, outputs=[x])
    w = rng.uniform(size=5).astype(dtype)
    assert_same("sequence_weights", w, lengths, outputs=[x[:, :, 0]])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("mode", ["concat", "sum", "mul", "ave"])
def test_merge_and_unmerge(mode, dtype):
    a = rng.normal(size=(2, 3, 4)).astype(dtype)
    b = rng.normal(size=(2, 3, 4)).astype(dtype)
    width = 8 if mode == "concat" else 4
    merged = np.empty((2, 3, width), dtype)
    assert_same("merge", a, b, mode, outputs=[merged])
    dY = rng.normal(size=merged.shape).astype(dtype)
    assert_same("unmerge", dY, a, b, mode, outputs=[a, b])


@pytest.mark.parametrize("dtype", DTYPES)
def test_sums_in_order(dtype):
    x = rng.normal(size=(3, 7, 4)).astype(dtype)
    tol = 1e-6 if dtype == np.float32 else 1e-14
    assert_same("sum_steps", x, outputs=[x[:, 0]], rtol=tol)
    assert_same("sum_rows", x[:, 2, :], outputs=[x[0, 0]], rtol=tol)


def test_accumulate_and_step_guard():
    total = cuda.to_device(np.array([1.0]))
    gpu.accumulate(total, cuda.to_device(np.array([2.0])), 3.0)
    assert total.copy_to_host()[0] == 7.0
    for loss, norm, flagged in ((1.0, 2.0, False), (np.nan, 2.0, True),
                                (1.0, np.inf, True)):
        status = cuda.to_device(np.zeros(3))
        gpu.step_guard(cuda.to_device(np.array([loss])),
                       cuda.to_device(np.array([norm])), status)
        got = status.copy_to_host()
        assert (got[0] == 1.0) == flagged
        if flagged:
            np.testing.assert_array_equal(got[1:], [loss, norm])
