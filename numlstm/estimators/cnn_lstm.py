"""CNN-LSTM: a convolutional feature extractor on every step, then an LSTM."""

from __future__ import annotations

import numpy as np
from sklearn.utils.validation import _check_feature_names

from ..nn import Sequential
from ..nn.conv import PADDINGS, ConvBlock, FlattenSteps
from ._base import BaseLSTMEstimator, UnitsOrLayerSizes, training_parameters
from ._docs import RETURN_SEQUENCES, TBPTT_STEPS, estimator_doc
from ._outputs import LSTMClassifierMixin, LSTMRegressorMixin
from ._params import LayerSizes, OneOf, PositiveInt, as_sizes
from ._spec import CNNSpec
from ._validation import check_step_sequences

_ARCH = """    filters : tuple of int, default=(32,)
        One conv block per entry (convolution with this many filters, ReLU,
        max-pooling), applied to every time step with shared weights.
    kernel_size : int, default=3
    pool_size : int, default=2
        Non-overlapping max-pooling window (1 disables pooling).
    padding : {'valid', 'same'}, default='valid'
    units : int, default=50
        Hidden units of the LSTM layer.
    hidden_layer_sizes : tuple of int or None, default=None
        Stacked LSTM layers; overrides ``units``.
""" + RETURN_SEQUENCES + TBPTT_STEPS
_WEIGHTS = """
    Notes
    -----
    Shapes of X: ``(n, T, L, C)``, each step a 1-D signal of length L with C
    channels (Conv1D); ``(n, T, H, W, C)``, each step an image (Conv2D);
    ``(n, T, L)``, one-channel signals; a list of such per-sequence arrays of
    different lengths T_i (ragged, masked exactly). A 2-D ``(n, T)`` is a
    sequence of scalars, i.e. signals of length 1: it only makes sense with
    ``padding='same'`` and ``pool_size=1`` (the convolution is then a
    per-step affine map of the scalar), and ``n_features_in_`` is then T, as
    for any 2-D table. Otherwise ``n_features_in_`` is the number of values
    per step (L*C or H*W*C). An architecture whose convolutions and pooling
    leave nothing of a step is refused with the sizes named.

    Weights (``get_weights``): ``conv.{k}.W`` in PyTorch's layout
    ``(filters, in_channels, kernel[, kernel])`` and ``conv.{k}.b``, then
    ``lstm.{k}.W_ih/W_hh/b`` (gate order i, f, g, o) and ``dense.W``,
    ``dense.b``.
"""


def conv_stack(step_shape, filters, kernel_size, pool_size, padding):
    """Conv blocks for steps of ``step_shape`` (spatial..., channels), then a
    :class:`FlattenSteps`; raises ValueError naming the sizes if a block
    leaves nothing of a step."""
    layers = []
    *spatial, channels = step_shape
    for k, f in enumerate(filters):
        try:
            block = ConvBlock(spatial, channels, f, kernel_size, pool_size,
                              padding)
        except ValueError as exc:
            raise ValueError(f"conv block {k} (filters={f}): {exc}") from None
        layers.append(block)
        spatial, channels = block.out_spatial, f
    layers.append(FlattenSteps((*spatial, channels)))
    return layers


class _CNNLSTM(UnitsOrLayerSizes, BaseLSTMEstimator):
    _parameter_constraints = {"filters": [LayerSizes()],
                              "kernel_size": [PositiveInt()],
                              "pool_size": [PositiveInt()],
                              "padding": [OneOf(PADDINGS)],
                              **UnitsOrLayerSizes.SIZE_CONSTRAINTS,
                              "tbptt_steps": [None, PositiveInt()],
                              **BaseLSTMEstimator._parameter_constraints}

    def __init__(self, filters=(32,), kernel_size=3, pool_size=2, *,
                 padding="valid", units=50, hidden_layer_sizes=None,
                 return_sequences=False,
                 tbptt_steps=None, solver="adam", learning_rate_init=1e-3,
                 batch_size=32, max_iter=200, tol=1e-4, n_iter_no_change=10,
                 early_stopping=False, validation_fraction=0.1, shuffle=True,
                 alpha=0.0, momentum=0.9, nesterovs_momentum=True, beta_1=0.9,
                 beta_2=0.999, epsilon=1e-8, clip_norm=5.0, dropout=0.0,
                 random_state=None, verbose=False, warm_start=False,
                 backend="auto", dtype="float32", peephole=False,
                 coupled_gates=False, recurrent_dropout=0.0, zoneout=0.0, proj_size=0,
                 layer_norm=False):
        super().__init__(**training_parameters(locals()))
        self.filters = filters
        self.kernel_size = kernel_size
        self.pool_size = pool_size
        self.padding = padding
        self.units = units
        self.hidden_layer_sizes = hidden_layer_sizes
        self.return_sequences = return_sequences
        self.tbptt_steps = tbptt_steps

    def _filters(self):
        return as_sizes(self.filters)

    def _validate_X(self, X, reset):
        seqs = check_step_sequences(X, self.dtype)
        if seqs.kind == "table":
            _check_feature_names(self, X, reset=reset)
        step = seqs.X.shape[2:]
        if reset:
            conv_stack(step, self._filters(), self.kernel_size, self.pool_size,
                       self.padding)  # refuse a stack that pools a step away
            if seqs.kind != "table" and hasattr(self, "feature_names_in_"):
                del self.feature_names_in_
            self._input_kind = seqs.kind
            self._step_shape = step
            self.n_features_in_ = (seqs.X.shape[1] if seqs.kind == "table"
                                   else int(np.prod(step)))
            return seqs
        if self._input_kind == "table" and seqs.kind == "table" and \
                seqs.X.shape[1] != self.n_features_in_:
            raise ValueError(
                f"X has {seqs.X.shape[1]} features, but {type(self).__name__} "
                f"is expecting {self.n_features_in_} features as input.")
        if step != self._step_shape:
            raise ValueError(f"X has steps of shape {step}, but "
                             f"{type(self).__name__} was fitted on steps of "
                             f"shape {self._step_shape}.")
        return seqs

    def _network_spec(self, n_inputs, n_outputs):
        return CNNSpec.extending(
            super()._network_spec(n_inputs, n_outputs),
            step_shape=tuple(int(s) for s in self._step_shape),
            filters=tuple(int(f) for f in self._filters()),
            kernel_size=int(self.kernel_size), pool_size=int(self.pool_size),
            padding=self.padding)

    def _make_network(self, spec, backend, seed):
        convs = conv_stack(spec.step_shape, spec.filters, spec.kernel_size,
                           spec.pool_size, spec.padding)
        head = self._recurrent_head(spec, convs[-1].output_size)
        return Sequential(convs + head, dtype=spec.dtype, backend=backend,
                          random_state=seed)


class CNNLSTMRegressor(LSTMRegressorMixin, _CNNLSTM):
    __doc__ = estimator_doc("""Conv blocks on every step, then LSTM, for real targets.

    Targets and loss as :class:`VanillaLSTMRegressor`.
""", _ARCH, weights=_WEIGHTS, return_sequences=False, example="""
    Examples
    --------
    >>> import numpy as np
    >>> from numlstm import CNNLSTMRegressor
    >>> X = np.random.default_rng(0).normal(size=(16, 4, 12, 1))
    >>> y = X.mean(axis=(1, 2, 3))
    >>> model = CNNLSTMRegressor((4,), units=8, max_iter=2, random_state=0)
    >>> model.fit(X, y).predict(X[:2]).shape
    (2,)
""")


class CNNLSTMClassifier(LSTMClassifierMixin, _CNNLSTM):
    __doc__ = estimator_doc("""Conv blocks on every step, then LSTM, for class labels.

    Labels and loss as :class:`VanillaLSTMClassifier`.
""", _ARCH, classifier=True, weights=_WEIGHTS, return_sequences=False,
        example="""
    Examples
    --------
    >>> from numlstm import CNNLSTMClassifier
    >>> from numlstm.datasets import make_moving_square
    >>> X, y = make_moving_square(16, size=10, random_state=0)
    >>> model = CNNLSTMClassifier((4,), units=8, max_iter=2, random_state=0)
    >>> model.fit(X, y).predict(X[:2]).shape
    (2,)
""")
