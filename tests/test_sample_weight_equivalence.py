"""Integer sample weights are repeated rows, exactly, in the objective.

scikit-learn's ``check_sample_weight_equivalence_on_dense_data`` fits twice
(weights, and rows repeated or removed) and compares the predictions to
rtol 1e-7. Through a mini-batch optimiser the two fits see different
batches and meet only as far as both converge, which is why
``test_estimator_checks.py`` lets that check fail for the stochastic
solvers. What must hold exactly is the equivalence in the loss itself:
for every estimator, ``make_objective``'s loss and gradient with integer
weights equal those of the data with each row repeated that many times (0:
removed), to 1e-12 in float64, with and without the L2 term (whose scale is
the weight sum, as scikit-learn's MLP's).
"""

import numpy as np
import pytest
from registry import ESTIMATORS

pytestmark = pytest.mark.filterwarnings(
    "ignore::sklearn.exceptions.ConvergenceWarning")


def _rows(X):
    """``X`` as a list of rows (a string is one sequence)."""
    return [X] if isinstance(X, str) else list(X)


def _repeat(values, counts):
    if values is None:
        return None
    rows = [v for v, k in zip(_rows(values), counts, strict=True)
            for _ in range(k)]
    return np.stack(rows) if isinstance(values, np.ndarray) else rows


def _data(key):
    _, data = ESTIMATORS[key]
    X, y = data()
    if key == "generative":  # several sequences to weigh
        X = [X[i:i + 23] for i in range(0, len(X), 23)]
    return X, y


@pytest.mark.parametrize("alpha", [0.0, 1e-2])
@pytest.mark.parametrize("key", list(ESTIMATORS))
def test_integer_weights_equal_repeated_rows_in_the_objective(key, alpha):
    make, _ = ESTIMATORS[key]
    X, y = _data(key)
    n = len(_rows(X))
    counts = np.random.default_rng(0).integers(0, 4, size=n)
    counts[:3] = (0, 1, 3)  # a removed row, a kept one, a repeated one
    model = make(max_iter=1, batch_size=8, alpha=alpha, random_state=0,
                 dtype="float64").fit(X, y)
    fun_w, theta = model.make_objective(X, y, sample_weight=counts)
    fun_r, theta_r = model.make_objective(_repeat(X, counts),
                                          _repeat(y, counts))
    assert np.array_equal(theta, theta_r)
    for point in (theta, theta + 0.05 * np.sin(np.arange(theta.size))):
        loss_w, grad_w = fun_w(point)
        loss_r, grad_r = fun_r(point)
        assert loss_w == pytest.approx(loss_r, rel=1e-12, abs=0)
        np.testing.assert_allclose(grad_w, grad_r, rtol=1e-12,
                                   atol=1e-12 * np.max(np.abs(grad_r)))
