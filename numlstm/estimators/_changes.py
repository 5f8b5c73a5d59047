"""Parameters changed with ``set_params`` after a fit.

Architecture parameters shape the fitted network: once it exists, a
warm start, ``partial_fit``, predict or ``make_objective`` with other values
is refused with a ValueError naming them (scikit-learn refuses a
warm-started MLP whose shape no longer matches). Training parameters take
effect on the next call: the optimiser keeps its state with the new
settings, and ``dropout`` and the backend rebuild the network around the
same weights.
"""

from __future__ import annotations

import dataclasses
import functools

import numpy as np

from ..backends import resolve
from ..nn import SGD, Adam, RMSprop
from ._spec import SIZES


@functools.cache
def _architecture_parameters(cls) -> tuple:
    """The constructor parameters of ``cls`` that are not training ones."""
    from ._base import TRAINING_PARAMETERS  # the base imports this module

    return tuple(name for name in cls._get_param_names()
                 if name not in TRAINING_PARAMETERS)


class ParameterChangesMixin:
    """Checks of the parameters against the fitted network (needs
    ``_spec``, ``_network_spec``, ``_make_network``, ``network_``).

    The fields of the network spec (:mod:`._spec`) say which are training
    ones (``dropout``: the network is rebuilt around the same weights, as
    dropout layers hold none) and which parameter sets each."""

    def _current_spec(self):
        return self._network_spec(self._spec.n_inputs, self._spec.n_outputs)

    def _architecture_changes(self) -> list:
        """``(parameter, fitted value, current value)`` of each architecture
        parameter changed since the network was built."""
        fitted = self._spec
        try:
            current = self._current_spec()
        except (TypeError, ValueError):
            return [("the architecture parameters", "valid values",
                     "values that no network can be built from")]
        changes = []
        for field in dataclasses.fields(fitted):
            value, now = getattr(fitted, field.name), getattr(current, field.name)
            if field.metadata.get("training") or now == value:
                continue
            name = field.metadata.get("parameter") or field.name
            changes.append((self._sizes_param if name == SIZES else name,
                            value, now))
        return changes

    def _check_architecture(self, action: str) -> None:
        """Refuse to ``action`` after architecture parameters changed."""
        # the parameters as last found unchanged, kept on the network (not
        # in the estimator's __dict__, which predict must leave as it was):
        # a predict then costs one tuple comparison, not a network spec
        values = tuple(tuple(v) if isinstance(v, (list, np.ndarray)) else v
                       for v in map(self.__dict__.get,
                                    _architecture_parameters(type(self))))
        if getattr(self.network_, "checked_parameters", None) == values:
            return
        changes = self._architecture_changes()
        if changes:
            what = "; ".join(f"{name} was {old!r} at fit and is now {new!r}"
                             for name, old, new in changes)
            raise ValueError(
                f"{type(self).__name__} cannot {action}: {what}. The fitted "
                "network has the old architecture: set the parameter back, "
                "or refit from scratch (fit with warm_start=False).")
        self.network_.checked_parameters = values

    def _apply_training_changes(self) -> None:
        """Rebuild the network around its weights when a training parameter
        that shapes it (dropout) or the backend changed since it was built."""
        current = self._current_spec()
        spec = dataclasses.replace(self._spec, **{
            field.name: getattr(current, field.name)
            for field in dataclasses.fields(current)
            if field.metadata.get("training")})
        backend = resolve(self.backend)
        if spec == self._spec and backend.name == self.backend_:
            return
        seed = int(self._random_state.randint(np.iinfo(np.int32).max))
        network = self._make_network(spec, backend, seed)
        network.set_weights(self.network_.get_weights())
        self._spec, self.network_, self.backend_ = spec, network, backend.name
        self._optimizer = None  # its state lived on the old network

    def _optimizer_settings(self) -> tuple:
        return (self.solver, float(self.learning_rate_init), float(self.momentum),
                bool(self.nesterovs_momentum), float(self.beta_1),
                float(self.beta_2), float(self.epsilon))

    def _make_optimizer(self):
        backend, lr = self.network_.backend, self.learning_rate_init
        if self.solver == "sgd":
            return SGD(backend, lr, self.momentum, self.nesterovs_momentum)
        if self.solver == "rmsprop":
            return RMSprop(backend, lr, epsilon=self.epsilon)
        return Adam(backend, lr, self.beta_1, self.beta_2, self.epsilon)

    def _current_optimizer(self, incremental: bool):
        """The optimiser for this call: partial_fit keeps its state (moments,
        step count) across calls, with the settings of the current
        parameters; a new solver, or a fit, starts a fresh one."""
        settings = self._optimizer_settings()
        if self._optimizer is None or not incremental or \
                self._optimizer_solver != self.solver:
            self._optimizer = self._make_optimizer()
        elif settings != self._optimizer_params:
            fresh = self._make_optimizer()
            fresh.state = self._optimizer.state
            fresh.t = getattr(self._optimizer, "t", 0)
            self._optimizer = fresh
        self._optimizer_solver, self._optimizer_params = self.solver, settings
        return self._optimizer
