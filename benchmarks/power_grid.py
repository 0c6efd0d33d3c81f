"""The power simulation's grid on one process and on two Dask workers (notebook 05)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from benchmarks.harness import clean_env, log, probe_result, start_probe

#: The notebook's grid of sample sizes, and the replicates of a full run.
SIZES = (4, 5, 6, 8, 10, 12, 15, 20, 25, 30, 40, 50, 75, 100)
FULL_REPS = 10_000
SMOKE_REPS = 100


def measure_power_grid(copy: Path, *, smoke: bool) -> Mapping:
    """Run ``benchmarks/probes/power_grid.py`` in a fresh process in ``copy``."""
    reps = SMOKE_REPS if smoke else FULL_REPS
    log(f"power grid: {len(SIZES)} sizes x 3 tests x {reps:,} replicates, 1 and 2 workers")
    process = start_probe("power_grid", [str(reps), *map(str, SIZES)], cwd=copy,
                          env=clean_env())
    return probe_result(process, "the power-grid benchmark")


def power_section(power: Mapping | None) -> list[str]:
    """The Markdown section of docs/benchmarks.md."""
    lines = ["## Power simulation: one process and two Dask workers", ""]
    if not power:
        return [*lines, "Not measured in this run.", ""]
    cells = len(power["sizes"]) * 3
    lines += [
        f"`helpers.power.simulate_power` on the DAS28 changes of the case series: "
        f"{len(power['sizes'])} sample sizes ({power['sizes'][0]} to {power['sizes'][-1]}) "
        f"x 3 tests ({cells} grid cells) x {power['reps']:,} replicates, bootstrap.", "",
        "| run | time |", "|---|---:|",
        f"| one process (`client=None`) | {power['one_process']:.2f} s |",
        f"| start a 2-worker process `LocalCluster` | {power['cluster_start']:.2f} s |",
        f"| the grid on 2 workers | {power['two_workers']:.2f} s |",
        f"| speed-up (one process / 2 workers) | "
        f"{power['one_process'] / power['two_workers']:.2f}x |", "",
        "Same table on both: " + ("**yes** (identical, as the seeding contract promises)."
                                  if power["same"] else "**no**."), ""]
    return lines
