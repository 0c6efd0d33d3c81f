"""Time the power simulation's grid on one process and on Dask clusters of 1, 2 and 4
worker processes.

``python benchmarks/probes/power_grid.py REPS SIZE [SIZE ...]``, run from a copy of the
project: the DAS28 changes of data/processed/measurements.csv, the three tests, REPS
replicates per size (split into blocks of about ``helpers.power.BLOCK_DRAWS`` drawn
changes, one task each). Prints JSON: the number of tasks, seconds on one process
(``client=None``), and for each cluster size the seconds to start it, the seconds of the
grid on it, and whether its table is identical to the one-process table.
"""

import json
import sys
import time

from helpers.analysis.planning import dask_client, observed_differences
from helpers.data.reader import read_measurements
from helpers.power import replicate_blocks, simulate_power

#: Worker processes of the clusters timed.
WORKERS = (1, 2, 4)

if __name__ == "__main__":
    reps, sizes = int(sys.argv[1]), [int(v) for v in sys.argv[2:]]
    changes = observed_differences(
        read_measurements("data/processed/measurements.csv"), "das28")
    started = time.perf_counter()
    local = simulate_power(changes, n=sizes, reps=reps, seed=1)
    one = time.perf_counter() - started
    clusters = []
    for workers in WORKERS:
        started = time.perf_counter()
        with dask_client(n_workers=workers, processes=True) as client:
            start = time.perf_counter() - started
            started = time.perf_counter()
            distributed = simulate_power(changes, n=sizes, reps=reps, seed=1, client=client)
            seconds = time.perf_counter() - started
        clusters.append({"workers": workers, "start": start, "seconds": seconds,
                         "same": bool(local.equals(distributed))})
    print(json.dumps({"reps": reps, "sizes": sizes, "one_process": one,
                      "tasks": sum(len(replicate_blocks(n, reps)) for n in sizes),
                      "clusters": clusters}))
