"""The cell variants as estimator parameters (``peephole``,
``coupled_gates``, ``recurrent_dropout``, ``zoneout``) over the registry's 11
estimators: the documented weights, the exact gradient of
``make_objective`` (so L-BFGS too), pickling, ``set_weights``, refused
changes after a fit and refused values. The kernels themselves are
tested in ``test_lstm_cell_variants.py``."""

import pickle

import numpy as np
import pytest
from registry import fd_check, output, same, sample, select, size
from registry import make as _make


# float64 throughout: the kernel tests compile the variants' float64
# specialisations, which these then reuse (a cold cache compiles each
# combination of variant arguments and dtype once, ~10 s a kernel)
def make(key, **params):
    return _make(key, **{"dtype": "float64", **params})


# short fits stop at max_iter on purpose
pytestmark = pytest.mark.filterwarnings(
    "ignore::sklearn.exceptions.ConvergenceWarning")

ALL = select()
CELLS = {"peephole": dict(peephole=True), "coupled": dict(coupled_gates=True),
         "coupled-peephole": dict(peephole=True, coupled_gates=True),
         # make_objective runs without dropout: zoneout's expectation
         "coupled-zoneout": dict(coupled_gates=True, zoneout=0.3)}


def _data(model, **kw):
    kind = "text" if model.__class__.__name__ == "GenerativeLSTM" else "ragged"
    return sample(model, kind, **kw)


def _lstm_blocks(weights):
    """The LSTM layers' weight blocks: ``{prefix: {name: shape}}``, the
    prefix ``lstm.0``, ``lstm.0.forward``, ``encoder.0``, ``decoder.0``."""
    blocks = {}
    for name, value in weights.items():
        prefix, _, leaf = name.rpartition(".")
        if leaf in ("W_ih", "W_hh", "b", "w_peep"):
            blocks.setdefault(prefix, {})[leaf] = value.shape
    return {prefix: shapes for prefix, shapes in blocks.items()
            if "W_hh" in shapes}  # not the dense layer's b


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("key", ALL)
def test_the_weights_are_as_documented(key, cell):
    params = CELLS[cell]
    model = make(key, **params)
    model.fit(*_data(model))
    blocks = _lstm_blocks(model.get_weights())
    assert blocks
    n_gates = 3 if params.get("coupled_gates") else 4
    for prefix, shapes in blocks.items():
        H = shapes["W_hh"][1]
        assert shapes["W_ih"][0] == shapes["W_hh"][0] == n_gates * H, prefix
        assert shapes["b"] == (n_gates * H,), prefix
        if params.get("peephole"):
            assert shapes["w_peep"] == ((n_gates - 1) * H,), prefix
        else:
            assert "w_peep" not in shapes, prefix


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("key", ALL)
def test_make_objective_gradient_matches_finite_differences(key, cell):
    """The exact gradient L-BFGS runs on, peephole weights included."""
    model = make(key, dtype="float64", **CELLS[cell],
                 **size(key, 2 if key.startswith("stacked") else 3))
    X, y = _data(model, lengths=(3, 4, 1, 4, 2, 3), seed=3)
    fun, theta0 = model.make_objective(X, y)
    fd_check(fun, theta0)


@pytest.mark.parametrize("key", ALL)
def test_pickle_and_set_weights_keep_the_variant(key):
    model = make(key, peephole=True, coupled_gates=True)
    X, y = _data(model)
    model.fit(X, y)
    want = output(model, X)
    restored = pickle.loads(pickle.dumps(model))
    assert same(output(restored, X), want)
    fresh = make(key, peephole=True, coupled_gates=True, max_iter=1,
                 random_state=1).fit(X, y)
    fresh.set_weights(model.get_weights())
    assert same(output(fresh, X), want)
    # a plain model has no place for these weights
    plain = make(key).fit(X, y)
    with pytest.raises(ValueError):
        plain.set_weights(model.get_weights())


@pytest.mark.parametrize("param", ["peephole", "coupled_gates"])
def test_a_fitted_model_refuses_another_cell(param):
    model = make("vanilla-reg", warm_start=True)
    X, y = _data(model)
    model.fit(X, y)
    model.set_params(**{param: True})
    with pytest.raises(ValueError, match=param):
        model.fit(X, y)


@pytest.mark.parametrize("value", [1, "yes", None])
@pytest.mark.parametrize("param", ["peephole", "coupled_gates"])
def test_a_cell_flag_must_be_a_bool(param, value):
    model = make("vanilla-reg", **{param: value})
    with pytest.raises(ValueError, match=f"{param} must be a bool"):
        model.fit(*_data(model))


@pytest.mark.parametrize("cell", CELLS)
def test_each_variant_learns(cell):
    """Every variant fits the sum of a noisy sequence as the plain cell
    does (R^2 > 0.9 on held-out sequences)."""
    from numlstm import VanillaLSTMRegressor

    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, 8, 2))
    y = X[:, :, 0].sum(axis=1) / 3
    model = VanillaLSTMRegressor(16, max_iter=60, learning_rate_init=1e-2,
                                 random_state=0, dtype="float64",
                                 **CELLS[cell])
    model.fit(X[:300], y[:300])
    assert model.score(X[300:], y[300:]) > 0.9


# ------------------------------------------------------ recurrent dropout

@pytest.mark.parametrize("key", ALL)
def test_recurrent_dropout_is_seeded_and_off_at_predict(key):
    """The same seed gives the same fit, and recurrent dropout changes it
    (the same seed without it ends elsewhere); predicting uses no mask: the
    weights of a fit with recurrent dropout predict in a model without it
    the same numbers."""
    X, y = _data(make(key))
    fits = [make(key, recurrent_dropout=0.5).fit(X, y) for _ in range(2)]
    w = [m.get_weights() for m in fits]
    assert all(np.array_equal(w[0][k], w[1][k]) for k in w[0])
    other = make(key).fit(X, y).get_weights()
    assert not all(np.array_equal(w[0][k], other[k]) for k in w[0])
    plain = make(key, max_iter=1).fit(X, y)
    plain.set_weights(w[0])
    assert same(output(fits[0], X), output(plain, X))


def test_recurrent_dropout_needs_a_stochastic_solver():
    model = make("vanilla-reg", recurrent_dropout=0.2, solver="lbfgs")
    with pytest.raises(ValueError, match="recurrent_dropout needs a "
                                         "stochastic solver"):
        model.fit(*_data(model))


@pytest.mark.parametrize("value", [-0.1, 1.0, "0.2"])
def test_recurrent_dropout_must_be_a_rate(value):
    model = make("vanilla-reg", recurrent_dropout=value)
    with pytest.raises(ValueError, match="recurrent_dropout must be in"):
        model.fit(*_data(model))


def test_recurrent_dropout_may_change_between_fits():
    """A training parameter, as ``dropout``: warm_start continues from the
    same weights with the new rate."""
    model = make("stacked-reg", warm_start=True)
    X, y = _data(model)
    model.fit(X, y)
    model.set_params(recurrent_dropout=0.3)
    model.fit(X, y)
    assert model._spec.recurrent_dropout == 0.3


def test_recurrent_dropout_learns():
    from numlstm import VanillaLSTMRegressor

    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, 8, 2))
    y = X[:, :, 0].sum(axis=1) / 3
    model = VanillaLSTMRegressor(16, max_iter=60, learning_rate_init=1e-2,
                                 recurrent_dropout=0.2, random_state=0,
                                 dtype="float64")
    model.fit(X[:300], y[:300])
    assert model.score(X[300:], y[300:]) > 0.8


# ---------------------------------------------------------------- zoneout

def test_zoneout_predicts_with_its_expectation():
    """Predicting, every unit keeps ``zoneout`` of its previous state: the
    reference with that weight everywhere gives the same outputs."""
    import reference as ref

    from numlstm import VanillaLSTMRegressor

    rng = np.random.default_rng(0)
    X = rng.normal(size=(12, 5, 2))
    y = X[:, :, 0].sum(axis=1)
    model = VanillaLSTMRegressor(4, zoneout=0.3, max_iter=3, dtype="float64",
                                 random_state=0).fit(X, y)
    w = model.get_weights()
    zeros = np.zeros((12, 4))
    _, h_n, _, _ = ref.lstm_forward(X, w["lstm.0.W_ih"], w["lstm.0.W_hh"],
                                    w["lstm.0.b"], zeros, zeros,
                                    np.full(12, 5), zone=np.full((12, 5, 4), 0.3))
    want = ref.dense_forward(h_n, w["dense.W"], w["dense.b"])[:, 0]
    np.testing.assert_allclose(model.predict(X), want, rtol=1e-12, atol=1e-12)
    plain = VanillaLSTMRegressor(4, max_iter=1, dtype="float64").fit(X, y)
    plain.set_weights(w)
    assert not np.allclose(plain.predict(X), want)


def test_zoneout_refuses_peepholes_and_lbfgs():
    for params, match in ((dict(zoneout=0.2, peephole=True), "peephole"),
                          (dict(zoneout=0.2, solver="lbfgs"),
                           "zoneout needs a stochastic solver")):
        model = make("vanilla-reg", **params)
        with pytest.raises(ValueError, match=match):
            model.fit(*_data(model))


@pytest.mark.parametrize("value", [-0.1, 1.0])
def test_zoneout_must_be_a_rate(value):
    model = make("vanilla-reg", zoneout=value)
    with pytest.raises(ValueError, match="zoneout must be in"):
        model.fit(*_data(model))


@pytest.mark.parametrize("key", ["stacked-reg", "bidirectional-clf",
                                 "encoder-decoder-reg"])
def test_zoneout_fits_are_seeded(key):
    X, y = _data(make(key))
    w = [make(key, zoneout=0.4).fit(X, y).get_weights() for _ in range(2)]
    assert all(np.array_equal(w[0][k], w[1][k]) for k in w[0])
    other = make(key).fit(X, y).get_weights()
    assert not all(np.array_equal(w[0][k], other[k]) for k in w[0])


def test_zoneout_learns():
    from numlstm import VanillaLSTMRegressor

    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, 8, 2))
    y = X[:, :, 0].sum(axis=1) / 3
    model = VanillaLSTMRegressor(16, max_iter=60, learning_rate_init=1e-2,
                                 zoneout=0.1, random_state=0, dtype="float64")
    model.fit(X[:300], y[:300])
    assert model.score(X[300:], y[300:]) > 0.9
