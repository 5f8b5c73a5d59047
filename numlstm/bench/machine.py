"""The machine a benchmark runs on: CPU load, thread pools, sgemm rate.

Shared by ``numlstm bench``, the asv ratio benchmark and the scripts under
``benchmarks/``. On a machine with few cores shared with someone's test run,
thread pools (OpenBLAS, OpenMP) wait on descheduled threads and timings grow
by orders of magnitude: :class:`OtherCPU` measures that disturbance so a
benchmark can report it, retry, or :func:`wait_for_quiet` first.

Only numpy is imported here; SciPy, Numba, threadpoolctl and torch are
imported by the functions that need them.
"""

from __future__ import annotations

import os
import platform
import time
from pathlib import Path

import numpy as np

from .timer import time_median

#: thread-count variables reported with the machine
THREAD_VARIABLES = ("OPENBLAS_CORETYPE", "OPENBLAS_NUM_THREADS",
                    "OMP_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS")
#: other-process load, in % of one core, above which a timing is disturbed
BUSY_PERCENT = 10.0


# --------------------------------------------------------------------------
# load of other processes


class OtherCPU:
    """CPU time used by other processes while a block runs (``/proc/stat``).

    ``percent`` is in percent of one core, averaged over the block's wall
    time; this process and its waited-for children do not count. It is NaN
    where ``/proc/stat`` cannot be read.

    Examples
    --------
    >>> with OtherCPU() as others:
    ...     pass
    >>> others.percent >= 0 or others.percent != others.percent  # NaN
    True
    """

    percent = float("nan")

    def __enter__(self):
        self._start = self._snap()
        return self

    def __exit__(self, *exc):
        (t0, busy0, own0), (t1, busy1, own1) = self._start, self._snap()
        if busy0 < 0 or busy1 < 0:
            return
        other = (busy1 - busy0) - (own1 - own0)
        self.percent = max(0.0, 100.0 * other / max(t1 - t0, 1e-9))

    @staticmethod
    def _snap() -> tuple[float, float, float]:
        try:
            with open("/proc/stat") as f:
                fields = [int(x) for x in f.readline().split()[1:]]
            # user nice system idle iowait irq softirq ...
            busy = (fields[0] + fields[1] + fields[2] + fields[5] + fields[6])
            busy /= os.sysconf("SC_CLK_TCK")
        except (OSError, ValueError, IndexError):
            busy = -1.0
        t = os.times()
        own = t.user + t.system + t.children_user + t.children_system
        return time.perf_counter(), busy, own


def wait_for_quiet(max_wait: float, threshold: float = BUSY_PERCENT) -> bool:
    """Wait until other processes use under ``threshold`` % of a core.

    Parameters
    ----------
    max_wait : float
        Most seconds to wait; the load is sampled over 2 s at a time.
    threshold : float, default :data:`BUSY_PERCENT`
        In % of one core.

    Returns
    -------
    bool
        Whether it got quiet in time.
    """
    deadline = time.monotonic() + max_wait
    while time.monotonic() < deadline:
        with OtherCPU() as others:
            time.sleep(2.0)
        if others.percent < threshold:
            return True
    return False


# --------------------------------------------------------------------------
# the machine


def cpu_model() -> str:
    """The CPU's model name.

    Returns
    -------
    str
        From ``/proc/cpuinfo``, else what :mod:`platform` says.
    """
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def usable_cores() -> int:
    """CPUs this process may run on.

    Returns
    -------
    int
        The size of its affinity mask, else ``os.cpu_count()``.
    """
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        return os.cpu_count() or 1


def blas_pools() -> list[dict]:
    """The thread pools loaded in this process.

    Returns
    -------
    list of dict
        ``threadpoolctl.threadpool_info()``; empty without threadpoolctl.
    """
    try:
        import threadpoolctl
    except ImportError:  # pragma: no cover - scikit-learn depends on it
        return []
    return threadpoolctl.threadpool_info()


def numlstm_blas_threads() -> int:
    """Threads of the BLAS that Numba's ``np.dot`` calls (SciPy's).

    Numba reaches BLAS through ``scipy.linalg.cython_blas``; in a wheel
    install that is the OpenBLAS under ``scipy.libs`` (numpy's own OpenBLAS,
    ``numpy.libs/libscipy_openblas64_*``, is another pool).

    Returns
    -------
    int
        That pool's thread count, else ``os.cpu_count()``.
    """
    import scipy.linalg.cython_blas  # noqa: F401 - loads SciPy's BLAS

    blas = [p for p in blas_pools() if p.get("user_api") == "blas"]
    scipy_own = [p for p in blas
                 if Path(p["filepath"]).parent.name.startswith("scipy")]
    pools = scipy_own or (blas if len(blas) == 1 else [])
    return int(pools[0]["num_threads"]) if pools else (os.cpu_count() or 1)


def sgemm_peak(n: int = 2048, budget: float = 1.0) -> tuple[float, float]:
    """GFLOP/s of a float32 ``(n, n) @ (n, n)`` product.

    Parameters
    ----------
    n : int, default 2048
        Matrix size.
    budget : float, default 1.0
        Seconds aimed at per library (:func:`~numlstm.bench.timer.time_median`,
        at most 10 products).

    Returns
    -------
    numpy_gflops : float
        ``np.matmul`` (numpy's BLAS).
    scipy_gflops : float
        ``scipy.linalg.blas.sgemm`` (SciPy's BLAS, the one numlstm calls).
    """
    import scipy.linalg.blas

    rng = np.random.default_rng(0)
    a = rng.standard_normal((n, n)).astype(np.float32)
    b = rng.standard_normal((n, n)).astype(np.float32)
    c = np.empty((n, n), np.float32)
    flops = 2.0 * n**3
    t_np, _ = time_median(lambda: np.matmul(a, b, out=c), budget, 10, warmup=2)
    af, bf = np.asfortranarray(a), np.asfortranarray(b)
    sgemm = scipy.linalg.blas.sgemm
    t_sp, _ = time_median(lambda: sgemm(1.0, af, bf), budget, 10, warmup=2)
    return flops / t_np / 1e9, flops / t_sp / 1e9


def machine_lines(n_threads: int, peak_np: float, peak_sp: float,
                  peak_other: float, torch=None) -> list[str]:
    """The machine and versions as markdown bullet lines.

    Parameters
    ----------
    n_threads : int
        numlstm's BLAS thread count (:func:`numlstm_blas_threads`).
    peak_np, peak_sp : float
        The two rates of :func:`sgemm_peak`.
    peak_other : float
        :class:`OtherCPU` percent while :func:`sgemm_peak` ran.
    torch : module, optional
        The torch module; None where it is not importable.

    Returns
    -------
    list of str
    """
    import numba
    import scipy

    import numlstm

    torch_version = torch.__version__ if torch is not None else "not importable"
    lines = [
        f"- CPU: {cpu_model()}; os.cpu_count() = {os.cpu_count()}, "
        f"usable = {usable_cores()}",
        f"- Python {platform.python_version()}, numlstm {numlstm.__version__}, "
        f"numpy {np.__version__}, scipy {scipy.__version__}, "
        f"numba {numba.__version__}, torch {torch_version}",
    ]
    for var in THREAD_VARIABLES:
        lines.append(f"- {var} = {os.environ.get(var, '(unset)')!r}")
    threads = (f"- threads: numlstm BLAS (SciPy's, called by Numba's np.dot) = "
               f"{n_threads}; ")
    if torch is not None:
        threads += f"torch.get_num_threads() = {torch.get_num_threads()}; "
    threads += f"numba.get_num_threads() = {numba.get_num_threads()}"
    lines.append(threads)
    if torch is not None:
        lines.append(f"- torch: mkldnn (oneDNN) enabled = "
                     f"{torch.backends.mkldnn.enabled}, available = "
                     f"{torch.backends.mkldnn.is_available()}")
    for pool in blas_pools():
        lines.append(f"- pool {pool.get('internal_api')} {pool.get('version')} "
                     f"({pool.get('architecture', '-')}), {pool['num_threads']} "
                     f"threads: {pool['filepath']}")
    lines.append(f"- sgemm peak, float32 2048x2048 matmul: numpy {peak_np:.1f} "
                 f"GFLOP/s, scipy.linalg.blas.sgemm {peak_sp:.1f} GFLOP/s (other "
                 f"processes used {peak_other:.0f}% of a core meanwhile)")
    return lines
