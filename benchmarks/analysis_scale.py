"""``make analysis`` end to end on synthetic cohorts of growing size.

Each size runs in a fresh process (benchmarks/probes/analysis_run.py): the cohort file is
written first, untimed, then the command behind ``make analysis`` reads, validates and
converts it, runs notebooks 02 and 03 in a Jupyter kernel and writes the report. Time and
the peak memory of the largest process are reported, with the growth exponent between
sizes (:func:`benchmarks.scaling.growth`).
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Sequence
from pathlib import Path

from benchmarks.harness import clean_env, log, probe_result, start_probe

#: Patients per cohort of a full run and of ``--smoke``; visits per patient.
SIZES = (10_000, 100_000, 1_000_000)
SMOKE_SIZES = (200,)
VISITS = 3


def measure_analysis(sizes: Sequence[int], visits: int = VISITS, *, cwd: Path
                     ) -> list[dict]:
    """Run ``make analysis`` once per size; one row per size.

    Returns
    -------
    list of dict
        ``operation`` ("make analysis"), ``patients``, ``visits``, ``rows``,
        ``seconds``, ``peak_bytes`` and the per-notebook ``notebooks`` seconds.
    """
    rows = []
    for n in sizes:
        log(f"make analysis: {n:,} patients x {visits} visits x 3 measures ...")
        with tempfile.TemporaryDirectory(prefix="bench-analysis-") as folder:
            spec = {"patients": n, "visits": visits, "folder": folder}
            process = start_probe("analysis_run", [json.dumps(spec)], cwd=cwd,
                                  env=clean_env(MPLBACKEND="Agg"))
            row = probe_result(process, f"make analysis at {n:,} patients")
        row["operation"] = "make analysis"
        log(f"  {row['seconds']:.1f} s, peak {row['peak_bytes'] / 2**20:,.0f} MiB")
        rows.append(row)
    return rows
