"""What is specific to the bidirectional estimators: merge modes and directions.

The behaviours every estimator shares run over the registry's
bidirectional regressor and classifier in ``test_estimator_*.py``. Here:
each merge mode's output shapes and weight layout, ``hidden_layer_sizes``
overriding ``units``, ragged batches in the other merge modes and stacked,
the backward LSTM as the forward one on reversed sequences (swapped weights,
and an oracle of two Vanilla LSTMs), bad merge modes, and the gradient in
each merge mode.
"""

import numpy as np
import pytest
from helpers import assert_close
from registry import LENGTHS, fd_check, make_ragged, make_X, output
from registry import class_id as ids

from numlstm import (
    BidirectionalLSTMClassifier,
    BidirectionalLSTMRegressor,
    VanillaLSTMRegressor,
)

# short fits stop at max_iter on purpose
pytestmark = pytest.mark.filterwarnings(
    "ignore::sklearn.exceptions.ConvergenceWarning")

MERGE_MODES = ["concat", "sum", "mul", "ave"]
BIDI = [BidirectionalLSTMRegressor, BidirectionalLSTMClassifier]


def is_clf(cls):
    return cls is BidirectionalLSTMClassifier


def bidi(cls, **params):
    defaults = dict(units=4, max_iter=3, learning_rate_init=1e-2, random_state=0)
    return cls(**{**defaults, **params})


def bidi_targets(cls, X, return_sequences, n_classes=2):
    """Per-sequence or per-step targets (running sums) for ``X``."""
    if isinstance(X, list):
        steps = [np.cumsum(x[:, 0]) for x in X]
    else:
        steps = list(np.cumsum(X[:, :, 0], axis=1))
    if return_sequences:
        if not is_clf(cls):
            return steps if isinstance(X, list) else np.array(steps)
        labels = [(s > 0).astype(int) + (s > 1) * (n_classes > 2) for s in steps]
        return labels if isinstance(X, list) else np.array(labels)
    final = np.array([s[-1] for s in steps])
    if not is_clf(cls):
        return final
    if n_classes == 2:
        return (final > np.median(final)).astype(int)
    return np.digitize(final, np.quantile(final, [1 / 3, 2 / 3]))


@pytest.mark.parametrize("return_sequences", [False, True])
@pytest.mark.parametrize("merge_mode", MERGE_MODES)
@pytest.mark.parametrize("cls", BIDI, ids=ids)
def test_bidirectional_fit_predict_shapes(cls, merge_mode, return_sequences):
    X = make_X(n=12, T=5, D=2)
    y = bidi_targets(cls, X, return_sequences, n_classes=3)
    model = bidi(cls, merge_mode=merge_mode,
                 return_sequences=return_sequences).fit(X, y)
    shape = (12, 5) if return_sequences else (12,)
    pred = model.predict(X)
    assert pred.shape == shape
    assert model.n_features_in_ == 2
    assert len(model.loss_curve_) == 3 and np.all(np.isfinite(model.loss_curve_))
    width = 8 if merge_mode == "concat" else 4
    n_out = 3 if is_clf(cls) else 1
    assert model.get_weights()["dense.W"].shape == (n_out, width)
    if is_clf(cls):
        assert set(np.unique(pred)) <= set(model.classes_)
        proba = model.predict_proba(X)
        assert proba.shape == (*shape, 3)
        np.testing.assert_allclose(proba.sum(axis=-1), 1.0, rtol=1e-6)
        assert np.array_equal(pred, model.classes_[proba.argmax(axis=-1)])
        assert 0.0 <= model.score(X, y) <= 1.0
    else:
        assert np.all(np.isfinite(pred))
        assert np.isfinite(model.score(X, y))


@pytest.mark.parametrize("merge_mode", MERGE_MODES)
def test_bidirectional_weight_names_and_shapes(merge_mode):
    X = make_X(n=8, T=4, D=2)
    model = bidi(BidirectionalLSTMRegressor, hidden_layer_sizes=(4, 3),
                 merge_mode=merge_mode, max_iter=1).fit(X, X[:, :, 0].sum(1))
    shapes = {k: v.shape for k, v in model.get_weights().items()}
    width0 = 8 if merge_mode == "concat" else 4
    width1 = 6 if merge_mode == "concat" else 3
    expected = {}
    for k, (D, H) in enumerate([(2, 4), (width0, 3)]):
        for d in ("forward", "backward"):
            expected[f"lstm.{k}.{d}.W_ih"] = (4 * H, D)
            expected[f"lstm.{k}.{d}.W_hh"] = (4 * H, H)
            expected[f"lstm.{k}.{d}.b"] = (4 * H,)
    expected["dense.W"] = (1, width1)
    expected["dense.b"] = (1,)
    assert list(shapes) == list(expected)  # the canonical order
    assert shapes == expected
    # the guide's example
    if merge_mode == "concat":
        assert shapes["lstm.1.forward.W_ih"] == (12, 8)
    if merge_mode == "sum":
        assert shapes["lstm.1.forward.W_ih"] == (12, 4)


def test_bidirectional_hidden_layer_sizes_overrides_units():
    X = make_X(n=8, T=4, D=2)
    y = X[:, :, 0].sum(1)
    model = bidi(BidirectionalLSTMRegressor, units=7, hidden_layer_sizes=(5,),
                 max_iter=1).fit(X, y)
    shapes = {k: v.shape for k, v in model.get_weights().items()}
    assert shapes["lstm.0.forward.W_hh"] == (20, 5)
    assert shapes["lstm.0.backward.W_ih"] == (20, 2)
    assert not any(k.startswith("lstm.1") for k in shapes)
    assert shapes["dense.W"] == (1, 10)
    units_only = bidi(BidirectionalLSTMRegressor, units=7, max_iter=1).fit(X, y)
    assert units_only.get_weights()["lstm.0.backward.W_hh"].shape == (28, 7)


@pytest.mark.parametrize("return_sequences", [False, True])
@pytest.mark.parametrize("merge_mode", ["concat", "mul"])
@pytest.mark.parametrize("cls", BIDI, ids=ids)
def test_bidirectional_ragged_equals_each_sequence_alone(cls, merge_mode,
                                                         return_sequences):
    """Keras semantics: a sequence's prediction never depends on the padding
    its batch adds after it (the backward LSTM starts at its last real step),
    in every merge mode's kind (concatenated, multiplied) and stacked (the
    registry's own two configurations: test_estimator_inputs.py)."""
    X = make_ragged(LENGTHS)
    model = bidi(cls, merge_mode=merge_mode, return_sequences=return_sequences,
                 hidden_layer_sizes=(4, 3), dtype="float64")
    model.fit(X, bidi_targets(cls, X, return_sequences))
    batch = output(model, X)
    if return_sequences:  # a list of per-step outputs, each of its length
        assert [len(b) for b in batch] == list(LENGTHS)
    for k, x in enumerate(X):
        alone = output(model, [x])[0]
        assert_close(batch[k], alone, 1e-12, f"sequence {k}")
        assert_close(output(model, x[None])[0], alone, 1e-12, f"3-D {k}")
    # padding values never matter in the network's forward pass
    lengths = np.array(LENGTHS)
    zeros = np.zeros((len(X), lengths.max(), 2))
    garbage = np.random.default_rng(5).normal(scale=1e3, size=zeros.shape)
    for k, x in enumerate(X):
        zeros[k, :len(x)] = x
        garbage[k, :len(x)] = x
    a = np.array(model.network_.forward(zeros, lengths))
    b = np.array(model.network_.forward(garbage, lengths))
    if return_sequences:  # padded steps of the output are not predictions
        mask = np.arange(lengths.max())[None, :] < lengths[:, None]
        a, b = a[mask], b[mask]
    assert np.array_equal(a, b)


def _swap_directions(weights, merge_mode):
    """Forward <-> backward weights of every layer (and, for concat, the two
    halves of the dense input so that the merged features line up)."""
    out = {}
    for name, w in weights.items():
        if ".forward." in name:
            out[name] = weights[name.replace(".forward.", ".backward.")]
        elif ".backward." in name:
            out[name] = weights[name.replace(".backward.", ".forward.")]
        else:
            out[name] = w
    if merge_mode == "concat":
        W = weights["dense.W"]
        H = W.shape[1] // 2
        out["dense.W"] = np.concatenate([W[:, H:], W[:, :H]], axis=1)
    return out


@pytest.mark.parametrize("return_sequences", [False, True])
@pytest.mark.parametrize("merge_mode", MERGE_MODES)
def test_bidirectional_reversed_input_with_swapped_directions(merge_mode,
                                                              return_sequences):
    """Reversing each sequence within its own length and swapping the
    forward and backward weights gives the same outputs (per step: reversed)."""
    X = make_ragged(LENGTHS)
    cls = BidirectionalLSTMRegressor
    y = bidi_targets(cls, X, return_sequences)
    model = bidi(cls, merge_mode=merge_mode, return_sequences=return_sequences,
                 dtype="float64").fit(X, y)
    before = model.predict(X)
    model.set_weights(_swap_directions(model.get_weights(), merge_mode))
    after = model.predict([x[::-1] for x in X])
    for k in range(len(X)):
        expected = before[k][::-1] if return_sequences else before[k]
        assert_close(after[k], expected, 1e-12, f"sequence {k}")
    # ... and the swap is not a no-op on the unreversed input
    def flat(pred):
        return np.concatenate([np.ravel(p) for p in pred])

    assert not np.allclose(flat(model.predict(X)), flat(before))


@pytest.mark.parametrize("return_sequences", [False, True])
@pytest.mark.parametrize("merge_mode", ["concat", "sum", "ave"])
def test_bidirectional_is_two_vanilla_lstms(merge_mode, return_sequences):
    """An independent oracle: the bidirectional output is the forward LSTM's
    on X plus the backward LSTM's on X reversed within each length, through
    the dense layer (linear in the merged features for these modes)."""
    X = make_ragged(LENGTHS)
    cls = BidirectionalLSTMRegressor
    y = bidi_targets(cls, X, return_sequences)
    model = bidi(cls, merge_mode=merge_mode, return_sequences=return_sequences,
                 dtype="float64").fit(X, y)
    w = model.get_weights()
    W, b = w["dense.W"], w["dense.b"]
    H = w["lstm.0.forward.W_hh"].shape[1]
    W_f, W_b = {"concat": (W[:, :H], W[:, H:]), "sum": (W, W),
                "ave": (0.5 * W, 0.5 * W)}[merge_mode]

    def vanilla(direction, dense_W, dense_b):
        v = VanillaLSTMRegressor(units=H, return_sequences=return_sequences,
                                 max_iter=1, dtype="float64").fit(X, y)
        v.set_weights({f"lstm.0.{n}": w[f"lstm.0.{direction}.{n}"]
                       for n in ("W_ih", "W_hh", "b")}
                      | {"dense.W": dense_W, "dense.b": dense_b})
        return v

    fw = vanilla("forward", W_f, b).predict(X)
    bw = vanilla("backward", W_b, np.zeros_like(b)).predict(
        [x[::-1] for x in X])
    pred = model.predict(X)
    for k in range(len(X)):
        expected = fw[k] + (bw[k][::-1] if return_sequences else bw[k])
        assert_close(pred[k], expected, 1e-12, f"sequence {k}")


@pytest.mark.parametrize("merge_mode", ["max", "CONCAT", None, ""])
@pytest.mark.parametrize("cls", BIDI, ids=ids)
def test_bidirectional_bad_merge_mode(cls, merge_mode, no_kernels):
    X = make_X(n=8, T=4)
    model = bidi(cls, merge_mode=merge_mode)
    with pytest.raises(ValueError, match="merge_mode"):
        model.fit(X, bidi_targets(cls, X, False))
    assert not hasattr(model, "network_")


BIDI_GRADIENT_CASES = [
    (BidirectionalLSTMRegressor, "concat", False, 2, {}),
    (BidirectionalLSTMRegressor, "mul", True, 2, {"alpha": 0.3}),
    (BidirectionalLSTMRegressor, "ave", False, 2,
     {"hidden_layer_sizes": (2, 2)}),
    (BidirectionalLSTMClassifier, "sum", True, 2, {}),
    (BidirectionalLSTMClassifier, "concat", False, 3,
     {"hidden_layer_sizes": (2, 2)}),
    (BidirectionalLSTMClassifier, "mul", False, 3, {}),
]


@pytest.mark.parametrize(
    "cls,merge_mode,return_sequences,n_classes,params", BIDI_GRADIENT_CASES,
    ids=[f"{c.__name__}-{m}-{'seq' if r else 'last'}-{k}-{len(p)}"
         for c, m, r, k, p in BIDI_GRADIENT_CASES])
def test_bidirectional_make_objective_gradient(cls, merge_mode,
                                               return_sequences, n_classes,
                                               params):
    X = make_ragged(lengths=(3, 4, 1, 4, 2, 3), seed=3)
    y = bidi_targets(cls, X, return_sequences, n_classes=n_classes)
    model = bidi(cls, units=2, merge_mode=merge_mode,
                 return_sequences=return_sequences, dtype="float64",
                 **params)
    fun, theta0 = model.make_objective(X, y)
    assert theta0.size == sum(w.size for w in
                              model.fit(X, y).get_weights().values())
    fd_check(fun, theta0)

