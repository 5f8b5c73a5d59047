"""Encoder-decoder LSTM: a sequence in, a sequence of another length out."""

from __future__ import annotations

import numpy as np
from sklearn.utils.validation import column_or_1d

from ..nn.seq2seq import DECODERS, EncoderDecoder
from ._base import BaseLSTMEstimator, training_parameters
from ._docs import estimator_doc
from ._outputs import LSTMClassifierMixin, LSTMRegressorMixin
from ._params import LayerSizes, OneOf, PositiveInt, as_sizes
from ._spec import EncoderDecoderSpec
from ._validation import check_n_samples

_ARCH = """    encoder_units : int or tuple of int, default=100
        Hidden units of the encoder LSTM (a tuple stacks encoder layers).
    decoder_units : int, default=100
        Hidden units of the decoder LSTM.
    decoder : {'repeat', 'teacher_forcing'}, default='repeat'
        'repeat' feeds the encoder's final hidden state to every decoder step
        (Keras' RepeatVector). 'teacher_forcing' starts the decoder from the
        encoder's final state (``decoder_units`` must equal the last encoder
        size) and feeds it the previous target while training and its own
        previous prediction at predict time, starting from a learned start
        input.
"""
_WEIGHTS = """
    Notes
    -----
    The number of output steps ``n_steps_out_`` is learned from ``y`` at fit;
    a 1-D ``y`` is a one-step output, and predictions are then 1-D too.
    Weights (``get_weights``): ``encoder.{k}.W_ih``, ``encoder.{k}.W_hh``,
    ``encoder.{k}.b`` per encoder layer, ``decoder.0.W_ih``,
    ``decoder.0.W_hh``, ``decoder.0.b``, ``decoder.start`` (teacher forcing
    only: the first decoder input), ``dense.W`` and ``dense.b``; LSTM weights
    in PyTorch's layout (gate order i, f, g, o).
"""


def _as_target_array(y, dtype=None) -> np.ndarray:
    """``y`` as one array; a list of output sequences of different lengths
    raises a ValueError naming them (numpy's own message says only
    'inhomogeneous shape')."""
    try:
        return np.asarray(y, dtype=dtype)
    except ValueError as exc:
        if "inhomogeneous" not in str(exc) or not isinstance(y, (list, tuple)):
            raise
        lengths = sorted({len(v) for v in y if np.ndim(v) >= 1})
        if len(lengths) > 1:
            raise ValueError(
                "every output sequence in y must have the same number of "
                "steps (n_steps_out, learned from y at fit); got output "
                f"sequences of lengths {lengths}."
            ) from None
        raise ValueError(f"y must be an array (n_samples, n_steps_out"
                         f"[, n_outputs]) of one shape: {exc}") from None


class _EncoderDecoderLSTM(BaseLSTMEstimator):
    _sizes_param = "encoder_units"
    _parameter_constraints = {"encoder_units": [LayerSizes()],
                              "decoder_units": [PositiveInt()],
                              "decoder": [OneOf(DECODERS)],
                              **BaseLSTMEstimator._parameter_constraints}

    def __init__(self, encoder_units=100, decoder_units=100, *, decoder="repeat",
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
        self.encoder_units = encoder_units
        self.decoder_units = decoder_units
        self.decoder = decoder

    def _hidden_sizes(self):
        return as_sizes(self.encoder_units)

    def _validate_hyperparameters(self):
        super()._validate_hyperparameters()
        d = self.decoder_units
        if self.decoder == "teacher_forcing" and \
                d != self._hidden_sizes()[-1]:
            raise ValueError(
                "decoder='teacher_forcing' starts the decoder from the "
                f"encoder's final state: decoder_units ({d}) must equal the "
                f"last encoder_units ({self._hidden_sizes()[-1]}).")

    # every output is a sequence of n_steps_out_ real steps
    @property
    def _per_step(self):
        return True

    def _sequence_targets(self, y, seqs, dtype, reset):
        Y = _as_target_array(y, dtype)
        check_n_samples(Y, len(seqs.X))
        if reset:
            self._single_step = Y.ndim == 1
        if Y.ndim == 1 and self._single_step:
            Y = Y[:, None]
        if Y.ndim < 2 or Y.shape[1] == 0:
            raise ValueError("y must hold one output sequence per sample, "
                             "shape (n_samples, n_steps_out[, n_outputs]); "
                             f"got {Y.shape}.")
        if reset:
            self.n_steps_out_ = Y.shape[1]
        elif Y.shape[1] != self.n_steps_out_:
            raise ValueError(f"y has {Y.shape[1]} output steps, but the model "
                             f"was fitted with {self.n_steps_out_}.")
        return Y, np.full(len(Y), Y.shape[1], dtype=np.int64)

    def _output_lengths(self, seqs):
        return np.full(len(seqs.X), self.n_steps_out_, dtype=np.int64)

    def _unpad_if_ragged(self, values, seqs):
        # a 1-D y is a one-step output sequence, predicted as 1-D again
        return values[:, 0] if self._single_step else values

    def _network_spec(self, n_inputs, n_outputs):
        classes = getattr(self, "classes_", None)
        return EncoderDecoderSpec(
            n_inputs=n_inputs, n_outputs=n_outputs, dropout=float(self.dropout),
            dtype=self.dtype,
            encoder_sizes=tuple(int(h) for h in self._hidden_sizes()),
            decoder_size=int(self.decoder_units),
            n_steps_out=int(self.n_steps_out_), decoder=self.decoder,
            feedback="values" if classes is None else "classes",
            n_classes=0 if classes is None else len(classes),
            **self._cell_parameters())

    def _make_network(self, spec, backend, seed):
        return EncoderDecoder(
            spec.n_inputs, spec.encoder_sizes, spec.decoder_size,
            spec.n_outputs, spec.n_steps_out, decoder=spec.decoder,
            feedback=spec.feedback, n_classes=spec.n_classes,
            dropout=spec.dropout, dtype=spec.dtype, backend=backend,
            random_state=seed, cell=spec.cell_options())


class EncoderDecoderLSTMRegressor(LSTMRegressorMixin, _EncoderDecoderLSTM):
    __doc__ = estimator_doc("""Encoder-decoder LSTM for sequence-to-sequence regression.

    ``X (n, T_in, D)`` (or ragged) -> ``y (n, T_out)`` or ``(n, T_out, k)``;
    ``predict`` returns the same shape. The loss is the mean squared error
    over steps and outputs.
""", _ARCH, weights=_WEIGHTS, return_sequences=False, example="""
    Examples
    --------
    >>> import numpy as np
    >>> from numlstm import EncoderDecoderLSTMRegressor
    >>> from numlstm.datasets import make_windows
    >>> series = np.sin(np.arange(300) * 2 * np.pi / 12)
    >>> X, y = make_windows(series, n_steps_in=24, n_steps_out=6)
    >>> model = EncoderDecoderLSTMRegressor(16, 16, max_iter=3, random_state=0)
    >>> model.fit(X, y).predict(X[:2]).shape
    (2, 6)
""")


class EncoderDecoderLSTMClassifier(LSTMClassifierMixin, _EncoderDecoderLSTM):
    def _sequence_targets(self, y, seqs, dtype, reset):
        y = _as_target_array(y)
        if y.ndim == 2 and y.shape[1] == 1:
            # a column of labels is a one-step output: as 1-D labels
            y = column_or_1d(y, warn=True)
        return super()._sequence_targets(y, seqs, dtype, reset)

    __doc__ = estimator_doc("""Encoder-decoder LSTM for sequence-to-sequence labelling.

    ``X (n, T_in, D)`` (or ragged) -> ``y (n, T_out)`` of labels of any type
    (characters, say); ``predict`` returns ``(n, T_out)`` labels and
    ``predict_proba`` ``(n, T_out, n_classes)``. The loss is the mean
    cross-entropy over steps.
""", _ARCH, classifier=True, weights=_WEIGHTS, return_sequences=False,
        example="""
    Examples
    --------
    >>> from numlstm import EncoderDecoderLSTMClassifier
    >>> from numlstm.datasets import make_addition
    >>> X, y = make_addition(64, n_terms=2, largest=9, random_state=0)
    >>> model = EncoderDecoderLSTMClassifier(16, 16, max_iter=2, random_state=0)
    >>> model.fit(X, y).predict(X[:1]).shape
    (1, 2)
""")
