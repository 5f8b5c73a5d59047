"""How busy other processes keep the CPUs, for benchmarks on shared machines.

The code lives in :mod:`numlstm.bench.machine` (``numlstm bench`` uses it too);
this module puts the checkout on ``sys.path`` and re-exports it for the
scripts next to it.
"""

from __future__ import annotations

import sys
from pathlib import Path

# The scripts benchmark this checkout, installed or not.
ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from numlstm.bench.machine import OtherCPU, wait_for_quiet  # noqa: E402

__all__ = ["OtherCPU", "wait_for_quiet"]
