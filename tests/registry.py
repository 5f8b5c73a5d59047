"""One registry of all 11 estimators, each with small settings and its data.

Tests that must cover every estimator (the strict backend, sample-weight
equivalence, shared defaults) take their list from :data:`ESTIMATORS`, so
an estimator added here joins all of them.
"""

import numpy as np

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


#: every estimator: its maker (small settings) and its data
ESTIMATORS = {
    "vanilla-reg": (lambda **kw: VanillaLSTMRegressor(units=4, **kw),
                    _vanilla_data),
    "vanilla-clf": (lambda **kw: VanillaLSTMClassifier(units=4, **kw),
                    _labels_data),
    "stacked-reg": (lambda **kw: StackedLSTMRegressor(
        hidden_layer_sizes=(4, 3), return_sequences=True, **kw), _steps_data),
    "stacked-clf": (lambda **kw: StackedLSTMClassifier(
        hidden_layer_sizes=(4, 3), **kw), _labels_data),
    "bidirectional-reg": (lambda **kw: BidirectionalLSTMRegressor(
        units=3, merge_mode="ave", **kw), _vanilla_data),
    "bidirectional-clf": (lambda **kw: BidirectionalLSTMClassifier(
        units=3, merge_mode="sum", return_sequences=True, **kw),
        _binary_steps_data),
    "encoder-decoder-reg": (lambda **kw: EncoderDecoderLSTMRegressor(
        4, 4, decoder="teacher_forcing", **kw), _seq2seq_values),
    "encoder-decoder-clf": (lambda **kw: EncoderDecoderLSTMClassifier(
        4, 4, decoder="teacher_forcing", **kw), _seq2seq_classes),
    "cnn-lstm-reg": (lambda **kw: CNNLSTMRegressor(filters=(2,), units=3, **kw),
                     _frames_data),
    "cnn-lstm-clf": (lambda **kw: CNNLSTMClassifier(filters=(2,), units=3,
                                                    **kw), _frame_labels),
    "generative": (lambda **kw: GenerativeLSTM((4,), sequence_length=5, **kw),
                   _text),
}
