"""``make env`` from nothing and ``make test``: what setting up and checking the project cost."""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from benchmarks.harness import BenchError, check, clean_env, log, timed_lines

#: ``make env`` with an empty uv cache downloads every package: stopped after this long
#: (a slow network is not the project's speed).
COLD_ENV_TIMEOUT_S = 180.0
#: What ``make env`` needs from the project, besides src/.
_SETUP_FILES = ("Makefile", "pyproject.toml", "requirements.lock", "README.md",
                "scripts/setup-env", "etc/jupyterlab/overrides.json")
# The pytest summary line ("300 passed in 44.0s"), between its rules of "=".
_SUMMARY = re.compile(r"\b(passed|failed|error)")
_RULES = re.compile(r"^=+\s*|\s*=+$")


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
