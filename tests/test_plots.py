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
from support.paper import LAST_MONTH, TABLE2, table2_measurements  # noqa: E402

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
    return pd.DataFrame({
        "patient_id": [1, 2, 3, 4],
        "disease_duration_months": [15, 60, 192, 168],
        "anifrolumab_months": LAST_MONTH,
        "response_paper": [True, True, True, True],
        "das28_change": np.subtract(TABLE2["das28"][1], TABLE2["das28"][0]),
        "eular_response": ["good", "good", "good", "none"],
    })


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


def test_slope_chart_gc_target_line_at_5_mg(measurements):
    ax = figures.slope_chart(measurements, measure="gc_mg_day", ax=_axes())
    targets = [line for line in ax.lines if line.get_gid() == "target"]
    assert len(targets) == 1
    assert np.allclose(targets[0].get_ydata(), 5.0)  # EULAR 2023: <= 5 mg/day
    assert not [p for p in ax.patches if (p.get_gid() or "").startswith("band-")]
    # Patient 1 (baseline not reported) is an open marker at the last visit, not a line.
    assert len(ax.collections) == 1
    np.testing.assert_allclose(ax.collections[0].get_offsets()[:, 1], [0.0])
    assert ax.get_legend() is not None


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
        figures.slope_chart(measurements.drop(columns="month"), measure="das28", ax=_axes())
    with pytest.raises(ValueError, match="baseline"):
        figures.slope_chart(measurements, measure="das28", baseline="m0", ax=_axes())
    doubled = pd.concat([measurements, measurements])
    with pytest.raises(ValueError, match="duplicated patient_id, measure, timepoint"):
        figures.slope_chart(doubled, measure="das28", ax=_axes())


def _synthetic_cohort(n_patients: int, visits=("baseline", "m6", "m12"), seed=0):
    return make_cohort(n_patients, visits=visits, measures=["das28"], missing_rate=0.03,
                       seed=seed)


def test_slope_chart_large_cohort_is_unlabelled():
    # How long it takes is measured by make bench (figures up to 10^6 patients).
    cohort = _synthetic_cohort(10_000)
    ax = _axes()
    figures.slope_chart(cohort, measure="das28", ax=ax)
    ax.figure.canvas.draw()
    assert len(ax.texts) < 10  # no per-patient labels
    assert not _patient_lines(ax)
    collections = [c for c in ax.collections if isinstance(c, LineCollection)]
    assert len(collections) == 1 and len(collections[0].get_segments()) == 10_000
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
    return pd.DataFrame({
        "patient_id": [1, 2, 3, 4],
        "anti-dsDNA": [True, True, False, True],
        "anti-SSA/Ro": ["yes", "yes", "yes", "no"],
        "anti-CCP": [np.nan, 1, np.nan, np.nan],
        "HCQ intolerance": [1, 1, 0, 0],
    })


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
