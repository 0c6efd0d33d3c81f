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


# --- each distinct cell checked once, the first bad row still named ----------------------

import math  # noqa: E402
import re  # noqa: E402

import pandas as pd  # noqa: E402
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from helpers.data.schema import to_typed  # noqa: E402
from helpers.io import FORMULA_PREFIXES  # noqa: E402

# Per column, cells a registry repeats: good ones, and each kind of bad one.
_POOLS = {
    "patient_id": ["1", "2", " P-3 ", "=1", "", "  ", "a\nb", "@x"],
    "measure": ["das28", " das28", "sledai2k", "+1", "x\ry"],
    "timepoint": ["baseline", "m6 ", "-m3", ""],
    "unit": ["points", "mg/day", "\tpoints", "=A1"],
    "month": ["0", "6", " 3 ", "six", "1,5", "9" * 70, ""],
    "value": ["5.2", "", "4", " 2.5", "1e999", "NaN", "x", "-1.5e3"],
}
_NUMBER = re.compile(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?")


def _first_problem(rows: list[dict]) -> tuple[int, str] | None:
    """The row and column to_typed must name, found cell by cell in its order of checks:
    per text column, an empty or formula cell, then a line break (spaces around a cell
    do not count); then per number column, a cell too long, not a number, too large."""
    for column in ["patient_id", "measure", "timepoint", "unit"]:
        cells = [row[column].strip() for row in rows]
        for check in (lambda c: c == "" or c.startswith(FORMULA_PREFIXES),
                      lambda c: "\n" in c or "\r" in c):
            bad = [i for i, cell in enumerate(cells) if check(cell)]
            if bad:
                return bad[0], column
    for column, optional in (("month", False), ("value", True)):
        cells = [row[column].strip() for row in rows]
        for check in (lambda c: len(c) > 64,
                      lambda c: not (_NUMBER.fullmatch(c) or (optional and c == "")),
                      lambda c: c != "" and not math.isfinite(float(c))):
            bad = [i for i, cell in enumerate(cells) if check(cell)]
            if bad:
                return bad[0], column
    return None


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.fixed_dictionaries({c: st.sampled_from(p) for c, p in _POOLS.items()}),
                min_size=1, max_size=25),
       st.integers(0, 5))
def test_to_typed_names_the_first_bad_row_of_repeated_cells(rows, offset):
    # Rows share cells, as a registry's do: the check runs once per distinct cell, and
    # the row named is still the first that fails, as a check row by row finds it.
    text = pd.DataFrame(rows, index=pd.RangeIndex(offset, offset + len(rows)), dtype="str")
    expected = _first_problem(rows)
    if expected is None:
        typed = to_typed(text, "x.csv")
        assert typed["value"].tolist() == pytest.approx(
            [float(r["value"]) if r["value"].strip() else math.nan for r in rows],
            nan_ok=True)
        assert typed["patient_id"].tolist() == [r["patient_id"].strip() for r in rows]
        return
    with pytest.raises(InputError) as error:
        to_typed(text, "x.csv")
    assert (error.value.row, error.value.column) == (expected[0] + offset, expected[1])
