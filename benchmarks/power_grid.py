"""The power simulation's grid on one process and on 1, 2 and 4 Dask worker processes,
alternately (notebook 05's grid)."""

from __future__ import annotations

import statistics
from collections.abc import Mapping
from pathlib import Path

from benchmarks.harness import clean_env, log, probe_result, start_probe

#: The notebook's grid of sample sizes, the replicates of each run (half of make power's
#: full run: about 9 s on one process here), and the alternating pairs of runs per
#: cluster size.
SIZES = (4, 5, 6, 8, 10, 12, 15, 20, 25, 30, 40, 50, 75, 100)
FULL_REPS = 50_000
SMOKE_REPS = 100
PAIRS = 3
#: The speed-up on 2 worker processes the grid must reach (against one process).
TARGET_SPEEDUP = 1.7


def measure_power_grid(copy: Path, *, smoke: bool) -> Mapping:
    """Run ``benchmarks/probes/power_grid.py`` in a fresh process in ``copy``."""
    reps = SMOKE_REPS if smoke else FULL_REPS
    pairs = 1 if smoke else PAIRS
    log(f"power grid: {len(SIZES)} sizes x 3 tests x {reps:,} replicates, one process and "
        f"1, 2, 4 worker processes, {pairs} alternating pairs each")
    process = start_probe("power_grid", [str(reps), str(pairs), *map(str, SIZES)], cwd=copy,
                          env=clean_env())
    return probe_result(process, "the power-grid benchmark")


def speedups(power: Mapping) -> dict[int, float]:
    """Each cluster's speed-up over one process: the median of its pairs' ratios."""
    return {cluster["workers"]: statistics.median(
        run["one_process"] / run["cluster"] for run in cluster["runs"])
        for cluster in power["clusters"]}


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
        "Each cluster is started, then the grid runs on one process and on the cluster, "
        "alternately, in pairs; the speed-up is the median of the pairs' ratios (the host's "
        "speed drifts over minutes: only runs side by side compare).", "",
        "| cluster | start | one process (median) | cluster (median) | speed-up (median of "
        "the pairs) | pairs' speed-ups | same table |",
        "|---|---:|---:|---:|---:|---|---|"]
    speedup = speedups(power)
    for cluster in power["clusters"]:
        ratios = [run["one_process"] / run["cluster"] for run in cluster["runs"]]
        lines.append(
            f"| {cluster['workers']} worker process{'es' if cluster['workers'] > 1 else ''} "
            f"(`LocalCluster`) | {cluster['start']:.2f} s | "
            f"{statistics.median(r['one_process'] for r in cluster['runs']):.2f} s | "
            f"{statistics.median(r['cluster'] for r in cluster['runs']):.2f} s | "
            f"{speedup[cluster['workers']]:.2f}x | "
            f"{', '.join(f'{r:.2f}x' for r in ratios)} | "
            f"{'yes' if cluster['same'] else '**no**'} |")
    lines += ["", f"Target: 2 worker processes at least {TARGET_SPEEDUP}x one process: "
              f"{speedup[2]:.2f}x, **{'yes' if speedup[2] >= TARGET_SPEEDUP else 'no'}**. "
              "This machine has 2 cores, so 4 workers cannot go faster than 2; on a "
              "cluster each worker takes blocks as it frees up.", ""]
    return lines
