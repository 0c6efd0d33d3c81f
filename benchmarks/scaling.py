"""Scaling: statistics and figures on synthetic cohorts of growing size, in fresh processes.

The operations themselves, and their peak memory, are timed by
benchmarks/probes/scale_worker.py; this module plans the runs, starts the worker
processes, collects their rows and computes how time grows with size (:func:`growth`).
"""

from __future__ import annotations

import json
import math
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

from benchmarks.harness import clean_env, log, probe_result, start_probe

#: Cohort sizes (patients) of a full run, and of ``--smoke``.
SIZES = (100, 10_000, 100_000, 1_000_000)
SMOKE_SIZES = (100, 1_000)
#: Visits per patient (baseline included); 3 is the size of the cohort figures' target
#: (10^6 patients x 3 visits, docs/benchmarks.md).
VISITS = (2, 3, 4)
#: The operations timed (names the worker knows), and how the report names them.
OPERATIONS = ("paired_tests", "responders", "figures")
OPERATION_LABELS = {
    "paired_tests": "`paired_tests`",
    "responders": "`responder_table` + `summarise_responders`",
    "figures": ("notebook 03's cohort figures: slope charts (3 panels) + DAS28 waterfall, "
                "each shown and saved as PNG + SVG (`save_and_show`)"),
}


def _start_worker(spec: Mapping, cwd: Path) -> subprocess.Popen:
    # The worker draws figures: no display, whatever the user's backend.
    return start_probe("scale_worker", [json.dumps(spec)], cwd=cwd,
                       env=clean_env(MPLBACKEND="Agg"))


def finish_worker(process: subprocess.Popen, spec: Mapping) -> list[dict]:
    """Wait for a worker started with ``spec`` and return its rows."""
    return probe_result(process, f"scaling worker {spec}")


def smoke_scaling(sizes: Sequence[int], visits: Sequence[int], *, cwd: Path
                  ) -> tuple[subprocess.Popen, dict]:
    """Start the smoke run's scaling measurements in one background process.

    The same code as the full run, on tiny cohorts, once each, at 72 dpi and without the
    warm-up: its numbers are not measurements, only proof that the measuring works.

    Returns
    -------
    tuple
        The process and its spec, for :func:`finish_worker`.
    """
    spec = {"configs": [(n, v) for v in visits for n in sizes],
            "operations": list(OPERATIONS), "repeats": 1, "dpi": 72, "warm_up": False}
    log(f"scaling (smoke, in the background): {list(sizes)} patients x {list(visits)} "
        "visits ...")
    return _start_worker(spec, cwd), spec


def measure_scaling(sizes: Sequence[int], visits: Sequence[int], repeats: int, *,
                    cwd: Path) -> list[dict]:
    """Time each (operation, size, visits) in a fresh process, so that peaks are its own.

    Parameters
    ----------
    sizes, visits : sequence of int
        Patients per cohort, and visits per patient.
    repeats : int
        Runs of each.
    cwd : Path
        The workers' working folder.

    Returns
    -------
    list of dict
        One row per (visits, size, operation), as the worker returns them.
    """
    results = []
    for v in visits:
        for n in sizes:
            for op in OPERATIONS:
                log(f"scaling: {op}, {n:,} patients x 3 measures x {v} visits "
                    f"({repeats} run{'s' * (repeats > 1)}) ...")
                spec = {"configs": [(n, v)], "operations": [op], "repeats": repeats,
                        "dpi": 300}
                row = finish_worker(_start_worker(spec, cwd), spec)[0]
                log(f"  {row['seconds']:.3f} s, peak {row['peak_bytes'] / 2**20:,.0f} MiB")
                results.append(row)
    return results


def growth(rows: Sequence[Mapping]) -> list[dict]:
    """Add to each row how time grows from the previous size.

    Parameters
    ----------
    rows : sequence of mapping
        Rows with ``operation``, ``visits``, ``patients`` and ``seconds``.

    Returns
    -------
    list of dict
        Copies of the rows, grouped by (operation, visits) and sorted by size, with
        ``size_growth`` and ``time_growth`` (factors from the previous size) and
        ``exponent``, the b of time ∝ size^b between the two (``None`` for the first).
    """
    out = []
    keyed: dict[tuple, list] = {}
    for row in rows:
        keyed.setdefault((row["operation"], row["visits"]), []).append(dict(row))
    for group in keyed.values():
        group.sort(key=lambda r: r["patients"])
        previous = None
        for row in group:
            row["time_growth"] = row["size_growth"] = row["exponent"] = None
            if previous is not None and previous["seconds"] > 0:
                row["size_growth"] = row["patients"] / previous["patients"]
                row["time_growth"] = row["seconds"] / previous["seconds"]
                row["exponent"] = math.log(row["time_growth"]) / math.log(row["size_growth"])
            previous = row
            out.append(row)
    return out
