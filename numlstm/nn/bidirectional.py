"""Bidirectional LSTM layer (Keras ``Bidirectional(LSTM)`` semantics)."""

from __future__ import annotations

from .layers import LSTM, Layer

MERGE_MODES = ("concat", "sum", "mul", "ave")


class BidirectionalLSTM(Layer):
    """A forward and a backward LSTM over the same input, outputs merged.

    The backward LSTM reads each sequence from its own last real step to its
    first (ragged sequences are reversed within their length, not the
    padding). With ``return_sequences=False`` the output merges the forward
    state after the last real step with the backward state after the first
    step, as Keras does.

    Parameters
    ----------
    input_size, hidden_size : int
    merge_mode : {'concat', 'sum', 'mul', 'ave'}
        ``concat`` gives ``2 * hidden_size`` features, the others
        ``hidden_size``.
    return_sequences : bool
    **cell
        The cell variant of both directions (``peephole``,
        ``coupled_gates``: keywords of :class:`LSTM`).

    Weights: ``forward.W_ih``, ``forward.W_hh``, ``forward.b`` and the same
    under ``backward.``, each as :class:`LSTM`'s.

    Examples
    --------
    >>> import numpy as np
    >>> from numlstm.nn import BidirectionalLSTM, Sequential
    >>> net = Sequential([BidirectionalLSTM(3, 4, "concat", True)],
    ...                  dtype="float64", random_state=0)
    >>> net.forward(np.ones((2, 5, 3))).shape
    (2, 5, 8)
    >>> list(net.get_weights())[:2]
    ['lstm.0.forward.W_ih', 'lstm.0.forward.W_hh']
    """

    kind = "lstm"
    always_indexed = True

    def __init__(self, input_size: int, hidden_size: int,
                 merge_mode: str = "concat",
                 return_sequences: bool = False, **cell) -> None:
        if merge_mode not in MERGE_MODES:
            raise ValueError(f"merge_mode must be one of {MERGE_MODES}, got "
                             f"{merge_mode!r}")
        self.merge_mode = merge_mode
        self.return_sequences = bool(return_sequences)
        self.input_size = int(input_size)
        self.hidden_size = int(hidden_size)
        self.directions = {"forward": LSTM(input_size, hidden_size, True, **cell),
                           "backward": LSTM(input_size, hidden_size, True,
                                            **cell)}
        #: the widths of each direction's state ``(h, c)``
        self.state_widths = self.directions["forward"].state_widths
        self.output_size = ((2 if merge_mode == "concat" else 1)
                            * self.state_widths[0])
        if hasattr(self.directions["forward"], "rng"):
            # recurrent dropout: Sequential seeds this, forward hands it on
            self.rng = self.directions["forward"].rng

    def param_shapes(self) -> dict:
        return {f"{d}.{name}": shape for d, lstm in self.directions.items()
                for name, shape in lstm.param_shapes().items()}

    def bind(self, backend, weights, grads) -> None:
        super().bind(backend, weights, grads)
        for d, lstm in self.directions.items():
            n = len(d) + 1
            lstm.bind(backend,
                      {k[n:]: v for k, v in weights.items() if k.startswith(d)},
                      {k[n:]: v for k, v in grads.items() if k.startswith(d)})

    def initialize(self, rng, weights) -> None:
        for d, lstm in self.directions.items():
            n = len(d) + 1
            lstm.initialize(rng, {k[n:]: v for k, v in weights.items()
                                  if k.startswith(d)})

    carries_state = True

    def forward(self, X, lengths, training=False, h0=None, c0=None):
        """Run both directions. A given ``h0``/``c0`` is refused: the
        backward direction reads each sequence from its end, so no state of
        an earlier chunk can continue it."""
        if h0 is not None or c0 is not None:
            raise ValueError("a bidirectional LSTM layer starts from zeros: "
                             "its backward direction reads each sequence "
                             "from its end, so no earlier state continues it")
        fw, bw = self.directions["forward"], self.directions["backward"]
        be, buffers = self.backend, self.buffers
        if hasattr(self, "rng"):
            fw.rng = bw.rng = self.rng
        self.lengths = lengths
        X_rev = buffers.get("X_rev", X.shape, X.dtype)
        be.reverse_steps(X, lengths, X_rev)
        H_f = fw.forward(X, lengths, training)
        H_b_rev = bw.forward(X_rev, lengths, training)
        if self.return_sequences:
            H_b = buffers.get("H_b", H_b_rev.shape, X.dtype)
            be.reverse_steps(H_b_rev, lengths, H_b)
            self.a, self.b = H_f, H_b
        else:
            self.a, self.b = fw.h_n, bw.h_n
        shape = (*self.a.shape[:-1], self.output_size)
        out = buffers.get("out", shape, X.dtype)
        be.merge(self.a, self.b, self.merge_mode, out)
        return out

    def final_state(self):
        """``((h, c) forward, (h, c) backward)`` of the last forward: the
        forward direction after each sequence's last real step, the
        backward one after its first."""
        return (self.directions["forward"].final_state(),
                self.directions["backward"].final_state())

    def backward(self, dY):
        fw, bw = self.directions["forward"], self.directions["backward"]
        be, buffers = self.backend, self.buffers
        fw.input_grad = bw.input_grad = self.input_grad
        da = buffers.get("da", self.a.shape, dY.dtype)
        db = buffers.get("db", self.b.shape, dY.dtype)
        be.unmerge(dY, self.a, self.b, self.merge_mode, da, db)
        if self.return_sequences:
            dX_f = fw.backward(da)
            db_rev = buffers.get("db_rev", db.shape, dY.dtype)
            be.reverse_steps(db, self.lengths, db_rev)
            dX_b = bw.backward(db_rev)
        else:
            dX_f = fw.backward(fw.zero_seq, dh_n=da)
            dX_b = bw.backward(bw.zero_seq, dh_n=db)
        if not self.input_grad:
            return None
        dX = buffers.get("dX", dX_f.shape, dY.dtype)
        be.reverse_steps(dX_b, self.lengths, dX)
        be.add(dX_f, dX, dX)
        return dX
