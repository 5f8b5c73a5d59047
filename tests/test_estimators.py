"""The scikit-learn estimators: input forms, validation, training, outputs.

Every fit here is tiny (a few units, <= 64 sequences of <= 8 steps, <= 20
epochs): these tests check the contract of the four estimators of issue 3
and ../shared/GUIDE.md section 2, not how well they learn (see
``test_learning.py``).
"""

import pickle
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from helpers import assert_close
from scipy import sparse
from scipy.optimize import minimize
from sklearn.base import clone, is_classifier
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.model_selection import GridSearchCV, cross_val_score, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

import numlstm
from numlstm import (
    DivergenceError,
    StackedLSTMClassifier,
    StackedLSTMRegressor,
    VanillaLSTMClassifier,
    VanillaLSTMRegressor,
)
from numlstm.backends import resolve

# short fits stop at max_iter on purpose
pytestmark = pytest.mark.filterwarnings(
    "ignore::sklearn.exceptions.ConvergenceWarning")

REPO = Path(__file__).resolve().parent.parent

ALL = [VanillaLSTMRegressor, VanillaLSTMClassifier, StackedLSTMRegressor,
       StackedLSTMClassifier]
REGRESSORS = [VanillaLSTMRegressor, StackedLSTMRegressor]
CLASSIFIERS = [VanillaLSTMClassifier, StackedLSTMClassifier]
SOLVERS = ["adam", "sgd", "rmsprop", "lbfgs"]
#: max |difference| / max(1, max|reference|) allowed where the same numbers
#: are computed in a differently shaped batch
BATCH_TOL = {"float32": 1e-6, "float64": 1e-12}


def ids(cls):
    return cls.__name__


def make(cls, **params):
    """A tiny estimator of ``cls``; ``params`` override the defaults."""
    size = ({"units": 4} if "units" in cls().get_params()
            else {"hidden_layer_sizes": (4, 3)})
    defaults = dict(max_iter=3, learning_rate_init=1e-2, random_state=0)
    return cls(**{**size, **defaults, **params})


def sums(X):
    """One number per sequence (of a 2-D/3-D array or a ragged list)."""
    if isinstance(X, list):
        return np.array([np.asarray(x, np.float64).reshape(len(x), -1)[:, 0].sum()
                         for x in X])
    X = np.asarray(X, np.float64)
    return (X[:, :, 0] if X.ndim == 3 else X).sum(axis=1)


def targets(cls, X, kind="int"):
    """Regression values, or balanced labels of ``kind`` for a classifier."""
    s = sums(X)
    if not is_classifier(cls()):
        return s
    hi = s > np.median(s)
    if kind == "str":
        return np.where(hi, "up", "down")
    if kind == "bool":
        return hi
    if kind == "multi":
        return np.digitize(s, np.quantile(s, [1 / 3, 2 / 3]))
    return hi.astype(np.int64)


def make_X(n=16, T=5, D=2, seed=0):
    return np.random.default_rng(seed).normal(size=(n, T, D))


def make_ragged(lengths=(3, 5, 1, 4, 2, 5, 4, 3), D=2, seed=1):
    rng = np.random.default_rng(seed)
    return [rng.normal(size=(L, D)) for L in lengths]


def output(model, X):
    """What the model predicts, as numbers: probabilities for classifiers."""
    if is_classifier(model):
        return model.predict_proba(X)
    return model.predict(X)


def flat_weights(model):
    return np.concatenate([w.ravel() for w in model.get_weights().values()])


def all_finite(weights):
    return all(np.all(np.isfinite(w)) for w in weights.values())


# ===================================================================== 1. input


@pytest.mark.parametrize("cls", ALL, ids=ids)
def test_3d_array(cls):
    X = make_X(n=12, T=6, D=3)
    model = make(cls).fit(X, targets(cls, X))
    assert model.n_features_in_ == 3
    assert model.predict(X).shape == (12,)
    assert not hasattr(model, "feature_names_in_")
    assert model.backend_ == "cpu"


@pytest.mark.parametrize("cls", ALL, ids=ids)
def test_2d_array_is_univariate_sequences(cls):
    X3 = make_X(n=12, T=6, D=1)
    X2 = X3[:, :, 0]
    y = targets(cls, X3)
    model = make(cls).fit(X2, y)
    # a 2-D table: n_features_in_ is its number of columns, as in sklearn
    assert model.n_features_in_ == 6
    # ... and the same data as (n, T, 1): same fit, same predictions
    ref = make(cls).fit(X3, y)
    assert np.array_equal(output(model, X2), output(ref, X3))
    assert np.array_equal(output(model, X3), output(model, X2))


@pytest.mark.parametrize("cls", ALL, ids=ids)
def test_dataframe(cls):
    X2 = make_X(n=12, T=5, D=1)[:, :, 0]
    cols = [f"t{k}" for k in range(5)]
    df = pd.DataFrame(X2, columns=cols)
    y = targets(cls, X2)
    model = make(cls).fit(df, y)
    assert model.n_features_in_ == 5
    assert isinstance(model.feature_names_in_, np.ndarray)
    assert model.feature_names_in_.dtype == object
    assert model.feature_names_in_.tolist() == cols
    ref = make(cls).fit(X2, y)
    assert not hasattr(ref, "feature_names_in_")
    assert np.array_equal(output(model, df), output(ref, X2))
    # refitting on an array forgets the names
    assert not hasattr(model.fit(X2, y), "feature_names_in_")


@pytest.mark.parametrize("cls", REGRESSORS, ids=ids)
def test_dataframe_with_other_column_names_at_predict_raises(cls):
    """scikit-learn's contract (``validate_data(reset=False)``): predict on a
    DataFrame whose columns differ from those seen in fit is an error."""
    X2 = make_X(n=12, T=5, D=1)[:, :, 0]
    df = pd.DataFrame(X2, columns=[f"t{k}" for k in range(5)])
    model = make(cls).fit(df, targets(cls, X2))
    renamed = df.rename(columns=lambda c: c.upper())
    with pytest.raises(ValueError, match="feature names"):
        model.predict(renamed)
    with pytest.raises(ValueError, match="feature names"):
        model.predict(df[df.columns[::-1]])


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("cls", ALL, ids=ids)
def test_ragged_2d_equals_each_sequence_alone(cls, dtype):
    X = make_ragged()
    model = make(cls, dtype=dtype).fit(X, targets(cls, X))
    assert model.n_features_in_ == 2
    batch = output(model, X)
    assert batch.shape[0] == len(X)
    for k, x in enumerate(X):
        alone = output(model, [x])[0]
        assert_close(batch[k], alone, BATCH_TOL[dtype], f"sequence {k}")
        # a single sequence as a 3-D batch of one: the same numbers
        assert_close(output(model, x[None])[0], alone, BATCH_TOL[dtype])


@pytest.mark.parametrize("cls", ALL, ids=ids)
def test_ragged_1d_sequences(cls):
    X1 = [x[:, 0] for x in make_ragged()]
    X2 = [x[:, None] for x in X1]
    y = targets(cls, X1)
    model = make(cls, dtype="float64").fit(X1, y)
    assert model.n_features_in_ == 1
    ref = make(cls, dtype="float64").fit(X2, y)
    assert np.array_equal(output(model, X1), output(ref, X2))
    for k, x in enumerate(X1):
        assert_close(output(model, X1)[k], output(model, [x, x[:1]])[0], 1e-12)


@pytest.mark.parametrize("cls", ALL, ids=ids)
def test_ragged_padding_values_never_matter_in_forward(cls):
    """Whatever sits after a sequence's end is ignored by the network."""
    X = make_ragged()
    model = make(cls, dtype="float64").fit(X, targets(cls, X))
    lengths = np.array([len(x) for x in X])
    T = lengths.max()
    zeros = np.zeros((len(X), T, 2))
    garbage = np.random.default_rng(5).normal(scale=1e3, size=(len(X), T, 2))
    for k, x in enumerate(X):
        zeros[k, :len(x)] = x
        garbage[k, :len(x)] = x
    a = np.array(model.network_.forward(zeros, lengths))
    b = np.array(model.network_.forward(garbage, lengths))
    assert np.array_equal(a, b)


@pytest.mark.parametrize("cls", ALL, ids=ids)
def test_ragged_loss_and_gradient_are_the_mean_over_sequences(cls):
    """Exact masking in training: the loss of a ragged batch is the mean of
    each sequence's own loss, and so is its gradient."""
    X = make_ragged(lengths=(3, 5, 1, 4, 2, 5))
    y = targets(cls, X)
    model = make(cls, dtype="float64", alpha=0.0).fit(X, y)
    fun, theta = model.make_objective(X, y)
    loss, grad = fun(theta)
    parts = [model.make_objective([x], y[k:k + 1])[0](theta)
             for k, x in enumerate(X)]
    assert_close(loss, np.mean([p[0] for p in parts]), 1e-12, "loss")
    assert_close(grad, np.mean([p[1] for p in parts], axis=0), 1e-12, "grad")


@pytest.mark.parametrize("cls", REGRESSORS, ids=ids)
def test_ragged_return_sequences_loss_is_the_mean_over_real_steps(cls):
    X = make_ragged(lengths=(3, 5, 1, 4))
    y = [np.cumsum(x[:, 0]) for x in X]
    model = make(cls, dtype="float64", return_sequences=True).fit(X, y)
    fun, theta = model.make_objective(X, y)
    loss, grad = fun(theta)
    lengths = np.array([len(x) for x in X], dtype=np.float64)
    parts = [model.make_objective([x], y[k][None])[0](theta)
             for k, x in enumerate(X)]
    w = lengths / lengths.sum()
    assert_close(loss, sum(wk * p[0] for wk, p in zip(w, parts, strict=True)),
                 1e-12, "loss")
    assert_close(grad, sum(wk * p[1] for wk, p in zip(w, parts, strict=True)),
                 1e-12, "grad")


# ================================================================ 2. bad input


def _boom(*args, **kwargs):
    raise AssertionError("a kernel ran")


def disable_kernels(monkeypatch):
    """Make the CPU backend's LSTM and dense kernels fail if called."""
    backend_cls = type(resolve("cpu"))
    monkeypatch.setattr(backend_cls, "lstm_forward", staticmethod(_boom))
    monkeypatch.setattr(backend_cls, "dense_forward", staticmethod(_boom))


@pytest.fixture
def no_kernels(monkeypatch):
    disable_kernels(monkeypatch)


@pytest.mark.parametrize("cls", ALL, ids=ids)
def test_no_kernels_fixture_works(cls, no_kernels):
    X = make_X()
    with pytest.raises(AssertionError, match="a kernel ran"):
        make(cls).fit(X, targets(cls, X))


def _with(X, index, value):
    X = np.array(X, dtype=np.float64)
    X[index] = value
    return X


X0 = make_X()
Y_REG = targets(VanillaLSTMRegressor, X0)
Y_CLF = targets(VanillaLSTMClassifier, X0)

#: name -> (X, y or None for the class's usual targets, params, match)
BAD_FIT = {
    "X-nan": (_with(X0, (0, 1, 1), np.nan), None, {}, "NaN"),
    "X-inf": (_with(X0, (3, 0, 0), np.inf), None, {}, "infinity"),
    "X-2d-nan": (_with(X0[:, :, 0], (2, 2), np.nan), None, {}, "NaN"),
    "X-no-samples": (np.zeros((0, 5, 2)), np.zeros(0), {}, "0 sample"),
    "X-no-steps": (np.zeros((16, 0, 2)), None, {}, "time step"),
    "X-2d-no-steps": (np.zeros((16, 0)), None, {}, "0 feature"),
    "X-no-features": (np.zeros((16, 5, 0)), None, {}, "feature"),
    "X-4d": (X0[..., None], None, {}, "4-D"),
    "X-1d": (X0[:, 0, 0], None, {}, "2D array"),
    "X-complex": (X0 + 1j, None, {}, "[Cc]omplex"),
    "X-sparse": (sparse.csr_matrix(X0[:, :, 0]), None, {}, "sparse"),
    "X-ragged-widths": ([np.zeros((3, 2))] * 8 + [np.zeros((4, 3))] * 8, None,
                        {}, "different numbers of features"),
    "X-ragged-nan": (make_ragged(lengths=(3, 4) * 8, seed=2)[:15]
                     + [np.full((2, 2), np.nan)], None, {}, r"X\[15\].*NaN"),
    "X-ragged-empty-element": ([np.zeros((3, 2))] * 15 + [np.zeros((0, 2))],
                               None, {}, r"X\[15\] is an empty sequence"),
    "X-empty-list": ([], np.zeros(0), {}, "."),
    "y-short": (X0, "short", {}, "16 samples but y has 15"),
    "y-None": (X0, "none", {}, "y is None|requires y"),
    "sw-negative": (X0, None, {"sample_weight": -np.ones(16)}, "[Nn]egative"),
    "sw-zero-sum": (X0, None, {"sample_weight": np.zeros(16)}, "non-zero|zero"),
    "sw-length": (X0, None, {"sample_weight": np.ones(3)}, "shape"),
    "solver": (X0, None, {"solver": "x"}, "solver"),
    "units-0": (X0, None, {"size": 0}, "units|hidden_layer_sizes"),
    "dropout-1": (X0, None, {"dropout": 1.0}, "dropout"),
    "dtype-float16": (X0, None, {"dtype": "float16"}, "dtype"),
    "clip-negative": (X0, None, {"clip_norm": -1}, "clip_norm"),
    "batch-size-0": (X0, None, {"batch_size": 0}, "batch_size"),
    "max-iter-0": (X0, None, {"max_iter": 0}, "max_iter"),
    "lr-0": (X0, None, {"learning_rate_init": 0.0}, "learning_rate_init"),
    "validation-fraction-1": (X0, None, {"validation_fraction": 1.0},
                              "validation_fraction"),
}


def _bad_fit_args(cls, case):
    X, y, params, match = BAD_FIT[case]
    params = dict(params)
    sw = params.pop("sample_weight", None)
    if "size" in params:
        size = params.pop("size")
        params["units" if "units" in cls().get_params()
               else "hidden_layer_sizes"] = (
            size if "units" in cls().get_params() else (4, size))
    if y is None or isinstance(y, str):
        full = Y_CLF if is_classifier(cls()) else Y_REG
        y = {None: full, "short": full[:-1], "none": None}[y]
    return X, y, sw, params, match


@pytest.mark.parametrize("case", list(BAD_FIT))
@pytest.mark.parametrize("cls", ALL, ids=ids)
def test_bad_fit_input_raises_before_any_kernel(cls, case, no_kernels):
    X, y, sw, params, match = _bad_fit_args(cls, case)
    model = make(cls, **params)
    with pytest.raises(ValueError, match=match):
        model.fit(X, y, sample_weight=sw)
    with pytest.raises(NotFittedError):
        model.predict(X0)


@pytest.mark.parametrize("case", ["y-short", "y-nan"])
@pytest.mark.parametrize("cls", ALL, ids=ids)
def test_failed_first_fit_leaves_no_fitted_state(cls, case):
    """A fit whose y fails validation (after X was accepted) must not leave
    the estimator looking fitted: scikit-learn validates X and y together
    (``validate_data(X, y)``) before setting ``n_features_in_``."""
    X, y, sw, params, match = _bad_fit_args(cls, "y-short")
    if case == "y-nan":
        y = _with(np.r_[y, y[:1]], 0, np.nan)
        match = "NaN"
    model = make(cls, **params)
    with pytest.raises(ValueError, match=match):
        model.fit(X, y, sample_weight=sw)
    with pytest.raises(NotFittedError):
        check_is_fitted(model)
    assert not hasattr(model, "n_features_in_")


@pytest.mark.parametrize("case", ["X-nan", "X-4d", "X-sparse", "y-short",
                                  "sw-negative", "X-ragged-widths"])
@pytest.mark.parametrize("cls", ALL, ids=ids)
def test_bad_partial_fit_input_raises_before_any_kernel(cls, case, no_kernels):
    X, y, sw, params, match = _bad_fit_args(cls, case)
    model = make(cls, **params)
    kw = {"classes": [0, 1]} if is_classifier(model) else {}
    with pytest.raises(ValueError, match=match):
        model.partial_fit(X, y, sample_weight=sw, **kw)


@pytest.mark.parametrize("cls", ALL, ids=ids)
def test_nan_and_inf_in_y(cls, no_kernels):
    for bad in (np.nan, np.inf):
        y = targets(cls, X0).astype(np.float64)
        y[4] = bad
        with pytest.raises(ValueError, match="NaN|infinity|[Uu]nknown label"):
            make(cls).fit(X0, y)


@pytest.mark.parametrize("cls", REGRESSORS, ids=ids)
def test_nan_in_sequence_targets(cls, no_kernels):
    y = X0[:, :, 0].copy()
    y[2, 3] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        make(cls, return_sequences=True).fit(X0, y)


@pytest.mark.parametrize("cls", CLASSIFIERS, ids=ids)
def test_single_class_raises(cls, no_kernels):
    with pytest.raises(ValueError, match="2 classes|one class"):
        make(cls).fit(X0, np.full(16, "a"))


@pytest.mark.parametrize("cls", CLASSIFIERS, ids=ids)
def test_partial_fit_needs_classes_on_first_call(cls, no_kernels):
    model = make(cls)
    with pytest.raises(ValueError, match="classes"):
        model.partial_fit(X0, Y_CLF)
    assert not hasattr(model, "classes_")


@pytest.mark.parametrize("cls", CLASSIFIERS, ids=ids)
def test_partial_fit_unseen_labels_raise_before_any_kernel(cls, monkeypatch):
    model = make(cls).partial_fit(X0, Y_CLF, classes=[0, 1])
    before = model.predict_proba(X0)
    disable_kernels(monkeypatch)
    with pytest.raises(ValueError, match=r"not seen.*\[2\]"):
        model.partial_fit(X0, np.where(Y_CLF == 1, 2, 0))
    # a label absent from classes= on the first call
    with pytest.raises(ValueError, match="not seen"):
        make(cls).partial_fit(X0, Y_CLF + 5, classes=[5, 7])
    with pytest.raises(ValueError, match="classes"):
        model.partial_fit(X0, Y_CLF, classes=[0, 1, 2])
    monkeypatch.undo()
    assert np.array_equal(model.predict_proba(X0), before)
    assert model.n_iter_ == 1


@pytest.mark.parametrize("cls", ALL, ids=ids)
def test_partial_fit_with_lbfgs_raises(cls, no_kernels):
    model = make(cls, solver="lbfgs")
    kw = {"classes": [0, 1]} if is_classifier(model) else {}
    with pytest.raises(ValueError, match="lbfgs"):
        model.partial_fit(X0, targets(cls, X0), **kw)


#: name -> (what to predict on a model fitted on X0 (16, 5, 2), match)
BAD_PREDICT = {
    "3d-other-D": (X0[:, :, :1], "1 features per time step.*expecting 2"),
    "2d": (X0[:, :, 0], "1 features per time step.*expecting 2"),
    "ragged-other-D": ([np.zeros((3, 3)), np.zeros((2, 3))],
                       "3 features per time step"),
    "nan": (_with(X0, (1, 1, 1), np.nan), "NaN"),
    "inf": (_with(X0, (1, 1, 1), -np.inf), "infinity"),
    "no-samples": (np.zeros((0, 5, 2)), "0 sample"),
    "no-steps": (np.zeros((4, 0, 2)), "time step"),
    "4d": (X0[..., None], "4-D"),
    "1d": (X0[:, 0, 0], "2D array"),
    "complex": (X0 * 1j, "[Cc]omplex"),
    "sparse": (sparse.csr_matrix(X0[:, :, 0]), "sparse"),
    "ragged-widths": ([np.zeros((3, 2)), np.zeros((2, 3))],
                      "different numbers of features"),
}


@pytest.fixture(scope="module")
def fitted_on_X0():
    return {cls: make(cls).fit(X0, targets(cls, X0)) for cls in ALL}


@pytest.mark.parametrize("case", list(BAD_PREDICT))
@pytest.mark.parametrize("cls", ALL, ids=ids)
def test_bad_predict_input_raises_before_any_kernel(cls, case, fitted_on_X0,
                                                    no_kernels):
    model = fitted_on_X0[cls]
    X, match = BAD_PREDICT[case]
    n = X.shape[0] if hasattr(X, "shape") else len(X)
    methods = [model.predict, lambda X: model.score(X, np.zeros(n))]
    if is_classifier(model):
        methods.append(model.predict_proba)
    for method in methods:
        with pytest.raises(ValueError, match=match):
            method(X)


@pytest.mark.parametrize("cls", ALL, ids=ids)
def test_2d_table_width_is_checked_at_predict(cls, monkeypatch):
    X2 = X0[:, :, 0]
    model = make(cls).fit(X2, targets(cls, X0))
    disable_kernels(monkeypatch)
    with pytest.raises(ValueError, match="4 features.*expecting 5"):
        model.predict(X2[:, :4])
    with pytest.raises(ValueError, match="6 features.*expecting 5"):
        model.predict(np.hstack([X2, X2[:, :1]]))


@pytest.mark.parametrize("cls", REGRESSORS, ids=ids)
def test_failed_refit_leaves_the_fitted_model_usable(cls):
    """A refit that fails validation must not leave the estimator half
    updated (its n_features_in_ changed but its network not)."""
    model = make(cls).fit(X0, Y_REG)
    before = model.predict(X0)
    X3 = make_X(D=3, seed=4)
    y_bad = _with(Y_REG, 0, np.nan)
    with pytest.raises(ValueError, match="NaN"):
        model.fit(X3, y_bad)
    assert model.n_features_in_ == 2
    assert np.array_equal(model.predict(X0), before)
    with pytest.raises(ValueError, match="features"):
        model.predict(X3)


# =============================================================== 3. divergence


DIVERGING = {
    # the first step's loss (~1e30) is finite, the update overflows the
    # next forward pass: loss = inf
    "sgd-lr1e6-y1e15": dict(solver="sgd", learning_rate_init=1e6,
                            clip_norm=None, scale=1e15),
    # y**2 overflows float32 at once
    "adam-y1e20": dict(solver="adam", scale=1e20),
    "lbfgs-y1e20": dict(solver="lbfgs", scale=1e20),
    # the update itself overflows the weights to inf
    "sgd-lr1e30-y1e15": dict(solver="sgd", learning_rate_init=1e30,
                             clip_norm=None, scale=1e15),
    "sgd-lr1e38-clipped": dict(solver="sgd", learning_rate_init=1e38,
                               scale=1e15),
}


@pytest.mark.parametrize("case", list(DIVERGING))
@pytest.mark.parametrize("cls", REGRESSORS, ids=ids)
def test_divergence_raises_and_leaves_finite_weights(cls, case):
    params = dict(DIVERGING[case])
    scale = params.pop("scale")
    X = make_X()
    y = np.random.default_rng(3).normal(size=16) * scale
    model = make(cls, max_iter=5, dtype="float32", **params)
    with pytest.raises(DivergenceError) as info:
        model.fit(X, y)
    assert isinstance(info.value, FloatingPointError)
    message = str(info.value)
    assert cls.__name__ in message
    assert "finite" in message or "diverged" in message
    assert all_finite(model.get_weights()), {
        k: int(np.sum(~np.isfinite(v))) for k, v in model.get_weights().items()}
    assert np.all(np.isfinite(model.predict(X)))


def test_divergence_error_is_exported():
    assert numlstm.DivergenceError is DivergenceError
    assert issubclass(DivergenceError, FloatingPointError)


# ============================================================ 4. scikit-learn


@pytest.mark.parametrize("cls", ALL, ids=ids)
def test_pipeline_with_scaler(cls):
    X = make_X(n=16, T=6, D=1)[:, :, 0] * 10 + 3
    y = targets(cls, X)
    pipe = make_pipeline(StandardScaler(), make(cls)).fit(X, y)
    Xs = StandardScaler().fit_transform(X)
    ref = make(cls).fit(Xs, y)
    assert np.array_equal(pipe.predict(X), ref.predict(Xs))
    assert np.isfinite(pipe.score(X, y))


@pytest.mark.parametrize("cls", [VanillaLSTMRegressor, VanillaLSTMClassifier],
                         ids=ids)
def test_grid_search_two_jobs(cls):
    X = make_X(n=24, T=4)
    y = targets(cls, X)
    grid = GridSearchCV(make(cls), {"units": [4, 6]}, cv=2, n_jobs=2).fit(X, y)
    assert grid.best_params_["units"] in (4, 6)
    assert np.all(np.isfinite(grid.cv_results_["mean_test_score"]))
    # the refitted best model is the one a plain fit with its params gives
    best = make(cls, units=grid.best_params_["units"]).fit(X, y)
    assert np.array_equal(grid.predict(X), best.predict(X))


@pytest.mark.parametrize("cls", ALL, ids=ids)
def test_cross_val_score(cls):
    X = make_X(n=24, T=4)
    scores = cross_val_score(make(cls), X, targets(cls, X), cv=3)
    assert scores.shape == (3,)
    assert np.all(np.isfinite(scores))


@pytest.mark.parametrize("cls", ALL, ids=ids)
def test_clone(cls):
    model = make(cls, dropout=0.25, alpha=0.5, solver="rmsprop")
    model.fit(X0, targets(cls, X0))
    copy = clone(model)
    assert copy.get_params() == model.get_params()
    with pytest.raises(NotFittedError):
        check_is_fitted(copy)
    with pytest.raises(NotFittedError):
        copy.predict(X0)
    assert np.array_equal(output(copy.fit(X0, targets(cls, X0)), X0),
                          output(model, X0))


@pytest.mark.parametrize("cls", ALL, ids=ids)
def test_pickle_round_trip(cls):
    X = make_ragged()
    y = targets(cls, X)
    model = make(cls).fit(X, y)
    loaded = pickle.loads(pickle.dumps(model))
    assert np.array_equal(output(loaded, X), output(model, X))
    assert np.array_equal(loaded.predict(X), model.predict(X))
    assert loaded.get_params() == model.get_params()
    for name, w in model.get_weights().items():
        assert np.array_equal(loaded.get_weights()[name], w)
    # training goes on from the same state: the same next epoch
    model.partial_fit(X, y)
    loaded.partial_fit(X, y)
    assert loaded.n_iter_ == model.n_iter_ == 4
    assert np.array_equal(output(loaded, X), output(model, X))


@pytest.mark.parametrize("cls", ALL, ids=ids)
def test_pickle_unfitted(cls):
    model = make(cls)
    loaded = pickle.loads(pickle.dumps(model))
    assert loaded.get_params() == model.get_params()
    with pytest.raises(NotFittedError):
        check_is_fitted(loaded)


# ========================================================= 5. reproducibility


@pytest.mark.parametrize("cls", ALL, ids=ids)
def test_same_seed_same_predictions(cls):
    X = make_ragged()
    y = targets(cls, X)
    params = dict(dropout=0.3, batch_size=3, max_iter=4)
    a = make(cls, **params).fit(X, y)
    b = make(cls, **params).fit(X, y)
    assert np.array_equal(output(a, X), output(b, X))
    assert a.loss_curve_ == b.loss_curve_
    c = make(cls, random_state=1, **params).fit(X, y)
    assert not np.array_equal(output(a, X), output(c, X))
    assert not np.array_equal(flat_weights(a), flat_weights(c))


_SCRIPT = """
import warnings
import numpy as np
from numlstm import StackedLSTMClassifier, VanillaLSTMRegressor
warnings.simplefilter("ignore")
X = np.random.default_rng(0).normal(size=(16, 5, 2))
s = X[:, :, 0].sum(axis=1)
r = VanillaLSTMRegressor(units=4, max_iter=3, learning_rate_init=1e-2,
                         random_state=0, dropout=0.2, batch_size=4).fit(X, s)
c = StackedLSTMClassifier((4, 3), max_iter=3, learning_rate_init=1e-2,
                          random_state=0, batch_size=4).fit(X, s > 0)
values = np.concatenate([r.predict(X), c.predict_proba(X).ravel()])
print(" ".join(float(v).hex() for v in values.astype(np.float64)))
"""


def _run_script():
    done = subprocess.run([sys.executable, "-c", _SCRIPT], capture_output=True,
                          text=True, timeout=120, cwd=REPO, check=True)
    return done.stdout.strip().splitlines()[-1]


def test_same_seed_same_predictions_across_processes():
    first, second = _run_script(), _run_script()
    namespace: dict = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        body = _SCRIPT.replace("print(", "result = (")
        exec(compile(body, "<script>", "exec"), namespace)
    here = " ".join(float(v).hex() for v in
                    namespace["values"].astype(np.float64))
    assert first == second
    assert first == here
    assert len(first.split()) == 16 + 32


# ======================================================= 6. training semantics


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("cls", ALL, ids=ids)
def test_solvers_lower_the_loss(cls, solver):
    X = make_X(n=24, T=4)
    y = targets(cls, X)
    lr = 0.1 if solver == "sgd" else 1e-2
    model = make(cls, solver=solver, max_iter=10, learning_rate_init=lr,
                 dtype="float64")
    fun, theta0 = model.make_objective(X, y)
    model.fit(X, y)
    assert len(model.loss_curve_) == model.n_iter_ > 0
    assert np.all(np.isfinite(model.loss_curve_))
    start, end = fun(theta0)[0], fun(flat_weights(model))[0]
    assert end < start
    if solver == "lbfgs":
        assert model.t_ == model.n_iter_ * len(X)
        assert_close(model.loss_curve_[-1], end, 1e-10)
    else:
        assert model.t_ == model.n_iter_ * len(X) == 10 * 24
        assert model.loss_curve_[-1] < model.loss_curve_[0]
    assert model.best_loss_ == pytest.approx(min(model.loss_curve_), rel=1e-12)


@pytest.mark.parametrize("cls", ALL, ids=ids)
def test_stochastic_loss_curve_is_the_mean_epoch_loss(cls):
    """Full batch, no shuffling: each recorded loss is the objective at the
    weights before that epoch's step."""
    X = make_X(n=12, T=4)
    y = targets(cls, X)
    model = make(cls, dtype="float64", batch_size=64, shuffle=False,
                 max_iter=1)
    fun, theta0 = model.make_objective(X, y)
    model.fit(X, y)
    assert_close(model.loss_curve_[0], fun(theta0)[0], 1e-12)


@pytest.mark.parametrize("cls", ALL, ids=ids)
def test_early_stopping(cls):
    X = make_X(n=32, T=4)
    y = targets(cls, X)
    params = dict(early_stopping=True, validation_fraction=0.25, max_iter=12,
                  n_iter_no_change=50, learning_rate_init=0.2, batch_size=8)
    model = make(cls, **params).fit(X, y)
    scores = model.validation_scores_
    assert len(scores) == model.n_iter_ == len(model.loss_curve_) == 12
    assert model.best_validation_score_ == max(scores)
    # the validation split, as fit draws it (after the initial-weights seed)
    rs = check_random_state(0)
    rs.randint(np.iinfo(np.int32).max)
    _, val = train_test_split(np.arange(len(X)), test_size=0.25,
                              random_state=rs,
                              stratify=y if is_classifier(model) else None)
    assert model.score(X[val], y[val]) == pytest.approx(
        model.best_validation_score_, abs=1e-6)
    # the restored weights are those after the best epoch
    best_epoch = int(np.argmax(scores)) + 1
    assert best_epoch < model.n_iter_  # (the setting makes the scores drop)
    short = make(cls, **{**params, "max_iter": best_epoch}).fit(X, y)
    assert short.validation_scores_ == scores[:best_epoch]
    assert np.array_equal(flat_weights(short), flat_weights(model))


@pytest.mark.parametrize("cls", ALL, ids=ids)
def test_early_stopping_off_leaves_validation_attributes_none(cls):
    model = make(cls).fit(X0, targets(cls, X0))
    assert model.validation_scores_ is None
    assert model.best_validation_score_ is None


@pytest.mark.parametrize("cls", REGRESSORS, ids=ids)
def test_n_iter_no_change_stops_on_a_constant_target(cls):
    X = make_X(n=16, T=4)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        model = make(cls, max_iter=20, learning_rate_init=0.05, tol=1e-3,
                     n_iter_no_change=2, batch_size=16).fit(X, np.full(16, 0.5))
    assert model.n_iter_ < 20
    assert len(model.loss_curve_) == model.n_iter_
    # it stopped after n_iter_no_change + 1 epochs without a tol improvement
    curve = np.array(model.loss_curve_)
    best_before = np.minimum.accumulate(curve)[-4]
    assert np.all(curve[-3:] > best_before - 1e-3)


@pytest.mark.parametrize("cls", ALL, ids=ids)
def test_max_iter_reached_warns(cls):
    with pytest.warns(ConvergenceWarning, match="max"):
        make(cls, max_iter=2).fit(X0, targets(cls, X0))


@pytest.mark.parametrize("cls", ALL, ids=ids)
def test_warm_start_continues(cls):
    X = make_X(n=24, T=4)
    y = targets(cls, X)
    model = make(cls, warm_start=True, max_iter=4, learning_rate_init=0.03)
    model.fit(X, y)
    first = list(model.loss_curve_)
    weights = flat_weights(model)
    model.fit(X, y)
    assert model.n_iter_ == 8
    assert model.loss_curve_[:4] == first
    assert model.loss_curve_[4] < first[0]
    assert not np.array_equal(flat_weights(model), weights)
    # without warm_start, a refit starts over
    cold = make(cls, max_iter=4, learning_rate_init=0.03)
    cold.fit(X, y)
    cold.fit(X, y)
    assert cold.n_iter_ == 4 and cold.loss_curve_ == first


@pytest.mark.parametrize("cls", ALL, ids=ids)
def test_partial_fit_increments(cls):
    X = make_X(n=12, T=4)
    y = targets(cls, X)
    model = make(cls)
    kw = {"classes": np.unique(y)} if is_classifier(model) else {}
    for k in range(1, 4):
        model.partial_fit(X, y, **kw)
        assert model.n_iter_ == k
        assert len(model.loss_curve_) == k
        assert model.t_ == 12 * k
    # partial_fit never warns about convergence
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        model.partial_fit(X, y)


@pytest.mark.parametrize("cls", CLASSIFIERS, ids=ids)
def test_classifier_partial_fit_with_classes(cls):
    X = make_X(n=12, T=4)
    y = np.array(["b", "c"] * 6)
    model = make(cls).partial_fit(X, y, classes=["c", "a", "b"])
    assert model.classes_.tolist() == ["a", "b", "c"]
    assert model.out_activation_ == "softmax"
    assert model.predict_proba(X).shape == (12, 3)
    model.partial_fit(X, np.array(["a", "b", "c"] * 4))
    assert model.n_iter_ == 2
    assert set(model.predict(X)) <= {"a", "b", "c"}
    # same classes again is fine
    model.partial_fit(X, y, classes=["a", "b", "c"])
    assert model.n_iter_ == 3


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("cls", REGRESSORS, ids=ids)
def test_zero_sample_weight_equals_dropping_the_samples(cls, solver):
    X = make_X(n=16, T=4)
    y = targets(cls, X)
    params = dict(dtype="float64", shuffle=False, batch_size=64, max_iter=5,
                  solver=solver)
    sw = np.r_[np.ones(8), np.zeros(8)]
    weighted = make(cls, **params).fit(X, y, sample_weight=sw)
    dropped = make(cls, **params).fit(X[:8], y[:8])
    assert_close(weighted.predict(X), dropped.predict(X), 1e-10)
    # the weights do matter
    unweighted = make(cls, **params).fit(X, y)
    assert not np.allclose(unweighted.predict(X), dropped.predict(X))


@pytest.mark.parametrize("solver", ["adam", "lbfgs"])
@pytest.mark.parametrize("cls", [VanillaLSTMRegressor, VanillaLSTMClassifier],
                         ids=ids)
def test_zero_sample_weight_equals_dropping_the_samples_with_alpha(cls, solver):
    """As scikit-learn's MLP (L2 term divided by the sum of the sample
    weights): a sample of weight 0 is a sample that is not there."""
    X = make_X(n=16, T=4)
    y = targets(cls, X)
    params = dict(dtype="float64", shuffle=False, batch_size=64, max_iter=5,
                  solver=solver, alpha=0.5)
    sw = np.r_[np.ones(8), np.zeros(8)]
    weighted = make(cls, **params)
    dropped = make(cls, **params)
    fun_w, theta = weighted.make_objective(X, y, sample_weight=sw)
    fun_d, _ = dropped.make_objective(X[:8], y[:8])
    assert_close(fun_w(theta)[0], fun_d(theta)[0], 1e-12, "objective")
    weighted.fit(X, y, sample_weight=sw)
    dropped.fit(X[:8], y[:8])
    assert_close(output(weighted, X), output(dropped, X), 1e-10)


@pytest.mark.parametrize("cls", ALL, ids=ids)
def test_sample_weight_in_partial_fit(cls):
    X = make_X(n=12, T=4)
    y = targets(cls, X)
    kw = {"classes": np.unique(y)} if is_classifier(cls()) else {}
    params = dict(dtype="float64", shuffle=False, batch_size=64)
    sw = np.r_[np.ones(6), np.zeros(6)]
    a = make(cls, **params).partial_fit(X, y, sample_weight=sw, **kw)
    b = make(cls, **params).partial_fit(X[:6], y[:6], **kw)
    assert_close(output(a, X), output(b, X), 1e-10)
    c = make(cls, **params).partial_fit(X, y, **kw)
    assert not np.allclose(output(a, X), output(c, X))


@pytest.mark.parametrize("cls", ALL, ids=ids)
def test_dropout_trains_differently_but_predicts_deterministically(cls):
    X = make_X(n=16, T=4)
    y = targets(cls, X)
    plain = make(cls).fit(X, y)
    dropped = make(cls, dropout=0.5).fit(X, y)
    assert not np.array_equal(flat_weights(plain), flat_weights(dropped))
    first = output(dropped, X)
    assert np.array_equal(output(dropped, X), first)
    assert_close(output(dropped, X[:5]), first[:5], BATCH_TOL["float32"])
    # dropout does not change the weight layout
    assert list(plain.get_weights()) == list(dropped.get_weights())


@pytest.mark.parametrize("cls", ALL, ids=ids)
def test_verbose_draws_a_progress_bar(cls, capsys):
    make(cls, verbose=True, max_iter=2).fit(X0, targets(cls, X0))
    err = capsys.readouterr().err
    assert "loss" in err
    assert cls.__name__ in err
    make(cls, verbose=True, max_iter=2, early_stopping=True).fit(
        X0, targets(cls, X0))
    assert "val" in capsys.readouterr().err
    make(cls, verbose=False, max_iter=2).fit(X0, targets(cls, X0))
    captured = capsys.readouterr()
    assert captured.err == "" and captured.out == ""


# ================================================================= 7. outputs


@pytest.mark.parametrize("cls", REGRESSORS, ids=ids)
def test_regressor_output_shapes(cls):
    X = make_X(n=12, T=5)
    s = sums(X)
    for y, shape in ((s, (12,)), (s[:, None], (12, 1)),
                     (np.c_[s, -s, 2 * s], (12, 3))):
        model = make(cls).fit(X, y)
        assert model.predict(X).shape == shape
        assert model.out_activation_ == "identity"
        assert np.isfinite(model.score(X, y))
    steps = np.cumsum(X[:, :, 0], axis=1)
    for y, shape in ((steps, (12, 5)), (np.stack([steps, -steps], -1),
                                        (12, 5, 2))):
        model = make(cls, return_sequences=True).fit(X, y)
        assert model.predict(X).shape == shape
        assert np.isfinite(model.score(X, y))


@pytest.mark.parametrize("cls", REGRESSORS, ids=ids)
def test_regressor_ragged_return_sequences(cls):
    X = make_ragged()
    lengths = [len(x) for x in X]
    for k in (None, 2):
        y = [np.cumsum(x[:, 0]) if k is None
             else np.stack([np.cumsum(x[:, 0]), x[:, 1]], -1) for x in X]
        model = make(cls, return_sequences=True, dtype="float64").fit(X, y)
        pred = model.predict(X)
        assert isinstance(pred, list) and len(pred) == len(X)
        for p, x, L in zip(pred, X, lengths, strict=True):
            assert p.shape == ((L,) if k is None else (L, k))
            assert_close(p, model.predict([x])[0], 1e-12)
        assert np.isfinite(model.score(X, y))


@pytest.mark.parametrize("kind", ["int", "str", "bool", "multi"])
@pytest.mark.parametrize("cls", CLASSIFIERS, ids=ids)
def test_classifier_labels(cls, kind):
    X = make_X(n=18, T=4)
    y = targets(cls, X, kind)
    model = make(cls).fit(X, y)
    classes = np.unique(y)
    assert np.array_equal(model.classes_, classes)
    assert model.classes_.dtype == classes.dtype
    pred = model.predict(X)
    assert pred.shape == (18,) and pred.dtype == classes.dtype
    assert set(pred.tolist()) <= set(classes.tolist())
    proba = model.predict_proba(X)
    assert proba.shape == (18, len(classes))
    assert np.all(proba >= 0)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=0, atol=1e-12)
    assert np.array_equal(pred, classes[np.argmax(proba, axis=1)])
    assert model.out_activation_ == ("softmax" if len(classes) > 2
                                     else "logistic")
    assert 0.0 <= model.score(X, y) <= 1.0


@pytest.mark.parametrize("cls", CLASSIFIERS, ids=ids)
def test_classes_sorted(cls):
    X = make_X(n=12, T=4)
    y = np.array(["zeta", "alpha", "mid"] * 4)
    model = make(cls).fit(X, y)
    assert model.classes_.tolist() == ["alpha", "mid", "zeta"]
    model = make(cls).fit(X, np.array([7, -3] * 6))
    assert model.classes_.tolist() == [-3, 7]


@pytest.mark.parametrize("n_classes", [2, 3])
@pytest.mark.parametrize("cls", CLASSIFIERS, ids=ids)
def test_classifier_return_sequences(cls, n_classes):
    X = make_X(n=12, T=5)
    y = np.digitize(np.cumsum(X[:, :, 0], axis=1), [0.0, 1.0][:n_classes - 1])
    labels = np.array(["lo", "mid", "hi"])[:n_classes][y]
    model = make(cls, return_sequences=True).fit(X, labels)
    assert sorted(model.classes_.tolist()) == model.classes_.tolist()
    assert len(model.classes_) == n_classes
    pred = model.predict(X)
    assert pred.shape == (12, 5)
    proba = model.predict_proba(X)
    assert proba.shape == (12, 5, n_classes)
    np.testing.assert_allclose(proba.sum(axis=-1), 1.0, rtol=0, atol=1e-12)
    assert np.array_equal(pred, model.classes_[np.argmax(proba, axis=-1)])
    assert 0.0 <= model.score(X, labels) <= 1.0


@pytest.mark.parametrize("cls", CLASSIFIERS, ids=ids)
def test_classifier_ragged_return_sequences(cls):
    X = make_ragged()
    y = [np.where(np.cumsum(x[:, 0]) > 0, "pos", "neg") for x in X]
    model = make(cls, return_sequences=True, dtype="float64").fit(X, y)
    assert model.classes_.tolist() == ["neg", "pos"]
    pred, proba = model.predict(X), model.predict_proba(X)
    assert isinstance(pred, list) and isinstance(proba, list)
    for x, p, q in zip(X, pred, proba, strict=True):
        assert p.shape == (len(x),) and q.shape == (len(x), 2)
        assert_close(q, model.predict_proba([x])[0], 1e-12)
    assert 0.0 <= model.score(X, y) <= 1.0


@pytest.mark.parametrize("cls", CLASSIFIERS, ids=ids)
def test_ragged_per_step_string_labels_of_different_widths(cls):
    """Labels are not truncated to the width of the first sequence's
    strings (a ragged list of '<U1' and '<U4' arrays)."""
    X = make_ragged(lengths=(2, 3, 4, 3))
    y = [np.array(["a", "b"]), np.array(["long", "a", "b"]),
         np.array(["a", "long", "b", "a"]), np.array(["b", "b", "a"])]
    model = make(cls, return_sequences=True).fit(X, y)
    assert model.classes_.tolist() == ["a", "b", "long"]
    assert set(np.concatenate(model.predict(X)).tolist()) <= {"a", "b", "long"}


@pytest.mark.parametrize("cls", ALL, ids=ids)
def test_backend_attribute(cls):
    model = make(cls, backend="cpu").fit(X0, targets(cls, X0))
    assert model.backend_ == "cpu"
    with pytest.raises(ValueError, match="backend"):
        make(cls, backend="nope").fit(X0, targets(cls, X0))


# ================================================================= 8. weights


def _expected_shapes(cls, D, n_out):
    if "units" in cls().get_params():
        sizes = [4]
    else:
        sizes = [4, 3]
    shapes, width = {}, D
    for k, H in enumerate(sizes):
        shapes[f"lstm.{k}.W_ih"] = (4 * H, width)
        shapes[f"lstm.{k}.W_hh"] = (4 * H, H)
        shapes[f"lstm.{k}.b"] = (4 * H,)
        width = H
    shapes["dense.W"] = (n_out, width)
    shapes["dense.b"] = (n_out,)
    return shapes


@pytest.mark.parametrize("cls", ALL, ids=ids)
def test_get_weights_layout(cls):
    X = make_X(n=12, T=4, D=3)
    y = targets(cls, X, "multi") if is_classifier(cls()) else np.c_[
        sums(X), -sums(X)]
    for dropout in (0.0, 0.5):
        model = make(cls, dropout=dropout).fit(X, y)
        weights = model.get_weights()
        shapes = {k: v.shape for k, v in weights.items()}
        assert list(shapes.items()) == list(_expected_shapes(cls, 3, 3 if
                                            is_classifier(model) else 2).items())
        assert all(w.dtype == np.float32 for w in weights.values())
    binary = make(cls).fit(X, targets(cls, X))
    assert binary.get_weights()["dense.W"].shape[0] == 1


@pytest.mark.parametrize("cls", ALL, ids=ids)
def test_get_weights_is_a_copy(cls):
    model = make(cls).fit(X0, targets(cls, X0))
    before = output(model, X0)
    weights = model.get_weights()
    for w in weights.values():
        w[...] = 0
    assert np.array_equal(output(model, X0), before)


@pytest.mark.parametrize("cls", ALL, ids=ids)
def test_set_weights_round_trip(cls):
    y = targets(cls, X0)
    a = make(cls).fit(X0, y)
    b = make(cls, random_state=7).fit(X0, y)
    assert not np.array_equal(output(a, X0), output(b, X0))
    assert a.set_weights(b.get_weights()) is a
    assert np.array_equal(output(a, X0), output(b, X0))
    assert np.array_equal(flat_weights(a), flat_weights(b))


@pytest.mark.parametrize("cls", REGRESSORS, ids=ids)
def test_set_weights_dense_bias_shifts_predictions(cls):
    model = make(cls, dtype="float64").fit(X0, Y_REG)
    before = model.predict(X0)
    weights = model.get_weights()
    weights["dense.b"] = weights["dense.b"] + 1.5
    model.set_weights(weights)
    assert_close(model.predict(X0), before + 1.5, 1e-12)


@pytest.mark.parametrize("cls", ALL, ids=ids)
def test_set_weights_rejects_bad_dicts(cls):
    model = make(cls).fit(X0, targets(cls, X0))
    before = output(model, X0)
    good = model.get_weights()
    missing = dict(good)
    del missing["dense.b"]
    extra = {**good, "lstm.9.W_ih": np.zeros((4, 4))}
    shape = {**good, "lstm.0.W_hh": good["lstm.0.W_hh"].T}
    nan = {**good, "dense.W": good["dense.W"] * np.nan}
    inf = {**good, "lstm.0.b": good["lstm.0.b"] + np.inf}
    for bad, match in ((missing, "missing.*dense.b"),
                       (extra, "unexpected.*lstm.9.W_ih"),
                       (shape, "lstm.0.W_hh.*shape"), (nan, "dense.W.*NaN"),
                       (inf, "lstm.0.b.*(NaN|infin)"),
                       (list(good.values()), "dict")):
        with pytest.raises(ValueError, match=match):
            model.set_weights(bad)
    # nothing was loaded by the failed calls
    assert np.array_equal(output(model, X0), before)


@pytest.mark.parametrize("cls", ALL, ids=ids)
def test_weights_need_a_fitted_model(cls):
    with pytest.raises(NotFittedError):
        make(cls).get_weights()
    with pytest.raises(NotFittedError):
        make(cls).set_weights({})


@pytest.mark.parametrize("cls", ALL, ids=ids)
def test_make_objective_theta0_is_the_flat_weights(cls):
    model = make(cls).fit(X0, targets(cls, X0))
    fun, theta0 = model.make_objective(X0, targets(cls, X0))
    assert theta0.dtype == np.float64
    assert np.array_equal(theta0, flat_weights(model).astype(np.float64))
    loss, grad = fun(theta0)
    assert isinstance(loss, float) and np.isfinite(loss)
    assert grad.dtype == np.float64 and grad.shape == theta0.shape


def _fd_gradient(fun, theta, eps=1e-6):
    g = np.empty_like(theta)
    for k in range(theta.size):
        up, down = theta.copy(), theta.copy()
        up[k] += eps
        down[k] -= eps
        g[k] = (fun(up)[0] - fun(down)[0]) / (2 * eps)
    return g


GRADIENT_CASES = [
    (VanillaLSTMRegressor, "reg", {}),
    (VanillaLSTMRegressor, "reg2", {"alpha": 0.3}),
    (StackedLSTMRegressor, "reg", {"alpha": 0.3}),
    (VanillaLSTMRegressor, "seq", {}),
    (VanillaLSTMClassifier, "int", {}),
    (VanillaLSTMClassifier, "multi", {"alpha": 0.3}),
    (StackedLSTMClassifier, "multi", {}),
    (StackedLSTMClassifier, "int", {"alpha": 0.3}),
    (VanillaLSTMClassifier, "seq", {}),
]


@pytest.mark.parametrize(
    "cls,target,params", GRADIENT_CASES,
    ids=[f"{c.__name__}-{t}-{'alpha' if p else 'noalpha'}"
         for c, t, p in GRADIENT_CASES])
def test_make_objective_gradient_matches_finite_differences(cls, target,
                                                            params):
    X = make_ragged(lengths=(3, 4, 1, 4, 2, 3), seed=3)
    size = ({"units": 3} if "units" in cls().get_params()
            else {"hidden_layer_sizes": (3, 2)})
    if target == "seq":
        steps = [np.cumsum(x[:, 0]) for x in X]
        y = steps if not is_classifier(cls()) else [s > 0 for s in steps]
        params = {**params, "return_sequences": True}
    elif target == "reg2":
        y = np.c_[sums(X), np.cos(sums(X))]
    else:
        y = targets(cls, X, "int" if target == "reg" else target)
    model = make(cls, dtype="float64", **size, **params)
    fun, theta0 = model.make_objective(X, y)
    theta = theta0 + np.random.default_rng(0).normal(scale=0.3,
                                                     size=theta0.shape)
    _, grad = fun(theta)
    fd = _fd_gradient(fun, theta)
    np.testing.assert_allclose(grad, fd, rtol=1e-5,
                               atol=1e-5 * max(1.0, np.abs(fd).max()))


@pytest.mark.parametrize("cls", ALL, ids=ids)
def test_make_objective_with_scipy_lowers_the_loss(cls):
    X = make_X(n=16, T=4)
    y = targets(cls, X)
    model = make(cls, dtype="float64").fit(X, y)
    before = output(model, X)
    fun, theta0 = model.make_objective(X, y)
    result = minimize(fun, theta0, jac=True, method="L-BFGS-B",
                      options=dict(maxiter=20))
    assert result.fun < fun(theta0)[0]
    # calling fun never touches the estimator
    assert np.array_equal(output(model, X), before)
    assert np.array_equal(flat_weights(model), theta0)
    # ... and the optimum can be loaded back
    model.set_weights(_unflatten(model, result.x))
    fun2, theta2 = model.make_objective(X, y)
    assert np.array_equal(theta2, result.x)
    assert fun2(theta2)[0] == pytest.approx(result.fun, rel=1e-12)


def _unflatten(model, theta):
    out, start = {}, 0
    for name, w in model.get_weights().items():
        out[name] = theta[start:start + w.size].reshape(w.shape)
        start += w.size
    assert start == theta.size
    return out


@pytest.mark.parametrize("cls", ALL, ids=ids)
def test_make_objective_on_an_unfitted_estimator(cls):
    X = make_X(n=12, T=4)
    y = targets(cls, X)
    model = make(cls, dtype="float64")
    fun, theta0 = model.make_objective(X, y)
    with pytest.raises(NotFittedError):
        check_is_fitted(model)
    assert not hasattr(model, "n_features_in_")
    assert np.isfinite(fun(theta0)[0])
    # theta0: the initial weights random_state gives
    again = make(cls, dtype="float64").make_objective(X, y)[1]
    assert np.array_equal(theta0, again)
    other = make(cls, dtype="float64", random_state=1).make_objective(X, y)[1]
    assert not np.array_equal(theta0, other)
    # a fit with a negligible step starts from the same weights
    tiny = make(cls, dtype="float64", solver="sgd", momentum=0.0,
                learning_rate_init=1e-12, max_iter=1).fit(X, y)
    np.testing.assert_allclose(flat_weights(tiny), theta0, rtol=0, atol=1e-9)
    # a RandomState random_state is not consumed by make_objective
    rs = np.random.RandomState(3)
    shared = make(cls, dtype="float64", random_state=rs)
    shared.make_objective(X, y)
    fresh = make(cls, dtype="float64", random_state=np.random.RandomState(3))
    assert np.array_equal(output(shared.fit(X, y), X),
                          output(fresh.fit(X, y), X))


def test_early_stopping_turned_on_between_warm_fits():
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(20, 4, 2)), rng.normal(size=20)
    model = VanillaLSTMRegressor(units=3, max_iter=2, warm_start=True,
                                 random_state=0).fit(X, y)
    assert model.validation_scores_ is None
    model.set_params(early_stopping=True).fit(X, y)
    assert len(model.validation_scores_) >= 1
    assert model.best_validation_score_ == max(model.validation_scores_)


def test_early_stopping_refuses_a_weightless_validation_split():
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(10, 4, 2)), rng.normal(size=10)
    sw = np.r_[np.zeros(9), 1.0]
    model = VanillaLSTMRegressor(units=3, max_iter=2, early_stopping=True,
                                 validation_fraction=0.2, random_state=0)
    with pytest.raises(ValueError, match="early_stopping: the .* split"):
        model.fit(X, y, sample_weight=sw)


def test_verbose_lbfgs_draws_a_progress_bar(capsys):
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(8, 3, 2)), rng.normal(size=8)
    VanillaLSTMRegressor(units=3, solver="lbfgs", max_iter=3, verbose=True,
                         random_state=0).fit(X, y)
    assert "L-BFGS" in capsys.readouterr().err
