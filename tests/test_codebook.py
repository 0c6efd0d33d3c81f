"""The codebook: the built-in measures and a user's own, read from a CSV file."""

from __future__ import annotations

from dataclasses import replace

import pandas as pd
import pytest

from helpers.data.codebook import (CODEBOOK_COLUMNS, OPTIONAL_COLUMNS, codebook_table,
                                   load_codebook, read_codebook)
from helpers.data.reader import read_measurements
from helpers.errors import InputError
from helpers.vocab import (DAS28_CATEGORIES, DAS28_LOW, DAS28_MODERATE, DAS28_REMISSION,
                           EULAR_GOOD_IMPROVEMENT, EULAR_MODERATE_IMPROVEMENT,
                           GC_TARGET_EULAR_2023, GC_TARGET_LLDAS, MEASURES,
                           SLEDAI_REDUCTION_POINTS)

HEADER = ",".join(CODEBOOK_COLUMNS + OPTIONAL_COLUMNS) + "\n"


def write(tmp_path, text: str, name: str = "codebook.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_builtin_codebook_covers_the_issue_measures():
    # The measures a clinic records (issue "Your own cohort"), each with a unit and range.
    assert list(MEASURES) == ["sledai2k", "das28", "gc_mg_day", "das28_esr", "das28_crp",
                              "crp", "esr", "tjc28", "sjc28", "pga", "clasi_a"]
    ranges = {code: (m.low, m.high, m.integer, m.unit) for code, m in MEASURES.items()}
    # Joint counts of 28 joints are integers 0-28 (Prevoo 1995); PGA a 0-100 mm VAS;
    # CLASI-A an integer 0-70 (Albrecht 2005); CRP in mg/L as DAS28-CRP needs.
    assert ranges["tjc28"] == ranges["sjc28"] == (0, 28, True, "joints")
    assert ranges["pga"] == (0, 100, False, "mm")
    assert ranges["clasi_a"] == (0, 70, True, "points")
    assert ranges["crp"][3] == "mg/L" and ranges["esr"][3] == "mm/h"
    assert all(m.lower_is_better for m in MEASURES.values())
    assert all(m.source for m in MEASURES.values())


def test_builtin_cutoffs_are_the_vocabulary_constants():
    # One definition: the codebook's cut-offs are the named constants, not copies.
    for code in ("das28", "das28_esr", "das28_crp"):
        assert MEASURES[code].thresholds == (DAS28_REMISSION, DAS28_LOW, DAS28_MODERATE)
        assert MEASURES[code].mcid == EULAR_GOOD_IMPROVEMENT
        assert MEASURES[code].change_thresholds == (EULAR_MODERATE_IMPROVEMENT,
                                                    EULAR_GOOD_IMPROVEMENT)
        assert [key for key, *_ in MEASURES[code].bands] == list(DAS28_CATEGORIES)
    assert MEASURES["gc_mg_day"].thresholds == (GC_TARGET_EULAR_2023, GC_TARGET_LLDAS)
    assert MEASURES["sledai2k"].mcid == SLEDAI_REDUCTION_POINTS
    assert MEASURES["sledai2k"].change_thresholds == (SLEDAI_REDUCTION_POINTS,)


def test_a_user_codebook_extends_and_overrides(tmp_path):
    path = write(tmp_path, HEADER
                 + "haq,HAQ-DI,points,0,3,no,yes,0.22,1;2\n"
                 + "crp,CRP,mg/dL,0,100,no,yes,,\n"
                 + "grip,Grip strength,kg,0,100,no,no,,\n")
    book = load_codebook(path)
    assert list(book)[:3] == ["sledai2k", "das28", "gc_mg_day"]  # built-in order first
    assert book["haq"].name == "HAQ-DI" and book["haq"].mcid == 0.22
    assert book["haq"].thresholds == (1.0, 2.0)
    assert book["haq"].axis_label == "HAQ-DI (points)"
    assert book["crp"].unit == "mg/dL"  # the user's definition wins
    assert book["grip"].lower_is_better is False
    assert book.source == "the built-in codebook + " + str(path)
    # Without optional columns too.
    minimal = write(tmp_path, ",".join(CODEBOOK_COLUMNS) + "\nhaq,HAQ-DI,,0,3,no,yes\n",
                    "minimal.csv")
    assert read_codebook(minimal)[0].mcid is None
    assert read_codebook(minimal)[0].axis_label == "HAQ-DI"


@pytest.mark.parametrize("row, message", [
    ("HAQ,HAQ-DI,points,0,3,no,yes,,", "row 1 (line 2), column 'measure': must be a code of "
     "lower-case letters"),
    ("haq,,points,0,3,no,yes,,", "column 'label': is empty"),
    ("haq,HAQ,points,zero,3,no,yes,,", "column 'min': is not a number (got 'zero')"),
    ("haq,HAQ,points,0,inf,no,yes,,", "column 'max': is not a finite number"),
    ("haq,HAQ,points,3,0,no,yes,,", "column 'max': is below min (3)"),
    ("haq,HAQ,points,0,3,maybe,yes,,", "column 'integer': must be yes or no (got 'maybe')"),
    ("haq,HAQ,points,0,3,no,,,", "column 'lower_is_better': must be yes or no"),
    ("haq,HAQ,points,0,3,no,yes,-1,", "column 'mcid': must be a positive difference"),
    ("haq,HAQ,points,0,3,no,yes,,1;5", "column 'thresholds': has 5 outside min-max (0-3)"),
    ("haq,HAQ,points,0,3,no,yes,,1 2", "column 'thresholds': must be numbers separated"),
    ("haq,HAQ,points,0,3,no,yes,,1;1", "column 'thresholds': has 1 twice"),
    ("haq,HAQ,points,0,3,no,yes,,1;2,,,Low;High",
     "column 'categories': names 2 categories; the 2 thresholds separate 3"),
    ("haq,HAQ,points,0,3,no,yes,,,,,,0;0.5", "column 'change_thresholds': must be "
     "improvements greater than 0"),
    ("haq,HAQ,points,0,3,no,yes,,,,,,-0.5", "column 'change_thresholds': must be improvements greater than 0 (got '-0.5')"),
])
def test_bad_codebook_rows_are_located(tmp_path, row, message):
    path = write(tmp_path, HEADER + row + "\n")
    with pytest.raises(InputError, match=None) as error:
        read_codebook(path)
    assert str(error.value).startswith(str(path)), error.value
    assert message in str(error.value)


def test_bad_codebook_headers_and_repeats(tmp_path):
    with pytest.raises(InputError, match="column 'lower_is_better': required codebook "
                                         "column is missing"):
        read_codebook(write(tmp_path, "measure,label,unit,min,max,integer\nx,X,,0,1,no\n"))
    with pytest.raises(InputError, match="column 'colour': unknown codebook column"):
        read_codebook(write(tmp_path, ",".join(CODEBOOK_COLUMNS) + ",colour\n"
                            "x,X,,0,1,no,yes,red\n"))
    with pytest.raises(InputError, match=r"row 2 \(line 3\), column 'measure': measure "
                                         "'x' is listed twice"):
        read_codebook(write(tmp_path, ",".join(CODEBOOK_COLUMNS) + "\nx,X,,0,1,no,yes\n"
                            "x,X,,0,1,no,yes\n"))


def test_codebook_table_round_trips(tmp_path):
    table = codebook_table(MEASURES)
    assert list(table.columns) == CODEBOOK_COLUMNS + OPTIONAL_COLUMNS
    path = tmp_path / "book.csv"
    table.to_csv(path, index=False)
    again = read_codebook(path)
    for measure in again:
        builtin = MEASURES[measure.code]
        assert (measure.name, measure.unit, measure.low, measure.high, measure.integer,
                measure.lower_is_better, measure.mcid, measure.thresholds) == (
            builtin.name, builtin.unit, builtin.low, builtin.high, builtin.integer,
            builtin.lower_is_better, builtin.mcid, builtin.thresholds)


def test_measurements_follow_the_codebook(tmp_path):
    data = write(tmp_path, "patient_id,measure,timepoint,month,value,unit\n"
                 "1,haq,baseline,0,1.5,points\n1,haq,m6,6,0.875,points\n", "data.csv")
    # Not in the built-in codebook: the message names the codebook and how to extend it.
    with pytest.raises(InputError, match=r"row 1 \(line 2\), column 'measure': measure "
                                         r"'haq' is not in the built-in codebook; declare "
                                         r"it in a codebook \(CODEBOOK=codebook.csv\), or "
                                         r"choose the measures to analyse with MEASURES="):
        read_measurements(data, measures=None)
    book = load_codebook(write(tmp_path, HEADER + "haq,HAQ-DI,points,0,3,no,yes,0.22,\n"))
    frame = read_measurements(data, measures=None, codebook=book)
    assert frame["value"].tolist() == [1.5, 0.875]
    # Its range and unit come from the codebook too.
    high = write(tmp_path, "patient_id,measure,timepoint,month,value,unit\n"
                 "1,haq,baseline,0,3.5,points\n1,haq,m6,6,1,points\n", "high.csv")
    with pytest.raises(InputError, match=r"row 1 \(line 2\), column 'value': value of haq "
                                         r"must be a value from 0 to 3 \(got 3.5\)"):
        read_measurements(high, measures=None, codebook=book)
    # A unit the codebook converts is converted (CRP: 1 mg/dL = 10 mg/L); any other is
    # refused, never read as the codebook's unit.
    unit = write(tmp_path, "patient_id,measure,timepoint,month,value,unit\n"
                 "1,crp,baseline,0,3.5,mg/dL\n1,crp,m6,6,1,mg/dL\n", "unit.csv")
    converted = read_measurements(unit, measures=None)
    assert converted["value"].tolist() == [35.0, 10.0]
    assert converted["unit"].tolist() == ["mg/L", "mg/L"]
    grams = write(tmp_path, "patient_id,measure,timepoint,month,value,unit\n"
                  "1,crp,baseline,0,3.5,g/L\n1,crp,m6,6,1,g/L\n", "grams.csv")
    with pytest.raises(InputError, match=r"row 1 \(line 2\), column 'unit': unit 'g/L' "
                                         r"of CRP is not 'mg/L' and the codebook has no "
                                         r"conversion from it \(it knows mg/L, mg/dL, ug/mL\)"):
        read_measurements(grams, measures=None)
    # Unit spelling is compared without case or spaces.
    spaced = write(tmp_path, "patient_id,measure,timepoint,month,value,unit\n"
                   "1,crp,baseline,0,3.5,MG/l\n1,crp,m6,6,1, mg / L\n", "spaced.csv")
    assert len(read_measurements(spaced, measures=None)) == 2
    assert isinstance(read_measurements(spaced, measures=None), pd.DataFrame)


def test_outcomes_are_the_measures_with_a_follow_up_in_codebook_order():
    from helpers.data.codebook import select_outcomes

    data = pd.DataFrame({"measure": ["crp", "das28", "das28", "crp", "esr"],
                         "timepoint": ["baseline", "baseline", "m6", "m6", "baseline"]})
    assert select_outcomes(data, MEASURES) == (["das28", "crp"], ["esr"])
    assert select_outcomes(data, MEASURES, ["crp"]) == (["crp"], [])
    with pytest.raises(InputError, match="outcomes names 'esr', which has baseline values "
                                         "only: nothing to compare"):
        select_outcomes(data, MEASURES, ["esr"], "d.csv", named_by="outcomes")


def test_a_codebook_round_trips_through_its_file(tmp_path):
    """OUT/data/codebook.csv, read back, is the codebook that wrote it (aliases and
    conversions included)."""
    path = tmp_path / "codebook.csv"
    codebook_table(MEASURES).to_csv(path, index=False)
    book = load_codebook(path)
    for code, measure in MEASURES.items():
        again = book[code]
        # Every field but where it came from and the labels the built-in writes by hand.
        assert again == replace(measure, source=again.source, axis_label=again.axis_label,
                                change_label=again.change_label)


def test_thresholds_in_any_order_and_what_an_override_keeps(tmp_path):
    # Cut-offs are sorted; a redefined DAS28 with the same cut-offs keeps its named
    # categories and its EULAR improvements, one with new cut-offs loses the names.
    same = load_codebook(write(tmp_path, HEADER + "das28,DAS28,points,0,10,no,yes,,5.1;2.6;3.2\n"))
    assert same["das28"].thresholds == (2.6, 3.2, 5.1)
    assert same["das28"].bands == MEASURES["das28"].bands
    assert same["das28"].change_thresholds == (0.6, 1.2)
    assert same["das28"].change_name == "EULAR"
    other = load_codebook(write(tmp_path, HEADER + "das28,DAS28,points,0,10,no,yes,,2.4;3.6\n"))
    assert other["das28"].bands == () and other["das28"].targets == (2.4, 3.6)


def test_a_new_measure_may_not_take_a_built_in_name(tmp_path):
    # sledai_2k *is* sledai2k: a codebook declaring it would leave the SLEDAI-2K response
    # criterion without data, so it is refused with what to do instead.
    path = write(tmp_path, HEADER + "sledai_2k,SLEDAI 2K,points,0,105,yes,yes,,,,\n")
    with pytest.raises(InputError, match=r"row 1 \(line 2\), column 'measure': 'sledai_2k' "
                                         r"is a name of 'sledai2k' \(SLEDAI-2K\) too; data "
                                         r"named so are read as the built-in 'sledai2k' "
                                         r"without a codebook"):
        load_codebook(path)
    # A label that is another measure's alias clashes the same way.
    path = write(tmp_path, HEADER + "my_crp,PCR,mg/L,0,1000,no,yes,,,,\n")
    with pytest.raises(InputError, match="'PCR' is a name of 'crp' \\(CRP\\) too"):
        load_codebook(path)


def test_the_criteria_measures_keep_their_units(tmp_path):
    path = write(tmp_path, HEADER + "gc_mg_day,GC dose,g/day,0,2,no,yes,,,,\n")
    with pytest.raises(InputError, match="column 'unit': gc_mg_day is read by the response "
                                         "criteria in 'mg/day'"):
        load_codebook(path)
    # Redefining a built-in in its own unit keeps its names and conversions.
    path = write(tmp_path, HEADER + "crp,C-reactive protein,mg/L,0,500,no,yes,,,,\n")
    crp = load_codebook(path)["crp"]
    assert crp.high == 500 and crp.aliases == MEASURES["crp"].aliases
    assert crp.unit_factor("mg/dL") == 10


def test_a_user_measure_with_aliases_and_conversions(tmp_path):
    book = load_codebook(write(tmp_path, HEADER + "c3,Complement C3,mg/dL,0,500,no,no,,,"
                                                  "C3 complement;C3c,g/L=100\n"))
    data = write(tmp_path, "Patient;C3c (g/L) T0;C3c (g/L) T6\n1;0,9;1,05\n", "c3.csv")
    frame = read_measurements(data, measures=None, codebook=book)
    # 0.9 g/L = 90 mg/dL, 1.05 g/L = 105 mg/dL (x100, the codebook's conversion).
    assert frame["value"].tolist() == pytest.approx([90.0, 105.0], rel=1e-12)
    assert frame["unit"].tolist() == ["mg/dL", "mg/dL"]
    with pytest.raises(InputError, match=r"column 'conversions': must be unit=factor pairs"):
        load_codebook(write(tmp_path, HEADER + "c3,C3,mg/dL,0,500,no,no,,,,g/L\n"))


def test_the_codebook_written_into_out_reads_back_as_the_same_definitions(tmp_path):
    """OUT's data/codebook.csv (codebook_table) read back gives the codebook used: the
    built-in measures themselves (their figure labels, such as "DAS28 (score)", are not
    columns of the file), and the user's as the user wrote them."""
    from helpers.io import write_csv

    user = write(tmp_path, HEADER + "haq,HAQ-DI,points,0,3,no,yes,0.22,1;2\n")
    book = load_codebook(user)
    written = write_csv(codebook_table(book), tmp_path / "out" / "codebook.csv")
    again = load_codebook(written)
    assert list(again) == list(book)
    assert all(again[code] is MEASURES[code] for code in MEASURES)
    assert again["das28"].axis_label == "DAS28 (score)"
    assert codebook_table(again).equals(codebook_table(book))
    # A built-in measure the user redefined stays the user's.
    changed = write(tmp_path, HEADER + "das28,DAS28,points,0,10,no,yes,0.6,2.6;3.2;5.1\n",
                    "changed.csv")
    assert load_codebook(changed)["das28"].mcid == 0.6
