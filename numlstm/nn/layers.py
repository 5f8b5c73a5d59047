"""Layers: parameter holders whose forward and backward call the backend.

A layer declares the shapes of its weights (:meth:`param_shapes`), receives
views into the network's flat weight and gradient vectors (:meth:`bind`),
and keeps what its backward pass needs from the last forward pass. Layers
know nothing of scikit-learn, and reach kernels only through the backend
object they are given.

Data flowing between layers is batch-first: ``(B, T, F)`` for sequences,
``(B, F)`` otherwise; ``lengths (B,)`` gives each sequence's real steps.
"""

from __future__ import annotations

import numpy as np

from ._workspace import Workspace
from .init import glorot_uniform, orthogonal


class Layer:
    """Base class: a layer with no weights."""

    #: prefix of the canonical weight names (``lstm.0.W_ih``, ``dense.W``)
    kind = "layer"
    #: whether names always carry an index (``lstm.0``) or only when there
    #: are several layers of this kind (``dense`` vs ``dense.0``)
    always_indexed = False
    #: whether ``backward`` must return the gradient with respect to the
    #: input; a network turns it off for the layers that read its data
    #: (nothing uses that gradient), which LSTM layers then skip computing
    input_grad = True

    def param_shapes(self) -> dict:
        return {}

    def bind(self, backend, weights: dict, grads: dict) -> None:
        """Receive the backend and this layer's weight and gradient views."""
        self.backend = backend
        self.weights = weights
        self.grads = grads
        self.buffers = Workspace(backend)

    def initialize(self, rng: np.random.Generator, weights: dict) -> None:
        """Draw this layer's initial weights from ``rng`` into ``weights``,
        host arrays of the shapes of :meth:`param_shapes` (the network then
        moves them to the backend in one copy)."""

    #: whether the layer carries a recurrent state from step to step, which
    #: :meth:`Sequential.forward_stateful` can start from and hands back
    carries_state = False

    def forward(self, X, lengths, training: bool = False):
        raise NotImplementedError

    def backward(self, dY):
        raise NotImplementedError


#: the layer-norm weights of an LSTM layer, in the order of the kernels'
#: ``ln`` tuple
LN_WEIGHTS = ("ln_ih.gamma", "ln_hh.gamma", "ln_c.gamma", "ln_c.beta")

#: the combination of cell variants the kernels do not run
ZONEOUT_WITH_PEEPHOLE = (
    "zoneout is not supported with peephole=True: the output gate's "
    "peephole sees the cell before zoneout, which the kernels do not keep; "
    "use one of them.")


def check_cell(hidden_size, peephole, coupled_gates, zoneout, proj_size,
               layer_norm) -> None:
    """Refuse, with the reason, a combination of cell variants the kernels
    do not run."""
    if zoneout > 0 and peephole:
        raise ValueError(ZONEOUT_WITH_PEEPHOLE)
    if not proj_size and not layer_norm:
        return
    if not 0 <= proj_size < hidden_size:
        raise ValueError(f"proj_size must be smaller than the hidden size "
                         f"({hidden_size}), as in PyTorch, got {proj_size}")
    names = [name for name, on in (("peephole=True", peephole),
                                   ("coupled_gates=True", coupled_gates),
                                   (f"zoneout={zoneout}", zoneout > 0)) if on]
    if names:
        these = " and ".join(n for n, on in (("proj_size", proj_size),
                                             ("layer_norm", layer_norm)) if on)
        raise ValueError(
            f"{these} cannot be combined with {', '.join(names)}: the "
            "projection and layer-norm cells run the plain gates (they "
            "combine with each other and with recurrent_dropout)")


class LSTM(Layer):
    """One LSTM layer (PyTorch gate layout i, f, g, o).

    Parameters
    ----------
    input_size, hidden_size : int
    return_sequences : bool
        True: output every step's hidden state ``(B, T, H)``; False: the
        state after each sequence's last real step ``(B, H)``.
    peephole : bool
        Peephole connections (Gers & Schmidhuber 2000): gates i and f see
        ``c_{t-1}``, gate o sees ``c_t``, each through a diagonal weight.
    coupled_gates : bool
        Coupled input and forget gates (CIFG, Greff et al. 2017): ``f = 1 -
        i``, three gate blocks i, g, o.
    recurrent_dropout : float
        Variational dropout of ``h_{t-1}`` in the recurrent product while
        training (Gal & Ghahramani 2016, Keras' ``recurrent_dropout``): one
        mask per sequence for all steps of a forward pass, scaled by ``1 /
        (1 - rate)``, drawn from ``rng`` (seeded by :class:`Sequential`).
    zoneout : float
        Zoneout (Krueger et al. 2017): while training each unit keeps its
        previous ``c`` and ``h`` at each step with this probability (one
        draw per unit and step, from ``rng``); otherwise every unit keeps
        this share of them, the expectation. Not with peepholes.
    proj_size : int
        A projection of the hidden state to this many units (LSTMP, Sak et
        al. 2014; PyTorch's ``proj_size``): ``h_t = W_hr (o * tanh(c_t))``,
        so the layer outputs ``proj_size`` features and ``W_hh`` is ``(4H,
        P)``; 0 for none. Smaller than ``hidden_size``.
    layer_norm : bool
        Layer normalisation (Ba et al. 2016, as haste's LayerNormLSTM) of
        ``x_t W_ih^T`` and of ``h_{t-1} W_hh^T`` apart, each with a gain
        per gate column, before the bias; and of ``c_t`` before its tanh,
        with a gain and a bias per unit.

    Neither of the last two combines with peepholes, coupled gates or
    zoneout.

    Weights: ``W_ih (4H, D)`` Glorot-uniform, ``W_hh (4H, H)`` orthogonal,
    ``b (4H,)`` zero except the forget-gate block, which is 1. With coupled
    gates each has 3H rows (blocks i, g, o) and the input gate's bias is
    -1 instead (so ``f`` starts near ``sigmoid(1)`` as well). With
    peepholes, ``w_peep (3H,)`` in the order i, f, o (``(2H,)``, i and o,
    with coupled gates), zero at first. With a projection, ``W_hr (P,
    H)`` Glorot-uniform (and ``W_hh`` of P columns); with layer norm
    ``ln_ih.gamma (4H,)``, ``ln_hh.gamma (4H,)``, ``ln_c.gamma (H,)`` (all
    1 at first) and ``ln_c.beta (H,)`` (0).

    Examples
    --------
    >>> import numpy as np
    >>> from numlstm.nn import LSTM, Sequential
    >>> net = Sequential([LSTM(3, 4, return_sequences=True)], dtype="float64",
    ...                  random_state=0)
    >>> net.forward(np.ones((2, 5, 3))).shape
    (2, 5, 4)
    """

    kind = "lstm"
    always_indexed = True

    def __init__(self, input_size: int, hidden_size: int,
                 return_sequences: bool = False, peephole: bool = False,
                 coupled_gates: bool = False,
                 recurrent_dropout: float = 0.0, zoneout: float = 0.0,
                 proj_size: int = 0, layer_norm: bool = False) -> None:
        for name, rate in (("recurrent_dropout", recurrent_dropout),
                           ("zoneout", zoneout)):
            if not 0.0 <= rate < 1.0:
                raise ValueError(f"{name} must be in [0, 1), got {rate!r}")
        check_cell(int(hidden_size), peephole, coupled_gates, zoneout,
                   int(proj_size), layer_norm)
        self.proj_size = int(proj_size)
        self.layer_norm = bool(layer_norm)
        self.recurrent_dropout = float(recurrent_dropout)
        self.zoneout = float(zoneout)
        if self.recurrent_dropout > 0 or self.zoneout > 0:
            # only then: Sequential seeds the layers that have one
            self.rng = np.random.default_rng()
        self.input_size = int(input_size)
        self.hidden_size = int(hidden_size)
        #: the width of ``h``: the layer's output, and its state's first half
        self.output_size = self.proj_size or self.hidden_size
        #: the widths of the state ``(h, c)``
        self.state_widths = (self.output_size, self.hidden_size)
        self.return_sequences = bool(return_sequences)
        self.peephole = bool(peephole)
        self.coupled_gates = bool(coupled_gates)
        self.n_gates = 3 if self.coupled_gates else 4
        self._shape = None

    def param_shapes(self) -> dict:
        D, H, P = self.input_size, self.hidden_size, self.output_size
        G = self.n_gates * H
        shapes = {"W_ih": (G, D), "W_hh": (G, P), "b": (G,)}
        if self.peephole:
            shapes["w_peep"] = (G - H,)
        if self.proj_size:
            shapes["W_hr"] = (P, H)
        if self.layer_norm:
            shapes.update({name: (n,) for name, n in zip(
                LN_WEIGHTS, (G, G, H, H), strict=True)})
        return shapes

    def bind(self, backend, weights: dict, grads: dict) -> None:
        super().bind(backend, weights, grads)
        # asked now, when the network is built, so that a backend refuses a
        # layer it cannot run before any kernel does (see the contract)
        backend.lstm_gate_grad_width(self.hidden_size, weights["W_ih"].dtype,
                                     self.n_gates)
        backend.lstm_aux_width(self.hidden_size, self.proj_size,
                               self.layer_norm, weights["W_ih"].dtype)

    def initialize(self, rng, weights):
        D, H, P = self.input_size, self.hidden_size, self.output_size
        G = self.n_gates * H
        weights["W_ih"][...] = glorot_uniform(rng, G, D)
        weights["W_hh"][...] = orthogonal(rng, G, P, weights["W_hh"].dtype)
        weights["b"][...] = 0.0
        if self.coupled_gates:
            weights["b"][:H] = -1.0
        else:
            weights["b"][H:2 * H] = 1.0
        if self.peephole:
            weights["w_peep"][...] = 0.0
        if self.proj_size:
            weights["W_hr"][...] = glorot_uniform(rng, P, H)
        if self.layer_norm:
            for name in LN_WEIGHTS:
                weights[name][...] = 0.0 if name.endswith("beta") else 1.0

    def _workspace(self, B, T, dtype):
        """(Re)allocate the buffers for a batch shape; reused across calls."""
        if self._shape == (B, T, dtype):
            return
        be, D, H = self.backend, self.input_size, self.hidden_size
        P = self.output_size
        self.H_out = be.empty((B, T, P), dtype)
        self.h_n = be.empty((B, P), dtype)
        self.c_n = be.empty((B, H), dtype)
        # the backward turns the gates into their gradients in place (no
        # second array of this, the largest, size), in rows as wide as the
        # backend wants them
        width = be.lstm_gate_grad_width(H, dtype, self.n_gates)
        self.gates = be.empty((B, T, width), dtype)
        self.cells = be.empty((B, T, H), dtype)
        self.h_prev = be.empty((B, T, P), dtype)
        aux = be.lstm_aux_width(H, self.proj_size, self.layer_norm, dtype)
        self.aux = be.empty((B, T, aux), dtype) if aux else None
        self.rec = be.empty((B, self.n_gates * H), dtype)
        self.dX = be.empty((B, T, D), dtype)
        self.dh0 = be.empty((B, P), dtype)
        self.dc0 = be.empty((B, H), dtype)
        self.dh_sum = be.empty((B, P), dtype)
        self.zero_state = be.zeros((B, H), dtype)
        self.zero_h = self.zero_state if P == H else be.zeros((B, P), dtype)
        self.zero_seq = be.zeros((B, T, P), dtype)
        self._shape = (B, T, dtype)

    carries_state = True

    def forward(self, X, lengths, training=False, h0=None, c0=None):
        """Run the layer; ``h0``/``c0`` default to zeros."""
        B, T, D = X.shape
        if D != self.input_size:
            raise ValueError(f"LSTM layer takes {self.input_size} features per "
                             f"step, got X of shape {X.shape}")
        for name, state, width in zip(("h0", "c0"), (h0, c0),
                                      self.state_widths, strict=True):
            if state is not None and state.shape != (B, width):
                raise ValueError(f"{name} must have shape {(B, width)}"
                                 f" for X of shape {X.shape}, got {state.shape}")
        self._workspace(B, T, X.dtype)
        self.X, self.lengths = X, lengths
        self.h_mask = self._draw_mask(B, X.dtype) if training else None
        self.zone = self._zone(B, T, X.dtype, training)
        self.c0 = self.zero_state if c0 is None else c0
        h0 = self.zero_h if h0 is None else h0
        w = self.weights
        self.backend.lstm_forward(X, w["W_ih"], w["W_hh"], w["b"], h0, self.c0,
                                  lengths, self.H_out, self.h_n, self.c_n,
                                  self.gates, self.cells, self.h_prev, self.rec,
                                  **self._peep(w))
        return self.H_out if self.return_sequences else self.h_n

    def _draw_mask(self, B, dtype):
        """A recurrent dropout mask ``(B, H)`` for a training pass, or None.
        Drawn on the host, so that every backend drops the same units for
        the same seed."""
        rate = self.recurrent_dropout
        if rate == 0:
            return None
        keep = self.rng.random((B, self.output_size)) >= rate
        mask = self.buffers.get("h_mask", keep.shape, dtype)
        self.backend.upload(keep.astype(dtype) / dtype.type(1.0 - rate), mask)
        return mask

    def _zone(self, B, T, dtype, training):
        """The zoneout weights ``(B, T, H)`` of a pass, or None: while
        training 1 (keep) with probability ``zoneout``, drawn on the host
        as the dropout masks; otherwise ``zoneout`` everywhere."""
        rate = self.zoneout
        if rate == 0:
            return None
        zone = self.buffers.get("zone", (B, T, self.hidden_size), dtype)
        if training:
            keep = self.rng.random(zone.shape) < rate
            self.backend.upload(keep.astype(dtype), zone)
        else:
            self.backend.fill(zone, rate)
        return zone

    def _peep(self, weights, grads=None):
        """The variant keywords of the kernel calls: none for the plain cell
        without recurrent dropout or zoneout, so that a backend written
        before them still runs it."""
        kw = {} if self.h_mask is None else {"h_mask": self.h_mask}
        if self.zone is not None:
            kw["zone"] = self.zone
        if self.proj_size:
            kw["W_hr"] = weights["W_hr"]
            if grads is not None:
                kw["dW_hr"] = grads["W_hr"]
        if self.layer_norm:
            kw["ln"] = tuple(weights[name] for name in LN_WEIGHTS)
            if grads is not None:
                kw["dln"] = tuple(grads[name] for name in LN_WEIGHTS)
        if self.aux is not None:
            kw["aux"] = self.aux
        if not self.peephole:
            return kw
        kw["peep"] = weights["w_peep"]
        if grads is not None:
            kw["dpeep"] = grads["w_peep"]
        return kw

    def final_state(self):
        """``(h_n, c_n)`` of the last forward: each sequence's state after
        its last real step (buffers, overwritten by the next forward)."""
        return self.h_n, self.c_n

    def backward(self, dY, dh_n=None, dc_n=None):
        """Gradient w.r.t. the input (None when :attr:`input_grad` is
        False); also leaves ``dh0`` and ``dc0``.

        Consumes the gates cached by :meth:`forward` (their gradients take
        their place): each backward needs a forward of its own.
        """
        expected = (self.H_out if self.return_sequences else self.h_n).shape
        if dY.shape != expected:
            raise ValueError(f"LSTM backward needs a gradient of shape "
                             f"{expected} (the last forward's output), got "
                             f"{dY.shape}")
        for name, state, want in (("dh_n", dh_n, self.h_n.shape),
                                  ("dc_n", dc_n, self.c_n.shape)):
            if state is not None and state.shape != want:
                raise ValueError(f"{name} must have shape {want}, "
                                 f"got {state.shape}")
        if self.return_sequences:
            dH_out = dY
            dh_n = self.zero_h if dh_n is None else dh_n
        else:
            dH_out = self.zero_seq
            if dh_n is None:
                dh_n = dY
            else:
                self.backend.add(dY, dh_n, self.dh_sum)
                dh_n = self.dh_sum
        dc_n = self.zero_state if dc_n is None else dc_n
        w, g = self.weights, self.grads
        self.backend.lstm_backward(
            self.X, w["W_ih"], w["W_hh"], self.c0, self.lengths, self.gates,
            self.cells, self.h_prev, dH_out, dh_n, dc_n, self.dX, g["W_ih"],
            g["W_hh"], g["b"], self.dh0, self.dc0, self.gates, self.input_grad,
            **self._peep(w, g))
        return self.dX if self.input_grad else None


class Dense(Layer):
    """Fully connected layer ``Y = X W^T + b``, time-distributed on 3-D input.

    Weights: ``W (n_outputs, n_inputs)`` Glorot-uniform, ``b`` zero.

    Examples
    --------
    >>> import numpy as np
    >>> from numlstm.nn import Dense, Sequential
    >>> net = Sequential([Dense(3, 2)], dtype="float64", random_state=0)
    >>> net.forward(np.ones((4, 3))).shape
    (4, 2)
    """

    kind = "dense"

    def __init__(self, input_size: int, output_size: int) -> None:
        self.input_size = int(input_size)
        self.output_size = int(output_size)

    def param_shapes(self) -> dict:
        return {"W": (self.output_size, self.input_size),
                "b": (self.output_size,)}

    def initialize(self, rng, weights):
        weights["W"][...] = glorot_uniform(rng, self.output_size,
                                           self.input_size)
        weights["b"][...] = 0.0

    def forward(self, X, lengths, training=False):
        # a positive index: the CUDA simulator's array shapes refuse -1
        if X.shape[X.ndim - 1] != self.input_size:
            raise ValueError(f"Dense layer takes {self.input_size} inputs, got "
                             f"X of shape {X.shape}")
        lead = X.shape[:-1]
        X2 = X.reshape(-1, self.input_size)
        out = self.buffers.get("out", (X2.shape[0], self.output_size), X.dtype)
        self.backend.dense_forward(X2, self.weights["W"], self.weights["b"], out)
        self.X2, self.lead = X2, lead
        return out.reshape(*lead, self.output_size)

    def backward(self, dY):
        if dY.shape != (*self.lead, self.output_size):
            raise ValueError(f"Dense backward needs a gradient of shape "
                             f"{(*self.lead, self.output_size)}, got {dY.shape}")
        dY2 = dY.reshape(-1, self.output_size)
        dX = self.buffers.get("dX", self.X2.shape, dY2.dtype)
        self.backend.dense_backward(self.X2, self.weights["W"], dY2, dX,
                                    self.grads["W"], self.grads["b"])
        return dX.reshape(*self.lead, self.input_size)


class Dropout(Layer):
    """Inverted dropout: zero each value with probability ``rate`` while
    training and scale the rest by ``1 / (1 - rate)``; identity otherwise.

    The masks come from ``rng``, which :class:`Sequential` seeds from its
    ``random_state``, so training stays reproducible.
    """

    kind = "dropout"

    def __init__(self, rate: float) -> None:
        if not 0.0 <= rate < 1.0:
            raise ValueError(f"dropout rate must be in [0, 1), got {rate!r}")
        self.rate = float(rate)
        self.rng = np.random.default_rng()

    def forward(self, X, lengths, training=False):
        if not training or self.rate == 0.0:
            self.mask = None
            return X
        # drawn on the host, so that every backend drops the same values
        # for the same seed
        keep = self.rng.random(X.shape) >= self.rate
        be, buffers = self.backend, self.buffers
        self.mask = buffers.get("mask", X.shape, X.dtype)
        be.upload(keep.astype(X.dtype) / X.dtype.type(1.0 - self.rate),
                  self.mask)
        out = buffers.get("out", X.shape, X.dtype)
        be.mul(X, self.mask, out)
        return out

    def backward(self, dY):
        if self.mask is None:
            return dY
        dX = self.buffers.get("dX", dY.shape, dY.dtype)
        self.backend.mul(dY, self.mask, dX)
        return dX
