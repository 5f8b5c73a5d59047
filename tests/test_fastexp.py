"""The vectorisable ``tanh_fast``/``exp_fast`` of the CPU kernels against
NumPy: accuracy over the whole useful range, exact saturation, symmetry and
NaN propagation, in both float widths."""

import numpy as np
import pytest
from numba import njit

from numlstm.backends._fastmath import FASTMATH
from numlstm.backends.cpu.fastexp import exp_fast, tanh_fast

DTYPES = [np.float32, np.float64]

#: max absolute error against float64 ``np.tanh``: float32's rational
#: approximation is ~2 ulp of 1, float64's exp-based form ~1 ulp
TANH_ABS_TOL = {np.float32: 3e-7, np.float64: 4e-16}


@njit(fastmath=set(FASTMATH), error_model="numpy")
def _tanh_all(x, out):
    for j in range(x.size):
        out[j] = tanh_fast(x[j])


@njit(fastmath=set(FASTMATH), error_model="numpy")
def _exp_all(x, out):
    for j in range(x.size):
        out[j] = exp_fast(x[j])


def _apply(fn, x):
    out = np.empty_like(x)
    fn(x, out)
    return out


@pytest.mark.parametrize("dtype", DTYPES)
def test_tanh_fast_accuracy(dtype):
    x = np.linspace(-12.0, 12.0, 400_001).astype(dtype)
    got = _apply(_tanh_all, x).astype(np.float64)
    err = np.abs(got - np.tanh(x.astype(np.float64)))
    assert err.max() <= TANH_ABS_TOL[dtype]
    assert np.abs(got).max() <= 1.0


@pytest.mark.parametrize("dtype", DTYPES)
def test_tanh_fast_is_odd_and_saturates_exactly(dtype):
    x = np.concatenate([np.geomspace(1e-30, 1e4, 2_000),
                        [np.inf, np.finfo(dtype).max]]).astype(dtype)
    pos = _apply(_tanh_all, x)
    np.testing.assert_array_equal(_apply(_tanh_all, -x), -pos)
    assert np.all(pos[x >= 20.0] == 1.0)
    assert np.all((pos[x <= 5.0] >= 0.0) & (pos[x <= 5.0] < 1.0))


@pytest.mark.parametrize("dtype", DTYPES)
def test_tanh_fast_propagates_nan(dtype):
    assert np.isnan(_apply(_tanh_all, np.array([np.nan], dtype))[0])


@pytest.mark.parametrize("dtype", DTYPES)
def test_exp_fast_accuracy(dtype):
    x = np.linspace(-80.0, 80.0, 400_001).astype(dtype)
    got = _apply(_exp_all, x).astype(np.float64)
    rel = np.abs(got / np.exp(x.astype(np.float64)) - 1.0)
    assert rel.max() <= (3e-7 if dtype is np.float32 else 1e-15)
