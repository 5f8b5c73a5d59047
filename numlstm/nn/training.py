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
    value, _ = _data_loss_and_gradient(network, loss, X, y, lengths,
                                       sample_weight, training)
    if alpha:
        sw = np.ones(len(X)) if sample_weight is None else sample_weight
        value += _add_l2(network, alpha / float(np.sum(sw)))
    return value


def _data_loss_and_gradient(network, loss, X, y, lengths, sample_weight,
                            training):
    """The data term of :func:`loss_and_gradient` and the sum of the row
    weights it is the weighted mean over."""
    X, lengths = network.prepare_input(X, lengths)
    n = X.shape[0]
    sw = np.ones(n) if sample_weight is None else np.asarray(sample_weight)
    if sw.shape != (n,):
        raise ValueError(f"sample_weight has shape {sw.shape}, but X holds {n} "
                         "sequences")
    out = network.forward(X, lengths, training=training, targets=y)
    if out.ndim == 3:
        weights = sequence_weights(sw, network.output_lengths(lengths, out),
                                   out.shape[1])
    else:
        weights = sw
    value, grad = loss(network.backend, out, y, weights)
    network.backward(grad)
    return value, float(np.sum(weights))


def chunked_loss_and_gradient(network, loss, X, y, lengths, sample_weight,
                              alpha: float, chunk_size: int):
    """:func:`loss_and_gradient` without dropout over all of ``X``, computed
    ``chunk_size`` sequences at a time; returns ``(loss, grad)``, both float64.

    The loss is a weighted mean over rows, so the whole data's loss and
    gradient are the chunks' ones weighted by their share of the row weights:
    memory is that of one chunk, whatever the number of sequences.
    """
    n = len(X)
    sw = np.ones(n) if sample_weight is None else np.asarray(sample_weight)
    total_value, total_weight = 0.0, 0.0
    total_grad = np.zeros(network.params.size)
    for start in range(0, n, int(chunk_size)):
        part = slice(start, start + int(chunk_size))
        if not np.any(sw[part] > 0):
            continue  # nothing to learn there (and a zero-weight mean is 0/0)
        value, weight = _data_loss_and_gradient(
            network, loss, X[part], y[part],
            None if lengths is None else lengths[part], sw[part], False)
        total_value += value * weight
        total_weight += weight
        total_grad += weight * network.backend.to_host(network.params.grad)
    value = total_value / total_weight
    total_grad /= total_weight
    if alpha:
        scale = alpha / float(np.sum(sw))
        for name, w in network.params.views.items():
            if w.ndim >= 2:
                host = np.asarray(network.backend.to_host(w), dtype=np.float64)
                value += 0.5 * scale * float(np.sum(host ** 2))
                start = network.params.offsets[name]
                total_grad[start:start + host.size] += scale * host.ravel()
    return value, total_grad


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
            f"training diverged: loss={value}, gradient norm={norm}")
    theta, backup = network.params.theta, network.params.backup
    backup[:] = theta
    optimizer.step(theta, grad)
    if not math.isfinite(network.backend.global_norm(theta)):
        theta[:] = backup
        raise DivergenceError(
            f"training diverged: the update overflowed (loss={value}, gradient "
            f"norm={norm})")
    return value
