"""Stacked LSTM: several LSTM layers, each feeding its sequence to the next."""

from __future__ import annotations

from ._base import BaseLSTMEstimator, training_parameters
from ._docs import estimator_doc
from ._outputs import LSTMClassifierMixin, LSTMRegressorMixin
from ._params import LayerSizes, PositiveInt, as_sizes

_SIZES = """    hidden_layer_sizes : tuple of int, default=(50, 50)
        Hidden units of each LSTM layer, input side first. Every layer but
        the last returns its whole sequence to the next.
"""
_WEIGHTS = """
    Notes
    -----
    Weights (``get_weights``): for each layer k, ``lstm.{k}.W_ih (4H_k,
    D_k)``, ``lstm.{k}.W_hh (4H_k, H_k)``, ``lstm.{k}.b (4H_k,)`` (gate blocks
    i, f, g, o, PyTorch's layout), then ``dense.W`` and ``dense.b``.
"""


class _StackedLSTM(BaseLSTMEstimator):
    _parameter_constraints = {"hidden_layer_sizes": [LayerSizes()],
                              "tbptt_steps": [None, PositiveInt()],
                              **BaseLSTMEstimator._parameter_constraints}

    def __init__(self, hidden_layer_sizes=(50, 50), *, return_sequences=False,
                 tbptt_steps=None,
                 solver="adam", learning_rate_init=1e-3, batch_size=32,
                 max_iter=200, tol=1e-4, n_iter_no_change=10,
                 early_stopping=False, validation_fraction=0.1, shuffle=True,
                 alpha=0.0, momentum=0.9, nesterovs_momentum=True, beta_1=0.9,
                 beta_2=0.999, epsilon=1e-8, clip_norm=5.0, dropout=0.0,
                 random_state=None, verbose=False, warm_start=False,
                 backend="auto", dtype="float32", peephole=False,
                 coupled_gates=False, recurrent_dropout=0.0, zoneout=0.0, proj_size=0,
                 layer_norm=False):
        super().__init__(**training_parameters(locals()))
        self.hidden_layer_sizes = hidden_layer_sizes
        self.return_sequences = return_sequences
        self.tbptt_steps = tbptt_steps

    _sizes_param = "hidden_layer_sizes"

    def _hidden_sizes(self):
        return as_sizes(self.hidden_layer_sizes)


class StackedLSTMRegressor(LSTMRegressorMixin, _StackedLSTM):
    __doc__ = estimator_doc("""Stacked LSTM layers and a dense output, for real targets.

    Targets and loss as :class:`VanillaLSTMRegressor`.
""", _SIZES, weights=_WEIGHTS, tbptt=True, example="""
    Examples
    --------
    >>> from numlstm import StackedLSTMRegressor
    >>> from numlstm.datasets import make_damped_sine
    >>> X, y = make_damped_sine(64, 20, 5, random_state=0)
    >>> model = StackedLSTMRegressor((8, 8), max_iter=3, random_state=0)
    >>> model.fit(X, y).predict(X[:2]).shape
    (2, 5)
""")


class StackedLSTMClassifier(LSTMClassifierMixin, _StackedLSTM):
    __doc__ = estimator_doc("""Stacked LSTM layers and a dense output, for class labels.

    Labels and loss as :class:`VanillaLSTMClassifier`.
""", _SIZES, classifier=True, weights=_WEIGHTS, tbptt=True, example="""
    Examples
    --------
    >>> import numpy as np
    >>> from numlstm import StackedLSTMClassifier
    >>> X = np.random.default_rng(0).normal(size=(32, 6, 3))
    >>> y = X[:, -1, 0] > 0
    >>> model = StackedLSTMClassifier((8, 4), max_iter=3, random_state=0)
    >>> model.fit(X, y).classes_
    array([False,  True])
""")
