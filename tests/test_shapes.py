"""A cohort in the shapes clinics use: tidy or wide, CSV, xlsx or Parquet."""

from __future__ import annotations

import numpy as np
import openpyxl
import pandas as pd
import pytest

from helpers.data.reader import read_measurements
from helpers.data.decode import detect_format
from helpers.data.reader import read_cohort
from helpers.errors import InputError

WIDE = ("patient_id,das28_baseline,das28_m6,sledai2k_baseline,sledai2k_m6,sledai2k_m12\n"
        "P1,5.2,3.1,8,4,2\n"
        "P2,4.4,,6,6,\n")
# The same cohort, tidy, written out by hand: one row per patient, measure and visit
# (an empty wide cell is a missing value, kept as a row with no value).
TIDY = pd.DataFrame(
    [("P1", "das28", "baseline", 0.0, 5.2, "points"),
     ("P2", "das28", "baseline", 0.0, 4.4, "points"),
     ("P1", "das28", "m6", 6.0, 3.1, "points"),
     ("P2", "das28", "m6", 6.0, np.nan, "points"),
     ("P1", "sledai2k", "baseline", 0.0, 8.0, "points"),
     ("P2", "sledai2k", "baseline", 0.0, 6.0, "points"),
     ("P1", "sledai2k", "m6", 6.0, 4.0, "points"),
     ("P2", "sledai2k", "m6", 6.0, 6.0, "points"),
     ("P1", "sledai2k", "m12", 12.0, 2.0, "points"),
     ("P2", "sledai2k", "m12", 12.0, np.nan, "points")],
    columns=["patient_id", "measure", "timepoint", "month", "value", "unit"])


def _xlsx(path, rows, sheet="Data", extra_sheet=False):
    book = openpyxl.Workbook()
    if extra_sheet:
        book.active.title = "Notes"
        book.active.append(["this sheet is not data"])
        worksheet = book.create_sheet(sheet)
    else:
        worksheet = book.active
        worksheet.title = sheet
    for row in rows:
        worksheet.append(row)
    book.save(path)
    return path


def _rows(text: str) -> list[list]:
    """CSV text as spreadsheet rows, numbers as numbers (as a person types them)."""
    out = []
    for line in text.strip().splitlines():
        cells = []
        for cell in line.split(","):
            try:
                cells.append(float(cell) if "." in cell else int(cell))
            except ValueError:
                cells.append(cell or None)
        out.append(cells)
    return out


def test_wide_csv_becomes_the_tidy_table(tmp_path):
    path = tmp_path / "wide.csv"
    path.write_text(WIDE)
    frame = read_measurements(path, measures=None)
    pd.testing.assert_frame_equal(frame, TIDY)
    assert read_cohort(path)[1].shape == "wide"


def test_xlsx_tidy_and_wide_with_sheet(tmp_path):
    wide = _xlsx(tmp_path / "wide.xlsx", _rows(WIDE), extra_sheet=True)
    assert detect_format(wide) == "xlsx"
    pd.testing.assert_frame_equal(read_measurements(wide, measures=None, sheet="Data"), TIDY)
    # Default: the one sheet that holds a table (the first holds notes), said so.
    frame, reading = read_cohort(wide, measures=None)
    pd.testing.assert_frame_equal(frame, TIDY)
    assert "sheet 'Data' (no table of measurements in 'Notes')" in reading.notes
    # Two sheets with tables: never a guess between them.
    book = openpyxl.load_workbook(wide)
    copy = book.copy_worksheet(book["Data"])
    copy.title = "Data (2)"
    book.save(tmp_path / "two.xlsx")
    with pytest.raises(InputError, match=r"several sheets hold tables of measurements "
                                         r"\('Data', 'Data \(2\)'\); choose one with SHEET="):
        read_measurements(tmp_path / "two.xlsx", measures=None)
    with pytest.raises(InputError, match=r"has no sheet 'Visits'; its sheets are 'Notes', "
                                         r"'Data'"):
        read_measurements(wide, measures=None, sheet="Visits")
    tidy_rows = [list(TIDY.columns)] + [
        [r.patient_id, r.measure, r.timepoint, int(r.month),
         None if np.isnan(r.value) else r.value, r.unit] for r in TIDY.itertuples()]
    tidy = _xlsx(tmp_path / "tidy.xlsx", tidy_rows)
    pd.testing.assert_frame_equal(read_measurements(tidy, measures=None), TIDY)


def test_xlsx_errors_name_the_spreadsheet_row(tmp_path):
    rows = _rows(WIDE)
    rows[2][2] = "high"  # P2's das28_m6: spreadsheet row 3, column C
    bad = _xlsx(tmp_path / "bad.xlsx", rows)
    with pytest.raises(InputError) as error:
        read_measurements(bad, measures=None)
    assert str(error.value).endswith(
        "bad.xlsx [sheet 'Data'], row 2 (spreadsheet row 3), column 'das28_m6': is not a "
        "finite number (got 'high')")
    # Blank rows are skipped but counted: the error is on the row a person sees.
    rows = _rows(WIDE)
    rows.insert(2, [None] * len(rows[0]))
    rows[3][1] = 11.0  # DAS28 above its range, now on spreadsheet row 4
    gap = _xlsx(tmp_path / "gap.xlsx", rows)
    with pytest.raises(InputError, match=r"row 3 \(spreadsheet row 4\), column "
                                         r"'das28_baseline': value of das28 must be a value "
                                         r"from 0 to 10 \(got 11.0\)"):
        read_measurements(gap, measures=None)


def test_parquet_tidy_and_wide(tmp_path):
    TIDY.to_parquet(tmp_path / "tidy.parquet")
    assert detect_format(tmp_path / "tidy.parquet") == "parquet"
    pd.testing.assert_frame_equal(read_measurements(tmp_path / "tidy.parquet",
                                                    measures=None), TIDY)
    wide = pd.read_csv(pd.io.common.StringIO(WIDE))
    wide.to_parquet(tmp_path / "wide.parquet")
    pd.testing.assert_frame_equal(read_measurements(tmp_path / "wide.parquet",
                                                    measures=None), TIDY)
    wide.loc[1, "sledai2k_m6"] = 200
    wide.to_parquet(tmp_path / "bad.parquet")
    # Parquet has no lines: the row alone locates it.
    with pytest.raises(InputError, match=r"bad.parquet, row 2, column 'sledai2k_m6': value "
                                         r"of sledai2k must be an integer from 0 to 105"):
        read_measurements(tmp_path / "bad.parquet", measures=None)


@pytest.mark.parametrize("text, message", [
    (WIDE.replace("das28_m6", "das28_mese"),
     "row 0 (line 1), column 'das28_mese': starts with the measure das28 but its visit "
     "'mese' cannot be read"),
    (WIDE.replace("das28_m6", "haq_m6"),
     "row 0 (line 1), column 'haq_m6': measure 'haq' is not in the built-in codebook"),
    (WIDE.replace("P2,", "P1,"),
     "row 2 (line 3), column 'patient_id': patient 'P1' has a second row"),
    (WIDE.replace("das28_m6", "das28_m06").replace("sledai2k_m6", "das28_m6"),
     "row 0 (line 1), column 'das28_m6': is the same measure and visit as column "
     "'das28_m06'"),
    (WIDE.replace("P2,4.4", ",4.4"), "row 2 (line 3), column 'patient_id': is empty"),
    (WIDE.replace("P1,5.2,3.1,8,4,2", "P1,5.2,3.1,8,4.5,2"),
     "row 1 (line 2), column 'sledai2k_m6': value of sledai2k must be an integer"),
    (WIDE.replace("P1,5.2,3.1", "P1,5.2,7,1"),
     "row 1 (line 2): has 7 fields where the header has 6"),
    ("id,das28_baseline\n1,2\n", "row 0 (line 1), column 'das28_baseline': every row is a "
                                  "'baseline' row"),
    ("id,sex\n1,F\n", "row 0 (line 1): names no measure ('id', 'sex')"),
    ("sex,das28_baseline,das28_m6\nF,2,3\n", "row 0 (line 1): has no patient id column: name "
                                             "it patient_id"),
    ("a,b\n1,2\n", "found no header row of measurements in the first 30 rows"),
])
def test_wide_errors_are_located_in_the_file(tmp_path, text, message):
    path = tmp_path / "wide.csv"
    path.write_text(text)
    with pytest.raises(InputError) as error:
        read_measurements(path, measures=None)
    assert message in str(error.value), error.value


def test_wide_columns_that_are_not_measures_are_named_and_skipped(tmp_path):
    path = tmp_path / "wide.csv"
    path.write_text(WIDE.replace("patient_id,", "patient_id,sex,").replace("P1,", "P1,F,")
                    .replace("P2,", "P2,M,"))
    frame, reading = read_cohort(path, measures=None)
    pd.testing.assert_frame_equal(frame, TIDY)
    assert "column 'sex' not analysed" in reading.notes


def test_words_for_a_value_not_measured_are_missing_values_said_so(tmp_path):
    rows = _rows(WIDE)
    rows[1][2], rows[2][4] = "n.d.", "NA"  # P1's das28_m6, P2's sledai2k_m6
    frame, reading = read_cohort(_xlsx(tmp_path / "nd.xlsx", rows), measures=None)
    expected = TIDY.copy()
    expected.loc[2, "value"] = expected.loc[7, "value"] = np.nan
    pd.testing.assert_frame_equal(frame, expected)
    assert "2 values written 'NA', 'n.d.' read as missing" in reading.notes


def test_sheet_is_only_for_spreadsheets(tmp_path):
    path = tmp_path / "wide.csv"
    path.write_text(WIDE)
    with pytest.raises(InputError, match="SHEET='Data' is only for .xlsx files; this is csv"):
        read_measurements(path, measures=None, sheet="Data")


@pytest.mark.parametrize("cell, hint", [
    ("None", "is not a finite number (got 'None'); it could mean 0 or not recorded: write 0, "
             "or leave the cell empty for a missing value"),
    ("NaN", "is not a finite number (got 'NaN'); leave the cell empty for a missing value"),
    ("#DIV/0!", "is not a finite number (got '#DIV/0!'); a spreadsheet error: fix the "
                "formula, or leave the cell empty"),
    ("<5", "is not a finite number (got '<5'); a value beyond a detection limit needs a "
           "number (such as the limit)"),
])
def test_what_clinics_type_gets_a_hint(tmp_path, cell, hint):
    rows = _rows(WIDE)
    rows[1][2] = cell  # P1's das28_m6, spreadsheet row 2
    path = _xlsx(tmp_path / "clinic.xlsx", rows)
    with pytest.raises(InputError) as error:
        read_measurements(path, measures=None)
    assert "row 1 (spreadsheet row 2), column 'das28_m6': " + hint in str(error.value)
