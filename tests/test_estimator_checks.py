"""scikit-learn's own estimator checks over every estimator, in both dtypes."""

import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from numlstm import (
    BidirectionalLSTMClassifier,
    BidirectionalLSTMRegressor,
    CNNLSTMClassifier,
    CNNLSTMRegressor,
    EncoderDecoderLSTMClassifier,
    EncoderDecoderLSTMRegressor,
    GenerativeLSTM,
    StackedLSTMClassifier,
    StackedLSTMRegressor,
    VanillaLSTMClassifier,
    VanillaLSTMRegressor,
)

# the checks' short fits stop at max_iter on purpose
pytestmark = pytest.mark.filterwarnings(
    "ignore::sklearn.exceptions.ConvergenceWarning")

# Small networks and a higher learning rate keep the ~60 checks per
# estimator fast; the checks that score a fit (> 0.83 accuracy, R^2 > 0.5)
# still have to pass with these settings.
FAST = dict(max_iter=60, learning_rate_init=1e-2, batch_size=32, random_state=0)

MAKERS = (
    lambda **kw: VanillaLSTMRegressor(units=8, **kw),
    lambda **kw: VanillaLSTMClassifier(units=8, **kw),
    lambda **kw: StackedLSTMRegressor(hidden_layer_sizes=(8, 6), **kw),
    lambda **kw: StackedLSTMClassifier(hidden_layer_sizes=(8, 6), **kw),
    lambda **kw: BidirectionalLSTMRegressor(units=6, merge_mode="sum", **kw),
    lambda **kw: BidirectionalLSTMClassifier(units=6, **kw),
    lambda **kw: EncoderDecoderLSTMRegressor(8, 8, **kw),
    lambda **kw: EncoderDecoderLSTMClassifier(8, 8, decoder="teacher_forcing",
                                              **kw),
    lambda **kw: GenerativeLSTM((8,), sequence_length=4, **kw),
    # 2-D X is a sequence of scalars: 'same' padding and no pooling
    lambda **kw: CNNLSTMRegressor((4,), padding="same", pool_size=1, units=8,
                                  **kw),
    lambda **kw: CNNLSTMClassifier((4,), padding="same", pool_size=1, units=8,
                                   **kw),
)
ESTIMATORS = [make(dtype=dtype, **FAST) for dtype in ("float32", "float64")
              for make in MAKERS]

SAMPLE_WEIGHT = (
    "check_sample_weight_equivalence_on_dense_data",
    "mini-batch training: weights and repeated rows give different batches, "
    "so the two fits meet only as far as both converge; measured agreement "
    "~1e-6 in float32 and ~1e-7 relative in float64, against the check's "
    "rtol of 1e-7. L-BFGS does worse: in float64 it fails the check for "
    "10 of the 11 estimators (benchmarks/sample_weight_lbfgs.py). "
    "tests/test_sample_weight_equivalence.py checks the "
    "property itself, exactly, through the objective's loss and gradient.")


def expected_failed_checks(estimator):
    """The one check these estimators cannot promise, with the reason.

    It is marked as an expected failure for every estimator but not strictly:
    where both fits happen to converge to the same predictions within 1e-7
    it passes (as of this commit 8 of the 22 instances fail it, which ones
    moving with any change of the numerics). Every other check must pass.
    """
    return dict([SAMPLE_WEIGHT])


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=expected_failed_checks,
                         xfail_strict=False)
def test_sklearn_compatible(estimator, check):
    check(estimator)
