"""How every estimator trains: solvers, stopping, continuing, weights, noise.

Over the registry's 11 estimators (``registry.py``): each solver lowers the
loss and records ``loss_curve_``; early stopping keeps the best epoch's
weights, ``n_iter_no_change`` stops a fit, ``max_iter`` warns; warm_start
and partial_fit continue a fit; a sample of weight zero is a sample that is
not there (in the fit and in the objective); dropout trains differently but
predicts deterministically; verbose draws a progress bar; a diverging fit
raises DivergenceError with finite weights.

Every fit is tiny (3-4 units, <= 32 sequences of <= 5 steps, <= 12
epochs): these tests check training semantics, not how well the models
learn (see ``test_learning.py``).
"""

import warnings

import numpy as np
import pytest
from helpers import assert_close
from registry import (
    classes_kw,
    flat_weights,
    is_encoder_decoder,
    is_generative,
    make,
    n_rows,
    output,
    per_step,
    predict,
    sample,
    select,
)
from sklearn.base import is_classifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state

import numlstm
from numlstm import DivergenceError

# short fits stop at max_iter on purpose
pytestmark = pytest.mark.filterwarnings(
    "ignore::sklearn.exceptions.ConvergenceWarning")

ALL = select()
SOLVERS = ["adam", "sgd", "rmsprop", "lbfgs"]
#: max |difference| / max(1, max|reference|) allowed where the same numbers
#: are computed in a differently shaped batch
BATCH_TOL = {"float32": 1e-6, "float64": 1e-12}


def rows(values, stop):
    """The first ``stop`` rows of X or y (None stays None)."""
    return None if values is None else values[:stop]


# ================================================================== solvers


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("key", ALL)
def test_solvers_lower_the_loss(key, solver):
    lr = 0.1 if solver == "sgd" else 1e-2
    model = make(key, solver=solver, max_iter=10, learning_rate_init=lr,
                 dtype="float64")
    X, y = sample(model, "natural", n=24, T=4)
    fun, theta0 = model.make_objective(X, y)
    model.fit(X, y)
    assert len(model.loss_curve_) == model.n_iter_ > 0
    assert np.all(np.isfinite(model.loss_curve_))
    start, end = fun(theta0)[0], fun(flat_weights(model))[0]
    assert end < start
    # t_ counts the rows trained on: sequences, or a generative model's
    # windows
    rows_seen = n_rows(model, X)
    assert model.t_ == model.n_iter_ * rows_seen
    assert model.loss_curve_[-1] < model.loss_curve_[0]
    if solver == "lbfgs":
        assert_close(model.loss_curve_[-1], end, 1e-10)
    else:
        assert model.n_iter_ == 10
    assert model.best_loss_ == pytest.approx(min(model.loss_curve_), rel=1e-12)


@pytest.mark.parametrize("key", ALL)
def test_stochastic_loss_curve_is_the_mean_epoch_loss(key):
    """Full batch, no shuffling: each recorded loss is the objective at the
    weights before that epoch's step."""
    model = make(key, dtype="float64", batch_size=64, shuffle=False,
                 max_iter=1)
    X, y = sample(model, "natural", n=12, T=4)
    fun, theta0 = model.make_objective(X, y)
    model.fit(X, y)
    assert_close(model.loss_curve_[0], fun(theta0)[0], 1e-12)


# =========================================================== early stopping


@pytest.mark.parametrize("key", ALL)
def test_early_stopping(key):
    params = dict(early_stopping=True, validation_fraction=0.25, max_iter=12,
                  n_iter_no_change=50, learning_rate_init=0.2, batch_size=8)
    model = make(key, **params)
    X, y = sample(model, "natural", n=32, T=4)
    model.fit(X, y)
    scores = model.validation_scores_
    assert len(scores) == model.n_iter_ == len(model.loss_curve_) == 12
    assert model.best_validation_score_ == max(scores)
    if not is_generative(model):
        # the validation split, as fit draws it (after the initial-weights
        # seed); a generative model splits its windows instead, and scores
        # them by the loss, which score() does not give
        rs = check_random_state(0)
        rs.randint(np.iinfo(np.int32).max)
        stratified = is_classifier(model) and not per_step(model) and \
            not is_encoder_decoder(model)
        _, val = train_test_split(np.arange(len(X)), test_size=0.25,
                                  random_state=rs,
                                  stratify=y if stratified else None)
        assert model.score(X[val], y[val]) == pytest.approx(
            model.best_validation_score_, abs=1e-6)
    # the restored weights are those after the best epoch
    best_epoch = int(np.argmax(scores)) + 1
    assert best_epoch < model.n_iter_  # (the setting makes the scores drop)
    short = make(key, **{**params, "max_iter": best_epoch}).fit(X, y)
    assert short.validation_scores_ == scores[:best_epoch]
    assert np.array_equal(flat_weights(short), flat_weights(model))


@pytest.mark.parametrize("key", ALL)
def test_early_stopping_off_leaves_validation_attributes_none(key):
    model = make(key)
    model.fit(*sample(model, "natural"))
    assert model.validation_scores_ is None
    assert model.best_validation_score_ is None


@pytest.mark.parametrize("key", ALL)
def test_early_stopping_turned_on_between_warm_fits(key):
    model = make(key, max_iter=2, warm_start=True)
    X, y = sample(model, "natural", n=20, T=4)
    model.fit(X, y)
    assert model.validation_scores_ is None
    model.set_params(early_stopping=True).fit(X, y)
    assert len(model.validation_scores_) >= 1
    assert model.best_validation_score_ == max(model.validation_scores_)


@pytest.mark.parametrize("key", ALL)
def test_early_stopping_refuses_a_weightless_validation_split(key):
    model = make(key, max_iter=2, early_stopping=True, validation_fraction=0.2)
    # one row per sequence (a generative model's strings fit in one window)
    X, y = sample(model, "natural", n=10, T=2)
    sw = np.r_[np.zeros(9), 1.0]
    with pytest.raises(ValueError, match="early_stopping: the .* split"):
        model.fit(X, y, sample_weight=sw)


#: the estimators a constant target can be given
CONSTANT_TARGETS = select({
    "classifiers": "a constant target is one class, which a classifier "
                   "refuses (test_single_class_raises)"})


@pytest.mark.parametrize("key", CONSTANT_TARGETS)
def test_n_iter_no_change_stops_on_a_constant_target(key):
    model = make(key, max_iter=20, learning_rate_init=0.05, tol=1e-3,
                 n_iter_no_change=2, batch_size=16)
    X, y = sample(model, n=16, T=4)
    if y is None:  # a generative model predicts X: a constant X
        X, y = np.full(X.shape, 0.5), None
    else:
        y = np.full(np.shape(y), 0.5)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        model.fit(X, y)
    assert model.n_iter_ < 20
    assert len(model.loss_curve_) == model.n_iter_
    # it stopped after n_iter_no_change + 1 epochs without a tol improvement
    # on the best loss before each (scikit-learn's rule), the epoch before
    # them an improvement (the first one always is)
    curve = np.array(model.loss_curve_)
    best_before = np.r_[np.inf, np.minimum.accumulate(curve)[:-1]]
    improved = curve <= best_before - 1e-3
    assert not improved[-3:].any() and improved[-4], curve


@pytest.mark.parametrize("key", ALL)
def test_max_iter_reached_warns(key):
    model = make(key, max_iter=2)
    with pytest.warns(ConvergenceWarning, match="max"):
        model.fit(*sample(model, "natural"))


# ============================================================== continuing


@pytest.mark.parametrize("key", ALL)
def test_warm_start_continues(key):
    model = make(key, warm_start=True, max_iter=4, learning_rate_init=0.03)
    X, y = sample(model, "natural", n=24, T=4)
    model.fit(X, y)
    first = list(model.loss_curve_)
    weights = flat_weights(model)
    model.fit(X, y)
    assert model.n_iter_ == 8
    assert model.loss_curve_[:4] == first
    assert model.loss_curve_[4] < first[0]
    assert not np.array_equal(flat_weights(model), weights)
    # without warm_start, a refit starts over
    cold = make(key, max_iter=4, learning_rate_init=0.03)
    cold.fit(X, y)
    cold.fit(X, y)
    assert cold.n_iter_ == 4 and cold.loss_curve_ == first


@pytest.mark.parametrize("key", ALL)
def test_partial_fit_increments(key):
    model = make(key)
    X, y = sample(model, "natural", n=12, T=4)
    kw = classes_kw(model, y)
    before = None
    for k in range(1, 4):
        model.partial_fit(X, y, **kw)
        assert model.n_iter_ == k
        assert len(model.loss_curve_) == k
        assert model.t_ == n_rows(model, X) * k
        # each call trains: the weights move
        assert before is None or not np.array_equal(before,
                                                    flat_weights(model))
        before = flat_weights(model)
    assert np.shape(predict(model, X)) == (np.shape(y) if y is not None
                                           else (12,))
    # partial_fit never warns about convergence
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        model.partial_fit(X, y)


CLASSIFIERS = select({"regressors": "real targets, no classes",
                      "generative": "no targets, no classes"})


@pytest.mark.parametrize("key", CLASSIFIERS)
def test_classifier_partial_fit_with_classes(key):
    model = make(key)
    X, codes = sample(model, n=12, T=4)
    shape = np.shape(codes)
    pattern = np.arange(int(np.prod(shape))).reshape(shape)
    y = np.array(["b", "c"])[pattern % 2]
    model.partial_fit(X, y, classes=["c", "a", "b"])
    assert model.classes_.tolist() == ["a", "b", "c"]
    assert model.out_activation_ == "softmax"
    assert model.predict_proba(X).shape == (*shape, 3)
    model.partial_fit(X, np.array(["a", "b", "c"])[pattern % 3])
    assert model.n_iter_ == 2
    assert set(model.predict(X).ravel()) <= {"a", "b", "c"}
    # same classes again is fine
    model.partial_fit(X, y, classes=["a", "b", "c"])
    assert model.n_iter_ == 3


# ========================================================== sample weights

#: (solver, alpha): every solver, and the two kinds of solver with an L2 term
#: (divided by the sum of the sample weights, as scikit-learn's MLP's)
WEIGHT_CASES = [(s, 0.0) for s in SOLVERS] + [("adam", 0.5), ("lbfgs", 0.5)]


@pytest.mark.parametrize("solver,alpha", WEIGHT_CASES,
                         ids=[f"{s}-alpha{a}" for s, a in WEIGHT_CASES])
@pytest.mark.parametrize("key", ALL)
def test_zero_sample_weight_equals_dropping_the_samples(key, solver, alpha):
    """A sample of weight 0 is a sample that is not there (a generative
    model weighs every window of a sequence by its weight)."""
    params = dict(dtype="float64", shuffle=False, batch_size=64, max_iter=5,
                  solver=solver, alpha=alpha)
    X, y = sample(make(key), "natural", n=16, T=4)
    sw = np.r_[np.ones(8), np.zeros(8)]
    weighted = make(key, **params).fit(X, y, sample_weight=sw)
    dropped = make(key, **params).fit(rows(X, 8), rows(y, 8))
    assert_close(output(weighted, X), output(dropped, X), 1e-10)
    if alpha == 0.0:  # the weights do matter
        unweighted = make(key, **params).fit(X, y)
        assert not np.allclose(output(unweighted, X), output(dropped, X))


@pytest.mark.parametrize("alpha", [0.0, 0.5])
@pytest.mark.parametrize("key", ALL)
def test_zero_sample_weight_equals_dropping_in_the_objective(key, alpha):
    """In the loss and its gradient, at weights away from the fitted ones."""
    model = make(key, dtype="float64", alpha=alpha, max_iter=1)
    X, y = sample(model, "natural", n=16, T=4)
    model.fit(X, y)  # the classes (vocabulary) of all the data
    sw = np.r_[np.ones(8), np.zeros(8)]
    fun_w, theta = model.make_objective(X, y, sample_weight=sw)
    fun_d, theta_d = model.make_objective(rows(X, 8), rows(y, 8))
    assert np.array_equal(theta, theta_d)
    theta = theta + np.random.default_rng(1).normal(scale=0.2, size=theta.shape)
    (lw, gw), (ld, gd) = fun_w(theta), fun_d(theta)
    assert lw == pytest.approx(ld, rel=1e-12)
    assert_close(gw, gd, 1e-12, "grad")
    # ... and the weights do matter
    assert model.make_objective(X, y)[0](theta)[0] != pytest.approx(lw)


@pytest.mark.parametrize("key", ALL)
def test_sample_weight_in_partial_fit(key):
    params = dict(dtype="float64", shuffle=False, batch_size=64)
    X, y = sample(make(key), "natural", n=12, T=4)
    kw = classes_kw(make(key), y)
    sw = np.r_[np.ones(6), np.zeros(6)]
    a = make(key, **params).partial_fit(X, y, sample_weight=sw, **kw)
    b = make(key, **params).partial_fit(rows(X, 6), rows(y, 6), **kw)
    assert_close(output(a, X), output(b, X), 1e-10)
    c = make(key, **params).partial_fit(X, y, **kw)
    assert not np.allclose(output(a, X), output(c, X))


# ==================================================================== noise


@pytest.mark.parametrize("key", ALL)
def test_dropout_trains_differently_but_predicts_deterministically(key):
    X, y = sample(make(key), "natural", n=16, T=4)
    plain = make(key).fit(X, y)
    dropped = make(key, dropout=0.5).fit(X, y)
    assert not np.array_equal(flat_weights(plain), flat_weights(dropped))
    first = output(dropped, X)
    assert np.array_equal(output(dropped, X), first)
    assert_close(output(dropped, X[:5]), first[:5], BATCH_TOL["float32"])
    # dropout does not change the weight layout
    assert list(plain.get_weights()) == list(dropped.get_weights())


@pytest.mark.parametrize("key", ALL)
def test_verbose_draws_a_progress_bar(key, capsys):
    X, y = sample(make(key), "natural")
    name = type(make(key)).__name__
    make(key, verbose=True, max_iter=2).fit(X, y)
    err = capsys.readouterr().err
    assert "loss" in err
    assert name in err
    make(key, verbose=True, max_iter=2, early_stopping=True).fit(X, y)
    assert "val" in capsys.readouterr().err
    make(key, verbose=True, max_iter=2, solver="lbfgs").fit(X, y)
    assert "L-BFGS" in capsys.readouterr().err
    make(key, verbose=False, max_iter=2).fit(X, y)
    captured = capsys.readouterr()
    assert captured.err == "" and captured.out == ""


# =============================================================== divergence


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
#: the estimators whose targets can be scaled to overflow
SCALABLE = select({
    "classifiers": "labels cannot be scaled (a classifier's divergence at "
                   "an absurd rate: test_robustness.py)"})
@pytest.mark.parametrize("case", list(DIVERGING))
@pytest.mark.parametrize("key", SCALABLE)
def test_divergence_raises_and_leaves_finite_weights(key, case):
    params = dict(DIVERGING[case])
    scale = params.pop("scale")
    model = make(key, max_iter=5, dtype="float32", **params)
    X, y = sample(model)
    noise = np.random.default_rng(3).normal(size=np.shape(X if y is None
                                                          else y)) * scale
    if y is None:  # a generative model: X is its targets
        X = noise
    else:
        y = noise
    with pytest.raises(DivergenceError) as info:
        model.fit(X, y)
    assert isinstance(info.value, FloatingPointError)
    message = str(info.value)
    assert type(model).__name__ in message
    assert "finite" in message or "diverged" in message
    weights = model.get_weights()
    assert all(np.all(np.isfinite(w)) for w in weights.values()), {
        k: int(np.sum(~np.isfinite(v))) for k, v in weights.items()}
    assert np.all(np.isfinite(predict(model, X)))


def test_divergence_error_is_exported():
    assert numlstm.DivergenceError is DivergenceError
    assert issubclass(DivergenceError, FloatingPointError)
