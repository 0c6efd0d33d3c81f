"""Start-up costs in isolation: what ``make`` pays before and around the notebooks' work.

Each is measured in fresh processes (medians): the interpreter, the runner's imports, the
scientific stack the shared kernel imports while it warms up, a kernel's launch and
warm-up with the runner's steps for each notebook (benchmarks/probes/notebook_steps.py),
and the warm imports that no notebook needs (benchmarks/probes/unused_imports.py).
"""

from __future__ import annotations

import json
import re
import subprocess
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from benchmarks import harness
from benchmarks.harness import PROBES, clean_env, log, median, run_python
from benchmarks.pipeline import floor_path, import_statements
from helpers.pipeline.notebooks import WARM_IMPORTS

#: What the runner process imports before it starts the kernel.
RUNNER_MODULES = ("helpers.pipeline.notebooks", "papermill")
#: What no project using these libraries can start faster than: the bare import floor.
FLOOR_MODULES = ("pandas", "scipy.stats", "matplotlib.pyplot")
#: The runner's steps for one notebook, as timed by the probe.
STEPS = ("inspect", "reset", "execute", "cells", "write")

_IMPORTTIME = re.compile(r"import time:\s+(\d+) \|\s+(\d+) \| (\s*)(\S+)")


def _interpreter_seconds(copy: Path, repeats: int) -> float | None:
    """``python -c pass``, from the parent's side: the price of one more process."""
    env = clean_env(ANIFROLUMAB_ROOT=str(copy))
    timings = []
    for _ in range(max(repeats, 3)):
        started = time.perf_counter()
        run_python(["-c", "pass"], cwd=copy, env=env)
        timings.append(time.perf_counter() - started)
    return median(timings)


def _import_seconds(modules: Sequence[str], copy: Path, repeats: int) -> float | None:
    env = clean_env(ANIFROLUMAB_ROOT=str(copy), MPLBACKEND="Agg")
    args = [str(PROBES / "import_seconds.py"), *modules]
    return median(float(run_python(args, cwd=copy, env=env).stdout.split()[-1])
                  for _ in range(repeats))


def _importtime_top(modules: Sequence[str], copy: Path, top: int = 6) -> list[dict]:
    """The modules with the largest own import time (``python -X importtime``)."""
    env = clean_env(ANIFROLUMAB_ROOT=str(copy))
    result = run_python(["-X", "importtime", "-c", f"import {', '.join(modules)}"],
                        cwd=copy, env=env)
    rows = []
    for line in result.stderr.splitlines():
        if match := _IMPORTTIME.match(line):
            rows.append({"module": match.group(4), "self": int(match.group(1)) / 1e6,
                         "cumulative": int(match.group(2)) / 1e6})
    return sorted(rows, key=lambda r: -r["self"])[:top]


def _unused_warm_imports(copy: Path, warm: Sequence[str]) -> dict[str, object]:
    """The warm imports that the notebooks' own imports (from the floor script) leave out."""
    script = floor_path(copy).read_text(encoding="utf-8")
    spec = {"imports": import_statements(script), "warm": list(warm)}
    env = clean_env(ANIFROLUMAB_ROOT=str(copy), MPLBACKEND="Agg")
    result = run_python([str(PROBES / "unused_imports.py"), json.dumps(spec)], cwd=copy,
                        env=env)
    return json.loads(result.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------------------------------
# The kernel and the runner's steps
# ---------------------------------------------------------------------------------------


def start_steps(copy: Path, notebooks: Sequence[str]) -> subprocess.Popen:
    """Start timing a kernel and the runner's steps for ``notebooks`` (paths in ``copy``).

    Returns
    -------
    subprocess.Popen
        The probe's process; :func:`finish_steps` collects it.
    """
    return harness.start_probe("notebook_steps", notebooks, cwd=copy,
                       env=clean_env(ANIFROLUMAB_ROOT=str(copy)))


def finish_steps(process: subprocess.Popen) -> dict:
    """Wait for :func:`start_steps`'s process and return its timings."""
    return harness.probe_result(process, "timing the kernel and the runner's steps")


def summarise_steps(runs: Sequence[Mapping]) -> dict[str, object]:
    """Medians over runs of the steps probe.

    Parameters
    ----------
    runs : sequence of mapping
        What :func:`finish_steps` returned, once per run (the same notebooks in each).

    Returns
    -------
    dict
        ``kernel_launch``, ``kernel_ready`` and ``notebook_steps`` (per notebook, the
        median of each of :data:`STEPS`).
    """
    steps = [run["steps"] for run in runs]
    return {
        "kernel_launch": median(run["launch"] for run in runs),
        "kernel_ready": median(run["ready"] for run in runs),
        "notebook_steps": [
            {"notebook": steps[0][i]["notebook"],
             **{key: median(s[i][key] for s in steps) for key in STEPS}}
            for i in range(len(steps[0]))],
    }


def measure_notebook_steps(copy: Path, repeats: int) -> dict[str, object]:
    """Time a shared kernel's launch and warm-up, then the runner's steps per notebook.

    The steps are inspect, reset, papermill execute (of which the cells in the kernel),
    and read-normalise-write; each run is a fresh process.

    Returns
    -------
    dict
        Medians over ``repeats`` runs (see :func:`summarise_steps`).
    """
    notebooks = [p.relative_to(copy).as_posix()
                 for p in sorted((copy / "notebooks").glob("0*.ipynb"))]
    runs = []
    for run in range(1, repeats + 1):
        log(f"kernel start and the runner's steps per notebook, run {run}/{repeats} ...")
        runs.append(finish_steps(start_steps(copy, notebooks)))
    return summarise_steps(runs)


# ---------------------------------------------------------------------------------------
# All of them
# ---------------------------------------------------------------------------------------


def measure_startup(copy: Path, repeats: int, *, smoke: bool) -> dict[str, object]:
    """Measure the isolated start-up costs, each in fresh processes (medians).

    Parameters
    ----------
    copy : Path
        A scratch copy of the project after :func:`benchmarks.pipeline.measure_pipeline`
        (whose floor script gives the notebooks' imports).
    repeats : int
        Runs of each.
    smoke : bool
        Measure the interpreter only (the smoke run times the kernel and the steps
        alongside the pipeline instead).

    Returns
    -------
    dict
        ``interpreter``, ``import_floor`` (``import pandas, scipy.stats,
        matplotlib.pyplot``); unless ``smoke``, also ``warm_modules``, ``runner_imports``,
        ``science_imports``, ``runner_import_top``, what :func:`measure_notebook_steps`
        returns, ``warm_unused`` and ``warm_unused_seconds``.
    """
    log("start-up costs: interpreter ...")
    out: dict[str, object] = {"interpreter": _interpreter_seconds(copy, repeats)}
    log("start-up costs: the bare import floor (pandas, scipy.stats, matplotlib.pyplot) ...")
    out["import_floor"] = _import_seconds(FLOOR_MODULES, copy, repeats)
    if smoke:
        return out
    out["warm_modules"] = list(WARM_IMPORTS)
    log("start-up costs: the runner's imports (helpers.pipeline.notebooks, papermill) ...")
    out["runner_imports"] = _import_seconds(RUNNER_MODULES, copy, repeats)
    log("start-up costs: the scientific stack (the kernel's warm imports) ...")
    out["science_imports"] = _import_seconds(WARM_IMPORTS, copy, repeats)
    out["runner_import_top"] = _importtime_top(RUNNER_MODULES, copy)
    out.update(measure_notebook_steps(copy, repeats))
    log("start-up costs: warm imports that the notebooks do not need ...")
    found = _unused_warm_imports(copy, WARM_IMPORTS)
    out["warm_unused"] = found["unused"]
    out["warm_unused_seconds"] = found["unused_seconds"]
    return out
