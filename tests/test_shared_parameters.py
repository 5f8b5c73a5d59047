"""Every estimator takes the shared training parameters with the base's
defaults, keyword-only, checked by the base's constraints table."""

import inspect

import pytest
from registry import ESTIMATORS

from numlstm.estimators import BaseLSTMEstimator
from numlstm.estimators._base import SHARED_PARAMETERS

BASE = inspect.signature(BaseLSTMEstimator.__init__).parameters


def test_the_base_takes_exactly_the_shared_parameters():
    assert tuple(name for name in BASE if name != "self") == SHARED_PARAMETERS


@pytest.mark.parametrize("key", sorted(ESTIMATORS))
def test_shared_parameters_have_the_base_defaults(key):
    make, _ = ESTIMATORS[key]
    cls = type(make())
    own = inspect.signature(cls.__init__).parameters
    for name in SHARED_PARAMETERS:
        assert name in own, (cls.__name__, name)
        assert own[name].kind is inspect.Parameter.KEYWORD_ONLY, (cls.__name__, name)
        assert own[name].default == BASE[name].default, (cls.__name__, name)
    # what the constructor stores is what get_params reports
    defaults = cls().get_params()
    assert {name: defaults[name] for name in SHARED_PARAMETERS} == \
        {name: BASE[name].default for name in SHARED_PARAMETERS}
    # and are checked by the base's constraints (booleans, random_state and
    # backend are checked where they are used, as the base's table says)
    for name, constraints in BaseLSTMEstimator._parameter_constraints.items():
        assert cls._parameter_constraints[name] is constraints, (cls.__name__, name)
