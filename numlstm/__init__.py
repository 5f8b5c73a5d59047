"""numlstm: LSTM networks on Numba kernels, as scikit-learn estimators.

Importing numlstm is cheap: no kernel is compiled and Numba itself is only
imported when a backend is first resolved.
"""

from . import backends, datasets, nn
from .estimators import (
    BidirectionalLSTMClassifier,
    BidirectionalLSTMRegressor,
    EncoderDecoderLSTMClassifier,
    EncoderDecoderLSTMRegressor,
    GenerativeLSTM,
    StackedLSTMClassifier,
    StackedLSTMRegressor,
    VanillaLSTMClassifier,
    VanillaLSTMRegressor,
)
from .nn import DivergenceError

__version__ = "0.1.0"

__all__ = [
    "VanillaLSTMRegressor", "VanillaLSTMClassifier",
    "StackedLSTMRegressor", "StackedLSTMClassifier",
    "BidirectionalLSTMRegressor", "BidirectionalLSTMClassifier",
    "EncoderDecoderLSTMRegressor", "EncoderDecoderLSTMClassifier",
    "GenerativeLSTM",
    "DivergenceError", "backends", "datasets", "nn", "__version__",
]
