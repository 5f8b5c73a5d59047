"""The network: layers, losses, optimisers, training steps.

Knows nothing of scikit-learn; reaches kernels only through a backend object.
"""

from .bidirectional import BidirectionalLSTM
from .data import SequenceData
from .layers import LSTM, Dense, Dropout, Layer
from .losses import (
    Loss,
    MeanSquaredError,
    SigmoidBinaryCrossEntropy,
    SoftmaxCrossEntropy,
)
from .network import Network, Sequential
from .optimizers import SGD, Adam, Optimizer, RMSprop
from .parameters import FlatParameters
from .seq2seq import EncoderDecoder
from .training import (
    DivergenceError,
    StepScalars,
    loss_and_gradient,
    train_step,
)

__all__ = [
    "LSTM", "BidirectionalLSTM", "Dense", "Dropout", "Layer",
    "Network", "Sequential", "EncoderDecoder", "FlatParameters",
    "Loss", "MeanSquaredError", "SoftmaxCrossEntropy", "SigmoidBinaryCrossEntropy",
    "Optimizer", "SGD", "Adam", "RMSprop",
    "DivergenceError", "loss_and_gradient", "train_step", "SequenceData",
    "StepScalars",
]
