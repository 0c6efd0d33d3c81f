"""A clinician's own cohort through the pre/post and figures notebooks, end to end."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import committed_outputs

from helpers import paths
from helpers.pipeline import cohort
from helpers.errors import InputError
from helpers.io import write_csv
from helpers.paired import paired_tests
from helpers.data.reader import read_measurements
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
    assert capsys.readouterr().err.strip() == f"error: DATA {data}: {message}"
    assert not (tmp_path / "out").exists()


def test_patients_file_checked_before_anything_runs(tmp_path, capsys):
    patients = tmp_path / "patients.csv"
    # Every problem of the file in one line: a sex that is neither F nor M, an age of
    # 500, a repeated id.
    patients.write_text("patient_id,Sex,age\n1,X,40\n2,F,500\n3,M,60\n3,F,70\n")
    data = paths.DATA_PROCESSED / paths.MEASUREMENTS
    with pytest.raises(InputError) as error:
        cohort.run_cohort(data, tmp_path / "out", patients=patients, quiet=True)
    assert str(error.value).endswith(
        "patients.csv: 3 problems: row 1 (line 2), column 'Sex': must be F or M "
        "(female/male, femmina/maschio) (got 'X'); row 2 (line 3), column 'age': must be "
        "between 0 and 120 (got '500'); row 4 (line 5), column 'patient_id': patient '3' "
        "has a second row")
    assert str(error.value).startswith("PATIENTS ")
    with pytest.raises(InputError, match="missing.csv: file not found"):
        cohort.run_cohort(data, tmp_path / "out", patients=tmp_path / "missing.csv",
                          quiet=True)
    assert not (tmp_path / "out").exists()


# --- any shape, any measures, any size (issue "Your own cohort") ------------------------

#: Sentences about the paper's four patients, which a report on another cohort must not
#: contain (notebook cells tagged "paper").
PAPER_PROSE = ["The paper's central claim", "The paper calls all four patients",
               "Patient 1's baseline", "patient 4 was already", "In the paper's data"]


def _components_cohort(n: int, seed: int) -> pd.DataFrame:
    """A synthetic wide spreadsheet of DAS28 components at baseline and month 6."""
    rng = np.random.default_rng(seed)
    wide = {"patient_id": [f"P{i:04d}" for i in range(1, n + 1)], "sex": "F"}
    for visit, scale in (("baseline", 1.0), ("m6", 0.5)):
        wide[f"tjc28_{visit}"] = rng.integers(0, int(20 * scale) + 1, n)
        wide[f"sjc28_{visit}"] = rng.integers(0, int(12 * scale) + 1, n)
        # PGA and CRP come in units that differ by a factor: the columns say which.
        wide[f"pga_mm_{visit}"] = np.round(rng.uniform(10, 90 * scale, n), 0)
        wide[f"esr_{visit}"] = np.round(rng.uniform(2, 60 * scale, n), 0)
        wide[f"crp_mg_l_{visit}"] = np.round(rng.uniform(0, 30 * scale, n), 1)
    return pd.DataFrame(wide)


@pytest.mark.slow
def test_wide_spreadsheet_of_das28_components_end_to_end(tmp_path):
    wide = _components_cohort(60, seed=5)
    data = tmp_path / "clinic.xlsx"
    with pd.ExcelWriter(data, engine="openpyxl") as writer:
        pd.DataFrame({"note": ["exported from the clinic's registry"]}).to_excel(
            writer, sheet_name="About", index=False)
        wide.to_excel(writer, sheet_name="Visits", index=False)
    report = cohort.run_cohort(data, tmp_path / "out", sheet="Visits", quiet=True)
    out = tmp_path / "out"
    prepost = pd.read_csv(out / "tables" / "prepost.csv")
    # Every measure present, in the codebook's order, DAS28-ESR/CRP computed.
    assert prepost["outcome"].tolist() == ["das28_esr", "das28_crp", "crp", "esr", "tjc28",
                                           "sjc28", "pga"]
    converted = pd.read_csv(out / "data" / "measurements.csv")
    assert list(converted.columns) == ["patient_id", "measure", "timepoint", "month",
                                       "value", "unit"]
    first = wide.iloc[0]
    esr = converted.query("patient_id == 'P0001' and measure == 'das28_esr' and "
                          "timepoint == 'baseline'")["value"].item()
    # Prevoo 1995, written out: 0.56 sqrt(TJC28) + 0.28 sqrt(SJC28) + 0.70 ln(ESR)
    # + 0.014 PGA (the CSV keeps 12 significant digits).
    by_hand = (0.56 * np.sqrt(first["tjc28_baseline"]) + 0.28 * np.sqrt(first["sjc28_baseline"])
               + 0.70 * np.log(first["esr_baseline"]) + 0.014 * first["pga_mm_baseline"])
    assert esr == pytest.approx(by_hand, rel=1e-11)
    responders = pd.read_csv(out / "tables" / "responders.csv")
    assert responders["eular_response"].notna().all()  # EULAR from DAS28-ESR
    assert (out / "figures" / "waterfall_das28.png").is_file()
    assert (out / "data" / "codebook.csv").is_file()
    html = report.read_text()
    assert "DAS28-ESR" in html and "Tender joints (28)" in html
    for sentence in PAPER_PROSE:
        assert sentence not in html, sentence


@pytest.mark.slow
def test_outcomes_default_to_the_measures_present_and_can_be_chosen(tmp_path):
    das28_only = tmp_path / "das28.csv"
    write_csv(make_cohort(40, measures=["das28"], seed=3), das28_only)
    cohort.run_cohort(das28_only, tmp_path / "one", quiet=True)
    assert pd.read_csv(tmp_path / "one" / "tables" / "prepost.csv")["outcome"].tolist() == [
        "das28"]
    full = tmp_path / "full.csv"
    write_csv(make_cohort(40, seed=3), full)
    cohort.run_cohort(full, tmp_path / "chosen", measures=["gc_mg_day", "das28"], quiet=True)
    assert pd.read_csv(tmp_path / "chosen" / "tables" / "prepost.csv")["outcome"].tolist(
    ) == ["gc_mg_day", "das28"]
    with pytest.raises(InputError, match=r"MEASURES names 'crp', which the data do not "
                                         r"have \(they have sledai2k, das28, gc_mg_day\)"):
        cohort.run_cohort(full, tmp_path / "bad", measures=["crp"], quiet=True)
    assert not (tmp_path / "bad").exists()


@pytest.mark.slow
@pytest.mark.parametrize(("n_patients", "visits"), [(2_000, 6), (20_000, 2)])
def test_large_cohorts_end_to_end(tmp_path, n_patients, visits):
    data = tmp_path / "registry.csv"
    write_csv(make_cohort(n_patients, visits=visits, seed=n_patients, missing_rate=0.05),
              data)
    report = cohort.run_cohort(data, tmp_path / "out", quiet=True)
    prepost = pd.read_csv(tmp_path / "out" / "tables" / "prepost.csv")
    expected = paired_tests(read_measurements(data))
    pd.testing.assert_series_equal(prepost["wilcoxon_p_value"],
                                   expected["wilcoxon_p_value"], check_names=False,
                                   rtol=1e-12)
    assert prepost["comparison"].nunique() == visits - 1  # each follow-up vs baseline
    html = report.read_text()
    # The smallest exact p-value 2**(1 - n) underflows past n = 1075: said, not crashed.
    assert f"With n = {prepost['n'].max():,} the exact tests can reach" in html
    for sentence in PAPER_PROSE:
        assert sentence not in html, sentence


@pytest.mark.slow
def test_make_analysis_runs_from_any_folder(tmp_path):
    """The kernel's sockets have absolute paths: run from another folder, the runner and
    its kernel still meet (a relative socket path hung here for three minutes)."""
    import subprocess
    import sys

    data = tmp_path / "cohort.csv"
    write_csv(make_cohort(50, seed=8), data)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    result = subprocess.run([sys.executable, "-m", "helpers.pipeline.cohort", "--data",
                             str(data), "--out", str(tmp_path / "out"), "--quiet"],
                            cwd=elsewhere, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert (tmp_path / "out" / "report.html").is_file()
    assert list(elsewhere.iterdir()) == []  # no socket files left behind


def test_response_criteria_without_their_measures_are_said_not_assessed():
    frame = pd.DataFrame({"patient_id": [1, 1], "measure": ["das28", "das28"],
                          "timepoint": ["baseline", "m6"], "month": [0.0, 6.0],
                          "value": [5.0, 3.0], "unit": ["points", "points"]})
    assert cohort._criteria_notes(frame) == [
        "response criteria not assessed: SLEDAI-2K reduction (no sledai2k in DATA); "
        "glucocorticoid targets (no gc_mg_day in DATA)"]
    full = pd.concat([frame, frame.assign(measure="sledai2k"), frame.assign(measure="gc_mg_day")])
    assert cohort._criteria_notes(full) == []


def test_a_cohorts_report_is_about_its_own_data(tmp_path):
    # 60 synthetic patients, three follow-ups, no PATIENTS: the report names this file,
    # not the paper; leaves out what needs a patients table, in one line; names no
    # scratch folder anywhere; says each key result once in full.
    data = tmp_path / "clinic_export.csv"
    write_csv(make_cohort(60, visits=["baseline", "m3", "m6", "m12"], seed=5), data)
    out = tmp_path / "out"
    report = cohort.run_cohort(data, out, quiet=True).read_text(encoding="utf-8")
    assert "<h1>Pre/post analysis of clinic_export.csv</h1>" in report
    assert "60 patients, 720 measurements, visits from month 0 to month 12" in report
    assert "Cassone" not in report and "doi:10.3390" not in report
    assert ("<strong>Left out for these data:</strong> the cohort summary, the swimmer plot "
            "and the patient profiles (no patients table (PATIENTS) was given).") in report
    for heading in ("Who the patients were", "Disease duration and time on anifrolumab",
                    "Patient profiles"):
        assert heading not in report
    # The scratch folder the run was built in is named .out.<random>: nowhere in OUT.
    texts = [p for p in out.rglob("*") if p.suffix in {".html", ".ipynb", ".md", ".csv"}]
    assert len(texts) >= 8
    for path in texts:
        assert f"{tmp_path.name}/.out." not in path.read_text(encoding="utf-8"), path
        assert str(tmp_path) not in path.read_text(encoding="utf-8").replace(
            str(data), ""), path
    # The full sentence (with its tests) once, below; the box at the top has its summary.
    assert report.count("paired t p") == 9  # 3 outcomes x 3 visits, in the section only
    key = report[report.index('id="key-results"'):report.index("</section>")]
    assert "mean change" in key and "paired t p" not in key


def test_the_papers_report_cites_the_paper():
    text = (paths.REPORTS / "report.html")
    if not text.is_file():
        pytest.skip("reports/report.html is built by make")
    report = text.read_text(encoding="utf-8")
    assert "Cassone et al." in report and "Left out for these data" not in report


@pytest.mark.slow
def test_a_run_with_a_codebook_names_outs_own_copy(tmp_path):
    """With CODEBOOK, the executed notebooks read OUT's data/codebook.csv (the definitions
    used), not the user's file by its path on this machine; the measure it adds is
    analysed, and the built-in ones keep their labels."""
    book = tmp_path / "mine" / "codebook.csv"
    book.parent.mkdir()
    book.write_text("measure,label,unit,min,max,integer,lower_is_better,mcid,thresholds\n"
                    "haq,HAQ-DI,points,0,3,no,yes,0.22,1;2\n")
    rows = [(p, measure, visit, month, value, "points")
            for p in range(1, 11) for visit, month in (("baseline", 0), ("m6", 6))
            for measure, value in (("haq", 1.0 + (p % 4) / 2 - (month > 0) * 0.5),
                                   ("das28", 4.0 + p / 10 - (month > 0)))]
    data = write_csv(pd.DataFrame(rows, columns=["patient_id", "measure", "timepoint",
                                                 "month", "value", "unit"]),
                     tmp_path / "haq.csv")
    out = tmp_path / "out"
    cohort.run_cohort(data, out, codebook=book, quiet=True)
    assert pd.read_csv(out / "tables" / "prepost.csv")["outcome"].tolist() == ["das28", "haq"]
    for notebook in (out / "notebooks").glob("*.ipynb"):
        text = notebook.read_text()
        assert str(book) not in text and str(tmp_path) not in text, notebook.name
        assert 'codebook_path = \\"data/codebook.csv\\"' in text, notebook.name
    assert "DAS28 (score)" in (out / "figures" / "slopes.svg").read_text()
