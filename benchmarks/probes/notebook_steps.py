"""Time a shared kernel's start, then the runner's steps for each notebook, one by one.

``python benchmarks/probes/notebook_steps.py NOTEBOOK...`` (run from the project, with
``ANIFROLUMAB_ROOT`` pointing at it) prints one JSON line: ``{"launch": s, "ready": s,
"steps": [{"notebook", "inspect", "reset", "execute", "cells", "write"}]}``.

The steps are those :func:`helpers.pipeline.notebooks.run_notebook` takes, in the same
kernel (:class:`~helpers.pipeline.notebooks.SharedKernel`); ``cells`` sums nbclient's own
per-cell timestamps, so ``execute - cells`` is what papermill spends around the cells.
Executed notebooks go to a temporary folder: the project is not written.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from datetime import datetime

import nbformat
import papermill

from helpers.io import write_text
from helpers.paths import ROOT
from helpers.pipeline import notebooks as runner
from helpers.pipeline.notebooks import KERNEL_ENV


def _stamp(text: str) -> float:
    return datetime.fromisoformat(text).timestamp()  # Python >= 3.11 reads the "Z"


def _cells_seconds(nb) -> float:
    """Time the cells ran in the kernel, from nbclient's per-cell metadata."""
    cells = 0.0
    for cell in nb.cells:
        timing = cell.metadata.get("execution", {})
        if "shell.execute_reply" in timing and "iopub.execute_input" in timing:
            cells += _stamp(timing["shell.execute_reply"]) - _stamp(timing["iopub.execute_input"])
    return cells


def _steps(kernel: runner.SharedKernel, source: str, folder: str) -> dict[str, object]:
    """The runner's steps for one notebook, each timed."""
    row: dict[str, object] = {"notebook": source}
    started = time.perf_counter()
    papermill.inspect_notebook(source)
    nbformat.read(source, as_version=4)
    row["inspect"] = time.perf_counter() - started
    started = time.perf_counter()
    kernel.reset()
    row["reset"] = time.perf_counter() - started
    target = os.path.join(folder, os.path.basename(source))
    started = time.perf_counter()
    papermill.execute_notebook(source, target, parameters={}, kernel_name="python3",
                               cwd=str(ROOT), progress_bar=False,
                               request_save_on_cell_execute=False,
                               **kernel.papermill_options())
    row["execute"] = time.perf_counter() - started
    started = time.perf_counter()
    nb = nbformat.read(target, as_version=4)
    cells = _cells_seconds(nb)
    runner.normalise(nb)
    write_text(nbformat.writes(nb) + "\n", target + ".normalised")
    row["write"] = time.perf_counter() - started
    row["cells"] = cells
    return row


def main(notebooks: list[str]) -> dict[str, object]:
    """Start a kernel, run ``notebooks`` in it step by step; return the timings."""
    # The environment the runner gives its kernels (an inherited MPLBACKEND=Agg would
    # change what the notebooks display, and so what they cost).
    os.environ.update(KERNEL_ENV)
    started = time.perf_counter()
    kernel = runner.SharedKernel()
    launch = time.perf_counter() - started
    try:
        kernel.wait()
        ready = time.perf_counter() - started
        with tempfile.TemporaryDirectory() as folder:
            rows = [_steps(kernel, source, folder) for source in notebooks]
    finally:
        kernel.shutdown()
    return {"launch": launch, "ready": ready, "steps": rows}


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1:])))
