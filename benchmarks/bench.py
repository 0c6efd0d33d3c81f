"""Benchmarks: ``make bench`` measures speed and memory and writes docs/benchmarks.md.

``python -m benchmarks.bench [--output docs/benchmarks.md] [--repeats N] [--smoke]``

What is measured (medians of several runs; progress on stderr):

- **make env**: a fresh ``make env`` (``scripts/setup-env``: uv installs requirements.lock
  into a new ``.venv``) in a scratch folder, with uv's cache warm, and once with an empty
  cache (everything downloaded from PyPI).
- **make from clean outputs** against its **floor**: ``make clean`` then ``make`` in a
  scratch copy of the project, and the same notebooks' code cells concatenated into one
  plain Python script run by one interpreter, side by side in the same run; their ratio.
- **make with nothing stale**: ``make`` again after a complete run.
- **make test**: the whole test suite, in the scratch copy.
- **scaling**: :func:`helpers.paired.paired_tests`, the responder table
  (:func:`helpers.scores.responder_table` + :func:`~helpers.scores.summarise_responders`)
  and the slope-chart figure (:func:`helpers.figures.slope_chart` per measure, saved as PNG)
  on synthetic cohorts (:func:`helpers.synth.make_cohort`, 3 measures, 2 and 4 visits) of
  10^2, 10^4, 10^5 and 10^6 patients, each in a fresh process: time and peak memory.
- **profile** of the gap between ``make`` and its floor: a timeline of the ``make`` runs
  (from the runner's progress lines), the floor's timeline, and isolated start-up costs.

Nothing in the checkout is written but the output file: the pipeline runs in a scratch
copy whose ``.venv`` links to this checkout's environment and ``ANIFROLUMAB_ROOT`` points
the notebooks at the copy. Benchmarks are not tests: nothing here fails because a machine
is slow. ``--smoke`` (tiny cohorts, one run, no ``make env`` / ``make test``) is what the
test suite runs, so that the benchmark itself cannot rot.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import json
import math
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path

from helpers import paths

SIZES = (100, 10_000, 100_000, 1_000_000)
SMOKE_SIZES = (100, 1_000)
VISITS = (2, 4)
MEASURES = ("sledai2k", "das28", "gc_mg_day")
OPERATIONS = ("paired_tests", "responders", "figures")
OPERATION_LABELS = {
    "paired_tests": "`paired_tests`",
    "responders": "`responder_table` + `summarise_responders`",
    "figures": "slope charts (3 panels) + `save_figure` PNG",
}

# Targets (issue 8 and DESIGN.md).
RATIO_TARGET = 2.0
STALE_TARGET_S = 0.3
PAIRED_TARGET_S = 5.0
PAIRED_TARGET_BYTES = 4 * 1024**3
LINEAR_EXPONENT_MAX = 1.1
ENV_TARGET_S = 60.0
COLD_ENV_TIMEOUT_S = 180.0

# Imported by the shared kernel before the first notebook (helpers.pipeline.notebooks); the same
# list, imported in a fresh interpreter, is the "scientific stack" start-up cost.
_DEFAULT_WARM_IMPORTS = ("pandas", "scipy.stats", "matplotlib.pyplot", "pandera.pandas",
                         "statsmodels.stats.multitest", "helpers.data.paper_tables", "helpers.paired",
                         "helpers.figures", "helpers.meta", "helpers.data.schema")

_PACKAGES = ("numpy", "pandas", "scipy", "statsmodels", "matplotlib", "pandera", "papermill",
             "nbformat", "nbconvert", "ipykernel", "jupyter_client", "pytest")

_STARTED = time.perf_counter()


class BenchError(RuntimeError):
    """A benchmarked command failed (the benchmark stops: its numbers would be wrong)."""


# ---------------------------------------------------------------------------------------
# Small utilities
# ---------------------------------------------------------------------------------------


def _log(message: str) -> None:
    print(f"[bench {time.perf_counter() - _STARTED:7.1f} s] {message}", file=sys.stderr,
          flush=True)


def _median(values: Iterable[float | None]) -> float | None:
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def _clean_env(**extra: str) -> dict[str, str]:
    """This process's environment without make's own variables (a nested make would
    inherit the jobserver and flags of ``make bench``), plus ``extra``."""
    env = {k: v for k, v in os.environ.items()
           if k not in {"MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES"}}
    env.update(extra)
    return env


def _timed_lines(args: Sequence[str], *, cwd: Path, env: Mapping[str, str],
                 timeout: float | None = None, stdout_lines: bool = True
                 ) -> tuple[float, list[tuple[float, str]], int]:
    """Run ``args``; return (wall seconds, [(seconds since start, line)], exit status).

    Output lines (stdout and stderr merged, or stderr only when ``stdout_lines`` is
    false) are time-stamped as they arrive, which gives the timeline of a run without
    instrumenting the program.
    """
    started = time.perf_counter()
    process = subprocess.Popen(
        list(args), cwd=cwd, env=dict(env), stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE if stdout_lines else subprocess.DEVNULL,
        stderr=subprocess.STDOUT if stdout_lines else subprocess.PIPE,
        bufsize=0, start_new_session=True)
    stream = process.stdout if stdout_lines else process.stderr
    lines = []

    def kill() -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)

    fired = threading.Event()

    def on_timeout() -> None:
        fired.set()
        kill()

    # A silent command (uv -q) is stopped on time too: a watchdog kills its process group.
    watchdog = threading.Timer(timeout, on_timeout) if timeout is not None else None
    if watchdog is not None:
        watchdog.daemon = True
        watchdog.start()
    try:
        for raw in iter(stream.readline, b""):
            lines.append((time.perf_counter() - started,
                          raw.decode("utf-8", "replace").rstrip("\n")))
        process.wait()
    except KeyboardInterrupt:
        kill()
        process.wait()
        raise
    finally:
        stream.close()
        if watchdog is not None:
            watchdog.cancel()
    seconds = time.perf_counter() - started
    if fired.is_set():
        raise subprocess.TimeoutExpired(list(args), timeout)
    return seconds, lines, process.returncode


def _check(args: Sequence[str], status: int, lines: list[tuple[float, str]]) -> None:
    if status != 0:
        tail = "\n".join(line for _, line in lines[-25:])
        raise BenchError(f"{' '.join(args)} failed (exit status {status}):\n{tail}")


def _run_python(code: str, *, cwd: Path, env: Mapping[str, str],
                python: str = sys.executable, flags: Sequence[str] = ()
                ) -> subprocess.CompletedProcess:
    result = subprocess.run([python, *flags, "-c", code], cwd=cwd, env=dict(env),
                            capture_output=True, text=True, stdin=subprocess.DEVNULL)
    if result.returncode != 0:
        raise BenchError(f"python -c {code[:60]!r}... failed:\n{result.stderr[-2000:]}")
    return result


# ---------------------------------------------------------------------------------------
# The machine
# ---------------------------------------------------------------------------------------


def _first_line(args: Sequence[str]) -> str | None:
    try:
        out = subprocess.run(list(args), capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    text = (out.stdout or out.stderr).strip().splitlines()
    return text[0] if text else None


def machine() -> dict[str, object]:
    """CPU, cores, memory, OS, Python and key package versions."""
    from importlib import metadata

    info: dict[str, object] = {}
    cpu = None
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    info["cpu"] = cpu or platform.processor() or platform.machine()
    info["logical_cpus"] = os.cpu_count()
    with contextlib.suppress(AttributeError):
        info["usable_cpus"] = len(os.sched_getaffinity(0))
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                info["memory_bytes"] = int(line.split()[1]) * 1024
    info["os"] = platform.platform()
    info["python"] = platform.python_version()
    info["make"] = _first_line(["make", "--version"])
    info["uv"] = _first_line(["uv", "--version"])
    versions = {}
    for name in _PACKAGES:
        with contextlib.suppress(metadata.PackageNotFoundError):
            versions[name] = metadata.version(name)
    info["packages"] = versions
    return info


# ---------------------------------------------------------------------------------------
# Scratch copy of the project
# ---------------------------------------------------------------------------------------

_NEVER_COPIED = {".venv", ".git", "__pycache__", ".pytest_cache", ".hypothesis",
                 ".ipynb_checkpoints", ".make", "build", "out"}


def project_files(root: Path) -> list[str]:
    """The project's files (relative paths): tracked plus untracked-not-ignored by git,
    or, without git, every file outside environments, caches and generated folders."""
    try:
        out = subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=root, capture_output=True, check=True, timeout=60).stdout
        files = sorted({f for f in out.decode().split("\0") if f})
    except (OSError, subprocess.SubprocessError):
        files = []
        for folder, dirs, names in os.walk(root):
            dirs[:] = [d for d in dirs if d not in _NEVER_COPIED and not d.endswith(".egg-info")]
            files += [os.path.relpath(os.path.join(folder, n), root) for n in names]
        files.sort()
    return [f for f in files if (root / f).is_file()]


def make_scratch_copy(root: Path, target: Path) -> Path:
    """Copy the project to ``target`` (timestamps kept, so make sees the same DAG), with
    ``.git`` (so the test suite's clone-based tests run as in the checkout) and ``.venv``
    linked to the checkout's environment. Nothing in ``root`` is written."""
    for name in project_files(root):
        destination = target / name
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(root / name, destination)
    if (root / ".git").is_dir():
        shutil.copytree(root / ".git", target / ".git", symlinks=True)
    venv = (root / ".venv").resolve()
    (target / ".venv").symlink_to(venv)
    # make rebuilds .venv/.installed when the lock or pyproject.toml is newer; through the
    # link that would touch the checkout's environment. Date them no later than it.
    installed = venv / ".installed"
    if installed.exists():
        stamp = installed.stat().st_mtime - 1
        for name in ("requirements.lock", "pyproject.toml"):
            path = target / name
            if path.exists() and path.stat().st_mtime > stamp:
                os.utime(path, (stamp, stamp))
    return target


# ---------------------------------------------------------------------------------------
# The floor: the notebooks' code as one plain Python script
# ---------------------------------------------------------------------------------------

_MARK = "@bench "
_FLOOR_HEADER = f'''\
# The floor of `make`: the code cells of the notebooks, in order, as one plain script.
import sys as _bench_sys


def _bench_mark(label):
    print("{_MARK}" + label, file=_bench_sys.stderr, flush=True)


_bench_mark("start")
display = lambda *args, **kwargs: None  # plain Python has no rich display
'''


def _cell_source(cell: Mapping) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)


def _strip_magics(source: str) -> str:
    """IPython magics and shell escapes become ``pass`` (same indentation)."""
    lines = []
    for line in source.splitlines():
        stripped = line.lstrip()
        if stripped.startswith(("%", "!")):
            line = line[: len(line) - len(stripped)] + "pass  # " + stripped
        lines.append(line)
    return "\n".join(lines)


def floor_script(notebooks: Sequence[Path], root: Path) -> str:
    """The code cells of ``notebooks`` (each with its parameters cell, in order) as one
    script, with a progress mark on stderr after each notebook.

    The notebooks' module-level import statements are also run once at the top (they are
    then no-ops where the notebooks repeat them): the same imports, paid up front, so
    that the timeline separates the floor's import time from its computations.
    """
    body = []
    for notebook in notebooks:
        nb = json.loads(Path(notebook).read_text(encoding="utf-8"))
        name = Path(notebook).relative_to(root).as_posix() if Path(notebook).is_absolute() \
            else Path(notebook).as_posix()
        body.append(f"\n# ---- {name}\n")
        for cell in nb.get("cells", []):
            if cell.get("cell_type") == "code":
                body.append(_strip_magics(_cell_source(cell)) + "\n")
        body.append(f"_bench_mark({name!r})\n")
    imports = list(dict.fromkeys(import_statements("\n".join(body))))
    return "\n".join([_FLOOR_HEADER, "# The notebooks' imports, once, up front.",
                      *imports, '_bench_mark("imports")', *body])


def import_statements(script: str) -> list[str]:
    """The module-level import statements of ``script`` (``ast.unparse``d), in order."""
    import ast

    return [ast.unparse(node) for node in ast.parse(script).body
            if isinstance(node, ast.Import | ast.ImportFrom)]


_IMPORTS_PROBE = """\
import json, sys, time
started = time.perf_counter()
{imports}
floor = time.perf_counter() - started
unused = [m for m in {warm!r} if m not in sys.modules]
started = time.perf_counter()
for module in unused:
    __import__(module)
print(json.dumps({{"floor": floor, "unused": unused,
                  "unused_seconds": time.perf_counter() - started}}))
"""


# ---------------------------------------------------------------------------------------
# Timelines
# ---------------------------------------------------------------------------------------

_RUNNING = re.compile(r"^running (\S+) -> ")
_DONE = re.compile(r"^\s*done in ([0-9.]+) s")
_WROTE = re.compile(r"^wrote (\S+\.html)")


def make_timeline(lines: Sequence[tuple[float, str]], total: float) -> dict[str, object]:
    """Split a ``make`` run into consecutive intervals, from the runner's progress lines.

    Returns ``{"startup": s, "notebooks": [(name, s)], "report": s, "exit": s}``: until the
    first notebook starts; each notebook (from the previous one's end; the first from its
    start, so it includes waiting for the shared kernel's warm-up); kernel shutdown and
    the report; the end of the process and of make. The parts add up to ``total``.
    Missing progress lines give ``None`` parts.
    """
    first = current = previous = wrote = None
    notebooks: list[tuple[str, float]] = []
    for at, line in lines:
        if match := _RUNNING.match(line):
            current = match.group(1)
            if first is None:
                first = previous = at
        elif (match := _DONE.match(line)) and previous is not None:
            notebooks.append((current or "?", at - previous))
            previous = at
        elif _WROTE.match(line):
            wrote = at
    last = previous if notebooks else None
    return {
        "startup": first,
        "notebooks": notebooks,
        "report": (wrote - last) if wrote is not None and last is not None else None,
        "exit": total - (wrote if wrote is not None else last) if last is not None else None,
    }


def floor_timeline(lines: Sequence[tuple[float, str]], total: float) -> dict[str, object]:
    """Split a floor run: interpreter start-up (until the script's first line), the
    notebooks' imports, each notebook's code, and the exit. The parts add up to
    ``total``."""
    marks = [(at, line[len(_MARK):]) for at, line in lines if line.startswith(_MARK)]
    if not marks or marks[0][1] != "start":
        return {"startup": None, "imports": None, "notebooks": [], "exit": None}
    parts = [(label, at - previous) for (previous, _), (at, label) in zip(marks, marks[1:])]
    imports = sum(seconds for label, seconds in parts if label == "imports")
    return {"startup": marks[0][0], "imports": imports,
            "notebooks": [(label, seconds) for label, seconds in parts if label != "imports"],
            "exit": total - marks[-1][0]}


def median_run(totals: Sequence[float], timelines: Sequence[Mapping]) -> Mapping:
    """The timeline of the run whose total is the median (the lower middle one for an
    even number of runs), so that its parts add up to that total."""
    if not timelines:
        return {}
    order = sorted(range(len(totals)), key=lambda i: totals[i])
    return timelines[order[(len(order) - 1) // 2]]


# ---------------------------------------------------------------------------------------
# Pipeline measurements (in the scratch copy)
# ---------------------------------------------------------------------------------------


def _make(copy: Path, *targets: str, timeout: float | None = 1800) -> tuple[float, list]:
    args = ["make", *targets]
    seconds, lines, status = _timed_lines(args, cwd=copy, env=_clean_env(
        ANIFROLUMAB_ROOT=str(copy)), timeout=timeout)
    _check(args, status, lines)
    return seconds, lines


def measure_pipeline(copy: Path, repeats: int, stale_repeats: int) -> dict[str, object]:
    """``make`` from clean outputs and the floor, alternately, then ``make`` with nothing
    stale."""
    notebooks = sorted((copy / "notebooks").glob("0*.ipynb"))
    script = copy.parent / "floor.py"  # outside the copy: not a project file
    script.write_text(floor_script(notebooks, copy), encoding="utf-8")
    floor_env = _clean_env(ANIFROLUMAB_ROOT=str(copy), MPLBACKEND="Agg")
    python = str(copy / ".venv" / "bin" / "python")
    result: dict[str, object] = {"make": [], "floor": [], "make_timelines": [],
                                 "floor_timelines": [], "stale": [],
                                 "floor_lines": script.read_text().count("\n")}
    for run in range(1, repeats + 1):
        _make(copy, "clean")
        _log(f"floor (one plain Python script), run {run}/{repeats} ...")
        args = [python, str(script)]
        seconds, lines, status = _timed_lines(args, cwd=copy, env=floor_env, timeout=1800,
                                              stdout_lines=False)
        _check(args, status, lines)
        result["floor"].append(seconds)
        result["floor_timelines"].append(floor_timeline(lines, seconds))
        _log(f"  floor: {seconds:.2f} s")

        _make(copy, "clean")
        _log(f"make from clean outputs, run {run}/{repeats} ...")
        seconds, lines = _make(copy)
        result["make"].append(seconds)
        result["make_timelines"].append(make_timeline(lines, seconds))
        _log(f"  make from clean: {seconds:.2f} s")
        if run == 1:
            for _ in range(stale_repeats):
                seconds, lines = _make(copy)
                result["stale"].append(seconds)
            result["stale_output"] = lines[-1][1] if lines else ""
            _log(f"make with nothing stale: median {_median(result['stale']) * 1000:.1f} ms "
                 f"({stale_repeats} runs; make says: {result['stale_output']!r})")
    # The copy is left as make wrote it (make test runs there next).
    return result


def _import_seconds(modules: Sequence[str], copy: Path, repeats: int) -> float | None:
    code = ("import time\n_t = time.perf_counter()\n"
            f"import {', '.join(modules)}\nprint(time.perf_counter() - _t)")
    env = _clean_env(ANIFROLUMAB_ROOT=str(copy), MPLBACKEND="Agg")
    return _median(float(_run_python(code, cwd=copy, env=env).stdout.split()[-1])
                   for _ in range(repeats))


def _importtime_top(modules: Sequence[str], copy: Path, top: int = 6) -> list[dict]:
    """The modules with the largest own import time (``python -X importtime``)."""
    env = _clean_env(ANIFROLUMAB_ROOT=str(copy))
    result = _run_python(f"import {', '.join(modules)}", cwd=copy, env=env,
                         flags=["-X", "importtime"])
    rows = []
    for line in result.stderr.splitlines():
        match = re.match(r"import time:\s+(\d+) \|\s+(\d+) \| (\s*)(\S+)", line)
        if match:
            rows.append({"module": match.group(4), "self": int(match.group(1)) / 1e6,
                         "cumulative": int(match.group(2)) / 1e6})
    return sorted(rows, key=lambda r: -r["self"])[:top]


# A shared kernel's launch and warm-up, then the runner's steps for each notebook, timed
# one by one in it (as helpers.pipeline.notebooks.run_notebook does them), with nbclient's own
# per-cell timestamps: how long each cell ran in the kernel, and what papermill spent
# around the cells.
_NOTEBOOK_STEPS_CODE = """\
import json, os, sys, tempfile, time
from datetime import datetime
import nbformat, papermill
from helpers.pipeline import notebooks as runner
from helpers.io import write_text
from helpers.paths import ROOT
os.environ.update(getattr(runner, "_KERNEL_ENV", {}))


def stamp(text):
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


started = time.perf_counter()
kernel = runner.SharedKernel()
launch = time.perf_counter() - started
kernel.wait()
ready = time.perf_counter() - started
rows = []
with tempfile.TemporaryDirectory() as folder:
    for source in sys.argv[1:]:
        row = {"notebook": source}
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
                                   request_save_on_cell_execute=False, km=kernel.manager)
        row["execute"] = time.perf_counter() - started
        started = time.perf_counter()
        nb = nbformat.read(target, as_version=4)
        cells = 0.0
        for cell in nb.cells:
            timing = cell.metadata.get("execution", {})
            if "shell.execute_reply" in timing and "iopub.execute_input" in timing:
                cells += stamp(timing["shell.execute_reply"]) - stamp(
                    timing["iopub.execute_input"])
        runner.normalise(nb)
        write_text(nbformat.writes(nb) + "\\n", target + ".normalised")
        row["write"] = time.perf_counter() - started
        row["cells"] = cells
        rows.append(row)
kernel.shutdown()
print(json.dumps({"launch": launch, "ready": ready, "steps": rows}))
"""


def _start_steps(copy: Path, notebooks: Sequence[str]) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", _NOTEBOOK_STEPS_CODE, *notebooks],
                            cwd=copy, env=_clean_env(ANIFROLUMAB_ROOT=str(copy)),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            stdin=subprocess.DEVNULL, text=True)


def _finish_steps(process: subprocess.Popen) -> dict:
    stdout, stderr = process.communicate()
    if process.returncode != 0:
        raise BenchError(f"timing the kernel and the runner's steps failed:\n"
                         f"{stderr[-3000:]}")
    return json.loads(stdout.strip().splitlines()[-1])


def _summarise_steps(runs: Sequence[Mapping]) -> dict[str, object]:
    """Medians over runs of :data:`_NOTEBOOK_STEPS_CODE`."""
    steps = [run["steps"] for run in runs]
    return {
        "kernel_launch": _median(run["launch"] for run in runs),
        "kernel_ready": _median(run["ready"] for run in runs),
        "notebook_steps": [
            {"notebook": steps[0][i]["notebook"],
             **{key: _median(s[i][key] for s in steps)
                for key in ("inspect", "reset", "execute", "cells", "write")}}
            for i in range(len(steps[0]))],
    }


def measure_notebook_steps(copy: Path, repeats: int) -> dict[str, object]:
    """A shared kernel's launch and warm-up, then per notebook the runner's steps
    (inspect, reset, papermill execute, of which cells in the kernel, read-normalise-
    write); medians over ``repeats`` fresh processes."""
    notebooks = [p.relative_to(copy).as_posix()
                 for p in sorted((copy / "notebooks").glob("0*.ipynb"))]
    runs = []
    for run in range(1, repeats + 1):
        _log(f"kernel start and the runner's steps per notebook, run {run}/{repeats} ...")
        runs.append(_finish_steps(_start_steps(copy, notebooks)))
    return _summarise_steps(runs)


def measure_startup(copy: Path, repeats: int, *, smoke: bool) -> dict[str, object]:
    """Isolated start-up costs, each in fresh processes (medians)."""
    env = _clean_env(ANIFROLUMAB_ROOT=str(copy))
    out: dict[str, object] = {}
    _log("start-up costs: interpreter ...")
    timings = []
    for _ in range(max(repeats, 3)):
        started = time.perf_counter()
        _run_python("pass", cwd=copy, env=env)
        timings.append(time.perf_counter() - started)
    out["interpreter"] = _median(timings)
    if smoke:
        return out
    try:
        from helpers.pipeline import notebooks as runner

        warm = tuple(getattr(runner, "_WARM_IMPORTS", _DEFAULT_WARM_IMPORTS))
    except ImportError:
        warm = _DEFAULT_WARM_IMPORTS
    out["warm_modules"] = list(warm)
    _log("start-up costs: the runner's imports (helpers.pipeline.notebooks, papermill) ...")
    out["runner_imports"] = _import_seconds(["helpers.pipeline.notebooks", "papermill"], copy,
                                            repeats)
    _log("start-up costs: the scientific stack (the kernel's warm imports) ...")
    out["science_imports"] = _import_seconds(warm, copy, repeats)
    out["runner_import_top"] = _importtime_top(["helpers.pipeline.notebooks", "papermill"], copy)
    out.update(measure_notebook_steps(copy, repeats))
    _log("start-up costs: warm imports that the notebooks do not need ...")
    script = (copy.parent / "floor.py").read_text(encoding="utf-8")
    probe = _IMPORTS_PROBE.format(imports="\n".join(import_statements(script)),
                                  warm=list(warm))
    found = json.loads(_run_python(probe, cwd=copy, env=_clean_env(
        ANIFROLUMAB_ROOT=str(copy), MPLBACKEND="Agg")).stdout.strip().splitlines()[-1])
    out["warm_unused"] = found["unused"]
    out["warm_unused_seconds"] = found["unused_seconds"]
    return out


def measure_make_test(copy: Path, repeats: int) -> dict[str, object]:
    runs = []
    summary = status = None
    for run in range(1, repeats + 1):
        _log(f"make test, run {run}/{repeats} ...")
        seconds, lines, status = _timed_lines(
            ["make", "test"], cwd=copy, env=_clean_env(ANIFROLUMAB_ROOT=str(copy)),
            timeout=3600)
        runs.append(seconds)
        summary = next((re.sub(r"^=+\s*|\s*=+$", "", line) for _, line in reversed(lines)
                        if re.search(r"\b(passed|failed|error)", line)), None)
        _log(f"  make test: {seconds:.1f} s ({summary}; exit status {status})")
    return {"runs": runs, "summary": summary, "status": status}


def measure_make_env(root: Path, repeats: int, *, cold: bool) -> dict[str, object]:
    """``make env`` from nothing, in scratch folders; uv's cache warm, then empty."""
    def once(cache: str | None, timeout: float | None) -> float | None:
        scratch = Path(tempfile.mkdtemp(prefix="bench-env-"))
        try:
            for name in ("Makefile", "pyproject.toml", "requirements.lock", "README.md",
                         "scripts/setup-env"):
                (scratch / name).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(root / name, scratch / name)
            shutil.copytree(root / "src", scratch / "src", ignore=shutil.ignore_patterns(
                "__pycache__", "*.egg-info"))
            env = _clean_env()
            env.pop("VIRTUAL_ENV", None)
            if cache is not None:
                env["UV_CACHE_DIR"] = cache
            try:
                seconds, lines, status = _timed_lines(["make", "env"], cwd=scratch, env=env,
                                                      timeout=timeout)
            except subprocess.TimeoutExpired:
                return None
            _check(["make", "env"], status, lines)
            if not (scratch / ".venv" / ".installed").exists():
                raise BenchError("make env finished without .venv/.installed")
            return seconds
        finally:
            shutil.rmtree(scratch, ignore_errors=True)

    out: dict[str, object] = {"warm": [], "cold": None, "cold_timeout": COLD_ENV_TIMEOUT_S}
    for run in range(1, repeats + 1):
        _log(f"make env (fresh .venv, uv cache warm), run {run}/{repeats} ...")
        out["warm"].append(once(None, 1800))
        _log(f"  make env, warm cache: {out['warm'][-1]:.1f} s")
    if cold:
        _log(f"make env with an empty uv cache (downloads from PyPI; stopped after "
             f"{COLD_ENV_TIMEOUT_S:.0f} s) ...")
        cache = tempfile.mkdtemp(prefix="bench-uv-cache-")
        try:
            out["cold"] = once(cache, COLD_ENV_TIMEOUT_S)
        finally:
            shutil.rmtree(cache, ignore_errors=True)
        cold_seconds = out["cold"]
        _log("  make env, cold cache: "
             + ("stopped" if cold_seconds is None else f"{cold_seconds:.1f} s"))
    return out


# ---------------------------------------------------------------------------------------
# Scaling: statistics and figures on synthetic cohorts, in fresh processes
# ---------------------------------------------------------------------------------------


def _proc_status_kib(field: str) -> int | None:
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return None


def _reset_peak() -> bool:
    """Reset this process's peak resident set size (Linux >= 4.0); False if impossible."""
    try:
        with open("/proc/self/clear_refs", "w") as handle:
            handle.write("5")
        return _proc_status_kib("VmHWM") is not None
    except OSError:
        return False


def _op_paired(cohort, folder, dpi):
    from helpers.paired import paired_tests

    paired_tests(cohort)
    return {}


def _op_responders(cohort, folder, dpi):
    from helpers.scores import responder_table, summarise_responders

    summarise_responders(responder_table(cohort))
    return {}


def _op_figures(cohort, folder, dpi):
    import matplotlib.pyplot as plt

    from helpers.figures import figure_size, save_figure, slope_chart

    measures = [m for m in MEASURES if m in set(cohort["measure"].unique())]
    fig, axes = plt.subplots(1, len(measures), figsize=figure_size("double", aspect=0.36),
                             squeeze=False)
    try:
        for ax, measure in zip(axes[0], measures):
            slope_chart(cohort, measure=measure, ax=ax)
        started = time.perf_counter()
        save_figure(fig, Path(folder) / "slopes", formats=["png"], dpi=dpi)
        saved = time.perf_counter() - started
    finally:
        plt.close(fig)
    return {"save": saved}


_OPERATIONS: dict[str, Callable] = {"paired_tests": _op_paired,
                                    "responders": _op_responders, "figures": _op_figures}


def scale_worker(spec: Mapping) -> list[dict]:
    """Run in a fresh process: for each (patients, visits) make a cohort, then time each
    operation ``repeats`` times, with its peak memory (VmHWM, reset before each call).

    Each operation first runs once on a 20-patient cohort, untimed, so that lazy imports
    and matplotlib's font cache are not counted as work proportional to the cohort.
    """
    import gc
    import resource
    import warnings

    import matplotlib

    matplotlib.use("Agg", force=True)
    from helpers.figures import set_theme
    from helpers.synth import make_cohort

    set_theme()
    results = []
    dpi = int(spec.get("dpi", 300))
    with tempfile.TemporaryDirectory(prefix="bench-figures-") as folder:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for visits in sorted({v for _, v in spec["configs"]} if spec.get("warm_up", True)
                                 else ()):
                small = make_cohort(20, visits=int(visits), seed=1)
                for op in spec["operations"]:
                    _OPERATIONS[op](small, folder, dpi)
        for n, visits in spec["configs"]:
            started = time.perf_counter()
            cohort = make_cohort(int(n), visits=int(visits), seed=0)
            made = time.perf_counter() - started
            for op in spec["operations"]:
                times, peaks, added, extras, caught = [], [], [], [], set()
                for _ in range(int(spec["repeats"])):
                    gc.collect()
                    exact = _reset_peak()
                    before = _proc_status_kib("VmRSS") or 0
                    with warnings.catch_warnings(record=True) as records:
                        warnings.simplefilter("always")
                        started = time.perf_counter()
                        extras.append(_OPERATIONS[op](cohort, folder, dpi))
                        times.append(time.perf_counter() - started)
                    caught |= {f"{w.category.__name__}: {w.message}" for w in records}
                    peak = (_proc_status_kib("VmHWM") if exact
                            else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
                    peaks.append(peak * 1024)
                    added.append(max(peak - before, 0) * 1024)
                results.append({
                    "operation": op, "patients": int(n), "visits": int(visits),
                    "rows": len(cohort), "cohort_seconds": made, "times": times,
                    "seconds": statistics.median(times), "peak_bytes": max(peaks),
                    "added_bytes": max(added), "peak_method": "VmHWM" if exact else "maxrss",
                    "save_seconds": _median(e.get("save") for e in extras), "dpi": dpi,
                    "warnings": sorted(caught)})
            del cohort
            gc.collect()
    return results


def _start_worker(spec: Mapping, env: Mapping[str, str], cwd: Path) -> subprocess.Popen:
    args = [sys.executable, "-m", "benchmarks.bench", "--scale-worker", json.dumps(spec)]
    return subprocess.Popen(args, cwd=cwd, env=dict(env), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True)


def _finish_worker(process: subprocess.Popen, spec: Mapping) -> list[dict]:
    stdout, stderr = process.communicate()
    if process.returncode != 0:
        raise BenchError(f"scaling worker {spec} failed:\n{stderr[-3000:]}")
    return json.loads(stdout.strip().splitlines()[-1])


def smoke_scaling(sizes: Sequence[int], visits: Sequence[int], *, cwd: Path
                  ) -> tuple[subprocess.Popen, dict]:
    """Start the smoke run's scaling measurements in one background process (same code
    as the full run, tiny cohorts, 72 dpi); :func:`_finish_worker` collects them."""
    spec = {"configs": [(n, v) for v in visits for n in sizes],
            "operations": list(OPERATIONS), "repeats": 1, "dpi": 72, "warm_up": False}
    _log(f"scaling (smoke, in the background): {list(sizes)} patients x {list(visits)} "
         "visits ...")
    return _start_worker(spec, _clean_env(MPLBACKEND="Agg"), cwd), spec


def measure_scaling(sizes: Sequence[int], visits: Sequence[int], repeats: int, *,
                    cwd: Path) -> list[dict]:
    """Each (operation, size, visits) in a fresh process, so that peaks are its own."""
    env = _clean_env(MPLBACKEND="Agg")
    results = []
    for v in visits:
        for n in sizes:
            for op in OPERATIONS:
                runs = repeats if (n < 1_000_000 or op != "figures") else 1
                _log(f"scaling: {op}, {n:,} patients x 3 measures x {v} visits "
                     f"({runs} run{'s' * (runs > 1)}) ...")
                spec = {"configs": [(n, v)], "operations": [op], "repeats": runs,
                        "dpi": 300}
                row = _finish_worker(_start_worker(spec, env, cwd), spec)[0]
                _log(f"  {row['seconds']:.3f} s, peak {row['peak_bytes'] / 2**20:,.0f} MiB")
                results.append(row)
    return results


def growth(rows: Sequence[Mapping]) -> list[dict]:
    """Per operation and visits, sorted by size: growth factors of time (and of memory
    added by the call) from the previous size, and the exponent b of time ~ size^b."""
    out = []
    keyed: dict[tuple, list] = {}
    for row in rows:
        keyed.setdefault((row["operation"], row["visits"]), []).append(dict(row))
    for (_, _), group in keyed.items():
        group.sort(key=lambda r: r["patients"])
        previous = None
        for row in group:
            row["time_growth"] = row["size_growth"] = row["exponent"] = None
            if previous is not None and previous["seconds"] > 0:
                row["size_growth"] = row["patients"] / previous["patients"]
                row["time_growth"] = row["seconds"] / previous["seconds"]
                row["exponent"] = math.log(row["time_growth"]) / math.log(row["size_growth"])
            previous = row
            out.append(row)
    return out


# ---------------------------------------------------------------------------------------
# Markdown
# ---------------------------------------------------------------------------------------


def _s(seconds: float | None) -> str:
    if seconds is None:
        return "n/a"
    if seconds < 1:
        return f"{seconds * 1000:.{1 if seconds < 0.1 else 0}f} ms"
    return f"{seconds:.{2 if seconds < 10 else 1}f} s"


def _runs(values: Sequence[float | None]) -> str:
    values = [v for v in values if v is not None]
    if not values:
        return "n/a"
    if len(values) == 1:
        return f"{_s(values[0])} (1 run)"
    return (f"{_s(statistics.median(values))} (median of {len(values)}; "
            f"{_s(min(values))}–{_s(max(values))})")


def _mib(size: float | None) -> str:
    return "n/a" if size is None else f"{size / 2**20:,.0f} MiB"


def _yes(flag: bool | None) -> str:
    return "n/a" if flag is None else ("**yes**" if flag else "**NO**")


def _table(header: Sequence[str], rows: Iterable[Sequence[object]],
           align: str | None = None) -> str:
    rows = [[str(c) for c in row] for row in rows]
    align = align or "l" + "r" * (len(header) - 1)
    rule = ["---:" if a == "r" else "---" for a in align]
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(rule) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def _find(rows: Sequence[Mapping], operation: str, patients: int, visits: int):
    return next((r for r in rows if r["operation"] == operation and r["patients"] == patients
                 and r["visits"] == visits), None)


def targets(results: Mapping) -> list[tuple[str, str, bool | None]]:
    """(target, measured, met) for the targets table."""
    pipeline, scaling = results["pipeline"], results["scaling"]
    make, floor = _median(pipeline["make"]), _median(pipeline["floor"])
    ratio = make / floor if make and floor else None
    stale = _median(pipeline["stale"])
    rows: list[tuple[str, str, bool | None]] = [
        (f"`make` from clean outputs / floor ≤ {RATIO_TARGET:.1f}",
         "n/a" if ratio is None else f"{ratio:.2f} ({_s(make)} / {_s(floor)})",
         None if ratio is None else ratio <= RATIO_TARGET),
        (f"`make` with nothing stale < {STALE_TARGET_S} s", _s(stale),
         None if stale is None else stale < STALE_TARGET_S),
    ]
    big = _find(scaling, "paired_tests", 1_000_000, 2)
    rows.append((f"`paired_tests`, 10^6 patients x 3 measures x 2 visits "
                 f"< {PAIRED_TARGET_S:.0f} s",
                 _s(big["seconds"]) if big else "n/a (not run at this size)",
                 big["seconds"] < PAIRED_TARGET_S if big else None))
    rows.append(("… and peak memory < 4 GiB",
                 f"{big['peak_bytes'] / 2**30:.2f} GiB (whole process)" if big else "n/a",
                 big["peak_bytes"] < PAIRED_TARGET_BYTES if big else None))
    grown = [r for r in growth(scaling) if r["operation"] == "paired_tests"
             and r["visits"] == 2 and r["patients"] == 1_000_000 and r["exponent"] is not None]
    last = grown[-1] if grown else None
    rows.append((f"… growing linearly: time ∝ patients^b with b ≤ {LINEAR_EXPONENT_MAX} "
                 "between the two largest sizes (10^5 and 10^6 patients)",
                 f"b = {last['exponent']:.2f} ({last['time_growth']:.1f}x time for "
                 f"{last['size_growth']:.0f}x patients)" if last else "n/a",
                 last["exponent"] <= LINEAR_EXPONENT_MAX if last else None))
    env = results.get("env")
    warm = _median(env["warm"]) if env else None
    rows.append((f"`make env` (fresh, uv cache warm): seconds, not minutes "
                 f"(< {ENV_TARGET_S:.0f} s; DESIGN.md)",
                 _s(warm) if warm is not None else "n/a (skipped)",
                 None if warm is None else warm < ENV_TARGET_S))
    return rows


def _machine_md(info: Mapping) -> str:
    cpus = info.get("logical_cpus")
    usable = info.get("usable_cpus")
    packages = ", ".join(f"{k} {v}" for k, v in info.get("packages", {}).items())
    lines = [
        f"- CPU: {info.get('cpu')}, {cpus} logical CPUs"
        + (f" ({usable} usable by this process)" if usable and usable != cpus else ""),
        f"- Memory: {info['memory_bytes'] / 2**30:.1f} GiB" if info.get("memory_bytes")
        else "- Memory: unknown",
        f"- OS: {info.get('os')}",
        f"- Python {info.get('python')}; {info.get('make')}; {info.get('uv') or 'no uv on PATH'}",
        f"- Packages: {packages}",
    ]
    return "\n".join(lines)


def _diff(a: float | None, b: float | None) -> str:
    return "n/a" if a is None or b is None else f"{a - b:+.2f} s"


def _step_total(step: Mapping) -> float:
    return sum(step[key] for key in ("inspect", "reset", "execute", "write"))


def _profile_parts(make_t: Mapping, floor_t: Mapping, startup: Mapping) -> dict:
    """The gap's parts: (key, make seconds, floor seconds) in time order.

    With the runner's steps re-timed in a warm kernel, the first notebook's time splits
    into its own work (re-timed) and waiting for the kernel, whatever the runner overlaps
    with what; without them (``--smoke``), imports and notebooks stay together.
    """
    make_nb = [s for _, s in make_t.get("notebooks", [])]
    floor_nb = [s for _, s in floor_t.get("notebooks", [])]
    nb_make = sum(make_nb) if make_nb else None
    nb_floor = sum(floor_nb) if floor_nb else None
    steps = startup.get("notebook_steps") or []
    first = None
    if steps and make_nb:
        first = min(_step_total(steps[0]), make_nb[0])
    floor_start, floor_imports = floor_t.get("startup"), floor_t.get("imports")
    if first is not None and make_t.get("startup") is not None:
        parts = [("ready", make_t["startup"] + make_nb[0] - first,
                  None if floor_start is None else floor_start + (floor_imports or 0.0)),
                 ("work", first + sum(make_nb[1:]), nb_floor)]
    else:
        parts = [("startup", make_t.get("startup"), floor_start),
                 ("imports+code", nb_make,
                  None if nb_floor is None else nb_floor + (floor_imports or 0.0))]
    parts += [("report", make_t.get("report"), 0.0 if make_t.get("report") is not None
               else None),
              ("exit", make_t.get("exit"), floor_t.get("exit"))]
    return {"parts": parts, "first": first}


_PART_LABELS = {
    "ready": "until the notebooks' work can start (make: make, the runner's start and "
             "imports, the kernel's launch and warm imports, overlapping: the start-up "
             "until the first notebook plus that notebook's time minus its own work, "
             "re-timed in a warm kernel; floor: interpreter and the notebooks' imports)",
    "work": "the notebooks' work (make: the first notebook's re-timed work plus the other "
            "notebooks as timed; floor: their code in plain Python)",
    "startup": "start-up until the first notebook starts (make: make, interpreter, the "
               "runner's imports, kernel launch; floor: interpreter)",
    "imports+code": "imports and the notebooks (make: in the kernel, the first notebook "
                    "waiting for its start and warm imports; floor: plain Python)",
    "report": "kernel shutdown + HTML report",
    "exit": "process exit (and make's own end)",
}


def _profile_md(pipeline: Mapping, startup: Mapping) -> str:
    make_t = median_run(pipeline["make"], pipeline["make_timelines"])
    floor_t = median_run(pipeline["floor"], pipeline["floor_timelines"])
    make, floor = _median(pipeline["make"]), _median(pipeline["floor"])
    profile = _profile_parts(make_t, floor_t, startup)
    rows = [[_PART_LABELS[key], _s(a), "—" if key == "report" else _s(b), _diff(a, b)]
            for key, a, b in profile["parts"]]
    sum_make = sum(a for _, a, _ in profile["parts"] if a is not None)
    sum_floor = sum(b for _, _, b in profile["parts"] if b is not None)
    rows.append(["**sum of the parts**", f"**{_s(sum_make)}**",
                 f"**{_s(sum_floor)}**", f"**{sum_make - sum_floor:+.2f} s**"])
    rows.append(["measured total (median)", _s(make), _s(floor), _diff(make, floor)])
    text = [_table(["part", "`make` from clean", "floor", "difference"], rows, "lrrr")]

    make_nb = dict(make_t.get("notebooks", []))
    floor_nb = dict(floor_t.get("notebooks", []))
    names = list(make_nb) or list(floor_nb)
    first = profile["first"]
    per = []
    for i, name in enumerate(names):
        made = make_nb.get(name)
        shown = _s(made)
        if i == 0 and first is not None and made is not None:
            shown += f" (its own work ≈ {_s(first)}, re-timed in a warm kernel)"
            made = first
        per.append([f"`{name}`", shown, _s(floor_nb.get(name)), _diff(made, floor_nb.get(name))])
    text += ["", "Per notebook (floor: its code only, the imports being up front; for the "
             "first notebook, the difference compares its own work, leaving out the wait "
             "for the kernel):", "",
             _table(["notebook", "`make` from clean", "floor", "difference"], per, "lrrr")]

    steps = startup.get("notebook_steps") or []
    if steps:
        rows = []
        for step in steps:
            total = sum(step[k] for k in ("inspect", "reset", "execute", "write"))
            rows.append([f"`{step['notebook']}`", _s(step["inspect"]), _s(step["reset"]),
                         _s(step["cells"]), _s(step["execute"] - step["cells"]),
                         _s(step["write"]), _s(total), _s(floor_nb.get(step["notebook"]))])
        sums = {k: sum(step[k] for step in steps)
                for k in ("inspect", "reset", "execute", "cells", "write")}
        rows.append(["**all**", _s(sums["inspect"]), _s(sums["reset"]), _s(sums["cells"]),
                     _s(sums["execute"] - sums["cells"]), _s(sums["write"]),
                     _s(sums["inspect"] + sums["reset"] + sums["execute"] + sums["write"]),
                     _s(sum(floor_nb.get(step["notebook"], 0.0) for step in steps)
                        if floor_nb else None)])
        text += ["", "Inside the notebooks' time: the runner's steps for each notebook "
                 "re-timed one by one in a warm shared kernel (a separate run, fresh "
                 "processes, medians); *cells in the kernel* sums nbclient's per-cell "
                 "timestamps (`iopub.execute_input` to `shell.execute_reply`, which includes "
                 "formatting the rich outputs), *around the cells* is the rest of "
                 "`papermill.execute_notebook`:", "",
                 _table(["notebook", "inspect + read", "`kernel.reset()`",
                         "cells in the kernel", "papermill around the cells",
                         "read, normalise, write", "total", "floor: code"], rows)]

    unused = startup.get("warm_unused") or []
    skipped = "n/a (skipped in --smoke)"

    def iso(key: str) -> str:
        return _s(startup[key]) if startup.get(key) is not None else skipped

    table = [
        ["interpreter start (`python -c pass`)", iso("interpreter")],
        ["the runner's imports (`import helpers.pipeline.notebooks, papermill`)",
         iso("runner_imports")],
        ["kernel: `SharedKernel()` returns (process launched)", iso("kernel_launch")],
        ["kernel: from `SharedKernel()` until its warm imports are done (`.wait()`)",
         iso("kernel_ready")],
        ["the kernel's warm imports in a plain interpreter ("
         + (", ".join(f"`{m}`" for m in startup.get("warm_modules", [])) or "the list")
         + ")", iso("science_imports")],
        ["warm imports that no notebook needs: "
         + (", ".join(f"`{m}`" for m in unused) or
            ("none" if "warm_unused" in startup else "n/a")),
         _s(startup.get("warm_unused_seconds")) if unused else "—"],
    ]
    text += ["", "Start-up costs in isolation (fresh processes, medians):", "",
             _table(["component", "time"], table)]
    top = startup.get("runner_import_top") or []
    if top:
        text += ["", "Largest own import times in the runner process "
                 "(`python -X importtime -c 'import helpers.pipeline.notebooks, papermill'`):", "",
                 _table(["module", "self", "cumulative"],
                        [[f"`{r['module']}`", _s(r["self"]), _s(r["cumulative"])]
                         for r in top])]
    text += ["", _gap_sentence(profile, make, floor, len(names), startup)]
    return "\n".join(text)


def _gap_sentence(profile: Mapping, make, floor, notebooks: int, startup: Mapping) -> str:
    parts = {key: (a, b) for key, a, b in profile["parts"]}
    if not make or not floor or any(a is None or b is None for a, b in parts.values()):
        return "(The profile needs both timelines; not available in this run.)"
    extra = {key: a - b for key, (a, b) in parts.items()}
    runner, ready = startup.get("runner_imports"), startup.get("kernel_ready")
    top = (startup.get("runner_import_top") or [None])[0]
    steps = startup.get("notebook_steps") or []
    text = {}
    if "ready" in parts:
        science = startup.get("science_imports")
        text["ready"] = (
            f"{extra['ready']:.2f} s before the notebooks' work can start: "
            f"{parts['ready'][0]:.2f} s for make, the runner and the kernel against "
            f"{parts['ready'][1]:.2f} s for the floor's interpreter and imports")
        if ready is not None and runner is not None and science is not None:
            overlap = ready + runner - parts["ready"][0]
            text["ready"] += (
                f". In isolation the kernel is ready with its warm imports {ready:.2f} s "
                f"after `SharedKernel()`, {ready - science:.2f} s more than the same "
                f"imports take in a plain interpreter ({science:.2f} s; the difference is "
                "the Jupyter kernel's own start-up), and the runner's own imports take "
                f"{runner:.2f} s"
                + (f" (the largest single one `{top['module']}`, {top['self']:.2f} s)"
                   if top else "")
                + (f"; the two together would take {ready + runner:.2f} s, so about "
                   f"{overlap:.2f} s of them overlap" if overlap > 0.3 else
                   "; the two do not overlap"))
        sums = {k: sum(step[k] for step in steps)
                for k in ("inspect", "reset", "execute", "cells", "write")}
        text["work"] = (
            f"{extra['work']:.2f} s in the notebooks' work, about "
            f"{extra['work'] / max(notebooks, 1):.2f} s per notebook")
        if len(steps) == notebooks:
            text["work"] += (
                f" (re-timed step by step: {sums['reset']:.2f} s in `kernel.reset()` "
                f"before each notebook, {sums['execute'] - sums['cells']:.2f} s in "
                f"papermill around the cells, {sums['inspect'] + sums['write']:.2f} s "
                f"inspecting, reading and writing notebooks, and the cells themselves "
                f"{sums['cells']:.2f} s in the kernel against {parts['work'][1]:.2f} s in "
                "plain Python: formatting the rich outputs, the inline PNG of every "
                "figure and the HTML tables, which the floor does not produce)")
    else:
        text["startup"] = f"{extra['startup']:.2f} s before the first notebook starts"
        text["imports+code"] = (f"{extra['imports+code']:.2f} s in the kernel's start, "
                                "the imports and the notebooks")
    text["report"] = f"{extra['report']:.2f} s for the kernel shutdown and the HTML report"
    text["exit"] = f"{extra['exit']:+.2f} s at exit"
    ordered = sorted(text, key=lambda key: -extra[key])
    return (f"**What is left.** `make` from clean outputs takes {make:.2f} s, the floor "
            f"{floor:.2f} s: {make - floor:.2f} s more (ratio {make / floor:.2f}). "
            "Largest first: " + "; ".join(text[key] for key in ordered) + ".")


def _scaling_md(rows: Sequence[Mapping]) -> str:
    if not rows:
        return "Not run."
    text = []
    grown = growth(rows)
    for op in OPERATIONS:
        table = []
        for row in [r for r in grown if r["operation"] == op]:
            times = row.get("times") or [row["seconds"]]
            table.append([
                f"{row['patients']:,}", row["visits"], f"{row['rows']:,}",
                _s(row["seconds"]) + (f" ({len(times)} runs)" if len(times) > 1 else " (1 run)"),
                f"{row['seconds'] / row['rows'] * 1e6:.2f}",
                "—" if row["time_growth"] is None
                else f"{row['time_growth']:.1f}x (b = {row['exponent']:.2f})",
                _mib(row["peak_bytes"]), _mib(row["added_bytes"]),
            ] + ([_s(row.get("save_seconds"))] if op == "figures" else []))
        header = ["patients", "visits", "rows", "time (median)", "µs per row",
                  "time growth vs previous size", "peak RSS (process)", "added by the call"]
        if op == "figures":
            header.append("of which save PNG")
        dpis = sorted({r.get("dpi") for r in rows if r["operation"] == op and r.get("dpi")})
        title = OPERATION_LABELS[op] + (f" at {', '.join(map(str, dpis))} dpi"
                                         if op == "figures" and dpis else "")
        text += [f"### {title}", "", _table(header, table), ""]
    cohort = {(r["patients"], r["visits"]): r["cohort_seconds"] for r in rows}
    text += ["Building the cohorts (`make_cohort`, not part of the timings): "
             + ", ".join(f"{n:,} x {v} visits {_s(s)}" for (n, v), s in sorted(cohort.items()))
             + "."]
    warned = sorted({(r["operation"], r["patients"], r["visits"], w) for r in rows
                     for w in r.get("warnings", [])})
    if warned:
        text += ["", "Warnings raised during the calls:", ""]
        text += [f"- {op}, {n:,} patients x {v} visits: `{w[:200]}`"
                 for op, n, v, w in warned]
    return "\n".join(text)


def render(results: Mapping) -> str:
    """docs/benchmarks.md from the results of :func:`run`."""
    info, pipeline = results["machine"], results["pipeline"]
    smoke = results.get("smoke")
    make, floor = _median(pipeline["make"]), _median(pipeline["floor"])
    lines = ["# Benchmarks", ""]
    lines += [f"Measured by `make bench` (`python -m benchmarks.bench`) on {results['date']}, "
              f"in {results['seconds'] / 60:.1f} minutes"
              + (" — **smoke run: tiny sizes, one run, not a measurement**" if smoke else "")
              + ". Regenerate with `make bench`; do not edit by hand.", ""]
    lines += ["## Machine", "", _machine_md(info), ""]
    lines += ["## Targets", "", _table(["target", "measured", "met"],
                                       [(t, m, _yes(ok)) for t, m, ok in targets(results)],
                                       "lrl"), ""]

    lines += ["## `make env`: fresh set-up", ""]
    env = results.get("env")
    if env:
        cold = env.get("cold")
        lines += [_table(["set-up", "time"], [
            ["`make env` in an empty folder, uv cache warm (packages already downloaded)",
             _runs(env["warm"])],
            ["`make env` in an empty folder, uv cache empty (everything from PyPI)",
             _runs([cold]) if cold is not None
             else (f"> {env['cold_timeout']:.0f} s (stopped)" if env.get("cold_tried")
                   else "not measured")],
        ]), "", "`make env` runs `scripts/setup-env`: a new `.venv`, `uv pip sync` of the "
                "hash-pinned `requirements.lock`, the editable `helpers` package and the "
                "Jupyter kernel, in a scratch folder deleted afterwards.", ""]
    else:
        lines += ["Skipped in this run (`--smoke`).", ""]

    lines += ["## `make` from clean outputs, against its floor", ""]
    ratio = f"{make / floor:.2f}" if make and floor else "n/a"
    lines += [_table(["run", "time"], [
        ["`make clean && make` (four notebooks in one shared kernel, then the report); "
         "`make` timed", _runs(pipeline["make"])],
        [f"floor: the notebooks' code cells as one plain Python script "
         f"({pipeline.get('floor_lines', 0)} lines), one interpreter", _runs(pipeline["floor"])],
        ["ratio of the medians", ratio],
    ]), ""]
    lines += ["Both run in the same scratch copy of the project, alternately, each after "
              "`make clean`. The floor is every code cell of `notebooks/0[1-4]_*.ipynb`, in "
              "order, each notebook with its `parameters` cell, concatenated into one "
              "script with `display` defined as a no-op (plain Python has no rich display) "
              "and the notebooks' import statements also run once at the top (so the "
              "timeline separates imports from computation; the notebooks' own import "
              "lines are then no-ops), run by `.venv/bin/python` with `MPLBACKEND=Agg`: the "
              "same computations and the same files written, without Jupyter, papermill, "
              "the executed notebooks or the HTML report.", ""]
    lines += ["## `make` with nothing stale", "",
              _table(["run", "time"], [["`make` after a complete run", _runs(pipeline["stale"])]]),
              "", f"make's answer: `{pipeline.get('stale_output', '')}`", ""]

    lines += ["## `make test`", ""]
    tests = results.get("tests")
    if tests:
        lines += [_table(["run", "time"], [["`make test` (pytest: unit tests, nbval, "
                                            "end-to-end reproducibility in clones)",
                                            _runs(tests["runs"])]]), "",
                  f"pytest's summary: `{tests.get('summary')}` (exit status "
                  f"{tests.get('status')}).", ""]
    else:
        lines += ["Skipped in this run (`--smoke`).", ""]

    lines += ["## Scaling: synthetic cohorts", "",
              "`helpers.synth.make_cohort(n, visits=k, seed=0)` (3 measures: SLEDAI-2K, "
              "DAS28, glucocorticoid dose; rows = n x 3 x k). Each operation runs in a "
              "fresh process"
              + (" (smoke: one process for all, alongside the pipeline)" if smoke else "")
              + "; time is the median of the runs shown. Peak RSS is the process's high-water"
              " mark during the call (`VmHWM`, reset before each call through "
              "`/proc/self/clear_refs`): interpreter, libraries, the cohort and the call's "
              "working memory; *added by the call* is that peak minus the resident size "
              "just before the call. Growth compares with the previous size: as much more time "
              "as more patients is linear, b is the exponent of time ∝ patients^b (1 = "
              "linear). At small sizes fixed costs dominate, so b < 1 there; the step from "
              "10^5 to 10^6 patients is the one that shows how the work grows.", ""]
    lines += [_scaling_md(results["scaling"]), ""]

    lines += ["## Profile: `make` against its floor", ""]
    lines += ["The `make` timeline comes from the runner's progress lines (`running ...`, "
              "`done in ...`, `wrote ...html`), time-stamped as they arrive; the floor's from "
              "marks it prints after its imports and after each notebook's code. The parts are "
              "those of the median run of each (for an even number of runs, the lower "
              "middle one), so they add up to its total.", ""]
    lines += [_profile_md(pipeline, results.get("startup", {})), ""]

    lines += ["## Method", "",
              "- Wall-clock time (`time.perf_counter`) around `subprocess.run` of each "
              "command; medians of the runs stated (`--repeats`, default 3; `make` with "
              "nothing stale at least 5 runs; figures at 10^6 patients once).",
              "- The pipeline runs in a scratch copy of the project (the files git tracks "
              "or would track, with `.git`), whose `.venv` links to the checkout's "
              "environment and with `ANIFROLUMAB_ROOT` pointing the notebooks at the copy: "
              "the checkout's outputs and timestamps are never touched.",
              "- `make env` runs in an empty scratch folder holding only what set-up needs "
              "(Makefile, pyproject.toml, requirements.lock, README.md, scripts/, src/).",
              "- Benchmarks are not tests: nothing fails because a machine is slow. "
              "`tests/test_bench.py` runs `python -m benchmarks.bench --smoke` and checks "
              "this document's structure only.", ""]
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------
# The whole benchmark
# ---------------------------------------------------------------------------------------


def run(*, repeats: int = 3, smoke: bool = False, root: Path | None = None) -> dict:
    """Measure everything; return the results (see :func:`render`)."""
    root = Path(root or paths.ROOT).resolve()
    repeats = 1 if smoke else max(1, repeats)
    results: dict[str, object] = {
        "date": datetime.date.today().isoformat(), "smoke": smoke, "repeats": repeats}
    _log("describing the machine ...")
    results["machine"] = machine()
    scratch = Path(tempfile.mkdtemp(prefix="bench-"))
    background = steps = None
    try:
        # Smoke: the scaling process runs alongside the pipeline (its numbers are not
        # measurements anyway), which keeps the smoke run short.
        background = smoke_scaling(SMOKE_SIZES, VISITS, cwd=scratch) if smoke else None
        if smoke:
            # The kernel and the runner's steps (first notebook only) in a copy of their
            # own, alongside the pipeline.
            other = make_scratch_copy(root, scratch / "steps")
            _log("kernel start and the runner's steps (smoke, in the background) ...")
            steps = _start_steps(other, [sorted(other.glob("notebooks/0*.ipynb"))[0]
                                         .relative_to(other).as_posix()])
        copy = make_scratch_copy(root, scratch / "project")
        _log(f"scratch copy of the project: {copy}")
        results["pipeline"] = measure_pipeline(copy, repeats, 1 if smoke else max(5, repeats))
        results["startup"] = measure_startup(copy, repeats, smoke=smoke)
        if smoke:
            results["startup"].update(_summarise_steps([_finish_steps(steps)]))
        results["tests"] = None if smoke else measure_make_test(copy, 1)
        results["scaling"] = (_finish_worker(*background) if background is not None
                              else measure_scaling(SIZES, VISITS, repeats, cwd=scratch))
    finally:
        for process in (background[0] if background else None, steps):
            if process is not None and process.poll() is None:
                process.kill()
                process.wait()
        shutil.rmtree(scratch, ignore_errors=True)
    if not smoke:
        env = measure_make_env(root, min(repeats, 2), cold=True)
        env["cold_tried"] = True
        results["env"] = env
    results["seconds"] = time.perf_counter() - _STARTED
    return results


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench",
                                     description="Measure speed and memory; write Markdown.")
    parser.add_argument("--output", default="docs/benchmarks.md",
                        help="Markdown file to write (default: docs/benchmarks.md)")
    parser.add_argument("--repeats", type=int, default=3,
                        help="runs per measurement (medians; default 3)")
    parser.add_argument("--smoke", action="store_true",
                        help="tiny sizes, one run, skip make env and make test (for tests)")
    parser.add_argument("--scale-worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.scale_worker:
        print(json.dumps(scale_worker(json.loads(args.scale_worker))))
        return 0
    try:
        results = run(repeats=args.repeats, smoke=args.smoke)
    except BenchError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("error: interrupted; nothing written", file=sys.stderr)
        return 130
    from helpers.io import write_text

    output = Path(args.output)
    output.parent.mkdir(parents=True, exist_ok=True)
    write_text(render(results), output)
    _log(f"wrote {output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
