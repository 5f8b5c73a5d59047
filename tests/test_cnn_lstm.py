"""What is specific to the CNN-LSTM estimators: the shapes of their steps.

The behaviours every estimator shares run over the registry's CNN-LSTM
regressor and classifier (steps of 6x6 one-channel images) in
``test_estimator_*.py``. Here: steps that are 1-D signals with or without
channels and images with several channels, each with its convolutions'
weights in PyTorch's layout; 'same' padding keeping a step's size; and a
stack of convolutions and pooling that leaves nothing of a step, refused
with the sizes named before any kernel runs.
"""

import numpy as np
import pytest
from registry import class_id as ids

from numlstm import CNNLSTMClassifier, CNNLSTMRegressor

# short fits stop at max_iter on purpose
pytestmark = pytest.mark.filterwarnings(
    "ignore::sklearn.exceptions.ConvergenceWarning")

CNN = [CNNLSTMRegressor, CNNLSTMClassifier]


def fit(cls, X, **params):
    """A tiny ``cls`` fitted on ``X`` (targets: each sequence's mean)."""
    y = X.reshape(len(X), -1).mean(axis=1)
    if cls is CNNLSTMClassifier:
        y = (y > np.median(y)).astype(int)
    model = cls(**{"units": 3, "max_iter": 1, "random_state": 0, **params})
    return model.fit(X, y)


#: step shape -> (conv.0.W, conv.1.W, lstm.0.W_ih) of two blocks of 2 and 3
#: filters, kernel 2, no pooling: (filters, in_channels, kernel[, kernel])
STEPS = {
    (6,): ((2, 1, 2), (3, 2, 2), (12, 4 * 3)),          # signal, 1 channel
    (6, 2): ((2, 2, 2), (3, 2, 2), (12, 4 * 3)),        # signal, 2 channels
    (6, 6, 1): ((2, 1, 2, 2), (3, 2, 2, 2), (12, 4 * 4 * 3)),
    (6, 5, 3): ((2, 3, 2, 2), (3, 2, 2, 2), (12, 4 * 3 * 3)),
}


@pytest.mark.parametrize("step", list(STEPS), ids=str)
@pytest.mark.parametrize("cls", CNN, ids=ids)
def test_step_shapes_and_the_weight_layout(cls, step):
    X = np.random.default_rng(0).normal(size=(8, 4, *step))
    model = fit(cls, X, filters=(2, 3), kernel_size=2, pool_size=1)
    assert model.n_features_in_ == int(np.prod(step))
    conv0, conv1, w_ih = STEPS[step]
    n_out = 1  # one value, or the logit of two classes
    assert {k: v.shape for k, v in model.get_weights().items()} == {
        "conv.0.W": conv0, "conv.0.b": (2,), "conv.1.W": conv1,
        "conv.1.b": (3,), "lstm.0.W_ih": w_ih, "lstm.0.W_hh": (12, 3),
        "lstm.0.b": (12,), "dense.W": (n_out, 3), "dense.b": (n_out,)}
    assert model.predict(X).shape == (8,)
    # a step of another shape is refused, naming both
    with pytest.raises(ValueError, match="steps of shape"):
        model.predict(X[:, :, :5])


@pytest.mark.parametrize("cls", CNN, ids=ids)
def test_same_padding_keeps_the_step_size(cls):
    X = np.random.default_rng(1).normal(size=(8, 4, 6, 6, 1))
    valid = fit(cls, X, filters=(2,), pool_size=2)
    same = fit(cls, X, filters=(2,), pool_size=2, padding="same")
    # 6x6 -> 4x4 (valid, kernel 3) or 6x6 (same), then pooled by 2
    assert valid.get_weights()["lstm.0.W_ih"].shape == (12, 2 * 2 * 2)
    assert same.get_weights()["lstm.0.W_ih"].shape == (12, 3 * 3 * 2)


@pytest.mark.parametrize("X,match", [
    (np.zeros((8, 4, 3)), r"\(3,\) becomes \(1,\).*\(0,\) after pool_size=2"),
    # a 2-D X: steps of one value, which 'valid' padding convolves away
    (np.zeros((8, 4)), r"\(1,\) becomes \(0,\)"),
    (np.zeros((8, 4, 3, 6, 1)), r"\(3, 6\) becomes \(1, 4\).*\(0, 2\)"),
], ids=["signal", "2d", "image"])
@pytest.mark.parametrize("cls", CNN, ids=ids)
def test_a_stack_that_leaves_nothing_of_a_step_is_refused(cls, X, match,
                                                          no_kernels):
    model = cls(filters=(2,), units=3)
    with pytest.raises(ValueError, match=r"conv block 0 \(filters=2\).*" + match):
        model.fit(X, np.r_[np.zeros(4), np.ones(4)])
    assert set(vars(model)) == set(model.get_params())
