"""Dense layer and matmul kernels against the NumPy oracle and finite differences."""

import numpy as np
import pytest
import reference as ref
from helpers import BE, DTYPES, assert_close, central_fd, nan_array, tol_for

from numlstm.backends.cpu import linalg

SHAPES = [(1, 1, 1), (1, 5, 3), (6, 1, 4), (7, 4, 5), (32, 16, 9)]  # (N, K, M)


def _case(seed, N, K, M, dtype):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(N, K)).astype(dtype)
    W = rng.normal(size=(M, K)).astype(dtype)
    b = rng.normal(size=M).astype(dtype)
    dY = rng.normal(size=(N, M)).astype(dtype)
    return X, W, b, dY


def _forward(X, W, b):
    out = nan_array((X.shape[0], W.shape[0]), X.dtype)
    BE.dense_forward(X, W, b, out)
    return out


def _backward(X, W, dY):
    dX = nan_array(X.shape, X.dtype)
    dW = nan_array(W.shape, X.dtype)
    db = nan_array((W.shape[0],), X.dtype)
    BE.dense_backward(X, W, dY, dX, dW, db)
    return dX, dW, db


def _f64(*arrays):
    return [np.asarray(a, np.float64) for a in arrays]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "N{}K{}M{}".format(*s))
def test_dense_forward_matches_reference(shape, dtype):
    X, W, b, _ = _case(1, *shape, dtype)
    out = _forward(X, W, b)
    assert out.dtype == dtype
    assert_close(out, ref.dense_forward(*_f64(X, W, b)), tol_for(dtype), "Y")


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "N{}K{}M{}".format(*s))
def test_dense_backward_matches_reference(shape, dtype):
    X, W, _, dY = _case(2, *shape, dtype)
    got = _backward(X, W, dY)
    want = ref.dense_backward(*_f64(X, W, dY))
    for name, g, w in zip(("dX", "dW", "db"), got, want, strict=True):
        assert g.dtype == dtype
        assert_close(g, w, tol_for(dtype), name)


def test_dense_backward_overwrites_outputs():
    X, W, _, dY = _case(3, 4, 3, 2, np.float64)
    first = _backward(X, W, dY)
    dX, dW, db = (np.full_like(a, 7.0) for a in first)
    BE.dense_backward(X, W, dY, dX, dW, db)
    for a, b in zip((dX, dW, db), first, strict=True):
        np.testing.assert_array_equal(a, b)


def test_dense_gradients_match_finite_differences():
    X, W, b, dY = _case(4, 3, 4, 2, np.float64)

    def loss():
        return float(np.sum(dY * _forward(X, W, b)))

    fd = central_fd(loss, {"X": X, "W": W, "b": b}, eps=1e-6)
    dX, dW, db = _backward(X, W, dY)
    assert_close(dX, fd["X"], 1e-6, "dX")
    assert_close(dW, fd["W"], 1e-6, "dW")
    assert_close(db, fd["b"], 1e-6, "db")


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("transpose_b", [False, True], ids=["C", "F"])
def test_matmul_into_matches_numpy(dtype, transpose_b):
    rng = np.random.default_rng(5)
    a = rng.normal(size=(7, 5)).astype(dtype)
    b = rng.normal(size=(3, 5) if transpose_b else (5, 3)).astype(dtype)
    rhs = b.T if transpose_b else b
    out = nan_array((7, 3), dtype)
    linalg.np_dot_into(a, rhs, out)
    assert_close(out, np.asarray(a, np.float64) @ np.asarray(rhs, np.float64),
                 tol_for(dtype), "a @ b")

