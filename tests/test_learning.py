"""Each architecture learns its classic problem (scored on fresh data)."""

import numpy as np
import pytest

from numlstm import (
    StackedLSTMRegressor,
    VanillaLSTMClassifier,
    VanillaLSTMRegressor,
)
from numlstm.datasets import (
    make_cumsum_threshold,
    make_damped_sine,
    make_echo_sequence,
)

pytestmark = pytest.mark.filterwarnings(
    "ignore::sklearn.exceptions.ConvergenceWarning")


def test_vanilla_solves_echo_sequence():
    X, y = make_echo_sequence(2000, n_steps=5, n_features=10, echo_step=2,
                              random_state=0)
    X_new, y_new = make_echo_sequence(1000, n_steps=5, n_features=10,
                                      echo_step=2, random_state=1)
    model = VanillaLSTMClassifier(units=25, max_iter=30, learning_rate_init=1e-2,
                                  random_state=0).fit(X, y)
    assert model.score(X_new, y_new) >= 0.95


def test_stacked_predicts_damped_sine():
    X, y = make_damped_sine(1000, 20, 5, random_state=0)
    X_new, y_new = make_damped_sine(300, 20, 5, random_state=1)
    model = StackedLSTMRegressor((20, 20), max_iter=25, learning_rate_init=1e-2,
                                 random_state=0).fit(X, y)
    mae = np.mean(np.abs(model.predict(X_new) - y_new))
    assert mae < 0.05


def test_per_step_labels_with_return_sequences():
    X, y = make_cumsum_threshold(1000, 10, random_state=0)
    X_new, y_new = make_cumsum_threshold(500, 10, random_state=1)
    model = VanillaLSTMClassifier(units=16, return_sequences=True, max_iter=30,
                                  learning_rate_init=1e-2,
                                  random_state=0).fit(X, y)
    assert model.predict(X_new).shape == y_new.shape
    assert model.score(X_new, y_new) >= 0.95


def test_lbfgs_reaches_a_lower_loss_than_50_adam_epochs():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(64, 6, 2))
    y = 0.3 * X[:, :, 0].sum(axis=1) + X[:, -1, 1]
    adam = VanillaLSTMRegressor(units=8, max_iter=50, random_state=0,
                                dtype="float64").fit(X, y)
    lbfgs = VanillaLSTMRegressor(units=8, solver="lbfgs", max_iter=200,
                                 random_state=0, dtype="float64").fit(X, y)
    fun_adam, theta_adam = adam.make_objective(X, y)
    fun_lbfgs, theta_lbfgs = lbfgs.make_objective(X, y)
    assert fun_lbfgs(theta_lbfgs)[0] < fun_adam(theta_adam)[0]
    assert lbfgs.loss_curve_[-1] < 0.1 * adam.loss_curve_[-1]
