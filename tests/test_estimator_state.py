"""The state of a fitted estimator: pickled, reproduced, read, written, optimised.

Over the registry's 11 estimators (``registry.py``): a pickled model
predicts, samples and trains on exactly as the original; the same seed gives
the same numbers, in this process and in others; ``get_weights`` has the
documented names and shapes and is a copy, ``set_weights`` loads a dict of
them and refuses a bad one without loading any of it; ``make_objective``
starts from the flat weights (the initial ones before a fit), its gradient
is the finite differences', and SciPy can minimise it.

Every fit is tiny (2-4 units, <= 16 sequences of <= 6 steps, <= 4 epochs).
"""

import pickle
import re
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
from helpers import assert_close
from registry import (
    ESTIMATORS,
    FRAME,
    fd_check,
    flat,
    flat_weights,
    is_cnn,
    is_encoder_decoder,
    is_generative,
    make,
    output,
    per_step,
    predict,
    same,
    sample,
    select,
    size,
    unflatten,
)
from scipy.optimize import minimize
from sklearn.base import is_classifier
from sklearn.exceptions import NotFittedError
from sklearn.utils.validation import check_is_fitted

from numlstm import (
    BidirectionalLSTMClassifier,
    BidirectionalLSTMRegressor,
)

# short fits stop at max_iter on purpose
pytestmark = pytest.mark.filterwarnings(
    "ignore::sklearn.exceptions.ConvergenceWarning")

TESTS = Path(__file__).resolve().parent
ALL = select()


def batch(model, **kw):
    """A ragged batch for ``model`` (a generative model: strings)."""
    return sample(model, "text" if is_generative(model) else "ragged", **kw)


def fitted_attributes(model):
    """The public fitted attributes (``name_``) but the network itself."""
    return {name: value for name, value in vars(model).items()
            if name.endswith("_") and not name.startswith("_")
            and name != "network_"}


# ================================================================== pickling


@pytest.mark.parametrize("dropout", [0.0, 0.2])
@pytest.mark.parametrize("key", ALL)
def test_pickle_round_trip(key, dropout):
    model = make(key, dropout=dropout)
    X, y = batch(model)
    model.fit(X, y)
    loaded = pickle.loads(pickle.dumps(model))
    assert same(output(loaded, X), output(model, X))
    assert same(predict(loaded, X), predict(model, X))
    assert loaded.get_params() == model.get_params()
    for name, w in model.get_weights().items():
        assert np.array_equal(loaded.get_weights()[name], w)
    # every fitted attribute: classes_, n_steps_out_, vocabulary_, ...
    attributes = fitted_attributes(model)
    assert fitted_attributes(loaded).keys() == attributes.keys()
    for name, value in attributes.items():
        assert same(getattr(loaded, name), value), name
    if is_generative(model):
        assert loaded.sample(3, length=8, random_state=4) == \
            model.sample(3, length=8, random_state=4)
    # training goes on from the same state (the dropout noise's too): the
    # same next epoch
    model.partial_fit(X, y)
    loaded.partial_fit(X, y)
    assert loaded.n_iter_ == model.n_iter_ == 4
    assert same(output(loaded, X), output(model, X))


# =========================================================== reproducibility


@pytest.mark.parametrize("key", ALL)
def test_same_seed_same_predictions(key):
    params = dict(dropout=0.3, batch_size=3, max_iter=4)
    X, y = batch(make(key))
    a = make(key, **params).fit(X, y)
    b = make(key, **params).fit(X, y)
    assert same(output(a, X), output(b, X))
    assert a.loss_curve_ == b.loss_curve_
    assert np.array_equal(flat_weights(a), flat_weights(b))
    c = make(key, random_state=1, **params).fit(X, y)
    assert not np.array_equal(flat(output(a, X)), flat(output(c, X)))
    assert not np.array_equal(flat_weights(a), flat_weights(c))


_SCRIPT = f"""
import sys
import warnings
sys.path.insert(0, {str(TESTS)!r})
import numpy as np
from registry import ESTIMATORS, flat, make, output, sample
warnings.simplefilter("ignore")
parts = []
for key in ESTIMATORS:
    model = make(key, dropout=0.2, batch_size=4)
    X, y = sample(model, "natural")
    parts.append(flat(output(model.fit(X, y), X)))
values = np.concatenate(parts)
print(" ".join(float(v).hex() for v in values))
"""


def _run_script():
    done = subprocess.run([sys.executable, "-c", _SCRIPT], capture_output=True,
                          text=True, timeout=300, cwd=TESTS.parent, check=True)
    return done.stdout.strip().splitlines()[-1]


def test_same_seed_same_predictions_across_processes():
    """Every estimator, with dropout noise, in two fresh processes and this
    one: the same numbers to the last bit."""
    first, second = _run_script(), _run_script()
    namespace: dict = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        body = _SCRIPT.replace("print(", "result = (")
        exec(compile(body, "<script>", "exec"), namespace)
    here = " ".join(float(v).hex() for v in namespace["values"])
    assert first == second
    assert first == here
    # every estimator gave its numbers
    assert len(namespace["parts"]) == len(ESTIMATORS)
    assert all(part.size >= 16 for part in namespace["parts"])


# =================================================================== weights


def _lstm(prefix, D, H):
    return {f"{prefix}.W_ih": (4 * H, D), f"{prefix}.W_hh": (4 * H, H),
            f"{prefix}.b": (4 * H,)}


def _conv_width(L, kernel, pool, padding):
    return (L - kernel + 1 if padding == "valid" else L) // pool


def expected_shapes(model, step, n_out):
    """The documented ``get_weights`` names (in order) and shapes of the
    fitted ``model`` on steps of shape ``step`` with ``n_out`` outputs."""
    p = model.get_params()
    shapes = {}
    if is_generative(model):
        V = model.n_tokens_ if model.kind_ != "continuous" else step[0]
        width = V + 1  # one-hot previous token (or step) and the start
        for k, H in enumerate(p["hidden_layer_sizes"]):
            shapes |= _lstm(f"lstm.{k}", width, H)
            width = H
        return shapes | {"dense.W": (V, width), "dense.b": (V,)}
    if is_encoder_decoder(model):
        sizes = np.atleast_1d(p["encoder_units"]).tolist()
        width = step[0]
        for k, H in enumerate(sizes):
            shapes |= _lstm(f"encoder.{k}", width, H)
            width = H
        Hd = p["decoder_units"]
        if p["decoder"] == "repeat":
            shapes |= _lstm("decoder.0", width, Hd)
        else:  # the previous output (a classifier's: one-hot) is the input
            fed = len(model.classes_) if is_classifier(model) else n_out
            shapes |= _lstm("decoder.0", fed, Hd) | {"decoder.start": (fed,)}
        return shapes | {"dense.W": (n_out, Hd), "dense.b": (n_out,)}
    sizes = (p["hidden_layer_sizes"] if p.get("hidden_layer_sizes")
             else (p["units"],))
    width = step[0]
    if is_cnn(model):
        *spatial, channels = step
        for k, f in enumerate(p["filters"]):
            kernel = (p["kernel_size"],) * len(spatial)
            shapes |= {f"conv.{k}.W": (f, channels, *kernel),
                       f"conv.{k}.b": (f,)}
            spatial = [_conv_width(s, p["kernel_size"], p["pool_size"],
                                   p["padding"]) for s in spatial]
            channels = f
        width = int(np.prod(spatial)) * channels
    bidirectional = isinstance(model, (BidirectionalLSTMRegressor,
                                       BidirectionalLSTMClassifier))
    for k, H in enumerate(sizes):
        if bidirectional:
            for direction in ("forward", "backward"):
                shapes |= _lstm(f"lstm.{k}.{direction}", width, H)
            width = 2 * H if p["merge_mode"] == "concat" else H
        else:
            shapes |= _lstm(f"lstm.{k}", width, H)
            width = H
    return shapes | {"dense.W": (n_out, width), "dense.b": (n_out,)}


def _two_outputs(y):
    """Regression targets with a last axis of two outputs."""
    return np.stack([y, -y], axis=-1)


@pytest.mark.parametrize("key", ALL)
def test_get_weights_layout(key):
    step = FRAME if key.startswith("cnn") else (3,)
    X, y = sample(make(key), "natural", n=12, T=4, step=step,
                  labels="multi")
    if y is not None and not is_classifier(make(key)):
        y = _two_outputs(y)
    # two outputs, three classes, or a generative model's next tokens
    n_out = 3 if is_classifier(make(key)) else 2
    for dropout in (0.0, 0.5):
        model = make(key, dropout=dropout).fit(X, y)
        weights = model.get_weights()
        if is_generative(model):
            n_out = model.n_tokens_
        shapes = {k: v.shape for k, v in weights.items()}
        assert list(shapes.items()) == list(
            expected_shapes(model, step, n_out).items())
        assert all(w.dtype == np.float32 for w in weights.values())
    if is_classifier(model):
        binary = make(key).fit(X, sample(model, "natural", n=12, T=4,
                                         step=step)[1])
        assert binary.get_weights()["dense.W"].shape[0] == 1
    float64 = make(key, dtype="float64").fit(X, y)
    assert all(w.dtype == np.float64 for w in float64.get_weights().values())


@pytest.mark.parametrize("key", ALL)
def test_get_weights_is_a_copy(key):
    model = make(key)
    X, y = sample(model, "natural")
    model.fit(X, y)
    before = output(model, X)
    weights = model.get_weights()
    for w in weights.values():
        w[...] = 0
    assert np.array_equal(output(model, X), before)


@pytest.mark.parametrize("key", ALL)
def test_set_weights_round_trip(key):
    X, y = sample(make(key), "natural")
    a = make(key).fit(X, y)
    b = make(key, random_state=7).fit(X, y)
    assert not np.array_equal(output(a, X), output(b, X))
    assert a.set_weights(b.get_weights()) is a
    assert np.array_equal(output(a, X), output(b, X))
    assert np.array_equal(flat_weights(a), flat_weights(b))


#: the regressors whose predictions the dense bias shifts (an
#: encoder-decoder's with the 'repeat' decoder: teacher forcing feeds each
#: prediction back into the decoder, so a shift of one step moves the next)
BIAS_CASES = [(key, {"decoder": "repeat"} if key.startswith("encoder") else {})
              for key in select({
                  "classifiers": "the bias shifts logits, not labels",
                  "generative": "no predictions: it scores likelihoods"})]


@pytest.mark.parametrize("key,params", BIAS_CASES,
                         ids=[key for key, _ in BIAS_CASES])
def test_set_weights_dense_bias_shifts_predictions(key, params):
    model = make(key, dtype="float64", **params)
    X, y = sample(model)
    model.fit(X, y)
    before = model.predict(X)
    weights = model.get_weights()
    weights["dense.b"] = weights["dense.b"] + 1.5
    model.set_weights(weights)
    assert_close(model.predict(X), before + 1.5, 1e-12)


@pytest.mark.parametrize("key", ALL)
def test_set_weights_rejects_bad_dicts(key):
    model = make(key)
    X, y = sample(model, "natural")
    model.fit(X, y)
    before = output(model, X)
    before_weights = flat_weights(model)
    good = model.get_weights()
    first = next(iter(good))  # lstm.0.W_ih, conv.0.W, encoder.0.W_ih, ...
    hh = next(k for k in good if k.endswith("W_hh"))
    bias = next(k for k in good if k.endswith(".b"))
    # every name is required (decoder.start of teacher forcing too)
    bad = [({k: v for k, v in good.items() if k != name},
            rf"missing.*{re.escape(name)}") for name in good]
    bad += [
        ({**good, "lstm.9.W_ih": np.zeros((4, 4))}, r"unexpected.*lstm\.9\.W_ih"),
        ({**good, hh: good[hh].T}, rf"{re.escape(hh)}.*shape"),
        ({**good, first: good[first][:-1]}, rf"{re.escape(first)}.*shape"),
        ({**good, "dense.W": good["dense.W"] * np.nan}, r"dense\.W.*NaN"),
        ({**good, bias: good[bias] + np.inf},
         rf"{re.escape(bias)}.*(NaN|infin)"),
        (list(good.values()), "dict"),
    ]
    for weights, match in bad:
        with pytest.raises(ValueError, match=match):
            model.set_weights(weights)
        # nothing was loaded by the failed call
        assert np.array_equal(flat_weights(model), before_weights)
    assert np.array_equal(output(model, X), before)


# ============================================================ make_objective


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("key", ALL)
def test_make_objective_theta0_is_the_flat_weights(key, dtype):
    model = make(key, dtype=dtype)
    X, y = batch(model)
    model.fit(X, y)
    fun, theta0 = model.make_objective(X, y)
    assert theta0.dtype == np.float64
    assert np.array_equal(theta0, flat_weights(model).astype(np.float64))
    loss, grad = fun(theta0)
    assert isinstance(loss, float) and np.isfinite(loss)
    assert grad.dtype == np.float64 and grad.shape == theta0.shape
    # fun works on its own copy of the network
    before = output(model, X)
    fun(theta0 + 0.5)
    assert same(output(model, X), before)
    # ... and its optimum can be loaded back with set_weights
    model.set_weights(unflatten(model, theta0 * 0.9))
    fun2, theta2 = model.make_objective(X, y)
    assert np.array_equal(theta2, (theta0 * 0.9).astype(dtype).astype(float))
    assert fun2(theta2)[0] == pytest.approx(fun(theta2)[0], rel=1e-12)


def _gradient_cases():
    """(key, variant): every estimator as the registry makes it ('base':
    binary labels, one output, no L2 term), with the L2 term and more
    outputs ('alpha': three classes, two outputs), and the estimators with
    a return_sequences parameter with it flipped ('flipped')."""
    cases = [(key, "base") for key in ALL] + [(key, "alpha") for key in ALL]
    cases += [(key, "flipped") for key in select({
        "no-return-sequences": "no return_sequences parameter to flip"})]
    return cases


@pytest.mark.parametrize("key,variant", _gradient_cases())
def test_make_objective_gradient_matches_finite_differences(key, variant):
    params = {"dtype": "float64", **size(key, 2 if key.startswith("stacked")
                                          else 3)}
    if variant == "alpha":
        params["alpha"] = 0.3
    if variant == "flipped":
        params["return_sequences"] = not per_step(make(key))
    model = make(key, **params)
    X, y = sample(model, "ragged", lengths=(3, 4, 1, 4, 2, 3), seed=3,
                  labels="multi" if variant == "alpha" else "int")
    if variant == "alpha" and y is not None and not is_classifier(model):
        y = ([_two_outputs(v) for v in y] if isinstance(y, list)
             else _two_outputs(y))
    fun, theta0 = model.make_objective(X, y)
    fd_check(fun, theta0)


@pytest.mark.parametrize("key", ALL)
def test_make_objective_with_scipy_lowers_the_loss(key):
    model = make(key, dtype="float64")
    X, y = sample(model, "natural", n=16, T=4)
    model.fit(X, y)
    before = output(model, X)
    fun, theta0 = model.make_objective(X, y)
    result = minimize(fun, theta0, jac=True, method="L-BFGS-B",
                      options=dict(maxiter=20))
    assert result.fun < fun(theta0)[0]
    # calling fun never touches the estimator
    assert np.array_equal(output(model, X), before)
    assert np.array_equal(flat_weights(model), theta0)
    # ... and the optimum can be loaded back
    model.set_weights(unflatten(model, result.x))
    fun2, theta2 = model.make_objective(X, y)
    assert np.array_equal(theta2, result.x)
    assert fun2(theta2)[0] == pytest.approx(result.fun, rel=1e-12)


@pytest.mark.parametrize("key", ALL)
def test_make_objective_on_an_unfitted_estimator(key):
    model = make(key, dtype="float64")
    X, y = sample(model, "natural", n=12, T=4)
    fun, theta0 = model.make_objective(X, y)
    with pytest.raises(NotFittedError):
        check_is_fitted(model)
    # nothing of the data is left on the estimator (no n_features_in_,
    # network_, vocabulary_, ...)
    assert set(vars(model)) == set(model.get_params())
    assert np.isfinite(fun(theta0)[0])
    # theta0: the initial weights random_state gives
    again = make(key, dtype="float64").make_objective(X, y)[1]
    assert np.array_equal(theta0, again)
    other = make(key, dtype="float64", random_state=1).make_objective(X, y)[1]
    assert not np.array_equal(theta0, other)
    # a fit with a negligible step starts from the same weights
    tiny = make(key, dtype="float64", solver="sgd", momentum=0.0,
                learning_rate_init=1e-12, max_iter=1).fit(X, y)
    np.testing.assert_allclose(flat_weights(tiny), theta0, rtol=0, atol=1e-9)
    # a RandomState random_state is not consumed by make_objective
    shared = make(key, dtype="float64", random_state=np.random.RandomState(3))
    shared.make_objective(X, y)
    fresh = make(key, dtype="float64", random_state=np.random.RandomState(3))
    assert np.array_equal(output(shared.fit(X, y), X),
                          output(fresh.fit(X, y), X))
