"""L-BFGS on the flat weight vector, and the objective it minimises.

As scikit-learn's ``_fit_lbfgs``: SciPy's L-BFGS-B on the concatenated
weights, with the loss and gradient of the whole data from
:meth:`make_objective`'s function, evaluated in chunks of sequences that keep
the buffers within :data:`~._memory.WORKSPACE_BUDGET`.
"""

from __future__ import annotations

import copy
import math
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from tqdm.auto import tqdm

from ..nn import DivergenceError, SequenceData
from ..nn.training import chunked_loss_and_gradient
from ._memory import bytes_per_sequence, chunk_size


def _as_text(message) -> str:
    """SciPy's result message (bytes in older versions) as text."""
    return message.decode() if isinstance(message, bytes) else str(message)


class LBFGSMixin:
    """``_fit_lbfgs`` and ``make_objective`` of the LSTM estimators."""

    def _fit_lbfgs(self, seqs, Y, sw) -> None:
        from scipy.optimize import minimize  # slow to import: only when used

        fun, theta0 = self._objective(self.network_, seqs, Y, sw)
        bar = tqdm(total=self.max_iter, desc=f"{type(self).__name__} (L-BFGS)",
                   disable=not self.verbose)

        accepted = theta0.copy()

        def record(xk):
            # each accepted iterate becomes the estimator's state, so that an
            # interruption leaves the weights, n_iter_ and loss_curve_ of the
            # last whole iteration
            accepted[:] = xk
            self.network_.params.set_flat(xk)
            self.loss_curve_.append(fun.loss_at(xk))
            self.n_iter_ += 1
            self.t_ += len(seqs.X)
            bar.set_postfix({"loss": f"{self.loss_curve_[-1]:.4g}"})
            bar.update()

        iterations = self.n_iter_
        try:
            result = minimize(fun, theta0, jac=True, method="L-BFGS-B",
                              callback=record,
                              options={"maxiter": self.max_iter,
                                       "maxfun": 15000, "gtol": self.tol})
        except BaseException as exc:
            self.network_.params.set_flat(accepted)
            if isinstance(exc, DivergenceError):
                raise DivergenceError(
                    f"{exc}; the weights are those of the last L-BFGS "
                    "iteration. Scale the data or raise alpha.") from None
            raise
        finally:
            bar.close()
        final = fun.loss_at(result.x)
        self.network_.params.set_flat(result.x)
        self.best_loss_ = min(self.best_loss_, final)
        if self.n_iter_ == iterations:
            self.loss_curve_.append(final)
        if result.status == 1:
            warnings.warn(f"{type(self).__name__}: L-BFGS reached max_iter "
                          f"({self.max_iter}) before converging.",
                          ConvergenceWarning, stacklevel=4)
        elif result.status != 0 or final > (1 - 1e-3) * fun.first_loss:
            how = "abnormally" if result.status != 0 else \
                f"without reducing the loss (it was {fun.first_loss:.4g})"
            warnings.warn(f"{type(self).__name__}: L-BFGS stopped {how} after "
                          f"{result.nit} iterations at a loss of {final:.4g}: "
                          f"{_as_text(result.message)} (SciPy's status "
                          f"{result.status}). Scale the data (the targets, "
                          "say), or try solver='adam'.", ConvergenceWarning,
                          stacklevel=4)

    def _objective(self, network, seqs, Y, sw):
        """``fun(theta) -> (loss, grad)`` in float64 over the whole data,
        evaluated in chunks of sequences that keep the buffers within
        :data:`~._memory.WORKSPACE_BUDGET`."""
        probe = self._make_network(self._spec, network.backend, 0)
        probe.share_weights(network)
        data = SequenceData(network.backend, seqs.X, Y, seqs.lengths, sw,
                            network.dtype)
        chunk = chunk_size(bytes_per_sequence(probe, self._loss, data))

        def fun(theta):
            network.params.set_flat(np.asarray(theta, dtype=np.float64))
            value, grad = chunked_loss_and_gradient(network, self._loss, data,
                                                    self.alpha, chunk)
            if not math.isfinite(value) or not np.all(np.isfinite(grad)):
                raise DivergenceError(
                    f"loss or gradient is not finite (loss={value})")
            if fun.first_loss is None:
                fun.first_loss = value
            fun.last_loss, fun.last_theta = value, np.array(theta, np.float64)
            return value, grad

        def loss_at(theta) -> float:
            """The loss at ``theta``: the last evaluation's when it was there."""
            if not np.array_equal(theta, fun.last_theta):
                fun(theta)
            return float(fun.last_loss)

        theta0 = np.array(network.backend.to_host(network.params.theta),
                          dtype=np.float64)
        fun.last_loss, fun.last_theta = np.nan, theta0.copy()
        fun.loss_at, fun.chunk_size, fun.first_loss = loss_at, chunk, None
        return fun, theta0

    def make_objective(self, X, y, sample_weight=None):
        """The training loss as a function of the flat weight vector.

        Returns
        -------
        fun : callable
            ``fun(theta) -> (loss, grad)``, both float64, ready for
            ``scipy.optimize.minimize(fun, theta0, jac=True)``. The loss is
            the one ``fit`` minimises (mean squared error or mean
            cross-entropy, plus the ``alpha`` term) on all of ``X``.
        theta0 : ndarray
            The current weights (the initial ones if not fitted): the
            concatenation of the :meth:`get_weights` arrays, in that dict's
            order, each raveled in C order.

        ``fun`` works on its own copy of the network: calling it never
        changes this estimator. Dropout is off in ``fun``, so the loss is a
        deterministic function of ``theta``. It evaluates ``X`` in chunks of
        sequences (``fun.chunk_size`` of them) whose buffers stay within
        512 MiB, so its memory does not grow with the number of sequences.
        """
        est = self if hasattr(self, "network_") else copy.deepcopy(self)
        est._validate_hyperparameters()
        fitted = est is self
        if fitted:
            self._check_architecture("make an objective")
        seqs, Y, sw = est._objective_data(X, y, sample_weight, reset=not fitted)
        if not fitted:
            est._initialize(seqs)
        network = est._make_network(est._spec, est.network_.backend, 0)
        network.backend.copy(est.network_.params.theta, network.params.theta)
        return est._objective(network, seqs, Y, sw)

    def _objective_data(self, X, y, sample_weight, reset):
        """The ``(sequences, targets, weights)`` that :meth:`make_objective`
        puts into the loss (what ``fit`` trains on)."""
        return self._validate_data(X, y, sample_weight, reset=reset)
