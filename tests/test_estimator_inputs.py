"""Input forms every estimator takes, and the bad input each one refuses.

Over the registry's 11 estimators (``registry.py``): 3-D arrays (a
CNN-LSTM's 5-D frames), 2-D tables of univariate sequences, DataFrames and
ragged lists fit and predict; a sequence's output (a generative model's:
its log-likelihood) never depends on its batch or on the padding after it,
and a ragged batch's loss is the mean of each sequence's own. Bad X, y,
sample_weight and parameters raise a ValueError naming what is wrong before
any kernel runs; a failed fit leaves no fitted state, a failed refit the
fitted model as it was.

Every fit is tiny (3-4 units, <= 16 sequences of <= 6 steps, 3 epochs):
these tests check the contract, not how well the models learn (see
``test_learning.py``).
"""

import numpy as np
import pytest
from helpers import assert_close
from registry import (
    FRAME,
    LENGTHS,
    SCALAR_STEPS,
    classes_kw,
    disable_kernels,
    flat,
    is_cnn,
    is_generative,
    make,
    output,
    per_step,
    predict,
    sample,
    select,
    size,
)
from scipy import sparse
from sklearn.base import is_classifier
from sklearn.exceptions import NotFittedError
from sklearn.utils.validation import check_is_fitted

# short fits stop at max_iter on purpose
pytestmark = pytest.mark.filterwarnings(
    "ignore::sklearn.exceptions.ConvergenceWarning")

#: max |difference| / max(1, max|reference|) allowed where the same numbers
#: are computed in a differently shaped batch
BATCH_TOL = {"float32": 1e-6, "float64": 1e-12}

ALL = select()
#: the estimators whose fit takes y
SUPERVISED = select({"generative": "GenerativeLSTM takes no y (fit(X))"})


def step_shape(model):
    """The step shape of the registry's array data for ``model``."""
    return FRAME if is_cnn(model) else (2,)


def other_step(model):
    """A step shape that is not ``model``'s."""
    return (5, 5, 1) if is_cnn(model) else (3,)


def n_values(model):
    """Values per step of the registry's array data: ``n_features_in_``."""
    return int(np.prod(step_shape(model)))


# ===================================================================== forms


@pytest.mark.parametrize("key", ALL)
def test_array(key):
    model = make(key)
    X, y = sample(model, n=12, T=6, step=(3,) if not is_cnn(model) else None)
    model.fit(X, y)
    assert model.n_features_in_ == int(np.prod(X.shape[2:]))
    assert np.shape(predict(model, X)) == (np.shape(y) if y is not None
                                           else (12,))
    assert not hasattr(model, "feature_names_in_")
    assert model.backend_ == "cpu"


@pytest.mark.parametrize("key", ALL)
def test_2d_array_is_univariate_sequences(key):
    params = SCALAR_STEPS.get(key, {})
    model = make(key, **params)
    X2, y = sample(model, "table", n=12, T=6)
    X3 = X2[:, :, None]
    model.fit(X2, y)
    # a 2-D table: n_features_in_ is its number of columns, as in sklearn
    assert model.n_features_in_ == 6
    # ... and the same data as (n, T, 1): same fit, same predictions
    ref = make(key, **params).fit(X3, y)
    assert ref.n_features_in_ == 1
    assert np.array_equal(output(model, X2), output(ref, X3))
    assert np.array_equal(output(model, X3), output(model, X2))


@pytest.mark.parametrize("key", ALL)
def test_dataframe(key):
    params = SCALAR_STEPS.get(key, {})
    model = make(key, **params)
    df, y = sample(model, "frame", n=12, T=5)
    X2 = df.to_numpy()
    cols = [f"t{k}" for k in range(5)]
    model.fit(df, y)
    assert model.n_features_in_ == 5
    assert isinstance(model.feature_names_in_, np.ndarray)
    assert model.feature_names_in_.dtype == object
    assert model.feature_names_in_.tolist() == cols
    ref = make(key, **params).fit(X2, y)
    assert not hasattr(ref, "feature_names_in_")
    assert np.array_equal(output(model, df), output(ref, X2))
    # refitting on an array forgets the names
    assert not hasattr(model.fit(X2, y), "feature_names_in_")


@pytest.mark.parametrize("key", ALL)
def test_dataframe_with_other_column_names_at_predict_raises(key):
    """scikit-learn's contract (``validate_data(reset=False)``): predict on a
    DataFrame whose columns differ from those seen in fit is an error."""
    model = make(key, **SCALAR_STEPS.get(key, {}))
    df, y = sample(model, "frame", n=12, T=5)
    model.fit(df, y)
    renamed = df.rename(columns=lambda c: c.upper())
    with pytest.raises(ValueError, match="feature names"):
        predict(model, renamed)
    with pytest.raises(ValueError, match="feature names"):
        predict(model, df[df.columns[::-1]])


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("key", ALL)
def test_ragged_equals_each_sequence_alone(key, dtype):
    model = make(key, dtype=dtype)
    X, y = sample(model, "ragged")
    model.fit(X, y)
    assert model.n_features_in_ == n_values(model)
    batch = output(model, X)
    assert len(batch) == len(X)
    for k, x in enumerate(X):
        alone = output(model, [x])[0]
        assert_close(batch[k], alone, BATCH_TOL[dtype], f"sequence {k}")
        # a single sequence as a 3-D batch of one: the same numbers
        assert_close(output(model, x[None])[0], alone, BATCH_TOL[dtype])


@pytest.mark.parametrize("key", ALL)
def test_ragged_1d_sequences(key):
    params = {**SCALAR_STEPS.get(key, {}), "dtype": "float64"}
    model = make(key, **params)
    X1, y = sample(model, "ragged1d")
    X2 = [x[:, None] for x in X1]
    model.fit(X1, y)
    assert model.n_features_in_ == 1
    ref = make(key, **params).fit(X2, y)
    assert np.array_equal(flat(output(model, X1)), flat(output(ref, X2)))
    for k, x in enumerate(X1):
        assert_close(output(model, X1)[k], output(model, [x, x[:1]])[0], 1e-12)


def network_inputs(model, X):
    """What ``model``'s network reads for each sequence of ``X``: the
    sequences themselves, or a generative model's start symbol and shifted
    steps."""
    if is_generative(model):
        return [model._io(s)[0] for s in model._sequences(X, reset=False)]
    return list(X)


@pytest.mark.parametrize("key", ALL)
def test_ragged_padding_values_never_matter_in_forward(key):
    """Whatever sits after a sequence's end is ignored by the network."""
    model = make(key, dtype="float64")
    X, y = sample(model, "ragged")
    model.fit(X, y)
    inputs = network_inputs(model, X)
    lengths = np.array([len(x) for x in inputs])
    zeros = np.zeros((len(X), lengths.max(), *inputs[0].shape[1:]))
    garbage = np.random.default_rng(5).normal(scale=1e3, size=zeros.shape)
    for k, x in enumerate(inputs):
        zeros[k, :len(x)] = x
        garbage[k, :len(x)] = x
    a = np.array(model.network_.forward(zeros, lengths))
    b = np.array(model.network_.forward(garbage, lengths))
    if per_step(model) or is_generative(model):
        # the padded steps of a per-step output are not predictions
        mask = np.arange(lengths.max())[None, :] < lengths[:, None]
        a, b = a[mask], b[mask]
    assert np.array_equal(a, b)


def _row(y, k):
    """The targets of sequence ``k`` alone."""
    if y is None:
        return None
    return [y[k]] if isinstance(y, list) else y[k:k + 1]


#: every estimator as the registry makes it, then those with a
#: return_sequences parameter that the registry makes without it, with it
#: (a per-step loss weighs each sequence by its steps)
LOSS_CASES = [(key, {}) for key in ALL] + [
    (key, {"return_sequences": True})
    for key in select({"no-return-sequences": "no return_sequences "
                       "parameter (their loss is per step already)"})
    if not per_step(make(key))]


@pytest.mark.parametrize(
    "key,params", LOSS_CASES,
    ids=[key + ("-return_sequences" if p else "") for key, p in LOSS_CASES])
def test_ragged_loss_and_gradient_are_the_mean_over_output_steps(key, params):
    """Exact masking in training: the loss of a ragged batch is the mean of
    each sequence's own loss, and so is its gradient, each sequence weighed
    by the output steps it has (one for a per-sequence output, n_steps_out_
    for an encoder-decoder, its length for per-step outputs)."""
    model = make(key, dtype="float64", alpha=0.0, **params)
    X, y = sample(model, "ragged", lengths=(3, 5, 1, 4, 2, 5))
    model.fit(X, y)
    fun, theta = model.make_objective(X, y)
    loss, grad = fun(theta)
    parts = [model.make_objective([x], _row(y, k))[0](theta)
             for k, x in enumerate(X)]
    if per_step(model) or is_generative(model):
        w = np.array([len(x) for x in X], dtype=np.float64)
    else:
        w = np.ones(len(X))
    w /= w.sum()
    assert_close(loss, sum(wk * p[0] for wk, p in zip(w, parts, strict=True)),
                 1e-12, "loss")
    assert_close(grad, sum(wk * p[1] for wk, p in zip(w, parts, strict=True)),
                 1e-12, "grad")


# ================================================================ bad input


@pytest.mark.parametrize("key", ALL)
def test_no_kernels_fixture_works(key, no_kernels):
    model = make(key)
    with pytest.raises(AssertionError, match="a kernel ran"):
        model.fit(*sample(model))


def _with(X, index, value):
    """A float copy of ``X`` with its flat entry ``index`` set to ``value``."""
    X = np.array(X, dtype=np.float64)
    X.reshape(-1)[index] = value
    return X


class Good:
    """Valid data of ``model``: X (16, 5, *step), its 2-D table and y."""

    def __init__(self, model):
        self.model = model
        self.X, self.y = sample(model)
        self.table = self.X.reshape(16, 5, -1)[:, :, 0]
        self.step = step_shape(model)
        self.cnn = is_cnn(model)

    def y_rows(self, n):
        return None if self.y is None else self.y[:n]


#: name -> good -> (X, y, sample_weight, params, match); y of None means the
#: estimator's own targets, "none" no y at all
BAD_FIT = {
    "X-nan": lambda g: (_with(g.X, 7, np.nan), None, None, {}, "NaN"),
    "X-inf": lambda g: (_with(g.X, 31, np.inf), None, None, {}, "infinity"),
    "X-2d-nan": lambda g: (_with(g.table, 12, np.nan), None, None, {}, "NaN"),
    "X-no-samples": lambda g: (np.zeros((0, *g.X.shape[1:])), g.y_rows(0),
                               None, {}, "0 sample"),
    "X-no-steps": lambda g: (np.zeros((16, 0, *g.step)), None, None, {},
                             "time step"),
    "X-2d-no-steps": lambda g: (np.zeros((16, 0)), None, None, {}, "0 feature"),
    # a CNN-LSTM's steps without channels: every axis needs an element
    "X-no-features": lambda g: (np.zeros((16, 5, *g.step[:-1], 0)), None, None,
                                {}, "at least one element" if g.cnn
                                else "feature"),
    "X-one-axis-too-many": lambda g: (g.X[..., None], None, None, {},
                                      f"{g.X.ndim + 1}-D"),
    "X-1d": lambda g: (g.table[:, 0], None, None, {}, "2D array"),
    "X-complex": lambda g: (g.X + 1j, None, None, {}, "[Cc]omplex"),
    "X-sparse": lambda g: (sparse.csr_matrix(g.table), None, None, {},
                           "sparse"),
    "X-ragged-widths": lambda g: (
        [np.zeros((3, *g.step))] * 8 + [np.zeros((4, *other_step(g.model)))] * 8,
        None, None, {}, "different step shapes" if g.cnn
        else "different numbers of features"),
    "X-ragged-nan": lambda g: (
        [x[:L] for x, L in zip(g.X[:15], LENGTHS * 2, strict=False)]
        + [np.full((2, *g.step), np.nan)], None, None, {}, r"X\[15\].*NaN"),
    "X-ragged-empty-element": lambda g: (
        [np.zeros((3, *g.step))] * 15 + [np.zeros((0, *g.step))], None, None,
        {}, r"X\[15\] is an empty sequence"),
    "X-empty-list": lambda g: ([], g.y_rows(0), None, {}, "."),
    "y-short": lambda g: (g.X, g.y[:-1], None, {}, "16 samples but y has 15"),
    "y-None": lambda g: (g.X, "none", None, {}, "y is None|requires y"),
    "sw-negative": lambda g: (g.X, None, -np.ones(16), {}, "[Nn]egative"),
    "sw-zero-sum": lambda g: (g.X, None, np.zeros(16), {}, "non-zero|zero"),
    "sw-length": lambda g: (g.X, None, np.ones(3), {}, "shape"),
    "solver": lambda g: (g.X, None, None, {"solver": "x"}, "solver"),
    "units-0": lambda g: (g.X, None, None, "size-0", "units|hidden_layer_sizes"),
    "dropout-1": lambda g: (g.X, None, None, {"dropout": 1.0}, "dropout"),
    "dtype-float16": lambda g: (g.X, None, None, {"dtype": "float16"}, "dtype"),
    "clip-negative": lambda g: (g.X, None, None, {"clip_norm": -1},
                                "clip_norm"),
    "batch-size-0": lambda g: (g.X, None, None, {"batch_size": 0},
                               "batch_size"),
    "max-iter-0": lambda g: (g.X, None, None, {"max_iter": 0}, "max_iter"),
    "lr-0": lambda g: (g.X, None, None, {"learning_rate_init": 0.0},
                       "learning_rate_init"),
    "validation-fraction-1": lambda g: (g.X, None, None,
                                        {"validation_fraction": 1.0},
                                        "validation_fraction"),
}
#: the cases about y, which a generative model does not take
Y_CASES = ("y-short", "y-None")


def bad_fit_cases(cases):
    """(key, case) pairs; a generative model skips the cases about y."""
    out = [(key, case) for key in SUPERVISED for case in cases]
    out += [("generative", case) for case in cases if case not in Y_CASES]
    return out


def _bad_fit_args(key, case):
    """``(model, X, y, sample_weight, match)`` of ``case`` for ``key``; the
    estimator has the case's parameters."""
    good = Good(make(key))
    X, y, sw, params, match = BAD_FIT[case](good)
    if params == "size-0":
        params = size(key, 0)
    y = {None: good.y, "none": None}[y] if y is None or isinstance(y, str) \
        else y
    return make(key, **params), X, y, sw, match


def _unfitted_attributes(model):
    """The names set on ``model`` besides its parameters."""
    return set(vars(model)) - set(model.get_params())


@pytest.mark.parametrize("key,case", bad_fit_cases(BAD_FIT))
def test_bad_fit_input_raises_before_any_kernel(key, case, no_kernels):
    model, X, y, sw, match = _bad_fit_args(key, case)
    with pytest.raises(ValueError, match=match):
        model.fit(X, y, sample_weight=sw)
    with pytest.raises(NotFittedError):
        predict(model, sample(model)[0])
    # nothing of the fit is left: no network_, n_steps_out_, kind_, ...
    assert _unfitted_attributes(model) == set()


@pytest.mark.parametrize("case", ["y-short", "y-nan"])
@pytest.mark.parametrize("key", SUPERVISED)
def test_failed_first_fit_leaves_no_fitted_state(key, case):
    """A fit whose y fails validation (after X was accepted) must not leave
    the estimator looking fitted: scikit-learn validates X and y together
    (``validate_data(X, y)``) before setting ``n_features_in_``."""
    model, X, y, sw, match = _bad_fit_args(key, "y-short")
    if case == "y-nan":
        y = np.array(np.r_[y, y[:1]], dtype=np.float64)
        y[0] = np.nan
        match = "NaN"
    with pytest.raises(ValueError, match=match):
        model.fit(X, y, sample_weight=sw)
    with pytest.raises(NotFittedError):
        check_is_fitted(model)
    assert not hasattr(model, "n_features_in_")
    assert _unfitted_attributes(model) == set()


@pytest.mark.parametrize("key,case", bad_fit_cases(
    ["X-nan", "X-one-axis-too-many", "X-sparse", "y-short", "sw-negative",
     "X-ragged-widths"]))
def test_bad_partial_fit_input_raises_before_any_kernel(key, case, no_kernels):
    model, X, y, sw, match = _bad_fit_args(key, case)
    kw = classes_kw(model, sample(model)[1])
    with pytest.raises(ValueError, match=match):
        model.partial_fit(X, y, sample_weight=sw, **kw)
    assert _unfitted_attributes(model) == set()


@pytest.mark.parametrize("key", SUPERVISED)
def test_nan_and_inf_in_y(key, no_kernels):
    model = make(key)
    X, y0 = sample(model)
    for bad in (np.nan, np.inf):
        y = np.array(y0, dtype=np.float64)
        y[4] = bad
        with pytest.raises(ValueError, match="NaN|infinity|[Uu]nknown label"):
            make(key).fit(X, y)


#: the estimators whose targets are sequences of values (the
#: return_sequences ones with it on)
SEQUENCE_REGRESSORS = select({
    "classifiers": "labels, not values (NaN labels: test_nan_and_inf_in_y)",
    "generative": "GenerativeLSTM takes no y"})


@pytest.mark.parametrize("key", SEQUENCE_REGRESSORS)
def test_nan_in_sequence_targets(key, no_kernels):
    params = {} if key.startswith("encoder-decoder") else \
        {"return_sequences": True}
    model = make(key, **params)
    X, y = sample(model)
    y = np.array(y, dtype=np.float64)
    y[2, min(3, y.shape[1] - 1)] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        model.fit(X, y)


CLASSIFIERS = select({"regressors": "real targets, no classes",
                      "generative": "no targets, no classes"})


@pytest.mark.parametrize("key", CLASSIFIERS)
def test_single_class_raises(key, no_kernels):
    model = make(key)
    X, y = sample(model)
    with pytest.raises(ValueError, match="2 classes|one class"):
        model.fit(X, np.full(np.shape(y), "a"))


@pytest.mark.parametrize("key", CLASSIFIERS)
def test_partial_fit_needs_classes_on_first_call(key, no_kernels):
    model = make(key)
    with pytest.raises(ValueError, match="classes"):
        model.partial_fit(*sample(model))
    assert not hasattr(model, "classes_")


@pytest.mark.parametrize("key", CLASSIFIERS)
def test_partial_fit_unseen_labels_raise_before_any_kernel(key, monkeypatch):
    model = make(key)
    X, y = sample(model)
    classes = np.unique(y)
    model.partial_fit(X, y, classes=classes)
    before = model.predict_proba(X)
    disable_kernels(monkeypatch)
    unseen = int(classes.max()) + 1
    with pytest.raises(ValueError, match=rf"not seen.*\[{unseen}\]"):
        model.partial_fit(X, np.where(y == classes.max(), unseen, y))
    # a label absent from classes= on the first call
    with pytest.raises(ValueError, match="not seen"):
        make(key).partial_fit(X, y + 5, classes=[5, 7])
    with pytest.raises(ValueError, match="classes"):
        model.partial_fit(X, y, classes=[*classes, unseen])
    monkeypatch.undo()
    assert np.array_equal(model.predict_proba(X), before)
    assert model.n_iter_ == 1


@pytest.mark.parametrize("key", ALL)
def test_partial_fit_with_lbfgs_raises(key, no_kernels):
    model = make(key, solver="lbfgs")
    X, y = sample(model)
    with pytest.raises(ValueError, match="lbfgs"):
        model.partial_fit(X, y, **classes_kw(model, y))


def _other_step(g, match):
    """Steps of another shape: a CNN-LSTM names the shapes."""
    return r"steps of shape" if g.cnn else match


#: name -> good -> (what to predict on a model fitted on good.X, match)
BAD_PREDICT = {
    "3d-other-D": lambda g: (g.X[:, :, :5, :5] if g.cnn else g.X[:, :, :1],
                             _other_step(g, "1 features per time step.*"
                                            "expecting 2")),
    "2d": lambda g: (g.table, _other_step(g, "1 features per time step.*"
                                             "expecting 2")),
    "ragged-other-D": lambda g: ([np.zeros((3, 3)), np.zeros((2, 3))],
                                 _other_step(g, "3 features per time step")),
    "nan": lambda g: (_with(g.X, 11, np.nan), "NaN"),
    "inf": lambda g: (_with(g.X, 11, -np.inf), "infinity"),
    "no-samples": lambda g: (np.zeros((0, *g.X.shape[1:])), "0 sample"),
    "no-steps": lambda g: (np.zeros((4, 0, *g.step)), "time step"),
    "one-axis-too-many": lambda g: (g.X[..., None], f"{g.X.ndim + 1}-D"),
    "1d": lambda g: (g.table[:, 0], "2D array"),
    "complex": lambda g: (g.X * 1j, "[Cc]omplex"),
    "sparse": lambda g: (sparse.csr_matrix(g.table), "sparse"),
    "ragged-widths": lambda g: (
        [np.zeros((3, *g.step)), np.zeros((2, *other_step(g.model)))],
        "different step shapes" if g.cnn else "different numbers of features"),
}


@pytest.fixture(scope="module")
def fitted():
    """Each estimator fitted on its :class:`Good` data, with that data."""
    out = {}
    for key in ALL:
        model = make(key)
        good = Good(model)
        out[key] = (model.fit(good.X, good.y), good)
    return out


@pytest.mark.parametrize("case", list(BAD_PREDICT))
@pytest.mark.parametrize("key", ALL)
def test_bad_predict_input_raises_before_any_kernel(key, case, fitted,
                                                    no_kernels):
    model, good = fitted[key]
    X, match = BAD_PREDICT[case](good)
    n = X.shape[0] if hasattr(X, "shape") else len(X)
    if is_generative(model):
        methods = [model.score_samples, model.score]
    else:
        methods = [model.predict, lambda X: model.score(X, np.zeros(n))]
    if is_classifier(model):
        methods.append(model.predict_proba)
    for method in methods:
        with pytest.raises(ValueError, match=match):
            method(X)


@pytest.mark.parametrize("key", ALL)
def test_2d_table_width_is_checked_at_predict(key, monkeypatch):
    model = make(key, **SCALAR_STEPS.get(key, {}))
    X2, y = sample(model, "table")
    model.fit(X2, y)
    disable_kernels(monkeypatch)
    with pytest.raises(ValueError, match="4 features.*expecting 5"):
        predict(model, X2[:, :4])
    with pytest.raises(ValueError, match="6 features.*expecting 5"):
        predict(model, np.hstack([X2, X2[:, :1]]))


@pytest.mark.parametrize("key", ALL)
def test_failed_refit_leaves_the_fitted_model_usable(key):
    """A refit that fails validation must not leave the estimator half
    updated (its n_features_in_ changed but its network not)."""
    model = make(key)
    X, y = sample(model)
    model.fit(X, y)
    before = output(model, X)
    n_features = model.n_features_in_
    X3, y3 = sample(model, step=other_step(model), seed=4)
    if y3 is None:  # a generative model: X is its targets
        X3[0, 0, 0] = np.nan
    else:
        y3 = np.array(y3, dtype=np.float64)
        y3[0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        model.fit(X3, y3)
    assert model.n_features_in_ == n_features
    assert np.array_equal(output(model, X), before)
    with pytest.raises(ValueError, match="features|steps of shape"):
        predict(model, sample(model, step=other_step(model), seed=4)[0])
