"""Device memory and the host edge of the CUDA backend."""

import numpy as np
import pytest
from numba import cuda

if not cuda.is_available():
    pytest.skip("needs an NVIDIA GPU or NUMBA_ENABLE_CUDASIM=1 (.ci/run runs "
                "this folder under the simulator)", allow_module_level=True)

from numlstm.backends.cuda import memory  # noqa: E402


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64])
def test_round_trip_and_allocation(dtype):
    host = np.arange(12).reshape(3, 4)
    d = memory.asarray(host, dtype)
    assert not memory.on_host(d) and memory.on_host(host)
    assert d.dtype == dtype and d.shape == (3, 4)
    assert memory.asarray(d, dtype) is d  # no copy of a device array
    np.testing.assert_array_equal(memory.to_host(d), host.astype(dtype))
    z = memory.zeros((2, 3), dtype)
    np.testing.assert_array_equal(memory.to_host(z), np.zeros((2, 3)))
    memory.upload(host[:2, :3] + 1, z)
    np.testing.assert_array_equal(memory.to_host(z), host[:2, :3] + 1)
    assert memory.empty((5,), dtype).shape == (5,)


def test_asarray_refuses_a_device_conversion():
    d = memory.asarray(np.ones(3), np.float64)
    with pytest.raises(TypeError, match="host round trip"):
        memory.asarray(d, np.float32)
