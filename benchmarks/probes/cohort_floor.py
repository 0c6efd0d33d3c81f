"""The floor of ``make analysis``: the same file read, tested and tabled in one process.

``python benchmarks/probes/cohort_floor.py DATA OUT_CSV``: pandas reads the cohort CSV
with its pyarrow engine, :func:`helpers.paired.paired_tests` compares every follow-up
with baseline, and the table is written, in one plain Python process: what no pipeline
on these libraries can go below (issue 27's floor). Prints JSON: ``seconds`` (from the
interpreter's start, imports included) and ``peak_bytes`` (this process's largest
resident set).
"""

from __future__ import annotations

import json
import resource
import sys
import time

STARTED = time.perf_counter()

import pandas as pd  # noqa: E402  (timed: imports are part of the floor)

from helpers.io import write_csv  # noqa: E402
from helpers.paired import paired_tests  # noqa: E402


def main() -> None:
    measurements = pd.read_csv(sys.argv[1], engine="pyarrow")
    write_csv(paired_tests(measurements), sys.argv[2])
    print(json.dumps({"seconds": time.perf_counter() - STARTED,
                      "peak_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
                      * 1024}))


if __name__ == "__main__":
    main()
