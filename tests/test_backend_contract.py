"""The backend contract: every backend implements all of it, and a backend
registered from outside is one every estimator accepts."""

import inspect

import numpy as np
import pytest
from strict_backend import StrictBackend

from numlstm import VanillaLSTMRegressor
from numlstm.backends import (
    CONTRACT_NAMES,
    Backend,
    available_backends,
    check_backend,
    register_backend,
    resolve,
    unregister_backend,
)
from numlstm.backends.cpu import CPUBackend


def test_every_available_backend_implements_the_whole_contract(backend):
    assert check_backend(backend) == []
    assert isinstance(backend, Backend)


def test_the_strict_test_backend_implements_it_too():
    assert check_backend(StrictBackend()) == []


def test_every_contract_method_is_documented():
    for name in CONTRACT_NAMES:
        assert inspect.getdoc(getattr(Backend, name)), name


def test_the_network_calls_only_contract_names():
    """Every ``be.<name>`` / ``backend.<name>`` the network and estimators
    call is in the contract, and every contract name is called somewhere."""
    import re
    from pathlib import Path

    root = Path(__file__).parent.parent / "numlstm"
    called = set()
    for path in [*(root / "nn").glob("*.py"), *(root / "estimators").glob("*.py")]:
        called |= set(re.findall(r"\b(?:be|backend)\.([a-z_0-9]+)\(",
                                 path.read_text()))
    assert called - set(CONTRACT_NAMES) == set()
    # the kernels named through a loss class attribute
    from numlstm.nn import losses

    called |= {cls.kernel for cls in vars(losses).values()
               if isinstance(cls, type) and getattr(cls, "kernel", "")}
    called |= {"sgd_step", "adam_step", "rmsprop_step", "lstm_forward",
               "lstm_backward", "dense_forward", "dense_backward",
               "conv1d_forward", "conv1d_backward", "conv2d_forward",
               "conv2d_backward", "relu_forward", "relu_backward",
               "maxpool1d_forward", "maxpool1d_backward", "maxpool2d_forward",
               "maxpool2d_backward", "lstm_gate_grad_width"}
    assert set(CONTRACT_NAMES) - called == set()


def test_a_backend_missing_a_method_is_refused_when_resolved():
    class Incomplete(CPUBackend):
        name = "incomplete"
        take_rows = None

    register_backend("incomplete", Incomplete)
    try:
        with pytest.raises(TypeError, match="no method 'take_rows'"):
            resolve("incomplete")
    finally:
        unregister_backend("incomplete")


def test_a_backend_with_a_wrong_signature_is_refused():
    class Wrong(CPUBackend):
        name = "wrong"

        @staticmethod
        def copy(out, src):
            np.copyto(out, src)

    register_backend("wrong", Wrong)
    try:
        with pytest.raises(TypeError, match=r"copy\('out', 'src'\) should take"):
            resolve("wrong")
    finally:
        unregister_backend("wrong")


def test_registered_backend_is_used_by_estimators_and_can_be_unavailable():
    calls = []

    class Counting(CPUBackend):
        name = "counting"

        def lstm_forward(self, *args, **kwargs):
            calls.append(1)
            CPUBackend.lstm_forward(*args, **kwargs)

    Counting.lstm_forward.__signature__ = inspect.signature(Backend.lstm_forward)
    available = [True]
    register_backend("counting", Counting, available=lambda: available[0])
    try:
        assert "counting" in available_backends()
        rng = np.random.default_rng(0)
        X, y = rng.normal(size=(8, 4, 2)), rng.normal(size=8)
        model = VanillaLSTMRegressor(units=3, max_iter=2, backend="counting",
                                     random_state=0)
        with pytest.warns(Warning):
            model.fit(X, y)
        assert model.backend_ == "counting" and calls
        reference = VanillaLSTMRegressor(units=3, max_iter=2, backend="cpu",
                                         random_state=0)
        with pytest.warns(Warning):
            reference.fit(X, y)
        np.testing.assert_array_equal(model.predict(X), reference.predict(X))
        available[0] = False
        assert "counting" not in available_backends()
        with pytest.raises(ValueError, match="unavailable backend 'counting'"):
            resolve("counting")
    finally:
        unregister_backend("counting")
    assert "counting" not in available_backends()


@pytest.mark.parametrize("name", ["auto", "", "CPU2", 3])
def test_register_backend_rejects_bad_names(name):
    with pytest.raises(ValueError, match="lower-case"):
        register_backend(name, CPUBackend)


def test_register_backend_rejects_non_callables():
    with pytest.raises(TypeError, match="callables"):
        register_backend("x", CPUBackend(), available=True)


def test_cpu_cannot_be_unregistered():
    with pytest.raises(ValueError, match="cannot be unregistered"):
        unregister_backend("cpu")
