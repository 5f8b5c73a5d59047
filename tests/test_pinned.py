"""Fitted weights and predictions pinned bit for bit.

``tests/data/pinned.npz`` was written by this file's ``__main__`` on commit
8866d6c, before the backend contract redesign (issue 13); a refactoring of
the network, the backends or the training loops must leave every fitted
weight and prediction below exactly as it was, in both dtypes. Regenerate
the file only for a change that means to alter the numbers, and say why in
its commit.

    python tests/test_pinned.py   # rewrites tests/data/pinned.npz
"""

from pathlib import Path

import numpy as np
import pytest

from numlstm import (
    BidirectionalLSTMClassifier,
    BidirectionalLSTMRegressor,
    CNNLSTMRegressor,
    EncoderDecoderLSTMClassifier,
    EncoderDecoderLSTMRegressor,
    GenerativeLSTM,
    StackedLSTMClassifier,
    VanillaLSTMRegressor,
)

PINNED = Path(__file__).parent / "data" / "pinned.npz"
DTYPES = ("float32", "float64")

pytestmark = pytest.mark.filterwarnings(
    "ignore::sklearn.exceptions.ConvergenceWarning")


def _data(seed=0, n=24, T=7, D=3):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, T, D))
    lengths = rng.integers(2, T + 1, size=n)
    ragged = [X[i, :lengths[i]] for i in range(n)]
    y = X[:, :, 0].sum(axis=1) + 0.1 * rng.normal(size=n)
    return X, ragged, y, rng


def case_vanilla(dtype, backend):
    X, ragged, y, rng = _data()
    m = VanillaLSTMRegressor(units=6, max_iter=3, batch_size=8, random_state=0,
                             dtype=dtype, backend=backend).fit(ragged, y)
    m.partial_fit(ragged, y)
    return m, m.predict(ragged)


def case_vanilla_lbfgs(dtype, backend):
    X, _, y, _ = _data(1)
    m = VanillaLSTMRegressor(units=5, solver="lbfgs", max_iter=6, alpha=1e-3,
                             random_state=0, dtype=dtype, backend=backend).fit(X, y)
    return m, m.predict(X)


def case_vanilla_sequences_early(dtype, backend):
    X, _, y, rng = _data(2)
    Y = np.cumsum(X[:, :, :1], axis=1)
    sw = rng.uniform(0.5, 2.0, size=len(X))
    m = VanillaLSTMRegressor(units=4, return_sequences=True, max_iter=4,
                             early_stopping=True, validation_fraction=0.25,
                             n_iter_no_change=1, batch_size=6, random_state=3,
                             dtype=dtype, backend=backend).fit(X, Y, sample_weight=sw)
    return m, m.predict(X)


def case_stacked_dropout(dtype, backend):
    X, ragged, y, _ = _data(3)
    labels = (y > 0).astype(int) + (y > 1)
    m = StackedLSTMClassifier(hidden_layer_sizes=(6, 4), dropout=0.2,
                              solver="sgd", learning_rate_init=0.05,
                              max_iter=3, batch_size=5, random_state=1,
                              dtype=dtype, backend=backend).fit(ragged, labels)
    return m, m.predict_proba(ragged)


def case_bidirectional(dtype, backend):
    X, ragged, y, _ = _data(4)
    m = BidirectionalLSTMRegressor(units=4, merge_mode="mul", max_iter=3,
                                   batch_size=8, random_state=0,
                                   dtype=dtype, backend=backend).fit(ragged, y)
    return m, m.predict(ragged)


def case_bidirectional_steps(dtype, backend):
    X, ragged, _, _ = _data(5)
    labels = [(s[:, 0] > 0).astype(int) for s in ragged]
    m = BidirectionalLSTMClassifier(units=4, merge_mode="concat",
                                    return_sequences=True, solver="rmsprop",
                                    max_iter=3, batch_size=8, random_state=0,
                                    dtype=dtype, backend=backend).fit(ragged, labels)
    return m, np.concatenate(m.predict_proba(ragged))


def case_encoder_decoder(dtype, backend):
    X, _, _, _ = _data(6)
    Y = X[:, :3, :2][:, ::-1]
    m = EncoderDecoderLSTMRegressor(6, 6, decoder="teacher_forcing",
                                    max_iter=3, batch_size=8, random_state=0,
                                    dtype=dtype, backend=backend).fit(X, Y)
    return m, m.predict(X)


def case_encoder_decoder_classes(dtype, backend):
    X, _, _, _ = _data(7)
    Y = (X[:, :4, 0] > 0).astype(int) + (X[:, :4, 1] > 0)
    m = EncoderDecoderLSTMClassifier((5, 4), 4, decoder="repeat", dropout=0.1,
                                     max_iter=3, batch_size=8, random_state=0,
                                     dtype=dtype, backend=backend).fit(X, Y)
    return m, m.predict_proba(X)


def case_cnn_lstm(dtype, backend):
    rng = np.random.default_rng(8)
    X = rng.normal(size=(12, 4, 6, 6, 1))
    y = X[:, :, :3].mean(axis=(1, 2, 3, 4))
    m = CNNLSTMRegressor(filters=(3,), kernel_size=3,
                         pool_size=2, units=5, max_iter=3, batch_size=4,
                         random_state=0, dtype=dtype, backend=backend).fit(X, y)
    return m, m.predict(X)


def case_generative(dtype, backend):
    text = "the quick brown fox jumps over the lazy dog " * 4
    m = GenerativeLSTM((8,), sequence_length=6, max_iter=2, batch_size=8,
                       random_state=0, dtype=dtype, backend=backend).fit(text)
    sample = m.sample(2, length=12, prompt="the ", random_state=0)
    codes = np.array([[ord(c) for c in s] for s in sample], dtype=np.float64)
    return m, np.concatenate([codes.ravel(), [m.score(text)]])


def case_objective(dtype, backend):
    X, ragged, y, _ = _data(9)
    m = VanillaLSTMRegressor(units=4, alpha=1e-2, random_state=0,
                             dtype=dtype, backend=backend)
    fun, theta0 = m.make_objective(ragged, y)
    value, grad = fun(theta0)
    return m, np.concatenate([[value], grad])


CASES = {name[5:]: fn for name, fn in globals().copy().items()
         if name.startswith("case_")}


def _run(name, dtype, backend="cpu"):
    model, out = CASES[name](dtype, backend)
    weights = model.get_weights() if hasattr(model, "network_") else {}
    return {f"{name}/{dtype}/{k}": np.asarray(v) for k, v in weights.items()} \
        | {f"{name}/{dtype}/out": np.asarray(out)}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", sorted(CASES))
def test_results_unchanged(name, dtype):
    with np.load(PINNED) as pinned:
        keys = [k for k in pinned.files if k.startswith(f"{name}/{dtype}/")]
        expected = {k: pinned[k] for k in keys}
    assert expected, f"no pinned values for {name}/{dtype}"
    got = _run(name, dtype)
    assert sorted(got) == sorted(expected)
    for key, value in expected.items():
        assert got[key].dtype == value.dtype, key
        np.testing.assert_array_equal(got[key], value, err_msg=key)


if __name__ == "__main__":
    import warnings

    warnings.simplefilter("ignore")
    values = {}
    for name in sorted(CASES):
        for dtype in DTYPES:
            values |= _run(name, dtype)
    PINNED.parent.mkdir(exist_ok=True)
    np.savez_compressed(PINNED, **values)
    print(f"{len(values)} arrays written to {PINNED}")
