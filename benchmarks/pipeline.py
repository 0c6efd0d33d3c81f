"""``make`` from clean outputs against its floor, and ``make`` with nothing stale.

The floor is what the pipeline cannot go below: the notebooks' code cells, in order, as
one plain Python script run by one interpreter (:func:`floor_script`). Both are run in
the same scratch copy of the project, alternately, and both are split into timelines
(:func:`make_timeline`, :func:`floor_timeline`) to show where the difference goes.
"""

from __future__ import annotations

import ast
import itertools
import json
import re
from collections.abc import Mapping, Sequence
from pathlib import Path

from benchmarks.harness import PROBES, check, clean_env, log, median, timed_lines

#: The start of every floor script: a progress mark on stderr and a no-op ``display``.
FLOOR_PRELUDE = PROBES / "floor_prelude.py"
#: How the floor's progress lines start (what ``_bench_mark`` in the prelude prints).
MARK = "@bench "

# The runner's progress lines (helpers.pipeline.notebooks).
_RUNNING = re.compile(r"^running (\S+) -> ")
_DONE = re.compile(r"^\s*done in ([0-9.]+) s")
_WROTE = re.compile(r"^wrote (\S+\.html)")


# ---------------------------------------------------------------------------------------
# The floor: the notebooks' code as one plain Python script
# ---------------------------------------------------------------------------------------


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


def _notebook_code(notebook: Path, root: Path) -> list[str]:
    """A notebook's code cells, then its progress mark (its path relative to ``root``)."""
    nb = json.loads(Path(notebook).read_text(encoding="utf-8"))
    name = (Path(notebook).relative_to(root).as_posix() if Path(notebook).is_absolute()
            else Path(notebook).as_posix())
    code = [f"\n# ---- {name}\n"]
    code += [_strip_magics(_cell_source(cell)) + "\n" for cell in nb.get("cells", [])
             if cell.get("cell_type") == "code"]
    return [*code, f"_bench_mark({name!r})\n"]


def floor_script(notebooks: Sequence[Path], root: Path) -> str:
    """Write the floor of ``make``: the notebooks' code cells as one plain script.

    Each notebook contributes its code cells (its parameters cell included), in order,
    then a progress mark on stderr. The notebooks' module-level import statements are also
    run once at the top (they are then no-ops where the notebooks repeat them): the same
    imports, paid up front, so that the timeline separates the floor's import time from
    its computations.

    Parameters
    ----------
    notebooks : sequence of Path
        The notebooks, in the order make runs them.
    root : Path
        The project, which notebook paths in the marks are relative to.

    Returns
    -------
    str
        The script's text.
    """
    body = [line for notebook in notebooks for line in _notebook_code(notebook, root)]
    imports = list(dict.fromkeys(import_statements("\n".join(body))))
    prelude = FLOOR_PRELUDE.read_text(encoding="utf-8")
    return "\n".join([prelude, "# The notebooks' imports, once, up front.",
                      *imports, '_bench_mark("imports")', *body])


def import_statements(script: str) -> list[str]:
    """Return the module-level import statements of ``script`` (``ast.unparse``d), in order."""
    return [ast.unparse(node) for node in ast.parse(script).body
            if isinstance(node, ast.Import | ast.ImportFrom)]


def floor_path(copy: Path) -> Path:
    """Where :func:`measure_pipeline` writes the floor: beside the copy, not a project file."""
    return copy.parent / "floor.py"


# ---------------------------------------------------------------------------------------
# Timelines
# ---------------------------------------------------------------------------------------


def make_timeline(lines: Sequence[tuple[float, str]], total: float) -> dict[str, object]:
    """Split a ``make`` run into consecutive intervals, from the runner's progress lines.

    Parameters
    ----------
    lines : sequence of (float, str)
        The run's output lines, with the seconds since its start.
    total : float
        The run's wall time.

    Returns
    -------
    dict
        ``{"startup": s, "notebooks": [(name, s)], "report": s, "exit": s}``: until the
        first notebook starts; each notebook (from the previous one's end; the first from
        its start, so it includes waiting for the shared kernel's warm-up); kernel
        shutdown and the report; the end of the process and of make. The parts add up to
        ``total``. Missing progress lines give ``None`` parts.
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
    """Split a floor run into consecutive intervals, from its progress marks.

    Parameters
    ----------
    lines : sequence of (float, str)
        The run's stderr lines, with the seconds since its start.
    total : float
        The run's wall time.

    Returns
    -------
    dict
        ``{"startup": s, "imports": s, "notebooks": [(name, s)], "exit": s}``: the
        interpreter's start-up (until the script's first line), the notebooks' imports,
        each notebook's code, and the exit. The parts add up to ``total``.
    """
    marks = [(at, line[len(MARK):]) for at, line in lines if line.startswith(MARK)]
    if not marks or marks[0][1] != "start":
        return {"startup": None, "imports": None, "notebooks": [], "exit": None}
    parts = [(label, at - previous)
             for (previous, _), (at, label) in itertools.pairwise(marks)]
    imports = sum(seconds for label, seconds in parts if label == "imports")
    return {"startup": marks[0][0], "imports": imports,
            "notebooks": [(label, seconds) for label, seconds in parts if label != "imports"],
            "exit": total - marks[-1][0]}


def median_run(totals: Sequence[float], timelines: Sequence[Mapping]) -> Mapping:
    """Return the timeline of the run whose total is the median.

    For an even number of runs, the lower middle one: a run that happened, so that its
    parts add up to its total.
    """
    if not timelines:
        return {}
    order = sorted(range(len(totals)), key=lambda i: totals[i])
    return timelines[order[(len(order) - 1) // 2]]


# ---------------------------------------------------------------------------------------
# Measurements (in the scratch copy)
# ---------------------------------------------------------------------------------------


def _make(copy: Path, *targets: str, timeout: float | None = 1800) -> tuple[float, list]:
    args = ["make", *targets]
    seconds, lines, status = timed_lines(args, cwd=copy, env=clean_env(
        ANIFROLUMAB_ROOT=str(copy)), timeout=timeout)
    check(args, status, lines)
    return seconds, lines


def _time_floor(copy: Path, result: dict) -> None:
    args = [str(copy / ".venv" / "bin" / "python"), str(floor_path(copy))]
    env = clean_env(ANIFROLUMAB_ROOT=str(copy), MPLBACKEND="Agg")
    seconds, lines, status = timed_lines(args, cwd=copy, env=env, timeout=1800,
                                         stdout_lines=False)
    check(args, status, lines)
    result["floor"].append(seconds)
    result["floor_timelines"].append(floor_timeline(lines, seconds))
    log(f"  floor: {seconds:.2f} s")


def _time_make(copy: Path, result: dict) -> None:
    seconds, lines = _make(copy)
    result["make"].append(seconds)
    result["make_timelines"].append(make_timeline(lines, seconds))
    log(f"  make from clean: {seconds:.2f} s")


def _time_stale(copy: Path, result: dict, repeats: int) -> None:
    lines: list = []
    for _ in range(repeats):
        seconds, lines = _make(copy)
        result["stale"].append(seconds)
    result["stale_output"] = lines[-1][1] if lines else ""
    log(f"make with nothing stale: median {median(result['stale']) * 1000:.1f} ms "
        f"({repeats} runs; make says: {result['stale_output']!r})")


#: Alternating pairs of floor and ``make`` runs in a full benchmark: their ratio is a
#: target, and a shared host's speed drifts, so it takes more than the usual 3 runs.
PAIRED_RUNS = 5


def measure_pipeline(copy: Path, repeats: int, stale_repeats: int) -> dict[str, object]:
    """Time ``make`` from clean outputs and the floor, alternately, then ``make`` again.

    Each run of either starts after ``make clean``; ``make`` with nothing stale runs after
    the first complete ``make``. The copy is left as make wrote it (``make test`` runs
    there next).

    Parameters
    ----------
    copy : Path
        A scratch copy of the project (:func:`benchmarks.harness.make_scratch_copy`).
    repeats : int
        Runs of ``make`` and of the floor.
    stale_repeats : int
        Runs of ``make`` with nothing stale.

    Returns
    -------
    dict
        Seconds of each run (``make``, ``floor``, ``stale``), their timelines
        (``make_timelines``, ``floor_timelines``), make's last line when nothing was stale
        (``stale_output``) and the floor script's length (``floor_lines``).
    """
    notebooks = sorted((copy / "notebooks").glob("0*.ipynb"))
    script = floor_path(copy)
    script.write_text(floor_script(notebooks, copy), encoding="utf-8")
    result: dict[str, object] = {"make": [], "floor": [], "make_timelines": [],
                                 "floor_timelines": [], "stale": [],
                                 "floor_lines": script.read_text().count("\n")}
    for run in range(1, repeats + 1):
        _make(copy, "clean")
        log(f"floor (one plain Python script), run {run}/{repeats} ...")
        _time_floor(copy, result)
        _make(copy, "clean")
        log(f"make from clean outputs, run {run}/{repeats} ...")
        _time_make(copy, result)
        if run == 1:
            _time_stale(copy, result, stale_repeats)
    return result
