"""``make env`` from nothing and ``make test``: what setting up and checking the project cost."""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from benchmarks.harness import (BenchError, check, clean_env, log, make_scratch_copy, median,
                                timed_lines)
from benchmarks.startup import FLOOR_MODULES

#: ``make env`` with an empty uv cache downloads every package: stopped after this long
#: (a slow network is not the project's speed).
COLD_ENV_TIMEOUT_S = 180.0
#: What ``make env`` needs from the project, besides src/.
_SETUP_FILES = ("Makefile", "pyproject.toml", "requirements.lock", "README.md",
                "scripts/setup-env", "scripts/compile_bytecode.py",
                "etc/jupyterlab/overrides.json")
# The pytest summary line ("300 passed in 44.0s"), between its rules of "=".
_SUMMARY = re.compile(r"\b(passed|failed|error)")
_RULES = re.compile(r"^=+\s*|\s*=+$")
# scripts/compile_bytecode.py's summary: "bytecode: <what> (<n> distributions, <n> files)
# in 5.6 s".
_BYTECODE = re.compile(r"^bytecode: .*\(\d+ distributions, ([\d,]+) files.*\) in ([0-9.]+) s")
_ENV_READY = "environment ready"
#: The bare imports (the import floor of the `make` section).
_FLOOR_IMPORTS = f"import {', '.join(FLOOR_MODULES)}"


def measure_make_test(copy: Path, repeats: int) -> dict[str, object]:
    """Time ``make test`` (the whole test suite) in a scratch copy of the project.

    Returns
    -------
    dict
        ``runs`` (seconds), and pytest's ``summary`` line and exit ``status`` of the last
        run. A failing suite is reported, not raised: its time is still a measurement.
    """
    runs = []
    summary = status = None
    for run in range(1, repeats + 1):
        log(f"make test, run {run}/{repeats} ...")
        seconds, lines, status = timed_lines(
            ["make", "test"], cwd=copy, env=clean_env(ANIFROLUMAB_ROOT=str(copy)),
            timeout=3600)
        runs.append(seconds)
        summary = next((_RULES.sub("", line) for _, line in reversed(lines)
                        if _SUMMARY.search(line)), None)
        log(f"  make test: {seconds:.1f} s ({summary}; exit status {status})")
    return {"runs": runs, "summary": summary, "status": status}


def _copy_setup_files(root: Path, scratch: Path) -> None:
    for name in _SETUP_FILES:
        (scratch / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(root / name, scratch / name)
    shutil.copytree(root / "src", scratch / "src", ignore=shutil.ignore_patterns(
        "__pycache__", "*.egg-info"))


def _fresh_env_seconds(root: Path, cache: str | None, timeout: float | None) -> float | None:
    """One ``make env`` in an empty scratch folder; ``None`` if stopped by ``timeout``.

    ``cache`` is uv's cache folder (``None``: the user's own, warm).
    """
    scratch = Path(tempfile.mkdtemp(prefix="bench-env-"))
    try:
        _copy_setup_files(root, scratch)
        env = clean_env()
        env.pop("VIRTUAL_ENV", None)  # the checkout's environment is not the one to set up
        if cache is not None:
            env["UV_CACHE_DIR"] = cache
        try:
            seconds, lines, status = timed_lines(["make", "env"], cwd=scratch, env=env,
                                                 timeout=timeout)
        except subprocess.TimeoutExpired:
            return None
        check(["make", "env"], status, lines)
        if not (scratch / ".venv" / ".installed").exists():
            raise BenchError("make env finished without .venv/.installed")
        return seconds
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _cold_env_seconds(root: Path) -> float | None:
    log(f"make env with an empty uv cache (downloads from PyPI; stopped after "
        f"{COLD_ENV_TIMEOUT_S:.0f} s) ...")
    cache = tempfile.mkdtemp(prefix="bench-uv-cache-")
    try:
        seconds = _fresh_env_seconds(root, cache, COLD_ENV_TIMEOUT_S)
    finally:
        shutil.rmtree(cache, ignore_errors=True)
    log("  make env, cold cache: " + ("stopped" if seconds is None else f"{seconds:.1f} s"))
    return seconds


def measure_make_env(root: Path, repeats: int, *, cold: bool) -> dict[str, object]:
    """Time ``make env`` from nothing, in scratch folders: uv's cache warm, then empty.

    Parameters
    ----------
    root : Path
        The project (only what set-up needs is copied from it).
    repeats : int
        Runs with the cache warm.
    cold : bool
        Also one run with an empty cache, stopped after :data:`COLD_ENV_TIMEOUT_S`.

    Returns
    -------
    dict
        ``warm`` (seconds per run), ``cold`` (seconds, or ``None`` if stopped or not run)
        and ``cold_timeout``.
    """
    out: dict[str, object] = {"warm": [], "cold": None, "cold_timeout": COLD_ENV_TIMEOUT_S}
    for run in range(1, repeats + 1):
        log(f"make env (fresh .venv, uv cache warm), run {run}/{repeats} ...")
        out["warm"].append(_fresh_env_seconds(root, None, 1800))
        log(f"  make env, warm cache: {out['warm'][-1]:.1f} s")
    if cold:
        out["cold"] = _cold_env_seconds(root)
    return out


def _bytecode_line(lines) -> dict[str, float] | None:
    for _, line in lines:
        found = _BYTECODE.match(line.strip())
        if found:
            return {"files": int(found[1].replace(",", "")), "seconds": float(found[2])}
    return None


def _timed(args: list[str], copy: Path, env: dict[str, str]) -> tuple[float, list]:
    seconds, lines, status = timed_lines(args, cwd=copy, env=env, timeout=1800)
    check(args, status, lines)
    return seconds, lines


def _remove_package_bytecode(venv: Path) -> int:
    """Delete every ``__pycache__`` of the environment's packages; return how many."""
    folders = [path for path in (venv / "lib").glob("python3*/site-packages/**/__pycache__")
               if path.is_dir()]
    for folder in folders:
        shutil.rmtree(folder)
    return len(folders)


def measure_first_run(root: Path, repeats: int) -> dict[str, object]:
    """A fresh clone's first ``make``, and what the environment's bytecode is worth.

    Each run copies the project without ``.venv`` (as a fresh clone) into a scratch folder,
    removes its outputs (``make clean``) and times ``make`` there: the environment (uv
    cache warm), then the whole analysis. In the last copy it then times the development
    tools' bytecode (``make .venv/.bytecode-dev``, what the first ``make test`` adds), and
    what compiled bytecode saves on each run: the
    bare imports and ``make`` from clean outputs, with the environment's bytecode and with
    every ``__pycache__`` of its packages removed. ``PYTHONDONTWRITEBYTECODE=1`` throughout,
    so a run without bytecode compiles every module again, as wherever that is set.

    Returns
    -------
    dict
        ``runs`` (seconds of each first ``make``), ``env_part`` (seconds until set-up
        finished, per run), ``bytecode`` (files and seconds compiled at set-up),
        ``dev_bytecode`` (seconds), ``imports`` and ``make`` (each ``{"with": [...],
        "without": [...]}`` seconds).
    """
    out: dict[str, object] = {"runs": [], "env_part": [], "bytecode": None,
                              "dev_bytecode": None, "imports": {"with": [], "without": []},
                              "make": {"with": [], "without": []}}
    scratch = Path(tempfile.mkdtemp(prefix="bench-first-"))
    try:
        for run in range(1, repeats + 1):
            copy = scratch / f"clone-{run}"
            make_scratch_copy(root, copy, link_venv=False)
            env = clean_env(ANIFROLUMAB_ROOT=str(copy), PYTHONDONTWRITEBYTECODE="1")
            env.pop("VIRTUAL_ENV", None)
            # The copy keeps the checkout's timestamps, so its outputs are up to date:
            # cleaned, the first `make` does the whole analysis as well as the set-up.
            _timed(["make", "clean"], copy, env)
            log(f"a fresh clone's first make (environment + analysis), run {run}/{repeats} ...")
            seconds, lines = _timed(["make"], copy, env)
            out["runs"].append(seconds)
            out["env_part"].append(next((t for t, line in lines if _ENV_READY in line), None))
            out["bytecode"] = _bytecode_line(lines) or out["bytecode"]
            log(f"  first make: {seconds:.1f} s")
            if run < repeats:
                shutil.rmtree(copy)
        out["dev_bytecode"], _ = _timed(["make", ".venv/.bytecode-dev"], copy, env)
        python = str(copy / ".venv" / "bin" / "python")
        for state in ("with", "without"):
            if state == "without":
                log(f"  removed {_remove_package_bytecode(copy / '.venv')} __pycache__ "
                    "folders of the packages")
            for _ in range(repeats):
                out["imports"][state].append(_timed([python, "-c", _FLOOR_IMPORTS], copy,
                                                    env)[0])
                _timed(["make", "clean"], copy, env)
                out["make"][state].append(_timed(["make"], copy, env)[0])
            log(f"  {state} bytecode: imports {median(out['imports'][state]):.2f} s, "
                f"make from clean {median(out['make'][state]):.1f} s")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return out
