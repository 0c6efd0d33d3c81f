"""Time one ``make analysis`` on a synthetic cohort, with the peak memory of its processes,
and its floor on the same file.

Usage: ``python analysis_run.py SPEC_JSON`` with ``{"patients": n, "visits": v,
"folder": path}``. Writes the cohort CSV (not timed), then runs the command-line entry
point of ``make analysis`` (``python -m helpers.pipeline.cohort``) in a child process,
then the floor (``cohort_floor.py``: the file read by pandas' pyarrow engine,
``paired_tests``, the table written, one plain process), and prints one JSON object:
``patients, visits, rows, seconds, peak_bytes`` (the largest resident set of any process
of the run: the runner or the Jupyter kernel, which Linux reports for waited-for
descendants), the runner's per-notebook seconds, and ``floor_seconds``,
``floor_peak_bytes``. Both are timed whole, from the start of their process.
"""

from __future__ import annotations

import json
import re
import resource
import subprocess
import sys
import time
from pathlib import Path

from helpers.io import write_csv
from helpers.synth import make_cohort


def main() -> None:
    spec = json.loads(sys.argv[1])
    folder = Path(spec["folder"])
    folder.mkdir(parents=True, exist_ok=True)
    data = folder / f"cohort_{spec['patients']}x{spec['visits']}.csv"
    cohort = make_cohort(spec["patients"], visits=spec["visits"], seed=1, missing_rate=0.02)
    write_csv(cohort, data)
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "helpers.pipeline.cohort", "--data",
                             str(data), "--out", str(folder / "out")],
                            capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if result.returncode != 0:
        sys.exit(f"make analysis failed: {result.stderr.strip()[-2000:]}")
    notebooks = {name: float(t) for name, t in re.findall(
        r"running \S*?(\d\d_\w+)\.ipynb -> .*\n\s+done in ([0-9.]+) s", result.stderr)}
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # before the floor's
    started = time.perf_counter()
    floor = subprocess.run([sys.executable, str(Path(__file__).with_name("cohort_floor.py")),
                            str(data), str(folder / "floor_prepost.csv")],
                           capture_output=True, text=True)
    floor_seconds = time.perf_counter() - started
    if floor.returncode != 0:
        sys.exit(f"the floor failed: {floor.stderr.strip()[-2000:]}")
    print(json.dumps({"patients": spec["patients"], "visits": spec["visits"],
                      "rows": len(cohort), "seconds": seconds, "peak_bytes": peak_kib * 1024,
                      "notebooks": notebooks, "floor_seconds": floor_seconds,
                      "floor_peak_bytes": json.loads(floor.stdout)["peak_bytes"]}))


if __name__ == "__main__":
    main()
