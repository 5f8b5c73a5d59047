"""Generative LSTM: a density model over sequences that can also sample."""

from __future__ import annotations

import numbers
from dataclasses import dataclass

import numpy as np
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from ..nn import MeanSquaredError, SoftmaxCrossEntropy
from ..nn.data import ChunkedSequenceData
from ..nn.training import sequence_weights
from ._base import BaseLSTMEstimator, training_parameters
from ._docs import CELL_WEIGHTS, TRAINING_PARAMETERS
from ._params import LayerSizes, PositiveInt, as_sizes
from ._validation import Sequences, check_fit_sample_weight

_LOG_2PI = float(np.log(2.0 * np.pi))


def _is_text(X) -> bool:
    return isinstance(X, str) or (isinstance(X, (list, tuple)) and len(X) > 0
                                  and all(isinstance(s, str) for s in X))


def _is_tokens(X) -> bool:
    if hasattr(X, "to_numpy") and not isinstance(X, np.ndarray):
        X = X.to_numpy()  # a DataFrame of ints is a table of tokens too
    if not isinstance(X, (list, tuple)) or len(X) == 0:
        return isinstance(X, np.ndarray) and X.ndim == 2 and \
            np.issubdtype(X.dtype, np.integer)
    try:
        arrays = [np.asarray(s) for s in X]
    except ValueError:
        return False
    return all(a.ndim == 1 and a.size > 0 and np.issubdtype(a.dtype, np.integer)
               for a in arrays)


@dataclass
class _Windows(Sequences):
    """Training windows, and the whole sequences they were cut from."""

    sequences: list


class GenerativeLSTM(BaseLSTMEstimator):
    __doc__ = """A density model over sequences: next-step LSTM, scored and sampled.

    ``fit(X)`` learns ``p(x_t | x_<t)`` from

    - a string or a list of strings: a character model (``vocabulary_`` holds
      the characters);
    - a list of integer-token sequences (or a 2-D integer array): a token
      model over the ``n_tokens_`` distinct ids it sees (``vocabulary_``;
      ids need not be consecutive, and ``sample`` returns ids);
    - float sequences, 2-D ``(n, T)`` or 3-D ``(n, T, D)`` or a ragged list:
      a continuous model that predicts the next step with squared error, its
      likelihood a Gaussian whose per-feature variance ``noise_variance_`` is
      the training mean squared error.

    Training cuts each sequence into windows of ``sequence_length`` steps,
    each backpropagated on its own from a zero state; with ``tbptt_steps``
    it runs whole sequences instead, in consecutive chunks of that many
    steps, each chunk starting from the state the one before reached
    (truncated BPTT), so that the model learns dependencies longer than a
    chunk. ``score_samples`` and ``sample`` carry the state through whole
    sequences. The first step of a sequence is predicted from a start
    symbol (discrete models) or a start flag (continuous models). With
    ``early_stopping``, the validation set is a fraction of the windows.

    Parameters
    ----------
    hidden_layer_sizes : tuple of int, default=(128,)
        Hidden units of the stacked LSTM layers.
    sequence_length : int, default=64
        Steps per training window (unused with ``tbptt_steps``).
    tbptt_steps : int or None, default=None
        Train on whole sequences by truncated backpropagation through time
        in chunks of this many steps, the state carried from chunk to
        chunk, instead of on independent windows. Memory grows with
        ``tbptt_steps``, not with the sequences' length.
""" + TRAINING_PARAMETERS + """
    Attributes
    ----------
    kind_ : {'characters', 'tokens', 'continuous'}
    vocabulary_ : ndarray
        The characters (or token ids) of a discrete model, sorted; scoring
        or prompting with one not seen in the fit is an error.
    n_tokens_ : int
        Size of a discrete model's vocabulary.
    n_features_in_ : int
        Features per step of a continuous model (the number of columns when
        fitted on a 2-D table of univariate sequences, as for the other
        estimators); 1 for discrete models.
    noise_variance_ : ndarray
        Per-feature variance of a continuous model's Gaussian likelihood.
    loss_curve_, best_loss_, validation_scores_, best_validation_score_,
    n_iter_, t_, backend_, network_
        As in :class:`VanillaLSTMRegressor`; validation scores are mean
        per-step log-likelihoods.

    Notes
    -----
    Weights (``get_weights``): ``lstm.{k}.W_ih/W_hh/b`` per layer (PyTorch's
    layout, gate order i, f, g, o), ``dense.W``, ``dense.b``. The input of a
    discrete model is the one-hot previous token plus a start symbol (index
    ``n_tokens_``); of a continuous model the previous step plus a start
    flag.
""" + CELL_WEIGHTS + """
    Examples
    --------
    >>> from numlstm import GenerativeLSTM
    >>> model = GenerativeLSTM((16,), sequence_length=16, max_iter=3,
    ...                        learning_rate_init=1e-2, random_state=0)
    >>> model = model.fit("abcabcabcabcabcabcabcabc" * 4)
    >>> model.vocabulary_.tolist(), model.perplexity("abcabc") < 3
    (['a', 'b', 'c'], True)
    >>> len(model.sample(2, length=6, prompt="ab", random_state=0)[1])
    6
"""

    def __init__(self, hidden_layer_sizes=(128,), *, sequence_length=64,
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
        self.hidden_layer_sizes = hidden_layer_sizes
        self.sequence_length = sequence_length
        self.tbptt_steps = tbptt_steps

    _sizes_param = "hidden_layer_sizes"
    _parameter_constraints = {"hidden_layer_sizes": [LayerSizes()],
                              "sequence_length": [PositiveInt()],
                              "tbptt_steps": [None, PositiveInt()],
                              **BaseLSTMEstimator._parameter_constraints}
    #: what a fit learns about its data, dropped before a refit
    _DATA_ATTRIBUTES = ("vocabulary_", "n_tokens_", "noise_variance_",
                        "feature_names_in_", "n_features_in_", "_input_kind",
                        "_n_step_features")
    return_sequences = True  # the network predicts every next step

    def _hidden_sizes(self):
        return as_sizes(self.hidden_layer_sizes)

    # ------------------------------------------------------------------
    # sequences <-> arrays

    def _sequences(self, X, reset: bool) -> list:
        """``X`` as a list of arrays: token ids (T,) or values (T, D)."""
        if reset:
            for name in self._DATA_ATTRIBUTES:  # forget a previous kind of data
                self.__dict__.pop(name, None)
            self.kind_ = ("characters" if _is_text(X) else
                          "tokens" if _is_tokens(X) else "continuous")
        if self.kind_ == "characters":
            if not _is_text(X):
                raise ValueError("this model was fitted on text: X must be a "
                                 "string or a list of strings.")
            texts = [X] if isinstance(X, str) else list(X)
            if any(len(t) == 0 for t in texts):
                raise ValueError("X contains an empty string.")
            if reset:
                self.vocabulary_ = np.array(sorted(set("".join(texts))))
                self.n_tokens_ = len(self.vocabulary_)
            index = {c: k for k, c in enumerate(self.vocabulary_)}
            unseen = sorted(set("".join(texts)) - set(index))
            if unseen:
                raise ValueError(f"X contains characters not in the "
                                 f"vocabulary: {unseen}.")
            return [np.array([index[c] for c in t], dtype=np.int64)
                    for t in texts]
        if self.kind_ == "tokens":
            if hasattr(X, "to_numpy") and not isinstance(X, np.ndarray):
                X = X.to_numpy()
            if not _is_tokens(X):
                raise ValueError("this model was fitted on integer tokens: X "
                                 "must be a list of integer sequences.")
            seqs = [np.asarray(s, dtype=np.int64) for s in X]
            low = min(int(s.min()) for s in seqs)
            if low < 0:
                raise ValueError(f"tokens must be >= 0, got {low}.")
            if reset:
                # the ids seen, densely: one sequence [0, 1, 10_000_000]
                # makes three tokens, not ten million
                self.vocabulary_ = np.unique(np.concatenate(seqs))
                self.n_tokens_ = len(self.vocabulary_)
            codes = [np.searchsorted(self.vocabulary_, s) for s in seqs]
            known = [self.vocabulary_[np.minimum(c, self.n_tokens_ - 1)] == s
                     for c, s in zip(codes, seqs, strict=True)]
            if not all(k.all() for k in known):
                unseen = np.unique(np.concatenate(
                    [s[~k] for s, k in zip(seqs, known, strict=True)]))
                raise ValueError(f"X contains tokens not in the vocabulary "
                                 f"of the fit (vocabulary_): "
                                 f"{unseen[:10].tolist()}.")
            return codes
        if _is_text(X):
            raise ValueError("this model was fitted on float sequences, not "
                             "text.")
        seqs = self._validate_X(X, reset=reset)
        return [x[:n] for x, n in zip(seqs.X, seqs.lengths, strict=True)]

    def _io(self, seq):
        """Inputs (start, then every step but the last) and targets of one
        sequence."""
        n = len(seq)
        if self.kind_ == "continuous":
            inputs = np.zeros((n, self._n_step_features + 1), dtype=self.dtype)
            inputs[0, -1] = 1.0
            inputs[1:, :-1] = seq[:-1]
            return inputs, seq
        inputs = np.zeros((n, self.n_tokens_ + 1), dtype=self.dtype)
        inputs[0, self.n_tokens_] = 1.0
        inputs[np.arange(1, n), seq[:-1]] = 1.0
        return inputs, seq

    def _batch(self, pieces) -> tuple:
        """Pad (inputs, targets) pairs into a :class:`Sequences` and targets."""
        lengths = np.array([len(t) for _, t in pieces], dtype=np.int64)
        T, n = int(lengths.max()), len(pieces)
        X = np.zeros((n, T, pieces[0][0].shape[1]), dtype=self.dtype)
        if self.kind_ == "continuous":
            Y = np.zeros((n, T, self._n_step_features), dtype=self.dtype)
        else:
            Y = np.zeros((n, T), dtype=np.int64)
        for k, (x, y) in enumerate(pieces):
            X[k, :len(x)] = x
            Y[k, :len(y)] = y
        return Sequences(X, lengths, "ragged"), Y

    def _windows(self, seqs, sample_weight):
        """Training windows of ``sequence_length`` steps (whole sequences
        with ``tbptt_steps``, which the fit then cuts), with their weights."""
        pieces, weights = [], []
        S = self.sequence_length if self.tbptt_steps is None else \
            max(len(seq) for seq in seqs)
        for seq, w in zip(seqs, sample_weight, strict=True):
            x, y = self._io(seq)
            for start in range(0, len(seq), S):
                pieces.append((x[start:start + S], y[start:start + S]))
                weights.append(w)
        windows, Y = self._batch(pieces)
        return (_Windows(windows.X, windows.lengths, windows.kind, seqs), Y,
                np.asarray(weights, dtype=np.float64))

    # ------------------------------------------------------------------
    # fitting

    def fit(self, X, y=None, sample_weight=None):
        """Fit the model to sequences ``X`` (``y`` is ignored); returns self."""
        return self._fit(X, None, sample_weight, incremental=False)

    def partial_fit(self, X, y=None, sample_weight=None):
        """One epoch of the stochastic solver over ``X``; returns self."""
        return self._fit(X, None, sample_weight, incremental=True)

    def _validate_data(self, X, y, sample_weight, reset, classes=None):
        """The training windows of ``X`` (which keep the whole sequences),
        their targets and weights; ``y`` is ignored.

        On any error the estimator is left exactly as it was.
        """
        with self._unchanged_on_error():
            seqs = self._sequences(X, reset=reset)
            sw = check_fit_sample_weight(sample_weight, len(seqs))
        if reset:
            continuous = self.kind_ == "continuous"
            self._n_outputs = self._n_step_features if continuous else self.n_tokens_
            self._loss = MeanSquaredError() if continuous else SoftmaxCrossEntropy()
        return self._windows(seqs, sw)

    def _after_training(self, seqs):
        if self.kind_ == "continuous":
            self.noise_variance_ = self._residual_variance(seqs.sequences)

    def make_objective(self, X, y=None, sample_weight=None):
        """The training loss over the windows of ``X`` as a function of the
        flat weight vector: ``(fun, theta0)``, as for the other estimators."""
        return super().make_objective(X, y, sample_weight)

    def _initialize(self, seqs):
        super()._initialize(seqs)
        if self.kind_ != "continuous":
            self.n_features_in_ = 1

    def _stratify_labels(self, Y):
        return None

    def _score_encoded(self, val):
        """Validation score on ``val`` (a :class:`~numlstm.nn.SequenceData`):
        the mean per-step log-likelihood (up to the Gaussian's constant for
        continuous models)."""
        network = self.network_
        if not isinstance(val, ChunkedSequenceData):
            out = network.forward(val.X, val.lengths)
            weights = sequence_weights(val.host_weight, val.host_lengths,
                                       out.shape[1])
            value, _ = self._loss(network.backend, out, val.Y, weights)
            return -value
        # with tbptt_steps: the weighted mean of the chunks' weighted means
        total = weight = 0.0
        for chunk, live, out in self._stream_chunks(val):
            weights = sequence_weights(chunk.host_weight[:live],
                                       chunk.host_lengths[:live], out.shape[1])
            value, _ = self._loss(network.backend, out, chunk.Y[:live], weights)
            total += value * weights.sum()
            weight += weights.sum()
        return -total / weight

    # ------------------------------------------------------------------
    # likelihood

    def _sequence_outputs(self, seqs):
        """Outputs (host float64) for whole sequences, their targets and
        lengths."""
        batch, Y = self._batch([self._io(s) for s in seqs])
        out = self._outputs(self._predict_network(), batch.X, batch.lengths)
        return out, Y, batch.lengths

    def _residual_variance(self, seqs):
        out, Y, lengths = self._sequence_outputs(seqs)
        mask = np.arange(out.shape[1])[None, :] < lengths[:, None]
        var = np.mean((out[mask] - Y[mask]) ** 2, axis=0)
        return np.maximum(var, np.finfo(np.float64).tiny)

    def _step_log_likelihood(self, out, Y):
        """log p of each step's target ``(n, T)``."""
        if self.kind_ == "continuous":
            var = self.noise_variance_
            return -0.5 * np.sum((Y - out) ** 2 / var + np.log(var) + _LOG_2PI,
                                 axis=-1)
        shifted = out - out.max(axis=-1, keepdims=True)
        logp = shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
        return np.take_along_axis(logp, Y[..., None], axis=-1)[..., 0]

    def _log_likelihood(self, X):
        check_is_fitted(self, "network_")
        seqs = self._sequences(X, reset=False)
        out, Y, lengths = self._sequence_outputs(seqs)
        steps = self._step_log_likelihood(out, Y)
        mask = np.arange(steps.shape[1])[None, :] < lengths[:, None]
        return np.where(mask, steps, 0.0).sum(axis=1), lengths

    def score_samples(self, X):
        """Log-likelihood (natural log) of each sequence, ``(n_sequences,)``.

        A single string counts as one sequence.
        """
        return self._log_likelihood(X)[0]

    def score(self, X, y=None):
        """Mean per-step log-likelihood of ``X``."""
        total, lengths = self._log_likelihood(X)
        return float(total.sum() / lengths.sum())

    def perplexity(self, X):
        """``exp(-score(X))``: the per-token perplexity of a discrete model."""
        check_is_fitted(self, "network_")
        if self.kind_ == "continuous":
            raise ValueError("perplexity is defined for discrete (character or "
                             "token) models; use score_samples for continuous "
                             "ones.")
        return float(np.exp(-self.score(X)))

    # ------------------------------------------------------------------
    # sampling

    def sample(self, n_samples=1, length=100, prompt=None, temperature=1.0,
               random_state=None):
        """Generate ``n_samples`` continuations of ``length`` steps.

        Parameters
        ----------
        n_samples, length : int
        prompt : str, sequence of tokens, or array (T, D), optional
            What the generated steps continue (not included in the result).
        temperature : float > 0
            Divides the logits of a discrete model (below 1: more likely
            tokens); scales the Gaussian noise of a continuous model.
        random_state : int, RandomState or None
            The same seed gives the same samples.

        Returns
        -------
        list of str (character model), ndarray (n_samples, length) of ints
        (token model) or ndarray (n_samples, length, D) (continuous model).
        """
        check_is_fitted(self, "network_")
        for name, value in (("n_samples", n_samples), ("length", length)):
            if not (isinstance(value, numbers.Integral)
                    and not isinstance(value, bool) and value > 0):
                raise ValueError(f"{name} must be a positive integer, got "
                                 f"{value!r}.")
        if not (isinstance(temperature, numbers.Real)
                and not isinstance(temperature, bool) and temperature > 0
                and np.isfinite(temperature)):
            raise ValueError(f"temperature must be a finite number > 0, got "
                             f"{temperature!r}.")
        rng = check_random_state(random_state)
        network = self._predict_network()
        states, x = self._prime(network, prompt, n_samples)
        width = self._n_step_features if self.kind_ == "continuous" else 1
        out = np.empty((n_samples, length, width))
        for t in range(length):
            y, states = network.forward_stateful(x, states)
            y = network.backend.to_host(y)[:, -1].astype(np.float64)
            out[:, t] = self._draw(y, temperature, rng)
            x = self._next_input(out[:, t])
        if self.kind_ == "continuous":
            return out
        tokens = out[..., 0].astype(np.int64)
        if self.kind_ == "tokens":
            return self.vocabulary_[tokens]
        return ["".join(self.vocabulary_[row]) for row in tokens]

    def _prime(self, network, prompt, n_samples):
        """LSTM states after the prompt and the input of the first new step."""
        if prompt is None or len(prompt) == 0:
            width = (self._n_step_features if self.kind_ == "continuous"
                     else self.n_tokens_) + 1
            x = np.zeros((n_samples, 1, width), dtype=self.dtype)
            x[:, 0, -1] = 1.0
            return None, x
        if self.kind_ == "continuous":
            prompt = np.asarray(prompt, dtype=float)
            prompt = prompt.reshape(1, len(prompt), -1)  # one 3-D sequence
        else:
            prompt = [prompt]
        seq = self._sequences(prompt, reset=False)[0]
        inputs, _ = self._io(seq)
        _, states = network.forward_stateful(
            np.repeat(inputs[None], n_samples, axis=0))
        last = np.repeat(seq[-1:][None], n_samples, axis=0)
        return states, self._next_input(last.reshape(n_samples, -1))

    def _draw(self, y, temperature, rng):
        if self.kind_ == "continuous":
            return y + temperature * np.sqrt(self.noise_variance_) * \
                rng.standard_normal(y.shape)
        z = y / temperature
        p = np.exp(z - z.max(axis=1, keepdims=True))
        cdf = np.cumsum(p / p.sum(axis=1, keepdims=True), axis=1)
        u = rng.random_sample((len(y), 1))
        return np.minimum((cdf < u).sum(axis=1), self.n_tokens_ - 1)[:, None]

    def _next_input(self, step):
        """The network input ``(n, 1, F)`` after the steps ``step (n, width)``."""
        n = len(step)
        if self.kind_ == "continuous":
            x = np.zeros((n, 1, self._n_step_features + 1), dtype=self.dtype)
            x[:, 0, :-1] = step
            return x
        x = np.zeros((n, 1, self.n_tokens_ + 1), dtype=self.dtype)
        x[np.arange(n), 0, step[:, 0].astype(np.int64)] = 1.0
        return x

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.estimator_type = "density_estimator"
        tags.target_tags.required = False
        return tags
