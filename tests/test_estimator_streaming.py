"""Streaming state: ``predict(X, initial_state=..., return_state=True)``.

A sequence fed in chunks, each from the state the chunk before reached,
gives what the whole sequence gives at once; a ragged batch carries each
sequence's own state; bad states are refused before any kernel runs.
"""

import numpy as np
import pytest
from registry import disable_kernels, make, per_step, sample, select
from sklearn.base import is_classifier

#: the estimators whose predict is one pass of LSTM layers over X
STREAMING = select({
    "encoder-decoder": "its predict decodes n_steps_out_ steps from the "
                       "encoder's state, not one pass over X to continue",
    "generative": "it has no predict; sample() carries its own state",
})
#: ... and whose every layer can continue from a given state
CONTINUABLE = [k for k in STREAMING if not k.startswith("bidirectional")]


def _fitted(key, dtype="float64", T=8):
    model = make(key, dtype=dtype, max_iter=2)
    X, y = sample(model, T=T)
    with pytest.warns(Warning):  # two epochs: not converged
        model.fit(X, y)
    return model, X


def _predict(model, X, **kw):
    """Probabilities for a classifier (numbers to compare), else values."""
    return (model.predict_proba if is_classifier(model) else model.predict)(X, **kw)


def _assert_states_close(got, want, tol):
    assert len(got) == len(want)
    for (h, c), (h_w, c_w) in zip(got, want, strict=True):
        np.testing.assert_allclose(h, h_w, rtol=tol, atol=tol)
        np.testing.assert_allclose(c, c_w, rtol=tol, atol=tol)


@pytest.mark.parametrize("dtype, tol", [("float64", 1e-12), ("float32", 1e-5)])
@pytest.mark.parametrize("key", CONTINUABLE)
def test_chunks_from_each_others_state_give_the_whole_sequence(key, dtype, tol):
    model, X = _fitted(key, dtype)
    whole, end = _predict(model, X, return_state=True)
    first, middle = _predict(model, X[:, :3], return_state=True)
    second, end_2 = _predict(model, X[:, 3:], initial_state=middle,
                             return_state=True)
    if per_step(model):
        np.testing.assert_allclose(np.concatenate([first, second], axis=1),
                                   whole, rtol=tol, atol=tol)
    else:
        np.testing.assert_allclose(second, whole, rtol=tol, atol=tol)
    _assert_states_close(end_2, end, tol)
    assert len(end) == len(model.network_.state_sizes())
    assert [pair[0].shape[1] for pair in end] == \
        [widths[0] for widths, _ in model.network_.state_sizes()]
    assert all(a.dtype == np.dtype(dtype) and a.shape[0] == len(X)
               for pair in end for a in pair)
    # without the state the second chunk starts from zeros: another answer
    assert not np.allclose(_predict(model, X[:, 3:]), second)


@pytest.mark.parametrize("key", CONTINUABLE)
def test_a_ragged_batch_carries_each_sequences_own_state(key):
    model, _ = _fitted(key)
    lengths = (3, 5, 2, 4)
    X, _ = sample(model, "ragged", lengths=lengths, seed=3)
    cut = [L // 2 for L in lengths]
    first, middle = _predict(model, [s[:k] for s, k in zip(X, cut, strict=True)],
                             return_state=True)
    second, end = _predict(model, [s[k:] for s, k in zip(X, cut, strict=True)],
                           initial_state=middle, return_state=True)
    whole, want = _predict(model, X, return_state=True)
    _assert_states_close(end, want, 1e-12)
    for i, seq in enumerate(X):
        _, alone = _predict(model, seq[None], return_state=True)
        _assert_states_close([(h[i:i + 1], c[i:i + 1]) for h, c in want],
                             alone, 1e-12)
        if per_step(model):
            np.testing.assert_allclose(
                np.concatenate([first[i], second[i]]), whole[i], rtol=1e-12,
                atol=1e-12)
        else:
            np.testing.assert_allclose(second[i], whole[i], rtol=1e-12,
                                       atol=1e-12)


@pytest.mark.parametrize("key", STREAMING)
def test_states_do_not_depend_on_the_predict_chunks(key):
    model, X = _fitted(key)
    out, states = _predict(model, X, return_state=True)
    model._predict_chunk = 3  # 16 sequences: chunks of 3, 3, 3, 3, 3, 1
    out_3, states_3 = _predict(model, X, return_state=True)
    np.testing.assert_array_equal(out_3, out)
    flat = [a for layer in states for pair in _pairs(layer) for a in pair]
    flat_3 = [a for layer in states_3 for pair in _pairs(layer) for a in pair]
    for a, b in zip(flat_3, flat, strict=True):
        np.testing.assert_array_equal(a, b)
    # the plain predict is the stateful one without its state
    np.testing.assert_array_equal(_predict(model, X), out)


def _pairs(layer_state):
    """A layer's ``(h, c)`` pairs: one, or two for a bidirectional layer."""
    return layer_state if isinstance(layer_state[0], tuple) else (layer_state,)


@pytest.mark.parametrize("key", ["bidirectional-reg", "bidirectional-clf"])
def test_a_bidirectional_model_returns_both_directions_and_starts_from_zeros(key):
    model, X = _fitted(key)
    out, states = _predict(model, X, return_state=True)
    ((h_f, c_f), (h_b, c_b)), = states
    for a in (h_f, c_f, h_b, c_b):
        assert a.shape == (len(X), model.units) and np.isfinite(a).all()
    assert not np.allclose(h_f, h_b)
    np.testing.assert_array_equal(_predict(model, X, initial_state=[None]), out)
    with pytest.raises(ValueError, match=r"initial_state\[0\] must be None: "
                                         "layer 0 is bidirectional"):
        _predict(model, X, initial_state=[(h_f, c_f)])


@pytest.mark.parametrize("key", ["encoder-decoder-reg", "encoder-decoder-clf"])
def test_an_encoder_decoder_says_it_takes_no_state(key, monkeypatch):
    model, X = _fitted(key)
    disable_kernels(monkeypatch)
    for kw in (dict(return_state=True), dict(initial_state=[None])):
        with pytest.raises(ValueError, match="takes no initial_state"):
            model.predict(X, **kw)


def _bad_states(n):
    h = np.zeros((n, 4))
    return {
        "not a list": (h, "one \\(h, c\\) pair .* per recurrent layer \\(1\\)"),
        "two layers": ([(h, h), (h, h)], "per recurrent layer \\(1\\).*got 2"),
        "no pair": ([h], "initial_state\\[0\\] must be a pair"),
        "wrong rows": ([(np.zeros((n + 1, 4)), h)],
                       "initial_state\\[0\\] h must have shape \\(16, 4\\)"),
        "wrong units": ([(h, np.zeros((n, 3)))],
                        "initial_state\\[0\\] c must have shape \\(16, 4\\)"),
        "nan": ([(np.full((n, 4), np.nan), h)], "initial_state\\[0\\] h.*NaN"),
        "1-D": ([(np.zeros(4), h)], "Expected 2D array"),
    }


@pytest.mark.parametrize("case", list(_bad_states(16)))
def test_a_bad_initial_state_is_refused_before_any_kernel(case, monkeypatch):
    model, X = _fitted("vanilla-reg")
    state, message = _bad_states(len(X))[case]
    disable_kernels(monkeypatch)
    with pytest.raises(ValueError, match=message):
        model.predict(X, initial_state=state)


def test_return_state_must_be_a_bool():
    model, X = _fitted("vanilla-clf")
    with pytest.raises(ValueError, match="return_state must be True or False"):
        model.predict(X, return_state="yes")


def test_streams_from_many_threads_match_one_at_a_time():
    """The state is the caller's: threads continuing different streams of
    one fitted model get what each would alone, bit for bit."""
    from concurrent.futures import ThreadPoolExecutor

    model, X = _fitted("stacked-reg")
    rng = np.random.default_rng(5)
    streams = [[tuple(rng.normal(size=(len(X), w)) for w in widths)
                for widths, _ in model.network_.state_sizes()] for _ in range(8)]

    def run(state):
        return model.predict(X, initial_state=state, return_state=True)

    serial = [run(state) for state in streams]
    with ThreadPoolExecutor(4) as pool:
        threaded = list(pool.map(run, streams * 3))
    for (out, states), (want_out, want_states) in zip(threaded, serial * 3,
                                                      strict=True):
        np.testing.assert_array_equal(out, want_out)
        for (h, c), (h_w, c_w) in zip(states, want_states, strict=True):
            np.testing.assert_array_equal(h, h_w)
            np.testing.assert_array_equal(c, c_w)
