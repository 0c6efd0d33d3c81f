"""The power simulation's grid on one process and on 1, 2 and 4 Dask worker processes
(notebook 05's grid at the size of ``make power``)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from benchmarks.harness import clean_env, log, probe_result, start_probe

#: The notebook's grid of sample sizes, and the replicates of a full run (make power's).
SIZES = (4, 5, 6, 8, 10, 12, 15, 20, 25, 30, 40, 50, 75, 100)
FULL_REPS = 100_000
SMOKE_REPS = 100
#: The speed-up on 2 worker processes the grid must reach (against one process).
TARGET_SPEEDUP = 1.7


def measure_power_grid(copy: Path, *, smoke: bool) -> Mapping:
    """Run ``benchmarks/probes/power_grid.py`` in a fresh process in ``copy``."""
    reps = SMOKE_REPS if smoke else FULL_REPS
    log(f"power grid: {len(SIZES)} sizes x 3 tests x {reps:,} replicates, one process and "
        "1, 2, 4 worker processes")
    process = start_probe("power_grid", [str(reps), *map(str, SIZES)], cwd=copy,
                          env=clean_env())
    return probe_result(process, "the power-grid benchmark")


def power_section(power: Mapping | None) -> list[str]:
    """The Markdown section of docs/benchmarks.md."""
    lines = ["## Power simulation: one process and Dask worker processes", ""]
    if not power:
        return [*lines, "Not measured in this run.", ""]
    cells = len(power["sizes"]) * 3
    lines += [
        f"`helpers.power.simulate_power` on the DAS28 changes of the case series: "
        f"{len(power['sizes'])} sample sizes ({power['sizes'][0]} to {power['sizes'][-1]}) "
        f"x 3 tests ({cells} grid cells) x {power['reps']:,} replicates, bootstrap, in "
        f"{power['tasks']:,} tasks (blocks of about `BLOCK_DRAWS` drawn changes, each "
        "seeded from its grid point's seed).", "",
        "| run | start | grid | speed-up over one process | same table |",
        "|---|---:|---:|---:|---|",
        f"| one process (`client=None`) | — | {power['one_process']:.2f} s | 1.00x | — |"]
    for cluster in power["clusters"]:
        lines.append(
            f"| {cluster['workers']} worker process{'es' if cluster['workers'] > 1 else ''} "
            f"(`LocalCluster`) | {cluster['start']:.2f} s | {cluster['seconds']:.2f} s | "
            f"{power['one_process'] / cluster['seconds']:.2f}x | "
            f"{'yes' if cluster['same'] else '**no**'} |")
    two = next(c for c in power["clusters"] if c["workers"] == 2)
    speedup = power["one_process"] / two["seconds"]
    lines += ["", f"Target: 2 worker processes at least {TARGET_SPEEDUP}x one process: "
              f"{speedup:.2f}x, **{'yes' if speedup >= TARGET_SPEEDUP else 'no'}**. "
              "This machine has 2 cores, so 4 workers cannot go faster than 2; on a "
              "cluster each worker takes blocks as it frees up.", ""]
    return lines
