"""scikit-learn estimators, one family per LSTM architecture."""

from ._base import BaseLSTMEstimator
from .bidirectional import BidirectionalLSTMClassifier, BidirectionalLSTMRegressor
from .cnn_lstm import CNNLSTMClassifier, CNNLSTMRegressor
from .encoder_decoder import EncoderDecoderLSTMClassifier, EncoderDecoderLSTMRegressor
from .generative import GenerativeLSTM
from .stacked import StackedLSTMClassifier, StackedLSTMRegressor
from .vanilla import VanillaLSTMClassifier, VanillaLSTMRegressor

__all__ = [
    "BaseLSTMEstimator",
    "VanillaLSTMRegressor", "VanillaLSTMClassifier",
    "StackedLSTMRegressor", "StackedLSTMClassifier",
    "BidirectionalLSTMRegressor", "BidirectionalLSTMClassifier",
    "EncoderDecoderLSTMRegressor", "EncoderDecoderLSTMClassifier",
    "GenerativeLSTM",
    "CNNLSTMRegressor", "CNNLSTMClassifier",
]
