"""``proj_size`` and ``layer_norm`` as estimator parameters over the
registry's 11 estimators: the documented weights, the exact gradient of
``make_objective`` (so L-BFGS too), pickling and ``set_weights``, streaming
state and truncated BPTT with a projection's narrower ``h``, refused
combinations and values, and learning. The kernels are tested in
``test_lstm_ln_proj.py``."""

import pickle

import numpy as np
import pytest
from registry import fd_check, output, same, sample, select, size
from registry import make as _make

LN = ("ln_ih.gamma", "ln_hh.gamma", "ln_c.gamma", "ln_c.beta")


# float64 throughout, with the cells whose specialisations the kernel
# tests compile ("proj" and "proj-ln")
def make(key, **params):
    return _make(key, **{"dtype": "float64", **params})


pytestmark = pytest.mark.filterwarnings(
    "ignore::sklearn.exceptions.ConvergenceWarning")

ALL = select()
PROJ_LN = dict(proj_size=2, layer_norm=True)


def _data(model, **kw):
    kind = "text" if model.__class__.__name__ == "GenerativeLSTM" else "ragged"
    return sample(model, kind, **kw)


def _lstm_blocks(weights):
    """``{prefix: {leaf: shape}}`` of the LSTM layers' weights."""
    blocks = {}
    for name, value in weights.items():
        for leaf in ("W_ih", "W_hh", "b", "W_hr", *LN):
            if name.endswith("." + leaf):
                blocks.setdefault(name[:-len(leaf) - 1], {})[leaf] = value.shape
    return {prefix: shapes for prefix, shapes in blocks.items()
            if "W_hh" in shapes}


@pytest.mark.parametrize("key", ALL)
def test_the_weights_are_as_documented(key):
    model = make(key, **PROJ_LN)
    model.fit(*_data(model))
    blocks = _lstm_blocks(model.get_weights())
    assert blocks
    for prefix, shapes in blocks.items():
        H = shapes["W_ih"][0] // 4
        assert shapes["W_hh"] == (4 * H, 2), prefix
        assert shapes["W_hr"] == (2, H), prefix
        assert [shapes[n] for n in LN] == [(4 * H,), (4 * H,), (H,), (H,)]


@pytest.mark.parametrize("key", ALL)
def test_make_objective_gradient_matches_finite_differences(key):
    """The exact gradient L-BFGS runs on, the new weights included."""
    model = make(key, **PROJ_LN, **size(key, 3))
    X, y = _data(model, lengths=(3, 4, 1, 4, 2, 3), seed=3)
    fun, theta0 = model.make_objective(X, y)
    fd_check(fun, theta0)


@pytest.mark.parametrize("key", ALL)
def test_pickle_and_set_weights_keep_the_cell(key):
    model = make(key, **PROJ_LN)
    X, y = _data(model)
    model.fit(X, y)
    want = output(model, X)
    assert same(output(pickle.loads(pickle.dumps(model)), X), want)
    fresh = make(key, **PROJ_LN, max_iter=1, random_state=1).fit(X, y)
    fresh.set_weights(model.get_weights())
    assert same(output(fresh, X), want)
    with pytest.raises(ValueError):  # a plain model has no place for them
        make(key).fit(X, y).set_weights(model.get_weights())


@pytest.mark.parametrize("param, value", [("proj_size", 2),
                                          ("layer_norm", True)])
def test_a_fitted_model_refuses_another_cell(param, value):
    model = make("vanilla-reg", warm_start=True)
    X, y = _data(model)
    model.fit(X, y)
    model.set_params(**{param: value})
    with pytest.raises(ValueError, match=param):
        model.fit(X, y)


@pytest.mark.parametrize("params, match", [
    (dict(proj_size=2, peephole=True), "proj_size cannot be combined with "
                                       "peephole=True"),
    (dict(layer_norm=True, coupled_gates=True), "layer_norm cannot be "
                                                "combined with coupled_gates"),
    (dict(proj_size=2, layer_norm=True, zoneout=0.2), "zoneout"),
    (dict(proj_size=4), "proj_size must be smaller than the hidden size"),
    (dict(proj_size=-1), "proj_size must be a non-negative integer"),
    (dict(proj_size=True), "proj_size must be a non-negative integer"),
    (dict(layer_norm=1), "layer_norm must be a bool"),
], ids=["proj-peephole", "ln-coupled", "zoneout", "too-wide", "negative",
        "bool", "int-flag"])
def test_bad_settings_are_refused_before_any_kernel(params, match, no_kernels):
    model = make("vanilla-reg", **params)
    with pytest.raises(ValueError, match=match):
        model.fit(*_data(model))


@pytest.mark.parametrize("key", ["vanilla-reg", "stacked-reg"])
def test_chunked_prediction_carries_the_projected_state(key):
    """``h`` is ``proj_size`` wide: chunks continued from each other's
    states give the whole sequence's outputs."""
    model = make(key, proj_size=2, max_iter=2)
    X = np.random.default_rng(0).normal(size=(6, 7, 2))
    model.fit(X, X[:, :, 0] if model.return_sequences else X[:, -1, 0])
    whole, end = model.predict(X, return_state=True)
    first, middle = model.predict(X[:, :4], return_state=True)
    second, end_2 = model.predict(X[:, 4:], initial_state=middle,
                                  return_state=True)
    assert [(h.shape[1], c.shape[1]) for h, c in end] == \
        [(2, units) for units in model._hidden_sizes()]
    got = np.concatenate([first, second], axis=1) \
        if model.return_sequences else second
    np.testing.assert_allclose(got, whole, rtol=1e-12, atol=1e-12)
    for (h, c), (h_w, c_w) in zip(end_2, end, strict=True):
        np.testing.assert_allclose(h, h_w, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(c, c_w, rtol=1e-12, atol=1e-12)


def test_tbptt_carries_the_projected_state():
    """``tbptt_steps`` as long as the data: the whole sequences' fit, bit
    for bit, with the narrower carried ``h``."""
    X = np.random.default_rng(1).normal(size=(8, 6, 2))
    y = X[:, :, 0]
    kw = dict(proj_size=2, layer_norm=True, max_iter=2)
    whole = make("stacked-reg", **kw).fit(X, y).get_weights()
    chunked = make("stacked-reg", **kw, tbptt_steps=6).fit(X, y).get_weights()
    assert all(np.array_equal(whole[k], chunked[k]) for k in whole)
    short = make("stacked-reg", **kw, tbptt_steps=2).fit(X, y).get_weights()
    assert not all(np.array_equal(whole[k], short[k]) for k in whole)


@pytest.mark.parametrize("params", [dict(proj_size=12),
                                    dict(layer_norm=True),
                                    dict(proj_size=12, layer_norm=True,
                                         recurrent_dropout=0.1)],
                         ids=["proj", "ln", "proj-ln-dropout"])
def test_each_cell_learns(params):
    """The echo problem (the class seen 3 steps before the end) on held-out
    sequences. Not the noisy sum the other variants learn: normalising
    ``x_t W_ih^T`` over its columns removes the scale of an input of few
    features, which that sum needs (R^2 0.60 against the plain cell's
    0.998, docs/performance.md)."""
    from numlstm import VanillaLSTMClassifier
    from numlstm.datasets import make_echo_sequence

    X, y = make_echo_sequence(500, n_steps=6, n_features=8, echo_step=3,
                              random_state=0)
    model = VanillaLSTMClassifier(24, max_iter=100, learning_rate_init=1e-2,
                                  random_state=0, dtype="float64", **params)
    model.fit(X[:400], y[:400])
    assert model.score(X[400:], y[400:]) > 0.8


def test_a_projected_model_predicts_as_pytorch():
    """A fitted projected regressor's predictions are PyTorch's
    ``nn.LSTM(proj_size=2)`` and ``nn.Linear`` on its weights."""
    torch = pytest.importorskip("torch", reason=(
        "torch is no numlstm dependency and not in the test extras (a CPU "
        "build is gigabytes); the projection is checked against the NumPy "
        "reference and finite differences everywhere, and against PyTorch "
        "where torch is installed"))
    from numlstm import VanillaLSTMRegressor

    X = np.random.default_rng(2).normal(size=(10, 6, 3))
    model = VanillaLSTMRegressor(5, proj_size=2, max_iter=5, random_state=0,
                                 dtype="float64").fit(X, X[:, -1, 0])
    w = model.get_weights()
    lstm = torch.nn.LSTM(3, 5, batch_first=True, proj_size=2).double()
    with torch.no_grad():
        for name, key in (("weight_ih_l0", "W_ih"), ("weight_hh_l0", "W_hh"),
                          ("bias_ih_l0", "b"), ("weight_hr_l0", "W_hr")):
            getattr(lstm, name).copy_(torch.from_numpy(w[f"lstm.0.{key}"]))
        lstm.bias_hh_l0.zero_()
        _, (h_n, _) = lstm(torch.from_numpy(X))
    want = h_n[0].numpy() @ w["dense.W"].T + w["dense.b"]
    np.testing.assert_allclose(model.predict(X), want[:, 0], rtol=1e-12,
                               atol=1e-12)
