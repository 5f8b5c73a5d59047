"""An estimator fitted and used through the CUDA backend gives the CPU's
results (to rounding): the kernels and the array-neutral network together.

The backend is registered here only: it is not yet registered for users.
One tiny fit, because the simulator runs each CUDA thread as an OS thread.
"""

import numpy as np
import pytest
from numba import config, cuda

if not cuda.is_available():
    pytest.skip("needs an NVIDIA GPU or NUMBA_ENABLE_CUDASIM=1 (.ci/run runs "
                "this folder under the simulator)", allow_module_level=True)

from numlstm import VanillaLSTMRegressor  # noqa: E402
from numlstm.backends import register_backend, unregister_backend  # noqa: E402
from numlstm.backends.cuda.backend import CUDABackend  # noqa: E402


@pytest.fixture
def cuda_backend(monkeypatch):
    if config.ENABLE_CUDASIM:
        # The simulator's host-side shapes refuse negative indices, which a
        # real device array's shape (a tuple) accepts and the network uses.
        from numba.cuda.simulator.cudadrv import devicearray

        monkeypatch.setattr(devicearray.FakeShape, "__getitem__",
                            tuple.__getitem__)
    register_backend("cuda", CUDABackend)
    yield
    unregister_backend("cuda")


def test_a_fit_through_the_cuda_backend_gives_the_cpu_results(cuda_backend):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(8, 4, 2))
    y = X[:, -1, 0]
    fitted = {}
    for backend in ("cpu", "cuda"):
        model = VanillaLSTMRegressor(units=3, max_iter=2, batch_size=4,
                                     random_state=0, dtype="float64",
                                     backend=backend)
        with pytest.warns(Warning):  # 2 epochs: not converged
            model.fit(X, y)
        assert model.backend_ == backend
        fitted[backend] = model
    cpu, gpu = fitted["cpu"], fitted["cuda"]
    np.testing.assert_allclose(gpu.loss_curve_, cpu.loss_curve_, rtol=1e-12)
    np.testing.assert_allclose(gpu.predict(X), cpu.predict(X), rtol=1e-12,
                               atol=1e-12)
    for name, w in cpu.get_weights().items():
        np.testing.assert_allclose(gpu.get_weights()[name], w, rtol=1e-11,
                                   atol=1e-12, err_msg=name)
