"""What the outputs mean: regression values or class labels.

Each mixin turns ``y`` into the targets of one loss (``_encode_targets``),
network outputs back into predictions, and scores. Per-step outputs
(``return_sequences=True``, or an encoder-decoder's output sequence) are
scored over the real steps only. The estimator says which through two hooks
of :class:`~numlstm.estimators._base.BaseLSTMEstimator`: ``_per_step`` and
``_sequence_targets`` / ``_output_lengths``.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import ClassifierMixin, RegressorMixin
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import (
    _check_sample_weight,
    check_array,
    column_or_1d,
)

from ..nn import MeanSquaredError, SigmoidBinaryCrossEntropy, SoftmaxCrossEntropy
from ._state import state_doc
from ._validation import check_n_samples


def _real_steps(values, lengths):
    """Rows of ``values (n, T, ...)`` at real steps, flattened to ``(m, ...)``."""
    mask = np.arange(values.shape[1])[None, :] < lengths[:, None]
    return values[mask]


class LSTMRegressorMixin(RegressorMixin):
    """Regression outputs: mean squared error, identity output."""

    _loss = MeanSquaredError()

    def _encode_targets(self, y, seqs, reset, classes=None):
        if self._per_step:
            Y, lengths = self._sequence_targets(y, seqs, self.dtype, reset)
            Y = np.array(Y, dtype=self.dtype)
            y_ndim = Y.ndim - 1
            Y = Y if Y.ndim == 3 else Y[:, :, None]
            check_array(_real_steps(Y, lengths), input_name="y")
            Y[np.arange(Y.shape[1])[None, :] >= lengths[:, None]] = 0.0
        else:
            Y = check_array(y, ensure_2d=False, dtype=self.dtype,
                            input_name="y")
            check_n_samples(Y, len(seqs.X))
            y_ndim = Y.ndim
            if Y.ndim == 1:
                Y = Y[:, None]
            elif Y.ndim != 2:
                raise ValueError(f"y must be 1-D or 2-D, got shape {Y.shape}.")
        if reset:
            self._y_ndim = y_ndim
            self._n_outputs = Y.shape[-1]
            self.out_activation_ = "identity"
        elif Y.shape[-1] != self._n_outputs:
            raise ValueError(f"y has {Y.shape[-1]} outputs, but the model was "
                             f"fitted with {self._n_outputs}.")
        return np.ascontiguousarray(Y)

    @state_doc("""Predicted values: ``(n,)``/``(n, k)``, or per step
        ``(n, T[, k])`` (a list of per-sequence arrays for ragged X).""",
               "y : ndarray or list of ndarray")
    def predict(self, X, initial_state=None, return_state=False):
        out, seqs, states = self._forward_from(X, initial_state, return_state)
        if self._per_step:
            out = out[..., 0] if self._y_ndim == 1 else out
            out = self._unpad_if_ragged(out, seqs)
        else:
            out = out[:, 0] if self._y_ndim == 1 else out
        return (out, states) if return_state else out

    def partial_fit(self, X, y, sample_weight=None):
        """One epoch of the stochastic solver over ``(X, y)``; returns self."""
        return self._fit(X, y, sample_weight, incremental=True)

    def score(self, X, y, sample_weight=None):
        """Coefficient of determination R^2 (over real steps for sequences)."""
        if not self._per_step:
            return super().score(X, y, sample_weight)
        out, seqs = self._forward(X)
        Y = self._encode_targets(y, seqs, reset=False)
        sw = _check_sample_weight(sample_weight, seqs.X, dtype=np.float64)
        return self._r2(out, Y, self._output_lengths(seqs), sw)

    def _score_encoded(self, val):
        """R^2 on the validation data (a :class:`~numlstm.nn.SequenceData`)."""
        out, lengths = self._validation_outputs(val)
        return self._r2(out, val.host_Y, lengths, val.host_weight)

    def _r2(self, out, Y, lengths, sw):
        if self._per_step:
            out, Y = _real_steps(out, lengths), _real_steps(Y, lengths)
            sw = np.repeat(sw, lengths)
        from sklearn.metrics import r2_score  # imported when first used

        return float(r2_score(Y, out, sample_weight=sw))

    def _stratify_labels(self, Y):
        return None

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags


class LSTMClassifierMixin(ClassifierMixin):
    """Classification outputs: a logistic unit for two classes, softmax for
    more; labels of any type (``classes_`` holds them, sorted)."""

    def _encode_targets(self, y, seqs, reset, classes=None):
        if self._per_step:
            Y, lengths = self._sequence_targets(y, seqs, None, reset)
            if Y.ndim != 2:
                raise ValueError(f"per-step labels must have shape (n_samples, "
                                 f"n_timesteps), got {Y.shape}.")
            labels = _real_steps(Y, lengths)
        else:
            Y = labels = column_or_1d(y, warn=True)
            check_n_samples(Y, len(seqs.X))
        check_classification_targets(labels)
        if reset:
            self._set_classes(labels if classes is None else classes)
        unseen = np.setdiff1d(np.unique(labels), self.classes_)
        if len(unseen):
            raise ValueError(f"y contains labels not seen in the first fit "
                             f"(classes_={self.classes_.tolist()}): "
                             f"{unseen.tolist()}.")
        codes = np.zeros(Y.shape, dtype=np.int64)
        if self._per_step:
            mask = np.arange(Y.shape[1])[None, :] < lengths[:, None]
            codes[mask] = np.searchsorted(self.classes_, labels)
        else:
            codes[:] = np.searchsorted(self.classes_, labels)
        if len(self.classes_) == 2:
            return codes[..., None].astype(self.dtype)
        return codes

    def _set_classes(self, labels):
        classes = np.unique(np.asarray(labels))
        if len(classes) < 2:
            raise ValueError(f"{type(self).__name__} needs samples of at least "
                             f"2 classes, but the data contains only one class: "
                             f"{classes.tolist()}.")
        self.classes_ = classes
        self._n_outputs = 1 if len(classes) == 2 else len(classes)
        if len(classes) == 2:
            self._loss, self.out_activation_ = SigmoidBinaryCrossEntropy(), \
                "logistic"
        else:
            self._loss, self.out_activation_ = SoftmaxCrossEntropy(), "softmax"

    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """One epoch of the stochastic solver over ``(X, y)``; returns self.

        ``classes`` (every label the model will see) is required on the
        first call.
        """
        if not hasattr(self, "classes_"):
            if classes is None:
                raise ValueError("classes must be passed on the first call to "
                                 "partial_fit.")
        elif classes is not None and not np.array_equal(
                np.unique(classes), self.classes_):
            raise ValueError(f"classes={list(classes)} differs from the "
                             f"classes_ of the first call "
                             f"{self.classes_.tolist()}.")
        first_classes = None if hasattr(self, "classes_") else classes
        return self._fit(X, y, sample_weight, incremental=True,
                         classes=first_classes)

    def _proba(self, logits):
        if len(self.classes_) == 2:
            z = logits[..., 0]
            p = np.empty_like(z)
            pos = z >= 0
            p[pos] = 1.0 / (1.0 + np.exp(-z[pos]))
            e = np.exp(z[~pos])
            p[~pos] = e / (1.0 + e)
            return np.stack([1.0 - p, p], axis=-1)
        shifted = logits - logits.max(axis=-1, keepdims=True)
        e = np.exp(shifted)
        return e / e.sum(axis=-1, keepdims=True)

    @state_doc("""Class probabilities ``(n, n_classes)``, or per step ``(n, T,
        n_classes)`` (a list for ragged X); columns follow ``classes_``.""",
               "proba : ndarray or list of ndarray")
    def predict_proba(self, X, initial_state=None, return_state=False):
        out, seqs, states = self._forward_from(X, initial_state, return_state)
        proba = self._proba(out)
        if self._per_step:
            proba = self._unpad_if_ragged(proba, seqs)
        return (proba, states) if return_state else proba

    @state_doc("""Predicted labels ``(n,)``, or per step ``(n, T)`` (a list
        for ragged X).""", "labels : ndarray or list of ndarray")
    def predict(self, X, initial_state=None, return_state=False):
        out, seqs, states = self._forward_from(X, initial_state, return_state)
        labels = self.classes_[np.argmax(self._proba(out), axis=-1)]
        if self._per_step:
            labels = self._unpad_if_ragged(labels, seqs)
        return (labels, states) if return_state else labels

    def score(self, X, y, sample_weight=None):
        """Mean accuracy (over real steps for sequences)."""
        if not self._per_step:
            return super().score(X, y, sample_weight)
        out, seqs = self._forward(X)
        Y = self._encode_targets(y, seqs, reset=False)
        sw = _check_sample_weight(sample_weight, seqs.X, dtype=np.float64)
        return self._accuracy(out, Y, self._output_lengths(seqs), sw)

    def _score_encoded(self, val):
        """Accuracy on the validation data."""
        out, lengths = self._validation_outputs(val)
        return self._accuracy(out, val.host_Y, lengths, val.host_weight)

    def _accuracy(self, out, Y, lengths, sw):
        pred = np.argmax(self._proba(out), axis=-1)
        true = Y[..., 0].astype(np.int64) if len(self.classes_) == 2 else Y
        if self._per_step:
            pred, true = _real_steps(pred, lengths), _real_steps(true, lengths)
            sw = np.repeat(sw, lengths)
        from sklearn.metrics import accuracy_score  # imported when first used

        return float(accuracy_score(true, pred, sample_weight=sw))

    def _stratify_labels(self, Y):
        if self._per_step:
            return None
        codes = Y[..., 0] if Y.ndim == 2 else Y
        _, counts = np.unique(codes, return_counts=True)
        return codes if counts.min() >= 2 else None
