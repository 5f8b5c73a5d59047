"""The backend dispatcher: names, errors, caching, memory helpers."""

import numpy as np
import pytest

from numlstm.backends import CONTRACT_NAMES, available_backends, resolve


@pytest.mark.parametrize("name", ["auto", "cpu", "CPU"])
def test_resolve_exposes_every_kernel(name):
    be = resolve(name)
    missing = [k for k in CONTRACT_NAMES if not callable(getattr(be, k, None))]
    assert missing == []
    assert be.name == "cpu"


def test_contract_names_are_unique_and_complete():
    assert len(set(CONTRACT_NAMES)) == len(CONTRACT_NAMES)
    for k in ("lstm_forward", "lstm_backward", "clip_grad_norm", "to_host",
              "lstm_gate_grad_width", "take_rows", "step_guard"):
        assert k in CONTRACT_NAMES


@pytest.mark.parametrize("name", ["cuda", "nope", "", 3, None])
def test_resolve_rejects_unknown_or_unavailable(name):
    with pytest.raises(ValueError, match="cpu") as info:
        resolve(name)
    assert repr(name) in str(info.value)


def test_available_backends_contains_cpu():
    names = available_backends()
    assert isinstance(names, list)
    assert "cpu" in names
    assert "auto" not in names


def test_resolve_is_cached():
    assert resolve("cpu") is resolve("cpu")
    assert resolve("auto") is resolve("cpu")
    assert resolve() is resolve("auto")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_memory_helpers(dtype):
    be = resolve("cpu")
    e = be.empty((2, 3), dtype)
    assert e.shape == (2, 3) and e.dtype == dtype
    z = be.zeros((4,), dtype)
    assert z.dtype == dtype and np.all(z == 0.0)
    src = np.arange(12, dtype=np.int64).reshape(3, 4).T  # F-ordered, int
    a = be.asarray(src, dtype)
    assert a.dtype == dtype and a.flags.c_contiguous
    np.testing.assert_array_equal(a, src)
    h = be.to_host(a)
    assert isinstance(h, np.ndarray)
    np.testing.assert_array_equal(h, src)


@pytest.mark.parametrize(("B", "D", "H", "wide"),
                         [(5, 5, 8, False), (5, 1024, 512, True), (2, 32, 256, True),
                          (2, 5, 8, False)],
                         ids=["rows", "wide", "wide-small-batch", "rows-small-batch"])
def test_cpu_lstm_dispatch(B, D, H, wide):
    """The CPU backend splits small layers by batch rows and large ones by
    gate columns; both give the reference's outputs and gradients."""
    from helpers import (
        LSTM_GRADS,
        assert_close,
        lstm_backward,
        lstm_forward,
        make_lstm_case,
        make_lstm_seeds,
        reference_lstm,
    )

    from numlstm.backends.cpu import use_wide

    assert use_wide(B, D, H) == wide
    rng = np.random.default_rng(0)
    case = make_lstm_case(rng, B, 4, D, H, np.float64,
                          lengths=[4, 2, 1, 4, 3][:B])
    seeds = make_lstm_seeds(rng, case)
    be = resolve("cpu")
    fwd = lstm_forward(case, be)
    grads = lstm_backward(case, fwd, seeds, be)
    want_f, want_g = reference_lstm(case, seeds)
    for name in ("H_out", "h_n", "c_n"):
        assert_close(fwd[name], want_f[name], 1e-10, name)
    for name in LSTM_GRADS:
        assert_close(grads[name], want_g[name], 1e-10, name)
