"""Bad inputs across every estimator: each one is refused with a clear
ValueError whose message names what is wrong.

A table of cases (bad X, y, sample_weight and hyper-parameters) meets a
table of the eleven estimators, each tiny (2-3 units, one epoch, 6
sequences of 4 steps), so the sweep costs a few seconds once compiled.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pytest

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
from numlstm.backends._cuda_probe import cuda_status

# one-epoch fits stop at max_iter on purpose
pytestmark = pytest.mark.filterwarnings(
    "ignore::sklearn.exceptions.ConvergenceWarning")

N, T, D = 6, 4, 3
TRAIN = dict(max_iter=1, random_state=0)


@dataclass(frozen=True)
class Spec:
    """How to build, feed and fit one estimator."""

    name: str
    make: Callable          # **params -> a tiny estimator
    size_param: str         # the parameter holding the hidden sizes
    y: Callable | None      # n -> targets of n sequences (None: fit(X))
    steps: bool = False     # CNN-LSTM: steps are signals, 4-D X is valid

    def fit(self, X, y=None, sample_weight=None, **params):
        model = self.make(**params)
        if self.y is None:
            return model.fit(X, sample_weight=sample_weight)
        return model.fit(X, self.y(N) if y is None else y,
                         sample_weight=sample_weight)

    def predict(self, model, X):
        return model.score_samples(X) if self.y is None else model.predict(X)


def real(n):
    return np.linspace(-1.0, 1.0, n)


def labels(n):
    return np.arange(n) % 2


def real_steps(n):
    return np.linspace(-1.0, 1.0, 2 * n).reshape(n, 2)


def label_steps(n):
    return np.arange(2 * n).reshape(n, 2) % 3


def _cnn(cls):
    return lambda **kw: cls(**{"filters": (2,), "kernel_size": 2,
                               "pool_size": 1, "units": 2, **TRAIN, **kw})


SPECS = [
    Spec("VanillaReg", lambda **kw: VanillaLSTMRegressor(
        **{"units": 2, **TRAIN, **kw}), "units", real),
    Spec("VanillaClf", lambda **kw: VanillaLSTMClassifier(
        **{"units": 2, **TRAIN, **kw}), "units", labels),
    Spec("StackedReg", lambda **kw: StackedLSTMRegressor(
        **{"hidden_layer_sizes": (3, 2), **TRAIN, **kw}),
        "hidden_layer_sizes", real),
    Spec("StackedClf", lambda **kw: StackedLSTMClassifier(
        **{"hidden_layer_sizes": (3, 2), **TRAIN, **kw}),
        "hidden_layer_sizes", labels),
    Spec("BidirReg", lambda **kw: BidirectionalLSTMRegressor(
        **{"units": 2, **TRAIN, **kw}), "units", real),
    Spec("BidirClf", lambda **kw: BidirectionalLSTMClassifier(
        **{"units": 2, **TRAIN, **kw}), "units", labels),
    Spec("CNNReg", _cnn(CNNLSTMRegressor), "units", real, steps=True),
    Spec("CNNClf", _cnn(CNNLSTMClassifier), "units", labels, steps=True),
    Spec("EncDecReg", lambda **kw: EncoderDecoderLSTMRegressor(
        **{"encoder_units": 3, "decoder_units": 2, **TRAIN, **kw}),
        "encoder_units", real_steps),
    Spec("EncDecClf", lambda **kw: EncoderDecoderLSTMClassifier(
        **{"encoder_units": 3, "decoder_units": 2, **TRAIN, **kw}),
        "encoder_units", label_steps),
    Spec("Generative", lambda **kw: GenerativeLSTM(
        **{"hidden_layer_sizes": (3,), "sequence_length": 4, **TRAIN, **kw}),
        "hidden_layer_sizes", None),
]


def good_X():
    """Valid X for every estimator: (N, T, D) (for the CNN-LSTM, steps that
    are one-channel signals of length D)."""
    return np.random.default_rng(0).normal(size=(N, T, D))


@functools.cache
def fitted(name):
    spec = next(s for s in SPECS if s.name == name)
    return spec.fit(good_X())


def with_value(value, index=(0, 1, 2)):
    X = good_X()
    X[index] = value
    return X


def as_objects_with_a_string():
    X = good_X().astype(object)
    X[0, 1, 2] = "a"
    return X


def ragged_with_empty():
    X = good_X()
    return [X[0], X[1, :0], *X[2:]]


def rows_of_different_widths():
    X = good_X()
    return [[*X[0, :-1].tolist(), [1.0]], *X[1:]]


# ---------------------------------------------------------------- the cases
@dataclass(frozen=True)
class Case:
    """``call(spec)`` must raise a ValueError matching ``match``."""

    name: str
    call: Callable
    match: str
    applies: Callable = lambda spec: True


def fit_X(X):
    return lambda spec: spec.fit(X() if callable(X) else X)


def predict_X(X):
    return lambda spec: spec.predict(fitted(spec.name), X)


def fit_weights(sw):
    return lambda spec: spec.fit(good_X(), sample_weight=sw)


def fit_params(**params):
    return lambda spec: spec.fit(good_X(), **params)


def fit_size(value):
    return lambda spec: spec.fit(good_X(), **{spec.size_param: value})


def not_cnn(spec):
    return not spec.steps


def encoder_decoder(spec):
    return spec.name.startswith("EncDec")


def empty_X(spec):
    y = None if spec.y is None else spec.y(0)
    return spec.fit(good_X()[:0], y)


CASES = [
    # values
    Case("X-nan", fit_X(lambda: with_value(np.nan)), "NaN"),
    Case("X-inf", fit_X(lambda: with_value(np.inf)), "infinity"),
    Case("X-neg-inf", fit_X(lambda: with_value(-np.inf)), "infinity"),
    Case("predict-X-nan", predict_X(with_value(np.nan)), "NaN"),
    # sizes
    Case("X-no-samples", empty_X, r"0 sample\(s\)"),
    Case("X-no-timesteps", fit_X(lambda: good_X()[:, :0]),
         "at least one time step"),
    Case("X-ragged-with-empty-sequence", fit_X(ragged_with_empty),
         r"X\[1\] is an empty sequence"),
    Case("X-empty-list", fit_X([]), "got an empty list"),
    Case("X-rows-of-different-widths", fit_X(rows_of_different_widths),
         "cannot be read as an array: its elements have different shapes"),
    # dimensions
    Case("X-1d", fit_X(np.zeros(N)), "Expected 2D array, got 1D array"),
    Case("predict-X-1d", predict_X(np.zeros(T)), "Reshape your data"),
    Case("X-4d", fit_X(np.zeros((N, T, D, 2))), "got a 4-D array",
         applies=not_cnn),
    Case("X-6d", fit_X(np.zeros((N, T, D, 2, 2, 2))), "got a 6-D array"),
    # types
    Case("X-None", fit_X(None), "X must be an array of sequences.*got None"),
    Case("predict-X-None", predict_X(None), "got None"),
    Case("X-scalar", fit_X(3.0), "got the scalar 3.0"),
    Case("X-str-array", fit_X(lambda: good_X().astype(str)),
         "array of strings"),
    Case("X-object-with-a-string", fit_X(as_objects_with_a_string),
         "must hold numbers, not strings"),
    Case("X-complex", fit_X(lambda: good_X() + 1j),
         "Complex data not supported"),
    # predict after a fit on (N, T, D)
    Case("predict-wrong-n-features", predict_X(good_X()[:, :, :2]),
         "expecting 3 features", applies=not_cnn),
    Case("predict-wrong-step-shape", predict_X(good_X()[:, :, :2]),
         r"steps of shape \(2, 1\).*steps of shape \(3, 1\)",
         applies=lambda spec: spec.steps),
    # sample_weight
    Case("sw-negative", fit_weights(-np.ones(N)), "Negative values"),
    Case("sw-wrong-length", fit_weights(np.ones(N - 1)),
         r"sample_weight.shape == \(5,\), expected \(6,\)"),
    Case("sw-nan", fit_weights(np.full(N, np.nan)), "sample_weight contains NaN"),
    Case("sw-all-zero", fit_weights(np.zeros(N)), "non-zero|sums to zero"),
    # hyper-parameters
    Case("units-0", fit_size(0), "positive integers, got 0"),
    Case("units-neg", fit_size(-1), "positive integers, got -1"),
    Case("units-float", fit_size(1.5), "positive integers, got 1.5"),
    Case("lr-0", fit_params(learning_rate_init=0), "learning_rate_init"),
    Case("lr-neg", fit_params(learning_rate_init=-1), "learning_rate_init"),
    Case("lr-nan", fit_params(learning_rate_init=np.nan), "learning_rate_init"),
    Case("lr-inf", fit_params(learning_rate_init=np.inf), "learning_rate_init"),
    Case("batch_size-0", fit_params(batch_size=0), "batch_size"),
    Case("max_iter-0", fit_params(max_iter=0), "max_iter"),
    Case("dtype-float16", fit_params(dtype="float16"), "dtype"),
    Case("solver-foo", fit_params(solver="foo"), "solver"),
    Case("dropout-1", fit_params(dropout=1.0), "dropout"),
    Case("clip_norm-neg", fit_params(clip_norm=-1), "clip_norm"),
    # where CUDA cannot run (CI; on a GPU the case does not apply)
    Case("backend-cuda", fit_params(backend="cuda"), "'cuda' cannot run here",
         applies=lambda spec: not cuda_status().usable),
    # targets
    Case("y-ragged-output-sequences",
         lambda spec: spec.fit(good_X()[:3], [spec.y(1)[0], spec.y(2)[0][:1],
                                              [*spec.y(1)[0], 0]]),
         r"same number of steps \(n_steps_out.*lengths \[1, 2, 3\]",
         applies=encoder_decoder),
    Case("decoder_units-0", fit_params(decoder_units=0), "decoder_units",
         applies=encoder_decoder),
]

PAIRS = [pytest.param(spec, case, id=f"{spec.name}-{case.name}")
         for spec in SPECS for case in CASES if case.applies(spec)]


@pytest.mark.parametrize(("spec", "case"), PAIRS)
def test_bad_input_is_refused_clearly(spec, case):
    with pytest.raises(ValueError, match=case.match):
        case.call(spec)


def test_every_estimator_is_swept():
    """The table covers all eleven public estimators."""
    import numlstm
    from numlstm.estimators import __all__ as names

    classes = {getattr(numlstm, n) for n in names if n != "BaseLSTMEstimator"}
    assert {type(s.make()) for s in SPECS} == classes
    assert len(SPECS) == 11


# --------------------------------------------- GenerativeLSTM's own inputs
TEXT = ["abcab", "bca"]
TOKENS = [[1, 2, 3, 1], [2, 3]]

GENERATIVE_CASES = [
    ("text-empty-string", lambda m: m.fit(""), "empty string"),
    ("text-list-with-empty-string", lambda m: m.fit(["ab", ""]),
     "empty string"),
    ("tokens-negative", lambda m: m.fit([[1, -2, 3], [2, 3]]),
     "tokens must be >= 0"),
    ("tokens-with-empty-sequence", lambda m: m.fit([[1, 2, 3], []]),
     "empty sequence"),
    ("text-unseen-characters", lambda m: m.fit(TEXT).score_samples(["xyz"]),
     "not in the vocabulary"),
    ("text-model-scored-on-floats",
     lambda m: m.fit(TEXT).score_samples(good_X()), "fitted on text"),
    ("tokens-unseen", lambda m: m.fit(TOKENS).score_samples([[9]]),
     "not in the vocabulary"),
    ("tokens-model-scored-on-text",
     lambda m: m.fit(TOKENS).score_samples("abc"), "integer"),
    ("sample-length-0", lambda m: m.fit(TEXT).sample(1, length=0), "length"),
]


@pytest.mark.parametrize(("call", "match"),
                         [pytest.param(c, m, id=n) for n, c, m in GENERATIVE_CASES])
def test_generative_bad_input_is_refused_clearly(call, match):
    model = GenerativeLSTM((3,), sequence_length=4, max_iter=1, random_state=0)
    with pytest.raises(ValueError, match=match):
        call(model)
