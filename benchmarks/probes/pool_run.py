"""Time one ``make pool`` over synthetic site summaries, with the peak memory of its
processes.

Usage: ``python pool_run.py SPEC_JSON`` with ``{"sites": k, "folder": path}``. Writes k
site summaries first (not timed): each one :func:`helpers.analysis.sites.site_summary` of
a synthetic cohort of 20 to 69 patients x 3 visits (:func:`helpers.synth.make_cohort`,
its own seed). Then runs the command behind ``make pool`` (``python -m
helpers.pipeline.pool``: reading and checking every summary, notebook 06 in a Jupyter
kernel, the report) in a child process, and prints one JSON object: ``sites``,
``seconds``, ``peak_bytes`` (the largest resident set of any process of the run) and the
notebook's own ``notebook_seconds``.
"""

from __future__ import annotations

import json
import re
import resource
import subprocess
import sys
import time
from pathlib import Path

from helpers.analysis.sites import site_summary, write_summary
from helpers.data.codebook import load_codebook
from helpers.synth import make_cohort


def main() -> None:
    spec = json.loads(sys.argv[1])
    folder = Path(spec["folder"])
    book = load_codebook()
    paths = []
    for k in range(spec["sites"]):
        cohort = make_cohort(20 + k % 50, visits=("baseline", "m6", "m12"), seed=1000 + k,
                             missing_rate=0.05)
        summary = site_summary(cohort, site=f"Site {k + 1:03d}", input_sha256=f"{k:064x}",
                               codebook=book)
        paths.append(str(write_summary(summary, folder / "sites" / f"{k:03d}.json")))
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "helpers.pipeline.pool", "--sites",
                             " ".join(paths), "--out", str(folder / "out")],
                            capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if result.returncode != 0:
        sys.exit(f"make pool failed: {result.stderr.strip()[-2000:]}")
    notebook = re.search(r"done in ([0-9.]+) s", result.stderr)
    print(json.dumps({"sites": spec["sites"], "seconds": seconds,
                      "peak_bytes": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
                      * 1024,
                      "notebook_seconds": float(notebook.group(1)) if notebook else None}))


if __name__ == "__main__":
    main()
