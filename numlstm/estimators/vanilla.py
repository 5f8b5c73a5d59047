"""Vanilla LSTM: one LSTM layer and a dense output."""

from __future__ import annotations

from ._base import BaseLSTMEstimator, training_parameters
from ._docs import estimator_doc
from ._outputs import LSTMClassifierMixin, LSTMRegressorMixin
from ._params import LayerSizes, PositiveInt

_UNITS = """    units : int, default=50
        Hidden units of the LSTM layer.
"""
_WEIGHTS = """
    Notes
    -----
    Weights (``get_weights``): ``lstm.0.W_ih (4H, D)``, ``lstm.0.W_hh (4H, H)``,
    ``lstm.0.b (4H,)`` with gate blocks i, f, g, o (PyTorch's layout, its two
    biases summed), then ``dense.W (n_outputs, H)`` and ``dense.b``.
"""


class _VanillaLSTM(BaseLSTMEstimator):
    _parameter_constraints = {"units": [LayerSizes(single=True)],
                              "tbptt_steps": [None, PositiveInt()],
                              **BaseLSTMEstimator._parameter_constraints}

    def __init__(self, units=50, *, return_sequences=False,
                 tbptt_steps=None, solver="adam",
                 learning_rate_init=1e-3, batch_size=32, max_iter=200, tol=1e-4,
                 n_iter_no_change=10, early_stopping=False,
                 validation_fraction=0.1, shuffle=True, alpha=0.0, momentum=0.9,
                 nesterovs_momentum=True, beta_1=0.9, beta_2=0.999,
                 epsilon=1e-8, clip_norm=5.0, dropout=0.0, random_state=None,
                 verbose=False, warm_start=False, backend="auto",
                 dtype="float32", peephole=False, coupled_gates=False,
                 recurrent_dropout=0.0, zoneout=0.0, proj_size=0,
                 layer_norm=False):
        super().__init__(**training_parameters(locals()))
        self.units = units
        self.return_sequences = return_sequences
        self.tbptt_steps = tbptt_steps

    def _hidden_sizes(self):
        return (self.units,)


class VanillaLSTMRegressor(LSTMRegressorMixin, _VanillaLSTM):
    __doc__ = estimator_doc("""One LSTM layer and a dense output, for real targets.

    ``y`` is ``(n,)`` or ``(n, k)``; with ``return_sequences=True``,
    ``(n, T)`` or ``(n, T, k)`` (a list of per-sequence arrays for ragged X).
    The loss is the mean squared error (no 1/2 factor).
""", _UNITS, weights=_WEIGHTS, tbptt=True, example="""
    Examples
    --------
    >>> import numpy as np
    >>> from numlstm import VanillaLSTMRegressor
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(64, 10, 2))
    >>> y = X[:, :, 0].mean(axis=1)
    >>> model = VanillaLSTMRegressor(units=8, max_iter=5, random_state=0)
    >>> model.fit(X, y).predict(X[:3]).shape
    (3,)
""")


class VanillaLSTMClassifier(LSTMClassifierMixin, _VanillaLSTM):
    __doc__ = estimator_doc("""One LSTM layer and a dense output, for class labels.

    ``y`` holds labels of any type, binary or multiclass; with
    ``return_sequences=True``, one label per step ``(n, T)`` (a list for
    ragged X). The loss is the mean cross-entropy (logistic output for two
    classes, softmax for more).
""", _UNITS, classifier=True, weights=_WEIGHTS, tbptt=True, example="""
    Examples
    --------
    >>> import numpy as np
    >>> from numlstm import VanillaLSTMClassifier
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(64, 10, 2))
    >>> y = np.where(X[:, :, 0].sum(axis=1) > 0, "up", "down")
    >>> model = VanillaLSTMClassifier(units=8, max_iter=5, random_state=0)
    >>> model.fit(X, y).predict_proba(X[:3]).shape
    (3, 2)
""")
