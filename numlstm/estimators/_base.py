"""The base of every LSTM estimator: validation, training loops, weights.

Like scikit-learn's ``BaseMultilayerPerceptron``: ``fit`` -> ``_fit`` ->
``_fit_stochastic`` or ``_fit_lbfgs``, the optimisers are tiny objects
stepping one flat vector, and L-BFGS works on that vector through SciPy.
Subclasses say what the network looks like (:meth:`_hidden_sizes`,
:meth:`_make_network`) and what the outputs mean (the regressor and
classifier mixins in :mod:`._outputs`).
"""

from __future__ import annotations

import contextlib

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils import check_random_state
from sklearn.utils.validation import (
    _check_feature_names,
    check_is_fitted,
)

from ..backends import resolve
from ..nn import (
    LSTM,
    Dense,
    DivergenceError,
    Dropout,
    Sequential,
)
from ..nn.data import ChunkedSequenceData
from ..nn.layers import check_cell
from ._changes import ParameterChangesMixin
from ._lbfgs import LBFGSMixin
from ._params import (
    Boolean,
    FiniteReal,
    LayerSizes,
    NonNegativeInt,
    OneOf,
    PositiveInt,
    as_sizes,
    validate_parameters,
)
from ._spec import RecurrentSpec, as_spec
from ._state import StreamingMixin
from ._stochastic import StochasticMixin
from ._validation import (
    check_fit_sample_weight,
    check_sequences,
    input_aligned_targets,
    unpad,
)

#: the constructor parameters every estimator shares (stored by the base)
TRAINING_PARAMETERS = (
    "solver", "learning_rate_init", "batch_size", "max_iter", "tol",
    "n_iter_no_change", "early_stopping", "validation_fraction", "shuffle",
    "alpha", "momentum", "nesterovs_momentum", "beta_1", "beta_2", "epsilon",
    "clip_norm", "dropout", "random_state", "verbose", "warm_start",
    "backend", "dtype")

#: the cell-variant parameters every estimator shares (architecture: a
#: fitted model refuses to change them, :mod:`._changes`)
CELL_PARAMETERS = ("peephole", "coupled_gates", "recurrent_dropout",
                   "zoneout", "proj_size", "layer_norm")

#: what the base's constructor takes
SHARED_PARAMETERS = TRAINING_PARAMETERS + CELL_PARAMETERS


def training_parameters(values: dict) -> dict:
    """The shared parameters out of a subclass ``__init__``'s ``locals()``."""
    return {name: values[name] for name in SHARED_PARAMETERS}


class UnitsOrLayerSizes:
    """For architectures with ``units`` (one layer) and ``hidden_layer_sizes``
    (a stack, overriding ``units`` when not None)."""

    #: the constraints of the two (put first by the estimator's table)
    SIZE_CONSTRAINTS = {"units": [LayerSizes(single=True)],
                        "hidden_layer_sizes": [None, LayerSizes()]}

    @property
    def _sizes_param(self):
        return "units" if self.hidden_layer_sizes is None else "hidden_layer_sizes"

    @property
    def _overridden_parameters(self):
        return () if self.hidden_layer_sizes is None else ("units",)

    def _hidden_sizes(self):
        if self.hidden_layer_sizes is None:
            return (self.units,)
        return as_sizes(self.hidden_layer_sizes)


class BaseLSTMEstimator(ParameterChangesMixin, StochasticMixin, LBFGSMixin,
                        StreamingMixin, BaseEstimator):
    """Shared machinery of the LSTM estimators (not for direct use)."""

    #: sequences per forward pass of ``predict``, bounding its buffers
    _predict_chunk = 2048

    #: constraints of the shared parameters (see :mod:`._params`); each
    #: architecture puts its own parameters' in front, in signature order.
    #: The others (booleans, ``random_state``, ``backend``) are checked where
    #: they are used, or not at all, as in scikit-learn's MLP before 1.2.
    _parameter_constraints = {
        "solver": [OneOf(("adam", "sgd", "rmsprop", "lbfgs"))],
        "learning_rate_init": [FiniteReal(0, closed="neither")],
        "batch_size": [PositiveInt()],
        "max_iter": [PositiveInt()],
        "tol": [FiniteReal(0)],
        "n_iter_no_change": [PositiveInt()],
        "validation_fraction": [FiniteReal(0, 1, closed="neither")],
        "alpha": [FiniteReal(0)],
        "momentum": [FiniteReal(0, 1)],
        "beta_1": [FiniteReal(0, 1)],
        "beta_2": [FiniteReal(0, 1)],
        "epsilon": [FiniteReal(0, closed="neither", why="it keeps Adam's "
                               "and RMSprop's steps finite")],
        "clip_norm": [None, FiniteReal(0, closed="neither")],
        "dropout": [FiniteReal(0, 1)],
        "dtype": [OneOf(("float32", "float64"))],
        "peephole": [Boolean()],
        "coupled_gates": [Boolean()],
        "recurrent_dropout": [FiniteReal(0, 1)],
        "zoneout": [FiniteReal(0, 1)],
        "proj_size": [NonNegativeInt()],
        "layer_norm": [Boolean()],
    }
    #: parameters that others override, left unchecked
    _overridden_parameters = ()

    def __init__(self, *, solver="adam",
                 learning_rate_init=1e-3, batch_size=32, max_iter=200, tol=1e-4,
                 n_iter_no_change=10, early_stopping=False,
                 validation_fraction=0.1, shuffle=True, alpha=0.0, momentum=0.9,
                 nesterovs_momentum=True, beta_1=0.9, beta_2=0.999,
                 epsilon=1e-8, clip_norm=5.0, dropout=0.0, random_state=None,
                 verbose=False, warm_start=False, backend="auto",
                 dtype="float32", peephole=False, coupled_gates=False,
                 recurrent_dropout=0.0, zoneout=0.0, proj_size=0,
                 layer_norm=False):
        self.peephole = peephole
        self.coupled_gates = coupled_gates
        self.recurrent_dropout = recurrent_dropout
        self.zoneout = zoneout
        self.proj_size = proj_size
        self.layer_norm = layer_norm
        self.solver = solver
        self.learning_rate_init = learning_rate_init
        self.batch_size = batch_size
        self.max_iter = max_iter
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.shuffle = shuffle
        self.alpha = alpha
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.clip_norm = clip_norm
        self.dropout = dropout
        self.random_state = random_state
        self.verbose = verbose
        self.warm_start = warm_start
        self.backend = backend
        self.dtype = dtype

    # ------------------------------------------------------------------
    # the network

    #: the constructor parameter that sets the hidden sizes (for messages)
    _sizes_param = "units"

    # fitted state added since the first release: defaults for estimators
    # pickled before it
    _loss_reference = None
    _bytes_per_sequence = None
    _optimizer_solver = _optimizer_params = None

    def _hidden_sizes(self) -> tuple:
        raise NotImplementedError

    def _network_spec(self, n_inputs: int, n_outputs: int) -> RecurrentSpec:
        """Everything needed to rebuild the fitted network (and unpickle it)."""
        return RecurrentSpec(
            n_inputs=n_inputs, n_outputs=n_outputs, dropout=float(self.dropout),
            dtype=self.dtype,
            hidden_sizes=tuple(int(h) for h in self._hidden_sizes()),
            return_sequences=bool(self.return_sequences),
            **self._cell_parameters())

    def _cell_parameters(self) -> dict:
        """The cell-variant fields of the network spec."""
        return {"peephole": bool(self.peephole),
                "coupled_gates": bool(self.coupled_gates),
                "recurrent_dropout": float(self.recurrent_dropout),
                "zoneout": float(self.zoneout),
                "proj_size": int(self.proj_size),
                "layer_norm": bool(self.layer_norm)}

    def _recurrent_layer(self, spec: RecurrentSpec, width: int, size: int,
                         return_sequences: bool):
        """One recurrent layer of the stack (an :class:`LSTM` here)."""
        return LSTM(width, size, return_sequences=return_sequences,
                    **spec.cell_options())

    def _make_network(self, spec: RecurrentSpec, backend, seed) -> Sequential:
        """The network of ``spec``: the recurrent head on the raw input."""
        return Sequential(self._recurrent_head(spec, spec.n_inputs),
                          dtype=spec.dtype, backend=backend, random_state=seed)

    def _recurrent_head(self, spec: RecurrentSpec, width: int) -> list:
        """Recurrent layer(s), dropout after each, then the dense output."""
        layers, sizes = [], spec.hidden_sizes
        for k, size in enumerate(sizes):
            last = k == len(sizes) - 1
            layer = self._recurrent_layer(spec, width, size,
                                          not last or spec.return_sequences)
            layers.append(layer)
            if spec.dropout > 0:
                layers.append(Dropout(spec.dropout))
            width = layer.output_size
        layers.append(Dense(width, spec.n_outputs))
        return layers

    # ------------------------------------------------------------------
    # per-step outputs

    @property
    def _per_step(self) -> bool:
        """Whether the model outputs one value (or label) per step."""
        return bool(self.return_sequences)

    def _sequence_targets(self, y, seqs, dtype, reset):
        """Per-step targets ``(n, T, ...)`` and their lengths."""
        return input_aligned_targets(y, seqs, dtype)

    def _output_lengths(self, seqs):
        """Real steps of each per-step prediction for ``seqs``."""
        return seqs.lengths

    def _unpad_if_ragged(self, values, seqs):
        return unpad(values, seqs.lengths) if seqs.ragged else values

    # ------------------------------------------------------------------
    # validation

    def _validate_hyperparameters(self) -> None:
        """Check the parameters against :attr:`_parameter_constraints`, then
        the combinations no table entry sees."""
        validate_parameters(self)
        for size in as_sizes(self._hidden_sizes()):
            check_cell(size, self.peephole, self.coupled_gates, self.zoneout,
                       self.proj_size, self.layer_norm)
        for name in ("dropout", "recurrent_dropout", "zoneout"):
            if self.solver == "lbfgs" and getattr(self, name) > 0:
                raise ValueError(f"{name} needs a stochastic solver: L-BFGS "
                                 f"requires a deterministic loss; use {name}=0 "
                                 "or solver='adam'.")
        if getattr(self, "tbptt_steps", None) is not None:
            if not self.return_sequences:
                raise ValueError(
                    "tbptt_steps needs return_sequences=True: truncated "
                    "backpropagation trains on chunks of steps, and a model "
                    "with one output per sequence has no targets inside them.")
            if self.solver == "lbfgs":
                raise ValueError(
                    "tbptt_steps needs a stochastic solver ('adam', 'sgd' or "
                    "'rmsprop'): each chunk is one update, which L-BFGS, on "
                    "the whole data at once, does not make.")

    def _validate_X(self, X, reset: bool):
        """Check ``X`` and, on the first fit, record what predict expects."""
        seqs = check_sequences(X, self.dtype)
        if seqs.kind == "table":
            _check_feature_names(self, X, reset=reset)
        if reset:
            self._input_kind = seqs.kind
            self._n_step_features = seqs.X.shape[2]
            self.n_features_in_ = (seqs.X.shape[1] if seqs.kind == "table"
                                   else seqs.X.shape[2])
            if seqs.kind != "table" and hasattr(self, "feature_names_in_"):
                del self.feature_names_in_
            return seqs
        width = seqs.X.shape[2]
        if self._input_kind == "table" and seqs.kind == "table" and \
                seqs.X.shape[1] != self.n_features_in_:
            raise ValueError(
                f"X has {seqs.X.shape[1]} features, but {type(self).__name__} "
                f"is expecting {self.n_features_in_} features as input (it was "
                "fitted on a 2-D table of univariate sequences; pass 3-D "
                "(n, T, 1) arrays to use other lengths).")
        if width != self._n_step_features:
            raise ValueError(
                f"X has {width} features per time step, but "
                f"{type(self).__name__} is expecting {self._n_step_features} "
                "features as input.")
        return seqs

    # ------------------------------------------------------------------
    # fitting

    def fit(self, X, y, sample_weight=None):
        """Fit the model to sequences ``X`` and targets ``y``.

        Parameters
        ----------
        X : array (n_samples, n_timesteps, n_features), (n_samples,
            n_timesteps) or list of (n_timesteps_i, n_features) arrays
        y : targets, see the class docstring
        sample_weight : array (n_samples,), optional

        Returns
        -------
        self
        """
        return self._fit(X, y, sample_weight, incremental=False)

    def _fit(self, X, y, sample_weight, incremental: bool, classes=None):
        """Every fit's steps, in order; the architectures' hooks are
        :meth:`_validate_data` (what the network trains on) and
        :meth:`_after_training` (what the fit learns besides the weights)."""
        self._validate_hyperparameters()
        first = not hasattr(self, "network_") or not (incremental or
                                                      self.warm_start)
        if incremental and self.solver == "lbfgs":
            raise ValueError("partial_fit needs a stochastic solver ('adam', "
                             "'sgd' or 'rmsprop'), not 'lbfgs'.")
        if not first:
            self._check_architecture("continue training (warm_start or "
                                     "partial_fit)")
        seqs, Y, sw = self._validate_data(X, y, sample_weight, reset=first,
                                          classes=classes)
        if first:
            self._initialize(seqs)
        else:
            self._apply_training_changes()
        try:
            self._train(seqs, Y, sw, incremental)
        except DivergenceError:
            # the model keeps its last good weights: what it learns besides
            # them (a generative model's noise variance) must match those
            self._after_training(seqs)
            raise
        self._after_training(seqs)
        return self

    def _train(self, seqs, Y, sw, incremental: bool) -> None:
        """Run the solver; a divergence names the estimator."""
        try:
            if self.solver == "lbfgs":
                self._fit_lbfgs(seqs, Y, sw)
            else:
                self._fit_stochastic(seqs, Y, sw, incremental)
        except DivergenceError as exc:
            raise DivergenceError(
                f"{type(self).__name__}: {exc}") from None

    def _validate_data(self, X, y, sample_weight, reset, classes=None):
        """Check X, y and sample_weight together: the ``(sequences, targets,
        sample weights)`` that ``fit`` and ``make_objective`` train on. On any
        error the estimator is left exactly as it was (a failed refit keeps
        the fitted model)."""
        if y is None:
            raise ValueError(f"{type(self).__name__} requires y to be passed, "
                             "but the target y is None.")
        with self._unchanged_on_error():
            seqs = self._validate_X(X, reset=reset)
            Y = self._encode_targets(y, seqs, reset=reset, classes=classes)
            sw = check_fit_sample_weight(sample_weight, len(seqs.X))
        return seqs, Y, sw

    def _after_training(self, seqs) -> None:
        """What a fit learns from ``seqs`` (as :meth:`_validate_data` returned
        them) once the weights are trained: nothing here."""

    @contextlib.contextmanager
    def _unchanged_on_error(self):
        """Restore every attribute as it was if the block raises."""
        before = self.__dict__.copy()
        try:
            yield
        except Exception:
            self.__dict__.clear()
            self.__dict__.update(before)
            raise

    def _initialize(self, seqs) -> None:
        with self._unchanged_on_error():  # e.g. a layer the backend refuses
            self._initialize_state(seqs)

    def _initialize_state(self, seqs) -> None:
        backend = resolve(self.backend)
        self.backend_ = backend.name
        self._random_state = check_random_state(self.random_state)
        seed = int(self._random_state.randint(np.iinfo(np.int32).max))
        self._spec = self._network_spec(seqs.X.shape[2], self._n_outputs)
        self.network_ = self._make_network(self._spec, backend, seed)
        self._optimizer = None
        self.loss_curve_ = []
        self.best_loss_ = np.inf
        self.validation_scores_ = [] if self.early_stopping else None
        self.best_validation_score_ = -np.inf if self.early_stopping else None
        self._no_improvement_count = 0
        self._best_theta = None
        self._loss_reference = None
        self._bytes_per_sequence = None
        self.n_iter_ = 0
        self.t_ = 0

    # ------------------------------------------------------------------
    # prediction

    def _predict_network(self):
        """The calling thread's network: the fitted weights, its own buffers.

        Layers keep their buffers between calls, so two threads predicting
        with one network would overwrite each other's; each thread gets a
        network of its own (built on its first predict, bound to the same
        weights, dropped with the thread or with ``network_`` at a refit).
        """
        check_is_fitted(self, "network_")
        self._check_architecture("predict")
        copies = self.network_.thread_copies
        network = getattr(copies, "network", None)
        if network is None:
            network = self._make_network(self._spec, self.network_.backend, 0)
            network.share_weights(self.network_)
            copies.network = network
        return network

    def _forward(self, X):
        """Raw network outputs (float64) for ``X``, and the validated X."""
        network = self._predict_network()
        seqs = self._validate_X(X, reset=False)
        chunks = []
        for s in range(0, len(seqs.X), self._predict_chunk):
            part = slice(s, s + self._predict_chunk)
            chunks.append(self._outputs(network, seqs.X[part], seqs.lengths[part]
                                        if seqs.ragged else None))
        if len(chunks) == 1:
            return chunks[0], seqs
        return np.concatenate(chunks), seqs

    def _validation_outputs(self, val):
        """The fitted network's outputs (host float64) on validation data
        already in the backend, and the real steps of each; chunk by chunk
        for a :class:`~numlstm.nn.data.ChunkedSequenceData`."""
        network = self.network_
        be = network.backend
        if not isinstance(val, ChunkedSequenceData):
            out = np.array(be.to_host(network.forward(val.X, val.lengths)),
                           dtype=np.float64)
        else:
            out, start = None, 0
            for chunk, live, part in self._stream_chunks(val):
                host = np.array(be.to_host(part), dtype=np.float64)
                if out is None:
                    out = np.zeros((val.n, val.n_steps, *host.shape[2:]))
                out[:live, start:start + host.shape[1]] = host
                start += chunk.X.shape[1]
        return out, network.host_output_lengths(val.host_lengths, out.shape)

    def _stream_chunks(self, val):
        """The network forward over the chunks of ``val`` (a
        :class:`~numlstm.nn.data.ChunkedSequenceData`, rows longest first)
        in order, each from the state the one before reached: yields
        ``(chunk, live rows, outputs)``, the outputs a backend buffer that
        the next chunk overwrites."""
        network = self.network_
        rows = np.arange(val.n)
        states = None
        for k, chunk in enumerate(val.chunks):
            live = val.live_rows(rows, k)
            if live == 0:
                return
            if states is not None:
                states = [(h[:live], c[:live]) for h, c in states]
            out, states = network.forward_stateful(
                chunk.X[:live], states, chunk.lengths[:live])
            yield chunk, live, out

    @staticmethod
    def _outputs(network, X, lengths):
        """``network``'s outputs (host float64) for host ``X``; sequences of
        equal length go without ``lengths``, which the network then need not
        check."""
        be = network.backend
        out = network.forward(be.asarray(X, network.dtype), None if lengths is
                              None else be.asarray(lengths, np.int64))
        return np.array(be.to_host(out), dtype=np.float64)

    # ------------------------------------------------------------------
    # weights and pickling

    def get_weights(self) -> dict:
        """A copy of the weights, canonical name -> array (see the guide).

        Examples
        --------
        >>> import numpy as np
        >>> from numlstm import VanillaLSTMRegressor
        >>> m = VanillaLSTMRegressor(units=4, max_iter=1, random_state=0)
        >>> m = m.fit(np.zeros((8, 5, 2)), np.zeros(8))
        >>> {k: v.shape for k, v in m.get_weights().items()}["lstm.0.W_ih"]
        (16, 2)
        """
        check_is_fitted(self, "network_")
        return self.network_.get_weights()

    def set_weights(self, weights: dict):
        """Load weights of the canonical names and shapes; returns self.

        Raises
        ------
        ValueError
            If a name is missing or unknown, a shape differs or a value is
            not finite.
        """
        check_is_fitted(self, "network_")
        self.network_.set_weights(weights)
        return self

    def __getstate__(self):
        state = self.__dict__.copy()
        network = state.pop("network_", None)
        if network is not None:
            state["_weights"] = network.get_weights()
            state["_noise_states"] = [layer.rng.bit_generator.state
                                      for layer in network.layers
                                      if hasattr(layer, "rng")]
        return state

    def __setstate__(self, state):
        weights = state.pop("_weights", None)
        noise_states = iter(state.pop("_noise_states", []))
        if isinstance(state.get("_spec"), dict):  # pickled before NetworkSpec
            state["_spec"] = as_spec(state["_spec"])
        self.__dict__.update(state)
        if weights is not None:
            self.network_ = self._make_network(self._spec,
                                               self._loaded_backend(), 0)
            self.network_.set_weights(weights)
            for layer in self.network_.layers:
                if hasattr(layer, "rng"):
                    layer.rng.bit_generator.state = next(noise_states)
            if getattr(self, "_optimizer", None) is not None:
                self._optimizer.bind(self.network_.backend)

    def _loaded_backend(self):
        """The backend an unpickled model runs on: the one it was fitted on,
        or the CPU where that one cannot run (a model fitted on a GPU,
        loaded on a machine without one); ``backend_`` records which."""
        try:
            return resolve(self.backend_)
        except ValueError:
            self.backend_ = "cpu"
            return resolve("cpu")

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True
        tags.non_deterministic = False
        return tags
