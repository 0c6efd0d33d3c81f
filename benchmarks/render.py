"""docs/benchmarks.md: the results of a run as a Markdown report, and the targets met."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from benchmarks import markdown as md
from benchmarks.harness import median
from benchmarks.power_grid import power_section
from benchmarks.pooling import pooling_section
from benchmarks.render_profile import profile_md
from benchmarks.scaling import OPERATION_LABELS, OPERATIONS, growth

# The targets the project sets itself: make close to the plain-script floor, instant when
# nothing is stale; the statistics linear and fast at 10^6 patients; set-up in seconds.
RATIO_TARGET = 1.25
STALE_TARGET_S = 0.3
# A fresh clone's first `make` (environment, uv cache warm, plus the analysis), and
# `make` from clean outputs once the environment exists.
FIRST_RUN_TARGET_S = 25.0
WARM_RUN_TARGET_S = 10.0
PAIRED_TARGET_S = 5.0
PAIRED_TARGET_BYTES = 4 * 1024**3
# The cohort figures of notebook 03 at 10^6 patients x 3 visits: seconds, not minutes.
FIGURES_TARGET_S = 5.0
FIGURES_TARGET_BYTES = 2 * 1024**3
LINEAR_EXPONENT_MAX = 1.1
ENV_TARGET_S = 60.0
# A user's cohort (make analysis): near its floor at 10^5 patients, and a million
# patients in a minute within 2 GiB on these 2 cores.
COHORT_RATIO_TARGET = 4.0
COHORT_TARGET_S = 60.0
COHORT_TARGET_BYTES = 2 * 1024**3


def _find(rows: Sequence[Mapping], operation: str, patients: int, visits: int):
    return next((r for r in rows if r["operation"] == operation and r["patients"] == patients
                 and r["visits"] == visits), None)


def _first_run_split(first_run: Mapping | None) -> tuple[float | None, str]:
    """The median first `make` of a fresh clone, and its set-up and analysis shares."""
    if not first_run:
        return None, "n/a (skipped)"
    first = median(first_run["runs"])
    setup = median(first_run["env_part"])
    if first is None or setup is None:
        return first, "split not measured"
    return first, f"set-up {md.seconds(setup)}, then the analysis {md.seconds(first - setup)}"


def paired_ratio(pipeline: Mapping) -> float | None:
    """The median of each ``make``'s time over the floor run just before it.

    The machine's speed drifts over minutes (a shared host); a floor run and the ``make``
    run that follows it share its state, so their ratio is steadier than the ratio of
    two medians taken across the whole series.
    """
    ratios = [m / f for f, m in zip(pipeline["floor"], pipeline["make"], strict=False)
              if f and m]
    return median(ratios)


def _pipeline_targets(pipeline: Mapping, first_run: Mapping | None
                      ) -> list[tuple[str, str, bool | None]]:
    make, floor = median(pipeline["make"]), median(pipeline["floor"])
    ratio = paired_ratio(pipeline)
    pairs = min(len(pipeline["make"]), len(pipeline["floor"]))
    stale = median(pipeline["stale"])
    first, split = _first_run_split(first_run)
    first_text = "n/a (skipped)" if first is None else f"{md.seconds(first)} ({split})"
    return [
        (f"`make` from clean outputs / floor ≤ {RATIO_TARGET:.2f}",
         "n/a" if ratio is None else
         (f"{ratio:.2f} (median of {pairs} alternating pairs; medians {md.seconds(make)} / "
          f"{md.seconds(floor)})"),
         None if ratio is None else ratio <= RATIO_TARGET),
        (f"warm `make` from clean outputs ≤ {WARM_RUN_TARGET_S:.0f} s", md.seconds(make),
         None if make is None else make <= WARM_RUN_TARGET_S),
        (f"a fresh clone's first `make` (the environment, uv cache warm, then the whole "
         f"analysis) ≤ {FIRST_RUN_TARGET_S:.0f} s", first_text,
         None if first is None else first <= FIRST_RUN_TARGET_S),
        (f"`make` with nothing stale < {STALE_TARGET_S} s", md.seconds(stale),
         None if stale is None else stale < STALE_TARGET_S),
    ]


def _paired_targets(scaling: Sequence[Mapping]) -> list[tuple[str, str, bool | None]]:
    big = _find(scaling, "paired_tests", 1_000_000, 2)
    grown = [r for r in growth(scaling) if r["operation"] == "paired_tests"
             and r["visits"] == 2 and r["patients"] == 1_000_000 and r["exponent"] is not None]
    last = grown[-1] if grown else None
    return [
        (f"`paired_tests`, 10^6 patients x 3 measures x 2 visits < {PAIRED_TARGET_S:.0f} s",
         md.seconds(big["seconds"]) if big else "n/a (not run at this size)",
         big["seconds"] < PAIRED_TARGET_S if big else None),
        ("… and peak memory < 4 GiB",
         f"{md.gib(big['peak_bytes'])} (whole process)" if big else "n/a",
         big["peak_bytes"] < PAIRED_TARGET_BYTES if big else None),
        ((f"… growing linearly: time ∝ patients^b with b ≤ {LINEAR_EXPONENT_MAX} "
          "between the two largest sizes (10^5 and 10^6 patients)"),
         (f"b = {last['exponent']:.2f} ({last['time_growth']:.1f}x time for "
          f"{last['size_growth']:.0f}x patients)") if last else "n/a",
         last["exponent"] <= LINEAR_EXPONENT_MAX if last else None),
    ]


def _figures_targets(scaling: Sequence[Mapping]) -> list[tuple[str, str, bool | None]]:
    big = _find(scaling, "figures", 1_000_000, 3)
    return [
        (f"cohort figures of notebook 03 (slope charts + waterfall, shown and saved as "
         f"PNG at 300 dpi + SVG), 10^6 patients x 3 visits < {FIGURES_TARGET_S:.0f} s",
         md.seconds(big["seconds"]) if big else "n/a (not run at this size)",
         big["seconds"] < FIGURES_TARGET_S if big else None),
        ("… and peak memory < 2 GiB",
         f"{md.gib(big['peak_bytes'])} (whole process)" if big else "n/a",
         big["peak_bytes"] < FIGURES_TARGET_BYTES if big else None),
    ]


def _cohort_targets(rows: Sequence[Mapping] | None) -> list[tuple[str, str, bool | None]]:
    rows = rows or []
    mid = next((r for r in rows if r["patients"] == 100_000 and "floor_seconds" in r), None)
    big = next((r for r in rows if r["patients"] == 1_000_000), None)
    ratio = mid["seconds"] / mid["floor_seconds"] if mid else None
    return [
        (f"`make analysis`, 10^5 patients x 3 visits, over its floor ≤ "
         f"{COHORT_RATIO_TARGET:.0f}",
         f"{ratio:.1f} ({md.seconds(mid['seconds'])} / {md.seconds(mid['floor_seconds'])})"
         if mid else "n/a (not run at this size)",
         None if ratio is None else ratio <= COHORT_RATIO_TARGET),
        (f"`make analysis`, 10^6 patients x 3 visits ≤ {COHORT_TARGET_S:.0f} s",
         md.seconds(big["seconds"]) if big else "n/a (not run at this size)",
         big["seconds"] <= COHORT_TARGET_S if big else None),
        ("… and peak memory ≤ 2 GiB",
         f"{md.gib(big['peak_bytes'])} (largest process)" if big else "n/a",
         big["peak_bytes"] <= COHORT_TARGET_BYTES if big else None),
    ]


def targets(results: Mapping) -> list[tuple[str, str, bool | None]]:
    """Judge the targets from the numbers.

    Parameters
    ----------
    results : mapping
        What :func:`benchmarks.bench.run` returned.

    Returns
    -------
    list of tuple
        (target, measured, met) for the targets table; met is ``None`` when not measured.
    """
    env = results.get("env")
    warm = median(env["warm"]) if env else None
    return [*_pipeline_targets(results["pipeline"], results.get("first_run")),
            *_paired_targets(results["scaling"]),
            *_figures_targets(results["scaling"]),
            *_cohort_targets(results.get("analysis")),
            (f"`make env` (fresh, uv cache warm): seconds, not minutes (< {ENV_TARGET_S:.0f} s)",
             md.seconds(warm) if warm is not None else "n/a (skipped)",
             None if warm is None else warm < ENV_TARGET_S)]


# ---------------------------------------------------------------------------------------
# Sections
# ---------------------------------------------------------------------------------------


def _machine_md(info: Mapping) -> str:
    cpus = info.get("logical_cpus")
    usable = info.get("usable_cpus")
    packages = ", ".join(f"{k} {v}" for k, v in info.get("packages", {}).items())
    lines = [
        f"- CPU: {info.get('cpu')}, {cpus} logical CPUs"
        + (f" ({usable} usable by this process)" if usable and usable != cpus else ""),
        (f"- Memory: {info['memory_bytes'] / 2**30:.1f} GiB" if info.get("memory_bytes")
         else "- Memory: unknown"),
        f"- OS: {info.get('os')}",
        f"- Python {info.get('python')}; {info.get('make')}; {info.get('uv') or 'no uv on PATH'}",
        f"- Packages: {packages}",
    ]
    return "\n".join(lines)


def _head(results: Mapping) -> list[str]:
    smoke = results.get("smoke")
    return [
        "# Benchmarks", "",
        (f"Measured by `make bench` (`python -m benchmarks.bench`) on {results['date']}, "
         f"in {results['seconds'] / 60:.1f} minutes"
         + (" — **smoke run: tiny sizes, one run, not a measurement**" if smoke else "")
         + ". Regenerate with `make bench`; do not edit by hand."), "",
        "## Machine", "", _machine_md(results["machine"]), "",
        "## Targets", "", md.table(["target", "measured", "met"],
                                   [(t, m, md.yes(ok)) for t, m, ok in targets(results)],
                                   "lrl"), ""]


def _env_section(env: Mapping | None) -> list[str]:
    lines = ["## `make env`: fresh set-up", ""]
    if not env:
        return [*lines, "Skipped in this run (`--smoke`).", ""]
    cold = env.get("cold")
    if cold is not None:
        cold_text = md.runs([cold])
    elif env.get("cold_tried"):
        cold_text = f"> {env['cold_timeout']:.0f} s (stopped)"
    else:
        cold_text = "not measured"
    return [*lines, md.table(["set-up", "time"], [
        ["`make env` in an empty folder, uv cache warm (packages already downloaded)",
         md.runs(env["warm"])],
        ["`make env` in an empty folder, uv cache empty (everything from PyPI)", cold_text],
    ]), "", ("`make env` runs `scripts/setup-env`: a new `.venv` (without pip), `uv pip "
             "sync` of the hash-pinned `requirements.lock` and the editable `helpers` "
             "package, the bytecode of the analysis's packages and the Jupyter kernel, in "
             "a scratch folder deleted afterwards."), ""]


def _first_run_section(first_run: Mapping | None) -> list[str]:
    lines = ["## A fresh clone's first `make`, and what bytecode is worth", ""]
    if not first_run:
        return [*lines, "Skipped in this run (`--smoke`).", ""]
    _, split = _first_run_split(first_run)
    compiled = first_run.get("bytecode") or {}
    imports, make = first_run["imports"], first_run["make"]
    saved_imports = (median(imports["without"]) - median(imports["with"])
                     if imports["with"] and imports["without"] else None)
    saved_make = (median(make["without"]) - median(make["with"])
                  if make["with"] and make["without"] else None)
    return [*lines, md.table(["run", "time"], [
        ["`make` in a fresh clone (no `.venv`; outputs removed): the environment, then the "
         "whole analysis", f"{md.runs(first_run['runs'])}; {split}"],
        [f"… of which compiling the bytecode of the analysis's packages "
         f"({compiled.get('files', 0):,} files, `scripts/compile_bytecode.py`)",
         md.seconds(compiled.get("seconds"))],
        ["the development tools' bytecode, once, before the first `make test` or `make lab` "
         "(`make .venv/.bytecode-dev`)", md.seconds(first_run.get("dev_bytecode"))],
        ["bare imports (`import pandas, scipy.stats, matplotlib.pyplot`), with the "
         "environment's bytecode", md.runs(imports["with"])],
        ["… with every `__pycache__` of the packages removed", md.runs(imports["without"])],
        ["`make` from clean outputs, with the environment's bytecode", md.runs(make["with"])],
        ["… with every `__pycache__` of the packages removed", md.runs(make["without"])],
        ["saved on every run by compiling at set-up: imports / `make` from clean outputs",
         f"{md.seconds(saved_imports)} / {md.seconds(saved_make)}"],
    ]), "", ("The project is copied without `.venv` (as a fresh clone), its outputs are "
             "removed, and `make` runs there with uv's cache warm; the set-up share ends "
             "at `scripts/setup-env`'s last line. `PYTHONDONTWRITEBYTECODE=1` throughout "
             "(as in many containers and CI images): without compiled bytecode every run "
             "compiles every module it imports again. Set-up compiles what the analysis "
             "imports (the runtime dependencies of `pyproject.toml` and theirs, plus the "
             "optional imports it makes when they are installed, package test suites "
             "left out); the rest waits for the targets that need it."), ""]


def _pipeline_section(pipeline: Mapping, startup: Mapping) -> list[str]:
    make, floor = median(pipeline["make"]), median(pipeline["floor"])
    ratio = f"{make / floor:.2f}" if make and floor else "n/a"
    paired = paired_ratio(pipeline)
    ratios = ", ".join(f"{m / f:.2f}" for f, m in zip(pipeline["floor"], pipeline["make"],
                                                     strict=False) if f and m)
    return ["## `make` from clean outputs, against its floor", "", md.table(["run", "time"], [
        [("`make clean && make` (every notebook in one shared kernel, then the report); "
          "`make` timed"), md.runs(pipeline["make"])],
        [(f"floor: the notebooks' code cells as one plain Python script "
          f"({pipeline.get('floor_lines', 0)} lines), one interpreter"),
         md.runs(pipeline["floor"])],
        [("ratio: the median of each `make` over the floor run just before it (the "
          "target's measure)"),
         "n/a" if paired is None else f"{paired:.2f} ({ratios})"],
        ["ratio of the medians", ratio],
        [("bare import floor: `import pandas, scipy.stats, matplotlib.pyplot` in a fresh "
          "interpreter, what no project on these libraries can start below"),
         md.seconds(startup.get("import_floor"))],
    ]), "", ("Both run in the same scratch copy of the project, alternately, each after "
             "`make clean`. The floor is every code cell of `notebooks/0*_*.ipynb`, in "
             "order, each notebook with its `parameters` cell, concatenated into one "
             "script with `display` defined as a no-op (plain Python has no rich display) "
             "and the notebooks' import statements also run once at the top (so the "
             "timeline separates imports from computation; the notebooks' own import "
             "lines are then no-ops), run by `.venv/bin/python` with `MPLBACKEND=Agg`: the "
             "same computations and the same files written, without Jupyter, papermill, "
             "the executed notebooks or the HTML report."), "",
        "## `make` with nothing stale", "",
        md.table(["run", "time"], [["`make` after a complete run", md.runs(pipeline["stale"])]]),
        "", f"make's answer: `{pipeline.get('stale_output', '')}`", ""]


def _tests_section(tests: Mapping | None) -> list[str]:
    lines = ["## `make test`", ""]
    if not tests:
        return [*lines, "Skipped in this run (`--smoke`).", ""]
    row = ["`make test` (pytest: unit tests, nbval, end-to-end reproducibility in clones)",
           md.runs(tests["runs"])]
    return [*lines, md.table(["run", "time"], [row]), "",
            f"pytest's summary: `{tests.get('summary')}` (exit status {tests.get('status')}).",
            ""]


def _operation_table(op: str, rows: Sequence[Mapping], grown: Sequence[Mapping]) -> list[str]:
    """One operation's rows (grown: with their growth), under its title."""
    table = []
    for row in [r for r in grown if r["operation"] == op]:
        times = row.get("times") or [row["seconds"]]
        table.append([
            f"{row['patients']:,}", row["visits"], f"{row['rows']:,}",
            md.seconds(row["seconds"]) + (f" ({len(times)} runs)" if len(times) > 1
                                          else " (1 run)"),
            f"{row['seconds'] / row['rows'] * 1e6:.2f}",
            ("—" if row["time_growth"] is None
             else f"{row['time_growth']:.1f}x (b = {row['exponent']:.2f})"),
            md.mib(row["peak_bytes"]), md.mib(row["added_bytes"]),
        ] + ([md.seconds(row.get("save_seconds")), md.seconds(row.get("prepare_seconds"))]
             if op == "figures" else []))
    header = ["patients", "visits", "rows", "time (median)", "µs per row",
              "time growth vs previous size", "peak RSS (process)", "added by the call"]
    if op == "figures":
        header += ["of which shown and saved", "responder table (before, not timed)"]
    dpis = sorted({r.get("dpi") for r in rows if r["operation"] == op and r.get("dpi")})
    title = OPERATION_LABELS[op] + (f" at {', '.join(map(str, dpis))} dpi"
                                    if op == "figures" and dpis else "")
    return [f"### {title}", "", md.table(header, table), ""]


def _scaling_md(rows: Sequence[Mapping]) -> str:
    if not rows:
        return "Not run."
    grown = growth(rows)
    text = [line for op in OPERATIONS for line in _operation_table(op, rows, grown)]
    cohort = {(r["patients"], r["visits"]): r["cohort_seconds"] for r in rows}
    text += ["Building the cohorts (`make_cohort`, not part of the timings): "
             + ", ".join(f"{n:,} x {v} visits {md.seconds(s)}"
                         for (n, v), s in sorted(cohort.items()))
             + "."]
    warned = sorted({(r["operation"], r["patients"], r["visits"], w) for r in rows
                     for w in r.get("warnings", [])})
    if warned:
        text += ["", "Warnings raised during the calls:", ""]
        text += [f"- {op}, {n:,} patients x {v} visits: `{w[:200]}`"
                 for op, n, v, w in warned]
    return "\n".join(text)


def _scaling_section(results: Mapping) -> list[str]:
    return ["## Scaling: synthetic cohorts", "",
            ("`helpers.synth.make_cohort(n, visits=k, seed=0)` (3 measures: SLEDAI-2K, "
             "DAS28, glucocorticoid dose; rows = n x 3 x k). Each operation runs in a "
             "fresh process"
             + (" (smoke: one process for all, alongside the pipeline)"
                if results.get("smoke") else "")
             + "; time is the median of the runs shown. Peak RSS is the process's high-water"
             " mark during the call (`VmHWM`, reset before each call through "
             "`/proc/self/clear_refs`): interpreter, libraries, the cohort and the call's "
             "working memory; *added by the call* is that peak minus the resident size "
             "just before the call. Growth compares with the previous size: as much more time "
             "as more patients is linear, b is the exponent of time ∝ patients^b (1 = "
             "linear). At small sizes fixed costs dominate, so b < 1 there; the step from "
             "10^5 to 10^6 patients is the one that shows how the work grows."), "",
            ("The cohort figures are those notebook 03 draws, drawn the same way: the "
             "slope charts of the three measures in one figure and the DAS28 waterfall of "
             "the responder table, each rendered as the notebook displays it (PNG at the "
             "figure's 150 dpi, cropped) and saved by `save_and_show` as PNG at 300 dpi and "
             "SVG. Above 300 patients (`MAX_INDIVIDUAL_PATIENTS`) they draw distributions "
             "(median and percentile ribbons; a histogram of change) instead of one mark "
             "per patient. The responder table is statistics, computed before the timed "
             "call; its time is in the last column."), "",
            _scaling_md(results["scaling"]), ""]


def _analysis_section(rows: Sequence[Mapping] | None) -> list[str]:
    lines = ["## `make analysis`: a cohort end to end", ""]
    if not rows:
        return [*lines, "Not run.", ""]
    table = []
    for row in growth(rows):
        notebooks = ", ".join(f"{name} {md.seconds(t)}"
                              for name, t in sorted(row.get("notebooks", {}).items()))
        floor = row.get("floor_seconds")
        table.append([f"{row['patients']:,}", row["visits"], f"{row['rows']:,}",
                      md.seconds(row["seconds"]), notebooks or "—",
                      "—" if row["exponent"] is None else
                      f"{row['time_growth']:.1f}x (b = {row['exponent']:.2f})",
                      md.mib(row["peak_bytes"]),
                      md.seconds(floor) if floor else "—",
                      f"{row['seconds'] / floor:.1f}" if floor else "—",
                      md.mib(row["floor_peak_bytes"]) if floor else "—"])
    return [*lines, ("`python -m helpers.pipeline.cohort` (what `make analysis` runs) on "
                     "`make_cohort(n, visits=3, seed=1, missing_rate=0.02)` written as CSV "
                     "(writing it is not timed): reading, validating and converting the "
                     "file, notebooks 02 and 03 in one Jupyter kernel, the report. One run "
                     "per size, each in a fresh process; peak memory is the largest "
                     "resident set of any process of the run (the runner or the kernel). "
                     "Beside each run, its floor on the same file (run right after it): "
                     "pandas reads the CSV with its pyarrow engine, `paired_tests` compares "
                     "each follow-up with baseline and the table is written, in one plain "
                     "process (`benchmarks/probes/cohort_floor.py`, timed whole)."),
            "", md.table(["patients", "visits", "rows", "time", "of which notebooks",
                          "time growth vs previous size", "peak RSS (largest process)",
                          "floor", "time / floor", "floor peak RSS"], table), ""]


def _profile_section(results: Mapping) -> list[str]:
    return ["## Profile: `make` against its floor", "",
            ("The `make` timeline comes from the runner's progress lines (`running ...`, "
             "`done in ...`, `wrote ...html`), time-stamped as they arrive; the floor's from "
             "marks it prints after its imports and after each notebook's code. The parts are "
             "those of the median run of each (for an even number of runs, the lower "
             "middle one), so they add up to its total."), "",
            profile_md(results["pipeline"], results.get("startup", {})), ""]


_METHOD = [
    "## Method", "",
    ("- Wall-clock time (`time.perf_counter`) around `subprocess.run` of each "
     "command; medians of the runs stated (`--repeats`, default 3; `make` from clean "
     "outputs and its floor at least 5 alternating pairs, `make` with nothing stale at "
     "least 5 runs). The host is shared and its speed drifts by tens of percent over "
     "minutes: compare rows measured side by side, not across runs of `make bench`."),
    ("- The pipeline runs in a scratch copy of the project (the files git tracks "
     "or would track, with `.git`), whose `.venv` links to the checkout's "
     "environment and with `ANIFROLUMAB_ROOT` pointing the notebooks at the copy: "
     "the checkout's outputs and timestamps are never touched."),
    ("- `make env` runs in an empty scratch folder holding only what set-up needs "
     "(Makefile, pyproject.toml, requirements.lock, README.md, scripts/, src/); a fresh "
     "clone's first `make` in a copy of the project without `.venv`."),
    ("- Benchmarks are not tests: nothing fails because a machine is slow. Before it "
     "measures, `make bench` runs `python -m benchmarks.bench --smoke` through "
     "`tests/test_bench.py`, which checks this document's structure only."), ""]


def render(results: Mapping) -> str:
    """Write docs/benchmarks.md.

    Parameters
    ----------
    results : mapping
        What :func:`benchmarks.bench.run` returned.

    Returns
    -------
    str
        The document: machine, targets, ``make env``, a fresh clone's first ``make``
        and the bytecode's worth, ``make`` against its floor,
        ``make`` with nothing stale, ``make test``, scaling, profile and method.
    """
    return "\n".join([*_head(results), *_env_section(results.get("env")),
                      *_first_run_section(results.get("first_run")),
                      *_pipeline_section(results["pipeline"], results.get("startup", {})),
                      *_tests_section(results.get("tests")),
                      *power_section(results.get("power")), *_scaling_section(results),
                      *_analysis_section(results.get("analysis")),
                      *pooling_section(results.get("pooling")),
                      *_profile_section(results), *_METHOD])
