"""The report of ``numlstm bench``: a markdown table, warnings, JSON."""

from __future__ import annotations

from .machine import BUSY_PERCENT
from .rows import Row
from .timer import Timing

COLUMNS = ("case (B, T, D, H)", "numlstm s (min-max)", "torch s (min-max)",
           "numlstm/torch", "target", "met?", "numlstm GFLOP/s", "% sgemm",
           "other CPU %")


def _seconds(t: Timing | None, missing: str) -> str:
    if t is None:
        return missing
    return f"{t.median:.4g} ({t.min:.4g}-{t.max:.4g})"


def _number(x: float | None, fmt: str) -> str:
    return "-" if x is None or x != x else format(x, fmt)


def format_row(row: Row, torch_missing: bool = False) -> list[str]:
    """The cells of one row of the table."""
    case = row.case
    missing = "torch missing" if torch_missing and case.kind != "start" else "-"
    met = {True: "yes", False: "no", None: "-"}[row.met]
    return [f"{case.name}: {case.description} {tuple(case.config)}",
            _seconds(row.ours, "-"), _seconds(row.theirs, missing),
            _number(row.ratio, ".2f" if (row.ratio or 1) >= 0.01 else ".1e"),
            case.target, met,
            _number(row.gflops, ".2f"), _number(row.peak_percent, ".1f"),
            _number(row.other_cpu, ".0f")]


def format_table(rows: list[Row], torch_missing: bool = False) -> str:
    """The rows as a markdown table (header, alignment line, one line each).

    Examples
    --------
    >>> print(format_table([]))
    | case (B, T, D, H) | numlstm s (min-max) | torch s (min-max) | numlstm/torch | target | met? | numlstm GFLOP/s | % sgemm | other CPU % |
    |---|---:|---:|---:|---|---|---:|---:|---:|
    """  # noqa: E501
    lines = ["| " + " | ".join(COLUMNS) + " |",
             "|---|---:|---:|---:|---|---|---:|---:|---:|"]
    for row in rows:
        lines.append("| " + " | ".join(format_row(row, torch_missing)) + " |")
    return "\n".join(lines)


def busy_warnings(rows: list[Row], threshold: float = BUSY_PERCENT) -> list[str]:
    """A warning line for each row timed while others used > ``threshold`` %."""
    return [f"WARNING: other processes used {row.other_cpu:.0f}% of a core "
            f"while '{row.case.name}' was timed (above {threshold:g}%): that "
            "row is disturbed; run it again on a quieter machine."
            for row in rows if row.other_cpu > threshold]


def rows_to_json(rows: list[Row]) -> list[dict]:
    """The rows as plain data (seconds as lists of samples)."""
    return [{"case": row.case.name, "config": list(row.case.config),
             "n_sequences": row.case.n_sequences, "epochs": row.case.epochs,
             "numlstm_s": list(row.ours.samples),
             "torch_s": None if row.theirs is None else list(row.theirs.samples),
             "ratio": row.ratio, "target": row.case.target, "met": row.met,
             "gflops": row.gflops, "peak_percent": row.peak_percent,
             "other_cpu_percent": row.other_cpu, "check": row.check}
            for row in rows]
