"""The scalar math shared by the CPU and the CUDA kernels (``backends/_scalar.py``).

Its functions must stay free of float literals (a literal turns float32
device code into float64), return the float type of their arguments, and
agree with the NumPy reference at any magnitude.
"""

import ast
import inspect
import math

import numpy as np
import pytest
import reference as ref
from numba import njit, types

from numlstm.backends import _scalar

FUNCTIONS = [f for _, f in inspect.getmembers(_scalar, inspect.isfunction)
             if f.__module__ == _scalar.__name__]
#: how many float arguments each function takes
ARITY = {f.__name__: len(inspect.signature(f).parameters) for f in FUNCTIONS}


def test_no_float_literal_in_the_shared_scalar_math():
    tree = ast.parse(inspect.getsource(_scalar))
    floats = [node.lineno for node in ast.walk(tree)
              if isinstance(node, ast.Constant) and isinstance(node.value, float)]
    assert floats == [], f"float literals on lines {floats}"


@pytest.mark.parametrize("name", sorted(ARITY))
@pytest.mark.parametrize("dtype", [types.float32, types.float64])
def test_functions_keep_the_float_type_of_their_arguments(name, dtype):
    kernel = njit(getattr(_scalar, name))
    value = np.dtype(str(dtype)).type(0.25)
    kernel(*[value] * ARITY[name])
    (signature,) = kernel.nopython_signatures
    returned = signature.return_type
    parts = returned.types if isinstance(returned, types.BaseTuple) else (returned,)
    assert all(part == dtype for part in parts), (name, signature)


X = np.array([-1e4, -710.0, -30.0, -1.0, -1e-8, 0.0, 1e-8, 1.0, 30.0, 710.0, 1e4])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_activations_match_the_reference_at_any_magnitude(dtype):
    one = dtype(1.0)
    x = X.astype(dtype)
    sig = np.array([njit(_scalar.sigmoid)(v, one) for v in x])
    soft = np.array([njit(_scalar.softplus)(v, one) for v in x])
    relu = np.array([njit(_scalar.relu)(v, one) for v in x])
    tol = 1e-6 if dtype == np.float32 else 1e-14
    np.testing.assert_allclose(sig, ref.sigmoid(x.astype(np.float64)), rtol=tol,
                               atol=1e-300)
    want = np.logaddexp(0.0, x.astype(np.float64))
    # Values below the dtype's smallest normal number underflow to zero.
    np.testing.assert_allclose(soft, want, rtol=tol, atol=np.finfo(dtype).tiny)
    np.testing.assert_array_equal(relu, np.maximum(x, 0))
    assert math.isnan(njit(_scalar.relu)(dtype(np.nan), one))
    half = dtype(0.5)
    t = np.tanh(half * x)
    from_tanh = np.array([njit(_scalar.sigmoid_from_tanh)(v, half) for v in t])
    np.testing.assert_allclose(from_tanh, ref.sigmoid(x.astype(np.float64)),
                               rtol=10 * tol, atol=10 * tol)


def test_lstm_unit_gradients_match_finite_differences():
    """Back through ``c = lstm_cell(i, f, g, c_prev)`` and ``h = o tanh(c)``
    with the activations of pre-activations ``a``: the gradients of ``L =
    wh h + wc c`` by central differences in float64."""
    one = 1.0
    a = np.array([0.3, -0.7, 0.9, 0.2])  # i, f, g, o pre-activations
    c_prev, wh, wc = 0.4, 1.3, -0.6

    def loss(a, c_prev):
        i, f, o = (ref.sigmoid(np.array([a[k]]))[0] for k in (0, 1, 3))
        g = math.tanh(a[2])
        c = _scalar.lstm_cell(i, f, g, c_prev)
        return wh * o * math.tanh(c) + wc * c

    i, f, o = (ref.sigmoid(np.array([a[k]]))[0] for k in (0, 1, 3))
    g = math.tanh(a[2])
    c = _scalar.lstm_cell(i, f, g, c_prev)
    d_o, dc = _scalar.lstm_output_grads(wh, wc, o, math.tanh(c), one)
    d_i, d_f, d_g, dc_prev = _scalar.lstm_cell_grads(dc, i, f, g, c_prev, one)
    got = [d_i, d_f, d_g, d_o]
    eps = 1e-6
    for k in range(4):
        up, down = a.copy(), a.copy()
        up[k] += eps
        down[k] -= eps
        fd = (loss(up, c_prev) - loss(down, c_prev)) / (2 * eps)
        assert got[k] == pytest.approx(fd, rel=1e-7, abs=1e-10), k
    fd = (loss(a, c_prev + eps) - loss(a, c_prev - eps)) / (2 * eps)
    assert dc_prev == pytest.approx(fd, rel=1e-7, abs=1e-10)
