"""The scikit-learn contract of every estimator, and the shapes of its outputs.

Over the registry's 11 estimators (``registry.py``): clone, get/set_params,
Pipeline, cross_val_score and GridSearchCV (Vanilla only: it is slow),
pickling an unfitted model, NotFittedError before a fit, the ``backend_``
attribute and the documented defaults; then what the outputs look like:
regression shapes, labels and ``classes_``, probabilities, and per-step
outputs (``return_sequences``, ragged batches giving lists).

Every fit is tiny (3-4 units, <= 24 sequences of <= 6 steps, 3 epochs).
"""

import inspect
import pickle

import numpy as np
import pytest
from helpers import assert_close
from registry import (
    ESTIMATORS,
    KIND,
    SCALAR_STEPS,
    make,
    output,
    predict,
    sample,
    select,
)
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.validation import check_is_fitted

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

# short fits stop at max_iter on purpose
pytestmark = pytest.mark.filterwarnings(
    "ignore::sklearn.exceptions.ConvergenceWarning")

ALL = select()
CLASSIFIERS = select({"regressors": "real targets, no classes",
                      "generative": "no targets, no classes"})
_NO_RETURN_SEQUENCES = ("no return_sequences parameter: an encoder-decoder "
                        "always outputs n_steps_out_ steps (its shapes: "
                        "test_encoder_decoder.py)")
#: the regressors with a return_sequences parameter
RS_REGRESSORS = select({"classifiers": "labels: the classifier tests below",
                        "no-return-sequences": _NO_RETURN_SEQUENCES})
#: the classifiers with a return_sequences parameter
RS_CLASSIFIERS = select({"regressors": "values: the regressor tests above",
                         "no-return-sequences": _NO_RETURN_SEQUENCES})


# ============================================================== scikit-learn


@pytest.mark.parametrize("key", ALL)
def test_pipeline_with_scaler(key):
    params = SCALAR_STEPS.get(key, {})
    X, y = sample(make(key, **params), "table", n=16, T=6)
    X = X * 10 + 3
    pipe = make_pipeline(StandardScaler(), make(key, **params)).fit(X, y)
    Xs = StandardScaler().fit_transform(X)
    ref = make(key, **params).fit(Xs, y)
    # a generative pipeline scores samples: it has no predict
    method = "score_samples" if KIND[key] == "generative" else "predict"
    assert np.array_equal(getattr(pipe, method)(X), getattr(ref, method)(Xs))
    assert np.isfinite(pipe.score(X, y))


@pytest.mark.parametrize("key", ["vanilla-reg", "vanilla-clf"])
def test_grid_search_two_jobs(key):
    X, y = sample(make(key), n=24, T=4)
    grid = GridSearchCV(make(key), {"units": [4, 6]}, cv=2, n_jobs=2).fit(X, y)
    assert grid.best_params_["units"] in (4, 6)
    assert np.all(np.isfinite(grid.cv_results_["mean_test_score"]))
    # the refitted best model is the one a plain fit with its params gives
    best = make(key, units=grid.best_params_["units"]).fit(X, y)
    assert np.array_equal(grid.predict(X), best.predict(X))


@pytest.mark.parametrize("key", ALL)
def test_cross_val_score(key):
    X, y = sample(make(key), "natural", n=24, T=4)
    scores = cross_val_score(make(key), X, y, cv=3)
    assert scores.shape == (3,)
    assert np.all(np.isfinite(scores))


@pytest.mark.parametrize("key", ALL)
def test_clone(key):
    model = make(key, dropout=0.25, alpha=0.5, solver="rmsprop")
    X, y = sample(model, "natural")
    model.fit(X, y)
    copy = clone(model)
    assert copy.get_params() == model.get_params()
    with pytest.raises(NotFittedError):
        check_is_fitted(copy)
    with pytest.raises(NotFittedError):
        predict(copy, X)
    assert np.array_equal(output(copy.fit(X, y), X), output(model, X))


@pytest.mark.parametrize("key", ALL)
def test_pickle_unfitted(key):
    model = make(key)
    loaded = pickle.loads(pickle.dumps(model))
    assert loaded.get_params() == model.get_params()
    with pytest.raises(NotFittedError):
        check_is_fitted(loaded)


@pytest.mark.parametrize("key", ALL)
def test_unfitted_models_raise_not_fitted(key):
    X, _ = sample(make(key), "natural")
    for model in (make(key), type(make(key))()):
        with pytest.raises(NotFittedError):
            model.get_weights()
        with pytest.raises(NotFittedError):
            model.set_weights({})
        with pytest.raises(NotFittedError):
            predict(model, X)


@pytest.mark.parametrize("key", ALL)
def test_backend_attribute(key):
    model = make(key, backend="cpu")
    X, y = sample(model, "natural")
    assert model.fit(X, y).backend_ == "cpu"
    with pytest.raises(ValueError, match="backend"):
        make(key, backend="nope").fit(X, y)


def test_defaults_follow_the_spec():
    def defaults(f):
        return {k: p.default for k, p in inspect.signature(f).parameters.items()
                if p.default is not inspect.Parameter.empty}

    for cls in (VanillaLSTMRegressor, VanillaLSTMClassifier):
        d = defaults(cls)
        assert (d["units"], d["return_sequences"]) == (50, False)
    for cls in (StackedLSTMRegressor, StackedLSTMClassifier):
        d = defaults(cls)
        assert (d["hidden_layer_sizes"], d["return_sequences"]) == \
            ((50, 50), False)
    for cls in (BidirectionalLSTMRegressor, BidirectionalLSTMClassifier):
        d = defaults(cls)
        assert (d["units"], d["hidden_layer_sizes"], d["merge_mode"],
                d["return_sequences"]) == (50, None, "concat", False)
    for cls in (EncoderDecoderLSTMRegressor, EncoderDecoderLSTMClassifier):
        d = defaults(cls)
        assert (d["encoder_units"], d["decoder_units"], d["decoder"]) == \
            (100, 100, "repeat")
    for cls in (CNNLSTMRegressor, CNNLSTMClassifier):
        d = defaults(cls)
        assert (d["filters"], d["kernel_size"], d["pool_size"], d["padding"],
                d["units"], d["hidden_layer_sizes"], d["return_sequences"]) == \
            ((32,), 3, 2, "valid", 50, None, False)
    d = defaults(GenerativeLSTM)
    assert (d["hidden_layer_sizes"], d["sequence_length"]) == ((128,), 64)
    d = defaults(GenerativeLSTM.sample)
    assert d == {"n_samples": 1, "length": 100, "prompt": None,
                 "temperature": 1.0, "random_state": None}
    # the shared training parameters (all of them: test_shared_parameters.py)
    for key in ESTIMATORS:
        d = defaults(type(make(key)))
        assert (d["solver"], d["max_iter"], d["dtype"], d["backend"]) == \
            ("adam", 200, "float32", "auto")


# ================================================================== outputs


@pytest.mark.parametrize("key", RS_REGRESSORS)
def test_regressor_output_shapes(key):
    model = make(key, return_sequences=False)
    X, s = sample(model, n=12, T=5)
    for y, shape in ((s, (12,)), (s[:, None], (12, 1)),
                     (np.c_[s, -s, 2 * s], (12, 3))):
        model = make(key, return_sequences=False).fit(X, y)
        assert model.predict(X).shape == shape
        assert model.out_activation_ == "identity"
        assert np.isfinite(model.score(X, y))
    _, steps = sample(make(key, return_sequences=True), n=12, T=5)
    for y, shape in ((steps, (12, 5)), (np.stack([steps, -steps], -1),
                                        (12, 5, 2))):
        model = make(key, return_sequences=True).fit(X, y)
        assert model.predict(X).shape == shape
        assert np.isfinite(model.score(X, y))


@pytest.mark.parametrize("key", RS_REGRESSORS)
def test_regressor_ragged_return_sequences(key):
    model = make(key, return_sequences=True, dtype="float64")
    X, steps = sample(model, "ragged")
    lengths = [len(x) for x in X]
    for k in (None, 2):
        y = steps if k is None else [np.stack([s, -s], -1) for s in steps]
        model = make(key, return_sequences=True, dtype="float64").fit(X, y)
        pred = model.predict(X)
        assert isinstance(pred, list) and len(pred) == len(X)
        for p, x, L in zip(pred, X, lengths, strict=True):
            assert p.shape == ((L,) if k is None else (L, k))
            assert_close(p, model.predict([x])[0], 1e-12)
        assert np.isfinite(model.score(X, y))


@pytest.mark.parametrize("kind", ["int", "str", "bool", "multi"])
@pytest.mark.parametrize("key", CLASSIFIERS)
def test_classifier_labels(key, kind):
    model = make(key)
    X, y = sample(model, n=18, T=4, labels=kind)
    model.fit(X, y)
    classes = np.unique(y)
    assert np.array_equal(model.classes_, classes)
    assert model.classes_.dtype == classes.dtype
    pred = model.predict(X)
    # one label per sequence, per step, or per output step
    assert pred.shape == y.shape and pred.dtype == classes.dtype
    assert set(pred.ravel().tolist()) <= set(classes.tolist())
    proba = model.predict_proba(X)
    assert proba.shape == (*y.shape, len(classes))
    assert np.all(proba >= 0)
    np.testing.assert_allclose(proba.sum(axis=-1), 1.0, rtol=0, atol=1e-12)
    assert np.array_equal(pred, classes[np.argmax(proba, axis=-1)])
    assert model.out_activation_ == ("softmax" if len(classes) > 2
                                     else "logistic")
    assert 0.0 <= model.score(X, y) <= 1.0


def _pattern(labels, shape):
    """``labels`` repeated in order over an array of ``shape``."""
    labels = np.asarray(labels)
    return labels[np.arange(int(np.prod(shape))) % len(labels)].reshape(shape)


@pytest.mark.parametrize("key", CLASSIFIERS)
def test_classes_sorted(key):
    X, y = sample(make(key), n=12, T=4)
    model = make(key).fit(X, _pattern(["zeta", "alpha", "mid"], y.shape))
    assert model.classes_.tolist() == ["alpha", "mid", "zeta"]
    model = make(key).fit(X, _pattern([7, -3], y.shape))
    assert model.classes_.tolist() == [-3, 7]


@pytest.mark.parametrize("n_classes", [2, 3])
@pytest.mark.parametrize("key", RS_CLASSIFIERS)
def test_classifier_return_sequences(key, n_classes):
    model = make(key, return_sequences=True)
    X, codes = sample(model, n=12, T=5,
                      labels="multi" if n_classes == 3 else "int")
    labels = np.array(["lo", "mid", "hi"])[:n_classes][codes]
    model.fit(X, labels)
    assert sorted(model.classes_.tolist()) == model.classes_.tolist()
    assert len(model.classes_) == n_classes
    pred = model.predict(X)
    assert pred.shape == (12, 5)
    proba = model.predict_proba(X)
    assert proba.shape == (12, 5, n_classes)
    np.testing.assert_allclose(proba.sum(axis=-1), 1.0, rtol=0, atol=1e-12)
    assert np.array_equal(pred, model.classes_[np.argmax(proba, axis=-1)])
    assert 0.0 <= model.score(X, labels) <= 1.0


@pytest.mark.parametrize("key", RS_CLASSIFIERS)
def test_classifier_ragged_return_sequences(key):
    model = make(key, return_sequences=True, dtype="float64")
    X, y = sample(model, "ragged", labels="str")
    model.fit(X, y)
    assert model.classes_.tolist() == ["down", "up"]
    pred, proba = model.predict(X), model.predict_proba(X)
    assert isinstance(pred, list) and isinstance(proba, list)
    for x, p, q in zip(X, pred, proba, strict=True):
        assert p.shape == (len(x),) and q.shape == (len(x), 2)
        assert_close(q, model.predict_proba([x])[0], 1e-12)
    assert 0.0 <= model.score(X, y) <= 1.0


@pytest.mark.parametrize("key", RS_CLASSIFIERS)
def test_ragged_per_step_string_labels_of_different_widths(key):
    """Labels are not truncated to the width of the first sequence's
    strings (a ragged list of '<U1' and '<U4' arrays)."""
    model = make(key, return_sequences=True)
    X, _ = sample(model, "ragged", lengths=(2, 3, 4, 3))
    y = [np.array(["a", "b"]), np.array(["long", "a", "b"]),
         np.array(["a", "long", "b", "a"]), np.array(["b", "b", "a"])]
    model.fit(X, y)
    assert model.classes_.tolist() == ["a", "b", "long"]
    assert set(np.concatenate(model.predict(X)).tolist()) <= {"a", "b", "long"}
