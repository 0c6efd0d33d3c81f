"""How the report writes numbers and tables (shared by its sections)."""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Sequence


def seconds(value: float | None) -> str:
    """A duration with its unit: ms below a second, 2 or 1 decimals of s above."""
    if value is None:
        return "n/a"
    if value < 1:
        return f"{value * 1000:.{1 if value < 0.1 else 0}f} ms"
    return f"{value:.{2 if value < 10 else 1}f} s"


def runs(values: Sequence[float | None]) -> str:
    """The median of several runs, with their number and range."""
    values = [v for v in values if v is not None]
    if not values:
        return "n/a"
    if len(values) == 1:
        return f"{seconds(values[0])} (1 run)"
    return (f"{seconds(statistics.median(values))} (median of {len(values)}; "
            f"{seconds(min(values))}–{seconds(max(values))})")


def difference(a: float | None, b: float | None) -> str:
    """``a - b`` in seconds, signed."""
    return "n/a" if a is None or b is None else f"{a - b:+.2f} s"


def mib(size: float | None) -> str:
    """A size in bytes, in MiB."""
    return "n/a" if size is None else f"{size / 2**20:,.0f} MiB"


def gib(size: float | None) -> str:
    """A size in bytes, in GiB with two decimals (1.97 GiB is under a 2 GiB goal)."""
    return "n/a" if size is None else f"{size / 2**30:.2f} GiB"


def yes(flag: bool | None) -> str:
    """Whether a target is met, in bold."""
    return "n/a" if flag is None else ("**yes**" if flag else "**NO**")


def table(header: Sequence[str], rows: Iterable[Sequence[object]],
          align: str | None = None) -> str:
    """A Markdown table.

    Parameters
    ----------
    header : sequence of str
        Column titles.
    rows : iterable of sequences
        Cells, written with ``str``.
    align : str, optional
        One letter per column, ``l`` or ``r``; default: the first column left, the others
        right (numbers).

    Returns
    -------
    str
        The table's lines.
    """
    rows = [[str(c) for c in row] for row in rows]
    align = align or "l" + "r" * (len(header) - 1)
    rule = ["---:" if a == "r" else "---" for a in align]
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(rule) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)
