"""What is specific to GenerativeLSTM: kinds of data, likelihoods, sampling.

The behaviours every estimator shares run over the registry's character
model in ``test_estimator_*.py``. Here: character, token and continuous
models and what each learns (vocabulary_, noise_variance_), score_samples
recomputed from the network's outputs, perplexity, sampling (types,
reproducibility, the distribution it draws from, temperature, bad
arguments), scoring the wrong kind of data, bad input, truncated-BPTT
training windows, the gradient of each kind, and a refit forgetting an
earlier kind of data.
"""

import pickle

import numpy as np
import pandas as pd
import pytest
from helpers import assert_close
from registry import fd_check, flat_weights, unflatten
from sklearn.exceptions import NotFittedError

from numlstm import GenerativeLSTM

# short fits stop at max_iter on purpose
pytestmark = pytest.mark.filterwarnings(
    "ignore::sklearn.exceptions.ConvergenceWarning")


def log_softmax(z):
    z = z - z.max(axis=-1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=-1, keepdims=True))


def gen(**params):
    defaults = dict(hidden_layer_sizes=(6,), sequence_length=8, max_iter=3,
                    learning_rate_init=1e-2, random_state=0)
    return GenerativeLSTM(**{**defaults, **params})


TEXT = "the cat sat on the mat. "
TOKENS = [[0, 1, 2, 3, 1], [3, 1, 4], [2, 2, 0, 1, 4, 3]]


def continuous_data(n=8, T=6, D=2, seed=0):
    rng = np.random.default_rng(seed)
    return np.cumsum(rng.normal(scale=0.3, size=(n, T, D)), axis=1)


def test_generative_character_model_from_a_string():
    model = gen().fit(TEXT)
    assert model.kind_ == "characters"
    assert model.vocabulary_.tolist() == sorted(set(TEXT))
    assert model.n_tokens_ == len(set(TEXT)) == 11
    assert model.n_features_in_ == 1
    assert len(model.loss_curve_) == 3 and np.all(np.isfinite(model.loss_curve_))
    assert model.score_samples(TEXT).shape == (1,)


def test_generative_character_model_from_a_list_of_strings():
    texts = ["hello", "world", "zz"]
    model = gen().fit(texts)
    assert model.kind_ == "characters"
    assert model.vocabulary_.tolist() == sorted(set("helloworldzz"))
    assert model.n_tokens_ == 8
    assert model.score_samples(texts).shape == (3,)
    # one string counts as one sequence
    assert model.score_samples("hello").shape == (1,)
    np.testing.assert_allclose(model.score_samples("hello"),
                               model.score_samples(texts)[:1], rtol=1e-6)


def test_generative_token_model():
    model = gen().fit(TOKENS)
    assert model.kind_ == "tokens"
    assert model.n_tokens_ == 5
    assert model.vocabulary_.tolist() == [0, 1, 2, 3, 4]
    assert model.n_features_in_ == 1
    assert model.score_samples(TOKENS).shape == (3,)
    # a 2-D integer array is a batch of token sequences too
    arr = gen().fit(np.array([[0, 6, 2], [1, 1, 3]]))
    assert arr.kind_ == "tokens" and arr.n_tokens_ == 5  # the distinct ids
    assert arr.vocabulary_.tolist() == [0, 1, 2, 3, 6]
    # tokens above the vocabulary or negative at score time
    with pytest.raises(ValueError, match=r"not in the vocabulary.*\[5\]"):
        model.score_samples([[0, 5]])
    with pytest.raises(ValueError, match=">= 0"):
        model.score_samples([[0, -1]])


def test_generative_continuous_3d_and_2d():
    X = continuous_data(D=2)
    model = gen().fit(X)
    assert model.kind_ == "continuous"
    assert model.n_features_in_ == 2
    assert model.noise_variance_.shape == (2,)
    assert np.all(model.noise_variance_ > 0)
    assert model.score_samples(X).shape == (8,)
    # 2-D: a table of univariate sequences; n_features_in_ is its width
    X2 = X[:, :, 0]
    table = gen().fit(X2)
    assert table.kind_ == "continuous"
    assert table.n_features_in_ == 6
    assert table.noise_variance_.shape == (1,)
    assert table.score_samples(X2).shape == (8,)
    assert table.sample(2, length=3, random_state=0).shape == (2, 3, 1)
    # the same data as (n, T, 1): the same model
    same = gen().fit(X2[:, :, None])
    assert same.n_features_in_ == 1
    np.testing.assert_array_equal(same.score_samples(X2[:, :, None]),
                                  table.score_samples(X2))
    # ragged continuous sequences
    ragged = gen().fit([x[:n] for x, n in zip(X, (6, 3, 5, 2, 6, 4, 1, 6),
                                              strict=True)])
    assert ragged.n_features_in_ == 2
    assert ragged.score_samples([X[0, :2], X[1]]).shape == (2,)


def _char_inputs(model, text):
    """Start symbol then one-hot characters but the last: (T, V + 1)."""
    V = model.n_tokens_
    codes = np.searchsorted(model.vocabulary_, list(text))
    inputs = np.zeros((len(text), V + 1))
    inputs[0, V] = 1.0
    inputs[np.arange(1, len(text)), codes[:-1]] = 1.0
    return inputs, codes


def test_generative_score_samples_is_the_sum_of_step_log_probs():
    model = gen(dtype="float64").fit(TEXT)
    texts = ["the mat", "a", "cat sat on", "tt"]
    ll = model.score_samples(texts)
    assert ll.shape == (4,) and ll.dtype == np.float64
    assert np.all(np.isfinite(ll)) and np.all(ll < 0)
    expected = []
    for text in texts:
        inputs, codes = _char_inputs(model, text)
        logits = np.array(model.network_.forward(inputs[None]))[0]
        logp = log_softmax(logits)
        expected.append(logp[np.arange(len(text)), codes].sum())
    assert_close(ll, np.array(expected), 1e-12, "score_samples")
    n_chars = sum(len(t) for t in texts)
    assert model.score(texts) == pytest.approx(ll.sum() / n_chars, rel=1e-12)
    assert model.perplexity(texts) == pytest.approx(
        np.exp(-ll.sum() / n_chars), rel=1e-12)
    assert model.perplexity(texts) > 1.0


def test_generative_token_score_samples_recomputed():
    model = gen(dtype="float64").fit(TOKENS)
    seqs = [[4, 0, 0], [1]]
    ll = model.score_samples(seqs)
    V = model.n_tokens_
    for seq, value in zip(seqs, ll, strict=True):
        inputs = np.zeros((len(seq), V + 1))
        inputs[0, V] = 1.0
        inputs[np.arange(1, len(seq)), seq[:-1]] = 1.0
        logp = log_softmax(np.array(model.network_.forward(inputs[None]))[0])
        assert value == pytest.approx(logp[np.arange(len(seq)), seq].sum(),
                                      rel=1e-12)
    assert model.perplexity(seqs) == pytest.approx(
        np.exp(-ll.sum() / 4), rel=1e-12)


def test_generative_continuous_likelihood_recomputed():
    X = continuous_data(D=2)
    model = gen(dtype="float64").fit(X)

    def outputs(x):
        inputs = np.zeros((len(x), 3))
        inputs[0, 2] = 1.0
        inputs[1:, :2] = x[:-1]
        return np.array(model.network_.forward(inputs[None]))[0]

    # noise_variance_: the training mean squared error per feature
    resid = np.concatenate([outputs(x) - x for x in X])
    assert_close(model.noise_variance_, np.mean(resid ** 2, axis=0), 1e-12)
    var = model.noise_variance_
    ll = model.score_samples(X[:3])
    for x, value in zip(X[:3], ll, strict=True):
        r = outputs(x) - x
        expected = -0.5 * np.sum(r ** 2 / var + np.log(var) + np.log(2 * np.pi))
        assert value == pytest.approx(expected, rel=1e-12)
    assert model.score(X[:3]) == pytest.approx(ll.sum() / 18, rel=1e-12)
    with pytest.raises(ValueError, match="perplexity"):
        model.perplexity(X)


def test_generative_sample_types_and_ranges():
    chars = gen().fit(TEXT)
    out = chars.sample(3, length=7, random_state=0)
    assert isinstance(out, list) and len(out) == 3
    assert all(isinstance(s, str) and len(s) == 7 for s in out)
    assert set("".join(out)) <= set(TEXT)
    assert len(chars.sample(length=4, prompt="the", random_state=0)) == 1
    tokens = gen().fit(TOKENS)
    out = tokens.sample(4, length=6, random_state=0)
    assert isinstance(out, np.ndarray) and out.shape == (4, 6)
    assert np.issubdtype(out.dtype, np.integer)
    assert out.min() >= 0 and out.max() < 5
    assert tokens.sample(2, length=3, prompt=[1, 2], random_state=0).shape == \
        (2, 3)
    cont = gen().fit(continuous_data(D=2))
    out = cont.sample(2, length=5, random_state=0)
    assert out.shape == (2, 5, 2) and out.dtype == np.float64
    assert np.all(np.isfinite(out))
    prompt = continuous_data(D=2)[0, :3]
    assert cont.sample(2, length=5, prompt=prompt, random_state=0).shape == \
        (2, 5, 2)


@pytest.mark.parametrize("kind", ["characters", "tokens", "continuous"])
def test_generative_sample_reproducible(kind):
    data = {"characters": TEXT, "tokens": TOKENS,
            "continuous": continuous_data()}[kind]
    model = gen().fit(data)
    a = model.sample(4, length=20, random_state=0)
    b = model.sample(4, length=20, random_state=0)
    c = model.sample(4, length=20, random_state=1)
    d = model.sample(4, length=20, random_state=np.random.RandomState(0))
    if kind == "characters":
        assert a == b == d
        assert a != c
    else:
        assert np.array_equal(a, b) and np.array_equal(a, d)
        assert not np.array_equal(a, c)


@pytest.fixture(scope="module")
def char_model():
    """A character model trained enough for its next-character distributions
    to differ from one context to the next (6 windows, 45 Adam steps)."""
    return gen(hidden_layer_sizes=(8,), sequence_length=4, batch_size=2,
               max_iter=15, learning_rate_init=3e-2, dtype="float64").fit(TEXT)


@pytest.mark.parametrize("prompt", [None, "th", "the ca"])
def test_generative_sample_draws_from_the_model(prompt, char_model):
    """The next token is drawn from softmax(logits / temperature), the logits
    being those score_samples uses after the prompt."""
    model = char_model
    known = "" if prompt is None else prompt
    inputs, _ = _char_inputs(model, known + "t")
    logits = np.array(model.network_.forward(inputs[None]))[0, len(known)]
    for temperature in (1.0, 0.5):
        p = np.exp(log_softmax(logits / temperature))
        out = model.sample(4000, length=1, prompt=prompt,
                           temperature=temperature, random_state=0)
        codes = np.searchsorted(model.vocabulary_, [s[0] for s in out])
        freq = np.bincount(codes, minlength=model.n_tokens_) / 4000
        np.testing.assert_allclose(freq, p, rtol=0, atol=0.035)


def test_generative_continuous_sample_is_gaussian_around_the_prediction():
    X = continuous_data(D=2)
    model = gen(dtype="float64").fit(X)
    start = np.zeros((1, 1, 3))
    start[0, 0, 2] = 1.0
    mean = np.array(model.network_.forward(start))[0, 0]
    for temperature in (1.0, 0.5):
        out = model.sample(4000, length=1, temperature=temperature,
                           random_state=0)[:, 0]
        sd = temperature * np.sqrt(model.noise_variance_)
        np.testing.assert_allclose(out.mean(axis=0), mean, atol=0.1 * sd.max())
        np.testing.assert_allclose(out.std(axis=0), sd, rtol=0.1)


def test_generative_sample_rejects_bool_counts():
    """n_samples and length are counts: True is rejected with a clear
    ValueError, as for every other integer parameter (sequence_length=True
    is), not a TypeError from NumPy."""
    model = gen().fit(TEXT)
    with pytest.raises(ValueError, match="n_samples"):
        model.sample(True, length=3)
    with pytest.raises(ValueError, match="length"):
        model.sample(2, length=True)


def test_generative_sample_bad_arguments():
    model = gen().fit(TEXT)
    for t in (0, 0.0, -1.0, np.nan, np.inf, -np.inf, "1", None):
        with pytest.raises(ValueError, match="temperature"):
            model.sample(2, length=3, temperature=t)
    for n in (0, -1, 2.5, "2", None):
        with pytest.raises(ValueError, match="n_samples"):
            model.sample(n, length=3)
    for length in (0, -3, 1.5, None):
        with pytest.raises(ValueError, match="length"):
            model.sample(1, length=length)
    with pytest.raises(ValueError, match="vocabulary"):
        model.sample(1, length=3, prompt="thex")
    with pytest.raises(NotFittedError):
        gen().sample(1, length=3)


def test_generative_scoring_the_wrong_kind_of_data_raises():
    chars = gen().fit(TEXT)
    with pytest.raises(ValueError, match="vocabulary"):
        chars.score_samples(["the cat", "the dog"])
    with pytest.raises(ValueError, match="text"):
        chars.score_samples(TOKENS)
    with pytest.raises(ValueError, match="text"):
        chars.score(continuous_data())
    with pytest.raises(ValueError, match="empty"):
        chars.score_samples(["the", ""])
    tokens = gen().fit(TOKENS)
    with pytest.raises(ValueError, match="integer"):
        tokens.score_samples("abc")
    cont = gen().fit(continuous_data())
    with pytest.raises(ValueError, match="text"):
        cont.score_samples("abc")
    with pytest.raises(ValueError, match="features"):
        cont.score_samples(continuous_data(D=3))


@pytest.mark.parametrize("X,match", [
    ("", "empty"), (["ab", ""], "empty"), ([[0, -2, 1]], ">= 0"),
    (np.full((3, 4, 1), np.nan), "NaN"), (np.zeros((2, 3, 4, 1)), "4-D"),
])
def test_generative_bad_fit_input(X, match, no_kernels):
    model = gen()
    with pytest.raises(ValueError, match=match):
        model.fit(X)
    assert not hasattr(model, "network_") and not hasattr(model, "kind_")


@pytest.mark.parametrize("sequence_length", [0, -1, 2.5, True, None])
def test_generative_bad_sequence_length(sequence_length, no_kernels):
    with pytest.raises(ValueError, match="sequence_length"):
        gen(sequence_length=sequence_length).fit(TEXT)


def test_generative_low_temperature_continues_the_pattern():
    model = gen(hidden_layer_sizes=(16,), sequence_length=16, max_iter=15,
                learning_rate_init=3e-2).fit("abc" * 30)
    assert model.perplexity("abcabcabc") < 1.5
    out = model.sample(3, length=6, prompt="ab", temperature=0.05,
                       random_state=0)
    assert out == ["cabcab"] * 3
    out = model.sample(2, length=6, prompt="abca", temperature=0.05,
                       random_state=1)
    assert out == ["bcabca"] * 2
    # from the start symbol: the text began with 'a'
    assert model.sample(2, length=4, temperature=0.05,
                        random_state=0) == ["abca"] * 2


def test_generative_training_windows_are_truncated_bptt():
    """sequence_length=4 cuts a 10-character text into 3 windows (4, 4, 2
    steps), each from a zero state: the training loss is the mean over the
    10 steps of those windows' cross-entropies."""
    text = "abcdabdcab"
    model = gen(sequence_length=4, dtype="float64").fit(text)
    assert np.all(np.isfinite(model.loss_curve_))
    fun, theta0 = model.make_objective(text)
    loss, _ = fun(theta0)
    inputs, codes = _char_inputs(model, text)
    total = 0.0
    for start in (0, 4, 8):
        stop = start + 4
        logits = np.array(model.network_.forward(inputs[None, start:stop]))[0]
        total -= log_softmax(logits)[np.arange(len(logits)),
                                     codes[start:stop]].sum()
    assert loss == pytest.approx(total / 10, rel=1e-12)
    # ... which is not the untruncated loss over the whole text
    assert loss != pytest.approx(-model.score(text), rel=1e-6)
    # one window when it is long enough
    long = gen(sequence_length=10, dtype="float64").fit(text)
    fun, theta0 = long.make_objective(text)
    assert fun(theta0)[0] == pytest.approx(-long.score(text), rel=1e-12)


@pytest.mark.parametrize("kind", ["characters", "tokens", "continuous"])
def test_generative_make_objective_gradient(kind):
    data = {"characters": ["abcab", "ca", "bbbacb"],
            "tokens": [[0, 1, 2, 1], [2, 0]],
            "continuous": continuous_data(n=3, T=5, D=2)}[kind]
    model = gen(hidden_layer_sizes=(3,), sequence_length=3, dtype="float64")
    fun, theta0 = model.make_objective(data)
    assert not hasattr(model, "network_")
    fd_check(fun, theta0)


def test_generative_make_objective_of_a_fitted_model_uses_its_weights():
    model = gen(sequence_length=64, dtype="float64").fit(TEXT)
    fun, theta0 = model.make_objective(TEXT)
    assert np.array_equal(theta0, flat_weights(model))
    loss, _ = fun(theta0)
    assert loss == pytest.approx(-model.score(TEXT), rel=1e-12)  # 1 window
    fun(theta0 + 1.0)
    assert np.array_equal(flat_weights(model), theta0)  # untouched
    model.set_weights(unflatten(model, theta0 * 0.5))
    assert fun(theta0 * 0.5)[0] == pytest.approx(-model.score(TEXT), rel=1e-12)


def test_generative_continuous_pickle_round_trip():
    """The registry's generative model is a character model (its round trip:
    test_estimator_state.py); a continuous one has a noise variance too."""
    data = continuous_data()
    model = gen(dropout=0.2).fit(data)
    loaded = pickle.loads(pickle.dumps(model))
    assert np.array_equal(loaded.score_samples(data), model.score_samples(data))
    a = model.sample(3, length=8, random_state=4)
    b = loaded.sample(3, length=8, random_state=4)
    assert np.array_equal(a, b)
    assert np.array_equal(loaded.noise_variance_, model.noise_variance_)
    model.partial_fit(data)
    loaded.partial_fit(data)
    assert np.array_equal(loaded.score_samples(data), model.score_samples(data))


def test_generative_weight_names_and_shapes():
    chars = gen(hidden_layer_sizes=(6,), max_iter=1).fit(TEXT)
    V = chars.n_tokens_
    shapes = {k: v.shape for k, v in chars.get_weights().items()}
    assert shapes == {"lstm.0.W_ih": (24, V + 1), "lstm.0.W_hh": (24, 6),
                      "lstm.0.b": (24,), "dense.W": (V, 6), "dense.b": (V,)}
    assert list(shapes) == ["lstm.0.W_ih", "lstm.0.W_hh", "lstm.0.b",
                            "dense.W", "dense.b"]
    stacked = gen(hidden_layer_sizes=(4, 3), max_iter=1).fit(TOKENS)
    shapes = {k: v.shape for k, v in stacked.get_weights().items()}
    assert shapes == {"lstm.0.W_ih": (16, 6), "lstm.0.W_hh": (16, 4),
                      "lstm.0.b": (16,), "lstm.1.W_ih": (12, 4),
                      "lstm.1.W_hh": (12, 3), "lstm.1.b": (12,),
                      "dense.W": (5, 3), "dense.b": (5,)}
    cont = gen(hidden_layer_sizes=(4,), max_iter=1).fit(continuous_data(D=3))
    shapes = {k: v.shape for k, v in cont.get_weights().items()}
    assert shapes["lstm.0.W_ih"] == (16, 4)
    assert shapes["dense.W"] == (3, 4)


def test_generative_partial_fit_on_unseen_characters_keeps_the_model():
    model = gen()
    model.partial_fit(TEXT)
    model.partial_fit(TEXT)
    assert model.n_iter_ == 2 and len(model.loss_curve_) == 2
    before = flat_weights(model)
    with pytest.raises(ValueError, match="vocabulary"):
        model.partial_fit("xyz")
    assert np.array_equal(before, flat_weights(model))
    assert model.n_iter_ == 2


def test_generative_refit_on_another_kind_forgets_the_old_one():
    """As for feature names (test_estimator_inputs.py): a fit forgets what an
    earlier fit on another kind of data learned (a character model has no
    Gaussian noise, a continuous one no vocabulary)."""
    X = continuous_data(D=2)
    model = gen(max_iter=1).fit(TEXT)
    model.fit(X)
    assert model.kind_ == "continuous"
    assert not hasattr(model, "vocabulary_")
    assert not hasattr(model, "n_tokens_")
    model.fit(TEXT)
    assert model.kind_ == "characters"
    assert not hasattr(model, "noise_variance_")
    table = pd.DataFrame(X[:, :, 0], columns=[f"t{k}" for k in range(6)])
    model.fit(table)
    assert model.feature_names_in_.tolist() == list(table.columns)
    model.fit(TOKENS)
    assert model.kind_ == "tokens"
    assert not hasattr(model, "feature_names_in_")
    assert not hasattr(model, "noise_variance_")


def test_generative_validation_scores_are_mean_log_likelihoods():
    texts = ["the cat", "sat on", "the mat", "a hat", "the rat", "at"] * 2
    es = gen(early_stopping=True, validation_fraction=0.25, max_iter=4).fit(texts)
    assert len(es.validation_scores_) == 4
    assert all(s < 0 for s in es.validation_scores_)


def test_generative_dataframe_of_ints_is_a_token_model():
    tokens = np.random.default_rng(0).integers(0, 4, size=(6, 5))
    from_array = GenerativeLSTM((4,), max_iter=2, random_state=0).fit(tokens)
    from_frame = GenerativeLSTM((4,), max_iter=2, random_state=0).fit(
        pd.DataFrame(tokens))
    assert from_frame.kind_ == from_array.kind_ == "tokens"
    np.testing.assert_array_equal(from_frame.score_samples(pd.DataFrame(tokens)),
                                  from_array.score_samples(tokens))
