"""Networks over one flat parameter vector: the shared base and Sequential."""

from __future__ import annotations

import threading
from collections import Counter

import numpy as np

from ..backends import resolve
from ._workspace import Workspace
from .bidirectional import BidirectionalLSTM
from .layers import Layer
from .parameters import FlatParameters


class Network:
    """Named layers sharing one flat weight vector (the base of every network).

    Binds each layer to its views of ``params.theta`` and ``params.grad``
    under the canonical names ``{prefix}.{name}``, seeds the initial weights,
    and checks lengths and weights. Subclasses define ``forward`` and
    ``backward``.

    Parameters
    ----------
    named_layers : list of (str, Layer)
        Each layer with the prefix of its weight names, in layout order.
    dtype : {'float32', 'float64'}
    backend : str or backend object
        Passed to :func:`numlstm.backends.resolve` when a string.
    random_state : int, numpy SeedSequence or None
        Seeds the initial weights and the dropout masks; the same seed gives
        the same numbers.
    input_grad : bool, default False
        Whether ``backward`` computes and returns the gradient with respect
        to the input ``X``. Training does not need it; without it the first
        layer (which reads ``X``) skips that work (an LSTM layer: ``D`` of
        the ``D + H`` columns of each backward step's product) and
        ``backward`` returns None.
    """

    def __init__(self, named_layers, dtype="float32", backend="auto",
                 random_state=None, input_grad: bool = False) -> None:
        self.prefixes = [prefix for prefix, _ in named_layers]
        self.layers = [layer for _, layer in named_layers]
        self.layers[0].input_grad = bool(input_grad)
        self.dtype = np.dtype(dtype)
        if self.dtype not in (np.float32, np.float64):
            raise ValueError(f"dtype must be float32 or float64, got {dtype!r}")
        self.backend = resolve(backend) if isinstance(backend, str) else backend
        shapes = {}
        for prefix, layer in named_layers:
            for name, shape in layer.param_shapes().items():
                shapes[f"{prefix}.{name}"] = shape
        self.params = FlatParameters(shapes, self.dtype, self.backend)
        #: buffers of the network's own (row weights, lengths, states)
        self.buffers = Workspace(self.backend)
        for prefix, layer in named_layers:
            names = layer.param_shapes()
            layer.bind(self.backend,
                       {n: self.params.views[f"{prefix}.{n}"] for n in names},
                       {n: self.params.grad_views[f"{prefix}.{n}"] for n in names})
        self.initialize(random_state)

    def initialize(self, random_state=None) -> None:
        """Draw every layer's initial weights from one seed, in layer order.

        Layers that draw noise while training (dropout) get their own stream
        spawned from the same seed.
        """
        seq = random_state if isinstance(random_state, np.random.SeedSequence) \
            else np.random.SeedSequence(random_state)
        init_seq, noise_seq = seq.spawn(2)
        rng = np.random.default_rng(init_seq)
        host = np.zeros(self.params.size, self.dtype)
        views = self.params.host_views(host)
        for prefix, layer in zip(self.prefixes, self.layers, strict=True):
            layer.initialize(rng, {n: views[f"{prefix}.{n}"]
                                   for n in layer.param_shapes()})
        self.backend.upload(host, self.params.theta)
        noise = np.random.default_rng(noise_seq)
        for layer in self.layers:
            if hasattr(layer, "rng"):
                layer.rng = noise

    def output_lengths(self, lengths, outputs):
        """Real steps of each sequence of per-step ``outputs`` (for the loss
        mask), a backend array: by default the input's lengths."""
        return lengths

    def host_output_lengths(self, lengths, shape):
        """:meth:`output_lengths` for host ``lengths`` and outputs of
        ``shape``."""
        return lengths

    def full_lengths(self, n_samples: int, n_steps: int):
        """A backend array of ``n_samples`` lengths all ``n_steps``, made
        once per shape."""
        key = (int(n_samples), int(n_steps))
        full = self.__dict__.get("_full_lengths")
        if full is None or full[0] != key:
            full = self._full_lengths = (key, self.backend.asarray(
                np.full(n_samples, n_steps, dtype=np.int64), np.int64))
        return full[1]

    def copy_of(self, a):
        """A new backend array holding ``a``'s values."""
        out = self.backend.empty(a.shape, a.dtype)
        self.backend.copy(a, out)
        return out

    @staticmethod
    def check_lengths(lengths, n_samples: int, n_steps: int):
        """``lengths`` as int64 (B,), checked to lie in ``1..n_steps``."""
        if lengths is None:
            return np.full(n_samples, n_steps, dtype=np.int64)
        lengths = np.asarray(lengths)
        if lengths.shape != (n_samples,) or not np.issubdtype(lengths.dtype,
                                                              np.integer):
            raise ValueError(f"lengths must be {n_samples} integers, got shape "
                             f"{lengths.shape} and dtype {lengths.dtype}")
        if lengths.min() < 1 or lengths.max() > n_steps:
            raise ValueError(f"lengths must lie in 1..{n_steps}, got "
                             f"{lengths.min()}..{lengths.max()}")
        return np.ascontiguousarray(lengths, dtype=np.int64)

    def prepare_input(self, X, lengths):
        """``X`` as a contiguous backend array of the network dtype and
        ``lengths`` as int64 backend array, checked when the host can read
        them (the estimator checks data before moving it to a device)."""
        be = self.backend
        X = be.asarray(X, self.dtype)
        if X.ndim >= 3:
            if lengths is None:
                lengths = self.full_lengths(X.shape[0], X.shape[1])
            elif be.on_host(lengths):
                lengths = be.asarray(
                    self.check_lengths(lengths, X.shape[0], X.shape[1]),
                    np.int64)
        return X, lengths

    @property
    def thread_copies(self) -> threading.local:
        """Per-thread storage for copies of this network (see
        :meth:`share_weights`), dropped with the network."""
        copies = self.__dict__.get("_thread_copies")
        if copies is None:  # setdefault: one object even if threads race here
            copies = self.__dict__.setdefault("_thread_copies", threading.local())
        return copies

    def __getstate__(self):
        state = self.__dict__.copy()
        state.pop("_thread_copies", None)  # per-thread buffers do not travel
        return state

    def share_weights(self, other: Network) -> None:
        """Use ``other``'s weights (a network of the same layout) from now on.

        Every layer is bound to ``other.params``, so the two networks compute
        with one set of weights while each keeps its own buffers: a network
        per thread, say, predicting concurrently.
        """
        if other.params.shapes != self.params.shapes or \
                other.params.dtype != self.params.dtype:
            raise ValueError("share_weights needs a network of the same weight "
                             "layout and dtype")
        self.params = other.params
        for prefix, layer in zip(self.prefixes, self.layers, strict=True):
            names = layer.param_shapes()
            layer.bind(self.backend,
                       {n: other.params.views[f"{prefix}.{n}"] for n in names},
                       {n: other.params.grad_views[f"{prefix}.{n}"]
                        for n in names})

    def get_weights(self) -> dict:
        """A copy of every weight, canonical name -> array, in layout order."""
        return self.params.to_dict()

    def set_weights(self, weights: dict) -> None:
        """Load weights after checking every name and shape."""
        self.params.load_dict(weights)


class Sequential(Network):
    """Layers applied one after the other, sharing one flat weight vector.

    Weight names follow the canonical layout: ``{kind}.{index}.{name}``
    (``lstm.0.W_ih``), the index dropped for a kind that occurs once unless
    the kind is always indexed (LSTM layers are), so a single output layer
    is ``dense.W``.

    Parameters
    ----------
    layers : list of Layer
    dtype, backend, random_state, input_grad
        As :class:`Network`.

    Notes
    -----
    Arrays returned by :meth:`forward` and :meth:`backward` may be buffers of
    the layers, overwritten by the next call: copy what must outlive it.

    Examples
    --------
    >>> import numpy as np
    >>> from numlstm.nn import LSTM, Dense, Sequential
    >>> net = Sequential([LSTM(2, 8), Dense(8, 1)], dtype="float64",
    ...                  random_state=0)
    >>> list(net.get_weights())
    ['lstm.0.W_ih', 'lstm.0.W_hh', 'lstm.0.b', 'dense.W', 'dense.b']
    >>> net.forward(np.zeros((3, 4, 2))).shape
    (3, 1)
    """

    def __init__(self, layers: list[Layer], dtype="float32", backend="auto",
                 random_state=None, input_grad: bool = False) -> None:
        layers = list(layers)
        _check_widths(layers)
        super().__init__(list(zip(_layer_prefixes(layers), layers, strict=True)),
                         dtype, backend, random_state, input_grad)

    def forward(self, X, lengths=None, training: bool = False, targets=None,
                states=None):
        """Apply every layer; ``X`` is ``(B, T, D)`` (or ``(B, D)``).

        ``lengths`` (B,) gives each sequence's number of real steps
        (default: all ``T``). ``targets`` is accepted for the common network
        interface and unused. ``states``: the recurrent layers' initial
        states, as :meth:`forward_stateful` takes them (None: zeros).
        """
        X, lengths = self.prepare_input(X, lengths)
        given = iter(() if states is None else self._check_states(states))
        for layer in self.layers:
            if layer.carries_state:
                h0, c0 = next(given, None) or (None, None)
                X = layer.forward(X, lengths, training, h0=h0, c0=c0)
            else:
                X = layer.forward(X, lengths, training)
        return X

    def backward(self, dY):
        """Backpropagate ``dY``; gradients land in ``params.grad``. Returns
        the gradient with respect to the input (None unless ``input_grad``)."""
        for layer in reversed(self.layers):
            dY = layer.backward(dY)
        return dY

    def forward_stateful(self, X, states=None, lengths=None):
        """Forward from given recurrent states, returning the states reached.

        ``states`` has one entry per layer that carries a state
        (:attr:`Layer.carries_state`), in order: ``(h0, c0)`` for an
        :class:`LSTM` (``(B, H)`` arrays of the backend, or None for zeros),
        None for a :class:`BidirectionalLSTM`, which always starts from
        zeros; None as a whole means zeros everywhere. The states returned
        are copies, one per such layer: ``(h, c)`` after each sequence's
        last real step, and for a bidirectional layer ``((h, c) forward,
        (h, c) backward)``. No dropout, no backward.
        """
        out = self.forward(X, lengths, False, states=states)
        return out, [map_pairs(self.copy_of, layer.final_state())
                     for layer in self.layers if layer.carries_state]

    def _check_states(self, states) -> list:
        """One entry per layer that carries a state (None for zeros)."""
        n = sum(layer.carries_state for layer in self.layers)
        states = [None] * n if states is None else list(states)
        if len(states) != n:
            raise ValueError(f"states must have one entry per recurrent "
                             f"layer ({n}), got {len(states)}")
        return states

    def state_sizes(self) -> list[tuple[tuple[int, int], bool]]:
        """``((width of h, width of c), bidirectional)`` of each layer that
        carries a state, in the order of :meth:`forward_stateful`'s states
        (the widths differ with a projection)."""
        return [(layer.state_widths, isinstance(layer, BidirectionalLSTM))
                for layer in self.layers if layer.carries_state]


def map_pairs(function, nested):
    """``function`` applied to every array of nested tuples."""
    if isinstance(nested, tuple):
        return tuple(map_pairs(function, item) for item in nested)
    return function(nested)


def _check_widths(layers) -> None:
    """Each layer's input size must be the previous layer's output size."""
    width, source = None, None
    for k, layer in enumerate(layers):
        size = getattr(layer, "input_size", None)
        if size is not None and width is not None and size != width:
            raise ValueError(f"layer {k} ({type(layer).__name__}) takes "
                             f"{size} features but layer {source} gives {width}")
        if getattr(layer, "output_size", None) is not None:
            width, source = layer.output_size, k


def _layer_prefixes(layers) -> list[str]:
    counts = Counter(layer.kind for layer in layers)
    seen: Counter = Counter()
    prefixes = []
    for layer in layers:
        if layer.always_indexed or counts[layer.kind] > 1:
            prefixes.append(f"{layer.kind}.{seen[layer.kind]}")
        else:
            prefixes.append(layer.kind)
        seen[layer.kind] += 1
    return prefixes
