"""The constructor parameters' constraints, declared as tables.

As scikit-learn's ``_parameter_constraints``: each estimator class maps a
parameter name to a list of constraints, any one of which a valid value
satisfies (``None`` in the list allows None). The base declares the shared
training parameters and each architecture extends the table with its own.
:func:`validate_parameters` checks an estimator against its table at the
start of ``fit``, ``partial_fit`` and ``make_objective``.

The constraints are numlstm's own rather than scikit-learn's ``Interval``
and ``StrOptions``: those accept booleans as numbers (``batch_size=True``)
and infinity in half-open ranges only by the closed end, and their messages
would replace numlstm's (``units must be positive integers, got 0.``).
"""

from __future__ import annotations

import math
import numbers

import numpy as np


def as_sizes(value) -> tuple:
    """An int or a sequence of ints as a tuple of layer sizes."""
    return (value,) if not hasattr(value, "__iter__") else tuple(value)


def _is_integer(value) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


class PositiveInt:
    """An integer > 0 (not a bool)."""

    def is_satisfied_by(self, value) -> bool:
        return _is_integer(value) and value > 0

    def __str__(self) -> str:
        return "a positive integer"


class NonNegativeInt:
    """An integer >= 0 (not a bool)."""

    def is_satisfied_by(self, value) -> bool:
        return _is_integer(value) and value >= 0

    def __str__(self) -> str:
        return "a non-negative integer"


class Boolean:
    """True or False (NumPy's booleans too, not 0 and 1)."""

    def is_satisfied_by(self, value) -> bool:
        return isinstance(value, (bool, np.bool_))

    def __str__(self) -> str:
        return "a bool"


class LayerSizes:
    """Layer sizes: a positive integer or a non-empty sequence of them
    (``single``: one integer only, the size of one layer)."""

    def __init__(self, single: bool = False) -> None:
        self.single = single

    def is_satisfied_by(self, value) -> bool:
        sizes = (value,) if self.single else as_sizes(value)
        return len(sizes) > 0 and all(_is_integer(h) and h > 0 for h in sizes)

    def __str__(self) -> str:
        return "positive integers"


class FiniteReal:
    """A finite real number (not a bool) in ``low..high``; ``closed`` says
    which bounds belong to it, as scikit-learn's ``Interval``; ``why`` is
    said after the range."""

    def __init__(self, low: float, high: float | None = None,
                 closed: str = "left", why: str = "") -> None:
        self.low, self.high, self.closed, self.why = low, high, closed, why

    def is_satisfied_by(self, value) -> bool:
        if not (isinstance(value, numbers.Real) and not isinstance(value, bool)
                and math.isfinite(value)):
            return False
        above = value >= self.low if self.closed in ("left", "both") \
            else value > self.low
        below = self.high is None or (value <= self.high if self.closed in
                                      ("right", "both") else value < self.high)
        return above and below

    def __str__(self) -> str:
        left = self.closed in ("left", "both")
        if self.high is None:
            text = ("a finite non-negative number" if left and self.low == 0
                    else f"a finite number {'>=' if left else '>'} {self.low:g}")
        else:
            text = (f"in {'[' if left else '('}{self.low:g}, {self.high:g}"
                    f"{']' if self.closed in ('right', 'both') else ')'}")
        return f"{text} ({self.why})" if self.why else text


class OneOf:
    """One of a few values (compared with ``==``)."""

    def __init__(self, options: tuple) -> None:
        self.options = tuple(options)

    def is_satisfied_by(self, value) -> bool:
        return value in self.options

    def __str__(self) -> str:
        return f"one of {self.options!r}"


def _satisfies(constraint, value) -> bool:
    return value is None if constraint is None else \
        constraint.is_satisfied_by(value)


def validate_parameters(estimator) -> None:
    """Raise ValueError naming the first parameter of ``estimator`` that
    satisfies none of its constraints (in the order of the table), except
    those that other parameters override (``_overridden_parameters``)."""
    skip = estimator._overridden_parameters
    for name, constraints in estimator._parameter_constraints.items():
        value = getattr(estimator, name)
        if name in skip or any(_satisfies(c, value) for c in constraints):
            continue
        allowed = " or ".join("None" if c is None else str(c)
                              for c in constraints)
        raise ValueError(f"{name} must be {allowed}, got {value!r}.")
