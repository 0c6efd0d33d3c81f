"""Parsers of the paper's printed strings, and the tidy tables they build."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from helpers import paths
from helpers.data import paper_tables as cleaning
from helpers.data.paper_tables import (
    Dose, clean_tables, parse_dose, parse_drugs, parse_erosive, parse_outcome,
    parse_patient_count, parse_patient_label, parse_sex_ethnicity, parse_study,
)
from helpers.errors import InputError


@pytest.mark.parametrize(("text", "expected"), [
    ("0", Dose(0.0, None)),
    ("4 mg", Dose(4.0, "oral")),
    ("2 mg", Dose(2.0, "oral")),
    ("GCs (8 mg)", Dose(8.0, "oral")),
    ("GCs (6 mg)", Dose(6.0, "oral")),
    ("PDN (10 mg/day)", Dose(10.0, "oral")),
    ("2.5 mg", Dose(2.5, "oral")),
])
def test_parse_dose(text, expected):
    assert parse_dose(text) == expected


def test_parse_dose_iv_pulse_has_no_daily_dose():
    # Patient 1, Table 2: the paper gives no daily oral equivalent; never invent one.
    dose = parse_dose("GCs (40 mg IV monthly during the first two infusions)")
    assert math.isnan(dose.mg_day)
    assert dose.route == "iv"
    assert dose.schedule == "40 mg IV monthly during the first two infusions"


@pytest.mark.parametrize("text", ["", "abc", "-4 mg", "4 g", "GCs", "GCs (x mg)", "4mg daily x",
                                  "nan", "inf mg"])
def test_parse_dose_rejects_malformed(text):
    with pytest.raises(ValueError, match="unrecognised glucocorticoid dose"):
        parse_dose(text)


def test_parse_drugs():
    assert parse_drugs("GCs, HCQ, LEF, SLZ, CIC, MTX; RTX, TOCI, BARI, BELI") == [
        "GCs", "HCQ", "LEF", "SLZ", "CIC", "MTX", "RTX", "TOCI", "BARI", "BELI"]
    assert parse_drugs("MTX, GCs (8 mg)") == ["MTX", "GCs"]
    assert parse_drugs("None; poor compliance") == []
    with pytest.raises(ValueError, match="unknown drug abbreviation 'XYZ'"):
        parse_drugs("GCs, XYZ")


def test_every_abbreviation_has_a_name_and_class():
    for abbreviation in ["GCs", "HCQ", "MMF", "AZA", "MTX", "LEF", "SLZ", "CIC", "RTX",
                         "TOCI", "BARI", "BELI", "CFX"]:
        name, drug_class = cleaning.DRUGS[abbreviation]
        assert name and drug_class
    assert cleaning.DRUGS["RTX"] == ("rituximab", "biologic")
    assert cleaning.DRUGS["BARI"] == ("baricitinib", "JAK inhibitor")


@pytest.mark.parametrize(("text", "expected"), [
    ("F, Cuban", ("F", "Cuban")), ("F, Caucasian", ("F", "Caucasian")),
    (" M ,  African ", ("M", "African")),
])
def test_parse_sex_ethnicity(text, expected):
    assert parse_sex_ethnicity(text) == expected


@pytest.mark.parametrize("text", ["Female, Cuban", "F", "F Cuban", ", Cuban", "X, Cuban"])
def test_parse_sex_ethnicity_rejects(text):
    with pytest.raises(ValueError, match="expected 'F|M, Ethnicity'"):
        parse_sex_ethnicity(text)


@pytest.mark.parametrize(("text", "expected"), [
    ("No (Rhupus)", (False, True)), ("Yes", (True, False)), ("No", (False, False)),
])
def test_parse_erosive(text, expected):
    assert parse_erosive(text) == expected


@pytest.mark.parametrize("text", ["Maybe", "Yes (Rhupus", "", "no"])
def test_parse_erosive_rejects(text):
    with pytest.raises(ValueError):
        parse_erosive(text)


def test_parse_counts_and_labels():
    assert parse_patient_count("3 patients") == 3
    assert parse_patient_count("25 patients") == 25
    assert parse_patient_count("1 patient") == 1
    for bad in ["three patients", "0 patients", "25", "-3 patients"]:
        with pytest.raises(ValueError):
            parse_patient_count(bad)
    assert parse_patient_label("Pt. 4") == 4
    with pytest.raises(ValueError):
        parse_patient_label("Patient four")
    assert parse_study("Tani, 2024 [10]") == ("Tani", 2024, 10)
    with pytest.raises(ValueError):
        parse_study("Tani 2024")


def test_parse_outcome():
    assert parse_outcome("Resolution of arthritis in 2 patients", 3) == (2, "resolution")
    tani = ("Resolution of arthritis in 13 patients; significant reduction in TJ/SJ count at "
            "4 months (p: 0.026), 12 months (p: 0.021), and 24 months (p: 0.012)")
    # The 4/12/24 month numbers after the semicolon must not be read as counts.
    assert parse_outcome(tani, 25) == (13, "resolution")
    assert parse_outcome("Reduction in DAS 28, US synovitis score, and US PD score in all "
                         "patients", 3) == (3, "improvement")


@pytest.mark.parametrize(("text", "n", "message"), [
    ("Resolution of arthritis in 30 patients", 25, "counts 30 patients out of 25"),
    ("Resolution of arthritis", 25, "no patient count"),
    ("Worsening in 2 patients", 3, "unrecognised outcome"),
])
def test_parse_outcome_rejects(text, n, message):
    with pytest.raises(ValueError, match=message):
        parse_outcome(text, n)


@pytest.fixture(scope="module")
def tables():
    return clean_tables(paths.DATA_RAW)


def test_patients(tables):
    patients = tables[paths.PATIENTS].set_index("patient_id")
    # Table 1 and Table 2 of the paper, typed out by hand.
    assert patients["sex"].tolist() == ["F"] * 4
    assert patients["ethnicity"].tolist() == ["Cuban", "Caucasian", "Caucasian", "African"]
    assert patients["age_years"].tolist() == [49, 38, 56, 50]
    assert patients["diagnosis_year"].tolist() == [2023, 2018, 2007, 2009]
    assert patients["disease_duration_months"].tolist() == [15, 60, 192, 168]
    assert patients["anifrolumab_months"].tolist() == [12, 9, 14, 4]
    assert patients["erosive"].tolist() == [False, False, True, False]
    assert patients["rhupus"].tolist() == [False, True, False, False]
    assert patients["anti_dsdna"].tolist() == [True, True, False, True]
    assert patients["anti_ssa_ro"].tolist() == [True, True, True, False]
    assert patients["rheumatoid_factor"].tolist() == [False, True, False, False]
    assert patients["anti_sm"].tolist() == [False, False, False, True]
    assert patients["response_paper"].tolist() == [True] * 4
    # Patient 2's "Other Organ Involvement" cell is empty in the paper: missing, not False.
    assert pd.isna(patients.at[2, "other_organ_involvement"])
    assert pd.isna(patients.at[2, "organ_cutaneous"])
    assert patients.at[1, "organ_serositis"] is True or patients.at[1, "organ_serositis"]
    assert pd.isna(patients.at[1, "comorbidities"])  # "None"


def test_therapies(tables):
    therapies = tables[paths.THERAPIES]
    previous = therapies[therapies["role"] == "previous"].groupby("patient_id").size()
    assert previous.tolist() == [4, 3, 10, 7]
    intolerant = therapies[therapies["role"] == "intolerant"].groupby("patient_id").size()
    assert intolerant.to_dict() == {1: 3, 2: 1, 3: 4}  # patient 4: "None; poor compliance"
    gcs = therapies[(therapies["role"] == "concomitant") & (therapies["abbreviation"] == "GCs")]
    assert gcs["dose_mg_day"].tolist()[1:] == [8.0, 6.0, 8.0]
    assert math.isnan(gcs["dose_mg_day"].iloc[0])
    assert gcs["route"].tolist() == ["iv", "oral", "oral", "oral"]


def test_studies(tables):
    studies = tables[paths.STUDIES]
    assert studies["study"].tolist() == ["Maicas 2024", "Tani 2024", "Ceccarelli 2025"]
    assert studies["n"].tolist() == [3, 25, 3]
    assert studies["events"].tolist() == [2, 13, 3]
    assert studies["outcome_definition"].tolist() == ["resolution", "resolution",
                                                      "improvement"]
    assert studies["ultrasound_proven"].tolist() == [False, False, True]


def _corrupt(raw_copy, name, old, new):
    path = raw_copy / name
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


@pytest.mark.parametrize(("name", "old", "new", "message"), [
    (paths.RAW_TABLE2, "7.22", "7.2x", "row 1 (line 2), column 'DAS28 before ANI': expected a number"),
    # An unquoted decimal comma adds a field: caught before any value is read.
    (paths.RAW_TABLE2, "7.22", "7,22", "row 1 (line 2): has 15 fields where the header has 14"),
    (paths.RAW_TABLE2, "4 mg", "4 g", "row 3 (line 4), column 'GCs Last Clinical Evaluation'"),
    (paths.RAW_TABLE2, "No (Rhupus)", "Maybe", "row 2 (line 3), column 'Erosive Arthritis'"),
    (paths.RAW_TABLE2, "SLEDAI before ANI", "SLEDAI pre", "column 'SLEDAI before ANI': required"),
    (paths.RAW_TABLE1, "F, Cuban", "Female", "row 1 (line 2), column 'Gender, Ethnicity'"),
    (paths.RAW_TABLE1, "GCs, HCQ, MTX", "GCs, HCQ, XYZ", "unknown drug abbreviation 'XYZ'"),
    (paths.RAW_REVIEW, "25 patients", "many patients", "column 'Number of SLE Patients'"),
    (paths.RAW_TABLE2, "Pt. 4", "Pt. 3", "duplicate patient 3"),
])
def test_bad_raw_cells_are_located(raw_copy, name, old, new, message):
    _corrupt(raw_copy, name, old, new)
    with pytest.raises(InputError) as error:
        clean_tables(raw_copy)
    assert message in str(error.value)
    assert str(error.value).count("\n") == 0
