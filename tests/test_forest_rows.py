"""The rows of the forest plot (helpers.figures.forest.forest_rows), without drawing.

The expectations are worked out by hand from the inputs written here: the paper's review
table (data/processed/studies.csv: Maicas 2024 2/3, Tani 2024 13/25, Ceccarelli 2025
3/3) with their exact (Clopper-Pearson) 95% intervals to four decimals. That the figure
draws these rows, and draws them as it always did, is tests/test_plots.py's business.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from helpers import paths
from helpers.analysis.review import analysis_sets, forest_panel, meta_analyses
from helpers.figures.forest import ForestRows, forest_rows

LABELS = ["Maicas 2024", "Tani 2024", "Ceccarelli 2025"]


@pytest.fixture
def studies() -> pd.DataFrame:
    return pd.DataFrame({
        "study": LABELS, "events": [2, 13, 3], "n": [3, 25, 3],
        "proportion": [2 / 3, 13 / 25, 1.0],
        "ci_low": [0.0943, 0.3131, 0.2924], "ci_high": [0.9916, 0.7220, 1.0],
        "weight": [22.1, 58.3, 19.6],
    })


@pytest.fixture
def pooled() -> pd.DataFrame:
    # As helpers.analysis.review.forest_panel gives them: labelled, with events and n;
    # the last one named by analysis and method, without events (the totals are shown).
    return pd.DataFrame({
        "label": ["Pooled (REML, logit, HKSJ)", "Resolution of arthritis only", np.nan],
        "analysis": ["review", "resolution_only", "review"], "method": ["REML"] * 2 + ["DL"],
        "events": [18, 15, np.nan], "n": [31, 28, np.nan],
        "estimate": [0.6449, 0.5357, 0.6190], "ci_low": [0.3012, 0.2912, 0.4383],
        "ci_high": [0.8866, 0.7643, 0.7717],
        "pi_low": [0.0587, np.nan, np.nan], "pi_high": [0.9832, np.nan, np.nan],
    })


def test_the_rows_of_the_review_table(studies, pooled):
    layout = forest_rows(studies, pooled)
    assert isinstance(layout, ForestRows)
    rows = layout.rows
    # Studies one apart from the top; the pooled rows 0.6 below the last study.
    np.testing.assert_allclose(rows["y"], [0, 1, 2, 3.6, 4.6, 5.6])
    assert rows["kind"].tolist() == ["study"] * 3 + ["pooled"] * 3
    assert rows["label"].tolist() == LABELS + [
        "Pooled (REML, logit, HKSJ)", "Resolution of arthritis only", "review, DL"]
    np.testing.assert_allclose(rows["estimate"], [2 / 3, 0.52, 1.0, 0.6449, 0.5357, 0.6190])
    # Inside (0, 1): drawn as given.
    np.testing.assert_allclose(rows["draw_low"], [0.0943, 0.3131, 0.2924,
                                                  0.3012, 0.2912, 0.4383])
    np.testing.assert_allclose(rows["draw_high"], [0.9916, 0.7220, 1.0,
                                                   0.8866, 0.7643, 0.7717])
    np.testing.assert_allclose(rows["draw_pi_low"], [np.nan] * 3 + [0.0587, np.nan, np.nan])
    np.testing.assert_allclose(rows["draw_pi_high"], [np.nan] * 3 + [0.9832, np.nan, np.nan])
    # Square areas 12 + 130 * weight / 100: 12 + 28.73, 12 + 75.79, 12 + 25.48.
    np.testing.assert_allclose(rows["size"], [40.73, 87.79, 37.48] + [np.nan] * 3)
    np.testing.assert_allclose(rows["weight"], [22.1, 58.3, 19.6, 100, 100, 100])
    # The last pooled row has no events of its own: 2 + 13 + 3 of 3 + 25 + 3.
    assert rows["events_text"].tolist() == ["2/3", "13/25", "3/3", "18/31", "15/28", "18/31"]
    assert rows["weight_text"].tolist() == ["22.1%", "58.3%", "19.6%", "100%", "100%",
                                            "100%"]
    assert rows["estimate_text"].tolist() == [
        "0.67 [0.09, 0.99]", "0.52 [0.31, 0.72]", "1.00 [0.29, 1.00]",
        "0.64 [0.30, 0.89]", "0.54 [0.29, 0.76]", "0.62 [0.44, 0.77]"]


def test_the_axes_rules_legend_and_description(studies, pooled):
    layout = forest_rows(studies, pooled)
    assert layout.xlim == (0, 1)
    # The last row plus 0.7 at the bottom, room for the headers (-0.9) at the top.
    assert layout.ylim == pytest.approx((6.3, -1.1))
    assert layout.header_y == -0.9
    assert layout.xlabel == "Proportion (95% CI)"
    assert layout.separator == pytest.approx(2.9)  # between 2 (last study) and 3.6
    assert layout.reference == 0.6449  # the first pooled estimate
    assert layout.legend == "95% prediction interval"
    assert layout.detail == (
        "Maicas 2024 67%, Tani 2024 52%, Ceccarelli 2025 100%; "
        "Pooled (REML, logit, HKSJ): 64%, 95% CI 30% to 89%, and 2 more pooled estimates")


def test_text_columns_sit_side_by_side_in_the_order_given(studies):
    # Widths 34 (events), 34 (weight), 78 (estimate) points, from 8 points right of the
    # axes: centres 8 + 17, 8 + 34 + 17, 8 + 68 + 39.
    columns = forest_rows(studies).columns
    assert columns.to_dict("list") == {
        "column": ["events", "weight", "estimate"],
        "header": ["Events/N", "Weight", "Estimate [95% CI]"],
        "centre": [25.0, 59.0, 115.0]}
    # Reordered: 8 + 39, then 8 + 78 + 17.
    columns = forest_rows(studies, columns=("estimate", "events")).columns
    assert columns.to_dict("list") == {"column": ["estimate", "events"],
                                       "header": ["Estimate [95% CI]", "Events/N"],
                                       "centre": [47.0, 103.0]}
    assert forest_rows(studies, columns=()).columns.empty


def test_the_level_names_every_label(studies, pooled):
    layout = forest_rows(studies, pooled, level=0.9)
    assert layout.xlabel == "Proportion (90% CI)"
    assert layout.columns["header"].tolist()[-1] == "Estimate [90% CI]"
    assert layout.legend == "90% prediction interval"
    assert "; Pooled (REML, logit, HKSJ): 64%, 90% CI 30% to 89%" in layout.detail
    assert forest_rows(studies, pooled, level=0.9, xlabel="Response").xlabel == "Response"


def test_intervals_are_clipped_to_the_axis_the_estimates_are_not(studies, pooled):
    layout = forest_rows(studies, pooled, xlim=(0.2, 0.95))
    rows = layout.rows
    assert layout.xlim == (0.2, 0.95)
    np.testing.assert_allclose(rows["draw_low"], [0.2, 0.3131, 0.2924,
                                                  0.3012, 0.2912, 0.4383])
    np.testing.assert_allclose(rows["draw_high"], [0.95, 0.7220, 0.95,
                                                   0.8866, 0.7643, 0.7717])
    np.testing.assert_allclose(rows["draw_pi_low"].iloc[3], 0.2)
    np.testing.assert_allclose(rows["draw_pi_high"].iloc[3], 0.95)
    # A study at 100 % keeps its square at 1.0; the texts keep the intervals as given.
    assert rows["estimate"].iloc[2] == 1.0
    assert rows["ci_low"].iloc[0] == 0.0943
    assert rows["estimate_text"].iloc[0] == "0.67 [0.09, 0.99]"


def test_missing_weights_give_equal_or_average_squares(studies):
    rows = forest_rows(studies.drop(columns="weight")).rows
    assert rows["size"].tolist() == [40.0, 40.0, 40.0]
    assert rows["weight_text"].tolist() == ["", "", ""]
    assert rows["weight"].isna().all()
    # One weight unknown: its square is the others' mean (50), its text is empty.
    # 12 + 130 * 0.5, 12 + 130 * 0.6, 12 + 130 * 0.4.
    rows = forest_rows(studies.assign(weight=[np.nan, 60.0, 40.0])).rows
    np.testing.assert_allclose(rows["size"], [77.0, 90.0, 64.0])
    assert rows["weight_text"].tolist() == ["", "60.0%", "40.0%"]


def test_without_pooled_rows(studies, pooled):
    for none in (None, pooled.iloc[:0]):
        layout = forest_rows(studies, none)
        assert layout.rows["kind"].tolist() == ["study"] * 3
        assert layout.ylim == pytest.approx((2.7, -1.1))
        assert (layout.separator, layout.reference, layout.legend) == (None, None, None)
        assert layout.detail == "Maicas 2024 67%, Tani 2024 52%, Ceccarelli 2025 100%"
    # Nothing at all: the columns stay, the axis keeps a row's room.
    layout = forest_rows(studies.iloc[:0])
    assert layout.rows.empty and "estimate_text" in layout.rows.columns
    assert layout.ylim == (1, -1.1)
    assert layout.detail == ""


def test_pooled_labels_and_intervals(studies, pooled):
    unnamed = pooled.drop(columns=["label", "analysis"]).assign(method=["REML", np.nan, "DL"])
    assert forest_rows(studies, unnamed).rows["label"].tolist()[3:] == [
        "REML", "Pooled", "DL"]
    # A prediction interval needs both ends; the legend follows the lower ones.
    half = pooled.assign(pi_high=[np.nan, np.nan, np.nan])
    layout = forest_rows(studies, half)
    assert layout.rows["draw_pi_low"].isna().all()
    no_pi = forest_rows(studies, pooled.drop(columns=["pi_low", "pi_high"]))
    assert no_pi.legend is None and no_pi.rows["draw_pi_low"].isna().all()


def test_an_estimate_that_is_not_a_number(studies, pooled):
    layout = forest_rows(studies.assign(proportion=[np.nan, 0.52, 1.0]),
                         pooled.assign(estimate=[np.nan, 0.5357, 0.6190]))
    assert layout.rows["estimate_text"].tolist()[::3] == ["", ""]
    assert layout.detail.startswith("Maicas 2024 not estimable, Tani 2024 52%")
    assert "; Pooled (REML, logit, HKSJ): not estimable, 95% CI 30% to 89%" in layout.detail


def test_bad_input_is_refused_by_name(studies, pooled):
    with pytest.raises(ValueError, match=r"studies is missing column\(s\) \['ci_high'\]"):
        forest_rows(studies.drop(columns="ci_high"))
    with pytest.raises(ValueError, match=r"pooled is missing column\(s\) \['estimate'\]"):
        forest_rows(studies, pooled.drop(columns="estimate"))
    with pytest.raises(TypeError, match="studies must be a pandas DataFrame"):
        forest_rows(studies.to_dict("list"))
    with pytest.raises(ValueError, match="columns must be among"):
        forest_rows(studies, columns=("p_value",))


def test_the_papers_review_table_through_forest_panel():
    # The committed review table, through the analysis that chooses the forest's rows.
    studies = pd.read_csv(paths.DATA_PROCESSED / paths.STUDIES)
    pooled = meta_analyses(analysis_sets(studies, None))
    rows, diamonds = forest_panel(studies, None, pooled, transform="logit", method="REML",
                                  test="knha")
    layout = forest_rows(rows, diamonds, columns=("events", "estimate"))
    table = layout.rows
    assert table["label"].tolist() == LABELS + [
        "Pooled (REML, logit, HKSJ)", "Pooled (REML, logit, Wald)",
        "Pooled (REML, Freeman-Tukey, HKSJ)", "Resolution of arthritis only"]
    np.testing.assert_allclose(table["y"], [0, 1, 2, 3.6, 4.6, 5.6, 6.6])
    # Maicas and Tani report resolution (15 of 28), Ceccarelli improvement.
    assert table["events_text"].tolist() == ["2/3", "13/25", "3/3"] + ["18/31"] * 3 + [
        "15/28"]
    # The studies' exact 95% intervals: Clopper-Pearson of 2/3, 13/25 and 3/3.
    assert table["estimate_text"].tolist()[:3] == [
        "0.67 [0.09, 0.99]", "0.52 [0.31, 0.72]", "1.00 [0.29, 1.00]"]
    assert layout.detail.startswith("Maicas 2024 67%, Tani 2024 52%, Ceccarelli 2025 100%; "
                                    "Pooled (REML, logit, HKSJ): ")
    assert layout.detail.endswith(", and 3 more pooled estimates")
