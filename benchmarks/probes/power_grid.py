"""Time the power simulation's grid on one process and on a 2-worker Dask cluster.

``python benchmarks/probes/power_grid.py REPS SIZE [SIZE ...]``, run from a copy of the
project: the DAS28 changes of data/processed/measurements.csv, the three tests, REPS
replicates per size. Prints JSON: seconds on one process (``client=None``), seconds to
start a 2-worker process ``LocalCluster``, seconds on it, and whether both gave the same
table.
"""

import json
import sys
import time

from helpers.analysis.planning import dask_client, observed_differences
from helpers.data.reader import read_measurements
from helpers.power import simulate_power

if __name__ == "__main__":
    reps, sizes = int(sys.argv[1]), [int(v) for v in sys.argv[2:]]
    changes = observed_differences(
        read_measurements("data/processed/measurements.csv"), "das28")
    started = time.perf_counter()
    local = simulate_power(changes, n=sizes, reps=reps, seed=1)
    one = time.perf_counter() - started
    started = time.perf_counter()
    with dask_client(n_workers=2, processes=True) as client:
        cluster = time.perf_counter() - started
        started = time.perf_counter()
        distributed = simulate_power(changes, n=sizes, reps=reps, seed=1, client=client)
        two = time.perf_counter() - started
    print(json.dumps({"reps": reps, "sizes": sizes, "one_process": one,
                      "cluster_start": cluster, "two_workers": two,
                      "same": bool(local.equals(distributed))}))
