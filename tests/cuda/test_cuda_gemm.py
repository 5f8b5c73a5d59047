"""The CUDA product against NumPy, tiled and untiled: every layout, a bias
or none, shapes that are not multiples of the tile and span several
blocks."""

import numpy as np
import pytest
from numba import config, cuda

if not cuda.is_available():
    pytest.skip("needs an NVIDIA GPU or NUMBA_ENABLE_CUDASIM=1 (.ci/run runs "
                "this folder under the simulator)", allow_module_level=True)

from numlstm.backends.cuda import gemm as gemm_module  # noqa: E402
from numlstm.backends.cuda.gemm import (  # noqa: E402
    TILE,
    column_sums,
    gemm,
    use_tiles,
)

#: (M, N, K): a remainder in M and K over two tiles of M and two of K, and
#: a product smaller than one tile
SHAPES = [(TILE + 3, 3, TILE + 5), (3, 2, 1)]
#: float32 on the small shape only: the simulator computes in Python
#: floats either way, so a second dtype checks little more there
CASES = [(shape, np.float64, 1e-13) for shape in SHAPES] + [
    (SHAPES[1], np.float32, 1e-5)]


@pytest.fixture(params=[True, False], ids=["tiled", "untiled"])
def tiled(request, monkeypatch):
    """Each path of :func:`gemm`, whatever the size rule would pick."""
    monkeypatch.setattr(gemm_module, "SMALL_BELOW",
                        0 if request.param else 1 << 62)
    return request.param


def test_the_size_rule():
    assert use_tiles(64 * 50, 4 * 64)  # the small fit's input projection
    assert not use_tiles(36, 16)  # an estimator test's


@pytest.mark.parametrize(("shape", "dtype", "tol"), CASES)
@pytest.mark.parametrize("a_t", [False, True])
@pytest.mark.parametrize("b_t", [False, True])
def test_gemm_matches_numpy(shape, a_t, b_t, dtype, tol, tiled):
    M, N, K = shape
    assert use_tiles(M, N) == tiled
    rng = np.random.default_rng(M + 7 * N + 13 * K + 2 * a_t + b_t)
    A = rng.normal(size=(K, M) if a_t else (M, K)).astype(dtype)
    B = rng.normal(size=(N, K) if b_t else (K, N)).astype(dtype)
    bias = rng.normal(size=N).astype(dtype)
    want = (A.T if a_t else A).astype(np.float64) @ (B.T if b_t else B)
    for with_bias in (False, True):
        C = cuda.to_device(np.full((M, N), np.nan, dtype))  # every one written
        gemm(cuda.to_device(A), cuda.to_device(B), C,
             bias=cuda.to_device(bias) if with_bias else None, a_t=a_t,
             b_t=b_t)
        got = C.copy_to_host()
        np.testing.assert_allclose(got, want + bias * with_bias, rtol=tol,
                                   atol=tol * np.sqrt(K))


def test_gemm_sums_each_element_in_order_from_its_bias(tiled):
    """The order the kernel promises: bias, then k = 0, 1, ... On the
    simulator a sequential float64 loop gives the same bits; a GPU fuses
    multiply-adds, which moves the last bits."""
    rng = np.random.default_rng(3)
    M, N, K = 5, 4, TILE + 2
    A, B = rng.normal(size=(M, K)), rng.normal(size=(K, N))
    bias = rng.normal(size=N)
    C = cuda.to_device(np.zeros((M, N)))
    gemm(cuda.to_device(A), cuda.to_device(B), C, bias=cuda.to_device(bias))
    want = np.empty((M, N))
    for m in range(M):
        for n in range(N):
            acc = bias[n]
            for k in range(K):
                acc += A[m, k] * B[k, n]
            want[m, n] = acc
    if config.ENABLE_CUDASIM:
        np.testing.assert_array_equal(C.copy_to_host(), want)
    else:
        np.testing.assert_allclose(C.copy_to_host(), want, rtol=1e-14)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_column_sums(dtype):
    G = np.random.default_rng(4).normal(size=(37, 5)).astype(dtype)
    out = cuda.to_device(np.full(5, np.nan, dtype))
    column_sums(cuda.to_device(G), out)
    np.testing.assert_allclose(out.copy_to_host(), G.sum(axis=0, dtype=np.float64),
                               rtol=1e-5 if dtype == np.float32 else 1e-13)
