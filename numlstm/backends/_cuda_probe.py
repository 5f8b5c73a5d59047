"""Whether the CUDA backend can run here, found without importing numba.cuda.

The dispatcher asks this on every ``resolve``, and ``'auto'`` is every
estimator's default backend, so the answer must be cheap where there is no
GPU: each check runs only once the one before it passed, the first ones
look at files only, and the result is kept for the process (a driver or a
device does not appear while a process runs). ``numba.cuda`` itself is
imported only by the backend's factory, once a CUDA backend is asked for.

The checks, in order:

1. the simulator (``NUMBA_ENABLE_CUDASIM=1``): CUDA kernels run on the CPU,
   for tests; ``backend='cuda'`` then works, ``'auto'`` never picks it;
2. numba's CUDA target is installed (the ``numba-cuda`` package, or the
   ``numba.cuda`` that older numba releases bundle);
3. the driver library (``libcuda``) loads;
4. the driver initialises and counts at least one device.
"""

from __future__ import annotations

import ctypes
import functools
import importlib.util
import os
import sys
from dataclasses import dataclass
from pathlib import Path

#: names of the CUDA driver library to try, per platform
_DRIVER_NAMES = {"win32": ("nvcuda.dll",), "darwin": ()}
_DEFAULT_DRIVER_NAMES = ("libcuda.so.1", "libcuda.so")

#: how to get numba's CUDA target (the README's development section)
_INSTALL_HINT = ("install it with `pip install numlstm[cuda]` (numba-cuda "
                 "for CUDA 12; see the README for CUDA 13)")


@dataclass(frozen=True)
class CudaStatus:
    """What :func:`cuda_status` found.

    Attributes
    ----------
    usable : bool
        Whether ``backend='cuda'`` can run (on a GPU or on the simulator).
    simulated : bool
        Whether it would run on numba's CUDA simulator.
    problem : str or None
        Which part is missing and how to fix it, when not ``usable``.
    """

    usable: bool
    simulated: bool = False
    problem: str | None = None


def simulator_on() -> bool:
    """Whether numba's CUDA simulator is switched on for this process (numba
    reads the variable when it starts, so it is read here the same way)."""
    return os.environ.get("NUMBA_ENABLE_CUDASIM", "0") not in ("", "0")


def numba_cuda_installed() -> bool:
    """Whether numba's CUDA target can be imported, found on disk only."""
    if importlib.util.find_spec("numba_cuda") is not None:
        return True
    numba = importlib.util.find_spec("numba")
    return (numba is not None and numba.submodule_search_locations is not None
            and any((Path(p) / "cuda" / "__init__.py").is_file()
                    for p in numba.submodule_search_locations))


def load_driver():
    """The CUDA driver library as a :class:`ctypes.CDLL`, or None."""
    for name in _DRIVER_NAMES.get(sys.platform, _DEFAULT_DRIVER_NAMES):
        try:
            return ctypes.CDLL(name)
        except OSError:
            continue
    return None


def count_devices(driver) -> tuple[int, int]:
    """``(cuInit's result, the number of devices)``; 0 devices unless
    ``cuInit`` succeeded (result 0)."""
    result = driver.cuInit(0)
    if result != 0:
        return result, 0
    count = ctypes.c_int(0)
    if driver.cuDeviceGetCount(ctypes.byref(count)) != 0:
        return result, 0
    return result, count.value


def probe(simulated=simulator_on, installed=numba_cuda_installed,
          driver=load_driver, devices=count_devices) -> CudaStatus:
    """Run the checks of this module's docstring in order; each argument is
    one check (tests pass their own)."""
    if simulated():
        return CudaStatus(usable=True, simulated=True)
    if not installed():
        return CudaStatus(False, problem=(
            f"numba's CUDA target (numba-cuda) is not installed; "
            f"{_INSTALL_HINT}"))
    lib = driver()
    if lib is None:
        return CudaStatus(False, problem=(
            "no NVIDIA driver: the CUDA driver library (libcuda) cannot be "
            "loaded; install the NVIDIA driver (`nvidia-smi` should list "
            "the GPU)"))
    result, n = devices(lib)
    if n < 1:
        why = (f"the driver failed to initialise (cuInit returned {result})"
               if result != 0 else "the driver sees no device")
        return CudaStatus(False, problem=(
            f"no CUDA device: {why}; check `nvidia-smi` and that "
            "CUDA_VISIBLE_DEVICES does not hide every GPU"))
    return CudaStatus(usable=True)


@functools.lru_cache(maxsize=1)
def cuda_status() -> CudaStatus:
    """:func:`probe`, once per process.

    Examples
    --------
    >>> status = cuda_status()
    >>> status.usable or "install" in status.problem or "no " in status.problem
    True
    """
    return probe()
