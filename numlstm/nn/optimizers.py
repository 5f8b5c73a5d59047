"""Optimisers: tiny classes holding their state, stepping one flat vector.

As in scikit-learn's ``_stochastic_optimizers``: each keeps its state arrays
and updates the parameter vector in place, through one backend kernel.
"""

from __future__ import annotations


class Optimizer:
    """Base class: lazily allocates state shaped like ``theta``."""

    def __init__(self, backend, learning_rate: float) -> None:
        self.backend = backend
        self.learning_rate = float(learning_rate)
        self.state = None

    def _status(self, status):
        """The caller's divergence status, or a clear one of our own."""
        if status is not None:
            return status
        if getattr(self, "_clear_status", None) is None:
            self._clear_status = self.backend.zeros(3, "float64")
        return self._clear_status

    def __getstate__(self):
        # host arrays and no backend: a model trained on a GPU unpickles
        # where there is none, and :meth:`bind` puts the state back
        state = self.__dict__.copy()
        backend = state.pop("backend")
        state.pop("_clear_status", None)  # remade when needed
        if self.state is not None:
            state["state"] = [backend.to_host(a).copy() for a in self.state]
        return state

    def bind(self, backend) -> None:
        """Keep the state on ``backend`` from now on (after unpickling)."""
        self.backend = backend
        if self.state is not None:
            self.state = [backend.asarray(a, a.dtype) for a in self.state]

    def _ensure_state(self, theta, n: int):
        if self.state is None or self.state[0].shape != theta.shape:
            self.state = [self.backend.zeros(theta.shape, theta.dtype)
                          for _ in range(n)]
        return self.state


class SGD(Optimizer):
    """Stochastic gradient descent with optional (Nesterov) momentum.

    Examples
    --------
    >>> import numpy as np
    >>> from numlstm.backends import resolve
    >>> theta = np.ones(3)
    >>> SGD(resolve("cpu"), 0.1, momentum=0.0).step(theta, np.ones(3))
    >>> theta
    array([0.9, 0.9, 0.9])
    """

    def __init__(self, backend, learning_rate=0.01, momentum=0.9,
                 nesterov=True) -> None:
        super().__init__(backend, learning_rate)
        self.momentum = float(momentum)
        self.nesterov = bool(nesterov)

    def step(self, theta, grad, status=None) -> None:
        """Update ``theta`` in place, unless ``status`` (see the backend
        contract) says training diverged."""
        (velocity,) = self._ensure_state(theta, 1)
        self.backend.sgd_step(theta, grad, velocity, self.learning_rate,
                              self.momentum, self.nesterov, self._status(status))


class Adam(Optimizer):
    """Adam with bias correction (Kingma and Ba, 2015)."""

    def __init__(self, backend, learning_rate=1e-3, beta_1=0.9, beta_2=0.999,
                 epsilon=1e-8) -> None:
        super().__init__(backend, learning_rate)
        self.beta_1, self.beta_2 = float(beta_1), float(beta_2)
        self.epsilon = float(epsilon)
        self.t = 0

    def step(self, theta, grad, status=None) -> None:
        """As :meth:`SGD.step`."""
        m, v = self._ensure_state(theta, 2)
        self.t += 1
        self.backend.adam_step(theta, grad, m, v, self.t, self.learning_rate,
                               self.beta_1, self.beta_2, self.epsilon,
                               self._status(status))


class RMSprop(Optimizer):
    """RMSprop with a running mean of squared gradients."""

    def __init__(self, backend, learning_rate=1e-3, rho=0.9,
                 epsilon=1e-8) -> None:
        super().__init__(backend, learning_rate)
        self.rho, self.epsilon = float(rho), float(epsilon)

    def step(self, theta, grad, status=None) -> None:
        """As :meth:`SGD.step`."""
        (sq,) = self._ensure_state(theta, 1)
        self.backend.rmsprop_step(theta, grad, sq, self.learning_rate, self.rho,
                                  self.epsilon, self._status(status))
