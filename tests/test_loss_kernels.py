"""Loss and activation kernels against the NumPy oracle, finite differences,
and extreme inputs."""

import math

import numpy as np
import pytest
import reference as ref
from helpers import (
    DTYPES,
    assert_close,
    central_fd,
    nan_array,
    strict_fp,
    tol_for,
)
from numba import njit

from numlstm.backends.cpu import activations, losses

N, C = 6, 4
#: Non-uniform weights, two rows masked out.
WEIGHTS = np.array([1.0, 0.5, 0.0, 2.0, 0.0, 1.5])
LOSSES = ("mse", "xent", "bce")


def _inputs(kind, dtype, rng, scale=1.0):
    """``(prediction, target)`` for loss ``kind``."""
    pred = (scale * rng.normal(size=(N, C))).astype(dtype)
    if kind == "mse":
        target = rng.normal(size=(N, C)).astype(dtype)
    elif kind == "xent":
        target = rng.integers(0, C, size=N).astype(np.int64)
    else:  # targets in [0, 1], including the end points
        target = rng.uniform(size=(N, C))
        target[0, :2] = (0.0, 1.0)
        target = target.astype(dtype)
    return pred, target


def _kernel(kind):
    return {"mse": losses.mse_loss, "xent": losses.softmax_cross_entropy,
            "bce": losses.sigmoid_binary_cross_entropy}[kind]


def _reference(kind):
    return {"mse": ref.mse_loss, "xent": ref.softmax_cross_entropy,
            "bce": ref.sigmoid_binary_cross_entropy}[kind]


def _call(kind, pred, target, w):
    grad = nan_array(pred.shape, pred.dtype)
    loss = _kernel(kind)(pred, target, w, grad)
    return loss, grad


def _ref_call(kind, pred, target, w):
    t = target if kind == "xent" else np.asarray(target, np.float64)
    return _reference(kind)(np.asarray(pred, np.float64), t,
                            np.asarray(w, np.float64))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("weights", ["unit", "weighted"])
@pytest.mark.parametrize("kind", LOSSES)
def test_loss_matches_reference(kind, weights, dtype):
    rng = np.random.default_rng(1)
    pred, target = _inputs(kind, dtype, rng)
    w = (np.ones(N) if weights == "unit" else WEIGHTS).astype(dtype)
    loss, grad = _call(kind, pred, target, w)
    want_loss, want_grad = _ref_call(kind, pred, target, w)
    assert isinstance(loss, float)
    assert grad.dtype == dtype
    assert abs(loss - want_loss) <= tol_for(dtype) * max(1.0, abs(want_loss))
    assert_close(grad, want_grad, tol_for(dtype), "grad")


@pytest.mark.parametrize("kind", LOSSES)
def test_unit_weights_give_plain_mean(kind):
    rng = np.random.default_rng(2)
    pred, target = _inputs(kind, np.float64, rng)
    loss, _ = _call(kind, pred, target, np.ones(N))
    if kind == "mse":
        want = np.mean((pred - target) ** 2)
    elif kind == "xent":
        want = -np.mean(ref.log_softmax(pred)[np.arange(N), target])
    else:
        p = ref.sigmoid(pred)
        want = -np.mean(target * np.log(p) + (1 - target) * np.log1p(-p))
    assert abs(loss - want) <= 1e-12 * max(1.0, abs(want))


@pytest.mark.parametrize("kind", LOSSES)
def test_zero_weight_masks_rows(kind):
    rng = np.random.default_rng(3)
    pred, target = _inputs(kind, np.float64, rng)
    w = WEIGHTS.copy()
    masked = w == 0.0
    loss, grad = _call(kind, pred, target, w)
    assert np.all(grad[masked] == 0.0)
    assert np.all(np.abs(grad[~masked]).sum(axis=1) > 0.0)
    # Anything in the masked rows changes neither the loss nor the gradient.
    pred2 = pred.copy()
    pred2[masked] = rng.normal(scale=50.0, size=pred2[masked].shape)
    target2 = target.copy()
    target2[masked] = target[~masked][: masked.sum()]
    loss2, grad2 = _call(kind, pred2, target2, w)
    assert abs(loss2 - loss) <= 1e-14 * max(1.0, abs(loss))
    assert_close(grad2, grad, 1e-14, "grad")
    # ...and equals the loss of the unmasked rows alone with their weights.
    loss3, grad3 = _call(kind, np.ascontiguousarray(pred[~masked]),
                         np.ascontiguousarray(target[~masked]),
                         np.ascontiguousarray(w[~masked]))
    assert abs(loss3 - loss) <= 1e-12 * max(1.0, abs(loss))
    assert_close(grad3, grad[~masked], 1e-12, "grad")


@pytest.mark.parametrize("kind", LOSSES)
def test_loss_gradient_matches_finite_differences(kind):
    rng = np.random.default_rng(4)
    pred, target = _inputs(kind, np.float64, rng)
    w = WEIGHTS.copy()
    fd = central_fd(lambda: _call(kind, pred, target, w)[0], {"pred": pred},
                    eps=1e-6)
    _, grad = _call(kind, pred, target, w)
    assert_close(grad, fd["pred"], 1e-6, "grad")


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kind", ["xent", "bce"])
def test_huge_logits_are_stable(kind, dtype):
    rng = np.random.default_rng(5)
    pred, target = _inputs(kind, dtype, rng)
    pred = (1e4 * np.sign(pred)).astype(dtype)
    pred[1] = np.array([1e4, -1e4, 1e4, 0.0][:C], dtype)  # ties and a zero
    w = WEIGHTS.astype(dtype)
    with strict_fp():
        loss, grad = _call(kind, pred, target, w)
        want_loss, want_grad = _ref_call(kind, pred, target, w)
    assert math.isfinite(loss) and np.all(np.isfinite(grad))
    assert abs(loss - want_loss) <= tol_for(dtype) * max(1.0, abs(want_loss))
    assert_close(grad, want_grad, tol_for(dtype), "grad")
    assert loss > 1e3  # some rows are confidently wrong: loss ~ 1e4


@pytest.mark.parametrize("dtype", DTYPES)
def test_huge_errors_mse_finite(dtype):
    rng = np.random.default_rng(6)
    pred, target = _inputs("mse", dtype, rng, scale=1e4)
    w = WEIGHTS.astype(dtype)
    with strict_fp():
        loss, grad = _call("mse", pred, target, w)
        want_loss, want_grad = _ref_call("mse", pred, target, w)
    assert math.isfinite(loss) and np.all(np.isfinite(grad))
    assert abs(loss - want_loss) <= tol_for(dtype) * abs(want_loss)
    assert_close(grad, want_grad, tol_for(dtype), "grad")


def _extreme_inputs(dtype):
    rng = np.random.default_rng(7)
    x = rng.normal(scale=30.0, size=(5, 7))
    x[0] = [1e4, -1e4, 0.0, 1e4, -1e4, 1.0, -1.0]
    x[1] = 1e4
    x[2] = -1e4
    x[3, :3] = [-1e-300 if dtype == np.float64 else -1e-30, 700.0, -700.0]
    return np.ascontiguousarray(x, dtype=dtype)


@njit
def _sigmoid(x, out):
    """The shared scalar sigmoid over an array (the kernels call it per
    element; the library has no array form)."""
    for k in range(x.size):
        out.flat[k] = activations.sigmoid_s(x.flat[k], 1.0)


@njit
def _tanh(x, out):
    for k in range(x.size):
        out.flat[k] = activations.tanh_s(x.flat[k])


@njit
def _log_softmax(z, out):
    """Row-wise log-softmax through the losses' ``row_logsumexp``."""
    for r in range(z.shape[0]):
        lse = activations.row_logsumexp(z, r)
        for j in range(z.shape[1]):
            out[r, j] = z[r, j] - lse


_ACTIVATIONS = {
    "sigmoid": (lambda: _sigmoid, ref.sigmoid),
    "tanh": (lambda: _tanh, np.tanh),
    "log_softmax": (lambda: _log_softmax, ref.log_softmax),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", list(_ACTIVATIONS))
def test_activations_match_reference_at_extremes(name, dtype):
    kernel, oracle = _ACTIVATIONS[name]
    x = _extreme_inputs(dtype)
    out = nan_array(x.shape, dtype)
    with strict_fp():
        kernel()(x, out)
        want = oracle(np.asarray(x, np.float64))
    assert np.all(np.isfinite(out))
    # log_softmax is ~-2e4 at the extremes: relative to the row's scale.
    assert_close(out, want, tol_for(dtype), name)
    if name == "sigmoid":
        assert np.all((out >= 0.0) & (out <= 1.0))
        assert out[1, 0] == 1.0 and out[2, 0] == 0.0
    elif name == "tanh":
        assert out[1, 0] == 1.0 and out[2, 0] == -1.0
    else:
        assert np.all(out <= 0.0)
        assert_close(np.exp(np.asarray(out, np.float64)).sum(axis=1),
                     np.ones(x.shape[0]), tol_for(dtype), "sum exp")


@pytest.mark.parametrize("name", ["sigmoid", "tanh"])
def test_elementwise_activations_any_shape(name):
    kernel, oracle = _ACTIVATIONS[name]
    x = np.random.default_rng(8).normal(scale=3.0, size=(2, 3, 4))
    out = nan_array(x.shape, np.float64)
    kernel()(x, out)
    assert_close(out, oracle(x), 1e-14, name)
