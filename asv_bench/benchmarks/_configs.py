"""Shapes shared by the benchmark modules (no benchmark here).

``CONFIGS`` are the configurations ``(B, T, D, H)`` of the design guide
(section 6) and of ``numlstm bench``. The large one is slow (seconds per
call, gigabytes in float64): it is a parameter only when the environment
variable ``NUMLSTM_ASV_LARGE=1`` is set for the asv run.
"""

import os

#: name -> (B, T, D, H): batch, steps, inputs, hidden units
CONFIGS = {
    "latency": (1, 50, 8, 64),
    "small": (32, 50, 8, 64),
    "medium": (64, 100, 32, 256),
    "large": (64, 100, 512, 1024),
}
DTYPES = ["float32", "float64"]


def large_enabled() -> bool:
    """Whether ``NUMLSTM_ASV_LARGE=1`` asks for the large configuration."""
    return os.environ.get("NUMLSTM_ASV_LARGE", "") == "1"


def config_names() -> list:
    """latency, small, medium, and large where :func:`large_enabled`."""
    return ["latency", "small", "medium"] + (["large"] if large_enabled() else [])
