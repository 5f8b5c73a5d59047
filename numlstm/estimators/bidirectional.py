"""Bidirectional LSTM: a forward and a backward LSTM per layer, merged."""

from __future__ import annotations

from ..nn.bidirectional import MERGE_MODES, BidirectionalLSTM
from ._base import BaseLSTMEstimator, UnitsOrLayerSizes, training_parameters
from ._docs import estimator_doc
from ._outputs import LSTMClassifierMixin, LSTMRegressorMixin
from ._params import OneOf
from ._spec import BidirectionalSpec

_ARCH = """    units : int, default=50
        Hidden units of each direction (one bidirectional layer).
    hidden_layer_sizes : tuple of int or None, default=None
        Stacked bidirectional layers, input side first; overrides ``units``.
    merge_mode : {'concat', 'sum', 'mul', 'ave'}, default='concat'
        How the two directions' outputs are combined (Keras'
        ``Bidirectional``); 'concat' doubles the width.
"""
_WEIGHTS = """
    Notes
    -----
    As Keras' ``Bidirectional(LSTM)``: the backward LSTM reads each sequence
    from its own last real step to its first (a ragged sequence is reversed
    within its length, never into its padding), and with
    ``return_sequences=False`` the output merges the forward state after the
    last real step with the backward state after the first step.

    Weights (``get_weights``): for each layer k, ``lstm.{k}.forward.W_ih``,
    ``lstm.{k}.forward.W_hh``, ``lstm.{k}.forward.b`` and the same under
    ``lstm.{k}.backward.``, with PyTorch's shapes and gate order (i, f, g, o),
    then ``dense.W`` and ``dense.b``.
"""


class _BidirectionalLSTM(UnitsOrLayerSizes, BaseLSTMEstimator):
    _parameter_constraints = {**UnitsOrLayerSizes.SIZE_CONSTRAINTS,
                              "merge_mode": [OneOf(MERGE_MODES)],
                              **BaseLSTMEstimator._parameter_constraints}

    def __init__(self, units=50, *, hidden_layer_sizes=None, merge_mode="concat",
                 return_sequences=False, solver="adam", learning_rate_init=1e-3,
                 batch_size=32, max_iter=200, tol=1e-4, n_iter_no_change=10,
                 early_stopping=False, validation_fraction=0.1, shuffle=True,
                 alpha=0.0, momentum=0.9, nesterovs_momentum=True, beta_1=0.9,
                 beta_2=0.999, epsilon=1e-8, clip_norm=5.0, dropout=0.0,
                 random_state=None, verbose=False, warm_start=False,
                 backend="auto", dtype="float32", peephole=False,
                 coupled_gates=False, recurrent_dropout=0.0, zoneout=0.0, proj_size=0,
                 layer_norm=False):
        super().__init__(**training_parameters(locals()))
        self.units = units
        self.hidden_layer_sizes = hidden_layer_sizes
        self.merge_mode = merge_mode
        self.return_sequences = return_sequences

    def _network_spec(self, n_inputs, n_outputs):
        return BidirectionalSpec.extending(
            super()._network_spec(n_inputs, n_outputs),
            merge_mode=self.merge_mode)

    def _recurrent_layer(self, spec, width, size, return_sequences):
        return BidirectionalLSTM(width, size, spec.merge_mode, return_sequences,
                                 **spec.cell_options())


class BidirectionalLSTMRegressor(LSTMRegressorMixin, _BidirectionalLSTM):
    __doc__ = estimator_doc("""Bidirectional LSTM and a dense output, for real targets.

    Targets and loss as :class:`VanillaLSTMRegressor`.
""", _ARCH, weights=_WEIGHTS, example="""
    Examples
    --------
    >>> import numpy as np
    >>> from numlstm import BidirectionalLSTMRegressor
    >>> X = np.random.default_rng(0).normal(size=(32, 6, 2))
    >>> y = X[:, :, 0].cumsum(axis=1)
    >>> model = BidirectionalLSTMRegressor(units=8, return_sequences=True,
    ...                                    max_iter=3, random_state=0)
    >>> model.fit(X, y).predict(X[:2]).shape
    (2, 6)
""")


class BidirectionalLSTMClassifier(LSTMClassifierMixin, _BidirectionalLSTM):
    __doc__ = estimator_doc("""Bidirectional LSTM and a dense output, for class labels.

    Labels and loss as :class:`VanillaLSTMClassifier`.
""", _ARCH, classifier=True, weights=_WEIGHTS, example="""
    Examples
    --------
    >>> from numlstm import BidirectionalLSTMClassifier
    >>> from numlstm.datasets import make_cumsum_threshold
    >>> X, y = make_cumsum_threshold(64, 10, random_state=0)
    >>> model = BidirectionalLSTMClassifier(units=8, return_sequences=True,
    ...                                     max_iter=3, random_state=0)
    >>> model.fit(X, y).predict(X[:2]).shape
    (2, 10)
""")
