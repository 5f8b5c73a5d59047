"""The register-tiled product of the CPU kernels and the transposes that
feed it, against NumPy, and the property the LSTM kernels rely on: a row's
result does not depend on the other rows, whatever tiles, blocks or
prefetching the call uses."""

import numpy as np
import pytest
from helpers import DTYPES, assert_close, tol_for

from numlstm.backends.cpu import tile


def _operands(rng, M, K, N, dtype, transposed_a=False):
    """``A (M, K)`` (optionally a transposed view), ``W (K, >= N)`` with
    padded rows, and ``out (M, >= N)``, as the kernels allocate them."""
    itemsize = np.dtype(dtype).itemsize
    n_cols = tile.padded_width(N, itemsize)
    length = tile.row_length(n_cols, itemsize)
    A = rng.standard_normal((K, M) if transposed_a else (M, K)).astype(dtype)
    A = A.T if transposed_a else A
    W = np.zeros((K, length), dtype)
    W[:, :N] = rng.standard_normal((K, N))
    out = np.full((M, length), np.nan, dtype)
    return A, W, out, n_cols


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("M, K, N", [(1, 1, 1), (3, 5, 17), (7, 70, 130),
                                     (16, 72, 256), (9, 129, 80)])
@pytest.mark.parametrize("transposed_a", [False, True])
def test_tile_matmul_matches_numpy(M, K, N, dtype, transposed_a):
    rng = np.random.default_rng(0)
    A, W, out, n_cols = _operands(rng, M, K, N, dtype, transposed_a)
    tile.tile_matmul(A, W, out, 0, M, n_cols, K, False)
    want = A.astype(np.float64) @ W[:, :N].astype(np.float64)
    assert_close(out[:, :N], want, tol_for(dtype), "out")
    # accumulate: out += A @ W
    tile.tile_matmul(A, W, out, 0, M, n_cols, K, True)
    assert_close(out[:, :N], 2 * want, tol_for(dtype), "out")


@pytest.mark.parametrize("dtype", DTYPES)
def test_tile_matmul_writes_only_its_rows(dtype):
    rng = np.random.default_rng(1)
    A, W, out, n_cols = _operands(rng, 10, 20, 40, dtype)
    tile.tile_matmul(A, W, out, 3, 8, n_cols, 20, False)
    assert np.isnan(out[:3]).all() and np.isnan(out[8:]).all()
    assert np.isfinite(out[3:8, :n_cols]).all()


def _rows_alone_agree(A, W, out, n_cols, K):
    """Every row of ``out`` equals, bit for bit, that row computed alone."""
    alone = np.empty_like(out[:1])
    for r in (0, 1, out.shape[0] // 2, out.shape[0] - 1):
        tile.tile_matmul(A[r:r + 1], W, alone, 0, 1, n_cols, K, False)
        np.testing.assert_array_equal(alone[0, :n_cols], out[r, :n_cols])


@pytest.mark.parametrize("dtype", DTYPES)
def test_row_blocked_product_is_the_same_arithmetic(dtype):
    """``out`` beyond ``OUT_BLOCKED_FROM`` with a small ``W``: the rows run
    in blocks; results as NumPy's, and each row's bits as computed alone."""
    itemsize = np.dtype(dtype).itemsize
    N, K = 1024, 70
    M = tile.OUT_BLOCKED_FROM // (N * itemsize) + 5
    rng = np.random.default_rng(2)
    A, W, out, n_cols = _operands(rng, M, K, N, dtype)
    assert M * n_cols * itemsize > tile.OUT_BLOCKED_FROM
    tile.tile_matmul(A, W, out, 0, M, n_cols, K, False)
    want = A.astype(np.float64) @ W[:, :N].astype(np.float64)
    assert_close(out[:, :N], want, tol_for(dtype), "out")
    _rows_alone_agree(A, W, out, n_cols, K)


def test_long_k_blocks_are_the_same_arithmetic():
    """A large ``out`` and a ``W`` beyond ``W_REREAD_MAX``: longer blocks of
    ``k`` and prefetching; each row's bits as computed alone."""
    dtype = np.float32
    N = 512
    K = tile.W_REREAD_MAX // (tile.row_length(N, 4) * 4) + 3
    M = tile.OUT_BLOCKED_FROM // (N * 4) + 7
    rng = np.random.default_rng(3)
    A, W, out, n_cols = _operands(rng, M, K, N, dtype, transposed_a=True)
    assert K * W.strides[0] > tile.W_REREAD_MAX
    tile.tile_matmul(A, W, out, 0, M, n_cols, K, False)
    rows = [0, M // 3, M - 1]
    want = A[rows].astype(np.float64) @ W[:, :N].astype(np.float64)
    assert_close(out[rows, :N], want, tol_for(dtype), "out")
    _rows_alone_agree(A, W, out, n_cols, K)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("M, K", [(1, 1), (7, 3), (8, 5), (13, 8), (256, 64),
                                  (100, 300)])
def test_transpose_padded_is_the_transpose_with_zero_padding(M, K, dtype):
    W = np.random.default_rng(M + K).standard_normal((M, K)).astype(dtype)
    WT = tile.transpose_padded(W)
    assert WT.shape[0] == K and WT.shape[1] >= M and WT.dtype == dtype
    np.testing.assert_array_equal(WT[:, :M], W.T)
    assert not WT[:, M:].any()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_transpose_into_a_strided_view_at_an_offset(dtype):
    rng = np.random.default_rng(0)
    big = rng.standard_normal((30, 40)).astype(dtype)
    src = big[3:22, 5:16]  # 19 x 11, not contiguous
    dst = np.full((20, 25), np.nan, dtype)
    tile.transpose_into(src, dst, 4)
    np.testing.assert_array_equal(dst[4:15, :19], src.T)
    assert np.isnan(dst[:4]).all() and np.isnan(dst[15:]).all()
    assert np.isnan(dst[4:15, 19:]).all()
