"""The shared scalar math of :mod:`numlstm.backends._scalar` as device
functions: the same source the CPU backend compiles with ``njit``."""

from .. import _scalar
from ._jit import device_function

sigmoid = device_function(_scalar.sigmoid)
tanh = device_function(_scalar.tanh)
softplus = device_function(_scalar.softplus)
relu = device_function(_scalar.relu)
relu_grad = device_function(_scalar.relu_grad)
sigmoid_from_tanh = device_function(_scalar.sigmoid_from_tanh)
lstm_cell = device_function(_scalar.lstm_cell)
lstm_output_grads = device_function(_scalar.lstm_output_grads)
lstm_cell_grads = device_function(_scalar.lstm_cell_grads)
peephole_output_grads = device_function(_scalar.peephole_output_grads)
peephole_cell_grads = device_function(_scalar.peephole_cell_grads)
coupled_cell_grads = device_function(_scalar.coupled_cell_grads)
layer_norm_grad = device_function(_scalar.layer_norm_grad)
