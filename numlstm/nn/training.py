"""One training step: forward, loss, backward, clipping, update."""

from __future__ import annotations

import math

import numpy as np


class DivergenceError(FloatingPointError):
    """The loss or the gradient became NaN or infinite; weights were kept."""


def sequence_weights(sample_weight, lengths, n_steps: int):
    """Row weights ``(B, T)`` for per-step outputs: sample weight x step mask."""
    mask = np.arange(n_steps)[None, :] < np.asarray(lengths)[:, None]
    return np.asarray(sample_weight, dtype=np.float64)[:, None] * mask


def loss_and_gradient(network, loss, X, y, lengths=None, sample_weight=None,
                      alpha: float = 0.0, training: bool = True) -> float:
    """Forward and backward over one batch; return the loss.

    The gradient of the returned loss lands in ``network.params.grad``.
    Per-step outputs of ragged sequences are masked: padded steps have weight
    0. ``alpha`` adds the L2 penalty ``alpha / (2 n) * ||W||^2`` over the weight
    matrices (not the biases), ``n`` the sum of the batch's sample weights
    (its number of sequences when unweighted): scikit-learn's
    ``MLPRegressor`` convention, so one ``alpha`` means the same whatever the
    batch size. ``training=False`` turns dropout off, which makes the loss a
    deterministic function of the weights.
    """
    X, lengths = network.prepare_input(X, lengths)
    n = X.shape[0]
    sw = np.ones(n) if sample_weight is None else np.asarray(sample_weight)
    out = network.forward(X, lengths, training=training, targets=y)
    if out.ndim == 3:
        weights = sequence_weights(sw, network.output_lengths(lengths, out),
                                   out.shape[1])
    else:
        weights = sw
    value, grad = loss(network.backend, out, y, weights)
    network.backward(grad)
    if alpha:
        value += _add_l2(network, alpha / float(np.sum(sw)))
    return value


def _add_l2(network, alpha: float) -> float:
    penalty = 0.0
    for name, w in network.params.views.items():
        if w.ndim >= 2:
            penalty += 0.5 * alpha * float(np.sum(w.astype(np.float64) ** 2))
            network.params.grad_views[name] += alpha * w
    return penalty


def train_step(network, loss, optimizer, X, y, lengths=None,
               sample_weight=None, alpha: float = 0.0,
               clip_norm: float | None = None) -> float:
    """One optimiser update on one batch; return the batch loss.

    Raises
    ------
    DivergenceError
        If the loss or the gradient norm is not finite. The weights are left
        as they were before the step.
    """
    value = loss_and_gradient(network, loss, X, y, lengths, sample_weight, alpha)
    grad = network.params.grad
    if clip_norm is None:
        norm = network.backend.global_norm(grad)
    else:
        norm = network.backend.clip_grad_norm(grad, clip_norm)
    if not (math.isfinite(value) and math.isfinite(norm)):
        raise DivergenceError(
            f"training diverged: loss={value}, gradient norm={norm}; the "
            "weights are those before this step. Lower learning_rate_init, "
            "set clip_norm, or scale the data.")
    theta, backup = network.params.theta, network.params.backup
    backup[:] = theta
    optimizer.step(theta, grad)
    if not math.isfinite(network.backend.global_norm(theta)):
        theta[:] = backup
        raise DivergenceError(
            f"training diverged: the update overflowed (loss={value}, gradient "
            f"norm={norm}); the weights are those before this step. Lower "
            "learning_rate_init, set clip_norm, or scale the data.")
    return value
