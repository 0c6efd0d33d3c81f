"""Tests of helpers.figures: each helper draws what it should, copes with gaps, and saves
byte-identical files.

The paper's numbers (Cassone et al., J. Pers. Med. 2025, Table 2) are the fixtures:
SLEDAI-2K 13->2, 6->1, 6->0, 0->0; DAS28 7.22->2.18, 5.59->1.89, 4.57->2.31, 2.38->2.38;
glucocorticoid mg/day NaN (IV pulses)->0, 8->0, 6->4, 8->2; last visit at month 12, 9, 14, 4.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.collections import LineCollection, PatchCollection  # noqa: E402
from matplotlib.colors import to_hex  # noqa: E402
from matplotlib.patches import Polygon, Rectangle  # noqa: E402

from helpers import figures  # noqa: E402
from helpers.figures import style  # noqa: E402
from helpers.synth import make_cohort  # noqa: E402
from support.paper import (LAST_MONTH, TABLE2, figure_patients,  # noqa: E402
                           figure_profile, table2_measurements)

ROOT = Path(__file__).resolve().parents[1]
@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture
def measurements() -> pd.DataFrame:
    return table2_measurements()


@pytest.fixture
def patients() -> pd.DataFrame:
    return figure_patients()


def _patient_lines(ax):
    return [line for line in ax.lines if (line.get_gid() or "").startswith("patient-")]


def _axes():
    return plt.subplots(figsize=figures.figure_size("single"))[1]


# --- theme -------------------------------------------------------------------------------


def test_theme_context_sets_and_restores_rcparams():
    before = dict(plt.rcParams)
    with figures.theme():
        assert plt.rcParams["svg.hashsalt"] == style.SVG_HASHSALT
        assert plt.rcParams["font.sans-serif"] == ["DejaVu Sans"]
        cycle = [to_hex(c["color"]).upper() for c in plt.rcParams["axes.prop_cycle"]]
        assert cycle[:3] == ["#0072B2", "#E69F00", "#009E73"]  # Okabe-Ito
    assert plt.rcParams["svg.hashsalt"] == before["svg.hashsalt"]


def test_figure_size_and_labels():
    assert figures.figure_size() == (3.5, 3.5 * 0.75)
    assert figures.figure_size("double", 0.5) == (7.0, 3.5)
    with pytest.raises(ValueError, match="width"):
        figures.figure_size("triple")
    assert figures.patient_label(3) == "Pt 3"
    assert figures.patient_label("12") == "Pt 12"
    assert figures.patient_label("P-007") == "P-007"
    assert figures.timepoint_label("m6") == "Month 6"
    assert "mg/day" in figures.measure_label("gc_mg_day")


# --- slope chart -------------------------------------------------------------------------


@pytest.mark.parametrize(("measure", "complete_pairs"),
                         [("sledai2k", 4), ("das28", 4), ("gc_mg_day", 3)])
def test_slope_chart_one_line_per_complete_pair(measurements, measure, complete_pairs):
    ax = figures.slope_chart(measurements, measure=measure, ax=_axes())
    lines = _patient_lines(ax)
    assert len(lines) == complete_pairs
    assert sorted(t.get_text() for t in ax.texts if t.get_text().startswith("Pt")) == [
        "Pt 1", "Pt 2", "Pt 3", "Pt 4"]
    # Lines join the paper's values (x may be dodged slightly for ties).
    by_gid = {line.get_gid(): line for line in lines}
    before, after = TABLE2[measure]
    for i, patient_id in enumerate([1, 2, 3, 4]):
        if np.isfinite(before[i]):
            y = by_gid[f"patient-{patient_id}"].get_ydata()
            np.testing.assert_allclose(y, [before[i], after[i]])


def test_slope_chart_das28_bands_at_published_cutoffs(measurements):
    ax = figures.slope_chart(measurements, measure="das28", ax=_axes())
    bands = {p.get_gid(): p for p in ax.patches if (p.get_gid() or "").startswith("band-")}
    assert set(bands) == {"band-remission", "band-low", "band-moderate", "band-high"}

    def limits(gid):
        y0 = bands[gid].get_y()
        return y0, y0 + bands[gid].get_height()

    # Prevoo 1995 / Fransen 2004: remission < 2.6, low <= 3.2, moderate <= 5.1, high > 5.1.
    assert limits("band-remission")[1] == pytest.approx(2.6)
    assert limits("band-low") == pytest.approx((2.6, 3.2))
    assert limits("band-moderate") == pytest.approx((3.2, 5.1))
    assert limits("band-high")[0] == pytest.approx(5.1)
    assert not [line for line in ax.lines if line.get_gid() == "target"]


def test_slope_chart_gc_lines_at_the_codebook_targets(measurements):
    ax = figures.slope_chart(measurements, measure="gc_mg_day", ax=_axes())
    targets = [line.get_ydata()[0] for line in ax.lines if line.get_gid() == "target"]
    # EULAR 2023: <= 5 mg/day (Fanouriakis 2024); LLDAS: <= 7.5 mg/day (Franklyn 2016).
    assert targets == [5.0, 7.5]
    assert {t.get_text() for t in ax.texts} >= {"\u2264 5 mg/day", "\u2264 7.5 mg/day"}
    assert not [p for p in ax.patches if (p.get_gid() or "").startswith("band-")]
    # Patient 1 (baseline not reported) is an open marker at the last visit, not a line.
    assert len(ax.collections) == 1
    np.testing.assert_allclose(ax.collections[0].get_offsets()[:, 1], [0.0])
    assert ax.get_legend() is not None


def _user_codebook(tmp_path, rows: str):
    from helpers.data.codebook import load_codebook
    path = tmp_path / "codebook.csv"
    path.write_text("measure,label,unit,min,max,integer,lower_is_better,thresholds,"
                    "categories,change_thresholds,change_name\n" + rows, encoding="utf-8")
    return load_codebook(path)


def _haq_measurements() -> pd.DataFrame:
    # Three patients' HAQ-DI, made up for the figure: a rise of 0.25 and two falls.
    rows = [(p, t, m, v) for p, pre, post in ((1, 1.5, 1.75), (2, 2.0, 0.5), (3, 1.0, 0.5))
            for t, m, v in (("baseline", 0, pre), ("last", 6, post))]
    frame = pd.DataFrame(rows, columns=["patient_id", "timepoint", "month", "value"])
    return frame.assign(measure="haq", unit="points")


@pytest.mark.parametrize("categories", ["", "Mild;Moderate;Severe"])
def test_a_user_codebooks_cut_offs_reach_the_figures(tmp_path, categories):
    # A codebook of our own (HAQ-DI with made-up cut-offs 0.5 and 1.25 and an
    # improvement of 0.22): every number it declares is drawn, none of the built-in's.
    book = _user_codebook(tmp_path, f"haq,HAQ-DI,points,0,3,no,yes,1.25;0.5,{categories},"
                          "0.22,MCID\n")
    data = _haq_measurements()
    ax = figures.slope_chart(data, measure="haq", codebook=book, ax=_axes())
    lines = [line.get_ydata()[0] for line in ax.lines if line.get_gid() == "target"]
    bands = {p.get_gid(): (p.get_y(), p.get_y() + p.get_height()) for p in ax.patches
             if (p.get_gid() or "").startswith("band-")}
    if categories:
        assert lines == []
        assert bands == {"band-mild": pytest.approx((0, 0.5)),
                         "band-moderate": pytest.approx((0.5, 1.25)),
                         "band-severe": pytest.approx((1.25, 3))}
    else:
        assert lines == [0.5, 1.25] and bands == {}
        assert {t.get_text() for t in ax.texts} >= {"\u2264 0.5 points", "\u2264 1.25 points"}
    ax = figures.change_distribution(data, measure="haq", codebook=book, ax=_axes())
    assert [line.get_xdata()[0] for line in ax.lines
            if (line.get_gid() or "").startswith("threshold-")] == [-0.22]
    assert [t.get_text() for t in ax.texts] == ["MCID \u22120.22"]
    changes = pd.DataFrame({"patient_id": [1, 2, 3], "haq_change": [0.25, -1.5, -0.5]})
    ax = figures.waterfall(changes, value="haq_change", hue=None, codebook=book, ax=_axes())
    assert [line.get_ydata()[0] for line in ax.lines
            if (line.get_gid() or "").startswith("threshold")] == [-0.22]


def test_change_lines_of_a_measure_where_higher_is_better(tmp_path):
    # Improvement is a rise: the 0.3 line stands right of 0, numbered "+0.3".
    book = _user_codebook(tmp_path, "grip,Grip strength,kg,0,100,no,no,,,0.3,\n")
    data = _haq_measurements().assign(measure="grip")
    ax = figures.change_distribution(data, measure="grip", codebook=book, ax=_axes())
    assert [line.get_xdata()[0] for line in ax.lines
            if (line.get_gid() or "").startswith("threshold-")] == [0.3]
    assert [t.get_text() for t in ax.texts] == ["+0.3"]


def test_slope_chart_options_turn_decorations_off(measurements):
    ax = figures.slope_chart(measurements, measure="das28", bands=False, target=4.0,
                           label_patients=False, ax=_axes())
    assert not [p for p in ax.patches if (p.get_gid() or "").startswith("band-")]
    assert [line.get_ydata()[0] for line in ax.lines if line.get_gid() == "target"] == [4.0]
    assert not [t for t in ax.texts if t.get_text().startswith("Pt")]


def test_slope_chart_single_patient_and_missing_values(measurements):
    one = measurements[measurements["patient_id"] == 2]
    ax = figures.slope_chart(one, measure="das28", ax=_axes())
    assert len(_patient_lines(ax)) == 1

    gaps = measurements.copy()
    gaps.loc[(gaps["patient_id"] == 3) & (gaps["measure"] == "das28"), "value"] = np.nan
    gaps.loc[(gaps["patient_id"] == 4) & (gaps["measure"] == "das28")
             & (gaps["timepoint"] == "last"), "value"] = np.nan
    ax = figures.slope_chart(gaps, measure="das28", ax=_axes())
    assert len(_patient_lines(ax)) == 2
    labels = sorted(t.get_text() for t in ax.texts if t.get_text().startswith("Pt"))
    assert labels == ["Pt 1", "Pt 2"]  # only patients with a follow-up value are labelled


def test_slope_chart_rejects_bad_input(measurements):
    with pytest.raises(ValueError, match="measure 'crp' not found"):
        figures.slope_chart(measurements, measure="crp", ax=_axes())
    with pytest.raises(ValueError, match="missing column"):
        figures.slope_chart(measurements.drop(columns="timepoint"), measure="das28",
                            ax=_axes())
    with pytest.raises(ValueError, match="baseline"):
        figures.slope_chart(measurements, measure="das28", baseline="m0", ax=_axes())
    doubled = pd.concat([measurements, measurements])
    with pytest.raises(ValueError, match="duplicated patient_id, measure, timepoint"):
        figures.slope_chart(doubled, measure="das28", ax=_axes())


def _synthetic_cohort(n_patients: int, visits=("baseline", "m6", "m12"), seed=0):
    return make_cohort(n_patients, visits=visits, measures=["das28"], missing_rate=0.03,
                       seed=seed)


def test_slope_chart_cohort_mode_draws_every_patient_unlabelled():
    # The default above MAX_INDIVIDUAL_PATIENTS is distribution mode (tested below); the
    # faded lines can still be asked for. How long figures take is measured by make bench.
    cohort = _synthetic_cohort(2_000)
    ax = _axes()
    figures.slope_chart(cohort, measure="das28", mode="cohort", ax=ax)
    ax.figure.canvas.draw()
    assert len(ax.texts) < 10  # no per-patient labels
    assert not _patient_lines(ax)
    collections = [c for c in ax.collections if isinstance(c, LineCollection)]
    assert len(collections) == 1 and len(collections[0].get_segments()) == 2_000
    assert collections[0].get_rasterized()  # above 500 lines: small vector files
    assert [line.get_gid() for line in ax.lines].count("median") == 1
    assert ax.get_xlabel() == "Months on anifrolumab"


def test_slope_chart_switches_to_cohort_mode_above_30_patients():
    cohort = _synthetic_cohort(31, visits=("baseline", "m12"))
    ax = figures.slope_chart(cohort, measure="das28", ax=_axes())
    assert not _patient_lines(ax)
    ax = figures.slope_chart(cohort, measure="das28", mode="paired", ax=_axes())
    assert len(_patient_lines(ax)) == cohort.pivot(
        index="patient_id", columns="timepoint", values="value").notna().all(axis=1).sum()
    with pytest.raises(ValueError, match="exactly one follow-up"):
        figures.slope_chart(_synthetic_cohort(5), measure="das28", mode="paired", ax=_axes())


# --- waterfall ---------------------------------------------------------------------------


def test_waterfall_bars_sorted_and_coloured_by_eular_response(patients):
    ax = figures.waterfall(patients, ax=_axes())
    bars = [p for p in ax.patches if isinstance(p, Rectangle)]
    assert len(bars) == 4
    heights = [bar.get_height() for bar in bars]
    assert heights == sorted(heights, reverse=True)  # least improvement on the left
    np.testing.assert_allclose(sorted(heights), [-5.04, -3.70, -2.26, 0.0], atol=1e-9)
    colours = [to_hex(bar.get_facecolor()).upper() for bar in bars]
    # Pt 4 (change 0, EULAR none) comes first; the others are good responders.
    assert colours == [style.EULAR_COLORS["none"].upper()] + [
        style.EULAR_COLORS["good"].upper()] * 3
    assert [t.get_text() for t in ax.get_xticklabels()] == ["Pt 4", "Pt 3", "Pt 2", "Pt 1"]
    thresholds = sorted(line.get_ydata()[0] for line in ax.lines
                        if (line.get_gid() or "").startswith("threshold-"))
    assert thresholds == [-1.2, -0.6]  # van Gestel 1996
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == ["Good", "Moderate", "No response"]


def test_waterfall_missing_values_and_single_patient(patients):
    gaps = patients.copy()
    gaps.loc[1, "das28_change"] = np.nan
    gaps.loc[2, "eular_response"] = None
    ax = figures.waterfall(gaps, ax=_axes())
    bars = [p for p in ax.patches if isinstance(p, Rectangle)]
    assert len(bars) == 3
    assert "n/a" in [t.get_text() for t in ax.texts]
    assert style.MISSING_COLOR.upper() in {to_hex(b.get_facecolor()).upper() for b in bars}
    assert "Not assessable" in [t.get_text() for t in ax.get_legend().get_texts()]

    ax = figures.waterfall(patients.iloc[[0]], ax=_axes())
    assert len([p for p in ax.patches if isinstance(p, Rectangle)]) == 1

    with pytest.raises(ValueError, match="EULAR response must be one of"):
        figures.waterfall(patients.assign(eular_response="excellent"), ax=_axes())


# --- large cohorts: distributions -------------------------------------------------------
#
# Above MAX_INDIVIDUAL_PATIENTS patients the figures draw distributions. What they draw
# is checked against numbers computed here independently: quantiles by sorting and
# interpolating by hand (R's type 7), counts and ECDFs by plain comparisons.


def _type7(values, p: float) -> float:
    """Quantile by hand: linear interpolation between order statistics (R type 7)."""
    x = np.sort(np.asarray(values, dtype=float))
    h = (len(x) - 1) * p
    low = int(np.floor(h))
    high = min(low + 1, len(x) - 1)
    return float(x[low] + (h - low) * (x[high] - x[low]))


def _by_visit(cohort: pd.DataFrame, measure: str) -> pd.DataFrame:
    """patients x visits of one measure, by pandas' pivot (not the tidy layer)."""
    rows = cohort[cohort["measure"] == measure]
    return rows.pivot(index="patient_id", columns="timepoint", values="value")


def _verticals(ax, prefix: str) -> dict[str, float]:
    return {line.get_gid(): float(line.get_xdata()[0]) for line in ax.lines
            if (line.get_gid() or "").startswith(prefix)}


def test_the_switch_to_distributions_is_at_max_individual_patients():
    limit = style.MAX_INDIVIDUAL_PATIENTS
    assert 100 < limit < 1000  # "a few hundred"
    at_limit = make_cohort(limit, visits=3, measures=["das28"], seed=1)
    ax = figures.slope_chart(at_limit, measure="das28", ax=_axes())
    assert any(isinstance(c, LineCollection) for c in ax.collections)  # faded lines
    above = make_cohort(limit + 1, visits=3, measures=["das28"], seed=1)
    ax = figures.slope_chart(above, measure="das28", ax=_axes())
    assert not any(isinstance(c, LineCollection) for c in ax.collections)
    assert {c.get_gid() for c in ax.collections} >= {"percentiles-10-90", "percentiles-25-75"}
    # Either mode can be asked for at any size.
    ax = figures.slope_chart(at_limit, measure="das28", mode="distribution", ax=_axes())
    assert not any(isinstance(c, LineCollection) for c in ax.collections)
    with pytest.raises(ValueError, match="mode must be"):
        figures.slope_chart(above, measure="das28", mode="lines", ax=_axes())

    changes = pd.DataFrame({"patient_id": np.arange(limit + 1), "das28_change": -1.0,
                            "eular_response": "moderate"})
    ax = figures.waterfall(changes.iloc[:limit], ax=_axes())
    # A bar each, side by side: one step area (the category's), a step per patient.
    (area,) = [c for c in ax.collections if (c.get_gid() or "").startswith("bars")]
    assert area.get_gid() == "bars-moderate"
    x = area.get_paths()[0].vertices[:, 0]
    assert (x.min(), x.max()) == (-0.5, limit - 0.5)
    assert set(np.round(x, 9)) == {i - 0.5 for i in range(limit + 1)}
    ax = figures.waterfall(changes, ax=_axes())
    assert len([p for p in ax.patches if isinstance(p, Rectangle)]) < 20  # a histogram
    ax = figures.waterfall(changes, mode="bars", ax=_axes())
    assert ax.get_xlabel() == f"Patients (n = {limit + 1}), sorted by change"
    with pytest.raises(ValueError, match="mode must be"):
        figures.waterfall(changes, mode="histogram", ax=_axes())


@pytest.mark.parametrize("measure", ["sledai2k", "das28", "gc_mg_day"])
def test_slope_chart_distribution_draws_the_percentiles_per_visit(measure):
    cohort = make_cohort(2_000, visits=("baseline", "m3", "m6", "last"), seed=4,
                         missing_rate=0.05)
    ax = figures.slope_chart(cohort, measure=measure, ax=_axes())
    wide = _by_visit(cohort, measure)
    rows = cohort[cohort["measure"] == measure]
    months = rows.groupby("timepoint")["month"].median()
    order = ["baseline", "m3", "m6", "last"]
    expected_x = [0.0, 3.0, 6.0, float(months["last"])]
    expected = {p: [_type7(wide[v].dropna(), p / 100) for v in order]
                for p in (10, 25, 50, 75, 90)}

    (median,) = [line for line in ax.lines if line.get_gid() == "median"]
    np.testing.assert_allclose(median.get_xdata(), expected_x, rtol=0, atol=1e-12)
    np.testing.assert_allclose(median.get_ydata(), expected[50], rtol=0, atol=1e-12)
    ribbons = {c.get_gid(): c for c in ax.collections}
    for low, high in [(10, 90), (25, 75)]:
        vertices = ribbons[f"percentiles-{low}-{high}"].get_paths()[0].vertices
        for x, q_low, q_high in zip(expected_x, expected[low], expected[high], strict=True):
            ys = vertices[np.isclose(vertices[:, 0], x), 1]
            assert ys.min() == pytest.approx(q_low, abs=1e-12)
            assert ys.max() == pytest.approx(q_high, abs=1e-12)
    # The percentiles are named at the right end, equal ones together ("P10, P25").
    labels = " ".join(t.get_text() for t in ax.texts if (t.get_gid() or "").startswith(
        "label-"))
    for name in ["P10", "P25", "Median", "P75", "P90"]:
        assert name in labels
    assert "n = 2,000 patients" in [t.get_text() for t in ax.texts]
    # The y axis spans what is drawn, not every patient's extreme value.
    if measure != "das28":  # (DAS28 shows its activity bands up to "high")
        assert ax.get_ylim()[1] < np.nanmax(rows["value"])
    assert ax.get_ylim()[1] > max(expected[90])


def _responders(n: int, seed: int = 0) -> pd.DataFrame:
    """A responder table as helpers.scores makes one, with changes of exactly -0.6 and
    -1.2 (EULAR's thresholds) and patients without a change."""
    from helpers.scores import eular_response

    rng = np.random.default_rng(seed)
    pre = np.round(rng.uniform(2.0, 8.0, n), 2)
    post = np.round(np.clip(pre - rng.normal(1.0, 1.2, n), 0.5, 9.4), 2)
    post[:40] = np.round(pre[:40] - 0.6, 2)
    post[40:80] = np.round(pre[40:80] - 1.2, 2)
    post[80:90] = np.nan
    change = np.round(post - pre, 10) + 0.0
    return pd.DataFrame({"patient_id": np.arange(1, n + 1), "das28_change": change,
                         "eular_response": eular_response(pre, post)})


def test_waterfall_of_a_large_cohort_is_a_histogram_of_the_counts():
    from helpers.vocab import EULAR_GOOD_IMPROVEMENT, EULAR_MODERATE_IMPROVEMENT

    data = _responders(3_000)
    ax = figures.waterfall(data, value="das28_change", hue="eular_response", ax=_axes())
    colour_of = {to_hex(c).upper(): k for k, c in style.EULAR_COLORS.items()}
    bars = [p for p in ax.patches if isinstance(p, Rectangle) and p.get_width() > 0]
    assert 10 < len(bars) < 4 * 60  # a few dozen bins per category, whatever n
    present = data.dropna(subset=["das28_change"])
    changes = np.round(present["das28_change"].to_numpy(), 10)
    categories = present["eular_response"].astype(str).to_numpy()
    for bar in bars:
        left = round(bar.get_x(), 10)
        right = round(bar.get_x() + bar.get_width(), 10)
        category = colour_of[to_hex(bar.get_facecolor()).upper()]
        count = np.sum((changes >= left) & (changes < right) & (categories == category))
        assert bar.get_height() == pytest.approx(100 * count / len(changes), abs=1e-9)
    edges = {round(bar.get_x(), 10) for bar in bars}
    # Thresholds from helpers.vocab, drawn at -improvement and on bin edges, so no bar
    # straddles a line; a change of exactly -0.6 counts right of it (not > 0.6).
    thresholds = _verticals(ax, "threshold-")
    assert thresholds == pytest.approx({
        f"threshold-{EULAR_MODERATE_IMPROVEMENT:g}": -EULAR_MODERATE_IMPROVEMENT,
        f"threshold-{EULAR_GOOD_IMPROVEMENT:g}": -EULAR_GOOD_IMPROVEMENT})
    assert {-EULAR_MODERATE_IMPROVEMENT, -EULAR_GOOD_IMPROVEMENT} <= edges
    assert _verticals(ax, "zero") == {"zero": 0.0}
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert [t.split(" (")[0] for t in legend] == ["Good", "Moderate", "No response"]
    shares = {k: 100 * np.mean(categories == k) for k in ("good", "moderate", "none")}
    assert legend == [f"Good ({shares['good']:.0f}%)", f"Moderate ({shares['moderate']:.0f}%)",
                      f"No response ({shares['none']:.0f}%)"]
    assert "2,990" in ax.get_legend().get_title().get_text()
    assert "10 without a change" in ax.get_legend().get_title().get_text()

    # Without categories: one colour, the same total counts.
    ax = figures.waterfall(data, hue=None, ax=_axes())
    heights = [p.get_height() for p in ax.patches if isinstance(p, Rectangle)]
    assert sum(heights) == pytest.approx(100.0)


def test_change_bins_put_thresholds_on_edges_and_whole_numbers_in_the_middle():
    from helpers.figures.distributions import _change_bins

    edges = _change_bins(np.array([-5.04, -0.6, 0.0, 1.31]), (0.6, 1.2))
    widths = np.diff(edges)
    np.testing.assert_allclose(widths, widths[0])
    assert -0.6 in edges and -1.2 in edges and edges[0] <= -5.04 < 1.31 < edges[-1]
    edges = _change_bins(np.array([-13.0, -4.0, 0.0, 6.0]), (4.0,))
    np.testing.assert_array_equal(edges, np.arange(-13.5, 7.0))  # a bar per point


@pytest.mark.parametrize(("measure", "expected"), [
    ("das28", {"threshold-0.6", "threshold-1.2"}), ("sledai2k", {"threshold-4"}),
    ("gc_mg_day", set())])
def test_change_distribution_ecdf_per_visit(measure, expected):
    from helpers.vocab import (EULAR_GOOD_IMPROVEMENT, EULAR_MODERATE_IMPROVEMENT,
                               SLEDAI_REDUCTION_POINTS)

    cohort = make_cohort(800, visits=3, seed=5, missing_rate=0.05)
    ax = figures.change_distribution(cohort, measure=measure, ax=_axes())
    wide = _by_visit(cohort, measure)
    for visit in ["m3", "m6"]:
        change = np.round((wide[visit] - wide["baseline"]).dropna().to_numpy(), 10)
        (line,) = [x for x in ax.lines if x.get_gid() == f"ecdf-{visit}"]
        x, y = np.asarray(line.get_xdata()), np.asarray(line.get_ydata())
        assert np.isneginf(x[0]) and y[0] == 0 and y[-1] == pytest.approx(100)
        # At each step, the percentage of patients with a change at or below it.
        by_hand = [100 * np.mean(change <= value) for value in x[1:]]
        np.testing.assert_allclose(y[1:], by_hand, rtol=0, atol=1e-9)
        np.testing.assert_array_equal(x[1:], np.unique(change))
    vocab = {"threshold-0.6": EULAR_MODERATE_IMPROVEMENT,
             "threshold-1.2": EULAR_GOOD_IMPROVEMENT,
             "threshold-4": SLEDAI_REDUCTION_POINTS}
    lines = _verticals(ax, "threshold-")
    assert set(lines) == expected
    for gid, x in lines.items():
        assert x == -vocab[gid]
    # Every visit in the legend, with n per visit when they differ (missing values).
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert [t.split(" (")[0] for t in legend] == ["Month 3", "Month 6"]
    assert figures.change_distribution(cohort, measure=measure, thresholds=False,
                                       ax=_axes()) is not None
    with pytest.raises(ValueError, match="measure 'crp' not found"):
        figures.change_distribution(cohort, measure="crp", ax=_axes())


def test_change_distribution_of_continuous_changes_uses_a_grid(monkeypatch):
    from helpers.figures import distributions

    monkeypatch.setattr(distributions, "MAX_ECDF_STEPS", 64)
    rng = np.random.default_rng(2)
    n = 400
    frame = pd.DataFrame({
        "patient_id": np.tile(np.arange(n), 2), "measure": "das28",
        "timepoint": np.repeat(["baseline", "m6"], n), "month": np.repeat([0, 6], n),
        "value": np.r_[rng.uniform(3, 8, n), rng.uniform(1, 6, n)], "unit": "points"})
    ax = figures.change_distribution(frame, measure="das28", ax=_axes())
    (line,) = [x for x in ax.lines if x.get_gid() == "ecdf-m6"]
    x, y = np.asarray(line.get_xdata())[1:], np.asarray(line.get_ydata())[1:]
    assert len(x) == 64
    change = np.round(frame["value"].to_numpy()[n:] - frame["value"].to_numpy()[:n], 10)
    by_hand = np.array([100 * np.mean(change <= value) for value in x])
    # Exact at the grid's points but for values lying exactly on one (1 patient = 0.25%).
    np.testing.assert_allclose(y, by_hand, rtol=0, atol=100 / n + 1e-9)


def test_change_distribution_axis_leaves_out_the_extreme_tenth_percent():
    cohort = make_cohort(3_000, visits=2, measures=["sledai2k"], seed=6)
    last = (cohort["timepoint"] == "m3") & (cohort["patient_id"] == 1)
    baseline = (cohort["timepoint"] == "baseline") & (cohort["patient_id"] == 1)
    cohort.loc[baseline, "value"] = 60.0
    cohort.loc[last, "value"] = 0.0  # one patient's change of -60 among 3,000
    ax = figures.change_distribution(cohort, measure="sledai2k", ax=_axes())
    (line,) = [x for x in ax.lines if x.get_gid() == "ecdf-m3"]
    assert np.asarray(line.get_xdata())[1] == -60.0  # drawn ...
    low, high = ax.get_xlim()
    assert -60.0 < low < -4.0  # ... beyond the axis, which still shows the threshold


def _cohort_figures(cohort: pd.DataFrame, change: bool = True):
    """What notebook 03 draws from a cohort, and (``change``) the change distributions."""
    from helpers.scores import responder_table

    measures = ["sledai2k", "das28", "gc_mg_day"]
    slopes, axes = plt.subplots(1, 3, figsize=figures.figure_size("double", aspect=0.36),
                                squeeze=False)
    for ax, measure in zip(axes[0], measures, strict=True):
        figures.slope_chart(cohort, measure=measure, ax=ax)
    fall, ax = plt.subplots(figsize=figures.figure_size("single", aspect=0.8))
    figures.waterfall(responder_table(cohort), value="das28_change", hue="eular_response",
                      ax=ax)
    drawn = {"slopes": slopes, "waterfall": fall}
    if change:
        drawn["change"], axes = plt.subplots(
            1, 3, figsize=figures.figure_size("double", aspect=0.4), squeeze=False)
        for ax, measure in zip(axes[0], measures, strict=True):
            figures.change_distribution(cohort, measure=measure, ax=ax)
    return drawn


@pytest.mark.filterwarnings("error")
@pytest.mark.parametrize("visits", [2, 6])
@pytest.mark.parametrize("n_patients", [100, 1_000, 10_000])
def test_cohort_figures_draw_and_save_without_warnings(n_patients, visits, tmp_path):
    """No warning at all (constrained layout collapsing, seaborn, pandas) while the cohort
    figures are drawn and saved; 10^2 patients draw lines, 10^3 and 10^4 distributions.
    The change distributions with 6 visits only (the longest legends), to stay quick."""
    cohort = make_cohort(n_patients, visits=visits, seed=7, missing_rate=0.02)
    with figures.theme():
        drawn = _cohort_figures(cohort, change=visits == 6)
        for name, fig in drawn.items():
            paths = figures.save_figure(fig, tmp_path / name, dpi=72)
            assert all(p.stat().st_size > 0 for p in paths)
            # A few artists whatever the cohort's size: small vector files.
            assert paths[1].stat().st_size < 400_000, name


def test_cohort_figures_save_identical_bytes_twice(tmp_path):
    cohort = make_cohort(1_000, visits=3, seed=8, missing_rate=0.02)
    saved = []
    for run in ("a", "b"):
        with figures.theme():
            drawn = _cohort_figures(cohort)
            saved.append({name: _read_all(figures.save_figure(fig, tmp_path / run / name,
                                                              dpi=72))
                          for name, fig in drawn.items()})
        plt.close("all")
    assert saved[0] == saved[1]


def test_the_paper_figures_are_the_committed_bytes(tmp_path):
    """The small-n paired path is unchanged: drawn as notebook 03 draws them, the slope
    charts and the waterfall of the paper's four patients are the committed files (SVG:
    every path and coordinate drawn; the PNGs are checked by make's clean rebuild)."""
    from helpers import paths
    from helpers.data.reader import read_measurements
    from helpers.scores import responder_table

    measurements = read_measurements(paths.DATA_PROCESSED / "measurements.csv",
                                     measures=["sledai2k", "das28", "gc_mg_day"])
    patients = pd.read_csv(paths.DATA_PROCESSED / "patients.csv")
    with figures.theme():
        fig, axes = plt.subplots(1, 3, figsize=figures.figure_size("double", aspect=0.36),
                                 squeeze=False)
        for ax, measure in zip(axes[0], ["sledai2k", "das28", "gc_mg_day"], strict=True):
            figures.slope_chart(measurements, measure=measure, baseline="baseline", ax=ax)
        written = figures.save_figure(fig, tmp_path / "slopes", formats=["svg"])
        fig, ax = plt.subplots(figsize=figures.figure_size("single", aspect=0.8))
        figures.waterfall(responder_table(measurements, patients), value="das28_change",
                          hue="eular_response", ax=ax)
        written += figures.save_figure(fig, tmp_path / "waterfall_das28", formats=["svg"])
    for path in written:
        assert path.read_bytes() == (paths.FIGURES / path.name).read_bytes(), path.name


# --- swimmer -----------------------------------------------------------------------------


def test_swimmer_bars_and_response_markers(patients):
    ax = figures.swimmer(patients, ax=_axes())
    bars = [p for p in ax.patches if isinstance(p, Rectangle)]
    assert len(bars) == 8
    before = sorted(b.get_width() for b in bars if b.get_width() < 0)
    np.testing.assert_allclose(before, np.sort(-np.array([15, 60, 192, 168]) / 12))
    during = sorted(b.get_width() for b in bars if b.get_width() > 0)
    assert during == sorted(LAST_MONTH)
    yes = [c for c in ax.collections if c.get_gid() == "response-yes"]
    np.testing.assert_allclose(yes[0].get_offsets()[:, 0], LAST_MONTH)
    assert [t.get_text() for t in ax.get_yticklabels()] == ["Pt 1", "Pt 2", "Pt 3", "Pt 4"]


def test_swimmer_missing_values_and_months_scale(patients):
    gaps = patients.astype({"response_paper": object, "disease_duration_months": float})
    gaps.loc[0, "response_paper"] = None
    gaps.loc[1, "response_paper"] = "No"
    gaps.loc[2, "disease_duration_months"] = np.nan
    ax = figures.swimmer(gaps, before_unit="months", ax=_axes())
    assert len(next(c for c in ax.collections if c.get_gid() == "response-yes")
               .get_offsets()) == 2
    assert len(next(c for c in ax.collections if c.get_gid() == "response-no")
               .get_offsets()) == 1
    assert min(b.get_width() for b in ax.patches) == -168
    figures.swimmer(patients.iloc[[3]], ax=_axes())
    with pytest.raises(ValueError, match="before_unit"):
        figures.swimmer(patients, before_unit="days", ax=_axes())


# --- profile heatmap ---------------------------------------------------------------------


@pytest.fixture
def profile() -> pd.DataFrame:
    return figure_profile()


def test_profile_heatmap_marks_not_reported(profile):
    ax = figures.profile_heatmap(profile, ax=_axes())
    mesh = ax.collections[0]
    flags = mesh.get_array()
    assert flags.shape == (4, 4) and int(np.ma.count_masked(flags)) == 3
    hatched = [c for c in ax.collections if isinstance(c, PatchCollection)]
    assert len(hatched) == 1 and len(hatched[0].get_paths()) == 3 and hatched[0].get_hatch()
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["Yes", "No", "Not reported"]
    assert [t.get_text() for t in ax.get_yticklabels()] == [
        "anti-dsDNA", "anti-SSA/Ro", "anti-CCP", "HCQ intolerance"]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["Pt 1", "Pt 2", "Pt 3", "Pt 4"]


def test_profile_heatmap_groups_single_patient_and_bad_values(profile):
    groups = {"Autoantibodies": ["anti-dsDNA", "anti-CCP"], "Intolerance": ["HCQ intolerance"]}
    ax = figures.profile_heatmap(profile, features=groups, ax=_axes())
    assert {"Autoantibodies", "Intolerance"} <= {t.get_text() for t in ax.texts}
    assert len(ax.get_yticklabels()) == 3

    ax = figures.profile_heatmap(profile.iloc[[0]], features=["anti-CCP"], ax=_axes())
    assert len([c for c in ax.collections if isinstance(c, PatchCollection)]) == 1

    with pytest.raises(ValueError, match="yes/no"):
        figures.profile_heatmap(profile.assign(**{"anti-CCP": "maybe"}), ax=_axes())


# --- forest plot -------------------------------------------------------------------------


@pytest.fixture
def studies() -> pd.DataFrame:
    return pd.DataFrame({
        "study": ["Maicas, 2024", "Tani, 2024", "Ceccarelli, 2025"],
        "events": [2, 13, 3], "n": [3, 25, 3], "proportion": [2 / 3, 13 / 25, 1.0],
        "ci_low": [0.208, 0.335, 0.438], "ci_high": [0.939, 0.700, 1.0],
        "weight": [22.1, 58.3, 19.6],
    })


@pytest.fixture
def pooled() -> pd.DataFrame:
    return pd.DataFrame({
        "analysis": ["Pooled", "Pooled"], "method": ["REML", "common"],
        "estimate": [0.61, 0.58], "ci_low": [0.40, 0.41], "ci_high": [0.79, 0.74],
        "pi_low": [0.05, np.nan], "pi_high": [0.98, np.nan],
    })


def test_forest_plot_squares_diamonds_and_text(studies, pooled):
    ax = figures.forest_plot(studies, pooled, ax=_axes())
    diamonds = [p for p in ax.patches if isinstance(p, Polygon)
                and (p.get_gid() or "").startswith("pooled-")]
    assert len(diamonds) == 2
    # The diamond spans the CI and peaks at the estimate.
    xy = diamonds[0].get_xy()
    assert xy[:, 0].min() == pytest.approx(0.40) and xy[:, 0].max() == pytest.approx(0.79)
    squares = next(c for c in ax.collections if c.get_gid() == "studies")
    np.testing.assert_allclose(squares.get_offsets()[:, 0], studies["proportion"])
    sizes = squares.get_sizes()
    assert sizes.argmax() == 1  # Tani has the largest weight
    pi = [line for line in ax.lines if (line.get_gid() or "").startswith("pi-")]
    assert len(pi) == 1 and list(pi[0].get_xdata()) == [0.05, 0.98]
    texts = {t.get_text() for t in ax.texts}
    assert {"2/3", "13/25", "3/3", "22.1%", "58.3%", "18/31"} <= texts
    assert [t.get_text() for t in ax.get_yticklabels()][-2:] == [
        "Pooled, REML", "Pooled, common"]


def test_forest_plot_without_pooled_and_single_study(studies):
    ax = figures.forest_plot(studies.iloc[[1]], ax=_axes(), columns=("events",))
    assert not [p for p in ax.patches if isinstance(p, Polygon)]
    assert "Weight" not in {t.get_text() for t in ax.texts}
    ax = figures.forest_plot(studies.drop(columns="weight"), ax=_axes())
    assert len(set(next(c for c in ax.collections if c.get_gid() == "studies")
                   .get_sizes())) == 1
    with pytest.raises(ValueError, match="columns must be among"):
        figures.forest_plot(studies, ax=_axes(), columns=("p_value",))


# --- saving ------------------------------------------------------------------------------

# Executed in this process and in a fresh interpreter: the bytes must agree.
BUILD_FIGURE = """
import numpy as np, pandas as pd, matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
from helpers import figures
rows = [(p, "das28", t, m, v, "score") for p, t, m, v in [
    (1, "baseline", 0, 7.22), (1, "last", 12, 2.18), (2, "baseline", 0, 5.59),
    (2, "last", 9, 1.89), (3, "baseline", 0, 4.57), (3, "last", 14, 2.31),
    (4, "baseline", 0, 2.38), (4, "last", 4, np.nan)]]
frame = pd.DataFrame(rows, columns=["patient_id", "measure", "timepoint", "month", "value",
                                    "unit"])
with figures.theme():
    fig, ax = plt.subplots(figsize=figures.figure_size("single"))
    figures.slope_chart(frame, measure="das28", ax=ax)
    ax.set_title("DAS28")
"""


def _build_figure():
    namespace = {}
    exec(BUILD_FIGURE, namespace)  # noqa: S102 - fixed test code shared with a subprocess
    return namespace["fig"]


def _read_all(paths):
    return {Path(p).suffix: Path(p).read_bytes() for p in paths}


def test_save_figure_is_byte_identical_in_and_across_processes(tmp_path):
    formats = ("png", "svg", "pdf")
    fig = _build_figure()
    first = figures.save_figure(fig, tmp_path / "a" / "slope", formats=formats)
    second = figures.save_figure(fig, tmp_path / "b" / "slope", formats=formats)
    assert [p.name for p in first] == ["slope.png", "slope.svg", "slope.pdf"]
    assert _read_all(first) == _read_all(second)
    # A figure shown first (drawn at another dpi, as a notebook does) saves the same bytes:
    # save_figure runs the layout to its fixed point at the output dpi and freezes it.
    shown = _build_figure()
    shown.set_dpi(72)
    shown.canvas.draw()
    rebuilt = figures.save_figure(shown, tmp_path / "c" / "slope", formats=formats)
    assert _read_all(first) == _read_all(rebuilt)
    assert shown.get_layout_engine() is not None and shown.dpi == 72  # restored

    script = BUILD_FIGURE + (
        "import sys\n"
        "figures.save_figure(fig, sys.argv[1], formats=('png', 'svg', 'pdf'))\n"
    )
    env = {**os.environ, "MPLBACKEND": "Agg",
           "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")]),
           "PYTHONHASHSEED": "random"}
    subprocess.run([sys.executable, "-c", script, str(tmp_path / "d" / "slope")], check=True,
                   env=env, cwd=tmp_path, timeout=60)
    other = [tmp_path / "d" / f"slope.{fmt}" for fmt in formats]
    assert _read_all(first) == _read_all(other)

    data = _read_all(first)
    assert b"Software" not in data[".png"]
    assert b"dc:date" not in data[".svg"] and b"Matplotlib v" not in data[".svg"]
    assert b"CreationDate" not in data[".pdf"] and b"Matplotlib" not in data[".pdf"]


def test_save_figure_is_atomic_and_validates(tmp_path, monkeypatch):
    fig = _build_figure()
    (path,) = figures.save_figure(fig, tmp_path / "fig", formats=("png",))
    previous = path.read_bytes()

    def broken_savefig(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(fig, "savefig", broken_savefig)
    with pytest.raises(RuntimeError, match="disk full"):
        figures.save_figure(fig, tmp_path / "fig", formats=("png",))
    assert path.read_bytes() == previous
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fig.png"]  # no temp files left

    with pytest.raises(ValueError, match="formats must be among"):
        figures.save_figure(fig, tmp_path / "fig", formats=("jpg",))
    with pytest.raises(TypeError, match="metadata"):
        figures.save_figure(fig, tmp_path / "fig", metadata={})


# --- text alternatives -------------------------------------------------------------------


def test_each_helper_describes_what_it_draws(measurements, patients, profile, studies, pooled):
    fig, axes = plt.subplots(1, 2)
    figures.slope_chart(measurements, measure="sledai2k", ax=axes[0])
    figures.slope_chart(measurements, measure="gc_mg_day", ax=axes[1])
    text = style.figure_description(fig)
    # Panels of one kind share their subject; the numbers are the paper's Table 2.
    assert text.count("One line per patient") == 1 and text.endswith(".")
    assert "SLEDAI-2K fell in 3 of 4 patients, stayed the same in 1 and rose in 0" in text
    assert "median 6 to 0.5" in text and "1 with one visit reported" in text
    ax = figures.waterfall(patients, ax=_axes())
    assert "EULAR response 3 good, 0 moderate, 1 no response" in style.figure_description(
        ax.figure)
    ax = figures.swimmer(patients, ax=_axes())
    assert "4 with a response and 0 without" in style.figure_description(ax.figure)
    ax = figures.profile_heatmap(profile, ax=_axes())
    assert "4 features of 4 patients" in style.figure_description(ax.figure)
    ax = figures.forest_plot(studies, pooled, ax=_axes())
    assert ("Tani, 2024 52%" in style.figure_description(ax.figure)
            and "Pooled, REML: 61%, 95% CI 40% to 79%" in style.figure_description(ax.figure))
    assert style.figure_description(plt.figure()) == ""


def test_save_and_show_displays_the_svg_with_its_description(tmp_path, monkeypatch):
    shown = []
    monkeypatch.setattr("IPython.display.display",
                        lambda data, raw, metadata: shown.append((data, metadata)))
    fig = _build_figure()
    figures.save_and_show(fig, tmp_path / "slope")
    (data, metadata), = shown
    assert data["image/svg+xml"] == (tmp_path / "slope.svg").read_text()
    assert data["text/plain"].startswith("One line per patient from before anifrolumab to "
                                         "last visit: DAS28 fell in 3 of 3 patients")
    assert metadata == {"files": [str(tmp_path / "slope.png"), str(tmp_path / "slope.svg")]}
    figures.save_and_show(_build_figure(), tmp_path / "only", formats=["png"], alt="A plot.")
    assert set(shown[1][0]) == {"image/png", "text/plain"} and shown[1][0]["text/plain"] == (
        "A plot.")


def test_posterior_densities_one_line_per_prior_and_its_prior_dashed():
    from helpers.analysis.review import bayes_analyses, bayes_curves

    sets = {"review": pd.DataFrame({"study": ["A", "B", "C"], "events": [2, 13, 3],
                                    "n": [3, 25, 3]})}
    table, results = bayes_analyses(sets)
    curves = bayes_curves(results, "review")
    fig, axes = plt.subplots(1, 2)
    figures.posterior_densities(curves, axes=axes, summary=table)
    gids = {line.get_gid() for ax in axes for line in ax.get_lines()}
    for prior in ("half-normal(0.5)", "half-normal(1)"):
        assert {f"posterior-proportion-{prior}", f"posterior-tau-{prior}",
                f"prior-tau-{prior}"} <= gids
    # The text alternative quotes each prior's median and interval (bayesmeta: 0.5822,
    # 0.3505-0.8135 under half-normal(0.5)).
    description = style.figure_description(fig)
    assert "half-normal(0.5) prior: median 0.58, 95% credible interval 0.35 to 0.81" in (
        description)
    plt.close(fig)


def test_save_figure_takes_a_path_with_or_without_its_extension(tmp_path):
    fig, ax = plt.subplots()
    ax.plot([0, 1], [0, 1])
    try:
        assert figures.save_figure(fig, tmp_path / "x.png", dpi=72) == [tmp_path / "x.png"]
        assert figures.save_figure(fig, tmp_path / "y.SVG") == [tmp_path / "y.svg"]
        assert figures.save_figure(fig, tmp_path / "z", formats=["pdf"]) == [tmp_path / "z.pdf"]
        # A dot that is not a format's extension is part of the name.
        assert figures.save_figure(fig, tmp_path / "v1.2", formats=["png"], dpi=72) == [
            tmp_path / "v1.2.png"]
        with pytest.raises(ValueError, match=r"names a \.png file but formats is \['svg'\]"):
            figures.save_figure(fig, tmp_path / "x.png", formats=["svg"])
    finally:
        plt.close(fig)
    assert not (tmp_path / "x.png.png").exists()
