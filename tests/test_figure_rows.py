"""What the patients' figures draw, computed without drawing (helpers.figures.patients).

Each figure's rows function (positions, bar heights, colours, texts, limits, the
description) is pure numpy/pandas: these tests call it without a figure and compare
with numbers worked out by hand, written here. The fixtures are the paper's four
patients (Cassone et al., J. Pers. Med. 2025, Table 2, tests/support/paper.py): DAS28
7.22->2.18, 5.59->1.89, 4.57->2.31, 2.38->2.38, so changes -5.04, -3.7, -2.26, 0.0 and
EULAR responses good, good, good, none. That the drawing of these rows is unchanged is
tests/test_plots.py's business (the committed figures, byte for byte).
"""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd
import pytest

from helpers.figures.patients import (
    ProfileRows,
    SlopeRows,
    SwimmerRows,
    WaterfallRows,
    profile_rows,
    slope_rows,
    swimmer_rows,
    waterfall_rows,
)
from support.paper import figure_patients, figure_profile, table2_measurements

# The colours, written out: dark blue / Okabe-Ito blue / Okabe-Ito sky blue for the EULAR
# categories (darkest for the best), light grey for "not assessable", Okabe-Ito blue for
# one colour.
GOOD, MODERATE, NONE, MISSING, BLUE = "#00385A", "#0072B2", "#56B4E9", "#D9D9D9", "#0072B2"
MINUS = "\u2212"
LE = "\u2264"


@pytest.fixture
def patients() -> pd.DataFrame:
    return figure_patients()


@pytest.fixture
def profile() -> pd.DataFrame:
    return figure_profile()


def _column(frame: pd.DataFrame, name: str) -> list:
    return frame[name].tolist()


# --- waterfall -------------------------------------------------------------------------


def test_waterfall_rows_of_the_papers_four_patients(patients):
    rows = waterfall_rows(patients)
    assert isinstance(rows, WaterfallRows)
    assert (rows.mode, rows.labelled, rows.by_response) == ("bars", True, True)
    # Sorted from the largest rise to the largest improvement: Pt 4, 3, 2, 1.
    bars = rows.bars
    assert _column(bars, "position") == [0, 1, 2, 3]
    np.testing.assert_allclose(_column(bars, "change"), [0.0, -2.26, -3.7, -5.04], atol=1e-12)
    assert _column(bars, "category") == ["none", "good", "good", "good"]
    assert _column(bars, "color") == [NONE, GOOD, GOOD, GOOD]
    # y runs from the largest fall and the 1.2 line (-5.04) to 0, 12% of 5.04 beyond.
    assert rows.ylim == pytest.approx((-5.04 - 0.6048, 0.6048))
    assert rows.xlim == pytest.approx((-0.6, 3.6))
    # Each number stands 2.5% of the span (0.126) beyond its bar's end.
    labels = rows.labels
    assert _column(labels, "tick") == ["Pt 4", "Pt 3", "Pt 2", "Pt 1"]
    assert _column(labels, "text") == ["0.00", f"{MINUS}2.26", f"{MINUS}3.70", f"{MINUS}5.04"]
    np.testing.assert_allclose(_column(labels, "y"), [0.126, -2.386, -3.826, -5.166],
                               atol=1e-12)
    assert _column(labels, "va") == ["bottom", "top", "top", "top"]
    assert not any(_column(labels, "missing"))
    # DAS28's EULAR improvements, from the codebook, largest first.
    assert rows.thresholds == (1.2, 0.6)
    assert rows.threshold_labels == (f"{MINUS}1.2", f"{MINUS}0.6")
    assert rows.threshold_name == "EULAR"
    assert rows.value_label == f"DAS28 change\n(last visit {MINUS} baseline)"
    assert rows.xlabel == ""
    assert rows.legend == (("Good", GOOD), ("Moderate", MODERATE), ("No response", NONE))
    assert rows.subject == ("Bars of the change per patient, sorted from the largest rise "
                            "to the largest improvement")
    assert rows.detail == ("4 patients, DAS28 change from 0 to -5.04 (negative is "
                           "improvement); EULAR response 3 good, 0 moderate, 1 no response")


def test_waterfall_rows_with_a_missing_change_and_category(patients):
    gaps = patients.astype({"eular_response": object})
    gaps.loc[1, "das28_change"] = np.nan  # Pt 2: no change, an "n/a" last
    gaps.loc[2, "eular_response"] = None  # Pt 3: not assessable, grey
    rows = waterfall_rows(gaps)
    # Pt 4, 3, 1, then Pt 2 without a change (its response, good, still counts).
    assert _column(rows.bars, "category") == ["none", None, "good", "good"]
    assert _column(rows.bars, "color") == [NONE, MISSING, GOOD, GOOD]
    labels = rows.labels
    assert _column(labels, "tick") == ["Pt 4", "Pt 3", "Pt 1", "Pt 2"]
    assert _column(labels, "text") == ["0.00", f"{MINUS}2.26", f"{MINUS}5.04", "n/a"]
    np.testing.assert_allclose(_column(labels, "y"), [0.126, -2.386, -5.166, 0.126],
                               atol=1e-12)
    assert _column(labels, "va") == ["bottom", "top", "top", "bottom"]
    assert _column(labels, "missing") == [False, False, False, True]
    assert rows.legend[-1] == ("Not assessable", MISSING)
    assert rows.detail.endswith("EULAR response 2 good, 0 moderate, 1 no response")


def test_waterfall_rows_without_hue_and_with_given_thresholds(patients):
    rows = waterfall_rows(patients, hue=None, thresholds=[2.0])
    assert _column(rows.bars, "color") == [BLUE] * 4
    assert _column(rows.bars, "category") == [None] * 4
    assert rows.legend == () and not rows.by_response
    assert (rows.thresholds, rows.threshold_labels, rows.threshold_name) == (
        (2.0,), (f"{MINUS}2",), "")
    assert rows.detail == ("4 patients, DAS28 change from 0 to -5.04 (negative is "
                           "improvement)")
    # A fall of 6 below the largest value: the line at -6 sets the bottom.
    rows = waterfall_rows(patients, hue=None, thresholds=[6.0])
    assert rows.ylim == pytest.approx((-6.0 - 0.72, 0.72))


def test_waterfall_rows_of_more_patients():
    # 31 patients: bars, but too many to number; 301: a histogram of the change.
    def cohort(n: int) -> pd.DataFrame:
        return pd.DataFrame({"patient_id": np.arange(1, n + 1), "das28_change": -1.0,
                             "eular_response": "moderate"})

    rows = waterfall_rows(cohort(31))
    assert (rows.mode, rows.labelled, len(rows.bars), len(rows.labels)) == ("bars", False,
                                                                          31, 0)
    assert rows.xlabel == "Patients (n = 31), sorted by change"
    rows = waterfall_rows(cohort(301))
    assert (rows.mode, rows.xlim, rows.ylim) == ("distribution", None, None)
    assert _column(rows.bars, "category") == ["moderate"] * 301
    assert rows.subject == "Histogram of the change per patient, stacked by EULAR response"
    # A fall of 1 passes 0.6, not 1.2.
    assert rows.detail == ("301 patients with a change, median -1; 0% improved by more than "
                           "1.2; 100% improved by more than 0.6")
    assert waterfall_rows(cohort(4), mode="distribution").mode == "distribution"
    with pytest.raises(ValueError, match="mode must be"):
        waterfall_rows(cohort(4), mode="histogram")
    with pytest.raises(ValueError, match="EULAR response"):
        waterfall_rows(cohort(4).assign(eular_response="excellent"))


# --- swimmer ---------------------------------------------------------------------------


def test_swimmer_rows_of_the_papers_four_patients(patients):
    rows = swimmer_rows(patients)
    assert isinstance(rows, SwimmerRows)
    people = rows.patients
    assert _column(people, "position") == [0, 1, 2, 3]
    assert _column(people, "tick") == ["Pt 1", "Pt 2", "Pt 3", "Pt 4"]
    # 15, 60, 192, 168 months are 1.25, 5, 16, 14 years, drawn left of 0.
    np.testing.assert_allclose(_column(people, "before"), [1.25, 5, 16, 14])
    np.testing.assert_allclose(_column(people, "before_bar"), [-1.25, -5, -16, -14])
    assert _column(people, "treatment_bar") == [12, 9, 14, 4]
    assert _column(people, "response") == [True, True, True, True]
    assert (rows.left_max, rows.right_max) == (16.0, 14.0)
    assert rows.xlim == pytest.approx((-16.64, 15.68))  # 4% and 12% beyond
    assert rows.ylim == (3.6, -0.6)  # first patient on top
    assert rows.legend == (("before", "SLE before anifrolumab (years)"),
                           ("on-treatment", "On anifrolumab (months)"),
                           ("response-yes", "Response"))
    assert rows.side_labels == ("\u2190 SLE duration (years)", "On anifrolumab (months) \u2192")
    assert rows.detail == ("4 patients, SLE for 1.25 to 16 years before anifrolumab, then "
                           "4 to 14 months on it; 4 with a response and 0 without")


def test_swimmer_rows_with_gaps_in_months_and_without_responses(patients):
    gaps = patients.astype({"response_paper": object, "disease_duration_months": float})
    gaps.loc[0, "response_paper"] = None
    gaps.loc[1, "response_paper"] = "No"
    gaps.loc[2, "disease_duration_months"] = np.nan
    rows = swimmer_rows(gaps, before_unit="months")
    people = rows.patients
    np.testing.assert_allclose(_column(people, "before"), [15, 60, np.nan, 168])
    assert _column(people, "before_bar") == [-15, -60, 0, -168]
    assert _column(people, "response") == [None, False, True, True]
    assert [key for key, _ in rows.legend] == ["before", "on-treatment", "response-yes",
                                               "response-no"]
    assert rows.left_max == 168.0
    assert rows.detail == ("4 patients, SLE for 15 to 168 months before anifrolumab, then "
                           "4 to 14 months on it; 2 with a response and 1 without")
    rows = swimmer_rows(patients, response=None)
    assert _column(rows.patients, "response") == [None] * 4
    assert len(rows.legend) == 2 and "response" not in rows.detail
    with pytest.raises(ValueError, match="before_unit"):
        swimmer_rows(patients, before_unit="days")


# --- profile heatmap -------------------------------------------------------------------


def test_profile_rows_marks_not_reported(profile):
    rows = profile_rows(profile)
    assert isinstance(rows, ProfileRows)
    np.testing.assert_array_equal(rows.flags, [[1, 1, 0, 1],
                                               [1, 1, 1, 0],
                                               [np.nan, 1, np.nan, np.nan],
                                               [1, 1, 0, 0]])
    assert rows.missing.tolist() == [[2, 0], [2, 2], [2, 3]]
    assert rows.features == ("anti-dsDNA", "anti-SSA/Ro", "anti-CCP", "HCQ intolerance")
    assert rows.patients == ("Pt 1", "Pt 2", "Pt 3", "Pt 4")
    assert rows.groups == ()
    assert rows.detail == "4 features of 4 patients; 9 cells yes, 4 no and 3 not reported"


def test_profile_rows_groups_labels_and_bad_values(profile):
    groups = {"Autoantibodies": ["anti-dsDNA", "anti-CCP"], "Intolerance": ["HCQ intolerance"]}
    rows = profile_rows(profile, features=groups, feature_labels={"anti-CCP": "CCP"})
    assert rows.features == ("anti-dsDNA", "CCP", "HCQ intolerance")
    assert rows.groups == (("Autoantibodies", 0, 2), ("Intolerance", 2, 3))
    assert rows.detail == ("3 features of 4 patients in 2 groups, Autoantibodies, "
                           "Intolerance; 6 cells yes, 3 no and 3 not reported")
    # Without a patient_id column the index names the patients.
    rows = profile_rows(profile.drop(columns="patient_id").set_axis(["A", "B", "C", "D"]),
                        features=["anti-CCP"])
    assert rows.patients == ("A", "B", "C", "D") and rows.flags.shape == (1, 4)
    with pytest.raises(ValueError, match="yes/no"):
        profile_rows(profile.assign(**{"anti-CCP": "maybe"}))
    with pytest.raises(TypeError, match="DataFrame"):
        profile_rows(profile.to_dict())


# --- slope chart -----------------------------------------------------------------------


def test_slope_rows_of_the_papers_das28():
    rows = slope_rows(table2_measurements(), measure="das28")
    assert isinstance(rows, SlopeRows)
    assert (rows.mode, rows.n_patients, rows.label_patients) == ("paired", 4, True)
    lines = rows.lines
    assert lines.index.tolist() == [1, 2, 3, 4]
    assert _column(lines, "before") == [7.22, 5.59, 4.57, 2.38]
    assert _column(lines, "after") == [2.18, 1.89, 2.31, 2.38]
    assert _column(lines, "color") == [BLUE, "#E69F00", "#009E73", "#D55E00"]
    assert _column(lines, "label") == ["Pt 1", "Pt 2", "Pt 3", "Pt 4"]
    # The codebook's DAS28 categories (Prevoo 1995 / Fransen 2004), no other line.
    assert rows.bands == (("remission", "Remission", 0.0, 2.6), ("low", "Low", 2.6, 3.2),
                          ("moderate", "Moderate", 3.2, 5.1), ("high", "High", 5.1, 10.0))
    assert rows.targets == ()
    # From 0 to the highest value, 7.22, with 4% below and 8% above.
    assert rows.ylim == pytest.approx((-0.2888, 7.7976))
    assert rows.xlim == (-0.25, 1.45)
    assert rows.xticklabels == ("Before\nanifrolumab", "Last\nvisit")
    assert rows.ylabel == "DAS28 (score)"
    assert rows.legend == ()
    assert rows.subject == "One line per patient from before anifrolumab to last visit"
    # Medians (5.59 + 4.57) / 2 = 5.08 and (2.18 + 2.31) / 2 = 2.245, to 3 digits.
    assert rows.detail == ("DAS28 fell in 3 of 4 patients, stayed the same in 1 and rose "
                           "in 0, median 5.08 to 2.25")
    rows = slope_rows(table2_measurements(), measure="das28", bands=False, target=4.0,
                      label_patients=False)
    assert (rows.bands, rows.targets) == ((), ((4.0, f"Target {LE} 4 points"),))
    assert rows.xlim == (-0.25, 1.25) and not rows.label_patients


def test_slope_rows_of_the_papers_glucocorticoid_dose():
    rows = slope_rows(table2_measurements(), measure="gc_mg_day")
    # EULAR 2023 (5 mg/day) and LLDAS (7.5 mg/day) from the codebook, as written.
    assert rows.targets == ((5.0, f"{LE} 5 mg/day"), (7.5, f"{LE} 7.5 mg/day"))
    assert rows.bands == ()
    np.testing.assert_array_equal(_column(rows.lines, "before"), [np.nan, 8, 6, 8])
    assert _column(rows.lines, "after") == [0, 0, 4, 2]
    # Pt 1 has no baseline dose: one open marker, explained by the legend.
    assert rows.legend == ("Other visit not reported",)
    assert rows.ylim == pytest.approx((-0.32, 8.64))  # 0 to 8, the highest dose
    assert rows.detail == ("Glucocorticoid dose (mg/day) fell in 3 of 3 patients, stayed "
                           "the same in 0 and rose in 0, median 8 to 2, 1 with one visit "
                           "reported")


def _three_visits() -> pd.DataFrame:
    # Three patients' DAS28 at months 0, 6 and 12; the rows of month 12 come first.
    values = {1: (4, 3, 2), 2: (6, 4, 3), 3: (8, 5, 4)}
    rows = [(p, visit, month, float(v[i])) for i, (visit, month) in reversed(
        list(enumerate([("baseline", 0), ("m6", 6), ("m12", 12)])))
        for p, v in values.items()]
    frame = pd.DataFrame(rows, columns=["patient_id", "timepoint", "month", "value"])
    return frame.assign(measure="das28", unit="points")


def test_slope_rows_of_a_cohort_over_visits():
    rows = slope_rows(_three_visits(), measure="das28")
    assert (rows.mode, rows.n_patients) == ("cohort", 3)  # two follow-ups: not paired
    # Visits by month; each patient's course; the quartiles per visit.
    summary = rows.summary
    assert summary.index.tolist() == ["baseline", "m6", "m12"]
    assert _column(summary, "month") == [0, 6, 12]
    assert _column(summary, "q25") == [5, 3.5, 2.5]
    assert _column(summary, "q50") == [6, 4, 3]
    assert _column(summary, "q75") == [7, 4.5, 3.5]
    np.testing.assert_array_equal(rows.lines["value"], [[4, 3, 2], [6, 4, 3], [8, 5, 4]])
    np.testing.assert_array_equal(rows.lines["month"], [[0, 6, 12]] * 3)
    assert rows.xlim == pytest.approx((-0.24, 12.24))  # 2% of 12 either side
    assert rows.ylim == pytest.approx((-0.32, 8.64))
    assert rows.legend == ("Patients (n = 3)", "Median", "IQR")
    assert rows.detail == "DAS28 of 3 patients, median 6 before anifrolumab and 3 at month 12"


def test_slope_rows_without_months_space_the_visits_evenly_and_name_them():
    # The same three visits with no month column: the baseline at 0, then the others in
    # order of first appearance (m12's rows come first in the file), named from the data.
    frame = _three_visits().drop(columns="month")
    labels = {"baseline": "Week 0", "m12": "Week 52"}
    rows = slope_rows(frame, measure="das28", visit_labels=labels)
    assert rows.mode == "cohort"
    assert rows.summary.index.tolist() == ["baseline", "m12", "m6"]
    assert _column(rows.summary, "month") == [0, 1, 2]  # positions, not months
    assert _column(rows.summary, "q50") == [6, 3, 4]
    assert rows.xticklabels == ("Week 0", "Week 52", "Month 6")  # m6 from its code
    assert rows.xlim == (-0.3, 2.3)
    assert "over visits" in rows.subject
    assert rows.detail == "DAS28 of 3 patients, median 6 at week 0 and 4 at month 6"
    spread = slope_rows(frame, measure="das28", mode="distribution", visit_labels=labels)
    assert spread.xticklabels == ("Week 0", "Week 52", "Month 6")
    assert _column(spread.summary, "q50") == [6, 3, 4]
    # Paired charts never needed months; the labels name the two visits.
    two = frame[frame["timepoint"] != "m6"]
    paired = slope_rows(two, measure="das28", visit_labels=labels)
    assert (paired.mode, paired.xticklabels) == ("paired", ("Week 0", "Week 52"))
    assert paired.subject == "One line per patient from week 0 to week 52"
    with pytest.raises(ValueError, match="visit_labels must be a mapping"):
        slope_rows(frame, measure="das28", visit_labels=["Week 0"])


def test_slope_rows_distribution_of_a_measure_outside_the_codebook():
    # Five patients' made-up scores, 1..5 at baseline and 0, 1, 1, 2, 6 at month 6.
    frame = pd.DataFrame({
        "patient_id": list(range(1, 6)) * 2,
        "timepoint": ["baseline"] * 5 + ["last"] * 5,
        "month": [0] * 5 + [6] * 5,
        "value": [1.0, 2, 3, 4, 5, 0, 1, 1, 2, 6],
    }).assign(measure="haq", unit="points")
    rows = slope_rows(frame, measure="haq", mode="distribution")
    assert (rows.mode, rows.n_patients, rows.xlim) == ("distribution", 5, None)
    summary = rows.summary
    assert summary.index.tolist() == ["baseline", "last"]
    # Linear interpolation between order statistics: P10 of 1..5 is 1 + 0.4.
    np.testing.assert_allclose(summary.loc["baseline", ["q10", "q25", "q50", "q75", "q90"]]
                               .to_numpy(dtype=float), [1.4, 2, 3, 4, 4.6])
    np.testing.assert_allclose(summary.loc["last", ["q10", "q25", "q50", "q75", "q90"]]
                               .to_numpy(dtype=float), [0.4, 1, 1, 2, 4.4])
    assert _column(summary, "month") == [0, 6]
    # The percentiles drawn set the y range: 0 to 4.6.
    assert rows.ylim == pytest.approx((-0.184, 4.968))
    assert (rows.bands, rows.targets, rows.ylabel) == ((), (), "haq (points)")
    assert rows.detail == ("haq of 5 patients, median 3 (interquartile range 2 to 4) before "
                           "anifrolumab and 1 (1 to 2) at last visit")


def test_slope_rows_choose_the_mode_by_cohort_size():
    def cohort(n: int) -> pd.DataFrame:
        ids = np.arange(1, n + 1)
        return pd.DataFrame({"patient_id": np.concatenate([ids, ids]),
                             "timepoint": ["baseline"] * n + ["last"] * n,
                             "month": [0] * n + [6] * n,
                             "value": np.concatenate([ids % 7, ids % 5]).astype(float),
                             "measure": "das28"})

    assert slope_rows(cohort(30), measure="das28").mode == "paired"
    assert slope_rows(cohort(31), measure="das28").mode == "cohort"
    assert slope_rows(cohort(300), measure="das28").mode == "cohort"
    rows = slope_rows(cohort(301), measure="das28")
    assert (rows.mode, rows.n_patients) == ("distribution", 301)
    with pytest.raises(ValueError, match="mode must be"):
        slope_rows(cohort(4), measure="das28", mode="lines")
    with pytest.raises(ValueError, match="not found"):
        slope_rows(cohort(4), measure="crp")
    with pytest.raises(ValueError, match="exactly one follow-up"):
        slope_rows(_three_visits(), measure="das28", mode="paired")


def test_the_rows_functions_open_no_figure(patients, profile):
    # They are numpy and pandas only: no figure comes of calling them.
    pyplot = sys.modules.get("matplotlib.pyplot")
    before = pyplot.get_fignums() if pyplot else []
    slope_rows(table2_measurements(), measure="das28")
    waterfall_rows(patients)
    swimmer_rows(patients)
    profile_rows(profile)
    assert (pyplot.get_fignums() if pyplot else []) == before
