"""Mini-batch training: epochs of optimiser steps, early stopping, divergence.

As scikit-learn's ``_fit_stochastic``: the data moves to the network's
backend once per fit, each epoch gathers its mini-batches from a permutation
into the network's reused buffers, and the epoch's loss and status are read
back to the host once per epoch. A divergence, an error or Ctrl-C leaves the
weights of the last whole epoch.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from tqdm.auto import tqdm

from ..nn import DivergenceError, SequenceData, StepScalars, train_step
from ..nn.data import ChunkedSequenceData
from ..nn.training import divergence_message
from ._memory import bytes_per_sequence, warn_if_batch_too_large

#: an epoch whose mean loss exceeds this many times the loss of the fit's
#: first batch (before any update) has diverged
DIVERGENCE_FACTOR = 1e4


class StochasticMixin:
    """``_fit_stochastic`` of the LSTM estimators (solvers 'adam', 'sgd')."""

    def _fit_stochastic(self, seqs, Y, sw, incremental: bool) -> None:
        X, lengths = seqs.X, seqs.lengths
        early_stopping = self.early_stopping and not incremental
        val = None
        if early_stopping:
            (X, lengths, Y, sw), val = self._split_for_validation(X, lengths,
                                                                 Y, sw)
        optimizer = self._current_optimizer(incremental)
        n = len(X)
        batch = int(np.clip(self.batch_size, 1, n))
        network, be = self.network_, self.network_.backend
        if getattr(self, "tbptt_steps", None) is None:
            data = self._data(X, Y, lengths, sw)
            epoch = self._epoch
            self._warn_if_batch_too_large(data, batch)
        else:
            data = ChunkedSequenceData(network.backend, X, Y, lengths, sw,
                                       network.dtype, self.tbptt_steps)
            epoch = self._epoch_tbptt
            self._warn_if_batch_too_large(data.chunks[0], batch)
        epochs = 1 if incremental else self.max_iter
        bar = tqdm(total=epochs, desc=type(self).__name__, disable=not self.verbose)
        converged = False
        # the weights after the last whole epoch: what a divergence or an
        # interruption leaves behind
        last_good = network.copy_of(network.params.theta)
        scalars = StepScalars(be)
        try:
            for _ in range(epochs):
                epoch_loss = epoch(data, sw, batch, optimizer, scalars)
                self._check_divergence(epoch_loss)
                self.n_iter_ += 1
                self.t_ += n
                self.loss_curve_.append(epoch_loss)
                self._update_no_improvement_count(val)
                be.copy(network.params.theta, last_good)
                postfix = {"loss": f"{self.loss_curve_[-1]:.4g}"}
                if val is not None:
                    postfix["val"] = f"{self.validation_scores_[-1]:.4g}"
                bar.set_postfix(postfix)
                bar.update()
                if not incremental and self._no_improvement_count > \
                        self.n_iter_no_change:
                    converged = True
                    break
        except BaseException as exc:
            # a divergence, an error or Ctrl-C: back to the last whole epoch,
            # and a fresh optimiser next time (its state moved on since)
            be.copy(last_good, network.params.theta)
            self._optimizer = None
            if isinstance(exc, DivergenceError):
                raise DivergenceError(
                    f"{exc}; the weights are those of the last whole epoch. "
                    "Lower learning_rate_init, set clip_norm, or scale the "
                    "data.") from None
            raise
        finally:
            bar.close()
        if early_stopping and self._best_theta is not None:
            network.params.set_flat(self._best_theta)
        if not incremental and not converged:
            warnings.warn(f"{type(self).__name__}: maximum iterations "
                          f"({self.max_iter}) reached and the optimization "
                          "hasn't converged yet.", ConvergenceWarning,
                          stacklevel=4)

    def _epoch(self, data, sw, batch, optimizer, scalars) -> float:
        """One pass over ``data`` in mini-batches; the weighted mean loss.

        The batch weights ``wb`` come from the host copy of the sample
        weights, so the loop never waits on the backend; the loss total and
        the divergence status are read back once, at the end.
        """
        n = len(sw)
        order = self._epoch_order(n)
        order_backend = self.network_.backend.asarray(order, np.int64)
        scalars.reset()
        weight = 0.0
        for start in range(0, n, batch):
            wb = sw[order[start:start + batch]].sum()
            if wb == 0:
                continue
            self._step(data.gather(order_backend[start:start + batch]), wb,
                       optimizer, scalars)
            weight += wb
        return self._epoch_loss(scalars, weight)

    def _epoch_order(self, n: int):
        """This epoch's order of the ``n`` training rows."""
        return self._random_state.permutation(n) if self.shuffle \
            else np.arange(n)

    def _step(self, batch, weight_sum, optimizer, scalars, states=None):
        """One update on ``batch`` (backend ``(X, Y, lengths, weights)``),
        its loss added to the epoch's total with weight ``weight_sum``."""
        network = self.network_
        train_step(network, self._loss, optimizer, *batch, self.alpha,
                   self.clip_norm, scalars=scalars, weight_sum=weight_sum,
                   states=states)
        if self._loss_reference is None:  # one read per fit
            self._set_loss_reference(scalars)
        network.backend.accumulate(scalars.total, scalars.loss, weight_sum)

    @staticmethod
    def _epoch_loss(scalars, weight: float) -> float:
        """The epoch's weighted mean loss, in its one read of the backend;
        raises :class:`DivergenceError` if a step diverged."""
        total, status = scalars.read()
        if status[0]:
            raise DivergenceError(divergence_message(status))
        return float(total / weight)

    def _epoch_tbptt(self, data, sw, batch, optimizer, scalars) -> float:
        """One pass of truncated backpropagation through time over ``data``
        (a :class:`~numlstm.nn.data.ChunkedSequenceData`): each mini-batch's
        chunks in order, one update each, every chunk starting from the
        state the one before reached; the weighted mean loss.

        The rows of a batch run longest first, so the rows still running in
        a chunk are a prefix of the batch, and so is the state handed on.
        """
        network, be = self.network_, self.network_.backend
        n = len(sw)
        order = self._epoch_order(n)
        for start in range(0, n, batch):
            order[start:start + batch] = data.batch_order(order[start:start + batch])
        order_backend = be.asarray(order, np.int64)
        layers = [layer for layer in network.layers if layer.carries_state]
        carry = [tuple(network.buffers.get(f"tbptt_{name}{j}", (batch, width),
                                           network.dtype)
                       for name, width in zip(("h", "c"), layer.state_widths,
                                              strict=True))
                 for j, layer in enumerate(layers)]
        scalars.reset()
        weight = 0.0
        for start in range(0, n, batch):
            rows = order[start:start + batch]
            states = None  # each batch starts from zeros
            for k, chunk in enumerate(data.chunks):
                m = data.live_rows(rows, k)
                if m == 0:
                    break
                part = chunk.gather(order_backend[start:start + m])
                wb = sw[rows[:m]].sum()
                if wb > 0:
                    self._step(part, wb, optimizer, scalars, states)
                    weight += wb
                else:  # nothing to learn here; the state still moves on
                    network.forward(part[0], part[2], states=states)
                m = data.live_rows(rows, k + 1)
                for layer, (h, c) in zip(layers, carry, strict=True):
                    h_n, c_n = layer.final_state()
                    be.copy(h_n[:m], h[:m])
                    be.copy(c_n[:m], c[:m])
                states = [(h[:m], c[:m]) for h, c in carry]
        return self._epoch_loss(scalars, weight)

    def _split_for_validation(self, X, lengths, Y, sw):
        """The training arrays and the validation :class:`SequenceData` of
        ``early_stopping`` (stratified for classifiers)."""
        if len(X) < 2:
            raise ValueError("early_stopping needs at least 2 samples.")
        from sklearn.model_selection import train_test_split  # slow import

        train, val = train_test_split(
            np.arange(len(X)), test_size=self.validation_fraction,
            random_state=self._random_state, stratify=self._stratify_labels(Y))
        if sw[val].sum() <= 0 or sw[train].sum() <= 0:
            part = "validation" if sw[val].sum() <= 0 else "training"
            raise ValueError(
                f"early_stopping: the {part} split (validation_fraction="
                f"{self.validation_fraction}) holds only samples of "
                "sample_weight 0, so it cannot score the model; give "
                "weight to more samples or change random_state.")
        if self.validation_scores_ is None:  # turned on after a fit
            self.validation_scores_, self.best_validation_score_ = [], -np.inf
        tbptt = getattr(self, "tbptt_steps", None)
        if tbptt is None:
            validation = self._data(X[val], Y[val], lengths[val], sw[val])
        else:
            # scored in chunks too (memory of one chunk, not of the whole
            # sequences), longest first: the rows still running in a chunk
            # are a prefix (see ChunkedSequenceData)
            val = val[np.argsort(-lengths[val], kind="stable")]
            validation = ChunkedSequenceData(
                self.network_.backend, X[val], Y[val], lengths[val], sw[val],
                self.network_.dtype, tbptt)
        return (X[train], lengths[train], Y[train], sw[train]), validation

    def _data(self, X, Y, lengths, sample_weight) -> SequenceData:
        """Validated host arrays moved to the network's backend, once."""
        network = self.network_
        return SequenceData(network.backend, X, Y, lengths, sample_weight,
                            network.dtype)

    def _warn_if_batch_too_large(self, data, batch: int) -> None:
        if self._bytes_per_sequence is None:
            # measured once per network, while it is fresh (on the first fit;
            # building another network would cost its initialisation)
            self._bytes_per_sequence = bytes_per_sequence(self.network_,
                                                          self._loss, data)
        warn_if_batch_too_large(type(self).__name__, batch, data.X.shape[1],
                                self._bytes_per_sequence)

    def _set_loss_reference(self, scalars) -> None:
        """The first batch's loss, the scale of :meth:`_check_divergence`
        (unless it is not finite: the status then stops the fit)."""
        value = float(self.network_.backend.to_host(scalars.loss)[0])
        if math.isfinite(value):
            self._loss_reference = value

    def _check_divergence(self, loss: float) -> None:
        """Raise :class:`DivergenceError` for an epoch loss that is not
        finite or has grown past :data:`DIVERGENCE_FACTOR` times the loss
        of the first batch."""
        reference = self._loss_reference
        if math.isfinite(loss) and not (reference and
                                        loss > DIVERGENCE_FACTOR * reference):
            return
        if math.isfinite(loss):
            why = (f"its mean loss {loss:.4g} is more than "
                   f"{DIVERGENCE_FACTOR:g} times the first batch's "
                   f"({reference:.4g})")
        else:
            why = f"its mean loss is {loss}"
        raise DivergenceError(f"training diverged at epoch {self.n_iter_ + 1}: "
                              f"{why}")

    def _update_no_improvement_count(self, val) -> None:
        """scikit-learn's rule: count epochs without an improvement > tol."""
        if val is not None:
            score = self._score_encoded(val)
            self.validation_scores_.append(score)
            if score < self.best_validation_score_ + self.tol:
                self._no_improvement_count += 1
            else:
                self._no_improvement_count = 0
            if score > self.best_validation_score_:
                self.best_validation_score_ = score
                self._best_theta = np.array(self.network_.backend.to_host(
                    self.network_.params.theta))
        else:
            loss = self.loss_curve_[-1]
            if loss > self.best_loss_ - self.tol:
                self._no_improvement_count += 1
            else:
                self._no_improvement_count = 0
        self.best_loss_ = min(self.best_loss_, self.loss_curve_[-1])
