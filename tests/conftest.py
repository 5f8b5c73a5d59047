"""Make ``reference`` and ``helpers`` importable under any pytest import mode."""

import sys
from pathlib import Path

_TESTS = str(Path(__file__).resolve().parent)
if _TESTS not in sys.path:
    sys.path.insert(0, _TESTS)

import pytest  # noqa: E402

from numlstm.backends import available_backends  # noqa: E402

#: The backends the kernel tests run on: every one available here (a CUDA
#: backend joins by registering itself and being available).
BACKENDS = [name for name in available_backends()]


@pytest.fixture(params=BACKENDS)
def backend(request):
    """Each available backend object in turn."""
    from numlstm.backends import resolve

    return resolve(request.param)


@pytest.fixture
def no_kernels(monkeypatch):
    """Every kernel raises: for tests that bad input is refused before one
    runs (registry.disable_kernels)."""
    from registry import disable_kernels

    disable_kernels(monkeypatch)
