"""Every estimator through the strict backend gives the CPU's bits.

The strict backend (``strict_backend.py``) is the CPU kernels behind arrays
that refuse any NumPy work outside the backend. Each estimator family fits
(with early stopping), predicts, scores, continues with ``warm_start`` and
``partial_fit``, fits with L-BFGS and builds ``make_objective`` through it;
everything must equal the plain CPU backend's results bit for bit, which
proves the network and the training loops leave all array work to the
backend (and so will run on a device backend).
"""

import numpy as np
import pytest
from registry import ESTIMATORS, same
from strict_backend import StrictArray, StrictBackend, StrictError

from numlstm.backends import register_backend, unregister_backend

pytestmark = pytest.mark.filterwarnings(
    "ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture(scope="module", autouse=True)
def strict():
    register_backend("strict", StrictBackend)
    yield
    unregister_backend("strict")


def _flows(key, dtype, backend):
    """Everything an estimator does, as a list of arrays."""
    make, data = ESTIMATORS[key]
    X, y = data()
    fitted = []
    model = make(max_iter=3, batch_size=6, early_stopping=True,
                 validation_fraction=0.3, n_iter_no_change=5, random_state=0,
                 dtype=dtype, backend=backend)
    model.fit(X, y)
    predict = model.score_samples if key == "generative" else model.predict
    fitted += [predict(X), [model.score(X, y)], model.validation_scores_]
    model.set_params(warm_start=True, max_iter=2, early_stopping=False)
    model.fit(X, y)
    fitted.append(predict(X))
    model.partial_fit(X, y)
    fitted += [predict(X), *model.get_weights().values()]
    fun, theta = model.make_objective(X, y)
    value, grad = fun(theta)
    fitted += [[value], grad]
    lbfgs = make(solver="lbfgs", max_iter=3, alpha=1e-3, random_state=1,
                 dtype=dtype, backend=backend).fit(X, y)
    fitted += [lbfgs.predict(X) if key != "generative" else lbfgs.score_samples(X),
               *lbfgs.get_weights().values()]
    if key == "generative":
        fitted.append([ord(c) for s in model.sample(2, 8, random_state=0)
                       for c in s])
    return [np.concatenate([np.ravel(a) for a in value])
            if isinstance(value, list) and value and isinstance(value[0], np.ndarray)
            else np.asarray(value) for value in fitted]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("key", list(ESTIMATORS))
def test_strict_backend_gives_the_cpu_bits(key, dtype):
    strict = _flows(key, dtype, "strict")
    cpu = _flows(key, dtype, "cpu")
    assert len(strict) == len(cpu)
    for k, (a, b) in enumerate(zip(strict, cpu, strict=True)):
        np.testing.assert_array_equal(a, b, err_msg=f"{key} result {k}")


@pytest.mark.parametrize("cell", [
    dict(peephole=True, coupled_gates=True, recurrent_dropout=0.3),
    dict(coupled_gates=True, zoneout=0.3)], ids=["peephole", "zoneout"])
@pytest.mark.parametrize("key", ["bidirectional-clf", "encoder-decoder-reg"])
def test_cell_variants_through_the_strict_backend(key, cell):
    """The cell variants (recurrent dropout's masks and zoneout's weights
    uploaded or filled by the layer) leave all array work to the backend."""
    make, data = ESTIMATORS[key]
    X, y = data()
    fits = [make(max_iter=2, random_state=0, backend=backend, dtype="float64",
                 **cell).fit(X, y)
            for backend in ("strict", "cpu")]
    a, b = (m.get_weights() for m in fits)
    for name in b:
        np.testing.assert_array_equal(a[name], b[name], err_msg=name)
    assert same(fits[0].predict(X), fits[1].predict(X))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_pinned_results_through_the_strict_backend(dtype):
    """The pinned cases of test_pinned.py, run on the strict backend."""
    import test_pinned

    with np.load(test_pinned.PINNED) as pinned:
        for name in sorted(test_pinned.CASES):
            got = test_pinned._run(name, dtype, backend="strict")
            for key, value in got.items():
                np.testing.assert_array_equal(value, pinned[key], err_msg=key)


# --------------------------------------------- the strict arrays are strict

def _strict_array():
    return StrictBackend().zeros((3, 4), np.float32)


@pytest.mark.parametrize("operation", [
    lambda a: a + 1, lambda a: 2.0 * a, lambda a: -a, lambda a: a * a,
    lambda a: np.asarray(a), lambda a: np.array(a), lambda a: np.sum(a),
    lambda a: np.exp(a), lambda a: np.concatenate([a, a]),
    lambda a: a[[0, 1]], lambda a: a[np.array([True, False, True])],
    lambda a: a[0, 0], lambda a: float(a[0:1, 0:1]), lambda a: a.copy(),
    lambda a: a.astype(np.float64), lambda a: a.sum(), lambda a: list(a),
    lambda a: a == a, lambda a: bool(a), lambda a: a.T,
    lambda a: a[:, 1:].reshape(-1), lambda a: a.__setitem__(0, 1.0),
], ids=lambda f: "op")
def test_strict_arrays_refuse_numpy_work(operation):
    with pytest.raises((StrictError, TypeError, AttributeError)):
        operation(_strict_array())


def test_strict_arrays_allow_views_and_the_backend():
    be = StrictBackend()
    a = be.asarray(np.arange(12.0).reshape(3, 4), np.float64)
    assert isinstance(a[1:], StrictArray) and a[:, 1].shape == (3,)
    assert a.reshape(4, 3).shape == (4, 3) and len(a) == 3
    out = be.empty((3, 4), np.float64)
    be.add(a, a, out)
    np.testing.assert_array_equal(be.to_host(out), 2 * np.arange(12.0).reshape(3, 4))
    with pytest.raises(StrictError, match="host array"):
        be.add(np.ones((3, 4)), a, out)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_lstm_layer_with_a_final_state_gradient(dtype):
    """The layer API's ``backward(dY, dh_n=, dc_n=)`` on the last state, a
    path no estimator takes, gives the CPU's bits through the strict backend."""
    from numlstm.nn import LSTM, Sequential

    rng = np.random.default_rng(0)
    X = rng.normal(size=(3, 5, 2))
    lengths = np.array([5, 2, 4])
    dY, dh, dc = (rng.normal(size=(3, 4)) for _ in range(3))
    results = {}
    for name in ("strict", "cpu"):
        net = Sequential([LSTM(2, 4)], dtype=dtype, backend=name,
                         random_state=0, input_grad=True)
        be = net.backend
        layer = net.layers[0]
        out = net.forward(be.asarray(X, dtype), be.asarray(lengths, np.int64),
                          training=True)
        grads = [be.asarray(a, dtype) for a in (dY, dh, dc)]
        dX = layer.backward(grads[0], dh_n=grads[1], dc_n=grads[2])
        results[name] = [be.to_host(a) for a in
                         (out, dX, layer.dh0, layer.dc0, net.params.grad)]
    for a, b in zip(results["strict"], results["cpu"], strict=True):
        np.testing.assert_array_equal(a, b)
