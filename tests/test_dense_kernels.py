"""Dense layer and matmul kernels against the NumPy oracle and finite differences.

The dense tests run on every available backend (the ``backend`` fixture); the
matmul one is CPU-only.
"""

import numpy as np
import pytest
import reference as ref
from helpers import (
    DTYPES,
    assert_close,
    central_fd,
    filled,
    host,
    nan_array,
    nans,
    on,
    tol_for,
)

from numlstm.backends.cpu import linalg

SHAPES = [(1, 1, 1), (1, 5, 3), (6, 1, 4), (7, 4, 5), (32, 16, 9)]  # (N, K, M)


def _case(seed, N, K, M, dtype):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(N, K)).astype(dtype)
    W = rng.normal(size=(M, K)).astype(dtype)
    b = rng.normal(size=M).astype(dtype)
    dY = rng.normal(size=(N, M)).astype(dtype)
    return X, W, b, dY


def _forward(be, X, W, b):
    """``be``'s forward on host arrays; the output read back."""
    out = nans(be, (X.shape[0], W.shape[0]), X.dtype)
    be.dense_forward(*on(be, X, W, b), out)
    return host(be, out)


def _backward(be, X, W, dY):
    """``be``'s backward on host arrays; ``(dX, dW, db)`` read back."""
    dX = nans(be, X.shape, X.dtype)
    dW = nans(be, W.shape, X.dtype)
    db = nans(be, (W.shape[0],), X.dtype)
    be.dense_backward(*on(be, X, W, dY), dX, dW, db)
    return host(be, dX, dW, db)


def _f64(*arrays):
    return [np.asarray(a, np.float64) for a in arrays]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "N{}K{}M{}".format(*s))
def test_dense_forward_matches_reference(shape, dtype, backend):
    X, W, b, _ = _case(1, *shape, dtype)
    out = _forward(backend, X, W, b)
    assert out.dtype == dtype
    assert_close(out, ref.dense_forward(*_f64(X, W, b)), tol_for(dtype), "Y")


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "N{}K{}M{}".format(*s))
def test_dense_backward_matches_reference(shape, dtype, backend):
    X, W, _, dY = _case(2, *shape, dtype)
    got = _backward(backend, X, W, dY)
    want = ref.dense_backward(*_f64(X, W, dY))
    for name, g, w in zip(("dX", "dW", "db"), got, want, strict=True):
        assert g.dtype == dtype
        assert_close(g, w, tol_for(dtype), name)


def test_dense_backward_overwrites_outputs(backend):
    X, W, _, dY = _case(3, 4, 3, 2, np.float64)
    first = _backward(backend, X, W, dY)
    dX, dW, db = (filled(backend, a.shape, a.dtype, 7.0) for a in first)
    backend.dense_backward(*on(backend, X, W, dY), dX, dW, db)
    for a, b in zip(host(backend, dX, dW, db), first, strict=True):
        np.testing.assert_array_equal(a, b)


def test_dense_gradients_match_finite_differences(backend):
    X, W, b, dY = _case(4, 3, 4, 2, np.float64)

    def loss():
        return float(np.sum(dY * _forward(backend, X, W, b)))

    fd = central_fd(loss, {"X": X, "W": W, "b": b}, eps=1e-6)
    dX, dW, db = _backward(backend, X, W, dY)
    assert_close(dX, fd["X"], 1e-6, "dX")
    assert_close(dW, fd["W"], 1e-6, "dW")
    assert_close(db, fd["b"], 1e-6, "db")


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("transpose_b", [False, True], ids=["C", "F"])
def test_matmul_into_matches_numpy(dtype, transpose_b):
    # CPU-only: np_dot_into is a CPU helper, not part of the backend contract
    rng = np.random.default_rng(5)
    a = rng.normal(size=(7, 5)).astype(dtype)
    b = rng.normal(size=(3, 5) if transpose_b else (5, 3)).astype(dtype)
    rhs = b.T if transpose_b else b
    out = nan_array((7, 3), dtype)
    linalg.np_dot_into(a, rhs, out)
    assert_close(out, np.asarray(a, np.float64) @ np.asarray(rhs, np.float64),
                 tol_for(dtype), "a @ b")

