"""One registry of all 11 estimators, each with small settings and its data.

Tests that must cover every estimator (the strict backend, sample-weight
equivalence, shared defaults, and the behaviour-grouped estimator tests
``test_estimator_*.py``) take their list from :data:`ESTIMATORS`, so an
estimator added here joins all of them.

Besides each estimator's fixed data (``ESTIMATORS[key][1]()``), the
behaviour tests use the helpers below: :func:`make` (the small estimator
with short-fit defaults), :func:`sample` (data of a given form, n and T for
any estimator, the targets following what that estimator predicts),
:func:`select` (the keys a behaviour applies to, every exclusion with its
reason) and :func:`output` (what a model predicts, as numbers).
"""

import numpy as np
import pandas as pd
from sklearn.base import is_classifier

from numlstm import (
    BidirectionalLSTMClassifier,
    BidirectionalLSTMRegressor,
    CNNLSTMClassifier,
    CNNLSTMRegressor,
    EncoderDecoderLSTMClassifier,
    EncoderDecoderLSTMRegressor,
    GenerativeLSTM,
    StackedLSTMClassifier,
    StackedLSTMRegressor,
    VanillaLSTMClassifier,
    VanillaLSTMRegressor,
)


def _sequences(seed, n=20, T=6, D=3):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, T, D))
    lengths = rng.integers(2, T + 1, size=n)
    return X, [X[i, :lengths[i]] for i in range(n)], rng


def _vanilla_data():
    X, ragged, _ = _sequences(0)
    return ragged, np.array([s[:, 0].sum() for s in ragged])


def _labels_data():
    X, ragged, _ = _sequences(1)
    y = np.array([s[:, 0].sum() for s in ragged])
    return ragged, np.where(y > 0.5, "b", np.where(y < -0.5, "a", "c"))


def _binary_steps_data():
    X, ragged, _ = _sequences(2)
    return ragged, [(s[:, 1] > 0).astype(int) for s in ragged]


def _steps_data():
    X, ragged, _ = _sequences(3)
    return ragged, [np.cumsum(s[:, :2], axis=0) for s in ragged]


def _seq2seq_values():
    X, _, _ = _sequences(4)
    return X, X[:, :3, :2][:, ::-1].copy()


def _seq2seq_classes():
    X, _, _ = _sequences(5)
    return X, (X[:, :3, 0] > 0).astype(int) + (X[:, :3, 1] > 0)


def _frames_data():
    rng = np.random.default_rng(6)
    X = rng.normal(size=(12, 3, 6, 6, 1))
    return X, X[:, :, :3].mean(axis=(1, 2, 3, 4))


def _frame_labels():
    X, y = _frames_data()
    return X, (y > 0).astype(int)


def _text():
    return "the quick brown fox jumps over the lazy dog " * 3, None


def _maker(cls, **defaults):
    """``**kw -> cls(**defaults, **kw)``, ``kw`` overriding the defaults."""
    return lambda **kw: cls(**{**defaults, **kw})


#: every estimator: its maker (small settings) and its data
ESTIMATORS = {
    "vanilla-reg": (_maker(VanillaLSTMRegressor, units=4), _vanilla_data),
    "vanilla-clf": (_maker(VanillaLSTMClassifier, units=4), _labels_data),
    "stacked-reg": (_maker(StackedLSTMRegressor, hidden_layer_sizes=(4, 3),
                           return_sequences=True), _steps_data),
    "stacked-clf": (_maker(StackedLSTMClassifier, hidden_layer_sizes=(4, 3)),
                    _labels_data),
    "bidirectional-reg": (_maker(BidirectionalLSTMRegressor, units=3,
                                 merge_mode="ave"), _vanilla_data),
    "bidirectional-clf": (_maker(BidirectionalLSTMClassifier, units=3,
                                 merge_mode="sum", return_sequences=True),
                          _binary_steps_data),
    "encoder-decoder-reg": (_maker(EncoderDecoderLSTMRegressor,
                                   encoder_units=4, decoder_units=4,
                                   decoder="teacher_forcing"), _seq2seq_values),
    "encoder-decoder-clf": (_maker(EncoderDecoderLSTMClassifier,
                                   encoder_units=4, decoder_units=4,
                                   decoder="teacher_forcing"), _seq2seq_classes),
    "cnn-lstm-reg": (_maker(CNNLSTMRegressor, filters=(2,), units=3),
                     _frames_data),
    "cnn-lstm-clf": (_maker(CNNLSTMClassifier, filters=(2,), units=3),
                     _frame_labels),
    "generative": (_maker(GenerativeLSTM, hidden_layer_sizes=(4,),
                          sequence_length=5), _text),
}

# ------------------------------------------------------------ what each one is

#: 'regressor', 'classifier' or 'generative' (no y; ``score_samples``)
KIND = {key: ("generative" if key == "generative" else
              "classifier" if key.endswith("-clf") else "regressor")
        for key in ESTIMATORS}

#: named groups of keys, for :func:`select`
GROUPS = {
    "regressors": tuple(k for k in ESTIMATORS if KIND[k] == "regressor"),
    "classifiers": tuple(k for k in ESTIMATORS if KIND[k] == "classifier"),
    "generative": ("generative",),
    "encoder-decoder": ("encoder-decoder-reg", "encoder-decoder-clf"),
    "cnn-lstm": ("cnn-lstm-reg", "cnn-lstm-clf"),
    # the estimators without a return_sequences parameter: an
    # encoder-decoder's output is always a sequence of n_steps_out_ steps, a
    # generative model predicts every next step
    "no-return-sequences": ("encoder-decoder-reg", "encoder-decoder-clf",
                            "generative"),
}

#: the parameter holding each estimator's hidden sizes, and a value of it
#: with one layer of ``k`` units (for the stacked estimator: a last layer)
SIZE = {
    "vanilla-reg": "units", "vanilla-clf": "units",
    "stacked-reg": "hidden_layer_sizes", "stacked-clf": "hidden_layer_sizes",
    "bidirectional-reg": "units", "bidirectional-clf": "units",
    "encoder-decoder-reg": "encoder_units",
    "encoder-decoder-clf": "encoder_units",
    "cnn-lstm-reg": "units", "cnn-lstm-clf": "units",
    "generative": "hidden_layer_sizes",
}


def size(key, k):
    """``{size parameter: k units}`` for ``key`` (a teacher-forcing
    encoder-decoder needs ``decoder_units`` equal to its last encoder size)."""
    name = SIZE[key]
    if key.startswith("encoder-decoder"):
        return {"encoder_units": k, "decoder_units": k}
    if name == "hidden_layer_sizes":
        return {name: (4, k) if key.startswith("stacked") else (k,)}
    return {name: k}


#: what a CNN-LSTM needs to take a 2-D X (n, T) or ragged 1-D sequences:
#: each step is then a signal of length 1, which only 'same' padding without
#: pooling leaves anything of (see its docstring)
SCALAR_STEPS = {"cnn-lstm-reg": dict(padding="same", pool_size=1),
                "cnn-lstm-clf": dict(padding="same", pool_size=1)}


def select(excluded=None):
    """The keys of :data:`ESTIMATORS` a behaviour applies to, in order.

    ``excluded`` maps a key, or a name of :data:`GROUPS`, to the reason the
    behaviour does not apply to it: no estimator leaves a generic test
    without its reason written next to the test.
    """
    out = list(ESTIMATORS)
    for name, reason in (excluded or {}).items():
        assert isinstance(reason, str) and len(reason) > 10, (name, reason)
        keys = GROUPS[name] if name in GROUPS else (name,)
        for key in keys:
            assert key in ESTIMATORS, key
            if key in out:
                out.remove(key)
    return out


#: the settings of a short fit, under the test's own parameters
SHORT = dict(max_iter=3, learning_rate_init=1e-2, random_state=0)


def make(key, **params):
    """The small estimator ``key`` for a short fit; ``params`` override."""
    maker, _ = ESTIMATORS[key]
    return maker(**{**SHORT, **params})


# ------------------------------------------------------------------- the data

#: the lengths of a ragged batch
LENGTHS = (3, 5, 1, 4, 2, 5, 4, 3)


def class_id(cls):
    """A test id: the class's name."""
    return cls.__name__


def make_X(n=16, T=5, D=2, seed=0):
    """A 3-D batch of ``n`` sequences of ``T`` steps of ``D`` features."""
    return np.random.default_rng(seed).normal(size=(n, T, D))


def make_ragged(lengths=LENGTHS, D=2, seed=1):
    """A ragged batch: one ``(L, D)`` array per length."""
    rng = np.random.default_rng(seed)
    return [rng.normal(size=(L, D)) for L in lengths]

#: the step shape of each kind of input: a CNN-LSTM's steps are images
FRAME = (6, 6, 1)


def is_generative(model):
    return isinstance(model, GenerativeLSTM)


def is_encoder_decoder(model):
    return isinstance(model, (EncoderDecoderLSTMRegressor,
                              EncoderDecoderLSTMClassifier))


def is_cnn(model):
    return isinstance(model, (CNNLSTMRegressor, CNNLSTMClassifier))


def per_step(model):
    """Whether ``model`` predicts one value (or label) per input step."""
    return bool(getattr(model, "return_sequences", False)) and \
        not is_generative(model)


def _labels(values, kind, threshold):
    """Labels of ``kind`` from real ``values`` (any shape): two classes
    split at ``threshold``, or three ('multi')."""
    hi = values > threshold
    if kind == "str":
        return np.where(hi, "up", "down")
    if kind == "bool":
        return hi
    if kind == "multi":
        return np.digitize(values, np.quantile(values, [1 / 3, 2 / 3]))
    assert kind == "int", kind
    return hi.astype(np.int64)


def targets(model, seqs, labels="int", n_steps_out=3):
    """The targets of ``model`` for ``seqs`` (a list of per-sequence arrays
    ``(T_i, ...)``): running sums of each step's first value, per sequence
    (the last), per step (``return_sequences``) or on ``n_steps_out``
    output steps (an encoder-decoder); labels of kind ``labels`` for a
    classifier. A list of per-step targets for sequences of different
    lengths; None for a generative model."""
    if is_generative(model):
        return None
    steps = [np.cumsum(np.reshape(x, (len(x), -1))[:, 0]) for x in seqs]
    if is_encoder_decoder(model):
        values = np.array([[s[min(t, len(s) - 1)] for t in range(n_steps_out)]
                           for s in steps])
    elif per_step(model):
        if not is_classifier(model):
            return steps if len({len(s) for s in steps}) > 1 else \
                np.array(steps)
        # per-step labels: the running sum's sign (a third class above 1)
        flat = np.concatenate(steps)
        codes = (np.digitize(flat, [0.0, 1.0]) if labels == "multi"
                 else _labels(flat, labels, 0.0))
        out, start = [], 0
        for s in steps:
            out.append(codes[start:start + len(s)])
            start += len(s)
        return out if len({len(s) for s in steps}) > 1 else np.array(out)
    else:
        values = np.array([s[-1] for s in steps])
    if not is_classifier(model):
        return values
    return _labels(values, labels, np.median(values))


def _text(rng, n, T):
    """``n`` strings of 4 to ``T + 3`` characters, each holding the whole
    vocabulary 'abcd' (any subset of them has the same vocabulary)."""
    out = []
    for _ in range(n):
        head = "".join(rng.permutation(list("abcd")))
        tail = "".join(rng.choice(list("abcd"), size=rng.integers(0, T)))
        out.append(head + tail)
    return out


def sample(model, form="array", n=16, T=5, seed=0, lengths=LENGTHS,
           labels="int", step=None):
    """Data for ``model`` (an estimator instance): ``(X, y)``.

    ``form`` is

    - 'array': ``(n, T, *step)``, the step shape ``(2,)`` by default (a
      CNN-LSTM's: :data:`FRAME`);
    - 'table': 2-D ``(n, T)``, univariate sequences; 'frame': the same as a
      DataFrame with columns t0, t1, ...;
    - 'ragged': a list of ``(T_i, *step)`` arrays of the ``lengths``;
      'ragged1d': a list of 1-D ``(T_i,)`` arrays;
    - 'text': ``n`` strings (a generative model only); 'natural': 'text'
      for a generative model, else 'array'.

    A generative model fits float forms as a continuous model. ``y`` is
    :func:`targets` (None for a generative model).
    """
    rng = np.random.default_rng(seed)
    if step is None:
        step = FRAME if is_cnn(model) else (2,)
    if form == "natural":
        form = "text" if is_generative(model) else "array"
    if form == "text":
        assert is_generative(model)
        return _text(rng, n, T), None
    if form == "array":
        X = rng.normal(size=(n, T, *step))
        seqs = list(X)
    elif form in ("table", "frame"):
        X = rng.normal(size=(n, T))
        seqs = list(X)
        if form == "frame":
            X = pd.DataFrame(X, columns=[f"t{k}" for k in range(T)])
    elif form == "ragged":
        X = seqs = [rng.normal(size=(L, *step)) for L in lengths]
    elif form == "ragged1d":
        X = seqs = [rng.normal(size=L) for L in lengths]
    else:
        raise ValueError(form)
    return X, targets(model, seqs, labels)


# -------------------------------------------------------------- the outputs

def output(model, X):
    """What ``model`` predicts for ``X``, as numbers: class probabilities,
    values, or a generative model's log-likelihoods."""
    if is_generative(model):
        return model.score_samples(X)
    if is_classifier(model):
        return model.predict_proba(X)
    return model.predict(X)


def predict(model, X):
    """``predict``, or a generative model's ``score_samples``."""
    if is_generative(model):
        return model.score_samples(X)
    return model.predict(X)


def flat(values):
    """One float64 vector of an array or of a list of arrays."""
    if isinstance(values, list):
        return np.concatenate([np.ravel(np.asarray(v, np.float64))
                               for v in values])
    return np.ravel(np.asarray(values, np.float64))


def flat_weights(model):
    return np.concatenate([w.ravel() for w in model.get_weights().values()])


def unflatten(model, theta):
    """A flat weight vector as a ``get_weights`` dict of ``model``."""
    out, start = {}, 0
    for name, w in model.get_weights().items():
        out[name] = theta[start:start + w.size].reshape(w.shape)
        start += w.size
    assert start == theta.size
    return out


def classes_kw(model, y):
    """``partial_fit``'s ``classes=`` for a classifier (every label of
    ``y``), else nothing."""
    if not is_classifier(model):
        return {}
    labels = np.concatenate([np.ravel(v) for v in y]) if isinstance(y, list) \
        else np.ravel(y)
    return {"classes": np.unique(labels)}


def n_rows(model, X):
    """The rows a fit on ``X`` trains on (``t_`` counts them): the
    sequences, or a generative model's windows of ``sequence_length``."""
    if not is_generative(model):
        return len(X)
    lengths = [len(x) for x in ([X] if isinstance(X, str) else X)]
    S = model.sequence_length
    return sum(-(-L // S) for L in lengths)


def fd_gradient(fun, theta, eps=1e-6):
    """Central finite differences of ``fun(theta)[0]``."""
    g = np.empty_like(theta)
    for k in range(theta.size):
        up, down = theta.copy(), theta.copy()
        up[k] += eps
        down[k] -= eps
        g[k] = (fun(up)[0] - fun(down)[0]) / (2 * eps)
    return g


def same(a, b):
    """Equal arrays, or equal lists of arrays (ragged outputs)."""
    if isinstance(a, list) or isinstance(b, list):
        return len(a) == len(b) and all(np.array_equal(u, v)
                                        for u, v in zip(a, b, strict=True))
    return np.array_equal(a, b)


def fd_check(fun, theta0, seed=0):
    """The analytic gradient of ``fun`` at a perturbed point vs central FD."""
    theta = theta0 + np.random.default_rng(seed).normal(scale=0.3,
                                                        size=theta0.shape)
    _, grad = fun(theta)
    fd = fd_gradient(fun, theta)
    assert np.abs(grad).max() > 1e-6  # not vacuous
    np.testing.assert_allclose(grad, fd, rtol=1e-5,
                               atol=1e-5 * max(1.0, np.abs(fd).max()))


# ------------------------------------------------------------------ kernels

def _boom(*args, **kwargs):
    raise AssertionError("a kernel ran")


#: the CPU kernels a forward pass starts with (a CNN-LSTM's convolutions,
#: every other network's LSTM; the dense layer ends them all)
FORWARD_KERNELS = ("lstm_forward", "dense_forward", "conv1d_forward",
                   "conv2d_forward")


def disable_kernels(monkeypatch):
    """Make the CPU backend's forward kernels fail if called."""
    from numlstm.backends import resolve

    backend_cls = type(resolve("cpu"))
    for name in FORWARD_KERNELS:
        monkeypatch.setattr(backend_cls, name, staticmethod(_boom))
