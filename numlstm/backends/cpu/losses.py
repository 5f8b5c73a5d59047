"""Losses with their gradients (CPU).

Each kernel takes per-row weights ``w (N,)`` and returns the weighted mean
``sum_n w_n * loss_n / sum_n w_n`` (a float64), writing the gradient of that
mean with respect to its first argument into ``grad``. Unit weights give the
plain mean; a zero weight masks a row (a padded step, say). The caller
guarantees ``sum(w) > 0``.
"""

import math

from ._jit import cpu_kernel
from .activations import row_logsumexp, sigmoid_s, softplus_s


@cpu_kernel
def weight_sum(w):
    """``sum(w)`` accumulated in float64."""
    total = 0.0
    for r in range(w.size):
        total += w[r]
    return total


@cpu_kernel
def mse_loss(y_pred, y_true, w, grad):
    """Mean squared error over rows and outputs, without a 1/2 factor."""
    n, k = y_pred.shape
    scale = 1.0 / (weight_sum(w) * k)
    total = 0.0
    for r in range(n):
        for j in range(k):
            d = y_pred[r, j] - y_true[r, j]
            total += w[r] * d * d
            grad[r, j] = 2.0 * scale * w[r] * d
    return total * scale


@cpu_kernel
def softmax_cross_entropy(logits, labels, w, grad):
    """Cross-entropy of softmax(``logits`` (N, C)) against int ``labels`` (N,)."""
    n, k = logits.shape
    wsum = weight_sum(w)
    total = 0.0
    for r in range(n):
        lse = row_logsumexp(logits, r)
        total += w[r] * (lse - logits[r, labels[r]])
        for j in range(k):
            grad[r, j] = w[r] * math.exp(logits[r, j] - lse) / wsum
        grad[r, labels[r]] -= w[r] / wsum
    return total / wsum


@cpu_kernel
def sigmoid_binary_cross_entropy(logits, targets, w, grad):
    """Binary cross-entropy of sigmoid(``logits``) against ``targets`` in [0, 1].

    Averaged over rows and outputs, computed as ``softplus(z) - z * t`` so
    that no logit overflows.
    """
    n, k = logits.shape
    scale = 1.0 / (weight_sum(w) * k)
    total = 0.0
    for r in range(n):
        for j in range(k):
            z = logits[r, j]
            total += w[r] * (softplus_s(z, 1.0) - z * targets[r, j])
            grad[r, j] = scale * w[r] * (sigmoid_s(z, 1.0) - targets[r, j])
    return total * scale
