"""Whether CUDA can run, and the errors when it cannot: the probe's checks
one by one with stand-ins, and the dispatcher around them."""

import subprocess
import sys

import pytest

from numlstm import backends
from numlstm.backends import _cuda_probe, available_backends, resolve
from numlstm.backends._cuda_probe import CudaStatus, probe


def _never():
    raise AssertionError("a later check ran although an earlier one failed")


class _FakeDriver:
    def __init__(self, init_result=0, count=1):
        self.init_result, self.count = init_result, count


def _devices(driver):
    return driver.init_result, driver.count if driver.init_result == 0 else 0


def test_the_simulator_is_usable_and_marked_simulated():
    status = probe(simulated=lambda: True, installed=_never, driver=_never,
                   devices=_never)
    assert status == CudaStatus(usable=True, simulated=True)


def test_missing_numba_cuda_says_how_to_install_it():
    status = probe(simulated=lambda: False, installed=lambda: False,
                   driver=_never, devices=_never)
    assert not status.usable
    assert "numba-cuda" in status.problem
    assert "pip install numlstm[cuda]" in status.problem


def test_missing_driver_is_named():
    status = probe(simulated=lambda: False, installed=lambda: True,
                   driver=lambda: None, devices=_never)
    assert not status.usable and "no NVIDIA driver" in status.problem
    assert "libcuda" in status.problem


@pytest.mark.parametrize(("driver", "match"), [
    (_FakeDriver(init_result=100), "cuInit returned 100"),
    (_FakeDriver(count=0), "sees no device")])
def test_no_device_is_named(driver, match):
    status = probe(simulated=lambda: False, installed=lambda: True,
                   driver=lambda: driver, devices=_devices)
    assert not status.usable and "no CUDA device" in status.problem
    assert match in status.problem and "CUDA_VISIBLE_DEVICES" in status.problem


def test_a_device_makes_cuda_usable_on_hardware():
    status = probe(simulated=lambda: False, installed=lambda: True,
                   driver=lambda: _FakeDriver(), devices=_devices)
    assert status == CudaStatus(usable=True, simulated=False)


def test_this_machine_is_reported_consistently():
    """Without a GPU (CI here) the probe names the missing part; on a GPU
    (benchmarks/gpu_check.sh) it finds it; the dispatcher agrees."""
    status = _cuda_probe.cuda_status()
    assert status.usable == ("cuda" in available_backends())
    if not status.usable:
        assert status.problem.startswith(("numba's CUDA target", "no NVIDIA",
                                          "no CUDA device"))


@pytest.mark.parametrize("name", ["cuda", "CUDA"])
def test_asking_for_cuda_without_a_gpu_says_what_is_missing(name, monkeypatch):
    problem = "no NVIDIA driver: the CUDA driver library (libcuda) ..."
    monkeypatch.setattr(_cuda_probe, "cuda_status",
                        lambda: CudaStatus(False, problem=problem))
    with pytest.raises(ValueError, match=r"cannot run here: no NVIDIA driver"
                                         r".*Use 'cpu' or 'auto'") as info:
        resolve(name)
    assert repr(name) in str(info.value)
    assert "cuda" not in available_backends()


@pytest.mark.parametrize(("on", "status", "want"), [
    (False, CudaStatus(usable=True), "cpu"),
    (True, CudaStatus(usable=True), "cuda"),
    (True, CudaStatus(usable=True, simulated=True), "cpu"),
    (True, CudaStatus(False, problem="no device"), "cpu")])
def test_auto_picks_only_a_real_gpu_and_only_when_switched_on(
        on, status, want, monkeypatch):
    monkeypatch.setattr(backends, "AUTO_PICKS_CUDA", on)
    monkeypatch.setattr(_cuda_probe, "cuda_status", lambda: status)
    assert backends._auto_choice() == want


def test_cpu_users_never_import_numba_cuda():
    code = ("import sys, numlstm\n"
            "from numlstm.backends import available_backends, resolve\n"
            "resolve('auto'); resolve('cpu'); available_backends()\n"
            "try:\n    resolve('cuda')\nexcept ValueError:\n    pass\n"
            "print(sorted(m for m in sys.modules if m.startswith('numba.cuda')"
            " or m.startswith('numba_cuda')))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True,
                         text=True, check=True, env={
                             "PATH": "", "NUMBA_ENABLE_CUDASIM": "0"})
    assert out.stdout.strip() == "[]", out.stdout + out.stderr
