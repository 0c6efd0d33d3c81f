"""A clinician's own cohort through the pre/post and figures notebooks, end to end."""

from __future__ import annotations

import pandas as pd
import pytest
from conftest import committed_outputs

from helpers import paths
from helpers.pipeline import cohort
from helpers.errors import InputError
from helpers.io import write_csv
from helpers.paired import paired_tests
from helpers.data.schema import read_measurements
from helpers.synth import make_cohort


@pytest.mark.slow
def test_two_visit_cohort_end_to_end(tmp_path):
    data = tmp_path / "my_cohort.csv"
    write_csv(make_cohort(120, visits=2, seed=11), data)
    before = committed_outputs()
    report = cohort.run_cohort(data, tmp_path / "out", quiet=True)
    out = tmp_path / "out"
    assert report == out / "report.html"
    assert sorted(p.name for p in (out / "notebooks").iterdir()) == [
        "02_prepost.ipynb", "03_figures.ipynb"]
    prepost = pd.read_csv(out / "tables" / "prepost.csv")
    assert prepost["outcome"].tolist() == ["sledai2k", "das28", "gc_mg_day"]
    assert prepost["comparison"].nunique() == 1  # one follow-up visit
    # The notebook's table is what paired_tests gives on the same file.
    expected = paired_tests(read_measurements(data))
    pd.testing.assert_series_equal(prepost["t_p_value"], expected["t_p_value"],
                                   check_names=False, rtol=1e-12)
    assert (out / "figures" / "slopes.png").is_file()
    assert not (out / "figures" / "swimmer.png").exists()  # needs a patients table
    assert "my_cohort.csv" in report.read_text()
    assert committed_outputs() == before
    # A failing run (PATIENTS does not cover DATA: paper ids 1-4 against 1-120) stops
    # before writing: OUT exactly as it was, no staging folder left beside it.
    (out / "figures" / "stale.png").write_bytes(b"from an older run")
    snapshot = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    with pytest.raises(InputError, match=r"116 patient\(s\) of DATA are not in PATIENTS "
                                         r"\(first: 10, 100, 101\)"):
        cohort.run_cohort(data, out, patients=paths.DATA_PROCESSED / paths.PATIENTS,
                          quiet=True)
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == snapshot
    assert sorted(p.name for p in tmp_path.iterdir()) == ["my_cohort.csv", "out"]
    # A rerun replaces the folder as a whole: nothing stale remains.
    cohort.run_cohort(data, out, quiet=True)
    assert not (out / "figures" / "stale.png").exists()
    assert (out / cohort.MARKER).is_file() and (out / "report.html").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["my_cohort.csv", "out"]


def test_output_folder_inside_the_project_is_refused():
    for folder in ["reports", "reports/tables/mine", "data", "notebooks/x", ".", "docs",
                   ".git", ".git/objects", "src/helpers/x"]:
        with pytest.raises(InputError, match="inside the project but not in a folder git "
                                             "ignores"):
            cohort.check_output_folder(folder)
    assert cohort.check_output_folder("out/mine") == paths.ROOT / "out" / "mine"


def test_output_folder_rules(tmp_path):
    afile = tmp_path / "a file"
    afile.write_text("x")
    with pytest.raises(InputError, match="output folder is a file, not a folder"):
        cohort.check_output_folder(afile)
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "thesis.docx").write_text("precious")
    with pytest.raises(InputError, match="not empty and was not made by make analysis"):
        cohort.check_output_folder(mine)
    (tmp_path / "empty").mkdir()
    assert cohort.check_output_folder(tmp_path / "empty") == tmp_path / "empty"
    made = tmp_path / "made"
    made.mkdir()
    (made / cohort.MARKER).write_text("x")
    (made / "report.html").write_text("old")
    assert cohort.check_output_folder(made) == made
    with pytest.raises(InputError, match="cannot be created"):
        cohort.run_cohort(paths.DATA_PROCESSED / paths.MEASUREMENTS,
                          afile / "below a file", quiet=True)


@pytest.mark.parametrize(("kind", "message"), [
    ("folder", "is a folder, not a file"),
    ("device", "is not a regular file"),
    ("missing", "file not found"),
])
def test_data_that_is_not_a_file(kind, message, tmp_path, capsys):
    data = {"folder": tmp_path, "device": "/dev/null", "missing": tmp_path / "no.csv"}[kind]
    status = cohort.main(["--data", str(data), "--out", str(tmp_path / "out"), "--quiet"])
    assert status == 1
    assert capsys.readouterr().err.strip() == f"error: {data}: {message}"
    assert not (tmp_path / "out").exists()


def test_patients_file_checked_before_anything_runs(tmp_path, capsys):
    patients = tmp_path / "patients.csv"
    patients.write_text("patient_id,age\n1,40\n2,50\n3,60\n4,70\n")
    data = paths.DATA_PROCESSED / paths.MEASUREMENTS
    with pytest.raises(InputError, match=r"patients.csv, row 0 \(line 1\), column 'sex': "
                                         r"required column is missing"):
        cohort.run_cohort(data, tmp_path / "out", patients=patients, quiet=True)
    with pytest.raises(InputError, match="missing.csv: file not found"):
        cohort.run_cohort(data, tmp_path / "out", patients=tmp_path / "missing.csv",
                          quiet=True)
    assert not (tmp_path / "out").exists()
