"""Each stage of reading a clinic's file, on its own (helpers.data.reader's pipeline).

decode -> locate -> shape -> interpret -> validate: every stage gets small inputs of its
own here, and the corpus of whole exports (test_clinic_exports.py) checks them together.
"""

from __future__ import annotations

import numpy as np
import openpyxl
import pandas as pd
import pytest

from helpers.data.decode import decode, sniff_separator
from helpers.data.interpret import interpret, parse_dates, parse_units
from helpers.data.locate import join_header, locate
from helpers.data.names import (MeasureIndex, column_role, parse_column, parse_visit,
                                summary_label)
from helpers.data.shapes import recognises, to_long
from helpers.errors import InputError
from helpers.vocab import MEASURES, name_key

INDEX = MeasureIndex(MEASURES)


def _write(tmp_path, text: str | bytes, name="f.csv"):
    path = tmp_path / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    return path


def _long(tmp_path, text, name="f.csv", **options):
    decoded = decode(_write(tmp_path, text, name))
    table = locate(decoded, recognises(INDEX), what="measurements", expected="x")
    return to_long(table, INDEX), table


# --- decode -------------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "separator"), [
    ("id,das28_baseline\n1,5.2\n", ","),
    ("id;das28_baseline;das28_m6\n1;5,2;3,1\n2;4;3\n", ";"),  # commas inside numbers
    ("id\tdas28_baseline\n1\t5,2\n", "\t"),
    ("Registro 2024\n\nid|a|b\n1|2|3\n4|5|6\n", "|"),  # a title without separators
    ('id,note\n1,"a; b; c"\n2,"d; e"\n', ","),  # quotes respected
])
def test_the_separator_splits_the_most_lines_alike(text, separator):
    assert sniff_separator(text) == separator


def test_a_separator_that_cannot_be_told_is_refused():
    with pytest.raises(ValueError, match="both ',' and ';' split 3 lines into 2 fields"):
        sniff_separator("a;b,c\n1;2,3\n4;5,6\n")


@pytest.mark.parametrize(("data", "note"), [
    ("id;x\nPatiénte;1\n".encode("cp1252"), "encoding Windows-1252"),
    ("id;x\nPatiénte;1\n".encode("utf-16"), "encoding UTF-16"),
    ("id;x\nPatiénte;1\n".encode("utf-8-sig"), None),
])
def test_excels_own_encodings_are_read(tmp_path, data, note):
    decoded = decode(_write(tmp_path, data))
    assert decoded.grids[0].cells.iloc[1].tolist() == ["Patiénte", "1"]
    assert (note is None) or any(note in n for n in decoded.notes)


def test_bytes_of_no_known_encoding_are_refused_at_their_line(tmp_path):
    with pytest.raises(InputError, match=r"row 2 \(line 3\), column 'b': is neither UTF-8 nor "
                                         r"Windows-1252 text \(byte 0x81\)"):
        decode(_write(tmp_path, b"a,b\n1,2\n3,x\x81\n"))


@pytest.mark.parametrize(("text", "decimal", "cells"), [
    ("id;v\n1;5,2\n2;4\n", "comma", ["5.2", "4"]),
    ("id;v\n1;5.2\n2;4\n", "point", ["5.2", "4"]),
    ("id;v\n1;5,2\n2;4.5\n", "mixed", ["5,2", "4.5"]),  # left for validation to refuse
    ("id;v\n1;1.000\n2;4\n", "grouped", ["1.000", "4"]),  # one, or one thousand?
    ("id;v\n1;1.000\n2;4,5\n", "comma", ["1000", "4.5"]),  # points group thousands
    ("id,v\n1,\"5,2\"\n", "comma-separated", ["5,2"]),
])
def test_the_decimal_mark_is_decided_once_per_file(tmp_path, text, decimal, cells):
    decoded = decode(_write(tmp_path, text))
    assert decoded.decimal == decimal
    assert decoded.grids[0].cells[1].tolist()[1:] == cells


def test_spreadsheet_cells_read_as_typed_and_text_decimal_commas(tmp_path):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["id", "v", "w", "when"])
    sheet.append([1, 6.0, "3,25", pd.Timestamp("2023-01-15").to_pydatetime()])
    sheet.append([2, 2.5, "1,234", None])  # a thousands separator, or a decimal comma?
    sheet.append([3, "=B2*2", "", None])  # a formula never computed
    book.save(tmp_path / "w.xlsx")
    decoded = decode(tmp_path / "w.xlsx")
    cells = decoded.grids[0].cells
    assert cells.iloc[1].tolist() == ["1", "6", "3.25", "2023-01-15"]
    assert cells.iloc[2, 2] == "1,234"  # left as typed: validation refuses it with a hint
    assert decoded.grids[0].uncached == {(3, 1): "B4"}
    assert decoded.notes == ["decimal commas in 1 text cells read as numbers"]


# --- locate -------------------------------------------------------------------------------

def test_join_header_carries_merged_cells_over_their_visits_or_units():
    assert join_header(["ID", "CRP", ""], ["", "mg/dL", "mg/dL"]) == [
        "ID", "CRP mg/dL", "CRP mg/dL"]
    assert join_header(["ID", "Sex", ""], ["", "", "T0"]) == ["ID", "Sex", "Sex T0"]


def test_title_rows_summaries_and_notes_around_the_table(tmp_path):
    text = ("Registro\nEstratto il 2025-03-01\n\nID,das28_T0,das28_T6\nP1,5,3\nP2,4,3\n\n"
            "Media,4.5,3\nDS,0.7,0\nLegenda: T0 = basale\n")
    long, table = _long(tmp_path, text)
    assert table.body.index.tolist() == [1, 2]  # data rows, counted from the header
    assert table.locator.header_line == 4
    assert table.notes == ["2 title rows above the header skipped",
                           "lines 8-10 below the data left out as summaries or notes, not "
                           "patients ('Media', 'DS', 'Legenda: T0 = basale')"]
    # An error in the data names the file's own line.
    # (Long rows run measure by measure, visit by visit: row 2 is P2's das28_T0.)
    with pytest.raises(InputError, match=r"row 2 \(line 6\), column 'das28_T0'"):
        raise long.locator.error("x", row=2, column="value")


@pytest.mark.parametrize(("label", "kind"), [
    ("Media", "summary"), ("Mean (SD)", "summary"), ("Totale pazienti", "summary"),
    ("n=40", "summary"), ("N", "summary"), ("* p<0.05", "note"), ("Note: values", "note"),
    ("Legenda: VES = velocità", "note"), ("PT-001", None), ("12", None), ("N 12", None),
    ("De Luca", None), ("Rossi Maria", None),
])
def test_a_row_label_names_a_patient_or_a_summary(label, kind):
    assert summary_label(label) == kind


def test_a_summary_among_the_patients_is_refused(tmp_path):
    with pytest.raises(InputError, match=r"row 2 \(line 3\), column 'id': 'Mean' is a "
                                         r"summary row, not a patient"):
        _long(tmp_path, "id,das28_baseline,das28_m6\n1,5,3\nMean,4,3\n2,3,2\n")


def test_a_formula_without_a_saved_value_in_the_table_is_refused(tmp_path):
    book = openpyxl.Workbook()
    sheet = book.active
    for row in (["id", "das28_baseline", "das28_m6"], [1, 5.0, "=B2-1"], [2, 4.0, 3.0]):
        sheet.append(row)
    book.save(tmp_path / "f.xlsx")
    with pytest.raises(InputError, match="cell C2 holds a formula without a saved value"):
        locate(decode(tmp_path / "f.xlsx"), recognises(INDEX), what="m", expected="x")


# --- names --------------------------------------------------------------------------------

@pytest.mark.parametrize(("label", "timepoint", "month"), [
    ("baseline", "baseline", 0), ("T0", "baseline", 0), ("BL", "baseline", 0),
    ("Basale", "baseline", 0), ("screening", "baseline", 0), ("W0", "baseline", 0),
    ("M6", "m6", 6), ("T6", "m6", 6), ("6 mesi", "m6", 6), ("month 6", "m6", 6),
    ("Monat 6", "m6", 6), ("6m", "m6", 6), ("month_6_arm_1", "m6", 6),
    ("Month 6 (Arm 1: Anifrolumab)", "m6", 6), ("follow-up 12 months", "m12", 12),
    ("1 year", "m12", 12), ("W24", "w24", 24 * 7 / (365.2425 / 12)),
    ("week 24", "w24", 24 * 7 / (365.2425 / 12)), ("D90", "d90", 90 / (365.2425 / 12)),
    ("V2", "v2", None), ("Visita 3", "v3", None), ("last visit", "last", None),
    ("FU", "last", None), ("Basale (T0)", "baseline", 0), ("6 mesi (T6)", "m6", 6),
    ("Month 6 / V3", "m6", 6), ("dopo 6 mesi", "m6", 6), ("al mese 6", "m6", 6),
])
def test_visit_labels_as_clinics_write_them(label, timepoint, month):
    visit = parse_visit(label)
    assert visit.timepoint == timepoint
    assert visit.month == (None if month is None else pytest.approx(month, abs=1e-12))


@pytest.mark.parametrize("label", ["DAS28", "Post induction", "12", "sex", "",
                                   "6 mesi (T3)"])  # two names that disagree
def test_other_labels_are_not_visits(label):
    assert parse_visit(label) is None


@pytest.mark.parametrize(("name", "measure", "unit", "visit"), [
    ("das28_m6", "das28", None, "m6"), ("DAS28_M6", "das28", None, "m6"),
    ("das28_esr_baseline", "das28_esr", None, "baseline"),
    ("DAS28 (VES) T6", "das28_esr", None, "m6"), ("SLEDAI 2K 6 mesi", "sledai2k", None, "m6"),
    ("crp_mg_dl_m6", "crp", "mg/dL", "m6"), ("CRP (mg/dL) T6", "crp", "mg/dL", "m6"),
    ("CRP T6 (mg/dL)", "crp", "mg/dL", "m6"), ("PCR mg/dl basale", "crp", "mg/dL", "baseline"),
    ("Baseline DAS28", "das28", None, "baseline"), ("VAS global (0-10) W24", "pga", "0-10", "w24"),
    ("Prednisone mg/die T0", "gc_mg_day", "mg/die", "baseline"), ("TJC", "tjc28", None, None),
    ("ESR mm/h", "esr", "mm/h", None), ("DAS28 a 6 mesi", "das28", None, "m6"),
    ("DAS28 Basale (T0)", "das28", None, "baseline"), ("PCR mg/dl al mese 6", "crp", "mg/dL", "m6"),
])
def test_column_names_as_measure_unit_and_visit(name, measure, unit, visit):
    column = parse_column(name, INDEX)
    assert (column.measure, column.unit) == (measure, unit)
    assert (column.visit.timepoint if column.visit else None) == visit


@pytest.mark.parametrize(("name", "role"), [
    ("Patient ID", "id"), ("N°", "id"), ("Codice paziente", "id"), ("record_id", "id"),
    ("Esame", "measure"), ("Risultato", "value"), ("Unità", "unit"), ("Visita", "timepoint"),
    ("redcap_event_name", "timepoint"), ("Data prelievo", "date"),
    ("Data inizio anifrolumab", "start"), ("clinical_visit_complete", "redcap"),
    ("DAS28", None),
])
def test_column_roles(name, role):
    assert column_role(name) == role


def test_no_two_built_in_measures_share_a_name():
    keys = {}
    for measure in MEASURES.values():
        for name in measure.names:
            assert keys.setdefault(name_key(name), measure.code) == measure.code, name
    assert INDEX.suggest("sledaii") == "sledai2k" and INDEX.suggest("hemoglobin") is None


# --- interpret ----------------------------------------------------------------------------

def test_units_stated_in_a_header_are_converted_and_unstated_ones_refused(tmp_path):
    long, _ = _long(tmp_path, "id,crp_mg_dl_baseline,crp_mg_dl_m6\n1,1.5,0.25\n")
    read = interpret(long, INDEX)
    assert read.frame["unit"].tolist() == ["mg/L", "mg/L"]
    np.testing.assert_array_equal(read.factor, [10.0, 10.0])
    assert read.units == {"crp": "mg/L (x10 from mg/dL in column names)"}
    long, _ = _long(tmp_path, "id,crp_baseline,crp_m6\n1,1.5,0.25\n")
    with pytest.raises(InputError, match=r"row 0 \(line 1\), column 'crp_baseline': the unit "
                                         r"of CRP is not stated"):
        interpret(long, INDEX)
    assert interpret(long, INDEX, units={"crp": "mg/L"}).factor.tolist() == [1.0, 1.0]
    long, _ = _long(tmp_path, "id,crp_mg_l_baseline,crp_mg_l_m6\n1,1.5,0.25\n")
    with pytest.raises(InputError, match="UNITS gives 'mg/dL' for crp, but the file states "
                                         "'mg/L'"):
        interpret(long, INDEX, units={"crp": "mg/dL"})


def test_units_option_is_read_and_checked():
    assert parse_units("CRP=mg/dL, VAS global=0-10", INDEX) == {"crp": "mg/dL", "pga": "0-10"}
    for text, message in [("crp", "measure=unit pairs"), ("hb=g/dL", "not a measure"),
                          ("crp=g/L", "cannot convert to mg/L")]:
        with pytest.raises(ValueError, match=message):
            parse_units(text, INDEX)


def test_the_baseline_is_one_label_or_the_run_stops(tmp_path):
    text = ("patient_id,measure,timepoint,month,value,unit\n"
            "1,das28,V1,0,5,points\n1,das28,V2,3,4,points\n1,das28,V3,6,3,points\n")
    long, _ = _long(tmp_path, text)
    read = interpret(long, INDEX)
    assert read.frame["timepoint"].tolist() == ["baseline", "v2", "v3"]  # V1 at month 0
    assert read.visits == {"V1": "baseline", "V2": "v2", "V3": "v3"}
    long, _ = _long(tmp_path, text.replace(",3,4,", ",0,4,"))  # two visits at month 0
    with pytest.raises(InputError, match="no baseline visit"):
        interpret(long, INDEX)
    read = interpret(long, INDEX, baseline="v1")
    assert read.frame["timepoint"].tolist()[0] == "baseline"
    with pytest.raises(InputError, match="BASELINE='Pre' is not a visit of the file; its "
                                         "visits are 'V1', 'V2', 'V3'"):
        interpret(long, INDEX, baseline="Pre")


@pytest.mark.parametrize(("cells", "days", "problem"), [
    (["2023-01-15", "2023-01-15T00:00:00"], [19372, 19372], None),
    (["15/01/2023", "03/02/2023"], [19372, 19391], None),  # 15 > 12: day first
    (["01/15/2023", "02/03/2023"], [19372, 19391], None),  # 15 > 12: month first
    (["15.01.2023", "03.02.2023"], [19372, 19391], None),  # dots: day first
    (["03/04/2023"], None, "could be 3 April or March 4"),
    (["15/01/2023", "01/15/2023"], None, "mix day-first and month-first"),
    (["2023-02-30"], None, "is not a date of the calendar"),
    (["44927"], None, "is not a date"),
])
def test_dates_day_first_or_month_first_only_when_the_column_says(cells, days, problem):
    got, message = parse_dates(pd.Series(cells))
    if problem is None:
        assert message is None and got.tolist() == days
    else:
        assert problem in message


def test_visit_dates_give_months_from_the_start(tmp_path):
    text = ("patient;visit_date;start_date;das28\n"
            "P1;10/01/2023;13/01/2023;5\nP1;14/04/2023;13/01/2023;4\n"
            "P2;13/01/2023;13/01/2023;6\nP2;13/07/2023;13/01/2023;3\n")
    long, _ = _long(tmp_path, text)
    read = interpret(long, INDEX)
    # P1: 91 days after the start; P2: 181 days; a month is 365.2425 / 12 days.
    assert read.frame["timepoint"].tolist() == ["baseline", "m3", "baseline", "m6"]
    assert read.frame["month"].tolist() == ["0", repr(round(91 / 30.436875, 2)), "0",
                                            repr(round(181 / 30.436875, 2))]
    assert "1 baseline visit dated before the start counts as month 0" in read.notes


def test_the_start_named_by_start_is_a_column_or_a_date(tmp_path):
    from helpers.data.reader import read_cohort

    path = _write(tmp_path, "Paziente;Data visita;Avvio ANI;das28\n"
                            "A;2023-01-10;2023-01-12;5\nA;2023-07-12;2023-01-12;3\n")
    frame, reading = read_cohort(path, start="avvio ANI")
    # 2023-01-12 to 2023-07-12: 181 days, 5.95 months of 30.436875 days.
    assert frame["month"].tolist() == [0.0, 5.95]
    assert frame["timepoint"].tolist() == ["baseline", "m6"]
    frame, _ = read_cohort(path, start="2023-01-10")  # one start for everyone
    assert frame["month"].tolist() == [0.0, round(183 / 30.436875, 2)]
    with pytest.raises(InputError, match="START='next week' is not a date"):
        read_cohort(path, start="next week")


def test_a_file_without_a_single_value_stops(tmp_path):
    from helpers.data.reader import read_cohort

    path = _write(tmp_path, "patient_id,das28_baseline,das28_m6\n1,,\n2,,\n")
    with pytest.raises(InputError, match=r"row 1 \(line 2\), column 'das28_baseline': has no "
                                         r"values: every measurement cell is empty"):
        read_cohort(path)
