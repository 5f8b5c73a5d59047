"""Encoder-decoder network: a sequence in, a sequence of another length out."""

from __future__ import annotations

import numpy as np

from .layers import LSTM, Dense, Dropout, Layer
from .network import Network

DECODERS = ("repeat", "teacher_forcing")


class StartInput(Layer):
    """The learned first input of a teacher-forced decoder (``decoder.start``)."""

    kind = "decoder"

    def __init__(self, size: int) -> None:
        self.size = int(size)

    def param_shapes(self) -> dict:
        return {"start": (self.size,)}

    def initialize(self, rng, weights) -> None:
        weights["start"][...] = 0.0


class EncoderDecoder(Network):
    """LSTM encoder, LSTM decoder, time-distributed dense output.

    Parameters
    ----------
    n_inputs : int
        Features per input step.
    encoder_sizes : tuple of int
        Hidden units of the stacked encoder layers.
    decoder_size : int
    n_outputs : int
        Outputs per decoder step (values, or logits of the classes).
    n_steps_out : int
        Decoder steps.
    decoder : {'repeat', 'teacher_forcing'}
        'repeat' feeds the encoder's final hidden state to every decoder step
        (Keras' RepeatVector); the decoder starts from a zero state.
        'teacher_forcing' starts the decoder from the encoder's final state
        (so ``decoder_size`` must equal the last encoder size) and feeds it
        the previous target while training, its own previous prediction when
        generating (``targets=None``), and a learned start input
        ``decoder.start`` at the first step.
    feedback : {'values', 'classes'}
        What a teacher-forced decoder is fed: the previous values, or the
        one-hot code of the previous class among ``n_classes``.
    n_classes : int
        For ``feedback='classes'``.
    dropout : float
        Dropout on the decoder's outputs while training.
    dtype, backend, random_state, input_grad
        As :class:`Network` (the first encoder layer reads the input).
    cell : dict, optional
        The cell variant of every LSTM layer (``peephole``,
        ``coupled_gates``: keywords of :class:`LSTM`).

    Weights: ``encoder.{k}.W_ih/W_hh/b``, ``decoder.0.W_ih/W_hh/b``,
    ``decoder.start`` (teacher forcing only), ``dense.W``, ``dense.b``.

    Examples
    --------
    >>> import numpy as np
    >>> from numlstm.nn import EncoderDecoder
    >>> net = EncoderDecoder(3, (8,), 8, 2, n_steps_out=4, dtype="float64",
    ...                      random_state=0)
    >>> net.forward(np.ones((5, 6, 3))).shape
    (5, 4, 2)
    """

    def __init__(self, n_inputs, encoder_sizes, decoder_size, n_outputs,
                 n_steps_out, decoder="repeat", feedback="values", n_classes=0,
                 dropout=0.0, dtype="float32", backend="auto",
                 random_state=None, input_grad: bool = False,
                 cell=None) -> None:
        if decoder not in DECODERS:
            raise ValueError(f"decoder must be one of {DECODERS}, got {decoder!r}")
        encoder_sizes = tuple(encoder_sizes)
        if decoder == "teacher_forcing" and decoder_size != encoder_sizes[-1]:
            raise ValueError(
                "teacher_forcing starts the decoder from the encoder's final "
                f"state: decoder_units ({decoder_size}) must equal the last "
                f"encoder_units ({encoder_sizes[-1]}).")
        self.mode, self.feedback = decoder, feedback
        self.n_classes, self.n_steps_out = int(n_classes), int(n_steps_out)
        cell = cell or {}
        self.encoder, width = [], n_inputs
        for k, size in enumerate(encoder_sizes):
            self.encoder.append(LSTM(width, size,
                                     return_sequences=k < len(encoder_sizes) - 1,
                                     **cell))
            width = self.encoder[-1].output_size
        if decoder == "repeat":
            self.feedback_size = 0
            dec_in = width
        else:
            self.feedback_size = self.n_classes if feedback == "classes" \
                else n_outputs
            dec_in = self.feedback_size
        self.decoder = LSTM(dec_in, decoder_size, return_sequences=True, **cell)
        self.dropout = Dropout(dropout) if dropout > 0 else None
        self.dense = Dense(self.decoder.output_size, n_outputs)
        named = [(f"encoder.{k}", layer) for k, layer in enumerate(self.encoder)]
        named.append(("decoder.0", self.decoder))
        if decoder == "teacher_forcing":
            self.start = StartInput(dec_in)
            named.append(("decoder", self.start))
        if self.dropout is not None:
            named.append(("dropout", self.dropout))
        named.append(("dense", self.dense))
        super().__init__(named, dtype, backend, random_state, input_grad)

    def output_lengths(self, lengths, outputs):
        return self.full_lengths(outputs.shape[0], outputs.shape[1])

    def host_output_lengths(self, lengths, shape):
        return np.full(shape[0], shape[1], dtype=np.int64)

    @property
    def _feedback_classes(self) -> int:
        """Classes of one-hot feedback; 0 when values are fed back."""
        return self.n_classes if self.feedback == "classes" else 0

    def forward(self, X, lengths=None, training: bool = False, targets=None):
        """Outputs ``(B, n_steps_out, n_outputs)``.

        With teacher forcing, ``targets`` (as given to the loss) are fed to
        the decoder; without them the decoder feeds itself its predictions.
        """
        X, lengths = self.prepare_input(X, lengths)
        be, buffers = self.backend, self.buffers
        h = X
        for layer in self.encoder:
            h = layer.forward(h, lengths, training)
        B, T = X.shape[0], self.n_steps_out
        full = self.full_lengths(B, T)
        last = self.encoder[-1]
        if self.mode == "repeat":
            width = h.shape[1]  # h is the encoder's last state, (B, H)
            repeated = buffers.get("repeated", (B, T, width), self.dtype)
            be.broadcast(h.reshape(B, 1, width), repeated)
            H = self.decoder.forward(repeated, full, training)
        elif targets is not None:
            inputs = buffers.get("teacher", (B, T, self.feedback_size),
                                 self.dtype)
            targets = be.asarray(targets, targets.dtype)
            be.teacher_inputs(self.start.weights["start"], targets,
                              self._feedback_classes, inputs)
            H = self.decoder.forward(inputs, full, training, h0=last.h_n,
                                     c0=last.c_n)
        else:
            return self._generate(last.h_n, last.c_n)
        if self.dropout is not None:
            H = self.dropout.forward(H, full, training)
        return self.dense.forward(H, full, training)

    def backward(self, dY):
        dH = self.dense.backward(dY)
        if self.dropout is not None:
            dH = self.dropout.backward(dH)
        d_in = self.decoder.backward(dH)
        be = self.backend
        if self.mode == "repeat":
            d_h = self.buffers.get("d_h", (d_in.shape[0], d_in.shape[2]),
                                   d_in.dtype)
            be.sum_steps(d_in, d_h)
            dX = self.encoder[-1].backward(d_h)
        else:
            be.sum_rows(d_in[:, 0, :], self.start.grads["start"])
            dX = self.encoder[-1].backward(self.decoder.dh0,
                                           dc_n=self.decoder.dc0)
        for layer in reversed(self.encoder[:-1]):
            dX = layer.backward(dX)
        return dX

    def _generate(self, h0, c0):
        """Decode step by step from the encoder's state, feeding each step's
        prediction to the next: ``(B, n_steps_out, n_outputs)``."""
        be, buffers = self.backend, self.buffers
        B, T = h0.shape[0], self.n_steps_out
        one = self.full_lengths(B, 1)
        x = buffers.get("x", (B, 1, self.feedback_size), self.dtype)
        be.broadcast(self.start.weights["start"], x)
        h, c = (buffers.get(name, (B, width), self.dtype) for name, width in
                zip(("h", "c"), self.decoder.state_widths, strict=True))
        be.copy(h0, h)
        be.copy(c0, c)
        outs = be.empty((B, T, self.dense.output_size), self.dtype)
        for t in range(T):
            H_t = self.decoder.forward(x, one, False, h0=h, c0=c)
            be.copy(self.decoder.h_n, h)
            be.copy(self.decoder.c_n, c)
            out = self.dense.forward(H_t, one, False)
            be.copy(out[:, 0], outs[:, t])
            be.feedback(out, self._feedback_classes, x)
        return outs
