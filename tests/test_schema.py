"""Validation of a tidy measurements file (ours, or a user's own cohort)."""

from __future__ import annotations

import pytest

from helpers import paths
from helpers.errors import InputError
from helpers.data.reader import read_measurements

HEADER = "patient_id,measure,timepoint,month,value,unit\n"
GOOD = ("1,das28,baseline,0,5.2,points\n"
        "1,das28,last,6,2.1,points\n")


def write(tmp_path, body, header=HEADER):
    path = tmp_path / "measurements.csv"
    path.write_text(header + body, encoding="utf-8")
    return path


def test_reads_the_committed_measurements():
    frame = read_measurements(paths.DATA_PROCESSED / paths.MEASUREMENTS)
    assert len(frame) == 24
    assert frame["value"].isna().sum() == 1  # patient 1's baseline glucocorticoid dose
    assert frame["patient_id"].tolist()[:2] == [1, 1]  # integer labels become integers


def test_reads_a_valid_user_file(tmp_path):
    frame = read_measurements(write(tmp_path, GOOD + "P-2,sledai2k,baseline,0,4,points\n"))
    assert frame["value"].tolist() == [5.2, 2.1, 4.0]
    assert frame["patient_id"].tolist() == ["1", "1", "P-2"]  # mixed labels stay text


@pytest.mark.parametrize(("body", "message"), [
    ("1,das28,baseline,0,12.5,points\n", "row 1 (line 2), column 'value': value of das28 "
     "must be a value from 0 to 10 (got 12.5)"),
    ("1,sledai2k,baseline,0,4.5,points\n", "row 1 (line 2), column 'value': value of "
     "sledai2k must be an integer from 0 to 105"),
    ("1,sledai2k,baseline,0,106,points\n", "must be an integer from 0 to 105 (got 106.0)"),
    (GOOD + "1,gc_mg_day,baseline,0,-4,mg/day\n", "row 3 (line 4), column 'value': value of "
     "gc_mg_day must be a value from 0 to 2000 (got -4.0)"),
    (GOOD + "1,das28,last,6,2.0,points\n", "row 3 (line 4): duplicate of an earlier row with the same patient_id, "
     "measure, timepoint"),
    (GOOD + "2,das28,last,6,2.0,points\n", "row 3 (line 4), column 'timepoint': follow-up "
     "'last' of das28 for patient 2 has no baseline row"),
    (GOOD + "1,crp,baseline,0,2.0,mg/L\n", "row 3 (line 4), column 'measure': must be one of"),
    ("1,das28,baseline,zero,5.2,points\n", "row 1 (line 2), column 'month': is not a finite "
     "number (got 'zero')"),
    ("1,das28,baseline,0,NaN,points\n", "column 'value': is not a finite number (got 'NaN')"),
    ("1,das28,baseline,0,inf,points\n", "column 'value': is not a finite number (got 'inf')"),
    ("1,das28,baseline,0,1e999,points\n", "column 'value': is too large to be a number"),
    ("1,das28,baseline,0,1e300,points\n", "must be a value from 0 to 10 (got 1e+300)"),
    ("1,das28,baseline,0,=1+1,points\n", "column 'value': is not a finite number"),
    ("=cmd|' /C calc'!A0,das28,baseline,0,5,points\n",
     "column 'patient_id': looks like a spreadsheet formula"),
    (",das28,baseline,0,5,points\n", "row 1 (line 2), column 'patient_id': is empty"),
    ("1,das28,?,0,5,points\n", "column 'timepoint': visit '?' is neither a known visit nor a "
                                "name (letters and digits)"),
])
def test_bad_measurements_are_located(tmp_path, body, message):
    path = write(tmp_path, body)
    with pytest.raises(InputError) as error:
        read_measurements(path)
    text = str(error.value)
    assert message in text
    assert "\n" not in text


def test_other_measures_can_be_allowed(tmp_path):
    path = write(tmp_path, "1,crp,baseline,0,2.0,mg/L\n1,crp,m6,6,1.0,mg/L\n")
    assert read_measurements(path, measures=["crp"])["measure"].tolist() == ["crp", "crp"]


def test_ids_with_non_ascii_digits_stay_text(tmp_path):
    # "1" followed by an Arabic-Indic three looks like 13 to \d and int(); it is not
    # patient 13, and the ids stay labels (never converted to numbers).
    body = GOOD + ("1\u0663,das28,baseline,0,5.0,points\n"
                   "1\u0663,das28,last,6,3.0,points\n")
    frame = read_measurements(write(tmp_path, body))
    assert frame["patient_id"].dtype != "int64"
    assert "1\u0663" in set(frame["patient_id"]) and "13" not in set(frame["patient_id"])
