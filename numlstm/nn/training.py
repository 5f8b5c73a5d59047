"""One training step: forward, loss, backward, clipping, update.

Every array these functions touch belongs to the backend, and every scalar
they produce (the loss, the gradient norm, the divergence status) stays in a
small backend array (:class:`StepScalars`): the estimator reads those once
per epoch. The public :func:`loss_and_gradient` and :func:`train_step`
also take host arrays and return floats, reading the scalars at once.
"""

from __future__ import annotations

import numpy as np


class DivergenceError(FloatingPointError):
    """The loss or the gradient became NaN or infinite; weights were kept."""


class StepScalars:
    """The backend arrays a training step writes its scalars into.

    ``loss`` and ``norm`` hold the last batch's loss and gradient norm,
    ``total`` an epoch's weighted loss (:meth:`Backend.accumulate`), and
    ``status`` the divergence status of the backend contract.
    """

    def __init__(self, backend) -> None:
        self.backend = backend
        self.loss = backend.zeros(1, np.float64)
        self.norm = backend.zeros(1, np.float64)
        self.total = backend.zeros(1, np.float64)
        self.status = backend.zeros(3, np.float64)

    def read(self) -> tuple:
        """``(total, status)`` as host values: one read per epoch."""
        be = self.backend
        return float(be.to_host(self.total)[0]), np.array(be.to_host(self.status))

    def reset(self) -> None:
        """Zero the epoch's total and the status."""
        self.backend.fill(self.total, 0.0)
        self.backend.fill(self.status, 0.0)


def divergence_message(status) -> str:
    """What a set status says, for :class:`DivergenceError`."""
    flag, loss, norm = (float(v) for v in status[:3])
    if flag == 2:
        return (f"training diverged: the update overflowed (loss={loss}, "
                f"gradient norm={norm})")
    return f"training diverged: loss={loss}, gradient norm={norm}"


def sequence_weights(sample_weight, lengths, n_steps: int):
    """Row weights ``(B, T)`` of host arrays: sample weight x step mask (the
    host twin of :meth:`Backend.sequence_weights`, float64)."""
    mask = np.arange(n_steps)[None, :] < np.asarray(lengths)[:, None]
    return np.asarray(sample_weight, dtype=np.float64)[:, None] * mask


def batch_loss_and_gradient(network, loss, X, y, lengths, sample_weight,
                            l2_scale: float, training: bool, out,
                            states=None) -> tuple:
    """Forward and backward over one batch of backend arrays; returns the
    shape of the network's outputs.

    The loss goes into ``out[0]``, its gradient into ``network.params.grad``.
    ``sample_weight (B,)`` is a backend array of the network's dtype;
    ``l2_scale`` is ``alpha`` over the sum of the batch's sample weights.
    ``states``: the recurrent layers' initial states (see
    :meth:`~numlstm.nn.Sequential.forward`), constants of the gradient.
    """
    X, lengths = network.prepare_input(X, lengths)
    n = X.shape[0]
    if tuple(sample_weight.shape) != (n,):
        raise ValueError(f"sample_weight has shape {tuple(sample_weight.shape)}"
                         f", but X holds {n} sequences")
    if states is None:
        outputs = network.forward(X, lengths, training=training, targets=y)
    else:
        outputs = network.forward(X, lengths, training=training, targets=y,
                                  states=states)
    if outputs.ndim == 3:
        weights = network.buffers.get("row_weights", outputs.shape[:2],
                                      outputs.dtype)
        network.backend.sequence_weights(
            sample_weight, network.output_lengths(lengths, outputs), weights)
    else:
        weights = sample_weight
    network.backward(loss.into(network.backend, outputs, y, weights, out))
    if l2_scale:
        params = network.params
        network.backend.l2_penalty(params.theta, params.grad, params.segments,
                                   l2_scale, out)
    return tuple(outputs.shape)


def _host_weights(network, sample_weight, n: int):
    """Host sample weights (ones when None) and their backend twin."""
    sw = np.ones(n) if sample_weight is None else np.asarray(sample_weight)
    if sw.shape != (n,):
        raise ValueError(f"sample_weight has shape {sw.shape}, but X holds {n} "
                         "sequences")
    return sw, network.backend.asarray(sw, network.dtype)


def loss_and_gradient(network, loss, X, y, lengths=None, sample_weight=None,
                      alpha: float = 0.0, training: bool = True,
                      states=None) -> float:
    """Forward and backward over one batch; return the loss.

    The gradient of the returned loss lands in ``network.params.grad``.
    Per-step outputs of ragged sequences are masked: padded steps have weight
    0. ``alpha`` adds the L2 penalty ``alpha / (2 n) * ||W||^2`` over the weight
    matrices (not the biases), ``n`` the sum of the batch's sample weights
    (its number of sequences when unweighted): scikit-learn's
    ``MLPRegressor`` convention, so one ``alpha`` means the same whatever the
    batch size. ``training=False`` turns dropout off, which makes the loss a
    deterministic function of the weights. ``states``: the recurrent
    layers' initial states (:meth:`~numlstm.nn.Sequential.forward`),
    constants of the gradient.
    """
    sw, sw_backend = _host_weights(network, sample_weight, len(X))
    out = network.backend.zeros(1, np.float64)
    scale = alpha / float(np.sum(sw)) if alpha else 0.0
    batch_loss_and_gradient(network, loss, X, y, lengths, sw_backend, scale,
                            training, out, states)
    return float(network.backend.to_host(out)[0])


def chunked_loss_and_gradient(network, loss, data, alpha: float,
                              chunk_size: int):
    """:func:`loss_and_gradient` without dropout over all of ``data`` (a
    :class:`~numlstm.nn.data.SequenceData`), computed ``chunk_size``
    sequences at a time; returns ``(loss, grad)``, host float64.

    The loss is a weighted mean over rows, so the whole data's loss and
    gradient are the chunks' ones weighted by their share of the row weights:
    memory is that of one chunk, whatever the number of sequences.
    """
    be, sw = network.backend, data.host_weight
    out = network.buffers.get("chunk_loss", (1,), np.float64)
    total_value, total_weight = 0.0, 0.0
    total_grad = np.zeros(network.params.size)
    for start in range(0, data.n, int(chunk_size)):
        part = slice(start, start + int(chunk_size))
        if not np.any(sw[part] > 0):
            continue  # nothing to learn there (and a zero-weight mean is 0/0)
        X, Y, lengths, w = data.slice(part)
        shape = batch_loss_and_gradient(network, loss, X, Y, lengths, w, 0.0,
                                        False, out)
        if len(shape) == 3:
            steps = network.host_output_lengths(data.host_lengths[part], shape)
            weight = float(np.sum(sequence_weights(sw[part], steps, shape[1])))
        else:
            weight = float(np.sum(sw[part]))
        total_value += float(be.to_host(out)[0]) * weight
        total_weight += weight
        total_grad += weight * be.to_host(network.params.grad)
    value = total_value / total_weight
    total_grad /= total_weight
    if alpha:
        scale = alpha / float(np.sum(sw))
        theta = np.asarray(be.to_host(network.params.theta), dtype=np.float64)
        for start, stop in network.params.host_segments:
            w = theta[start:stop]
            value += 0.5 * scale * float(np.sum(w ** 2))
            total_grad[start:stop] += scale * w
    return value, total_grad


def train_step(network, loss, optimizer, X, y, lengths=None,
               sample_weight=None, alpha: float = 0.0,
               clip_norm: float | None = None, *, scalars=None,
               weight_sum: float | None = None, states=None):
    """One optimiser update on one batch; return the batch loss.

    With ``scalars`` (a :class:`StepScalars`) the step reads nothing back:
    ``X``, ``y``, ``lengths`` and ``sample_weight`` are backend arrays (the
    sample weights in the network's dtype, ``weight_sum`` their host sum),
    the loss stays in ``scalars.loss``, a divergence only sets
    ``scalars.status`` (later steps then do nothing) and the function
    returns None. Without, it takes host arrays, returns the loss as a
    float and raises at once. ``states``: the recurrent layers' initial
    states (truncated backpropagation through time carries them from one
    chunk of steps to the next; no gradient flows into them).

    Raises
    ------
    DivergenceError
        If the loss or the gradient norm is not finite, or the update
        overflows (only without ``scalars``). The weights are left as they
        were before the step.
    """
    be = network.backend
    standalone = scalars is None
    if standalone:
        scalars = StepScalars(be)
        sw, sample_weight = _host_weights(network, sample_weight, len(X))
        weight_sum = float(np.sum(sw))
    scale = alpha / weight_sum if alpha else 0.0
    batch_loss_and_gradient(network, loss, X, y, lengths, sample_weight, scale,
                            True, scalars.loss, states)
    params = network.params
    if clip_norm is None:
        be.global_norm(params.grad, scalars.norm)
    else:
        be.clip_grad_norm(params.grad, clip_norm, scalars.norm)
    be.step_guard(scalars.loss, scalars.norm, scalars.status)
    be.copy(params.theta, params.backup)
    optimizer.step(params.theta, params.grad, scalars.status)
    be.guard_update(params.theta, params.backup, scalars.status)
    if not standalone:
        return None
    status = be.to_host(scalars.status)
    if status[0]:
        raise DivergenceError(divergence_message(status))
    return float(be.to_host(scalars.loss)[0])
