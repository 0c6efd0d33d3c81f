"""``make pool`` end to end over a growing number of site summaries.

Each size runs in a fresh process (benchmarks/probes/pool_run.py): the site summaries are
written first, untimed, then the command behind ``make pool`` reads and checks them,
runs notebooks/pooling/06_pool.ipynb in a Jupyter kernel and writes the report.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

from benchmarks import markdown as md
from benchmarks.harness import clean_env, log, probe_result, start_probe

#: Sites per run of a full run and of ``--smoke``.
SIZES = (3, 40, 200)
SMOKE_SIZES = (2,)


def measure_pooling(sizes: Sequence[int], *, cwd: Path) -> list[dict]:
    """Run ``make pool`` once per number of sites; one row per size (``sites``,
    ``seconds``, ``peak_bytes``, ``notebook_seconds``)."""
    rows = []
    for k in sizes:
        log(f"make pool: {k} sites ...")
        with tempfile.TemporaryDirectory(prefix="bench-pool-") as folder:
            process = start_probe("pool_run", [json.dumps({"sites": k, "folder": folder})],
                                  cwd=cwd, env=clean_env(MPLBACKEND="Agg"))
            row = probe_result(process, f"make pool of {k} sites")
        log(f"  {row['seconds']:.1f} s, peak {row['peak_bytes'] / 2**20:,.0f} MiB")
        rows.append(row)
    return rows


def pooling_section(rows: Sequence[Mapping] | None) -> list[str]:
    """The section of docs/benchmarks.md."""
    lines = ["## `make pool`: many centres", ""]
    if not rows:
        return [*lines, "Not run.", ""]
    table = [[row["sites"], md.seconds(row["seconds"]),
              md.seconds(row["notebook_seconds"]) if row.get("notebook_seconds") else "—",
              md.mib(row["peak_bytes"])] for row in rows]
    return [*lines, ("`python -m helpers.pipeline.pool` (what `make pool` runs, without the "
                     "PDF) over site summaries of synthetic cohorts of 20 to 69 patients x 3 "
                     "visits (writing them is not timed): reading and checking every "
                     "summary, notebook 06 in a Jupyter kernel (pooled changes and "
                     "responders, the Bayesian sensitivity analysis, a forest plot per "
                     "outcome and criterion; above 40 sites the forest plots show the pooled "
                     "rows only), the report. One run per size, in a fresh process."),
            "", md.table(["sites", "time", "of which notebook 06", "peak RSS (largest "
                          "process)"], table), ""]
