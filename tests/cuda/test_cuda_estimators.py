"""Every estimator family fitted and used through ``backend='cuda'`` gives
the CPU's results: the kernels and the array-neutral network together.

Tiny fits (tests/registry.py's settings, six sequences, two epochs),
because the simulator runs each CUDA thread as an OS thread. float64, same
seed: weights within 1e-8 of the CPU's (the issue's bound), loss curves and
outputs within 1e-10.
"""

import functools
import os
import pickle
import subprocess
import sys
import warnings
from unittest import mock

import numpy as np
import pytest
from numba import cuda

if not cuda.is_available():
    pytest.skip("needs an NVIDIA GPU or NUMBA_ENABLE_CUDASIM=1 (.ci/run runs "
                "this folder under the simulator)", allow_module_level=True)

from registry import ESTIMATORS  # noqa: E402

from numlstm.backends import available_backends  # noqa: E402
from numlstm.backends.cuda import lstm  # noqa: E402

#: sequences per fit: one batch, so each epoch is one forward, backward and
#: optimiser step
N_FIT = 6


@functools.cache  # the tests only read a fitted model
def _fit(name, backend):
    maker, data = ESTIMATORS[name]
    loop = LOOPS.get(name, lstm.time_loop)
    X, y = data()
    # the first N_FIT sequences, or (text) the characters of N_FIT windows
    X = X[:N_FIT] if y is not None else X[:N_FIT + 5]
    y = None if y is None else y[:N_FIT]
    model = maker(max_iter=2, batch_size=N_FIT, random_state=0,
                  dtype="float64", backend=backend)
    with warnings.catch_warnings(), mock.patch.object(lstm, "time_loop", loop):
        warnings.simplefilter("ignore")  # 2 epochs: not converged
        model.fit(X) if y is None else model.fit(X, y)
    return model, X


def _outputs(model, X):
    if hasattr(model, "predict_proba"):
        return model.predict_proba(X)
    if hasattr(model, "score_samples"):
        return model.score_samples(X)
    return model.predict(X)


def test_cuda_is_available():
    assert "cuda" in available_backends()


#: one estimator of each of the six families, chosen so that together they
#: take every loss (MSE, softmax and sigmoid cross-entropy), per-step
#: outputs, both directions and teacher forcing; the other five estimators
#: add no kernel path, and each costs ~20 s of the CI's simulator run
FAMILIES = ["vanilla-clf", "stacked-reg", "bidirectional-clf",
            "encoder-decoder-reg", "cnn-lstm-clf", "generative"]


#: the layers' time loops of these fits run in the cooperative kernel (on
#: one block under the simulator); the others' in the rows kernel, which
#: the simulator's limits pick for their sizes
LOOPS = {"stacked-reg": lambda hidden, itemsize: "cooperative"}


@pytest.mark.parametrize("name", FAMILIES)
def test_a_fit_through_cuda_gives_the_cpu_results(name):
    cpu, X = _fit(name, "cpu")
    gpu, _ = _fit(name, "cuda")
    assert cpu.backend_ == "cpu" and gpu.backend_ == "cuda"
    np.testing.assert_allclose(gpu.loss_curve_, cpu.loss_curve_, rtol=1e-10)
    want = cpu.get_weights()
    got = gpu.get_weights()
    assert list(got) == list(want)
    for key, w in want.items():
        assert isinstance(got[key], np.ndarray), key
        np.testing.assert_allclose(got[key], w, rtol=0, atol=1e-8,
                                   err_msg=key)
    a, b = _outputs(gpu, X), _outputs(cpu, X)
    for u, v in zip(a if isinstance(a, list) else [a],
                    b if isinstance(b, list) else [b], strict=True):
        np.testing.assert_allclose(u, v, rtol=1e-10, atol=1e-12)


def test_a_model_fitted_on_cuda_loads_and_predicts_without_a_gpu(tmp_path):
    """Pickled, a CUDA model holds host arrays only: a process with neither
    a GPU nor the simulator loads it without importing numba.cuda and
    predicts on the CPU the same numbers (backend_ says so)."""
    model, X = _fit("vanilla-clf", "cuda")
    path = tmp_path / "model.pkl"
    path.write_bytes(pickle.dumps((model, X)))  # X: a ragged list
    code = (
        "import pickle, sys, numpy as np\n"
        f"model, X = pickle.loads(open({str(path)!r}, 'rb').read())\n"
        "cuda = [m for m in sys.modules if m.startswith('numba.cuda')]\n"
        "pred = model.predict_proba(X)\n"
        f"np.save({str(tmp_path / 'pred.npy')!r}, pred)\n"
        "print(model.backend_, cuda)\n")
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_ENABLE_CUDASIM"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True,
                         text=True, env=env)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["cpu", "[]"], out.stdout
    np.testing.assert_allclose(np.load(tmp_path / "pred.npy"),
                               model.predict_proba(X), rtol=1e-12,
                               atol=1e-12)


def test_truncated_backpropagation_and_streaming_give_the_cpu_results():
    """Chunks of 2 steps over ragged sequences of up to 5: the chunks'
    batches, the carried state (prefixes of device arrays) and the updates
    on the device; then predict's states, and a prediction continued from
    them."""
    from numlstm import VanillaLSTMRegressor

    rng = np.random.default_rng(0)
    X = [rng.normal(size=(L, 2)) for L in (5, 2, 4, 3)]
    y = [np.cumsum(s[:, 0]) for s in X]
    fits = {}
    for backend in ("cpu", "cuda"):
        model = VanillaLSTMRegressor(
            units=3, return_sequences=True, tbptt_steps=2, max_iter=2,
            batch_size=4, random_state=0, dtype="float64", backend=backend)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fits[backend] = model.fit(X, y)
    cpu, gpu = fits["cpu"], fits["cuda"]
    np.testing.assert_allclose(gpu.loss_curve_, cpu.loss_curve_, rtol=1e-10)
    for key, w in cpu.get_weights().items():
        np.testing.assert_allclose(gpu.get_weights()[key], w, rtol=0,
                                   atol=1e-8, err_msg=key)
    streamed = {}
    for backend, model in fits.items():
        _, ((h, c),) = model.predict([s[:2] for s in X], return_state=True)
        assert isinstance(h, np.ndarray) and isinstance(c, np.ndarray)
        longer = [0, 2, 3]  # the sequences with steps after the first two
        streamed[backend] = model.predict([X[i][2:] for i in longer],
                                          initial_state=[(h[longer], c[longer])])
    for a, b in zip(streamed["cuda"], streamed["cpu"], strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def test_a_projected_layer_normed_fit_gives_the_cpu_results():
    """Two layers with ``proj_size``, ``layer_norm`` and recurrent dropout
    (the masks drawn on the host, the same on both backends): weights, loss
    curve, predictions and the projected state a prediction returns."""
    from numlstm import StackedLSTMRegressor

    rng = np.random.default_rng(1)
    X = [rng.normal(size=(L, 2)) for L in (5, 2, 4, 3, 5, 1)]
    y = [np.cumsum(s[:, 0]) for s in X]
    fits = {}
    for backend in ("cpu", "cuda"):
        model = StackedLSTMRegressor(
            (4, 3), return_sequences=True, proj_size=2, layer_norm=True,
            recurrent_dropout=0.2, max_iter=2, batch_size=N_FIT,
            random_state=0, dtype="float64", backend=backend)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fits[backend] = model.fit(X, y)
    cpu, gpu = fits["cpu"], fits["cuda"]
    np.testing.assert_allclose(gpu.loss_curve_, cpu.loss_curve_, rtol=1e-10)
    for key, w in cpu.get_weights().items():
        np.testing.assert_allclose(gpu.get_weights()[key], w, rtol=0,
                                   atol=1e-8, err_msg=key)
    (out_g, states_g), (out_c, states_c) = (
        m.predict(X, return_state=True) for m in (gpu, cpu))
    for a, b in zip(out_g, out_c, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
    for (h_g, c_g), (h_c, c_c) in zip(states_g, states_c, strict=True):
        assert h_g.shape == (len(X), 2)
        np.testing.assert_allclose(h_g, h_c, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(c_g, c_c, rtol=1e-10, atol=1e-12)
