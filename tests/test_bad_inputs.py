"""The bad-input corpus: every malformed file stops the run with one located line.

Each case must (1) exit with status 1, (2) print exactly one line, ``error: <file>, row
R (line L), column 'C': <what>``, and (3) leave every committed output (processed data,
tables, figures, notebooks) byte-for-byte unchanged and write nothing to the output
folder.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest
from conftest import committed_outputs

from helpers import paths
from helpers.data import paper_tables as cleaning
from helpers.pipeline import cohort

CORPUS = Path(__file__).parent / "bad_inputs"

# file -> fragment the one-line error must contain (row/column located where meaningful).
MEASUREMENT_CASES = {
    "wrong_type.csv": "row 1 (line 2), column 'value': is not a finite number (got 'high')",
    "out_of_range_das28.csv": "row 1 (line 2), column 'value': value of das28 must be a "
                              "value from 0 to 10 (got 12.5)",
    "non_integer_sledai.csv": "row 1 (line 2), column 'value': value of sledai2k must be an "
                              "integer from 0 to 105 (got 4.5)",
    "negative_dose.csv": "row 3 (line 4), column 'value': value of gc_mg_day must be a value "
                         "from 0 to 2000 (got -5.0)",
    "negative_month.csv": "row 1 (line 2), column 'month': must be between 0 and 1200 "
                          "(got -1.0)",
    "duplicate_patient_timepoint.csv": "row 3 (line 4): duplicate of an earlier row with "
                                       "the same patient_id, measure, timepoint",
    "followup_without_baseline.csv": "row 3 (line 4), column 'timepoint': follow-up 'last' "
                                     "of das28 for patient 2 has no baseline row",
    "unknown_measure.csv": "row 3 (line 4), column 'measure': measure 'hemoglobin' is not "
                           "in the built-in codebook; declare it in a codebook "
                           "(CODEBOOK=codebook.csv)",
    "arabic_indic_digits.csv": "row 1 (line 2), column 'value': is not a finite number "
                               "(got '\\u0664')",
    "fullwidth_month.csv": "row 2 (line 3), column 'month': is not a finite number (got "
                           "'\\uff16')",
    "hundred_thousand_digits.csv": "row 1 (line 2), column 'value': is too long to be a "
                                   "number (100,000 characters: '1111111111",
    "empty.csv": "file is empty",
    "header_only.csv": "has a header but no data rows",
    "short_row.csv": "row 1 (line 2): has 5 fields where the header has 6",
    "formula_cell.csv": "row 1 (line 2), column 'patient_id': looks like a spreadsheet "
                        "formula",
    "formula_value.csv": "row 1 (line 2), column 'value': is not a finite number (got "
                         "'=2+5')",
    "huge_number.csv": "row 1 (line 2), column 'value': is too large to be a number",
    "nan_string.csv": "row 1 (line 2), column 'value': is not a finite number (got 'NaN')",
    "inf_string.csv": "row 1 (line 2), column 'value': is not a finite number (got 'inf')",
    # Byte 0x81 is neither UTF-8 nor Windows-1252 (Excel's "CSV"), which are read.
    "unknown_encoding.csv": "row 3 (line 4), column 'unit': is neither UTF-8 nor "
                            "Windows-1252 text (byte 0x81); save it as CSV UTF-8",
    # Not CSV text at all, recognised by its first bytes.
    "gzip_compressed.csv": "gzip_compressed.csv: looks like a gzip file; unzip it first",
    "utf16_without_bom.csv": "utf16_without_bom.csv: contains NUL bytes",
    "xlsx_renamed.csv": "xlsx_renamed.csv: is a ZIP archive (an .xlsx workbook is one)",
    "pdf_renamed.csv": "pdf_renamed.csv: is a PDF document, not a data file",
    "blank_lines_only.csv": "file is empty",
    # Structure.
    "duplicate_header.csv": "row 0 (line 1), column 'value': duplicate column name",
    # Visits.
    "only_baselines.csv": "row 1 (line 2), column 'timepoint': every row is a 'baseline' "
                          "row; at least one follow-up visit is needed",
    "followup_before_baseline.csv": "row 2 (line 3), column 'month': follow-up 'last' is "
                                    "dated month 3, before its baseline (month 6)",
    "month_too_large.csv": "row 2 (line 3), column 'month': must be between 0 and 1200 "
                           "(got 5000.0)",
    "month_text.csv": "row 1 (line 2), column 'month': is not a finite number (got 'zero')",
    # Empty or executable text.
    "empty_patient_id.csv": "row 1 (line 2), column 'patient_id': is empty",
    "empty_measure.csv": "row 1 (line 2), column 'measure': is empty",
    "formula_unit.csv": "row 1 (line 2), column 'unit': looks like a spreadsheet formula "
                        "(got '@SUM(A1)')",
    "html_in_measure.csv": "row 1 (line 2), column 'measure': measure '<img src=x "
                           "onerror=alert(1)>' is not in the built-in codebook; declare it "
                           "in a codebook (CODEBOOK=codebook.csv)",
    # Numbers as people type them.
    "value_with_unit.csv": "row 1 (line 2), column 'value': is not a finite number (got "
                           "'5 mg')",
    "value_percent.csv": "row 1 (line 2), column 'value': is not a finite number (got '50%')",
    "decimal_comma_quoted.csv": "row 1 (line 2), column 'value': is not a finite number (got "
                                "'5,2')",
    "thousands_separator.csv": "row 1 (line 2), column 'value': is not a finite number (got "
                               "'1,000')",
    "value_nan_lowercase.csv": "row 1 (line 2), column 'value': is not a finite number (got "
                               "'nan')",
    "value_hexadecimal.csv": "row 1 (line 2), column 'value': is not a finite number (got "
                             "'0x10')",
    "value_infinity_word.csv": "row 1 (line 2), column 'value': is not a finite number (got "
                               "'Infinity')",
    "value_exponent_only.csv": "row 1 (line 2), column 'value': is not a finite number (got "
                               "'e5')",
    "value_two_points.csv": "row 1 (line 2), column 'value': is not a finite number (got "
                            "'1.2.3')",
    "long_text_value.csv": "row 1 (line 2), column 'value': is too long to be a number (300 "
                           "characters: 'abcabc",
    "sledai_above_105.csv": "row 1 (line 2), column 'value': value of sledai2k must be an "
                            "integer from 0 to 105 (got 106.0)",
    "dose_above_2000.csv": "row 1 (line 2), column 'value': value of gc_mg_day must be a "
                           "value from 0 to 2000 (got 2500.0)",
}

RAW_CASES = {
    "unknown_drug": "table1_patients.csv, row 2 (line 3), column 'Previous Therapies': "
                    "unknown drug abbreviation 'XYZ'",
    "decimal_comma": "table2_disease_course.csv, row 1 (line 2): has 15 fields where the "
                     "header has 14",
    "das28_text": "table2_disease_course.csv, row 2 (line 3), column 'DAS28 before ANI': "
                  "expected a number, got 'five'",
    "dose_in_grams": "table2_disease_course.csv, row 3 (line 4), column 'GCs Last Clinical "
                     "Evaluation': unrecognised glucocorticoid dose '4 g'",
    "patient_count_text": "review_table.csv, row 2 (line 3), column 'Number of SLE "
                          "Patients': expected 'N patients'",
    "renamed_header": "table2_disease_course.csv, row 0 (line 1), column 'SLEDAI before "
                      "ANI': required column is missing (found unexpected 'SLEDAI pre')",
}


@pytest.fixture(scope="module")
def before():
    return committed_outputs()


def test_the_corpus_is_complete():
    files = {p.name for p in (CORPUS / "measurements").iterdir()}
    assert files == set(MEASUREMENT_CASES), "every corpus file needs an expected message"
    assert {p.name for p in (CORPUS / "raw").iterdir()} == set(RAW_CASES)
    assert len(MEASUREMENT_CASES) + len(RAW_CASES) + 1 >= 53  # +1: raw checksum mismatch


@pytest.mark.parametrize("name", sorted(MEASUREMENT_CASES))
def test_bad_measurements_stop_the_cohort_run(name, tmp_path, capsys, before):
    out = tmp_path / "out"
    status = cohort.main(["--data", str(CORPUS / "measurements" / name), "--out", str(out),
                          "--quiet"])
    err = capsys.readouterr().err
    assert status == 1
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith(f"error: DATA tests/bad_inputs/measurements/{name}")
    assert MEASUREMENT_CASES[name] in lines[0]
    assert not out.exists(), "nothing may be written for a bad input"
    assert committed_outputs() == before


def _raw_dir(tmp_path: Path, case: str, *, update_checksums: bool = True) -> Path:
    raw = tmp_path / "raw"
    shutil.copytree(paths.DATA_RAW, raw)
    for replacement in (CORPUS / "raw" / case).iterdir():
        shutil.copy(replacement, raw / replacement.name)
    if update_checksums:
        lines = [f"{hashlib.sha256(p.read_bytes()).hexdigest()}  {p.name}"
                 for p in sorted(raw.glob("*.csv"))]
        (raw / "SHA256SUMS").write_text("\n".join(lines) + "\n")
    return raw


@pytest.mark.parametrize("case", sorted(RAW_CASES))
def test_bad_raw_tables_stop_the_cleaning(case, tmp_path, capsys, before):
    status = cleaning.main([str(_raw_dir(tmp_path, case))])
    lines = capsys.readouterr().err.strip().splitlines()
    assert status == 1
    assert len(lines) == 1
    assert RAW_CASES[case] in lines[0]
    assert committed_outputs() == before


def test_a_changed_raw_file_fails_its_checksum(tmp_path, capsys, before):
    status = cleaning.main([str(_raw_dir(tmp_path, "das28_text", update_checksums=False))])
    lines = capsys.readouterr().err.strip().splitlines()
    assert status == 1 and len(lines) == 1
    assert "table2_disease_course.csv: checksum mismatch" in lines[0]
    assert committed_outputs() == before


def test_the_default_raw_data_pass(capsys):
    assert cleaning.main([str(paths.DATA_RAW)]) == 0
    assert "measurements.csv: 24 rows" in capsys.readouterr().out


def test_the_output_folder_may_not_overlap_committed_results(tmp_path, capsys, before):
    status = cohort.main(["--data", str(paths.DATA_PROCESSED / paths.MEASUREMENTS),
                          "--out", "reports/mine", "--quiet"])
    err = capsys.readouterr().err
    assert status == 1
    assert err.strip() == ("error: OUT reports/mine: output folder is inside the project but "
                           "not in a folder git ignores; use out/<name> or a folder outside "
                           "the project")
    assert committed_outputs() == before
