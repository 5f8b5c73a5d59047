"""What is specific to the encoder-decoder estimators: output sequences, decoders.

The behaviours every estimator shares run over the registry's
teacher-forcing encoder-decoders in ``test_estimator_*.py``. Here: the
number of output steps learned from y (and refused at score), both decoders'
shapes and weight layout, the parameters they need, ragged batches with
either decoder and a stacked encoder, a 1-D y as one output step, the
gradient of every decoder and target, teacher forcing feeding back its own
predictions, the 'repeat' decoder's pickle round trip and the targets only
a sequence output can get wrong.
"""

import pickle

import numpy as np
import pytest
from helpers import assert_close
from registry import LENGTHS, fd_check, make_ragged, make_X, output
from registry import class_id as ids

from numlstm import EncoderDecoderLSTMClassifier, EncoderDecoderLSTMRegressor
from numlstm.datasets import make_addition

# short fits stop at max_iter on purpose
pytestmark = pytest.mark.filterwarnings(
    "ignore::sklearn.exceptions.ConvergenceWarning")

DECODERS = ["repeat", "teacher_forcing"]
ED = [EncoderDecoderLSTMRegressor, EncoderDecoderLSTMClassifier]


def is_clf(cls):
    return cls is EncoderDecoderLSTMClassifier


def log_softmax(z):
    z = z - z.max(axis=-1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=-1, keepdims=True))


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
def test_repeat_decoder_pickle_round_trip(cls):
    """The registry's encoder-decoders use teacher forcing (their round trip:
    test_estimator_state.py); the 'repeat' decoder's network is another."""
    X = make_ragged(LENGTHS)
    y = ed_targets(cls, X)
    model = ed(cls, decoder="repeat", dropout=0.2).fit(X, y)
    loaded = pickle.loads(pickle.dumps(model))
    assert np.array_equal(output(loaded, X), output(model, X))
    assert np.array_equal(loaded.predict(X), model.predict(X))
    assert loaded.n_steps_out_ == model.n_steps_out_ == 3
    for name, w in model.get_weights().items():
        assert np.array_equal(loaded.get_weights()[name], w)
    model.partial_fit(X, y)
    loaded.partial_fit(X, y)
    assert np.array_equal(output(loaded, X), output(model, X))


#: targets only an encoder-decoder can get wrong (bad X, and y of the wrong
#: number of samples: test_estimator_inputs.py)
BAD_TARGETS = {
    "y-too-long": lambda y: (np.concatenate([y, y[:1]]), "samples"),
    "y-3d-labels": lambda y: (y[..., None], None),
}


@pytest.mark.parametrize("case", list(BAD_TARGETS))
@pytest.mark.parametrize("decoder", DECODERS)
@pytest.mark.parametrize("cls", ED, ids=ids)
def test_encoder_decoder_bad_targets_raise_before_any_kernel(cls, decoder,
                                                             case, no_kernels):
    X = make_X(n=16, T=5)
    yb, match = BAD_TARGETS[case](ed_targets(cls, X))
    if case == "y-3d-labels" and not is_clf(cls):
        yb = np.full_like(yb, np.nan, dtype=float)  # (n, T_out, 1) with NaN
        match = "NaN"
    model = ed(cls, decoder=decoder)
    with pytest.raises(ValueError, match=match):
        model.fit(X, yb)
    assert not hasattr(model, "network_")
    assert not hasattr(model, "n_steps_out_")
