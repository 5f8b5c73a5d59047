"""The network: layers, losses, optimisers, training steps.

Knows nothing of scikit-learn; reaches kernels only through a backend object.
"""

from .layers import LSTM, Dense, Dropout, Layer
from .losses import (
                     Loss,
                     MeanSquaredError,
                     SigmoidBinaryCrossEntropy,
                     SoftmaxCrossEntropy,
)
from .network import Sequential
from .optimizers import SGD, Adam, Optimizer, RMSprop
from .parameters import FlatParameters
from .training import DivergenceError, loss_and_gradient, train_step

__all__ = [
    "LSTM", "Dense", "Dropout", "Layer", "Sequential", "FlatParameters",
    "Loss", "MeanSquaredError", "SoftmaxCrossEntropy", "SigmoidBinaryCrossEntropy",
    "Optimizer", "SGD", "Adam", "RMSprop",
    "DivergenceError", "loss_and_gradient", "train_step",
]
