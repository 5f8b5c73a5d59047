"""Optimiser steps and gradient-norm kernels against textbook updates."""

import math

import numpy as np
import pytest
import reference as ref
from helpers import DTYPES, assert_close

from numlstm.backends.cpu import optimizers

N_PARAMS = 11
N_STEPS = 5
#: Tolerance per dtype: float32 state is rounded after every step.
OPT_TOL = {np.dtype(np.float64): 1e-12, np.dtype(np.float32): 1e-5}


def _problem(dtype, seed=0):
    """Initial parameters and a different gradient for every step."""
    rng = np.random.default_rng(seed)
    theta = rng.normal(size=N_PARAMS).astype(dtype)
    grads = [rng.normal(scale=s, size=N_PARAMS).astype(dtype)
             for s in (1.0, 0.1, 3.0, 1e-3, 1.0)[:N_STEPS]]
    return theta, grads


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(("momentum", "nesterov"),
                         [(0.0, False), (0.9, False), (0.9, True)],
                         ids=["plain", "momentum", "nesterov"])
def test_sgd_step_matches_textbook(momentum, nesterov, dtype):
    theta, grads = _problem(dtype, 1)
    velocity = np.zeros_like(theta)
    want_theta = theta.astype(np.float64)
    want_vel = np.zeros(N_PARAMS)
    lr = 0.1
    tol = OPT_TOL[np.dtype(dtype)]
    for g in grads:
        optimizers.sgd_step(theta, g, velocity, lr, momentum, nesterov)
        want_theta, want_vel = ref.sgd_step(want_theta, g, want_vel, lr,
                                            momentum, nesterov)
        assert theta.dtype == dtype and velocity.dtype == dtype
        assert_close(theta, want_theta, tol, "theta")
        assert_close(velocity, want_vel, tol, "velocity")
    # The steps really moved the parameters.
    start, _ = _problem(dtype, 1)
    assert np.abs(theta - start).max() > 0.05


def test_nesterov_differs_from_plain_momentum():
    thetas = []
    for nesterov in (False, True):
        theta, grads = _problem(np.float64, 2)
        velocity = np.zeros_like(theta)
        for g in grads:
            optimizers.sgd_step(theta, g, velocity, 0.1, 0.9, nesterov)
        thetas.append(theta)
    assert np.abs(thetas[0] - thetas[1]).max() > 1e-3


@pytest.mark.parametrize("dtype", DTYPES)
def test_adam_step_matches_textbook(dtype):
    theta, grads = _problem(dtype, 3)
    m = np.zeros_like(theta)
    v = np.zeros_like(theta)
    want = (theta.astype(np.float64), np.zeros(N_PARAMS), np.zeros(N_PARAMS))
    hp = {"lr": 0.01, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8}
    tol = OPT_TOL[np.dtype(dtype)]
    for step, g in enumerate(grads, start=1):
        optimizers.adam_step(theta, g, m, v, step, hp["lr"], hp["beta1"], hp["beta2"],
                     hp["eps"])
        want = ref.adam_step(*want[:1], g, *want[1:], step, **hp)
        for name, got, exp in zip(("theta", "m", "v"), (theta, m, v), want,
                                  strict=True):
            assert got.dtype == dtype
            assert_close(got, exp, tol, f"{name} at step {step}")
    # First step of Adam moves every parameter by ~lr against its gradient.
    theta0, grads0 = _problem(np.float64, 3)
    t1 = theta0.copy()
    optimizers.adam_step(t1, grads0[0], np.zeros(N_PARAMS), np.zeros(N_PARAMS), 1,
                 hp["lr"], hp["beta1"], hp["beta2"], hp["eps"])
    np.testing.assert_allclose(t1 - theta0, -hp["lr"] * np.sign(grads0[0]),
                               rtol=1e-6)


@pytest.mark.parametrize("dtype", DTYPES)
def test_rmsprop_step_matches_textbook(dtype):
    theta, grads = _problem(dtype, 4)
    sq = np.zeros_like(theta)
    want_theta, want_sq = theta.astype(np.float64), np.zeros(N_PARAMS)
    lr, rho, eps = 0.01, 0.9, 1e-8
    tol = OPT_TOL[np.dtype(dtype)]
    for g in grads:
        optimizers.rmsprop_step(theta, g, sq, lr, rho, eps)
        want_theta, want_sq = ref.rmsprop_step(want_theta, g, want_sq, lr, rho,
                                               eps)
        assert theta.dtype == dtype and sq.dtype == dtype
        assert_close(theta, want_theta, tol, "theta")
        assert_close(sq, want_sq, tol, "sq")
    start, _ = _problem(dtype, 4)
    assert np.abs(theta - start).max() > 0.01


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("size", [1, 7, 10_000])
def test_global_norm_matches_numpy(size, dtype):
    rng = np.random.default_rng(size)
    g = rng.normal(scale=3.0, size=size).astype(dtype)
    norm = optimizers.global_norm(g)
    want = np.linalg.norm(g.astype(np.float64))
    assert isinstance(norm, float)
    # Accumulated in float64 even for float32 gradients (products are exact).
    assert abs(norm - want) <= 1e-12 * want


def test_global_norm_of_zeros_is_zero():
    assert optimizers.global_norm(np.zeros(5)) == 0.0


@pytest.mark.parametrize("dtype", DTYPES)
def test_clip_grad_norm_scales_down_when_above(dtype):
    g = np.random.default_rng(5).normal(scale=10.0, size=20).astype(dtype)
    before = g.copy()
    pre = np.linalg.norm(before.astype(np.float64))
    max_norm = 1.5
    ret = optimizers.clip_grad_norm(g, max_norm)
    rtol = 1e-12 if dtype == np.float64 else 1e-6
    assert abs(ret - pre) <= rtol * pre  # the norm before clipping
    after = np.linalg.norm(g.astype(np.float64))
    assert abs(after - max_norm) <= rtol * max_norm
    # Same direction: a uniform rescale of every entry.
    np.testing.assert_allclose(g, before * (max_norm / pre), rtol=rtol * 10)


@pytest.mark.parametrize("dtype", DTYPES)
def test_clip_grad_norm_leaves_small_gradient_untouched(dtype):
    g = np.random.default_rng(6).normal(size=20).astype(dtype)
    before = g.copy()
    ret = optimizers.clip_grad_norm(g, 100.0)
    np.testing.assert_array_equal(g, before)
    rtol = 1e-12 if dtype == np.float64 else 1e-6
    assert abs(ret - np.linalg.norm(before.astype(np.float64))) <= rtol * ret
    # A norm exactly at the limit is not "above" it either.
    ret2 = optimizers.clip_grad_norm(g, optimizers.global_norm(g))
    np.testing.assert_array_equal(g, before)
    assert ret2 == ret


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("bad", [np.inf, -np.inf, np.nan])
def test_clip_grad_norm_non_finite_untouched(bad, dtype):
    g = np.random.default_rng(7).normal(scale=10.0, size=20).astype(dtype)
    g[3] = bad
    before = g.copy()
    ret = optimizers.clip_grad_norm(g, 1.0)
    assert not math.isfinite(ret)
    if np.isnan(bad):
        assert math.isnan(ret)
    else:
        assert ret == math.inf
    np.testing.assert_array_equal(g, before)  # NaN == NaN here


def test_global_norm_float32_squares_do_not_overflow():
    # Finite float32 entries whose squares overflow float32 but not float64:
    # the norm is accumulated in float64, so it is finite and exact.
    g = np.array([3e19, 4e19, 0.0], np.float32)
    want = np.linalg.norm(g.astype(np.float64))
    norm = optimizers.global_norm(g)
    assert math.isfinite(norm)
    assert abs(norm - want) <= 1e-12 * want
    ret = optimizers.clip_grad_norm(g, 1.0)
    assert abs(ret - want) <= 1e-12 * want
    np.testing.assert_allclose(g, [0.6, 0.8, 0.0], rtol=1e-6)
