"""The CUDA tests' shared fixtures: each of the LSTM layer's kernels forced,
whatever the sizes would pick."""

import pytest
from numba import cuda

if cuda.is_available():
    from numlstm.backends.cuda import gemm, lstm


@pytest.fixture(params=[False, True], ids=["untiled", "tiled"])
def tiled(request, monkeypatch):
    """The layer's products each way (:func:`gemm.use_tiles` would pick the
    untiled one at these sizes)."""
    if request.param:
        monkeypatch.setattr(gemm, "SMALL_BELOW", 0)
    return request.param


@pytest.fixture(params=["rows", "cooperative"])
def loop(request, monkeypatch):
    """The layer's time loop in each kernel, whatever :func:`lstm.time_loop`
    would pick at these sizes; the cooperative one in blocks of 8 threads,
    so that each thread takes two or three ``(row, unit)`` items."""
    monkeypatch.setattr(lstm, "time_loop", lambda hidden, itemsize: request.param)
    if request.param == "cooperative":
        monkeypatch.setattr(lstm, "_threads", lambda items: 8)
    return request.param
