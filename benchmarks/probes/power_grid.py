"""Time the power simulation's grid on one process and on Dask clusters of 1, 2 and 4
worker processes, alternately.

``python benchmarks/probes/power_grid.py REPS PAIRS SIZE [SIZE ...]``, run from a copy of
the project: the DAS28 changes of data/processed/measurements.csv, the three tests, REPS
replicates per size (split into blocks of about ``helpers.power.BLOCK_DRAWS`` drawn
changes, one task each). For each cluster size, the cluster is started (its workers
import the simulation's modules), then the grid runs PAIRS times on one process
(``client=None``) and on the cluster, alternately: the host's speed drifts by tens of
percent over minutes, and only runs side by side compare. Prints JSON: the number of
tasks, and for each cluster size the seconds to start it, every pair's seconds, and
whether every cluster's table is identical to the one-process table.
"""

import importlib
import json
import sys
import time

from helpers.analysis.planning import dask_client, observed_differences
from helpers.data.reader import read_measurements
from helpers.power import replicate_blocks, simulate_power

#: Worker processes of the clusters timed.
WORKERS = (1, 2, 4)


def _timed(changes, sizes, reps, client=None):
    started = time.perf_counter()
    table = simulate_power(changes, n=sizes, reps=reps, seed=1, client=client)
    return time.perf_counter() - started, table


if __name__ == "__main__":
    reps, pairs, sizes = int(sys.argv[1]), int(sys.argv[2]), [int(v) for v in sys.argv[3:]]
    changes = observed_differences(
        read_measurements("data/processed/measurements.csv"), "das28")
    clusters = []
    for workers in WORKERS:
        started = time.perf_counter()
        with dask_client(n_workers=workers, processes=True) as client:
            client.run(importlib.import_module, "helpers.power")
            start = time.perf_counter() - started
            runs, same = [], True
            for _ in range(pairs):
                one, local = _timed(changes, sizes, reps)
                seconds, distributed = _timed(changes, sizes, reps, client)
                runs.append({"one_process": one, "cluster": seconds})
                same = same and bool(local.equals(distributed))
        clusters.append({"workers": workers, "start": start, "runs": runs, "same": same})
    print(json.dumps({"reps": reps, "sizes": sizes,
                      "tasks": sum(len(replicate_blocks(n, reps)) for n in sizes),
                      "clusters": clusters}))
