"""asv benchmarks of the CPU kernels, reached through ``resolve('cpu')``.

Every ``setup`` allocates the buffers once (as the network does) and calls
the kernel once, so the timings see neither allocation nor JIT compilation.
The LSTM shapes ``(B, T, D, H)`` are the configurations of the design guide
(section 6); the large one only with ``NUMLSTM_ASV_LARGE=1`` (see
``_configs.py``).
"""

import inspect

import numpy as np

from numlstm.backends import resolve
from numlstm.backends.cpu import lstm as _cpu_lstm

from ._configs import CONFIGS, DTYPES, config_names

#: Whether this numlstm's CPU backward turns ``gates`` into their gradients
#: in place when they are passed as ``dgates`` too (as ``nn.LSTM`` does since
#: 2026-11-26); older commits get a separate scratch, as their layer did.
GATES_IN_PLACE = "gates" in inspect.signature(
    _cpu_lstm.gate_grad_scratch).parameters

#: name -> (B, T, D, H), from the design guide.
LSTM_CONFIGS = {name: CONFIGS[name] for name in config_names()}


class LSTMBuffers:
    """Inputs, outputs and scratch of one LSTM layer's forward and backward."""

    def __init__(self, B, T, D, H, dtype, seed=0):
        rng = np.random.default_rng(seed)
        dt = np.dtype(dtype)

        def normal(*shape, scale=1.0):
            return (scale * rng.standard_normal(shape)).astype(dt)

        self.X = normal(B, T, D)
        self.W_ih = normal(4 * H, D, scale=1.0 / np.sqrt(D))
        self.W_hh = normal(4 * H, H, scale=1.0 / np.sqrt(H))
        self.b = normal(4 * H, scale=0.1)
        self.h0 = np.zeros((B, H), dt)
        self.c0 = np.zeros((B, H), dt)
        self.lengths = np.full(B, T, dtype=np.int64)
        # forward outputs
        self.H_out = np.empty((B, T, H), dt)
        self.h_n = np.empty((B, H), dt)
        self.c_n = np.empty((B, H), dt)
        # as nn.LSTM allocates them: rows as long as the CPU backward wants
        # to turn the gates into their gradients in place (dgates = gates;
        # each backward follows a forward)
        width = resolve("cpu").lstm_gate_grad_width(H, dt)
        self.gates = np.empty((B, T, width if GATES_IN_PLACE else 4 * H), dt)
        self.dgates = self.gates if GATES_IN_PLACE else np.empty((B, T, width), dt)
        self.cells = np.empty((B, T, H), dt)
        self.h_prev = np.empty((B, T, H), dt)
        self.rec = np.empty((B, 4 * H), dt)
        # backward inputs, outputs and scratch
        self.dH_out = normal(B, T, H)
        self.dh_n = np.zeros((B, H), dt)
        self.dc_n = np.zeros((B, H), dt)
        self.dX = np.empty_like(self.X)
        self.dW_ih = np.empty_like(self.W_ih)
        self.dW_hh = np.empty_like(self.W_hh)
        self.db = np.empty_like(self.b)
        self.dh0 = np.empty((B, H), dt)
        self.dc0 = np.empty((B, H), dt)

    def forward(self, be):
        be.lstm_forward(self.X, self.W_ih, self.W_hh, self.b, self.h0, self.c0,
                        self.lengths, self.H_out, self.h_n, self.c_n,
                        self.gates, self.cells, self.h_prev, self.rec)

    def backward(self, be):
        be.lstm_backward(self.X, self.W_ih, self.W_hh, self.c0, self.lengths,
                         self.gates, self.cells, self.h_prev,
                         self.dH_out, self.dh_n, self.dc_n,
                         self.dX, self.dW_ih, self.dW_hh, self.db,
                         self.dh0, self.dc0, self.dgates, True)


class LSTMKernels:
    """One LSTM layer: forward (predict) and forward + BPTT (one training step)."""

    params = (list(LSTM_CONFIGS), DTYPES)
    param_names = ["config", "dtype"]
    # a cold Numba cache compiles in setup; keep that inside the limit
    timeout = 300.0

    def setup(self, config, dtype):
        self.be = resolve("cpu")
        self.buf = LSTMBuffers(*LSTM_CONFIGS[config], dtype)
        self.buf.forward(self.be)  # compile (or load from cache) once
        self.buf.backward(self.be)

    def time_forward(self, config, dtype):
        self.buf.forward(self.be)

    def time_forward_backward(self, config, dtype):
        self.buf.forward(self.be)
        self.buf.backward(self.be)


class DenseKernels:
    """Dense output layer ``Y = X W^T + b``: forward and forward + backward."""

    #: name -> (N, K, M): rows, inputs, outputs
    shapes = {
        "head": (64, 256, 1),          # the medium LSTM's regression head
        "per_step": (6400, 256, 32),   # return_sequences over B*T rows
    }
    params = (list(shapes), ["float32", "float64"])
    param_names = ["shape", "dtype"]
    timeout = 300.0

    def setup(self, shape, dtype):
        N, K, M = self.shapes[shape]
        rng = np.random.default_rng(0)
        dt = np.dtype(dtype)
        self.be = resolve("cpu")
        self.X = rng.standard_normal((N, K)).astype(dt)
        self.W = rng.standard_normal((M, K)).astype(dt)
        self.b = rng.standard_normal(M).astype(dt)
        self.Y = np.empty((N, M), dt)
        self.dY = rng.standard_normal((N, M)).astype(dt)
        self.dX = np.empty_like(self.X)
        self.dW = np.empty_like(self.W)
        self.db = np.empty_like(self.b)
        self.time_forward_backward(shape, dtype)  # compile once

    def time_forward(self, shape, dtype):
        self.be.dense_forward(self.X, self.W, self.b, self.Y)

    def time_forward_backward(self, shape, dtype):
        self.be.dense_forward(self.X, self.W, self.b, self.Y)
        self.be.dense_backward(self.X, self.W, self.dY, self.dX, self.dW, self.db)


class AdamStep:
    """One Adam update of a flat parameter vector, in place."""

    #: name -> parameter count of one LSTM layer 4H(D + H + 1) of that config
    sizes = {
        "small": 4 * 64 * (8 + 64 + 1),
        "medium": 4 * 256 * (32 + 256 + 1),
        "large": 4 * 1024 * (512 + 1024 + 1),
    }
    params = (list(sizes), ["float32", "float64"])
    param_names = ["n_params", "dtype"]
    timeout = 300.0

    def setup(self, n_params, dtype):
        n = self.sizes[n_params]
        rng = np.random.default_rng(0)
        dt = np.dtype(dtype)
        self.be = resolve("cpu")
        self.theta = rng.standard_normal(n).astype(dt)
        self.g = rng.standard_normal(n).astype(dt)
        self.m = np.zeros(n, dt)
        self.v = np.zeros(n, dt)
        self.step = 1
        self.be.adam_step(self.theta, self.g, self.m, self.v, self.step,
                          1e-3, 0.9, 0.999, 1e-8)  # compile once

    def time_adam_step(self, n_params, dtype):
        self.step += 1
        self.be.adam_step(self.theta, self.g, self.m, self.v, self.step,
                          1e-3, 0.9, 0.999, 1e-8)


class ImportTime:
    """Import time of the package and of the CPU backend, in a fresh process."""

    timeout = 120.0

    def timeraw_import_numlstm(self):
        return "import numlstm"

    def timeraw_import_cpu_backend(self):
        return "import numlstm.backends.cpu"
