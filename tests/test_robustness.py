"""No crash, no race, no silent wrong answer, bounded memory (issue 12).

The crash cases run in a subprocess, so that a segmentation fault fails
the test instead of ending pytest. The sweep of bad inputs across every
estimator is in ``test_robustness_inputs.py``.
"""

import subprocess
import sys
import textwrap
import threading
import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

import numlstm.estimators._lbfgs as lbfgs
import numlstm.estimators._memory as memory
import numlstm.estimators._stochastic as stochastic
from numlstm import (
    BidirectionalLSTMClassifier,
    DivergenceError,
    GenerativeLSTM,
    VanillaLSTMRegressor,
)
from numlstm.nn import (
    LSTM,
    Dense,
    Dropout,
    MeanSquaredError,
    SequenceData,
    Sequential,
    SoftmaxCrossEntropy,
)
from numlstm.nn.training import chunked_loss_and_gradient, loss_and_gradient


def data(n=24, T=6, D=3, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, T, D))
    return X, X[:, :, 0].cumsum(axis=1)


def quiet(fn, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return fn(*args, **kwargs)


# ============================================ 1. the crash cases, in a subprocess

CRASH_CASES = {
    "classifier-return_sequences-partial_fit": """
        c = StackedLSTMClassifier((4, 4), return_sequences=True, random_state=0)
        c.partial_fit(X, Y, classes=[0, 1, 2])
        c.set_params(return_sequences=False)
        expect_error(lambda: c.partial_fit(X, Y[:, -1]), "return_sequences")
        expect_error(lambda: c.predict(X), "return_sequences")
        c.set_params(return_sequences=True)
        assert c.predict(X).shape == (64, 50)
    """,
    "classifier-return_sequences-warm_start": """
        c = StackedLSTMClassifier((4, 4), return_sequences=True, max_iter=1,
                                  warm_start=True, random_state=0)
        c.fit(X, Y)
        c.set_params(return_sequences=False)
        expect_error(lambda: c.fit(X, Y[:, -1]), "return_sequences")
    """,
    "regressor-return_sequences-partial_fit": """
        r = StackedLSTMRegressor((4, 4), return_sequences=True, random_state=0)
        r.partial_fit(X, Y.astype(float))
        r.set_params(return_sequences=False)
        expect_error(lambda: r.partial_fit(X, Y[:, -1].astype(float)),
                     "return_sequences")
        expect_error(lambda: r.score(X, Y[:, -1].astype(float)),
                     "return_sequences")
    """,
    "regressor-off-to-on-score": """
        r = StackedLSTMRegressor((4, 4), random_state=0)
        r.partial_fit(X, Y[:, -1].astype(float))
        r.set_params(return_sequences=True)
        expect_error(lambda: r.partial_fit(X, Y.astype(float)),
                     "return_sequences")
        expect_error(lambda: r.score(X, Y.astype(float)), "return_sequences")
    """,
    "loss-kernel-targets-too-short": """
        from numlstm.nn import LSTM, Dense, Sequential, SoftmaxCrossEntropy
        from numlstm.nn import loss_and_gradient
        net = Sequential([LSTM(3, 4, return_sequences=True), Dense(4, 3)],
                         random_state=0)
        expect_error(lambda: loss_and_gradient(net, SoftmaxCrossEntropy(), X,
                                               Y[:, -1]), "do not fit")
        expect_error(lambda: loss_and_gradient(net, SoftmaxCrossEntropy(), X,
                                               Y + 7), "class indices")
    """,
}

CRASH_PRELUDE = """
import re, warnings
import numpy as np
from numlstm import StackedLSTMClassifier, StackedLSTMRegressor
warnings.simplefilter("ignore")
rng = np.random.default_rng(0)
X = rng.normal(size=(64, 50, 3))
Y = rng.integers(0, 3, size=(64, 50))

def expect_error(call, fragment):
    try:
        call()
    except ValueError as exc:
        assert re.search(fragment, str(exc)), str(exc)
        return
    raise AssertionError(f"no ValueError mentioning {fragment!r}")
"""


def run_isolated(code: str):
    """Run ``code`` in a fresh interpreter: a crash is a failed test."""
    return subprocess.run([sys.executable, "-c", code], capture_output=True,
                          text=True, timeout=600)


@pytest.mark.parametrize("case", list(CRASH_CASES))
def test_crash_case_gives_a_clear_error(case):
    done = run_isolated(CRASH_PRELUDE + textwrap.dedent(CRASH_CASES[case]))
    assert done.returncode == 0, (done.returncode, done.stderr[-3000:])


# ============================== 2. set_params of every architecture parameter

#: estimator factory, fit arguments, and architecture changes to try
ARCHITECTURES = {
    "vanilla": ("VanillaLSTMRegressor(units=4, max_iter=1, random_state=0)",
                "X, y", [("units", 6), ("return_sequences", True),
                         ("dtype", "float64")]),
    "stacked": ("StackedLSTMClassifier((4, 3), max_iter=1, random_state=0)",
                "X, labels", [("hidden_layer_sizes", (4,)),
                              ("return_sequences", True)]),
    "bidirectional": ("BidirectionalLSTMClassifier(units=3, max_iter=1, "
                      "random_state=0)", "X, labels",
                      [("units", 4), ("merge_mode", "sum"),
                       ("hidden_layer_sizes", (3, 3))]),
    "cnn": ("CNNLSTMRegressor((2,), units=3, max_iter=1, random_state=0)",
            "X4, y", [("filters", (3,)), ("kernel_size", 2), ("pool_size", 1),
                      ("padding", "same"), ("units", 4)]),
    "encoder-decoder": ("EncoderDecoderLSTMRegressor(4, 4, max_iter=1, "
                        "random_state=0)", "X, Y2",
                        [("encoder_units", 3), ("decoder_units", 3),
                         ("decoder", "teacher_forcing")]),
    "generative": ("GenerativeLSTM((4,), sequence_length=4, max_iter=1, "
                   "random_state=0)", "tokens,", [("hidden_layer_sizes", (5,))]),
}

SWEEP = """
import re, warnings
import numpy as np
from numlstm import *
warnings.simplefilter("ignore")
rng = np.random.default_rng(0)
X = rng.normal(size=(16, 6, 2)); y = X[:, -1, 0]; labels = np.arange(16) % 3
X4 = rng.normal(size=(16, 3, 8)); Y2 = X[:, :2, 0]
tokens = [rng.integers(0, 5, size=9) for _ in range(4)]
args = ({args})
base = {factory}.fit(*args)
reference = base.get_weights()

def check(name, call):
    try:
        call()
    except ValueError as exc:
        assert name in str(exc), (name, str(exc))
        return "error"
    return "ok"

for name, value in {changes}:
    for method in ("predict", "predict_proba", "score", "score_samples",
                   "sample", "partial_fit", "warm_fit", "make_objective",
                   "refit"):
        model = {factory}.fit(*args)
        old = model.get_params()[name]
        model.set_params(**{{name: value}})
        calls = {{
            "predict": lambda: model.predict(args[0]),
            "predict_proba": lambda: model.predict_proba(args[0]),
            "score": lambda: model.score(*args),
            "score_samples": lambda: model.score_samples(args[0]),
            "sample": lambda: model.sample(2, length=3, random_state=0),
            "partial_fit": lambda: model.partial_fit(*args),
            "warm_fit": lambda: model.set_params(warm_start=True).fit(*args),
            "make_objective": lambda: model.make_objective(*args),
            "refit": lambda: model.set_params(warm_start=False).fit(*args),
        }}
        if not hasattr(model, method.replace("warm_fit", "fit")
                       .replace("refit", "fit")):
            continue
        outcome = check(name, calls[method])
        if method == "refit":
            # a refit builds the new architecture (or refuses the data
            # clearly: 1-D y with return_sequences=True, say)
            if outcome == "ok":
                (model.predict if hasattr(model, "predict")
                 else model.score_samples)(args[0])
        else:
            assert outcome == "error", (name, method, "no error")
            # the fitted model is unchanged: set back, it predicts as before
            model.set_params(**{{name: old}}, warm_start=False)
            for k, w in model.get_weights().items():
                assert np.array_equal(w, reference[k]), (name, method, k)
print("swept")
"""


@pytest.mark.parametrize("arch", list(ARCHITECTURES))
def test_set_params_after_fit_gives_error_or_correct_result(arch):
    factory, args, changes = ARCHITECTURES[arch]
    code = SWEEP.format(factory=factory, args=args, changes=changes)
    done = run_isolated(code)
    assert done.returncode == 0, (done.returncode, done.stderr[-3000:])
    assert "swept" in done.stdout


def test_training_parameters_take_effect_on_the_next_call():
    X, Y = data()
    model = VanillaLSTMRegressor(units=4, random_state=0)
    model.partial_fit(X, Y[:, -1])
    state = model._optimizer.state
    model.set_params(learning_rate_init=0.05, beta_1=0.5)
    model.partial_fit(X, Y[:, -1])
    assert model._optimizer.learning_rate == 0.05
    assert model._optimizer.beta_1 == 0.5
    assert model._optimizer.state is state  # the moments carry on
    assert model._optimizer.t == 2
    # dropout: the network gains the layers, around the same weights
    before = model.get_weights()
    model.set_params(dropout=0.5, warm_start=True, max_iter=1)
    network = model.network_
    quiet(model.fit, X, Y[:, -1])
    assert model.network_ is not network
    assert any(isinstance(layer, Dropout) for layer in model.network_.layers)
    assert model.get_weights().keys() == before.keys()
    assert model.n_iter_ == 3
    # a new solver starts a new optimiser
    model.set_params(solver="sgd")
    model.partial_fit(X, Y[:, -1])
    assert type(model._optimizer).__name__ == "SGD"


# ================================================== 3. predict from many threads

def test_predict_from_many_threads_matches_serial_bit_for_bit():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(120, 12, 3))
    reg = quiet(VanillaLSTMRegressor(units=8, max_iter=2, random_state=0).fit,
                X, X[:, :, 0].mean(axis=1))
    clf = quiet(BidirectionalLSTMClassifier(units=4, max_iter=2,
                                            random_state=0).fit,
                X, X[:, -1, 0] > 0)
    gen = quiet(GenerativeLSTM((6,), sequence_length=6, max_iter=2,
                               random_state=0).fit, "abcabdabcabe" * 6)
    batches = [X[rng.integers(0, 120, size=rng.integers(1, 40))]
               for _ in range(50)]
    calls = [
        lambda k: reg.predict(batches[k]),
        lambda k: clf.predict_proba(batches[k]),
        lambda k: np.float64(reg.score(batches[k], batches[k][:, :, 0].mean(1))),
        lambda k: gen.score_samples(["abc"[: 1 + k % 3] + "abd" * (k % 4)]),
        lambda k: np.array(gen.sample(2, length=5, random_state=k)),
    ]
    serial = [[call(k) for k in range(50)] for call in calls]
    wrong, errors = [], []

    def work(offset):
        try:
            for i in range(50):
                k = (i + offset) % 50
                for c, call in enumerate(calls):
                    out = call(k)
                    if not np.array_equal(out, serial[c][k],
                                          equal_nan=out.dtype.kind == "f"):
                        wrong.append((c, k))
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(7 * t,)) for t in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert not wrong, f"{len(wrong)} of {8 * 50 * len(calls)} calls differ"


def test_thread_copies_do_not_travel_with_pickle_or_copy():
    import copy
    import pickle

    X, Y = data()
    model = quiet(VanillaLSTMRegressor(units=4, max_iter=1, random_state=0).fit,
                  X, Y[:, -1])
    expected = model.predict(X)
    dict_before = dict(model.__dict__)
    for clone in (pickle.loads(pickle.dumps(model)), copy.deepcopy(model)):
        assert np.array_equal(clone.predict(X), expected)
    assert model.__dict__ == dict_before



@pytest.mark.parametrize("solver", ["adam", "sgd", "rmsprop"])
def test_optimizer_state_travels_with_pickle(solver):
    """An unpickled (or deep-copied) model continues training from the same
    optimiser state: its next partial_fit gives the original's bits."""
    import copy
    import pickle

    X, Y = data()
    model = quiet(VanillaLSTMRegressor(units=4, max_iter=2, solver=solver,
                                       random_state=0).fit, X, Y[:, -1])
    clones = [pickle.loads(pickle.dumps(model)), copy.deepcopy(model)]
    model.partial_fit(X, Y[:, -1])
    for clone in clones:
        clone.partial_fit(X, Y[:, -1])
        for name, w in model.get_weights().items():
            assert np.array_equal(clone.get_weights()[name], w), name

# ====================================================== 4. divergence

def test_adam_at_an_absurd_rate_raises_with_last_good_weights():
    X, Y = data(n=64)
    model = VanillaLSTMRegressor(units=8, learning_rate_init=1e6, max_iter=20,
                                 batch_size=8, clip_norm=None, random_state=0)
    with pytest.raises(DivergenceError, match="times the first batch") as info:
        model.fit(X, Y[:, -1])
    assert "VanillaLSTMRegressor" in str(info.value)
    assert "last whole epoch" in str(info.value)
    assert len(model.loss_curve_) == model.n_iter_
    assert all(loss <= stochastic.DIVERGENCE_FACTOR * model._loss_reference
               for loss in model.loss_curve_)
    # the weights are those after the last good epoch: a refit that stops
    # there gives the same
    if model.n_iter_:
        again = VanillaLSTMRegressor(units=8, learning_rate_init=1e6,
                                     max_iter=model.n_iter_, batch_size=8,
                                     clip_norm=None, random_state=0)
        quiet(again.fit, X, Y[:, -1])
        for k, w in again.get_weights().items():
            assert np.array_equal(w, model.get_weights()[k]), k
    assert np.all(np.isfinite(model.predict(X)))


def test_divergence_bound_is_relative_to_the_first_batch(monkeypatch):
    X, Y = data(n=32)
    model = VanillaLSTMRegressor(units=4, max_iter=3, random_state=0)
    monkeypatch.setattr(stochastic, "DIVERGENCE_FACTOR", 0.5)  # any epoch trips it
    with pytest.raises(DivergenceError, match="epoch 1"):
        model.fit(X, Y[:, -1])
    assert model.n_iter_ == 0 and model.loss_curve_ == []


@pytest.mark.parametrize("value", [np.inf, -np.inf, np.nan])
@pytest.mark.parametrize("name", ["learning_rate_init", "tol", "alpha",
                                  "epsilon", "clip_norm", "momentum",
                                  "dropout"])
def test_non_finite_hyperparameters_are_refused(name, value):
    X, Y = data(n=8)
    with pytest.raises(ValueError, match=name):
        VanillaLSTMRegressor(units=2, max_iter=1, **{name: value}).fit(
            X, Y[:, -1])


def test_lbfgs_abnormal_stop_warns_with_scipys_message(monkeypatch):
    import scipy.optimize
    from scipy.optimize import OptimizeResult

    X, Y = data(n=16)
    model = VanillaLSTMRegressor(units=3, solver="lbfgs", max_iter=5,
                                 random_state=0)

    def abnormal(fun, x0, **kwargs):
        fun(x0)
        return OptimizeResult(x=x0, nit=1, status=2, success=False,
                              message="ABNORMAL: the line search failed")

    monkeypatch.setattr(scipy.optimize, "minimize", abnormal)
    with pytest.warns(ConvergenceWarning, match="ABNORMAL: the line search"):
        model.fit(X, Y[:, -1])


def test_interrupted_lbfgs_keeps_a_consistent_state(monkeypatch):
    X, Y = data(n=16)
    model = VanillaLSTMRegressor(units=3, solver="lbfgs", max_iter=50,
                                 random_state=0)
    calls = {"n": 0}
    real = lbfgs.chunked_loss_and_gradient

    def interrupted(*args):
        calls["n"] += 1
        if calls["n"] == 12:
            raise KeyboardInterrupt
        return real(*args)

    monkeypatch.setattr(lbfgs, "chunked_loss_and_gradient", interrupted)
    with pytest.raises(KeyboardInterrupt):
        model.fit(X, Y[:, -1])
    assert model.n_iter_ == len(model.loss_curve_) > 0
    monkeypatch.setattr(lbfgs, "chunked_loss_and_gradient", real)
    fun, theta = model.make_objective(X, Y[:, -1])
    assert fun(theta)[0] == pytest.approx(model.loss_curve_[-1], rel=1e-6)


def test_interrupted_epoch_restores_the_last_whole_epoch(monkeypatch):
    X, Y = data(n=32)
    kwargs = dict(units=4, batch_size=8, random_state=0)
    one = quiet(VanillaLSTMRegressor(max_iter=1, **kwargs).fit, X, Y[:, -1])
    model = VanillaLSTMRegressor(max_iter=5, **kwargs)
    calls = {"n": 0}
    real = stochastic.train_step

    def interrupted(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 6:  # the second batch of the second epoch
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(stochastic, "train_step", interrupted)
    with pytest.raises(KeyboardInterrupt):
        model.fit(X, Y[:, -1])
    assert model.n_iter_ == len(model.loss_curve_) == 1
    for k, w in one.get_weights().items():
        assert np.array_equal(w, model.get_weights()[k]), k


# ================================================== 5. bounded memory

def chunk_network(dtype="float64"):
    return Sequential([LSTM(3, 5, return_sequences=True), Dense(5, 2)],
                      dtype=dtype, random_state=0)


@pytest.mark.parametrize("per_step", [False, True])
def test_chunked_loss_and_gradient_equals_the_whole_batch(per_step):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(11, 7, 3))
    lengths = rng.integers(1, 8, size=11)
    sw = rng.uniform(0.5, 2, size=11)
    sw[3:6] = 0.0  # a chunk of only zero weights is skipped
    if per_step:
        net = chunk_network()
        Y = rng.normal(size=(11, 7, 2))
    else:
        net = Sequential([LSTM(3, 5), Dense(5, 2)], dtype="float64",
                         random_state=0)
        Y = rng.normal(size=(11, 2))
    value = loss_and_gradient(net, MeanSquaredError(), X, Y, lengths, sw,
                              alpha=0.3, training=False)
    grad = net.params.grad.copy()
    data = SequenceData(net.backend, X, Y, lengths, sw, net.dtype)
    for chunk in (1, 3, 4, 11, 100):
        v, g = chunked_loss_and_gradient(net, MeanSquaredError(), data, 0.3,
                                         chunk)
        assert v == pytest.approx(value, rel=1e-12)
        np.testing.assert_allclose(g, grad, rtol=1e-10, atol=1e-14)


def test_objective_chunks_hold_memory_to_the_budget(monkeypatch):
    X, Y = data(n=40)
    model = quiet(VanillaLSTMRegressor(units=4, max_iter=1,
                                       random_state=0).fit, X, Y[:, -1])
    fun, theta = model.make_objective(X, Y[:, -1])
    whole = fun(theta)
    assert fun.chunk_size >= 40  # a few KiB per sequence: one chunk
    monkeypatch.setattr(lbfgs, "chunk_size", lambda per_sequence: 3)
    fun3, _ = model.make_objective(X, Y[:, -1])
    assert fun3.chunk_size == 3
    value, grad = fun3(theta)
    assert value == pytest.approx(whole[0], rel=1e-6)
    np.testing.assert_allclose(grad, whole[1], rtol=1e-4, atol=1e-6)


def test_batch_over_the_budget_warns_with_its_size(monkeypatch):
    X, Y = data(n=40)
    monkeypatch.setattr(memory, "WORKSPACE_BUDGET", 1000)
    model = VanillaLSTMRegressor(units=4, max_iter=1, batch_size=40,
                                 random_state=0)
    with pytest.warns(ResourceWarning, match=r"batch_size=40 .* MiB"):
        quiet(model.fit, X, Y[:, -1])


def test_generative_token_ids_map_to_a_dense_vocabulary():
    model = quiet(GenerativeLSTM((4,), sequence_length=4, max_iter=1,
                                 random_state=0).fit, [[0, 1, 10_000_000, 1]])
    assert model.n_tokens_ == 3
    assert model.vocabulary_.tolist() == [0, 1, 10_000_000]
    assert sum(w.size for w in model.get_weights().values()) < 1000
    drawn = model.sample(3, length=6, random_state=0)
    assert set(np.unique(drawn)) <= {0, 1, 10_000_000}
    assert np.isfinite(model.score_samples([[10_000_000, 0]])).all()
    with pytest.raises(ValueError, match=r"not in the vocabulary.*\[2\]"):
        model.score_samples([[0, 2]])


# ================================ 6. shapes the kernels trust, checked first

def test_network_refuses_shapes_its_kernels_would_trust():
    net = chunk_network("float32")
    X = np.zeros((2, 4, 3))
    with pytest.raises(ValueError, match="takes 3 features"):
        net.forward(np.zeros((2, 4, 5)))
    out = net.forward(X)
    with pytest.raises(ValueError, match="gradient of shape"):
        net.backward(np.zeros((2, 4, 3), np.float32))
    with pytest.raises(ValueError, match="do not fit"):
        MeanSquaredError()(net.backend, out, np.zeros((2, 2)), np.ones((2, 4)))
    with pytest.raises(ValueError, match="row weights"):
        MeanSquaredError()(net.backend, out, np.zeros(out.shape), np.ones(2))
    with pytest.raises(ValueError, match="class indices"):
        SoftmaxCrossEntropy()(net.backend, out, np.full((2, 4), 2),
                              np.ones((2, 4)))
    lstm = net.layers[0]
    with pytest.raises(ValueError, match="h0 must have shape"):
        lstm.forward(np.zeros((2, 4, 3), np.float32), np.full(2, 4),
                     h0=np.zeros((3, 5), np.float32))



def test_lbfgs_without_progress_warns():
    # targets of scale 1e17: L-BFGS "converges" at once at a loss of ~1e34
    X, Y = data(n=32)
    model = VanillaLSTMRegressor(units=4, solver="lbfgs", max_iter=20,
                                 random_state=0)
    with pytest.warns(ConvergenceWarning, match="without reducing the loss"):
        model.fit(X, Y[:, -1] * 1e17)
