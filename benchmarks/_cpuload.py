"""How busy other processes keep the CPUs, for benchmarks on shared machines.

On a machine with few cores shared with someone's test run, thread pools
(OpenBLAS, OpenMP) wait on descheduled threads and timings grow by orders of
magnitude. :class:`OtherCPU` measures that disturbance so a benchmark can
report it, retry, or :func:`wait_for_quiet` first.
"""

from __future__ import annotations

import os
import time


class OtherCPU:
    """CPU time used by other processes while a block runs (``/proc/stat``).

    ``percent`` is in percent of one core, averaged over the block's wall
    time; this process and its waited-for children do not count. It is NaN
    where ``/proc/stat`` cannot be read.
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


def wait_for_quiet(max_wait: float, threshold: float = 10.0) -> bool:
    """Wait up to ``max_wait`` s until others use under ``threshold`` % of a core.

    Returns whether it got quiet.
    """
    deadline = time.monotonic() + max_wait
    while time.monotonic() < deadline:
        with OtherCPU() as others:
            time.sleep(2.0)
        if others.percent < threshold:
            return True
    return False
