"""scikit-learn estimators, one family per LSTM architecture."""

from ._base import BaseLSTMEstimator
from .stacked import StackedLSTMClassifier, StackedLSTMRegressor
from .vanilla import VanillaLSTMClassifier, VanillaLSTMRegressor

__all__ = [
    "BaseLSTMEstimator",
    "VanillaLSTMRegressor", "VanillaLSTMClassifier",
    "StackedLSTMRegressor", "StackedLSTMClassifier",
]
