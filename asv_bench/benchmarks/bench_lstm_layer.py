"""asv benchmarks of one ``numlstm.nn.LSTM`` layer, as the networks call it.

The layer sits in a :class:`numlstm.nn.Sequential` on ``resolve('cpu')``
and keeps its own workspace between calls (allocated on the first call of a
batch shape); ``setup`` makes that first call, so the timings see neither
allocation nor JIT compilation. Unlike ``bench_lstm_kernels.py`` this goes
through the layer's interface, which stays put while the kernels' argument
lists change. The configurations are those of ``_configs.py``.
"""

import numpy as np

from numlstm.backends import resolve
from numlstm.nn import LSTM, Sequential

from ._configs import CONFIGS, DTYPES, config_names


class LSTMLayer:
    """Forward (predict) and forward + backward (one training step's LSTM part)."""

    params = (config_names(), DTYPES)
    param_names = ["config", "dtype"]
    # a cold Numba cache compiles in setup; keep that inside the limit
    timeout = 300.0

    def setup(self, config, dtype):
        B, T, D, H = CONFIGS[config]
        rng = np.random.default_rng(0)
        net = Sequential([LSTM(D, H, return_sequences=True)], dtype=dtype,
                         backend=resolve("cpu"), random_state=0)
        self.layer = net.layers[0]
        self.X = rng.standard_normal((B, T, D)).astype(dtype)
        self.lengths = np.full(B, T, dtype=np.int64)
        self.dY = rng.standard_normal((B, T, H)).astype(dtype)
        self.time_forward_backward(config, dtype)  # compile, allocate once

    def time_forward(self, config, dtype):
        self.layer.forward(self.X, self.lengths)

    def time_forward_backward(self, config, dtype):
        self.layer.forward(self.X, self.lengths, training=True)
        self.layer.backward(self.dY)


class LSTMCellVariants:
    """One training step of the layer with each cell variant (float32):
    each must stay within 1.3 times the plain cell's."""

    params = (["small", "medium"],
              ["plain", "peephole", "coupled", "coupled+peephole",
               "recurrent_dropout", "zoneout"])
    param_names = ["config", "cell"]
    timeout = 300.0
    CELLS = {"plain": {}, "peephole": dict(peephole=True),
             "coupled": dict(coupled_gates=True),
             "coupled+peephole": dict(peephole=True, coupled_gates=True),
             "recurrent_dropout": dict(recurrent_dropout=0.25),
             "zoneout": dict(zoneout=0.1)}

    def setup(self, config, cell):
        B, T, D, H = CONFIGS[config]
        rng = np.random.default_rng(0)
        net = Sequential([LSTM(D, H, return_sequences=True, **self.CELLS[cell])],
                         dtype="float32", backend=resolve("cpu"), random_state=0)
        self.layer = net.layers[0]
        self.X = rng.standard_normal((B, T, D)).astype("float32")
        self.lengths = np.full(B, T, dtype=np.int64)
        self.dY = rng.standard_normal((B, T, H)).astype("float32")
        self.time_forward_backward(config, cell)  # compile, allocate once

    def time_forward_backward(self, config, cell):
        self.layer.forward(self.X, self.lengths, training=True)
        self.layer.backward(self.dY)
