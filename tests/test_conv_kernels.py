"""Convolution, ReLU and max-pooling kernels against the NumPy oracle.

Checked three ways: against ``tests/reference.py`` in float64 and float32,
against ``scipy.signal.correlate`` (the forward pass of a convolution layer
is a cross-correlation summed over channels), and by central finite
differences in float64. Every test runs on each available backend (the
``backend`` fixture) but the one of the ``cols`` layout, which is the CPU
kernel's own.
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
    nans,
    on,
    tol_for,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import signal

from numlstm.backends import resolve

PADDINGS = ("valid", "same")

#: (N, L, C, F, K): odd and even K, K = 1, K = L, C > 1, F > 1, N > 1
CONV1D_SHAPES = [(1, 1, 1, 1, 1), (2, 7, 3, 4, 3), (3, 6, 2, 3, 4),
                 (2, 5, 1, 2, 5), (1, 8, 2, 1, 2)]
#: (N, H, W, C, F, KH, KW)
CONV2D_SHAPES = [(1, 3, 4, 1, 1, 1, 1), (2, 5, 6, 2, 3, 3, 3),
                 (2, 4, 5, 3, 2, 2, 3), (1, 6, 5, 1, 4, 4, 2)]


def _ids(names):
    return lambda s: "".join(f"{n}{v}" for n, v in zip(names, s, strict=True))


def pads(K, padding):
    """``(before, after)`` zeros along one axis, the PyTorch/Keras convention."""
    if padding == "valid":
        return 0, 0
    before = (K - 1) // 2
    return before, K - 1 - before


def _normal(rng, shape, dtype):
    return np.ascontiguousarray(rng.normal(size=shape), dtype=dtype)


def _f64(*arrays):
    return [np.asarray(a, np.float64) for a in arrays]


# ------------------------------------------------------------------ conv1d

def conv1d_case(seed, N, L, C, F, K, padding, dtype=np.float64):
    rng = np.random.default_rng(seed)
    L_out = L + sum(pads(K, padding)) - K + 1
    return {
        "X": _normal(rng, (N, L, C), dtype),
        "W": _normal(rng, (F, C, K), dtype),
        "b": _normal(rng, (F,), dtype),
        "dY": _normal(rng, (N, L_out, F), dtype),
        "pad": pads(K, padding),
    }


def conv1d_forward(case, be):
    """``be``'s kernel on NaN-filled ``out`` and ``cols``; both read back."""
    X, W = case["X"], case["W"]
    N, F, C, K = X.shape[0], *W.shape
    L_out = case["dY"].shape[1]
    out = nans(be, (N, L_out, F), X.dtype)
    cols = nans(be, (N * L_out, C * K), X.dtype)
    be.conv1d_forward(*on(be, X, W, case["b"]), case["pad"][0], cols, out)
    return host(be, out, cols)


def conv1d_backward(case, cols, be):
    """``be``'s backward given the forward's ``cols``; gradients read back."""
    X, W, dY = case["X"], case["W"], case["dY"]
    dX, dW = nans(be, X.shape, X.dtype), nans(be, W.shape, X.dtype)
    db = nans(be, case["b"].shape, X.dtype)
    be.conv1d_backward(*on(be, X, W, dY), case["pad"][0], on(be, cols),
                       nans(be, cols.shape, X.dtype), dX, dW, db)
    return host(be, dX, dW, db)


def check_conv1d(case, be, tol):
    out, cols = conv1d_forward(case, be)
    assert out.dtype == case["X"].dtype
    X, W, b, dY = _f64(case["X"], case["W"], case["b"], case["dY"])
    assert_close(out, ref.conv1d_forward(X, W, b, *case["pad"]), tol, "out")
    got = conv1d_backward(case, cols, be)
    want = ref.conv1d_backward(X, W, dY, *case["pad"])
    for name, g, w in zip(("dX", "dW", "db"), got, want, strict=True):
        assert g.dtype == case["X"].dtype
        assert_close(g, w, tol, name)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("padding", PADDINGS)
@pytest.mark.parametrize("shape", CONV1D_SHAPES, ids=_ids("NLCFK"))
def test_conv1d_matches_reference(shape, padding, dtype, backend):
    check_conv1d(conv1d_case(1, *shape, padding, dtype), backend,
                 tol_for(dtype))


@pytest.mark.parametrize("padding", PADDINGS)
def test_conv1d_cols_layout(padding):
    """Row ``n*L_out + t`` of ``cols`` is the window, channel-major then k
    (CPU-only: the contract leaves the scratch's layout to the backend)."""
    case = conv1d_case(2, 2, 6, 3, 2, 3, padding)
    _, cols = conv1d_forward(case, resolve("cpu"))
    before, after = case["pad"]
    X = case["X"]
    Xp = np.pad(X, ((0, 0), (before, after), (0, 0)))
    L_out = case["dY"].shape[1]
    for n in range(X.shape[0]):
        for t in range(L_out):
            np.testing.assert_array_equal(cols[n * L_out + t],
                                          Xp[n, t:t + 3, :].T.ravel())


@pytest.mark.parametrize("padding", PADDINGS)
def test_conv1d_forward_matches_scipy_correlate(padding, backend):
    case = conv1d_case(3, 2, 9, 3, 4, 4, padding)
    out, _ = conv1d_forward(case, backend)
    X, W, b = case["X"], case["W"], case["b"]
    Xp = np.pad(X, ((0, 0), case["pad"], (0, 0)))
    want = np.empty_like(out)
    for n in range(X.shape[0]):
        for f in range(W.shape[0]):
            want[n, :, f] = b[f] + sum(
                signal.correlate(Xp[n, :, c], W[f, c], mode="valid")
                for c in range(X.shape[2]))
    assert_close(out, want, 1e-10, "out")


@pytest.mark.parametrize("padding", PADDINGS)
@pytest.mark.parametrize("K", [2, 3])
def test_conv1d_gradients_match_finite_differences(K, padding, backend):
    case = conv1d_case(4, 2, 5, 2, 3, K, padding)

    def loss():
        return float(np.sum(case["dY"] * conv1d_forward(case, backend)[0]))

    fd = central_fd(loss, {k: case[k] for k in ("X", "W", "b")}, eps=1e-6)
    dX, dW, db = conv1d_backward(case, conv1d_forward(case, backend)[1],
                                 backend)
    assert_close(dX, fd["X"], 1e-7, "dX")
    assert_close(dW, fd["W"], 1e-7, "dW")
    assert_close(db, fd["b"], 1e-7, "db")


@st.composite
def conv1d_problems(draw):
    padding = draw(st.sampled_from(PADDINGS))
    L = draw(st.integers(1, 8))
    K = draw(st.integers(1, L if padding == "valid" else L + 2))
    N = draw(st.integers(1, 3))
    C = draw(st.integers(1, 3))
    F = draw(st.integers(1, 3))
    seed = draw(st.integers(0, 2**32 - 1))
    return conv1d_case(seed, N, L, C, F, K, padding)


# The health check is for fixtures that need resetting per example; the
# backend object is one shared, stateless object.
@settings(max_examples=50, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(conv1d_problems())
def test_conv1d_property_matches_reference(backend, case):
    check_conv1d(case, backend, 1e-10)


# ------------------------------------------------------------------ conv2d

def conv2d_case(seed, N, H, W, C, F, KH, KW, padding, dtype=np.float64):
    rng = np.random.default_rng(seed)
    (top, bottom), (left, right) = pads(KH, padding), pads(KW, padding)
    H_out, W_out = H + top + bottom - KH + 1, W + left + right - KW + 1
    return {
        "X": _normal(rng, (N, H, W, C), dtype),
        "W": _normal(rng, (F, C, KH, KW), dtype),
        "b": _normal(rng, (F,), dtype),
        "dY": _normal(rng, (N, H_out, W_out, F), dtype),
        "pad": (top, bottom, left, right),
    }


def conv2d_forward(case, be):
    """As :func:`conv1d_forward`."""
    X, W = case["X"], case["W"]
    N, (F, C, KH, KW) = X.shape[0], W.shape
    _, H_out, W_out, _ = case["dY"].shape
    out = nans(be, (N, H_out, W_out, F), X.dtype)
    cols = nans(be, (N * H_out * W_out, C * KH * KW), X.dtype)
    be.conv2d_forward(*on(be, X, W, case["b"]), case["pad"][0],
                      case["pad"][2], cols, out)
    return host(be, out, cols)


def conv2d_backward(case, cols, be):
    """As :func:`conv1d_backward`."""
    X, W, dY = case["X"], case["W"], case["dY"]
    dX, dW = nans(be, X.shape, X.dtype), nans(be, W.shape, X.dtype)
    db = nans(be, case["b"].shape, X.dtype)
    be.conv2d_backward(*on(be, X, W, dY), case["pad"][0], case["pad"][2],
                       on(be, cols), nans(be, cols.shape, X.dtype),
                       dX, dW, db)
    return host(be, dX, dW, db)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("padding", PADDINGS)
@pytest.mark.parametrize("shape", CONV2D_SHAPES, ids=_ids("NHWCFPQ"))
def test_conv2d_matches_reference(shape, padding, dtype, backend):
    case = conv2d_case(5, *shape, padding, dtype)
    tol = tol_for(dtype)
    X, W, b, dY = _f64(case["X"], case["W"], case["b"], case["dY"])
    out, cols = conv2d_forward(case, backend)
    assert out.dtype == dtype
    assert_close(out, ref.conv2d_forward(X, W, b, case["pad"]), tol, "out")
    got = conv2d_backward(case, cols, backend)
    want = ref.conv2d_backward(X, W, dY, case["pad"])
    for name, g, w in zip(("dX", "dW", "db"), got, want, strict=True):
        assert g.dtype == dtype
        assert_close(g, w, tol, name)


@pytest.mark.parametrize("padding", PADDINGS)
def test_conv2d_forward_matches_scipy_correlate(padding, backend):
    case = conv2d_case(6, 2, 6, 7, 2, 3, 3, 2, padding)
    out, _ = conv2d_forward(case, backend)
    X, W, b = case["X"], case["W"], case["b"]
    top, bottom, left, right = case["pad"]
    Xp = np.pad(X, ((0, 0), (top, bottom), (left, right), (0, 0)))
    want = np.empty_like(out)
    for n in range(X.shape[0]):
        for f in range(W.shape[0]):
            want[n, :, :, f] = b[f] + sum(
                signal.correlate(Xp[n, :, :, c], W[f, c], mode="valid")
                for c in range(X.shape[3]))
    assert_close(out, want, 1e-10, "out")


@pytest.mark.parametrize("padding", PADDINGS)
def test_conv2d_gradients_match_finite_differences(padding, backend):
    case = conv2d_case(7, 2, 4, 5, 2, 2, 2, 3, padding)

    def loss():
        return float(np.sum(case["dY"] * conv2d_forward(case, backend)[0]))

    fd = central_fd(loss, {k: case[k] for k in ("X", "W", "b")}, eps=1e-6)
    dX, dW, db = conv2d_backward(case, conv2d_forward(case, backend)[1],
                                 backend)
    assert_close(dX, fd["X"], 1e-7, "dX")
    assert_close(dW, fd["W"], 1e-7, "dW")
    assert_close(db, fd["b"], 1e-7, "db")


# -------------------------------------------------------------------- relu

def _away_from_zero(rng, shape, dtype=np.float64):
    """Normal values pushed at least 0.1 away from 0 (no kinks within eps)."""
    x = rng.normal(size=shape)
    return np.ascontiguousarray(np.sign(x) * (0.1 + np.abs(x)), dtype=dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(2, 5, 3), (2, 3, 4, 2)], ids=["3d", "4d"])
def test_relu_matches_reference(shape, dtype, backend):
    rng = np.random.default_rng(8)
    X = _normal(rng, shape, dtype)
    X.reshape(-1)[:2] = 0.0            # the kink itself: value 0, gradient 0
    dY = _normal(rng, shape, dtype)
    out, dX = nans(backend, shape, dtype), nans(backend, shape, dtype)
    backend.relu_forward(on(backend, X), out)
    backend.relu_backward(*on(backend, X, dY), dX)
    out, dX = host(backend, out, dX)
    assert out.dtype == dX.dtype == dtype
    assert_close(out, ref.relu_forward(X), tol_for(dtype), "out")
    assert_close(dX, ref.relu_backward(X, dY), tol_for(dtype), "dX")
    assert np.all(dX.reshape(-1)[:2] == 0.0)


def test_relu_gradient_matches_finite_differences(backend):
    rng = np.random.default_rng(9)
    X = _away_from_zero(rng, (2, 5, 3))
    dY = rng.normal(size=X.shape)
    out = backend.empty(X.shape, X.dtype)

    def loss():
        backend.relu_forward(on(backend, X), out)
        return float(np.sum(dY * backend.to_host(out)))

    fd = central_fd(loss, {"X": X}, eps=1e-6)
    dX = nans(backend, X.shape, X.dtype)
    backend.relu_backward(*on(backend, X, dY), dX)
    assert_close(backend.to_host(dX), fd["X"], 1e-7, "dX")


# ----------------------------------------------------------------- maxpool

def _distinct(rng, shape, dtype=np.float64):
    """Values 0.1 apart in random order: no ties, none within eps of another."""
    size = int(np.prod(shape))
    x = 0.1 * (rng.permutation(size) - size / 2)
    return np.ascontiguousarray(x.reshape(shape), dtype=dtype)


def maxpool1d(X, pool, be):
    """``be``'s forward into NaN-filled ``out`` and ``argmax`` -1; both read
    back."""
    N, L, C = X.shape
    out = nans(be, (N, L // pool, C), X.dtype)
    argmax = filled(be, out.shape, np.int64, -1)
    be.maxpool1d_forward(on(be, X), pool, out, argmax)
    return host(be, out, argmax)


def maxpool2d(X, pool, be):
    """As :func:`maxpool1d`."""
    N, H, W, C = X.shape
    out = nans(be, (N, H // pool, W // pool, C), X.dtype)
    argmax = filled(be, out.shape, np.int64, -1)
    be.maxpool2d_forward(on(be, X), pool, out, argmax)
    return host(be, out, argmax)


def maxpool_backward(be, kernel, dY, argmax, shape):
    """``kernel`` (``be``'s maxpool1d/2d_backward) into a NaN-filled ``dX``;
    read back."""
    dX = nans(be, shape, dY.dtype)
    kernel(*on(be, dY, argmax), dX)
    return host(be, dX)


#: (N, L, C, pool): tails of 0, 1 and 2 steps, pool 1
MAXPOOL1D_SHAPES = [(2, 8, 3, 2), (2, 7, 2, 3), (1, 5, 1, 1), (3, 11, 2, 3)]
#: (N, H, W, C, pool)
MAXPOOL2D_SHAPES = [(2, 4, 6, 2, 2), (1, 7, 5, 3, 2), (2, 6, 7, 1, 3),
                    (1, 2, 3, 2, 1)]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("ties", [False, True], ids=["distinct", "ties"])
@pytest.mark.parametrize("shape", MAXPOOL1D_SHAPES, ids=_ids("NLCp"))
def test_maxpool1d_matches_reference(shape, ties, dtype, backend):
    *xshape, pool = shape
    rng = np.random.default_rng(10)
    X = (np.ascontiguousarray(rng.integers(0, 3, xshape), dtype=dtype) if ties
         else _distinct(rng, xshape, dtype))
    out, argmax = maxpool1d(X, pool, backend)
    want, want_argmax = ref.maxpool1d_forward(X, pool)
    assert out.dtype == dtype
    assert_close(out, want, tol_for(dtype), "out")
    np.testing.assert_array_equal(argmax, want_argmax)
    dY = _normal(rng, out.shape, dtype)
    dX = maxpool_backward(backend, backend.maxpool1d_backward, dY, argmax,
                          X.shape)
    assert_close(dX, ref.maxpool1d_backward(X, pool, dY), tol_for(dtype), "dX")


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("ties", [False, True], ids=["distinct", "ties"])
@pytest.mark.parametrize("shape", MAXPOOL2D_SHAPES, ids=_ids("NHWCp"))
def test_maxpool2d_matches_reference(shape, ties, dtype, backend):
    *xshape, pool = shape
    rng = np.random.default_rng(11)
    X = (np.ascontiguousarray(rng.integers(0, 3, xshape), dtype=dtype) if ties
         else _distinct(rng, xshape, dtype))
    out, argmax = maxpool2d(X, pool, backend)
    want, want_argmax = ref.maxpool2d_forward(X, pool)
    assert out.dtype == dtype
    assert_close(out, want, tol_for(dtype), "out")
    np.testing.assert_array_equal(argmax, want_argmax)
    dY = _normal(rng, out.shape, dtype)
    dX = maxpool_backward(backend, backend.maxpool2d_backward, dY, argmax,
                          X.shape)
    assert_close(dX, ref.maxpool2d_backward(X, pool, dY), tol_for(dtype), "dX")


def test_maxpool1d_gradient_matches_finite_differences(backend):
    rng = np.random.default_rng(12)
    X = _distinct(rng, (2, 7, 2))
    dY = rng.normal(size=(2, 7 // 3, 2))

    def loss():
        return float(np.sum(dY * maxpool1d(X, 3, backend)[0]))

    fd = central_fd(loss, {"X": X}, eps=1e-6)
    dX = maxpool_backward(backend, backend.maxpool1d_backward, dY,
                          maxpool1d(X, 3, backend)[1], X.shape)
    assert_close(dX, fd["X"], 1e-7, "dX")


def test_maxpool2d_gradient_matches_finite_differences(backend):
    rng = np.random.default_rng(13)
    X = _distinct(rng, (2, 5, 4, 2))
    dY = rng.normal(size=(2, 5 // 2, 4 // 2, 2))

    def loss():
        return float(np.sum(dY * maxpool2d(X, 2, backend)[0]))

    fd = central_fd(loss, {"X": X}, eps=1e-6)
    dX = maxpool_backward(backend, backend.maxpool2d_backward, dY,
                          maxpool2d(X, 2, backend)[1], X.shape)
    assert_close(dX, fd["X"], 1e-7, "dX")


def test_maxpool_tail_gets_zero_gradient(backend):
    """The dropped tail (``L % pool`` steps, bottom rows, right columns) is 0."""
    rng = np.random.default_rng(14)
    X1 = _normal(rng, (2, 8, 3), np.float64)          # 8 = 2*3 + 2
    _, argmax = maxpool1d(X1, 3, backend)
    dX = maxpool_backward(backend, backend.maxpool1d_backward,
                          rng.normal(size=(2, 2, 3)), argmax, X1.shape)
    assert np.all(dX[:, 6:] == 0.0)
    assert np.count_nonzero(dX[:, :6]) == 2 * 2 * 3

    X2 = _normal(rng, (2, 5, 7, 2), np.float64)       # 5 = 2*2 + 1, 7 = 3*2 + 1
    _, argmax = maxpool2d(X2, 2, backend)
    dX = maxpool_backward(backend, backend.maxpool2d_backward,
                          rng.normal(size=(2, 2, 3, 2)), argmax, X2.shape)
    assert np.all(dX[:, 4:] == 0.0) and np.all(dX[:, :, 6:] == 0.0)
    assert np.count_nonzero(dX[:, :4, :6]) == 2 * 2 * 3 * 2


def test_relu_and_maxpool_propagate_nan(backend):
    """A NaN input gives a NaN output (as PyTorch), never a silent 0 or max."""
    X = np.array([[[1.0], [np.nan], [2.0], [0.5]]])
    out = backend.empty(X.shape, X.dtype)
    backend.relu_forward(on(backend, X), out)
    out = backend.to_host(out)
    assert np.isnan(out[0, 1, 0]) and out[0, 2, 0] == 2.0
    pooled, argmax = maxpool1d(X, 2, backend)
    assert np.isnan(pooled[0, 0, 0]) and argmax[0, 0, 0] == 1
    assert pooled[0, 1, 0] == 2.0
