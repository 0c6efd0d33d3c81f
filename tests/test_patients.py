"""PATIENTS as a clinic keeps it: optional columns, text ids, every problem at once."""

from __future__ import annotations

import pandas as pd
import pytest

from helpers import paths
from helpers.analysis.summary import cohort_summary, patient_features
from helpers.data.patients import read_patients, supports
from helpers.errors import InputError


def _write(tmp_path, text, name="patients.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_the_papers_patients_read_as_pandas_reads_them():
    """The canonical file gives the table the notebooks always had (organ domains, missing
    for patient 2, as nullable booleans)."""
    old = pd.read_csv(paths.DATA_PROCESSED / paths.PATIENTS)
    new, notes = read_patients(paths.DATA_PROCESSED / paths.PATIENTS, ids=[1, 2, 3, 4])
    for column in old.columns:
        if column.startswith("organ_") and column != "organ_involvement_at_diagnosis":
            assert new[column].astype(object).where(new[column].notna(), None).tolist() == \
                old[column].astype(object).where(old[column].notna(), None).tolist()
        else:
            pd.testing.assert_series_equal(new[column], old[column], check_names=False)
    assert notes == ["PATIENTS: columns 'comorbidities', 'organ_involvement_at_diagnosis', "
                     "'other_organ_involvement', 'treatment_intolerance', "
                     "'status_before_anifrolumab' not used"]


def test_ids_are_text_as_written_and_match_data_exactly(tmp_path):
    path = _write(tmp_path, "ID,Sesso\n001,F\n002,M\nPT-3,F\n")
    patients, _ = read_patients(path, ids=["001", "002", "PT-3"])
    assert patients["patient_id"].tolist() == ["001", "002", "PT-3"]
    assert patients["sex"].tolist() == ["F", "M", "F"]
    # DATA's 1 and 2 are not PATIENTS' 001 and 002: said, with what differs.
    with pytest.raises(InputError, match=r"2 patient\(s\) of DATA are not in PATIENTS "
                                         r"\(first: 1, 2\) \(ids must match exactly: 001 is "
                                         r"not 1\)"):
        read_patients(path, ids=[1, 2])


def test_only_the_id_is_required_and_analyses_say_what_they_need(tmp_path):
    patients, _ = read_patients(_write(tmp_path, "patient_id\n1\n2\n"), ids=[1, 2])
    assert list(patients.columns) == ["patient_id"] and patients["patient_id"].tolist() == [1, 2]
    assert not supports(patients, "the swimmer plot")
    assert not supports(patients, "the patient profiles")
    summary = cohort_summary(patients)
    assert summary["characteristic"].tolist() == ["patients"]
    register, _ = read_patients(_write(tmp_path, "N°;Sesso;Età;Erosioni\n1;donna;45;sì\n"
                                                 "2;uomo;52,5;no\n"), ids=[1, 2])
    summary = cohort_summary(register).set_index("characteristic")["value"]
    assert summary["sex: F"] == "1/2 (50%)" and summary["erosive arthritis"] == "1/2 (50%)"
    assert summary["age, median (range)"] == "48.75 (45–52.5) years"
    features, groups = patient_features(register)
    assert groups == {"Autoantibodies": [], "Arthritis": ["Erosive"], "Other organs": []}
    assert features["Erosive"].tolist() == [True, False]


def test_sex_as_a_number_is_refused_not_decoded(tmp_path):
    # 1/2 is male/female in some registers and the reverse in others (or 0/1): a guess
    # either way, so the register must say F or M.
    with pytest.raises(InputError, match=r"column 'sex': must be F or M \(female/male, "
                                         r"femmina/maschio\): a number's meaning differs "
                                         r"between registers \(got '2'\)"):
        read_patients(_write(tmp_path, "patient_id,sex\n1,2\n"))


def test_html_in_an_id_is_text(tmp_path):
    patients, _ = read_patients(_write(tmp_path, 'patient_id,sex\n"<b>A</b>",F\n'),
                                ids=["<b>A</b>"])
    assert patients["patient_id"].tolist() == ["<b>A</b>"]


def test_one_workbook_for_data_and_patients(tmp_path):
    """A register with a patients sheet and a visits sheet: DATA reads the visits, PATIENTS
    the patients, each without SHEET=."""
    import openpyxl

    from helpers.data.reader import read_cohort

    book = openpyxl.Workbook()
    book.active.title = "Pazienti"
    for row in (["ID", "Sesso", "Età"], ["P1", "F", 40], ["P2", "M", 50]):
        book["Pazienti"].append(row)
    visits = book.create_sheet("Visite")
    for row in (["ID", "Visita", "DAS28"], ["P1", "Basale", 5.1], ["P1", "6 mesi", 3.2],
                ["P2", "Basale", 4.4], ["P2", "6 mesi", 4.0]):
        visits.append(row)
    book.save(tmp_path / "registro.xlsx")
    frame, reading = read_cohort(tmp_path / "registro.xlsx")
    assert frame["value"].tolist() == [5.1, 3.2, 4.4, 4.0]
    assert "sheet 'Visite' (no table of measurements in 'Pazienti')" in reading.notes
    patients, _ = read_patients(tmp_path / "registro.xlsx", ids=["P1", "P2"])
    assert patients[["patient_id", "sex", "age_years"]].values.tolist() == [
        ["P1", "F", 40], ["P2", "M", 50]]
