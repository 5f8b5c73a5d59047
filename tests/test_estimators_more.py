"""Contract tests of the Bidirectional, Encoder-Decoder and Generative estimators.

Issue 4 and ../shared/GUIDE.md section 2. Every fit is tiny (4-8 units,
<= 64 sequences of <= 8 steps, <= 15 epochs): these tests check shapes,
names, semantics, gradients and errors, not how well the models learn (see
``test_learning.py``).
"""

import inspect
import pickle

import numpy as np
import pandas as pd
import pytest
from helpers import assert_close
from sklearn.exceptions import NotFittedError
from test_estimators import (
    _fd_gradient,
    _unflatten,
    disable_kernels,
    flat_weights,
    make_ragged,
)

from numlstm import (
    BidirectionalLSTMClassifier,
    BidirectionalLSTMRegressor,
    EncoderDecoderLSTMClassifier,
    EncoderDecoderLSTMRegressor,
    GenerativeLSTM,
    VanillaLSTMRegressor,
)
from numlstm.datasets import make_addition

# short fits stop at max_iter on purpose
pytestmark = pytest.mark.filterwarnings(
    "ignore::sklearn.exceptions.ConvergenceWarning")

MERGE_MODES = ["concat", "sum", "mul", "ave"]
DECODERS = ["repeat", "teacher_forcing"]
BIDI = [BidirectionalLSTMRegressor, BidirectionalLSTMClassifier]
ED = [EncoderDecoderLSTMRegressor, EncoderDecoderLSTMClassifier]
LENGTHS = (3, 5, 1, 4, 2, 5, 4, 3)


def ids(cls):
    return cls.__name__


@pytest.fixture
def no_kernels(monkeypatch):
    disable_kernels(monkeypatch)


def is_clf(cls):
    return cls in (BidirectionalLSTMClassifier, EncoderDecoderLSTMClassifier)


def make_X(n=16, T=5, D=2, seed=0):
    return np.random.default_rng(seed).normal(size=(n, T, D))


def output(model, X):
    """Numbers the model predicts: probabilities for classifiers."""
    if hasattr(model, "predict_proba"):
        return model.predict_proba(X)
    return model.predict(X)


def fd_check(fun, theta0, seed=0):
    """The analytic gradient of ``fun`` at a perturbed point vs central FD."""
    theta = theta0 + np.random.default_rng(seed).normal(scale=0.3,
                                                        size=theta0.shape)
    _, grad = fun(theta)
    fd = _fd_gradient(fun, theta)
    assert np.abs(grad).max() > 1e-6  # not vacuous
    np.testing.assert_allclose(grad, fd, rtol=1e-5,
                               atol=1e-5 * max(1.0, np.abs(fd).max()))


def log_softmax(z):
    z = z - z.max(axis=-1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=-1, keepdims=True))


# =============================================================== Bidirectional


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


@pytest.mark.parametrize("cls", BIDI, ids=ids)
def test_bidirectional_ragged_return_sequences_gives_lists(cls):
    X = make_ragged(LENGTHS)
    y = bidi_targets(cls, X, True)
    model = bidi(cls, return_sequences=True, dtype="float64").fit(X, y)
    pred = model.predict(X)
    assert isinstance(pred, list)
    assert [len(p) for p in pred] == list(LENGTHS)


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
    its batch adds after it (the backward LSTM starts at its last real step)."""
    X = make_ragged(LENGTHS)
    model = bidi(cls, merge_mode=merge_mode, return_sequences=return_sequences,
                 hidden_layer_sizes=(4, 3), dtype="float64")
    model.fit(X, bidi_targets(cls, X, return_sequences))
    batch = output(model, X)
    for k, x in enumerate(X):
        alone = output(model, [x])[0]
        assert_close(batch[k], alone, 1e-12, f"sequence {k}")
        assert_close(output(model, x[None])[0], alone, 1e-12, f"3-D {k}")


@pytest.mark.parametrize("return_sequences", [False, True])
def test_bidirectional_padding_values_never_matter_in_forward(return_sequences):
    X = make_ragged(LENGTHS)
    cls = BidirectionalLSTMRegressor
    model = bidi(cls, return_sequences=return_sequences, dtype="float64")
    model.fit(X, bidi_targets(cls, X, return_sequences))
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


def test_bidirectional_pickle_round_trip():
    X = make_ragged(LENGTHS)
    cls = BidirectionalLSTMClassifier
    y = bidi_targets(cls, X, True)
    model = bidi(cls, return_sequences=True, merge_mode="ave").fit(X, y)
    loaded = pickle.loads(pickle.dumps(model))
    for a, b in zip(output(loaded, X), output(model, X), strict=True):
        assert np.array_equal(a, b)
    assert loaded.merge_mode == "ave"


# ============================================================ Encoder-Decoder


def ed(cls, **params):
    defaults = dict(encoder_units=5, decoder_units=5, max_iter=3,
                    learning_rate_init=1e-2, random_state=0)
    return cls(**{**defaults, **params})


def ed_values(X, T_out=3, k=None):
    """Regression targets of a batch (array or ragged list): (n, T_out[, k])."""
    seqs = list(X) if isinstance(X, list) else [x for x in X]
    rows = []
    for x in seqs:
        s = np.cumsum(x[:, 0])
        steps = [s[min(t, len(s) - 1)] for t in range(T_out)]
        if k is None:
            rows.append(steps)
        else:
            rows.append([[v * (j + 1) for j in range(k)] for v in steps])
    return np.array(rows)


def ed_labels(X, T_out=3, n_classes=3):
    v = ed_values(X, T_out)
    labels = np.array(list("abcdefg"[:n_classes]))
    return labels[np.digitize(v, np.quantile(v, np.linspace(0, 1, n_classes + 1)
                                             [1:-1]))]


def ed_targets(cls, X, T_out=3, n_classes=3):
    return ed_labels(X, T_out, n_classes) if is_clf(cls) else ed_values(X, T_out)


@pytest.mark.parametrize("k", [None, 2])
@pytest.mark.parametrize("decoder", DECODERS)
def test_encoder_decoder_regressor_shapes(decoder, k):
    X = make_X(n=16, T=6, D=2)
    y = ed_values(X, T_out=3, k=k)
    model = ed(EncoderDecoderLSTMRegressor, decoder=decoder).fit(X, y)
    assert model.n_steps_out_ == 3
    assert model.n_features_in_ == 2
    pred = model.predict(X)
    assert pred.shape == y.shape
    assert np.all(np.isfinite(pred))
    assert np.isfinite(model.score(X, y))
    assert model.predict(X[:1]).shape == y[:1].shape
    # a shorter input sequence at predict time is fine: same output steps
    assert model.predict(X[:, :3]).shape == y.shape
    # T_out is learned from y: a refit with another T_out changes it
    model.fit(X, ed_values(X, T_out=5, k=k))
    assert model.n_steps_out_ == 5
    assert model.predict(X).shape[:2] == (16, 5)


@pytest.mark.parametrize("decoder", DECODERS)
def test_encoder_decoder_classifier_on_addition(decoder):
    X, y = make_addition(48, n_terms=2, largest=9, random_state=0)
    assert X.shape == (48, 3, 12) and y.shape == (48, 2)
    model = ed(EncoderDecoderLSTMClassifier, decoder=decoder).fit(X, y)
    assert model.n_steps_out_ == 2
    assert model.classes_.tolist() == sorted(set(y.ravel()))
    pred = model.predict(X)
    assert pred.shape == (48, 2)
    assert pred.dtype == y.dtype
    assert set(pred.ravel()) <= set(model.classes_)
    proba = model.predict_proba(X)
    assert proba.shape == (48, 2, len(model.classes_))
    assert np.all(proba >= 0)
    np.testing.assert_allclose(proba.sum(axis=-1), 1.0, rtol=1e-6)
    if decoder == "repeat":  # teacher forcing: predictions feed back argmax
        assert np.array_equal(pred, model.classes_[proba.argmax(axis=-1)])
    score = model.score(X, y)
    assert score == pytest.approx(np.mean(pred == y))


@pytest.mark.parametrize("decoder", DECODERS)
def test_encoder_decoder_binary_classifier(decoder):
    X = make_X(n=16, T=5)
    y = ed_labels(X, T_out=3, n_classes=2)
    model = ed(EncoderDecoderLSTMClassifier, decoder=decoder).fit(X, y)
    assert model.classes_.tolist() == ["a", "b"]
    proba = model.predict_proba(X)
    assert proba.shape == (16, 3, 2)
    np.testing.assert_allclose(proba.sum(axis=-1), 1.0, rtol=1e-6)
    assert np.array_equal(model.predict(X), model.classes_[proba.argmax(-1)])
    assert model.get_weights()["dense.W"].shape == (1, 5)


@pytest.mark.parametrize("cls", ED, ids=ids)
@pytest.mark.parametrize("decoder", DECODERS)
def test_encoder_decoder_other_t_out_at_score_raises(cls, decoder):
    X = make_X(n=16, T=5)
    model = ed(cls, decoder=decoder).fit(X, ed_targets(cls, X, T_out=3))
    for T_out in (2, 4):
        with pytest.raises(ValueError, match="output steps"):
            model.score(X, ed_targets(cls, X, T_out=T_out))
        with pytest.raises(ValueError, match="output steps"):
            model.partial_fit(X, ed_targets(cls, X, T_out=T_out))
    assert model.n_steps_out_ == 3


@pytest.mark.parametrize("cls", ED, ids=ids)
def test_encoder_decoder_teacher_forcing_needs_matching_units(cls, no_kernels):
    X = make_X(n=8, T=4)
    y = ed_targets(cls, X)
    for enc, dec in [(5, 4), ((3, 5), 3), ((5, 4), 5)]:
        model = ed(cls, encoder_units=enc, decoder_units=dec,
                   decoder="teacher_forcing")
        with pytest.raises(ValueError, match="decoder_units"):
            model.fit(X, y)
        with pytest.raises(ValueError, match="decoder_units"):
            model.make_objective(X, y)
    for bad in (0, -1, 2.5, True, None):
        with pytest.raises(ValueError, match="decoder_units"):
            ed(cls, decoder_units=bad).fit(X, y)
    for bad in ("attention", None, "Repeat"):
        with pytest.raises(ValueError, match="decoder"):
            ed(cls, decoder=bad).fit(X, y)
    for bad in (0, (4, 0), ()):
        with pytest.raises(ValueError, match="encoder_units"):
            ed(cls, encoder_units=bad).fit(X, y)


@pytest.mark.parametrize("cls", ED, ids=ids)
@pytest.mark.parametrize("decoder", DECODERS)
def test_encoder_decoder_weight_names(cls, decoder):
    X = make_X(n=16, T=5, D=3)
    y = ed_targets(cls, X, n_classes=3)
    model = ed(cls, encoder_units=(6, 4), decoder_units=4, decoder=decoder,
               max_iter=1).fit(X, y)
    shapes = {k: v.shape for k, v in model.get_weights().items()}
    n_out = 3 if is_clf(cls) else 1
    dec_in = 4 if decoder == "repeat" else n_out
    expected = {
        "encoder.0.W_ih": (24, 3), "encoder.0.W_hh": (24, 6),
        "encoder.0.b": (24,),
        "encoder.1.W_ih": (16, 6), "encoder.1.W_hh": (16, 4),
        "encoder.1.b": (16,),
        "decoder.0.W_ih": (16, dec_in), "decoder.0.W_hh": (16, 4),
        "decoder.0.b": (16,),
    }
    if decoder == "teacher_forcing":
        expected["decoder.start"] = (dec_in,)
    expected |= {"dense.W": (n_out, 4), "dense.b": (n_out,)}
    assert list(shapes) == list(expected)
    assert shapes == expected
    assert model.predict(X).shape == (16, 3)


def test_encoder_decoder_binary_teacher_forcing_feeds_two_classes():
    X = make_X(n=16, T=5)
    model = ed(EncoderDecoderLSTMClassifier, decoder="teacher_forcing",
               max_iter=1).fit(X, ed_labels(X, n_classes=2))
    shapes = {k: v.shape for k, v in model.get_weights().items()}
    assert shapes["decoder.start"] == (2,)
    assert shapes["decoder.0.W_ih"] == (20, 2)
    assert shapes["dense.W"] == (1, 5)


@pytest.mark.parametrize("encoder_units", [5, (4, 5)])
@pytest.mark.parametrize("cls", ED, ids=ids)
@pytest.mark.parametrize("decoder", DECODERS)
def test_encoder_decoder_ragged_equals_each_sequence_alone(cls, decoder,
                                                           encoder_units):
    X = make_ragged(LENGTHS)
    y = ed_targets(cls, X)
    model = ed(cls, decoder=decoder, encoder_units=encoder_units,
               dtype="float64").fit(X, y)
    batch = output(model, X)
    assert isinstance(batch, np.ndarray)
    assert batch.shape[:2] == (len(X), 3)
    assert model.predict(X).shape == (len(X), 3)
    for k, x in enumerate(X):
        alone = output(model, [x])[0]
        assert_close(batch[k], alone, 1e-12, f"sequence {k}")
        assert_close(output(model, x[None])[0], alone, 1e-12, f"3-D {k}")
    # padding values never matter
    lengths = np.array(LENGTHS)
    garbage = np.random.default_rng(2).normal(scale=1e3,
                                              size=(len(X), lengths.max(), 2))
    zeros = np.zeros_like(garbage)
    for k, x in enumerate(X):
        garbage[k, :len(x)] = zeros[k, :len(x)] = x
    assert np.array_equal(np.array(model.network_.forward(garbage, lengths)),
                          np.array(model.network_.forward(zeros, lengths)))


@pytest.mark.parametrize("cls", ED, ids=ids)
@pytest.mark.parametrize("decoder", DECODERS)
def test_encoder_decoder_1d_y_is_one_step(cls, decoder):
    X = make_X(n=16, T=5)
    y = ed_targets(cls, X)[:, -1]
    model = ed(cls, decoder=decoder).fit(X, y)
    assert model.n_steps_out_ == 1
    pred = model.predict(X)
    assert pred.shape == (16,)
    if is_clf(cls):
        proba = model.predict_proba(X)
        assert proba.shape == (16, len(model.classes_))
        np.testing.assert_allclose(proba.sum(axis=-1), 1.0, rtol=1e-6)
        assert model.score(X, y) == pytest.approx(np.mean(pred == y))
    else:
        assert np.isfinite(model.score(X, y))
    assert model.get_weights()["dense.W"].shape[0] == (3 if is_clf(cls) else 1)


ED_GRADIENT_CASES = [
    (EncoderDecoderLSTMRegressor, "repeat", "values", {}),
    (EncoderDecoderLSTMRegressor, "teacher_forcing", "values", {}),
    (EncoderDecoderLSTMRegressor, "teacher_forcing", "multi", {"alpha": 0.3}),
    (EncoderDecoderLSTMRegressor, "repeat", "stacked", {}),
    (EncoderDecoderLSTMRegressor, "teacher_forcing", "stacked", {}),
    (EncoderDecoderLSTMClassifier, "repeat", "multi", {}),
    (EncoderDecoderLSTMClassifier, "teacher_forcing", "multi", {}),
    (EncoderDecoderLSTMClassifier, "teacher_forcing", "binary", {"alpha": 0.3}),
    (EncoderDecoderLSTMClassifier, "repeat", "binary", {}),
]


@pytest.mark.parametrize(
    "cls,decoder,target,params", ED_GRADIENT_CASES,
    ids=[f"{c.__name__}-{d}-{t}-{len(p)}" for c, d, t, p in ED_GRADIENT_CASES])
def test_encoder_decoder_make_objective_gradient(cls, decoder, target, params):
    X = make_ragged(lengths=(3, 4, 1, 4, 2, 3), seed=3)
    if target == "binary":
        y = ed_labels(X, T_out=2, n_classes=2)
    elif is_clf(cls):
        y = ed_labels(X, T_out=2, n_classes=3)
    elif target == "multi":
        y = ed_values(X, T_out=2, k=2)
    else:
        y = ed_values(X, T_out=2)
    sizes = ({"encoder_units": (2, 3), "decoder_units": 3}
             if target == "stacked" else
             {"encoder_units": 3, "decoder_units": 3})
    model = ed(cls, decoder=decoder, dtype="float64", **sizes, **params)
    fun, theta0 = model.make_objective(X, y)
    fd_check(fun, theta0)


def _forced(model, X, targets):
    return np.array(model.network_.forward(X, None, targets=targets),
                    dtype=np.float64)


@pytest.mark.parametrize("target", ["values", "multi", "binary"])
def test_teacher_forcing_predict_feeds_back_its_own_predictions(target):
    """predict = the teacher-forced network fed the model's own outputs; fed
    the true targets instead, it would give other numbers."""
    X = make_X(n=24, T=5)
    if target == "values":
        cls, y = EncoderDecoderLSTMRegressor, ed_values(X, T_out=4)
    else:
        cls = EncoderDecoderLSTMClassifier
        y = ed_labels(X, T_out=4, n_classes=2 if target == "binary" else 3)
    model = ed(cls, decoder="teacher_forcing", dtype="float64",
               max_iter=5).fit(X, y)
    if target == "values":
        pred = model.predict(X)
        own, true = pred[..., None], y[..., None]
        assert_close(_forced(model, X, own)[..., 0], pred, 1e-12)
        assert not np.allclose(_forced(model, X, true)[..., 0], pred)
        return
    proba = model.predict_proba(X)
    codes = proba.argmax(axis=-1)
    true = np.searchsorted(model.classes_, y)
    assert not np.array_equal(codes[:, :-1], true[:, :-1])  # a real test
    if target == "binary":
        own = _forced(model, X, codes[..., None].astype(float))[..., 0]
        assert_close(1.0 / (1.0 + np.exp(-own)), proba[..., 1], 1e-12)
        other = _forced(model, X, true[..., None].astype(float))[..., 0]
        assert not np.allclose(1.0 / (1.0 + np.exp(-other)), proba[..., 1])
    else:
        own = np.exp(log_softmax(_forced(model, X, codes)))
        assert_close(own, proba, 1e-12)
        other = np.exp(log_softmax(_forced(model, X, true)))
        assert not np.allclose(other, proba)
    assert np.array_equal(model.predict(X), model.classes_[codes])


@pytest.mark.parametrize("cls", ED, ids=ids)
@pytest.mark.parametrize("decoder", DECODERS)
def test_encoder_decoder_pickle_round_trip(cls, decoder):
    X = make_ragged(LENGTHS)
    y = ed_targets(cls, X)
    model = ed(cls, decoder=decoder, dropout=0.2).fit(X, y)
    loaded = pickle.loads(pickle.dumps(model))
    assert np.array_equal(output(loaded, X), output(model, X))
    assert np.array_equal(loaded.predict(X), model.predict(X))
    assert loaded.n_steps_out_ == model.n_steps_out_ == 3
    for name, w in model.get_weights().items():
        assert np.array_equal(loaded.get_weights()[name], w)
    model.partial_fit(X, y)
    loaded.partial_fit(X, y)
    assert np.array_equal(output(loaded, X), output(model, X))


@pytest.mark.parametrize("cls", ED, ids=ids)
def test_encoder_decoder_partial_fit(cls):
    X = make_X(n=16, T=5)
    y = ed_targets(cls, X)
    model = ed(cls, decoder="teacher_forcing")
    extra = {"classes": np.unique(y)} if is_clf(cls) else {}
    if is_clf(cls):
        with pytest.raises(ValueError, match="classes"):
            model.partial_fit(X, y)
    model.partial_fit(X, y, **extra)
    assert model.n_iter_ == 1 and model.n_steps_out_ == 3
    before = flat_weights(model)
    model.partial_fit(X, y)
    assert model.n_iter_ == 2 and len(model.loss_curve_) == 2
    assert not np.array_equal(before, flat_weights(model))
    assert model.predict(X).shape == (16, 3)


def _with_nan(X, value=np.nan):
    X = np.array(X, dtype=np.float64)
    X[1, 2, 0] = value
    return X


BAD_ED = {
    "X-nan": lambda X, y: (_with_nan(X), y, "NaN"),
    "X-inf": lambda X, y: (_with_nan(X, np.inf), y, "infinity"),
    "X-4d": lambda X, y: (X[..., None], y, "4-D"),
    "X-1d": lambda X, y: (X[:, 0, 0], y, "2D array"),
    "y-too-short": lambda X, y: (X, y[:-1], "samples"),
    "y-too-long": lambda X, y: (X, np.concatenate([y, y[:1]]), "samples"),
    "X-ragged-nan": lambda X, y: ([_with_nan(X)[1]] + list(X[1:]), y, "NaN"),
    "y-3d-labels": lambda X, y: (X, y[..., None], None),
}


@pytest.mark.parametrize("case", list(BAD_ED))
@pytest.mark.parametrize("cls", ED, ids=ids)
def test_encoder_decoder_bad_input_raises_before_any_kernel(cls, case,
                                                            no_kernels):
    X = make_X(n=16, T=5)
    Xb, yb, match = BAD_ED[case](X, ed_targets(cls, X))
    if case == "y-3d-labels" and not is_clf(cls):
        yb = np.full_like(yb, np.nan, dtype=float)  # (n, T_out, 1) with NaN
        match = "NaN"
    model = ed(cls)
    with pytest.raises(ValueError, match=match):
        model.fit(Xb, yb)
    assert not hasattr(model, "network_")
    assert not hasattr(model, "n_steps_out_")


@pytest.mark.parametrize("cls", ED, ids=ids)
def test_encoder_decoder_bad_predict_input(cls, monkeypatch):
    X = make_X(n=16, T=5)
    model = ed(cls).fit(X, ed_targets(cls, X))
    disable_kernels(monkeypatch)
    for bad, match in [(_with_nan(X), "NaN"), (X[..., None], "4-D"),
                       (X[:, :, :1], "features")]:
        with pytest.raises(ValueError, match=match):
            model.predict(bad)


# ================================================================= Generative


def gen(**params):
    defaults = dict(hidden_layer_sizes=(6,), sequence_length=8, max_iter=3,
                    learning_rate_init=1e-2, random_state=0)
    return GenerativeLSTM(**{**defaults, **params})


TEXT = "the cat sat on the mat. "
TOKENS = [[0, 1, 2, 3, 1], [3, 1, 4], [2, 2, 0, 1, 4, 3]]


def continuous_data(n=8, T=6, D=2, seed=0):
    rng = np.random.default_rng(seed)
    return np.cumsum(rng.normal(scale=0.3, size=(n, T, D)), axis=1)


def test_generative_character_model_from_a_string():
    model = gen().fit(TEXT)
    assert model.kind_ == "characters"
    assert model.vocabulary_.tolist() == sorted(set(TEXT))
    assert model.n_tokens_ == len(set(TEXT)) == 11
    assert model.n_features_in_ == 1
    assert len(model.loss_curve_) == 3 and np.all(np.isfinite(model.loss_curve_))
    assert model.score_samples(TEXT).shape == (1,)


def test_generative_character_model_from_a_list_of_strings():
    texts = ["hello", "world", "zz"]
    model = gen().fit(texts)
    assert model.kind_ == "characters"
    assert model.vocabulary_.tolist() == sorted(set("helloworldzz"))
    assert model.n_tokens_ == 8
    assert model.score_samples(texts).shape == (3,)
    # one string counts as one sequence
    assert model.score_samples("hello").shape == (1,)
    np.testing.assert_allclose(model.score_samples("hello"),
                               model.score_samples(texts)[:1], rtol=1e-6)


def test_generative_token_model():
    model = gen().fit(TOKENS)
    assert model.kind_ == "tokens"
    assert model.n_tokens_ == 5
    assert model.vocabulary_.tolist() == [0, 1, 2, 3, 4]
    assert model.n_features_in_ == 1
    assert model.score_samples(TOKENS).shape == (3,)
    # a 2-D integer array is a batch of token sequences too
    arr = gen().fit(np.array([[0, 6, 2], [1, 1, 3]]))
    assert arr.kind_ == "tokens" and arr.n_tokens_ == 5  # the distinct ids
    assert arr.vocabulary_.tolist() == [0, 1, 2, 3, 6]
    # tokens above the vocabulary or negative at score time
    with pytest.raises(ValueError, match=r"not in the vocabulary.*\[5\]"):
        model.score_samples([[0, 5]])
    with pytest.raises(ValueError, match=">= 0"):
        model.score_samples([[0, -1]])


def test_generative_continuous_3d_and_2d():
    X = continuous_data(D=2)
    model = gen().fit(X)
    assert model.kind_ == "continuous"
    assert model.n_features_in_ == 2
    assert model.noise_variance_.shape == (2,)
    assert np.all(model.noise_variance_ > 0)
    assert model.score_samples(X).shape == (8,)
    # 2-D: a table of univariate sequences; n_features_in_ is its width
    X2 = X[:, :, 0]
    table = gen().fit(X2)
    assert table.kind_ == "continuous"
    assert table.n_features_in_ == 6
    assert table.noise_variance_.shape == (1,)
    assert table.score_samples(X2).shape == (8,)
    assert table.sample(2, length=3, random_state=0).shape == (2, 3, 1)
    # the same data as (n, T, 1): the same model
    same = gen().fit(X2[:, :, None])
    assert same.n_features_in_ == 1
    np.testing.assert_array_equal(same.score_samples(X2[:, :, None]),
                                  table.score_samples(X2))
    # ragged continuous sequences
    ragged = gen().fit([x[:n] for x, n in zip(X, (6, 3, 5, 2, 6, 4, 1, 6),
                                              strict=True)])
    assert ragged.n_features_in_ == 2
    assert ragged.score_samples([X[0, :2], X[1]]).shape == (2,)


def _char_inputs(model, text):
    """Start symbol then one-hot characters but the last: (T, V + 1)."""
    V = model.n_tokens_
    codes = np.searchsorted(model.vocabulary_, list(text))
    inputs = np.zeros((len(text), V + 1))
    inputs[0, V] = 1.0
    inputs[np.arange(1, len(text)), codes[:-1]] = 1.0
    return inputs, codes


def test_generative_score_samples_is_the_sum_of_step_log_probs():
    model = gen(dtype="float64").fit(TEXT)
    texts = ["the mat", "a", "cat sat on", "tt"]
    ll = model.score_samples(texts)
    assert ll.shape == (4,) and ll.dtype == np.float64
    assert np.all(np.isfinite(ll)) and np.all(ll < 0)
    expected = []
    for text in texts:
        inputs, codes = _char_inputs(model, text)
        logits = np.array(model.network_.forward(inputs[None]))[0]
        logp = log_softmax(logits)
        expected.append(logp[np.arange(len(text)), codes].sum())
    assert_close(ll, np.array(expected), 1e-12, "score_samples")
    n_chars = sum(len(t) for t in texts)
    assert model.score(texts) == pytest.approx(ll.sum() / n_chars, rel=1e-12)
    assert model.perplexity(texts) == pytest.approx(
        np.exp(-ll.sum() / n_chars), rel=1e-12)
    assert model.perplexity(texts) > 1.0


def test_generative_token_score_samples_recomputed():
    model = gen(dtype="float64").fit(TOKENS)
    seqs = [[4, 0, 0], [1]]
    ll = model.score_samples(seqs)
    V = model.n_tokens_
    for seq, value in zip(seqs, ll, strict=True):
        inputs = np.zeros((len(seq), V + 1))
        inputs[0, V] = 1.0
        inputs[np.arange(1, len(seq)), seq[:-1]] = 1.0
        logp = log_softmax(np.array(model.network_.forward(inputs[None]))[0])
        assert value == pytest.approx(logp[np.arange(len(seq)), seq].sum(),
                                      rel=1e-12)
    assert model.perplexity(seqs) == pytest.approx(
        np.exp(-ll.sum() / 4), rel=1e-12)


def test_generative_continuous_likelihood_recomputed():
    X = continuous_data(D=2)
    model = gen(dtype="float64").fit(X)

    def outputs(x):
        inputs = np.zeros((len(x), 3))
        inputs[0, 2] = 1.0
        inputs[1:, :2] = x[:-1]
        return np.array(model.network_.forward(inputs[None]))[0]

    # noise_variance_: the training mean squared error per feature
    resid = np.concatenate([outputs(x) - x for x in X])
    assert_close(model.noise_variance_, np.mean(resid ** 2, axis=0), 1e-12)
    var = model.noise_variance_
    ll = model.score_samples(X[:3])
    for x, value in zip(X[:3], ll, strict=True):
        r = outputs(x) - x
        expected = -0.5 * np.sum(r ** 2 / var + np.log(var) + np.log(2 * np.pi))
        assert value == pytest.approx(expected, rel=1e-12)
    assert model.score(X[:3]) == pytest.approx(ll.sum() / 18, rel=1e-12)
    with pytest.raises(ValueError, match="perplexity"):
        model.perplexity(X)


def test_generative_sample_types_and_ranges():
    chars = gen().fit(TEXT)
    out = chars.sample(3, length=7, random_state=0)
    assert isinstance(out, list) and len(out) == 3
    assert all(isinstance(s, str) and len(s) == 7 for s in out)
    assert set("".join(out)) <= set(TEXT)
    assert len(chars.sample(length=4, prompt="the", random_state=0)) == 1
    tokens = gen().fit(TOKENS)
    out = tokens.sample(4, length=6, random_state=0)
    assert isinstance(out, np.ndarray) and out.shape == (4, 6)
    assert np.issubdtype(out.dtype, np.integer)
    assert out.min() >= 0 and out.max() < 5
    assert tokens.sample(2, length=3, prompt=[1, 2], random_state=0).shape == \
        (2, 3)
    cont = gen().fit(continuous_data(D=2))
    out = cont.sample(2, length=5, random_state=0)
    assert out.shape == (2, 5, 2) and out.dtype == np.float64
    assert np.all(np.isfinite(out))
    prompt = continuous_data(D=2)[0, :3]
    assert cont.sample(2, length=5, prompt=prompt, random_state=0).shape == \
        (2, 5, 2)


@pytest.mark.parametrize("kind", ["characters", "tokens", "continuous"])
def test_generative_sample_reproducible(kind):
    data = {"characters": TEXT, "tokens": TOKENS,
            "continuous": continuous_data()}[kind]
    model = gen().fit(data)
    a = model.sample(4, length=20, random_state=0)
    b = model.sample(4, length=20, random_state=0)
    c = model.sample(4, length=20, random_state=1)
    d = model.sample(4, length=20, random_state=np.random.RandomState(0))
    if kind == "characters":
        assert a == b == d
        assert a != c
    else:
        assert np.array_equal(a, b) and np.array_equal(a, d)
        assert not np.array_equal(a, c)


@pytest.fixture(scope="module")
def char_model():
    """A character model trained enough for its next-character distributions
    to differ from one context to the next (6 windows, 45 Adam steps)."""
    return gen(hidden_layer_sizes=(8,), sequence_length=4, batch_size=2,
               max_iter=15, learning_rate_init=3e-2, dtype="float64").fit(TEXT)


@pytest.mark.parametrize("prompt", [None, "th", "the ca"])
def test_generative_sample_draws_from_the_model(prompt, char_model):
    """The next token is drawn from softmax(logits / temperature), the logits
    being those score_samples uses after the prompt."""
    model = char_model
    known = "" if prompt is None else prompt
    inputs, _ = _char_inputs(model, known + "t")
    logits = np.array(model.network_.forward(inputs[None]))[0, len(known)]
    for temperature in (1.0, 0.5):
        p = np.exp(log_softmax(logits / temperature))
        out = model.sample(4000, length=1, prompt=prompt,
                           temperature=temperature, random_state=0)
        codes = np.searchsorted(model.vocabulary_, [s[0] for s in out])
        freq = np.bincount(codes, minlength=model.n_tokens_) / 4000
        np.testing.assert_allclose(freq, p, rtol=0, atol=0.035)


def test_generative_continuous_sample_is_gaussian_around_the_prediction():
    X = continuous_data(D=2)
    model = gen(dtype="float64").fit(X)
    start = np.zeros((1, 1, 3))
    start[0, 0, 2] = 1.0
    mean = np.array(model.network_.forward(start))[0, 0]
    for temperature in (1.0, 0.5):
        out = model.sample(4000, length=1, temperature=temperature,
                           random_state=0)[:, 0]
        sd = temperature * np.sqrt(model.noise_variance_)
        np.testing.assert_allclose(out.mean(axis=0), mean, atol=0.1 * sd.max())
        np.testing.assert_allclose(out.std(axis=0), sd, rtol=0.1)


def test_generative_sample_rejects_bool_counts():
    """n_samples and length are counts: True is rejected with a clear
    ValueError, as for every other integer parameter (sequence_length=True
    is), not a TypeError from NumPy."""
    model = gen().fit(TEXT)
    with pytest.raises(ValueError, match="n_samples"):
        model.sample(True, length=3)
    with pytest.raises(ValueError, match="length"):
        model.sample(2, length=True)


def test_generative_sample_bad_arguments():
    model = gen().fit(TEXT)
    for t in (0, 0.0, -1.0, np.nan, np.inf, -np.inf, "1", None):
        with pytest.raises(ValueError, match="temperature"):
            model.sample(2, length=3, temperature=t)
    for n in (0, -1, 2.5, "2", None):
        with pytest.raises(ValueError, match="n_samples"):
            model.sample(n, length=3)
    for length in (0, -3, 1.5, None):
        with pytest.raises(ValueError, match="length"):
            model.sample(1, length=length)
    with pytest.raises(ValueError, match="vocabulary"):
        model.sample(1, length=3, prompt="thex")
    with pytest.raises(NotFittedError):
        gen().sample(1, length=3)


def test_generative_scoring_the_wrong_kind_of_data_raises():
    chars = gen().fit(TEXT)
    with pytest.raises(ValueError, match="vocabulary"):
        chars.score_samples(["the cat", "the dog"])
    with pytest.raises(ValueError, match="text"):
        chars.score_samples(TOKENS)
    with pytest.raises(ValueError, match="text"):
        chars.score(continuous_data())
    with pytest.raises(ValueError, match="empty"):
        chars.score_samples(["the", ""])
    tokens = gen().fit(TOKENS)
    with pytest.raises(ValueError, match="integer"):
        tokens.score_samples("abc")
    cont = gen().fit(continuous_data())
    with pytest.raises(ValueError, match="text"):
        cont.score_samples("abc")
    with pytest.raises(ValueError, match="features"):
        cont.score_samples(continuous_data(D=3))


@pytest.mark.parametrize("X,match", [
    ("", "empty"), (["ab", ""], "empty"), ([[0, -2, 1]], ">= 0"),
    (np.full((3, 4, 1), np.nan), "NaN"), (np.zeros((2, 3, 4, 1)), "4-D"),
])
def test_generative_bad_fit_input(X, match, no_kernels):
    model = gen()
    with pytest.raises(ValueError, match=match):
        model.fit(X)
    assert not hasattr(model, "network_") and not hasattr(model, "kind_")


@pytest.mark.parametrize("sequence_length", [0, -1, 2.5, True, None])
def test_generative_bad_sequence_length(sequence_length, no_kernels):
    with pytest.raises(ValueError, match="sequence_length"):
        gen(sequence_length=sequence_length).fit(TEXT)


def test_generative_low_temperature_continues_the_pattern():
    model = gen(hidden_layer_sizes=(16,), sequence_length=16, max_iter=15,
                learning_rate_init=3e-2).fit("abc" * 30)
    assert model.perplexity("abcabcabc") < 1.5
    out = model.sample(3, length=6, prompt="ab", temperature=0.05,
                       random_state=0)
    assert out == ["cabcab"] * 3
    out = model.sample(2, length=6, prompt="abca", temperature=0.05,
                       random_state=1)
    assert out == ["bcabca"] * 2
    # from the start symbol: the text began with 'a'
    assert model.sample(2, length=4, temperature=0.05,
                        random_state=0) == ["abca"] * 2


def test_generative_training_windows_are_truncated_bptt():
    """sequence_length=4 cuts a 10-character text into 3 windows (4, 4, 2
    steps), each from a zero state: the training loss is the mean over the
    10 steps of those windows' cross-entropies."""
    text = "abcdabdcab"
    model = gen(sequence_length=4, dtype="float64").fit(text)
    assert np.all(np.isfinite(model.loss_curve_))
    fun, theta0 = model.make_objective(text)
    loss, _ = fun(theta0)
    inputs, codes = _char_inputs(model, text)
    total = 0.0
    for start in (0, 4, 8):
        stop = start + 4
        logits = np.array(model.network_.forward(inputs[None, start:stop]))[0]
        total -= log_softmax(logits)[np.arange(len(logits)),
                                     codes[start:stop]].sum()
    assert loss == pytest.approx(total / 10, rel=1e-12)
    # ... which is not the untruncated loss over the whole text
    assert loss != pytest.approx(-model.score(text), rel=1e-6)
    # one window when it is long enough
    long = gen(sequence_length=10, dtype="float64").fit(text)
    fun, theta0 = long.make_objective(text)
    assert fun(theta0)[0] == pytest.approx(-long.score(text), rel=1e-12)


@pytest.mark.parametrize("kind", ["characters", "tokens", "continuous"])
def test_generative_make_objective_gradient(kind):
    data = {"characters": ["abcab", "ca", "bbbacb"],
            "tokens": [[0, 1, 2, 1], [2, 0]],
            "continuous": continuous_data(n=3, T=5, D=2)}[kind]
    model = gen(hidden_layer_sizes=(3,), sequence_length=3, dtype="float64")
    fun, theta0 = model.make_objective(data)
    assert not hasattr(model, "network_")
    fd_check(fun, theta0)


def test_generative_make_objective_of_a_fitted_model_uses_its_weights():
    model = gen(sequence_length=64, dtype="float64").fit(TEXT)
    fun, theta0 = model.make_objective(TEXT)
    assert np.array_equal(theta0, flat_weights(model))
    loss, _ = fun(theta0)
    assert loss == pytest.approx(-model.score(TEXT), rel=1e-12)  # 1 window
    fun(theta0 + 1.0)
    assert np.array_equal(flat_weights(model), theta0)  # untouched
    model.set_weights(_unflatten(model, theta0 * 0.5))
    assert fun(theta0 * 0.5)[0] == pytest.approx(-model.score(TEXT), rel=1e-12)


@pytest.mark.parametrize("kind", ["characters", "continuous"])
def test_generative_pickle_round_trip(kind):
    data = TEXT if kind == "characters" else continuous_data()
    model = gen(dropout=0.2).fit(data)
    loaded = pickle.loads(pickle.dumps(model))
    assert np.array_equal(loaded.score_samples(data), model.score_samples(data))
    a = model.sample(3, length=8, random_state=4)
    b = loaded.sample(3, length=8, random_state=4)
    if kind == "characters":
        assert a == b
        assert loaded.vocabulary_.tolist() == model.vocabulary_.tolist()
    else:
        assert np.array_equal(a, b)
        assert np.array_equal(loaded.noise_variance_, model.noise_variance_)
    model.partial_fit(data)
    loaded.partial_fit(data)
    assert np.array_equal(loaded.score_samples(data), model.score_samples(data))


def test_generative_weight_names_and_shapes():
    chars = gen(hidden_layer_sizes=(6,), max_iter=1).fit(TEXT)
    V = chars.n_tokens_
    shapes = {k: v.shape for k, v in chars.get_weights().items()}
    assert shapes == {"lstm.0.W_ih": (24, V + 1), "lstm.0.W_hh": (24, 6),
                      "lstm.0.b": (24,), "dense.W": (V, 6), "dense.b": (V,)}
    assert list(shapes) == ["lstm.0.W_ih", "lstm.0.W_hh", "lstm.0.b",
                            "dense.W", "dense.b"]
    stacked = gen(hidden_layer_sizes=(4, 3), max_iter=1).fit(TOKENS)
    shapes = {k: v.shape for k, v in stacked.get_weights().items()}
    assert shapes == {"lstm.0.W_ih": (16, 6), "lstm.0.W_hh": (16, 4),
                      "lstm.0.b": (16,), "lstm.1.W_ih": (12, 4),
                      "lstm.1.W_hh": (12, 3), "lstm.1.b": (12,),
                      "dense.W": (5, 3), "dense.b": (5,)}
    cont = gen(hidden_layer_sizes=(4,), max_iter=1).fit(continuous_data(D=3))
    shapes = {k: v.shape for k, v in cont.get_weights().items()}
    assert shapes["lstm.0.W_ih"] == (16, 4)
    assert shapes["dense.W"] == (3, 4)


def test_generative_partial_fit_and_warm_start():
    model = gen()
    model.partial_fit(TEXT)
    model.partial_fit(TEXT)
    assert model.n_iter_ == 2 and len(model.loss_curve_) == 2
    before = flat_weights(model)
    with pytest.raises(ValueError, match="vocabulary"):
        model.partial_fit("xyz")
    assert np.array_equal(before, flat_weights(model))
    assert model.n_iter_ == 2
    warm = gen(warm_start=True).fit(TEXT)
    warm.fit(TEXT)
    assert warm.n_iter_ == 6


def test_generative_refit_on_another_kind_forgets_the_old_one():
    """As for feature names in test_estimators: a fit forgets what an earlier
    fit on another kind of data learned (a character model has no Gaussian
    noise, a continuous one no vocabulary)."""
    X = continuous_data(D=2)
    model = gen(max_iter=1).fit(TEXT)
    model.fit(X)
    assert model.kind_ == "continuous"
    assert not hasattr(model, "vocabulary_")
    assert not hasattr(model, "n_tokens_")
    model.fit(TEXT)
    assert model.kind_ == "characters"
    assert not hasattr(model, "noise_variance_")
    table = pd.DataFrame(X[:, :, 0], columns=[f"t{k}" for k in range(6)])
    model.fit(table)
    assert model.feature_names_in_.tolist() == list(table.columns)
    model.fit(TOKENS)
    assert model.kind_ == "tokens"
    assert not hasattr(model, "feature_names_in_")
    assert not hasattr(model, "noise_variance_")


def test_generative_other_solvers_and_early_stopping():
    texts = ["the cat", "sat on", "the mat", "a hat", "the rat", "at"] * 2
    lbfgs = gen(solver="lbfgs", max_iter=5).fit(texts)
    assert lbfgs.loss_curve_[-1] < lbfgs.loss_curve_[0]
    es = gen(early_stopping=True, validation_fraction=0.25, max_iter=4).fit(texts)
    assert len(es.validation_scores_) == 4
    assert all(s < 0 for s in es.validation_scores_)  # mean log-likelihoods


# ============================================================ all three families


def fitted(cls, **params):
    """A tiny fitted model of ``cls`` with its data: (model, X, y)."""
    if cls is GenerativeLSTM:
        return gen(**params).fit(TEXT), TEXT, None
    X = make_ragged(LENGTHS)
    if cls in BIDI:
        y = bidi_targets(cls, X, False)
        return bidi(cls, **params).fit(X, y), X, y
    y = ed_targets(cls, X)
    return ed(cls, decoder="teacher_forcing", **params).fit(X, y), X, y


FAMILIES = BIDI + ED + [GenerativeLSTM]


def test_defaults_follow_the_spec():
    def defaults(f):
        return {k: p.default for k, p in inspect.signature(f).parameters.items()
                if p.default is not inspect.Parameter.empty}

    for cls in BIDI:
        d = defaults(cls)
        assert (d["units"], d["hidden_layer_sizes"], d["merge_mode"],
                d["return_sequences"]) == (50, None, "concat", False)
    for cls in ED:
        d = defaults(cls)
        assert (d["encoder_units"], d["decoder_units"], d["decoder"]) == \
            (100, 100, "repeat")
    d = defaults(GenerativeLSTM)
    assert (d["hidden_layer_sizes"], d["sequence_length"]) == ((128,), 64)
    d = defaults(GenerativeLSTM.sample)
    assert d == {"n_samples": 1, "length": 100, "prompt": None,
                 "temperature": 1.0, "random_state": None}
    for cls in FAMILIES:  # the shared training parameters
        d = defaults(cls)
        assert (d["solver"], d["max_iter"], d["dtype"], d["backend"]) == \
            ("adam", 200, "float32", "auto")


@pytest.mark.parametrize("cls", FAMILIES, ids=ids)
def test_make_objective_theta0_is_the_flat_weights(cls):
    model, X, y = fitted(cls, dtype="float64")
    fun, theta0 = (model.make_objective(X) if y is None
                   else model.make_objective(X, y))
    assert theta0.dtype == np.float64
    assert np.array_equal(theta0, flat_weights(model))
    loss, grad = fun(theta0)
    assert np.isfinite(loss) and grad.shape == theta0.shape
    # fun works on its own copy of the network
    before = output(model, X) if y is not None else model.score_samples(X)
    fun(theta0 + 0.5)
    after = output(model, X) if y is not None else model.score_samples(X)
    assert np.array_equal(after, before)
    # ... and its optimum can be loaded back with set_weights
    model.set_weights(_unflatten(model, theta0 * 0.9))
    fun2, theta2 = (model.make_objective(X) if y is None
                    else model.make_objective(X, y))
    assert np.array_equal(theta2, theta0 * 0.9)
    assert fun2(theta2)[0] == pytest.approx(fun(theta0 * 0.9)[0], rel=1e-12)


@pytest.mark.parametrize("cls", FAMILIES, ids=ids)
def test_set_weights_rejects_bad_dicts(cls):
    model, X, y = fitted(cls)
    good = model.get_weights()
    before = flat_weights(model)
    name = next(iter(good))  # lstm.0.forward.W_ih / encoder.0.W_ih / lstm.0.W_ih
    bad_dicts = [
        {k: v for k, v in good.items() if k != name},        # missing
        {**good, "lstm.9.W_ih": good[name]},                 # unknown
        {**good, name: good[name][:-1]},                     # shape
        {**good, name: np.full_like(good[name], np.nan)},    # not finite
    ]
    if cls in ED:  # teacher forcing: decoder.start is required
        bad_dicts.append({k: v for k, v in good.items() if k != "decoder.start"})
    for bad in bad_dicts:
        with pytest.raises(ValueError):
            model.set_weights(bad)
        assert np.array_equal(flat_weights(model), before)


@pytest.mark.parametrize("cls", FAMILIES, ids=ids)
def test_same_seed_same_numbers(cls):
    a, X, y = fitted(cls, dropout=0.3, batch_size=3)
    b, _, _ = fitted(cls, dropout=0.3, batch_size=3)
    c, _, _ = fitted(cls, dropout=0.3, batch_size=3, random_state=1)
    assert a.loss_curve_ == b.loss_curve_
    assert np.array_equal(flat_weights(a), flat_weights(b))
    assert not np.array_equal(flat_weights(a), flat_weights(c))
    if y is None:
        assert np.array_equal(a.score_samples(X), b.score_samples(X))
    else:
        assert np.array_equal(output(a, X), output(b, X))


@pytest.mark.parametrize("cls", FAMILIES, ids=ids)
def test_unfitted_models_raise_not_fitted(cls):
    model = cls()
    with pytest.raises(NotFittedError):
        model.get_weights()
    with pytest.raises(NotFittedError):
        if cls is GenerativeLSTM:
            model.score_samples(TEXT)
        else:
            model.predict(make_X(n=2))


@pytest.mark.parametrize("cls", ED + [GenerativeLSTM], ids=ids)
def test_zero_sample_weight_equals_dropping_the_samples(cls):
    """In the loss and its gradient (a generative model weights every
    training window of a sequence by that sequence's weight)."""
    if cls is GenerativeLSTM:
        X = ["abcab" * 3, "cab", "bcabca" * 2, "ab"]  # one vocabulary
        kept, y, y_kept = [X[0], X[2]], None, None
        model = gen(sequence_length=4, dtype="float64")
    else:
        X = make_ragged(LENGTHS)
        y = ed_targets(cls, X)
        kept, y_kept = X[:4], y[:4]
        model = ed(cls, decoder="teacher_forcing", dtype="float64")
    sw = (np.array([1.0, 0.0, 1.0, 0.0]) if cls is GenerativeLSTM
          else np.r_[np.ones(4), np.zeros(4)])
    args = (X,) if y is None else (X, y)
    fun_w, theta = model.make_objective(*args, sample_weight=sw)
    fun_d, theta_d = model.make_objective(*((kept,) if y is None
                                            else (kept, y_kept)))
    assert np.array_equal(theta, theta_d)
    theta = theta + np.random.default_rng(1).normal(scale=0.2, size=theta.shape)
    (lw, gw), (ld, gd) = fun_w(theta), fun_d(theta)
    assert lw == pytest.approx(ld, rel=1e-12)
    assert_close(gw, gd, 1e-12, "grad")
    # ... and the weights do matter
    assert model.make_objective(*args)[0](theta)[0] != pytest.approx(lw)


def test_generative_dataframe_of_ints_is_a_token_model():
    import pandas as pd

    tokens = np.random.default_rng(0).integers(0, 4, size=(6, 5))
    from_array = GenerativeLSTM((4,), max_iter=2, random_state=0).fit(tokens)
    from_frame = GenerativeLSTM((4,), max_iter=2, random_state=0).fit(
        pd.DataFrame(tokens))
    assert from_frame.kind_ == from_array.kind_ == "tokens"
    np.testing.assert_array_equal(from_frame.score_samples(pd.DataFrame(tokens)),
                                  from_array.score_samples(tokens))
