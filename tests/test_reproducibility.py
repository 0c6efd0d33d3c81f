"""End-to-end promises, each in a fresh clone of the repository.

- after ``make clean``, ``make`` reproduces every committed output byte for byte (``git
  status`` clean) with ``data/raw`` read-only, and a second ``make`` has nothing to do;
- a run killed in the middle of a notebook leaves the committed outputs intact, and the
  next ``make`` completes;
- a changed raw file stops ``make`` with a clear error and changes nothing;
- ``make analysis`` runs a user's cohort into its own folder, touching nothing committed.

The clone links ``.venv`` to this checkout's environment and ``ANIFROLUMAB_ROOT`` points
the helpers at the clone, so nothing here writes into the working tree.
"""

from __future__ import annotations

import io
import os
import signal
import stat
import subprocess
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from conftest import git_status, make_clone
from helpers.io import write_csv
from helpers.synth import make_cohort

pytestmark = pytest.mark.slow


def _run(args, cwd, **kwargs):
    env = dict(os.environ, ANIFROLUMAB_ROOT=str(cwd))
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=600, **kwargs)


def _make_read_only(folder: Path, request) -> str:
    """Make ``folder`` and its files unwritable, even for root where possible.

    Permission bits do not stop root, so the immutable attribute (chattr +i) is used when
    the file system allows it; returns which mechanism applied.
    """
    files = [*folder.iterdir(), folder]
    for path in files:
        path.chmod(path.stat().st_mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
    if os.geteuid() != 0:
        return "permissions"
    result = subprocess.run(["chattr", "+i", *map(str, files)], capture_output=True)
    if result.returncode != 0:
        return "permissions (chattr unavailable; root can still write)"
    request.addfinalizer(lambda: subprocess.run(["chattr", "-i", *map(str, files)]))
    return "immutable"


class _Rebuild:
    """A clone after ``make clean`` then ``make``, with ``data/raw`` made read-only."""

    def __init__(self, clone: Path, request):
        self.clone = clone
        self.mechanism = _make_read_only(clone / "data" / "raw", request)
        self.raw_before = {p.name: p.read_bytes() for p in (clone / "data" / "raw").iterdir()}
        self.clean = _run(["make", "clean"], clone)
        self.cleaned = not (clone / "data" / "processed" / "measurements.csv").exists()
        self.make = _run(["make"], clone)


@pytest.fixture(scope="session")
def rebuild(tmp_path_factory, request):
    """One clean rebuild, shared by the tests that check it (it is the costly part)."""
    return _Rebuild(make_clone(tmp_path_factory.mktemp("rebuild") / "clone"), request)


def test_clean_rebuild_is_byte_identical_with_read_only_raw_data(rebuild):
    clone = rebuild.clone
    if rebuild.mechanism == "immutable":  # the guard really holds: writing raw data fails
        with pytest.raises(PermissionError):
            (clone / "data" / "raw" / "probe.csv").write_text("x")
    assert rebuild.clean.returncode == 0, rebuild.clean.stderr
    assert rebuild.cleaned
    assert rebuild.make.returncode == 0, rebuild.make.stderr[-3000:]
    # Every committed output regenerated identically; nothing new but the (ignored) report.
    # On failure the message is the diff, which says what differed and so why.
    diff = subprocess.run(["git", "diff"], cwd=clone, capture_output=True, text=True).stdout
    assert git_status(clone) == [], diff[:6000]
    assert (clone / "reports" / "report.html").is_file()
    assert {p.name: p.read_bytes() for p in (clone / "data" / "raw").iterdir()} == (
        rebuild.raw_before)
    # A second make has nothing to do (make -q: exit 0 when everything is up to date).
    assert _run(["make", "-q"], clone).returncode == 0


def _committed_version(clone: Path, path: Path) -> bytes:
    relative = path.relative_to(clone).as_posix()
    return subprocess.run(["git", "show", f"HEAD:{relative}"], cwd=clone, check=True,
                          capture_output=True).stdout


def test_regenerated_values_match_the_committed_ones_on_any_machine(rebuild):
    """The check that does not depend on the machine that committed the outputs.

    Bytes can only match across CPUs because numbers are written at 12 significant
    digits (helpers.io); this compares the *values*, parsed, at a relative 1e-12, so
    that a failure on another machine says which number moved and by how much, and
    text columns exactly.
    """
    assert rebuild.make.returncode == 0, rebuild.make.stderr[-3000:]
    clone = rebuild.clone
    committed_csv = subprocess.run(
        ["git", "ls-files", "data/processed/*.csv", "reports/tables/*.csv"], cwd=clone,
        capture_output=True, text=True, check=True).stdout.split()
    tables = sorted([*(clone / "data" / "processed").glob("*.csv"),
                     *(clone / "reports" / "tables").glob("*.csv")])
    assert [t.relative_to(clone).as_posix() for t in tables] == sorted(committed_csv)
    assert len(tables) >= 10
    for table in tables:
        regenerated = pd.read_csv(table, keep_default_na=False, na_values=[""])
        committed = pd.read_csv(io.BytesIO(_committed_version(clone, table)),
                                keep_default_na=False, na_values=[""])
        assert list(regenerated.columns) == list(committed.columns), table.name
        for column in committed.columns:
            ours, theirs = regenerated[column], committed[column]
            where = f"{table.name}, column {column!r}"
            if pd.api.types.is_numeric_dtype(theirs) and not pd.api.types.is_bool_dtype(theirs):
                np.testing.assert_allclose(ours.to_numpy(float), theirs.to_numpy(float),
                                           rtol=1e-12, atol=0, equal_nan=True, err_msg=where)
            else:
                assert ours.tolist() == theirs.tolist(), where


def test_an_interrupted_run_keeps_previous_outputs(clone, tmp_path):
    (clone / "src" / "helpers" / "paths.py").touch()  # everything stale
    # A killed runner cannot remove its kernel's socket folder: keep it in pytest's.
    env = dict(os.environ, ANIFROLUMAB_ROOT=str(clone), TMPDIR=str(tmp_path))
    process = subprocess.Popen(["make"], cwd=clone, env=env, stderr=subprocess.PIPE,
                               stdout=subprocess.DEVNULL, text=True, start_new_session=True)
    # Kill everything (make, runner, kernel) while the figures notebook is executing.
    for line in process.stderr:
        if "running notebooks/03_figures.ipynb" in line:
            time.sleep(0.5)
            os.killpg(process.pid, signal.SIGKILL)
            break
    process.wait(timeout=120)
    assert process.returncode != 0
    changed = [line for line in git_status(clone) if not line.startswith("??")]
    assert changed == [], "a killed run must not leave modified or deleted committed files"
    result = _run(["make"], clone)
    assert result.returncode == 0, result.stderr[-3000:]
    assert git_status(clone) == []


def test_a_changed_raw_file_stops_make(clone):
    with open(clone / "data" / "raw" / "table2_disease_course.csv", "a") as handle:
        handle.write("Pt. 5,1,Polyarthritis,No,,GCs (5 mg),1,1,1,3.0,2.0,0,None,Yes\n")
    result = _run(["make"], clone)
    assert result.returncode != 0
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1
    assert "data/raw/table2_disease_course.csv: checksum mismatch" in errors[0]
    assert git_status(clone) == [" M data/raw/table2_disease_course.csv"]


def test_make_analysis_runs_a_multi_visit_cohort_into_its_own_folder(clone, tmp_path):
    data = tmp_path / "cohort.csv"
    write_csv(make_cohort(200, visits=4, seed=3), data)
    out = tmp_path / "results"
    result = _run(["make", "analysis", f"DATA={data}", f"OUT={out}"], clone)
    assert result.returncode == 0, result.stderr[-3000:]
    assert git_status(clone) == []  # nothing committed touched
    prepost = (out / "tables" / "prepost.csv").read_text().splitlines()
    # 3 measures x 3 follow-up visits (m3, m6, m9) against baseline, plus the header.
    assert len(prepost) == 1 + 3 * 3
    for name in ["slopes.png", "slopes.svg", "waterfall_das28.png"]:
        assert (out / "figures" / name).stat().st_size > 0
    assert (out / "notebooks" / "02_prepost.ipynb").is_file()
    report = (out / "report.html").read_text()
    assert "cohort.csv" in report and "<script" not in report


def test_make_analysis_without_arguments_explains_itself(clone):
    result = _run(["make", "analysis"], clone)
    assert result.returncode != 0
    assert "usage: make analysis DATA=" in result.stderr


def test_make_analysis_takes_paths_as_data_not_shell(clone, tmp_path):
    """'$', quotes, spaces and even $(shell ...) in DATA reach Python verbatim."""
    folder = tmp_path / "my data \u00e9\u6570"  # a space and non-ASCII letters
    folder.mkdir()
    data = folder / "co$x \"q\" 'it'.csv"
    data.write_text("a,b\n1,2\n")  # a bad header: the run stops at once, naming the file
    result = _run(["make", "analysis", f"DATA={data}", f"OUT={folder / 'out'}"], clone)
    assert result.returncode != 0
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert errors == [f"error: DATA {data}: found no header row of measurements in the first "
                      "30 rows: expected a patient id column (patient_id, ID) and measures "
                      "(das28_baseline, das28_m6; or measure, timepoint, value); the first "
                      "row reads 'a', 'b'"]
    canary = tmp_path / "executed"
    result = _run(["make", "analysis", f"DATA=$(shell touch {canary})x.csv",
                   f"OUT={folder / 'out'}"], clone)
    assert result.returncode != 0 and not canary.exists()
    assert "$(shell touch" in result.stderr  # reported as the (missing) file it names
    assert not (folder / "out").exists()
    result = _run(["make", "analysis", "DATA=a\nb.csv", f"OUT={folder / 'out'}"], clone)
    assert ("error: DATA, OUT, PATIENTS, CODEBOOK, MEASURES, SHEET, UNITS, BASELINE, START "
            "or SITE contains a line break") in result.stderr
