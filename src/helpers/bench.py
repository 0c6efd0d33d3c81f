"""Benchmarks: ``make bench`` measures speed and memory and writes docs/benchmarks.md.

``python -m helpers.bench [--output docs/benchmarks.md] [--repeats N] [--smoke]``

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
  and the slope-chart figure (:func:`helpers.plots.slope_chart` per measure, saved as PNG)
  on synthetic cohorts (:func:`helpers.synth.make_cohort`, 3 measures, 2 and 4 visits) of
  10^2, 10^4 and 10^6 patients, each in a fresh process: time and peak memory.
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
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path

from helpers import paths

SIZES = (100, 10_000, 1_000_000)
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

# Imported by the shared kernel before the first notebook (helpers.notebooks); the same
# list, imported in a fresh interpreter, is the "scientific stack" start-up cost.
_DEFAULT_WARM_IMPORTS = ("pandas", "scipy.stats", "matplotlib.pyplot", "pandera.pandas",
                         "statsmodels.stats.multitest", "helpers.cleaning", "helpers.paired",
                         "helpers.plots", "helpers.meta", "helpers.schema")

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
    try:
        for raw in iter(stream.readline, b""):
            lines.append((time.perf_counter() - started,
                          raw.decode("utf-8", "replace").rstrip("\n")))
            if timeout is not None and time.perf_counter() - started > timeout:
                raise subprocess.TimeoutExpired(args, timeout)
        process.wait(timeout=None if timeout is None
                     else max(1.0, timeout - (time.perf_counter() - started)))
    except (subprocess.TimeoutExpired, KeyboardInterrupt):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        raise
    finally:
        stream.close()
    return time.perf_counter() - started, lines, process.returncode


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
    script, with a progress mark on stderr after each notebook."""
    parts = [_FLOOR_HEADER]
    for notebook in notebooks:
        nb = json.loads(Path(notebook).read_text(encoding="utf-8"))
        name = Path(notebook).relative_to(root).as_posix() if Path(notebook).is_absolute() \
            else Path(notebook).as_posix()
        parts.append(f"\n# ---- {name}\n")
        for cell in nb.get("cells", []):
            if cell.get("cell_type") == "code":
                parts.append(_strip_magics(_cell_source(cell)) + "\n")
        parts.append(f"_bench_mark({name!r})\n")
    return "\n".join(parts)


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
    """Split a floor run: interpreter start-up (until the script's first line), each
    notebook's code (the first includes the scientific imports), and the exit."""
    marks = [(at, line[len(_MARK):]) for at, line in lines if line.startswith(_MARK)]
    if not marks or marks[0][1] != "start":
        return {"startup": None, "notebooks": [], "exit": None}
    notebooks = [(label, at - previous)
                 for (previous, _), (at, label) in zip(marks, marks[1:])]
    return {"startup": marks[0][0], "notebooks": notebooks, "exit": total - marks[-1][0]}


def _median_timeline(timelines: Sequence[Mapping]) -> dict[str, object]:
    """Per-part medians of several timelines (notebooks matched by position)."""
    if not timelines:
        return {}
    out: dict[str, object] = {}
    for key in timelines[0]:
        if key == "notebooks":
            count = min(len(t["notebooks"]) for t in timelines)
            out[key] = [(timelines[0]["notebooks"][i][0],
                         _median(t["notebooks"][i][1] for t in timelines))
                        for i in range(count)]
        else:
            out[key] = _median(t.get(key) for t in timelines)
    return out


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


_KERNEL_CODE = """\
import json, time
import helpers.notebooks as runner
started = time.perf_counter()
kernel = runner.SharedKernel()
launched = time.perf_counter() - started
kernel.wait()
ready = time.perf_counter() - started
kernel.shutdown()
print(json.dumps({"launch": launched, "ready": ready}))
"""


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
        from helpers import notebooks as runner

        warm = tuple(getattr(runner, "_WARM_IMPORTS", _DEFAULT_WARM_IMPORTS))
    except ImportError:
        warm = _DEFAULT_WARM_IMPORTS
    out["warm_modules"] = list(warm)
    _log("start-up costs: the runner's imports (helpers.notebooks, papermill) ...")
    out["runner_imports"] = _import_seconds(["helpers.notebooks", "papermill"], copy,
                                            repeats)
    _log("start-up costs: the scientific stack (the kernel's warm imports) ...")
    out["science_imports"] = _import_seconds(warm, copy, repeats)
    _log("start-up costs: kernel launch and warm-up (SharedKernel) ...")
    kernel_env = _clean_env(ANIFROLUMAB_ROOT=str(copy),
                            MPLBACKEND="module://matplotlib_inline.backend_inline")
    kernels = [json.loads(_run_python(_KERNEL_CODE, cwd=copy, env=kernel_env).stdout
                          .strip().splitlines()[-1]) for _ in range(repeats)]
    out["kernel_launch"] = _median(k["launch"] for k in kernels)
    out["kernel_ready"] = _median(k["ready"] for k in kernels)
    out["runner_import_top"] = _importtime_top(["helpers.notebooks", "papermill"], copy)
    _log("start-up costs: the notebooks' own import statements (the floor's imports) ...")
    script = (copy.parent / "floor.py").read_text(encoding="utf-8")
    probe = _IMPORTS_PROBE.format(imports="\n".join(import_statements(script)),
                                  warm=list(warm))
    probes = [json.loads(_run_python(probe, cwd=copy, env=_clean_env(
        ANIFROLUMAB_ROOT=str(copy), MPLBACKEND="Agg")).stdout.strip().splitlines()[-1])
        for _ in range(repeats)]
    out["floor_imports"] = _median(p["floor"] for p in probes)
    out["warm_unused"] = probes[0]["unused"]
    out["warm_unused_seconds"] = _median(p["unused_seconds"] for p in probes)
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

    from helpers.plots import figure_size, save_figure, slope_chart

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
    from helpers.plots import set_theme
    from helpers.synth import make_cohort

    set_theme()
    results = []
    dpi = int(spec.get("dpi", 300))
    with tempfile.TemporaryDirectory(prefix="bench-figures-") as folder:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for visits in sorted({v for _, v in spec["configs"]}):
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
    args = [sys.executable, "-m", "helpers.bench", "--scale-worker", json.dumps(spec)]
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
            "operations": list(OPERATIONS), "repeats": 1, "dpi": 72}
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
    rows.append((f"`paired_tests`, 10^6 patients x 3 measures x 2 visits < {PAIRED_TARGET_S:.0f} s",
                 _s(big["seconds"]) if big else "n/a (not run at this size)",
                 big["seconds"] < PAIRED_TARGET_S if big else None))
    rows.append(("… and peak memory < 4 GiB",
                 f"{big['peak_bytes'] / 2**30:.2f} GiB (whole process)" if big else "n/a",
                 big["peak_bytes"] < PAIRED_TARGET_BYTES if big else None))
    grown = [r for r in growth(scaling) if r["operation"] == "paired_tests"
             and r["visits"] == 2 and r["patients"] == 1_000_000 and r["exponent"] is not None]
    last = grown[-1] if grown else None
    rows.append((f"… growing linearly: time ∝ patients^b with b ≤ {LINEAR_EXPONENT_MAX} "
                 "from 10^4 to 10^6 patients",
                 f"b = {last['exponent']:.2f} ({last['time_growth']:.1f}x time for "
                 f"{last['size_growth']:.0f}x patients)" if last else "n/a",
                 last["exponent"] <= LINEAR_EXPONENT_MAX if last else None))
    env = results.get("env")
    warm = _median(env["warm"]) if env else None
    rows.append((f"`make env` (fresh, uv cache warm): seconds, not minutes (< {ENV_TARGET_S:.0f} s;"
                 " DESIGN.md)", _s(warm) if warm is not None else "n/a (skipped)",
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


def _profile_md(pipeline: Mapping, startup: Mapping) -> str:
    make_t = _median_timeline(pipeline["make_timelines"])
    floor_t = _median_timeline(pipeline["floor_timelines"])
    make, floor = _median(pipeline["make"]), _median(pipeline["floor"])
    make_nb = dict(make_t.get("notebooks", []))
    floor_nb = dict(floor_t.get("notebooks", []))
    nb_make = sum(make_nb.values()) if make_nb else None
    nb_floor = sum(floor_nb.values()) if floor_nb else None
    rows = [
        ["start-up until the first notebook runs (make: make, interpreter, the runner's "
         "imports, papermill, kernel launch; floor: interpreter)",
         _s(make_t.get("startup")), _s(floor_t.get("startup")),
         _diff(make_t.get("startup"), floor_t.get("startup"))],
        ["the four notebooks (make: in the kernel, the first one waiting for the kernel's "
         "start and warm imports; floor: their code, imports included)",
         _s(nb_make), _s(nb_floor), _diff(nb_make, nb_floor)],
        ["kernel shutdown + HTML report", _s(make_t.get("report")), "—",
         _diff(make_t.get("report"), 0.0)],
        ["process exit (and make's own end)", _s(make_t.get("exit")),
         _s(floor_t.get("exit")), _diff(make_t.get("exit"), floor_t.get("exit"))],
    ]
    parts_make = [make_t.get("startup"), nb_make, make_t.get("report"), make_t.get("exit")]
    parts_floor = [floor_t.get("startup"), nb_floor, floor_t.get("exit")]
    sum_make = sum(p for p in parts_make if p is not None)
    sum_floor = sum(p for p in parts_floor if p is not None)
    rows.append(["**sum of the parts** (medians per part)", f"**{_s(sum_make)}**",
                 f"**{_s(sum_floor)}**", f"**{sum_make - sum_floor:+.2f} s**"])
    rows.append(["measured total (median)", _s(make), _s(floor), _diff(make, floor)])
    text = [_table(["part", "`make` from clean", "floor", "difference"], rows, "lrrr")]

    names = list(make_nb) or list(floor_nb)
    text += ["", "Per notebook (the floor imports each library in the first notebook that "
             "needs it, the kernel imports them all before the first notebook, so the "
             "split differs; the sum compares):", "",
             _table(["notebook", "`make` from clean", "floor", "difference"],
                    [[f"`{n}`", _s(make_nb.get(n)), _s(floor_nb.get(n)),
                      _diff(make_nb.get(n), floor_nb.get(n))] for n in names], "lrrr")]

    unused = startup.get("warm_unused") or []
    iso = [
        ["interpreter start (`python -c pass`)", _s(startup.get("interpreter"))],
        ["the runner's imports (`import helpers.notebooks, papermill`), before it launches "
         "the kernel", _s(startup.get("runner_imports"))],
        ["kernel: `SharedKernel()` returns (process launched)",
         _s(startup.get("kernel_launch"))],
        ["kernel: from `SharedKernel()` until its warm imports are done (`.wait()`)",
         _s(startup.get("kernel_ready"))],
        ["the kernel's warm imports in a plain interpreter ("
         + ", ".join(f"`{m}`" for m in startup.get("warm_modules", [])) + ")",
         _s(startup.get("science_imports"))],
        ["the notebooks' own import statements in a plain interpreter (what the floor "
         "pays for imports)", _s(startup.get("floor_imports"))],
        ["warm imports that no notebook needs: "
         + (", ".join(f"`{m}`" for m in unused) or "none"),
         _s(startup.get("warm_unused_seconds")) if unused else "—"],
    ]
    text += ["", "Start-up costs in isolation (fresh processes, medians):", "",
             _table(["component", "time"], iso)]
    top = startup.get("runner_import_top") or []
    if top:
        text += ["", "Largest own import times in the runner process "
                 "(`python -X importtime -c 'import helpers.notebooks, papermill'`):", "",
                 _table(["module", "self", "cumulative"],
                        [[f"`{r['module']}`", _s(r["self"]), _s(r["cumulative"])]
                         for r in top])]
    text += ["", _gap_sentence(make_t, floor_t, make, floor, nb_make, nb_floor, startup)]
    return "\n".join(text)


def _gap_sentence(make_t, floor_t, make, floor, nb_make, nb_floor, startup) -> str:
    if not make or not floor or nb_make is None or nb_floor is None:
        return "(The profile needs both timelines; not available in this run.)"
    gap = make - floor
    start_extra = (make_t.get("startup") or 0.0) - (floor_t.get("startup") or 0.0)
    notebooks_extra = nb_make - nb_floor
    report = make_t.get("report") or 0.0
    exit_extra = (make_t.get("exit") or 0.0) - (floor_t.get("exit") or 0.0)
    runner = startup.get("runner_imports")
    ready, launch = startup.get("kernel_ready"), startup.get("kernel_launch")
    own = startup.get("floor_imports")
    top = (startup.get("runner_import_top") or [None])[0]
    parts = []
    text = f"{start_extra:.2f} s before the first notebook starts"
    if runner is not None:
        text += (f" (the runner's own imports alone take {runner:.2f} s in isolation"
                 + (f", the largest single one `{top['module']}` at {top['self']:.2f} s"
                    if top else "")
                 + "; the kernel is launched only after them, so its warm-up does not "
                 "overlap them)")
    parts.append((start_extra, text))
    text = f"{notebooks_extra:.2f} s in the notebooks"
    if ready is not None and own is not None and launch is not None:
        kernel_extra = (ready - launch) - own
        text += (f": the kernel needs {ready - launch:.2f} s after its launch to be ready "
                 f"with the warm imports, {kernel_extra:.2f} s more than the "
                 f"{own:.2f} s the floor spends on the same imports (the Jupyter kernel's "
                 f"own start); the other {notebooks_extra - kernel_extra:.2f} s are "
                 "papermill's work per notebook (cell-by-cell messaging, rich outputs such "
                 "as HTML tables and inline PNG copies of every figure, writing the executed "
                 "notebook)")
    parts.append((notebooks_extra, text))
    parts.append((report, f"{report:.2f} s for the kernel shutdown and the HTML report"))
    parts.append((exit_extra, f"{exit_extra:+.2f} s at exit"))
    parts.sort(key=lambda p: -p[0])
    return (f"**What is left.** `make` from clean outputs takes {make:.2f} s, the floor "
            f"{floor:.2f} s: {gap:.2f} s more (ratio {make / floor:.2f}). Largest first: "
            + "; ".join(t for _, t in parts) + ".")


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
    lines += [f"Measured by `make bench` (`python -m helpers.bench`) on {results['date']}, "
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
             "not measured" if "cold" not in env or (cold is None and not env.get("cold_tried"))
             else (_runs([cold]) if cold is not None
                   else f"> {env['cold_timeout']:.0f} s (stopped)")],
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
              "and run by `.venv/bin/python` with `MPLBACKEND=Agg`: the same computations "
              "and the same files written, without Jupyter, papermill, the executed "
              "notebooks or the HTML report.", ""]
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
              "just before the call. Growth compares with the previous size (100x more "
              "patients): 100x time is linear, b is the exponent of time ∝ patients^b. "
              "At 10^2 and 10^4 patients fixed costs dominate, so b < 1 there.", ""]
    lines += [_scaling_md(results["scaling"]), ""]

    lines += ["## Profile: `make` against its floor", ""]
    lines += ["The `make` timeline comes from the runner's progress lines (`running ...`, "
              "`done in ...`, `wrote ...html`), time-stamped as they arrive; the floor's from "
              "marks printed after each notebook's code. Parts are medians over the runs, "
              "so their sum differs slightly from the median total.", ""]
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
              "`tests/test_bench.py` runs `python -m helpers.bench --smoke` and checks "
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
    background = None
    try:
        # Smoke: the scaling process runs alongside the pipeline (its numbers are not
        # measurements anyway), which keeps the smoke run short.
        background = smoke_scaling(SMOKE_SIZES, VISITS, cwd=scratch) if smoke else None
        copy = make_scratch_copy(root, scratch / "project")
        _log(f"scratch copy of the project: {copy}")
        results["pipeline"] = measure_pipeline(copy, repeats, 1 if smoke else max(5, repeats))
        results["startup"] = measure_startup(copy, repeats, smoke=smoke)
        results["tests"] = None if smoke else measure_make_test(copy, 1)
        results["scaling"] = (_finish_worker(*background) if background is not None
                              else measure_scaling(SIZES, VISITS, repeats, cwd=scratch))
    finally:
        if background is not None and background[0].poll() is None:
            background[0].kill()
            background[0].wait()
        shutil.rmtree(scratch, ignore_errors=True)
    if not smoke:
        env = measure_make_env(root, min(repeats, 2), cold=True)
        env["cold_tried"] = True
        results["env"] = env
    results["seconds"] = time.perf_counter() - _STARTED
    return results


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m helpers.bench",
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
