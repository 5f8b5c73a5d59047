"""asv benchmarks of the estimators: one epoch of ``fit`` per architecture,
its peak memory, and the JIT compile time of a first fit.

The data are small (a few hundred short sequences) so that one call takes
well under a second: these track the estimator path (validation, batching,
the network, the optimiser) of every architecture, not the big
configurations (``bench_lstm_kernels.py``, ``bench_lstm_layer.py`` and
``numlstm bench`` do those). ``setup`` fits once, so the kernels are
compiled (or loaded from the Numba cache) before anything is timed.

An architecture the installed numlstm lacks (an older commit) is skipped.
"""

import os
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path

import numpy as np

import numlstm

from ._configs import DTYPES


def _sequences(rng, n, T, D, dtype):
    X = rng.standard_normal((n, T, D)).astype(dtype)
    return X, X[:, :, 0].mean(axis=1)


def _vanilla(rng, dtype):
    X, y = _sequences(rng, 256, 20, 8, dtype)
    return numlstm.VanillaLSTMRegressor(units=32), X, y


def _stacked(rng, dtype):
    X, y = _sequences(rng, 256, 20, 8, dtype)
    return numlstm.StackedLSTMRegressor((32, 32)), X, y


def _bidirectional(rng, dtype):
    X, y = _sequences(rng, 256, 20, 8, dtype)
    return numlstm.BidirectionalLSTMRegressor(units=32), X, y


def _encoder_decoder(rng, dtype):
    X, _ = _sequences(rng, 256, 20, 8, dtype)
    y = np.cumsum(X[:, -5:, 0], axis=1)  # (n, 5): a 5-step output sequence
    return numlstm.EncoderDecoderLSTMRegressor(32, 32), X, y


def _cnn_lstm(rng, dtype):
    # 128 sequences of 8 frames 12x12, one channel
    X = rng.standard_normal((128, 8, 12, 12, 1)).astype(dtype)
    return numlstm.CNNLSTMRegressor((8,), units=16), X, X.mean(axis=(1, 2, 3, 4))


def _generative(rng, dtype):
    # 32 continuous sequences of 80 steps -> 128 windows of 20
    X = np.cumsum(rng.standard_normal((32, 80, 2)), axis=1).astype(dtype)
    return numlstm.GenerativeLSTM((32,), sequence_length=20), X, None


#: architecture -> (estimator class name, factory(rng, dtype) -> (model, X, y))
ARCHITECTURES = {
    "vanilla": ("VanillaLSTMRegressor", _vanilla),
    "stacked": ("StackedLSTMRegressor", _stacked),
    "bidirectional": ("BidirectionalLSTMRegressor", _bidirectional),
    "encoder_decoder": ("EncoderDecoderLSTMRegressor", _encoder_decoder),
    "cnn_lstm": ("CNNLSTMRegressor", _cnn_lstm),
    "generative": ("GenerativeLSTM", _generative),
}


class FitEpoch:
    """``fit`` for one epoch (Adam, batches of 32) of each architecture."""

    params = (list(ARCHITECTURES), DTYPES)
    param_names = ["architecture", "dtype"]
    timeout = 300.0

    def setup(self, architecture, dtype):
        name, factory = ARCHITECTURES[architecture]
        try:
            getattr(numlstm, name)
        except AttributeError:
            raise NotImplementedError(f"numlstm has no {name} here") from None
        model, self.X, self.y = factory(np.random.default_rng(0), dtype)
        self.model = model.set_params(max_iter=1, n_iter_no_change=2,
                                      batch_size=32, random_state=0, dtype=dtype)
        self._fit()  # compile (or load from the Numba cache) once

    def _fit(self):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # ConvergenceWarning: one epoch
            self.model.fit(self.X, self.y)

    def time_fit_epoch(self, architecture, dtype):
        self._fit()

    def peakmem_fit(self, architecture, dtype):
        self._fit()


COMPILE_CHILD = """\
import time
t0 = time.perf_counter()
import warnings
import numpy as np
import numlstm
t1 = time.perf_counter()
X = np.random.default_rng(0).standard_normal((8, 5, 3)).astype({dtype!r})
model = numlstm.VanillaLSTMRegressor(units=4, max_iter=1, random_state=0,
                                     dtype={dtype!r})
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    model.fit(X, X[:, 0, 0])
model.predict(X)
print("RESULT", time.perf_counter() - t1)
"""


class CompileTime:
    """Seconds of a fresh process's first ``fit`` + ``predict`` of a tiny
    ``VanillaLSTMRegressor``, after ``import numlstm``.

    ``cold``: an empty Numba cache (a new ``NUMBA_CACHE_DIR``), so this is
    the JIT compile time of every kernel a fit and a predict call; ``warm``:
    the same cache once filled (``setup`` runs the child once), so this is
    the time to load them.
    """

    params = (DTYPES, ["cold", "warm"])
    param_names = ["dtype", "cache"]
    unit = "seconds"
    rounds = 1
    timeout = 600.0

    def setup(self, dtype, cache):
        self._tmp = tempfile.TemporaryDirectory(prefix="numlstm-asv-numba-")
        self.env = dict(os.environ, NUMBA_CACHE_DIR=self._tmp.name)
        self.env["PYTHONPATH"] = os.pathsep.join(
            [str(Path(numlstm.__file__).resolve().parents[1])]
            + ([self.env["PYTHONPATH"]] if self.env.get("PYTHONPATH") else []))
        self.code = COMPILE_CHILD.format(dtype=dtype)
        if cache == "warm":
            self._child()

    def teardown(self, dtype, cache):
        self._tmp.cleanup()

    def _child(self) -> float:
        proc = subprocess.run([sys.executable, "-c", self.code], env=self.env,
                              capture_output=True, text=True, timeout=500)
        if proc.returncode != 0:
            raise RuntimeError(f"child failed ({proc.returncode}):\n{proc.stderr}")
        line = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT")]
        return float(line[-1].split()[1])

    def track_compile_time(self, dtype, cache):
        return self._child()


class LongSequence:
    """One epoch on one sequence of 20,000 steps (H=64, float32), whole or
    by truncated backpropagation through time: the peak memory should
    follow ``tbptt_steps``, not the length (``benchmarks/tbptt_memory.py``
    runs the 200,000-step case)."""

    params = [[None, 100, 1000]]
    param_names = ["tbptt_steps"]
    timeout = 300.0

    def setup(self, tbptt_steps):
        if "tbptt_steps" not in numlstm.VanillaLSTMRegressor().get_params():
            raise NotImplementedError("numlstm has no tbptt_steps here")
        rng = np.random.default_rng(0)
        self.X = rng.standard_normal((1, 20_000, 1)).astype(np.float32)
        self.y = np.cumsum(self.X[:, :, 0], axis=1) * 0.01
        self.model = numlstm.VanillaLSTMRegressor(
            units=64, return_sequences=True, tbptt_steps=tbptt_steps,
            max_iter=1, n_iter_no_change=2, random_state=0)
        self._fit()

    def _fit(self):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # ConvergenceWarning: one epoch
            self.model.fit(self.X, self.y)

    def time_fit_epoch(self, tbptt_steps):
        self._fit()

    def peakmem_fit(self, tbptt_steps):
        self._fit()
