"""Truncated backpropagation through time (``tbptt_steps``): each training
sequence in consecutive chunks, one update per chunk, the state carried
from chunk to chunk and the gradient stopped at each chunk's start."""

import warnings

import numpy as np
import pytest
from registry import disable_kernels, unflatten

from numlstm import (
    BidirectionalLSTMRegressor,
    CNNLSTMRegressor,
    StackedLSTMClassifier,
    StackedLSTMRegressor,
    VanillaLSTMRegressor,
)
from numlstm.nn import loss_and_gradient


def _data(n=6, T=12, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, T, 2))
    return X, np.cumsum(X[:, :, 0], axis=1)


def _fit(model, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a few epochs: not converged
        return model.fit(X, y)


def _sgd(**kw):
    """Plain SGD, no clipping, one batch, no shuffling: an epoch is the
    updates of the chunks in order, easy to repeat by hand."""
    return dict(units=4, return_sequences=True, solver="sgd", momentum=0.0,
                learning_rate_init=0.05, clip_norm=None, shuffle=False,
                max_iter=1, dtype="float64", random_state=0, **kw)


@pytest.mark.parametrize("ragged", [False, True], ids=["equal", "ragged"])
def test_an_epoch_is_one_update_per_chunk_from_the_carried_state(ragged):
    X, y = _data()
    lengths = np.array([12, 3, 7, 5, 12, 9]) if ragged else np.full(6, 12)
    S = 5
    model = _fit(VanillaLSTMRegressor(tbptt_steps=S, batch_size=6, **_sgd()),
                 [X[i, :L] for i, L in enumerate(lengths)],
                 [y[i, :L] for i, L in enumerate(lengths)])
    got = {name: w.copy() for name, w in model.get_weights().items()}
    # by hand, on the model's network reset to the same initial weights
    fun, theta = VanillaLSTMRegressor(**_sgd()).make_objective(X, y)
    network = model.network_
    network.params.set_flat(theta)
    order = np.argsort(-lengths, kind="stable")  # as the fit orders a batch
    states = None
    for start in range(0, 12, S):
        live = order[lengths[order] > start]
        part = slice(start, start + S)
        chunk_lengths = np.clip(lengths[live] - start, 0, S)
        Xk = np.ascontiguousarray(X[live, part])
        Yk = np.ascontiguousarray(y[live, part][..., None])
        Yk[np.arange(Yk.shape[1])[None, :] >= chunk_lengths[:, None]] = 0.0
        if states is not None:
            states = [(h[:len(live)], c[:len(live)]) for h, c in states]
        loss_and_gradient(network, model._loss, Xk, Yk, chunk_lengths,
                          states=states)
        layer = network.layers[0]
        states = [(layer.h_n.copy(), layer.c_n.copy())]
        theta = theta - 0.05 * network.params.grad
        network.params.set_flat(theta)
    for name, want in unflatten(model, theta).items():
        np.testing.assert_allclose(got[name], want, rtol=1e-12, atol=1e-14,
                                   err_msg=name)


@pytest.mark.parametrize("make", [
    lambda **kw: VanillaLSTMRegressor(units=4, **kw),
    lambda **kw: StackedLSTMClassifier((4, 3), **kw),
    lambda **kw: CNNLSTMRegressor(filters=(2,), units=3, padding="same",
                                  pool_size=1, **kw),
], ids=["vanilla", "stacked-clf", "cnn-lstm"])
def test_chunks_as_long_as_the_data_are_whole_sequences_bit_for_bit(make):
    X, y = _data()
    if "Classifier" in type(make()).__name__:
        y = (y > 0).astype(int)
    if "CNN" in type(make()).__name__:
        X = X[..., None]  # (n, T, 2, 1): each step a signal of 2 values
    kw = dict(return_sequences=True, max_iter=3, batch_size=4, dtype="float64",
              random_state=0)
    whole = _fit(make(**kw), X, y)
    chunked = _fit(make(tbptt_steps=12, **kw), X, y)
    assert chunked.loss_curve_ == whole.loss_curve_
    for name, w in whole.get_weights().items():
        np.testing.assert_array_equal(chunked.get_weights()[name], w)
    # shorter chunks: another fit, which still trains and predicts as usual
    short = _fit(make(tbptt_steps=4, **kw), X, y)
    assert short.loss_curve_ != whole.loss_curve_
    assert np.all(np.isfinite(short.loss_curve_))
    assert np.shape(short.predict(X)) == np.shape(whole.predict(X))


def test_stacked_layers_each_carry_their_own_state():
    X, y = _data(T=10)
    kw = dict(return_sequences=True, max_iter=2, dtype="float64",
              random_state=0, batch_size=3)
    model = _fit(StackedLSTMRegressor((4, 3), tbptt_steps=3, **kw), X, y)
    assert np.all(np.isfinite(model.loss_curve_))
    assert [w.shape for w in model.get_weights().values()][:6] == [
        (16, 2), (16, 4), (16,), (12, 4), (12, 3), (12,)]


@pytest.mark.parametrize("params, message", [
    (dict(return_sequences=False), "tbptt_steps needs return_sequences=True"),
    (dict(solver="lbfgs"), "tbptt_steps needs a stochastic solver"),
    (dict(tbptt_steps=0), "tbptt_steps"),
    (dict(tbptt_steps=2.5), "tbptt_steps"),
])
def test_bad_tbptt_settings_are_refused_before_any_kernel(params, message,
                                                          monkeypatch):
    X, y = _data()
    settings = dict(units=4, return_sequences=True, tbptt_steps=4)
    model = VanillaLSTMRegressor(**{**settings, **params})
    disable_kernels(monkeypatch)
    with pytest.raises(ValueError, match=message):
        model.fit(X, y if model.return_sequences else y[:, -1])


def test_bidirectional_models_have_no_tbptt():
    """Their backward direction reads each sequence from its end: no chunk
    of it can start from the state of the chunk before."""
    assert "tbptt_steps" not in BidirectionalLSTMRegressor().get_params()


def test_tbptt_learns_a_memory_longer_than_its_chunks():
    """The sign of the last pulse, held over gaps of more than two chunks:
    with the state carried from chunk to chunk the model learns to keep it
    (without, a trial scored 0.87 on those steps; with, 1.0)."""
    from numlstm import VanillaLSTMClassifier
    from numlstm.datasets import make_latched_sign

    S = 20
    X, y, _ = make_latched_sign(8, 1500, random_state=0)
    X_test, y_test, since = make_latched_sign(4, 1500, random_state=1)
    model = _fit(VanillaLSTMClassifier(
        units=8, return_sequences=True, tbptt_steps=S, max_iter=40,
        learning_rate_init=2e-2, batch_size=8, random_state=0), X, y)
    far = since > 2 * S
    assert far.sum() > 1000
    assert np.mean(model.predict(X_test)[far] == y_test[far]) > 0.97


def _brackets(n_pairs, seed):
    """``(xxxxxxxxxxxx)`` or ``[xxxxxxxxxxxx]``, chosen at random: each
    closer is decided 13 steps back, by its opener."""
    rng = np.random.default_rng(seed)
    return "".join("(" + "x" * 12 + ")" if rng.random() < 0.5 else
                   "[" + "x" * 12 + "]" for _ in range(n_pairs))


def test_a_generative_model_in_one_chunk_is_its_model_of_whole_windows():
    from numlstm import GenerativeLSTM

    text = [_brackets(3, s) for s in range(4)]
    kw = dict(hidden_layer_sizes=(6,), max_iter=3, batch_size=2,
              dtype="float64", random_state=0)
    whole = _fit(GenerativeLSTM(sequence_length=100, **kw), text, None)
    chunked = _fit(GenerativeLSTM(tbptt_steps=100, **kw), text, None)
    assert chunked.loss_curve_ == whole.loss_curve_
    for name, w in whole.get_weights().items():
        np.testing.assert_array_equal(chunked.get_weights()[name], w)


def test_a_generative_model_learns_across_chunks_with_tbptt():
    """Chunks of 7 characters, dependencies of 13: with the state carried
    the test perplexity nears the ideal 2 ** (1 / 14) = 1.051 (a trial:
    1.057); windows of 7 from a zero state scored 281 in the same trial,
    as scoring then carries a state the model never trained from."""
    from numlstm import GenerativeLSTM

    train = [_brackets(40, s) for s in range(8)]
    test = [_brackets(40, 100 + s) for s in range(4)]
    model = _fit(GenerativeLSTM((16,), tbptt_steps=7, max_iter=60,
                                learning_rate_init=2e-2, batch_size=8,
                                random_state=0), train, None)
    assert model.perplexity(test) < 1.1


@pytest.mark.parametrize("make, data", [
    (lambda **kw: VanillaLSTMRegressor(units=4, return_sequences=True, **kw),
     lambda: _ragged(*_data())),
    (lambda **kw: StackedLSTMClassifier((4, 3), return_sequences=True, **kw),
     lambda: _ragged(_data()[0], _data()[1] > 0)),
    (lambda **kw: _generative(**kw), lambda: ([_brackets(3, s) for s in
                                               range(6)], None)),
], ids=["vanilla", "stacked-clf", "generative"])
def test_early_stopping_scores_the_validation_split_in_chunks(make, data):
    """With ``tbptt_steps`` the validation sequences run in chunks too, each
    from the state the one before reached (the memory of one chunk, not of
    the whole sequences): the score of whole sequences, to rounding."""
    from numlstm.nn.data import ChunkedSequenceData, SequenceData

    X, y = data()
    model = _fit(make(tbptt_steps=4, early_stopping=True, max_iter=3,
                      validation_fraction=0.5, dtype="float64",
                      random_state=0), X, y)
    assert len(model.validation_scores_) == model.n_iter_
    assert np.all(np.isfinite(model.validation_scores_))
    seqs, Y, sw = model._validate_data(X, y, None, reset=False)
    order = np.argsort(-seqs.lengths, kind="stable")
    args = (seqs.X[order], Y[order], seqs.lengths[order], sw[order])
    net = model.network_
    whole = model._score_encoded(SequenceData(net.backend, *args, net.dtype))
    chunked = model._score_encoded(ChunkedSequenceData(net.backend, *args,
                                                       net.dtype, steps=4))
    assert chunked == pytest.approx(whole, rel=1e-12, abs=1e-12)


def _ragged(X, y):
    """The rows of ``X``, ``y`` cut to lengths 12, 3, 7, 5, 12, 9."""
    lengths = [12, 3, 7, 5, 12, 9]
    return ([X[i, :L] for i, L in enumerate(lengths)],
            [y[i, :L] for i, L in enumerate(lengths)])


def _generative(**kw):
    from numlstm import GenerativeLSTM

    return GenerativeLSTM((4,), **kw)
