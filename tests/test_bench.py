"""The benchmark (``make bench``) keeps working: its pieces, and a smoke-sized run.

Benchmarks are not timed tests: nothing here asserts a duration, only that every
measurement is made and reported, and that the checkout is left untouched.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks import harness, pipeline, render, scaling
from helpers import paths

SECTIONS = [
    "# Benchmarks",
    "## Machine",
    "## Targets",
    "## `make env`: fresh set-up",
    "## A fresh clone's first `make`, and what bytecode is worth",
    "## `make` from clean outputs, against its floor",
    "## `make` with nothing stale",
    "## `make test`",
    "## Power simulation: one process and Dask worker processes",
    "## Scaling: synthetic cohorts",
    "## `make analysis`: a cohort end to end",
    "## `make pool`: many centres",
    "## Profile: `make` against its floor",
    "## Method",
]
TARGETS = ["`make` from clean outputs / floor", "warm `make` from clean outputs",
           "a fresh clone's first `make`", "`make` with nothing stale",
           "`paired_tests`, 10^6 patients", "peak memory < 4 GiB", "growing linearly",
           "cohort figures of notebook 03", "peak memory < 2 GiB",
           "`make analysis`, 10^5 patients x 3 visits, over its floor",
           "`make analysis`, 10^6 patients x 3 visits", "peak memory ≤ 2 GiB", "`make env`"]
NOTEBOOKS = sorted(paths.NOTEBOOKS.glob("0*.ipynb"))
# Where `python -m benchmarks.bench` runs from (benchmarks/ is not an installed package).
PROJECT = Path(__file__).resolve().parents[1]


def _rows(text: str, heading: str) -> list[str]:
    """The data rows of the first table after ``heading``."""
    lines = text.split(heading, 1)[1].splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("|"))
    table = []
    for line in lines[start + 2:]:  # after the header and the rule
        if not line.startswith("|"):
            break
        table.append(line)
    return table


def test_floor_script_is_every_code_cell_in_order_as_plain_python():
    script = pipeline.floor_script(NOTEBOOKS, paths.ROOT)
    compile(script, "floor.py", "exec")
    assert "def display(" in script  # a no-op: plain Python has no rich display
    imports = script.index('_bench_mark("imports")')
    assert pipeline.import_statements(script[:imports]), "the imports come first"
    position = 0
    for notebook in NOTEBOOKS:
        cells = [c for c in json.loads(notebook.read_text())["cells"]
                 if c["cell_type"] == "code"]
        for cell in cells:
            source = pipeline._cell_source(cell)
            found = script.find(source, position)
            assert found >= position, f"{notebook.name}: a cell is missing or out of order"
            position = found + len(source)
        mark = f"_bench_mark({notebook.relative_to(paths.ROOT).as_posix()!r})"
        assert script.find(mark, position) >= position
    assert pipeline.import_statements(script), "the notebooks import something"


def test_magics_become_pass():
    assert pipeline._strip_magics("x = 1\n%matplotlib inline\n  !ls") == (
        "x = 1\npass  # %matplotlib inline\n  pass  # !ls")


def test_timelines_add_up_to_the_total():
    lines = [(0.01, ".venv/bin/python -m helpers.pipeline.notebooks run ..."),
             (3.0, "running notebooks/01_clean.ipynb -> notebooks/01_clean.ipynb"),
             (10.0, "  done in 7.0 s"),
             (10.1, "running notebooks/02_prepost.ipynb -> notebooks/02_prepost.ipynb"),
             (11.0, "  done in 0.9 s"),
             (11.6, "wrote reports/report.html")]
    timeline = pipeline.make_timeline(lines, 12.0)
    assert timeline["startup"] == 3.0
    assert [name for name, _ in timeline["notebooks"]] == ["notebooks/01_clean.ipynb",
                                                           "notebooks/02_prepost.ipynb"]
    parts = [timeline["startup"], *(s for _, s in timeline["notebooks"]), timeline["report"],
             timeline["exit"]]
    assert sum(parts) == pytest.approx(12.0)

    floor = pipeline.floor_timeline([(0.02, "@bench start"), (1.5, "@bench imports"),
                                     (2.0, "@bench notebooks/01.ipynb"), (2.5, "a warning"),
                                     (3.0, "@bench notebooks/02.ipynb")], 3.4)
    assert floor["startup"] == 0.02
    assert floor["imports"] == pytest.approx(1.48)
    assert floor["notebooks"] == [("notebooks/01.ipynb", pytest.approx(0.5)),
                                  ("notebooks/02.ipynb", pytest.approx(1.0))]
    assert floor["exit"] == pytest.approx(0.4)


def test_the_floor_prelude_prints_the_marks_its_timeline_reads():
    result = subprocess.run([sys.executable, str(pipeline.FLOOR_PRELUDE)], capture_output=True,
                            text=True, check=True)
    lines = [(0.01, line) for line in result.stderr.splitlines()]
    assert pipeline.floor_timeline(lines, 0.02)["startup"] == 0.01


def test_the_import_probes_run(tmp_path):
    env = harness.clean_env()
    seconds = harness.run_python([str(harness.PROBES / "import_seconds.py"), "json", "csv"],
                                 cwd=tmp_path, env=env).stdout
    assert float(seconds) >= 0
    spec = json.dumps({"imports": ["import json", "from os import path"],
                       "warm": ["json", "csv"]})
    found = json.loads(harness.run_python([str(harness.PROBES / "unused_imports.py"), spec],
                                          cwd=tmp_path, env=env).stdout)
    assert found["unused"] == ["csv"] and found["unused_seconds"] >= 0


def test_growth_exponent_is_one_when_linear():
    rows = [{"operation": "paired_tests", "visits": 2, "patients": n, "seconds": n * 1e-6}
            for n in (100, 10_000, 1_000_000)]
    grown = scaling.growth(rows)
    assert grown[0]["exponent"] is None
    assert [r["exponent"] for r in grown[1:]] == [pytest.approx(1.0)] * 2
    assert grown[2]["time_growth"] == pytest.approx(100.0)


def test_the_profile_is_the_median_runs():
    timelines = [{"run": 1}, {"run": 2}, {"run": 3}, {"run": 4}]
    assert pipeline.median_run([3.0, 1.0, 2.0], timelines[:3]) == {"run": 3}
    assert pipeline.median_run([4.0, 1.0, 3.0, 2.0], timelines) == {"run": 4}


def _fake_results(ratio_make: float = 9.0) -> dict:
    rows = []
    for v in scaling.VISITS:
        for n in scaling.SIZES:
            for op in scaling.OPERATIONS:
                rows.append({"operation": op, "patients": n, "visits": v,
                             "rows": n * 3 * v, "cohort_seconds": 0.1, "times": [n * 1e-6],
                             "seconds": n * 1e-6 + 0.01, "peak_bytes": 2**28 + n * 1000,
                             "added_bytes": n * 1000, "save_seconds": 0.5,
                             "prepare_seconds": 0.1 if op == "figures" else None, "dpi": 300,
                             "warnings": []})
    timeline = {"startup": 1.0, "notebooks": [("notebooks/01_clean.ipynb", 7.3)],
                "report": 0.5, "exit": 0.2}
    return {
        "date": "2026-01-01", "smoke": False, "seconds": 600.0, "repeats": 3,
        "machine": {"cpu": "Test CPU", "logical_cpus": 2, "memory_bytes": 2**34,
                    "os": "Linux", "python": "3.11.7", "make": "GNU Make 4.3", "uv": "uv",
                    "packages": {"pandas": "2.2"}},
        "pipeline": {"make": [ratio_make] * 3, "floor": [7.5] * 3, "stale": [0.005] * 5,
                     "stale_output": "make: Nothing to be done for 'all'.",
                     "make_timelines": [timeline] * 3,
                     "floor_timelines": [{"startup": 0.01, "imports": 5.5,
                                          "notebooks": [("notebooks/01_clean.ipynb", 1.7)],
                                          "exit": 0.29}] * 3, "floor_lines": 200},
        "startup": {"interpreter": 0.01, "import_floor": 3.1, "runner_imports": 2.0, "science_imports": 3.0,
                    "kernel_launch": 0.2, "kernel_ready": 4.0,
                    "warm_modules": ["pandas"], "warm_unused": [], "warm_unused_seconds": 0.0,
                    "runner_import_top": [{"module": "pandas", "self": 0.1,
                                           "cumulative": 1.0}],
                    "notebook_steps": [{"notebook": "notebooks/01_clean.ipynb",
                                        "inspect": 0.03, "reset": 0.2, "execute": 0.7,
                                        "cells": 0.5, "write": 0.01}]},
        "tests": {"runs": [45.0], "summary": "300 passed in 44.0s", "status": 0},
        "scaling": rows,
        "env": {"warm": [8.0, 9.0], "cold": 40.0, "cold_timeout": 180.0, "cold_tried": True},
        "first_run": {"runs": [19.0, 20.0], "env_part": [9.0, 10.0],
                      "bytecode": {"files": 5000, "seconds": 5.5}, "dev_bytecode": 2.2,
                      "imports": {"with": [1.5], "without": [4.8]},
                      "make": {"with": [10.0], "without": [15.0]}},
        "analysis": [{"operation": "make analysis", "patients": n, "visits": 3,
                      "rows": n * 9, "seconds": 5.0 + n * 2e-5, "peak_bytes": 2**28 + n * 500,
                      "notebooks": {"02_prepost": 1.0, "03_figures": 2.0},
                      "floor_seconds": 2.0 + n * 1e-5, "floor_peak_bytes": 2**27 + n * 300}
                     for n in (10_000, 100_000, 1_000_000)],
    }


def test_the_ratio_target_pairs_each_make_with_the_floor_before_it():
    # A host slower for the second pair: the ratio of the medians (8.4 / 6.0 = 1.4)
    # mixes its two speeds; each pair shares one (7.2/6, 8.4/6, 8.4/7: median 1.2).
    pipeline = {"floor": [6.0, 6.0, 7.0], "make": [7.2, 8.4, 8.4]}
    assert render.paired_ratio(pipeline) == pytest.approx(1.2)
    assert render.targets({**_fake_results(), "pipeline": {
        **_fake_results()["pipeline"], **pipeline}})[0][2] is True
    assert render.paired_ratio({"floor": [], "make": []}) is None


def test_targets_are_judged_from_the_numbers():
    met = {target: ok for target, _, ok in render.targets(_fake_results(9.0))}
    assert all(met.values()), met
    # A cohort run 5x its floor at 10^5 patients misses the cohort ratio target.
    slow = _fake_results(9.0)
    for row in slow["analysis"]:
        row["floor_seconds"] = row["seconds"] / 5
    cohort = {t: ok for t, _, ok in render.targets(slow) if "over its floor" in t}
    assert list(cohort.values()) == [False]
    missed = {target: ok for target, _, ok in render.targets(_fake_results(11.0))}
    assert [ok for target, ok in missed.items() if "`make` from clean outputs / floor" in target
            ] == [False]


def test_render_has_every_section_and_target():
    text = render.render(_fake_results())
    first = _rows(text, "## A fresh clone's first `make`")
    assert "19.5 s (median of 2; 19.0 s–20.0 s); set-up 9.50 s, then the analysis 10.0 s" in first[0]
    assert first[-1].endswith("| 3.30 s / 5.00 s |")  # saved per run: 4.8-1.5, 15-10
    for heading in SECTIONS:
        assert f"\n{heading}\n" in f"\n{text}"
    # The profile: until the work can start, the work, report, exit, sum, total; its
    # parts add up to the total.
    profile = _rows(text, "## Profile: `make` against its floor")
    assert len(profile) == 6
    assert "**9.00 s**" in profile[4] and "**What is left.**" in text
    steps = _rows(text, "Inside the notebooks' time")
    assert len(steps) == 2 and steps[1].startswith("| **all** |")
    targets = _rows(text, "## Targets")
    assert len(targets) == len(TARGETS)
    for target, row in zip(TARGETS, targets):
        assert target in row and row.endswith("| **yes** |")


@pytest.mark.bench
def test_smoke_run_measures_and_reports_everything(tmp_path):
    """``python -m benchmarks.bench --smoke``: every section, a row per measurement, the
    checkout untouched (about half a minute: it runs make in a scratch copy)."""
    outputs = [*NOTEBOOKS, *paths.DATA_PROCESSED.glob("*"), *paths.TABLES.glob("*"),
               *paths.FIGURES.glob("*")]
    before = {p: p.stat().st_mtime_ns for p in outputs}
    output = tmp_path / "docs" / "benchmarks.md"
    result = subprocess.run([sys.executable, "-m", "benchmarks.bench", "--smoke", "--output",
                             str(output)], cwd=PROJECT, capture_output=True, text=True,
                            timeout=900, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "make from clean outputs" in result.stderr  # progress is reported
    text = output.read_text(encoding="utf-8")

    for heading in SECTIONS:
        assert f"\n{heading}\n" in f"\n{text}", heading
    assert "smoke run" in text
    targets = _rows(text, "## Targets")
    assert len(targets) == len(TARGETS)
    for target, row in zip(TARGETS, targets):
        assert target in row

    pipeline = _rows(text, "## `make` from clean outputs, against its floor")
    assert [row.split("|")[1].strip()[:6] for row in pipeline] == ["`make ", "floor:",
                                                                  "ratio:", "ratio ",
                                                                  "bare i"]
    assert "n/a" not in pipeline[4]  # the bare import floor was measured
    analysis = _rows(text, "## `make analysis`: a cohort end to end")
    assert [int(r.split("|")[1].replace(",", "")) for r in analysis] == [200]
    assert len(_rows(text, "## `make` with nothing stale")) == 1

    for label in scaling.OPERATION_LABELS.values():
        rows = _rows(text, f"### {label}")
        sizes = [(int(r.split("|")[1].replace(",", "")), int(r.split("|")[2])) for r in rows]
        assert sizes == [(n, v) for v in scaling.VISITS for n in scaling.SMOKE_SIZES], label

    profile = _rows(text, "## Profile: `make` against its floor")
    assert len(profile) == 6  # start-up, imports and notebooks, report, exit, sum, total
    assert "n/a" not in " ".join(profile[:2])  # both timelines were parsed
    per_notebook = _rows(text, "Per notebook")
    assert len(per_notebook) == len(NOTEBOOKS)
    steps = _rows(text, "Inside the notebooks' time")  # smoke: the first notebook only
    assert len(steps) == 2 and "n/a" not in " ".join(steps)
    isolated = _rows(text, "Start-up costs in isolation")
    assert all("n/a" not in row for row in isolated if "kernel:" in row)
    assert "**What is left.**" in text

    assert {p: p.stat().st_mtime_ns for p in outputs} == before, "the checkout was touched"


def test_make_env_scratch_folder_has_every_prerequisite():
    """`make env` in the benchmark's scratch folder needs every file its Makefile rule
    names (a missing one stopped a full `make bench` after 19 minutes)."""
    import re

    from benchmarks import environment

    rule = re.search(r"^\$\(ENV\):(.*)$", (PROJECT / "Makefile").read_text(), re.M)
    prerequisites = rule.group(1).split()
    assert prerequisites and set(prerequisites) <= set(environment._SETUP_FILES)


def test_make_bench_writes_the_readme_numbers_it_measured():
    """The README's measured numbers are written by the run that measured them: each
    block between its markers, computed from the results; what a run did not measure is
    kept; a README without the markers is refused."""
    from benchmarks import readme
    from benchmarks.harness import BenchError

    results = _fake_results()
    results["power"] = {"reps": 50_000, "clusters": [
        {"workers": w, "runs": [{"one_process": 10.0, "cluster": 10.0 / s} for s in speeds]}
        for w, speeds in ((1, (0.9, 1.0, 0.95)), (2, (2.1, 1.8, 1.9)), (4, (1.7, 1.8, 1.6)))]}
    text = ("<!-- make bench: make -->old<!-- /make bench: make --> "
            "intro **Limits** <!-- make bench: limits -->old<!-- /make bench: limits --> "
            "and <!-- make bench: power -->old<!-- /make bench: power --> end")
    written = readme.update(text, results)
    assert "intro **Limits** <!-- make bench: limits -->(`make bench`" in written
    # make: the fake runs are 9 s against a 7.5 s floor (1.2 times), first make 19.5 s.
    assert "first `make` takes 19.5 s (the environment 9.50 s" in written
    assert "takes 9.00 s against 7.50 s" in written and "1.20 times (the median of 3" in written
    assert written.endswith("<!-- /make bench: power --> end")
    # 10^5: 5 + 2 = 7 s against a 2 + 1 = 3 s floor; 10^6: 25 s against 12 s.
    assert "10^5 patients 7.00 s (2.3 times its floor" in written
    assert "10^6 patients (9 million rows) 25.0 s (2.1 times its floor)" in written
    assert "run it 1.90 times as fast as one process" in written  # the median pair
    assert "1 worker 0.95 times, 4 workers 1.70 times" in written
    unmeasured = readme.update(text, {**results, "analysis": [], "power": None,
                                      "pipeline": None})
    assert unmeasured == text
    with pytest.raises(BenchError, match="make bench: make"):
        readme.update("no markers", results)
    # The project's README has both blocks.
    readme.update((PROJECT / "README.md").read_text(encoding="utf-8"), results)
