"""Bidirectional LSTM layer (Keras ``Bidirectional(LSTM)`` semantics)."""

from __future__ import annotations

import numpy as np

from .layers import LSTM, Layer

MERGE_MODES = ("concat", "sum", "mul", "ave")


def reversal_index(lengths, n_steps: int):
    """``(B, T)`` index reversing each sequence within its own length.

    Step ``t < L_b`` maps to ``L_b - 1 - t``; padded steps map to themselves,
    so padding stays at the end. The map is its own inverse.
    """
    t = np.arange(n_steps)[None, :]
    L = np.asarray(lengths)[:, None]
    return np.where(t < L, L - 1 - t, t)


def reverse_steps(values, index):
    """Gather ``values (B, T, F)`` along time by ``index (B, T)``."""
    return np.ascontiguousarray(np.take_along_axis(values, index[:, :, None],
                                                   axis=1))


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
                 return_sequences: bool = False) -> None:
        if merge_mode not in MERGE_MODES:
            raise ValueError(f"merge_mode must be one of {MERGE_MODES}, got "
                             f"{merge_mode!r}")
        self.merge_mode = merge_mode
        self.return_sequences = bool(return_sequences)
        self.input_size = int(input_size)
        self.hidden_size = int(hidden_size)
        self.output_size = (2 if merge_mode == "concat" else 1) * self.hidden_size
        self.directions = {"forward": LSTM(input_size, hidden_size, True),
                           "backward": LSTM(input_size, hidden_size, True)}

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

    def initialize(self, rng) -> None:
        for lstm in self.directions.values():
            lstm.initialize(rng)

    def forward(self, X, lengths, training=False):
        fw, bw = self.directions["forward"], self.directions["backward"]
        self.index = reversal_index(lengths, X.shape[1])
        H_f = fw.forward(X, lengths, training)
        H_b_rev = bw.forward(reverse_steps(X, self.index), lengths, training)
        if self.return_sequences:
            self.a, self.b = H_f, reverse_steps(H_b_rev, self.index)
        else:
            self.a, self.b = fw.h_n, bw.h_n
        return self._merge(self.a, self.b)

    def _merge(self, a, b):
        if self.merge_mode == "concat":
            return np.concatenate([a, b], axis=-1)
        if self.merge_mode == "sum":
            return a + b
        if self.merge_mode == "mul":
            return a * b
        return 0.5 * (a + b)

    def _unmerge(self, dY):
        H = self.hidden_size
        if self.merge_mode == "concat":
            return (np.ascontiguousarray(dY[..., :H]),
                    np.ascontiguousarray(dY[..., H:]))
        if self.merge_mode == "sum":
            return dY, dY
        if self.merge_mode == "mul":
            return dY * self.b, dY * self.a
        return 0.5 * dY, 0.5 * dY

    def backward(self, dY):
        fw, bw = self.directions["forward"], self.directions["backward"]
        fw.input_grad = bw.input_grad = self.input_grad
        da, db = self._unmerge(dY)
        if self.return_sequences:
            dX_f = fw.backward(da)
            dX_b = bw.backward(reverse_steps(db, self.index))
        else:
            dX_f = fw.backward(fw.zero_seq, dh_n=da)
            dX_b = bw.backward(bw.zero_seq, dh_n=db)
        if not self.input_grad:
            return None
        return dX_f + reverse_steps(dX_b, self.index)
