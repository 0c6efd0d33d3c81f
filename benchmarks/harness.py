"""What every measurement needs: running commands with timing, the machine, scratch copies.

Benchmarked commands run in child processes, with their output lines time-stamped as they
arrive (:func:`timed_lines`), and in a scratch copy of the project (:func:`make_scratch_copy`)
so that the checkout is never written.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

#: The programs the benchmark runs in fresh processes, by path (see benchmarks/probes/).
PROBES = Path(__file__).resolve().parent / "probes"

# Variables of make's own: a nested make would inherit the jobserver and flags of
# ``make bench``.
_MAKE_VARIABLES = frozenset({"MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES"})

_PACKAGES = ("numpy", "pandas", "scipy", "statsmodels", "matplotlib", "pandera", "papermill",
             "nbformat", "nbconvert", "ipykernel", "jupyter_client", "pytest")

# Never part of a scratch copy when git cannot list the project's files.
_NEVER_COPIED = {".venv", ".git", "__pycache__", ".pytest_cache", ".hypothesis",
                 ".ipynb_checkpoints", ".make", "build", "out"}

_STARTED = time.perf_counter()


class BenchError(RuntimeError):
    """A benchmarked command failed (the benchmark stops: its numbers would be wrong)."""


# ---------------------------------------------------------------------------------------
# Small utilities
# ---------------------------------------------------------------------------------------


def elapsed() -> float:
    """Return the seconds since the benchmark started (since this module was imported)."""
    return time.perf_counter() - _STARTED


def log(message: str) -> None:
    """Print a progress line on stderr, stamped with the time since the start."""
    print(f"[bench {elapsed():7.1f} s] {message}", file=sys.stderr, flush=True)


def median(values: Iterable[float | None]) -> float | None:
    """Return the median of the values that are not ``None`` (``None`` if there are none)."""
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def clean_env(**extra: str) -> dict[str, str]:
    """Return this process's environment without make's own variables, plus ``extra``.

    Parameters
    ----------
    **extra : str
        Variables to set in the copy.

    Returns
    -------
    dict of str to str
        An environment for a child process.
    """
    env = {k: v for k, v in os.environ.items() if k not in _MAKE_VARIABLES}
    env.update(extra)
    return env


# ---------------------------------------------------------------------------------------
# Running commands
# ---------------------------------------------------------------------------------------


def _kill_group(process: subprocess.Popen) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)


@contextlib.contextmanager
def _watchdog(process: subprocess.Popen, timeout: float | None) -> Iterator[threading.Event]:
    """Kill ``process``'s group after ``timeout`` seconds; the event tells whether it did.

    A timer rather than a timeout on reading: a silent command (uv -q) is stopped on time
    too.
    """
    fired = threading.Event()

    def on_timeout() -> None:
        fired.set()
        _kill_group(process)

    timer = threading.Timer(timeout, on_timeout) if timeout is not None else None
    if timer is not None:
        timer.daemon = True
        timer.start()
    try:
        yield fired
    finally:
        if timer is not None:
            timer.cancel()


def _read_lines(stream, started: float) -> list[tuple[float, str]]:
    return [(time.perf_counter() - started, raw.decode("utf-8", "replace").rstrip("\n"))
            for raw in iter(stream.readline, b"")]


def timed_lines(args: Sequence[str], *, cwd: Path, env: Mapping[str, str],
                timeout: float | None = None, stdout_lines: bool = True
                ) -> tuple[float, list[tuple[float, str]], int]:
    """Run a command and time-stamp its output lines as they arrive.

    The time stamps give the timeline of a run without instrumenting the program.

    Parameters
    ----------
    args : sequence of str
        The command.
    cwd : Path
        Its working directory.
    env : mapping
        Its whole environment.
    timeout : float, optional
        Seconds after which its process group is killed.
    stdout_lines : bool
        Read stdout and stderr merged (default), or stderr only (stdout discarded).

    Returns
    -------
    tuple
        (wall seconds, [(seconds since start, line)], exit status).

    Raises
    ------
    subprocess.TimeoutExpired
        When ``timeout`` ran out.
    """
    started = time.perf_counter()
    process = subprocess.Popen(
        list(args), cwd=cwd, env=dict(env), stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE if stdout_lines else subprocess.DEVNULL,
        stderr=subprocess.STDOUT if stdout_lines else subprocess.PIPE,
        bufsize=0, start_new_session=True)
    stream = process.stdout if stdout_lines else process.stderr
    with _watchdog(process, timeout) as fired:
        try:
            lines = _read_lines(stream, started)
            process.wait()
        except KeyboardInterrupt:
            _kill_group(process)
            process.wait()
            raise
        finally:
            stream.close()
    seconds = time.perf_counter() - started
    if fired.is_set():
        raise subprocess.TimeoutExpired(list(args), timeout)
    return seconds, lines, process.returncode


def check(args: Sequence[str], status: int, lines: list[tuple[float, str]]) -> None:
    """Raise :class:`BenchError` with the output's last lines if ``status`` is not 0."""
    if status != 0:
        tail = "\n".join(line for _, line in lines[-25:])
        raise BenchError(f"{' '.join(args)} failed (exit status {status}):\n{tail}")


def run_python(args: Sequence[str], *, cwd: Path, env: Mapping[str, str]
               ) -> subprocess.CompletedProcess:
    """Run this interpreter with ``args`` (a script and its arguments, or ``-c`` code).

    Returns
    -------
    subprocess.CompletedProcess
        With ``stdout`` and ``stderr`` as text.

    Raises
    ------
    BenchError
        If the program fails, with the end of its stderr.
    """
    result = subprocess.run([sys.executable, *args], cwd=cwd, env=dict(env),
                            capture_output=True, text=True, stdin=subprocess.DEVNULL,
                            check=False)
    if result.returncode != 0:
        raise BenchError(f"python {' '.join(args)[:80]}... failed:\n{result.stderr[-2000:]}")
    return result


def start_probe(name: str, args: Sequence[str], *, cwd: Path, env: Mapping[str, str]
                ) -> subprocess.Popen:
    """Start ``benchmarks/probes/<name>.py`` in a fresh process, its output captured."""
    return subprocess.Popen([sys.executable, str(PROBES / f"{name}.py"), *args], cwd=cwd,
                            env=dict(env), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            stdin=subprocess.DEVNULL, text=True)


def probe_result(process: subprocess.Popen, what: str) -> Any:
    """Wait for a probe and return the JSON on its last line of output.

    Raises
    ------
    BenchError
        If the probe fails, saying ``what`` it was measuring.
    """
    stdout, stderr = process.communicate()
    if process.returncode != 0:
        raise BenchError(f"{what} failed:\n{stderr[-3000:]}")
    return json.loads(stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------------------------------
# The machine
# ---------------------------------------------------------------------------------------


def _first_line(args: Sequence[str]) -> str | None:
    try:
        out = subprocess.run(list(args), capture_output=True, text=True, timeout=30,
                             check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    text = (out.stdout or out.stderr).strip().splitlines()
    return text[0] if text else None


def _proc_field(path: str, prefix: str) -> str | None:
    """The rest of the first line of ``path`` (a /proc file) that starts with ``prefix``."""
    with contextlib.suppress(OSError):
        for line in Path(path).read_text().splitlines():
            if line.startswith(prefix):
                return line[len(prefix):]
    return None


def _memory_bytes() -> int | None:
    total = _proc_field("/proc/meminfo", "MemTotal:")
    with contextlib.suppress(AttributeError, ValueError, IndexError):
        return int(total.split()[0]) * 1024
    return None


def _package_versions() -> dict[str, str]:
    from importlib import metadata

    versions = {}
    for name in _PACKAGES:
        with contextlib.suppress(metadata.PackageNotFoundError):
            versions[name] = metadata.version(name)
    return versions


def machine() -> dict[str, object]:
    """Describe the machine the numbers come from.

    Returns
    -------
    dict
        CPU, logical and usable CPUs, memory, OS, Python, make and uv versions, and the
        versions of the key packages (missing entries when unknown).
    """
    cpu = _proc_field("/proc/cpuinfo", "model name")
    cpu = cpu.split(":", 1)[1].strip() if cpu and ":" in cpu else None
    info: dict[str, object] = {"cpu": cpu or platform.processor() or platform.machine(),
                               "logical_cpus": os.cpu_count()}
    with contextlib.suppress(AttributeError):
        info["usable_cpus"] = len(os.sched_getaffinity(0))
    memory = _memory_bytes()
    if memory is not None:
        info["memory_bytes"] = memory
    info["os"] = platform.platform()
    info["python"] = platform.python_version()
    info["make"] = _first_line(["make", "--version"])
    info["uv"] = _first_line(["uv", "--version"])
    info["packages"] = _package_versions()
    return info


# ---------------------------------------------------------------------------------------
# Scratch copy of the project
# ---------------------------------------------------------------------------------------


def project_files(root: Path) -> list[str]:
    """List the project's files.

    Parameters
    ----------
    root : Path
        The project's root folder.

    Returns
    -------
    list of str
        Relative paths, sorted: what git tracks plus untracked files it does not ignore,
        or, without git, every file outside environments, caches and generated folders.
    """
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


def _date_before_environment(target: Path, venv: Path) -> None:
    """Date the copy's lock and pyproject.toml no later than the linked environment.

    make rebuilds ``.venv/.installed`` when they are newer; through the link that would
    touch the checkout's environment.
    """
    installed = venv / ".installed"
    if not installed.exists():
        return
    stamp = installed.stat().st_mtime - 1
    for name in ("requirements.lock", "pyproject.toml"):
        path = target / name
        if path.exists() and path.stat().st_mtime > stamp:
            os.utime(path, (stamp, stamp))


def make_scratch_copy(root: Path, target: Path, *, link_venv: bool = True) -> Path:
    """Copy the project to ``target``; nothing in ``root`` is written.

    Timestamps are kept, so make sees the same DAG. ``.git`` is copied too, so the test
    suite's clone-based tests run as in the checkout, and ``.venv`` is a link to the
    checkout's environment.

    Parameters
    ----------
    root : Path
        The project.
    target : Path
        The copy's folder (created).
    link_venv : bool
        ``False``: no ``.venv``, as in a fresh clone (its ``make`` sets one up).

    Returns
    -------
    Path
        ``target``.
    """
    for name in project_files(root):
        destination = target / name
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(root / name, destination)
    if (root / ".git").is_dir():
        shutil.copytree(root / ".git", target / ".git", symlinks=True)
    if not link_venv:
        return target
    venv = (root / ".venv").resolve()
    (target / ".venv").symlink_to(venv)
    _date_before_environment(target, venv)
    return target
