"""Losses over network outputs, with masking for ragged sequences.

Each loss takes outputs ``(B, K)`` or ``(B, T, K)``, targets of the matching
shape (integer class indices ``(B,)``/``(B, T)`` for softmax cross-entropy)
and row weights ``(B,)``/``(B, T)`` (sample weights times the step mask), and
returns ``(loss, grad)``: the weighted mean and its gradient with respect to
the outputs, shaped like the outputs.
"""

from __future__ import annotations

import numpy as np


class Loss:
    """Base class; subclasses name the backend kernel that computes them."""

    kernel = ""
    #: dtype of the targets given to the kernel (None: the outputs' dtype)
    target_dtype = None

    def __call__(self, backend, y_pred, y_true, weights):
        """``(loss, grad)``: the loss as a float (read from the backend)
        and its gradient in a new array; safe to call from many threads."""
        out = backend.zeros(1, np.float64)
        grad = backend.empty(y_pred.shape, y_pred.dtype)
        self.into(backend, y_pred, y_true, weights, out, grad)
        return float(backend.to_host(out)[0]), grad

    def into(self, backend, y_pred, y_true, weights, out, grad=None):
        """The loss into ``out[0]`` (a 1-element float64 backend array, so
        that it stays in the backend's memory) and its gradient into
        ``grad`` (shaped like ``y_pred``; by default a buffer of this loss,
        which the next call overwrites: one training loop at a time);
        returns the gradient."""
        K = y_pred.shape[y_pred.ndim - 1]
        pred2 = y_pred.reshape(-1, K)
        target_shape = y_pred.shape if self.target_dtype is None \
            else y_pred.shape[:-1]
        if _shape(y_true) != target_shape:
            raise ValueError(f"targets of shape {_shape(y_true)} do not fit "
                             f"the network's outputs of shape {y_pred.shape}: "
                             f"{type(self).__name__} needs targets of shape "
                             f"{target_shape}")
        if _shape(weights) != y_pred.shape[:-1]:
            raise ValueError(f"row weights of shape {_shape(weights)} do not "
                             f"fit the outputs of shape {y_pred.shape}")
        if self.target_dtype is None:
            true = backend.asarray(y_true, y_pred.dtype).reshape(-1, K)
        else:
            if backend.on_host(y_true):  # else checked before it was moved
                self.check_labels(np.asarray(y_true), K)
            true = backend.asarray(y_true, self.target_dtype).reshape(-1)
        w = backend.asarray(weights, y_pred.dtype).reshape(-1)
        if grad is None:
            grad = self._grad(backend, y_pred.shape, y_pred.dtype)
        getattr(backend, self.kernel)(pred2, true, w, grad.reshape(-1, K), out)
        return grad

    def _grad(self, backend, shape, dtype):
        grad = self.__dict__.get("_grad_buffer")
        if grad is None or grad.shape != shape or grad.dtype != dtype \
                or self.__dict__.get("_grad_backend") is not backend:
            grad = self._grad_buffer = backend.empty(shape, dtype)
            self._grad_backend = backend
        return grad

    def __getstate__(self):
        state = self.__dict__.copy()
        state.pop("_grad_buffer", None)  # a buffer does not travel
        state.pop("_grad_backend", None)
        return state


def _shape(a) -> tuple:
    return tuple(a.shape) if hasattr(a, "shape") else np.shape(a)


class MeanSquaredError(Loss):
    """Mean squared error over samples and outputs (no 1/2 factor)."""

    kernel = "mse_loss"


class SoftmaxCrossEntropy(Loss):
    """Mean cross-entropy of softmax(outputs) against class indices."""

    kernel = "softmax_cross_entropy"
    target_dtype = np.int64

    @staticmethod
    def check_labels(labels, n_classes: int) -> None:
        """Class indices must lie in ``0..n_classes - 1`` (the kernel indexes
        the outputs by them)."""
        if labels.size and (labels.min() < 0 or labels.max() >= n_classes):
            raise ValueError(f"class indices must lie in 0..{n_classes - 1} "
                             f"(the network's {n_classes} outputs), got "
                             f"{labels.min()}..{labels.max()}")


class SigmoidBinaryCrossEntropy(Loss):
    """Mean binary cross-entropy of sigmoid(outputs) against 0/1 targets."""

    kernel = "sigmoid_binary_cross_entropy"
