"""Benchmarks: ``make bench`` measures speed and memory and writes docs/benchmarks.md.

``python -m benchmarks.bench [--output docs/benchmarks.md] [--repeats N] [--smoke]``, run
from the project's root (``benchmarks`` is not part of the installed package).

What is measured (medians of several runs; progress on stderr):

- **make env** (:mod:`benchmarks.environment`): a fresh ``make env``
  (``scripts/setup-env``: uv installs requirements.lock into a new ``.venv``) in a scratch
  folder, with uv's cache warm, and once with an empty cache (everything downloaded from
  PyPI).
- **a fresh clone's first make** (:func:`benchmarks.environment.measure_first_run`): the
  environment and the whole analysis in a copy without ``.venv``; then what the compiled
  bytecode saves per run (imports and ``make``, with and without it).
- **make from clean outputs** against its **floor** (:mod:`benchmarks.pipeline`):
  ``make clean`` then ``make`` in a scratch copy of the project, and the same notebooks'
  code cells concatenated into one plain Python script run by one interpreter, side by
  side in the same run; their ratio.
- **make with nothing stale**: ``make`` again after a complete run.
- **make test**: the whole test suite, in the scratch copy.
- **scaling** (:mod:`benchmarks.scaling`): :func:`helpers.paired.paired_tests`, the
  responder table (:func:`helpers.scores.responder_table` +
  :func:`~helpers.scores.summarise_responders`) and notebook 03's cohort figures
  (:func:`helpers.figures.slope_chart` per measure and :func:`~helpers.figures.waterfall`,
  shown and saved as PNG + SVG by :func:`~helpers.figures.save_and_show`) on synthetic
  cohorts (:func:`helpers.synth.make_cohort`, 3 measures, 2, 3 and 4 visits) of 10^2,
  10^4, 10^5 and 10^6 patients, each in a fresh process: time and peak memory.
- **make analysis** (:mod:`benchmarks.analysis_scale`): a user's cohort end to end at
  10^4, 10^5 and 10^6 patients x 3 visits: time and peak memory.
- **make pool** (:mod:`benchmarks.pooling`): site summaries pooled end to end, 3, 40 and
  200 sites: time and peak memory.
- **profile** of the gap between ``make`` and its floor: a timeline of the ``make`` runs
  (from the runner's progress lines), the floor's timeline, and isolated start-up costs
  (:mod:`benchmarks.startup`).

The report is written by :mod:`benchmarks.render`. Nothing in the checkout is written but
the output file: the pipeline runs in a scratch copy whose ``.venv`` links to this
checkout's environment and ``ANIFROLUMAB_ROOT`` points the notebooks at the copy.
Benchmarks are not tests: nothing here fails because a machine is slow. ``--smoke`` (tiny
cohorts, one run, no ``make env`` / ``make test``) is what the test suite runs, so that the
benchmark itself cannot rot.
"""

from __future__ import annotations

import argparse
import datetime
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from benchmarks import analysis_scale, pooling, readme, scaling
from benchmarks.environment import measure_first_run, measure_make_env, measure_make_test
from benchmarks.harness import BenchError, elapsed, log, machine, make_scratch_copy
from benchmarks.pipeline import PAIRED_RUNS, measure_pipeline
from benchmarks.power_grid import measure_power_grid
from benchmarks.render import render
from benchmarks.startup import finish_steps, measure_startup, start_steps, summarise_steps
from helpers import paths
from helpers.io import write_text


def _start_smoke_steps(root: Path, scratch: Path) -> subprocess.Popen:
    """Time the kernel and the runner's steps (first notebook only) in a copy of their
    own, alongside the pipeline: the smoke run stays short."""
    other = make_scratch_copy(root, scratch / "steps")
    log("kernel start and the runner's steps (smoke, in the background) ...")
    first = min(other.glob("notebooks/0*.ipynb"))
    return start_steps(other, [first.relative_to(other).as_posix()])


def _stop(*processes: subprocess.Popen | None) -> None:
    """Kill the background processes still running (after an error)."""
    for process in processes:
        if process is not None and process.poll() is None:
            process.kill()
            process.wait()


def _measure_in_scratch(root: Path, repeats: int, smoke: bool, results: dict) -> None:
    """Everything that runs in scratch copies of the project (deleted afterwards)."""
    scratch = Path(tempfile.mkdtemp(prefix="bench-"))
    background = steps = None
    try:
        if smoke:
            # The scaling numbers of a smoke run are not measurements anyway: their
            # process runs alongside the pipeline, which keeps the smoke run short.
            background = scaling.smoke_scaling(scaling.SMOKE_SIZES, scaling.VISITS,
                                               cwd=scratch)
            steps = _start_smoke_steps(root, scratch)
        copy = make_scratch_copy(root, scratch / "project")
        log(f"scratch copy of the project: {copy}")
        results["pipeline"] = measure_pipeline(
            copy, repeats if smoke else max(PAIRED_RUNS, repeats),
            1 if smoke else max(5, repeats))
        results["startup"] = measure_startup(copy, repeats, smoke=smoke)
        if smoke:
            results["startup"].update(summarise_steps([finish_steps(steps)]))
        results["tests"] = None if smoke else measure_make_test(copy, 1)
        results["power"] = measure_power_grid(copy, smoke=smoke)
        results["analysis"] = analysis_scale.measure_analysis(
            analysis_scale.SMOKE_SIZES if smoke else analysis_scale.SIZES, cwd=copy)
        results["pooling"] = pooling.measure_pooling(
            pooling.SMOKE_SIZES if smoke else pooling.SIZES, cwd=copy)
        results["scaling"] = (
            scaling.finish_worker(*background) if background is not None
            else scaling.measure_scaling(scaling.SIZES, scaling.VISITS, repeats, cwd=scratch))
    finally:
        _stop(background[0] if background else None, steps)
        shutil.rmtree(scratch, ignore_errors=True)


def run(*, repeats: int = 3, smoke: bool = False, root: Path | None = None) -> dict:
    """Measure everything.

    Parameters
    ----------
    repeats : int
        Runs per measurement (medians); 1 when ``smoke``.
    smoke : bool
        Tiny sizes, one run, no ``make env`` and no ``make test``.
    root : Path, optional
        The project (default: :data:`helpers.paths.ROOT`); only read.

    Returns
    -------
    dict
        ``date``, ``smoke``, ``repeats``, ``machine``, ``pipeline``, ``startup``,
        ``tests``, ``scaling``, ``env`` and ``first_run`` (full runs only) and ``seconds``, what
        :func:`benchmarks.render.render` writes.
    """
    root = Path(root or paths.ROOT).resolve()
    repeats = 1 if smoke else max(1, repeats)
    results: dict[str, object] = {
        "date": datetime.date.today().isoformat(), "smoke": smoke, "repeats": repeats}
    log("describing the machine ...")
    results["machine"] = machine()
    _measure_in_scratch(root, repeats, smoke, results)
    if not smoke:
        env = measure_make_env(root, min(repeats, 2), cold=True)
        env["cold_tried"] = True
        results["env"] = env
        results["first_run"] = measure_first_run(root, min(repeats, 2))
    results["seconds"] = elapsed()
    return results


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and write the report; return the exit status."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench",
                                     description="Measure speed and memory; write Markdown.")
    parser.add_argument("--output", default="docs/benchmarks.md",
                        help="Markdown file to write (default: docs/benchmarks.md)")
    parser.add_argument("--repeats", type=int, default=3,
                        help="runs per measurement (medians; default 3)")
    parser.add_argument("--readme", default="README.md",
                        help="README whose measured numbers are rewritten (default: "
                             "README.md; '' for none; never by a smoke run)")
    parser.add_argument("--smoke", action="store_true",
                        help="tiny sizes, one run, skip make env and make test (for tests)")
    args = parser.parse_args(argv)
    try:
        results = run(repeats=args.repeats, smoke=args.smoke)
    except BenchError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("error: interrupted; nothing written", file=sys.stderr)
        return 130
    output = Path(args.output)
    output.parent.mkdir(parents=True, exist_ok=True)
    write_text(render(results), output)
    log(f"wrote {output}")
    if args.readme and not args.smoke:
        readme_path = Path(args.readme)
        try:
            write_text(readme.update(readme_path.read_text(encoding="utf-8"), results),
                       readme_path)
        except BenchError as error:
            print(f"error: {error}", file=sys.stderr)
            return 1
        log(f"wrote the measured numbers of {readme_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
