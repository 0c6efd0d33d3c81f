"""Cohort-mode figures that read at any number of patients (31 to 300; above, the figures
draw distributions).

- The waterfall's bars fill the axis: at 300 dpi and column width, every pixel between
  the first bar and the last, just below 0, is a bar's colour (no white gap, no light
  seam between neighbours), however few pixels a bar has. Drawn with gaps and white
  edges, 200 bars of two or three pixels snapped into a comb of clusters and gaps.
- The EULAR response colours differ in lightness, so that they stay apart in greyscale
  (and where bars are too thin for hue to read): CIE L* from the Rec. 709 / sRGB
  luminance, computed here by hand.
- The slope chart's reference lines ("\u2264 5 mg/day") are named where there are no
  data: right of the axes in cohort mode (faded lines and the IQR fill the axes), among
  the percentiles' names right of the ribbons in distribution mode; never over a line,
  a ribbon or another name.
"""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.colors import to_rgb  # noqa: E402
from PIL import Image  # noqa: E402

from helpers import figures  # noqa: E402
from helpers.figures import style  # noqa: E402
from helpers.figures.patients import slope_rows  # noqa: E402
from helpers.synth import make_cohort  # noqa: E402

LE = "\u2264"


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


# --- greyscale ---------------------------------------------------------------------------


def _lightness(color) -> float:
    """CIE L* (0 black to 100 white) of a colour's grey: the Rec. 709 luminance of its
    linear sRGB components (IEC 61966-2-1), then CIE 1976 lightness."""
    rgb = np.array(to_rgb(color))
    linear = np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
    luminance = float(linear @ [0.2126, 0.7152, 0.0722])
    if luminance > (6 / 29) ** 3:
        return 116 * luminance ** (1 / 3) - 16
    return luminance * (29 / 3) ** 3


def test_the_lightness_by_hand_is_cie_lightness():
    assert _lightness("#FFFFFF") == pytest.approx(100)
    assert _lightness("#000000") == 0
    assert _lightness("#777777") == pytest.approx(50.0, abs=0.1)  # the middle grey
    assert _lightness("#FF0000") == pytest.approx(53.2, abs=0.1)  # sRGB red


def test_eular_colours_stay_apart_in_greyscale():
    lightness = {key: _lightness(color) for key, color in style.EULAR_COLORS.items()}
    # A sequential order: the better the response, the darker its bars.
    assert lightness["good"] < lightness["moderate"] < lightness["none"]
    # Steps of at least a fifth of the way from black to white (the Okabe-Ito orange
    # and vermillion used before were 16 apart, green and vermillion 3.5).
    assert np.diff(sorted(lightness.values())).min() >= 20
    # Even the lightest stands out from the white page and from the light grey of
    # "not assessable".
    assert max(lightness.values()) <= 100 - 25
    assert max(lightness.values()) <= _lightness(style.MISSING_COLOR) - 10


# --- waterfall: bars that fill the axis --------------------------------------------------


def _waterfall_pixels(data: pd.DataFrame, dpi: int = 300):
    """The waterfall of ``data`` at column width (as notebook 03 draws it), as an RGB
    array at ``dpi``, with the axes it was drawn on."""
    with figures.theme():
        fig, ax = plt.subplots(figsize=figures.figure_size("single", aspect=0.8))
        figures.waterfall(data, value="das28_change", hue="eular_response", ax=ax)
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=dpi)
    return np.asarray(Image.open(buffer).convert("RGB")), ax


@pytest.mark.parametrize("n_patients", [31, 47, 100, 200, 233, 300])
def test_waterfall_bars_fill_the_axis_at_300_dpi(n_patients):
    # Every bar a fall of about 1, the categories taking turns: each neighbour differs in
    # colour, the worst case for gaps and seams.
    keys = ["good", "moderate", "none"]
    data = pd.DataFrame({"patient_id": np.arange(1, n_patients + 1),
                         "das28_change": -1.0 - 0.001 * np.arange(n_patients),
                         "eular_response": [keys[i % 3] for i in range(n_patients)]})
    pixels, ax = _waterfall_pixels(data)
    scale = 300 / ax.figure.dpi
    # The row of pixels at a change of -0.5, from the first bar's left edge to the last
    # bar's right edge (less one pixel at each end, where the edge may fall mid-pixel).
    (left, y), (right, _) = ax.transData.transform([(-0.5, -0.5), (n_patients - 0.5, -0.5)])
    row = pixels[pixels.shape[0] - int(y * scale),
                 int(np.ceil(left * scale)) + 1:int(np.floor(right * scale)) - 1]
    assert len(row) > 700  # the width of the axes, a bar every 2.5 pixels at 300 bars
    bar_colours = {tuple(round(255 * c) for c in to_rgb(style.EULAR_COLORS[key]))
                   for key in keys}
    found = {tuple(int(v) for v in pixel) for pixel in row}
    assert found == bar_colours, f"pixels that are no bar's colour: {found - bar_colours}"
    # Each category's bars are one area: a handful of artists whatever the cohort's size.
    areas = sorted(c.get_gid() for c in ax.collections)
    assert areas == ["bars-good", "bars-moderate", "bars-none"]


def test_the_papers_waterfall_keeps_its_numbered_bars():
    # Up to 30 patients each bar stands apart, numbered and named under the axis.
    data = pd.DataFrame({"patient_id": [1, 2, 3, 4],
                         "das28_change": [-5.04, -3.7, -2.26, 0.0],
                         "eular_response": ["good", "good", "good", "none"]})
    _, ax = _waterfall_pixels(data, dpi=72)
    widths = {round(p.get_width(), 9) for p in ax.patches}
    assert widths == {0.7}
    assert not ax.collections
    assert [t.get_text() for t in ax.get_xticklabels()] == ["Pt 4", "Pt 3", "Pt 2", "Pt 1"]


# --- slope chart: the reference lines' names off the data --------------------------------


def _gc_panel(cohort: pd.DataFrame, mode: str):
    """Notebook 03's three panels (double column); the glucocorticoid one, laid out."""
    with figures.theme():
        fig, axes = plt.subplots(1, 3, squeeze=False,
                                 figsize=figures.figure_size("double", aspect=0.36))
        for ax, measure in zip(axes[0], ["sledai2k", "das28", "gc_mg_day"], strict=True):
            figures.slope_chart(cohort, measure=measure, mode=mode, ax=ax)
        fig.canvas.draw()  # constrained layout places the axes
    return axes[0][2], fig.canvas.get_renderer()


@pytest.mark.parametrize("n_patients, mode", [
    (31, "cohort"), (100, "cohort"), (200, "cohort"), (300, "cohort"),
    (200, "distribution"), (2_000, "distribution"),
])
def test_reference_line_names_stand_clear_of_the_data(n_patients, mode):
    cohort = make_cohort(n_patients, visits=("baseline", "m6", "m12"), seed=n_patients,
                         missing_rate=0.03)
    ax, renderer = _gc_panel(cohort, mode)
    targets = slope_rows(cohort, measure="gc_mg_day", mode=mode).targets
    names = [t for t in ax.texts if t.get_text().startswith(LE)]
    assert [t.get_text() for t in names] == [text for _, text in targets] == [
        f"{LE} 5 mg/day", f"{LE} 7.5 mg/day"]
    # The data: every patient's faded line, the IQR or percentile ribbons, the median
    # with its markers (the last one unclipped, on the axes' right edge).
    data = [a for a in [*ax.collections, *ax.lines] if a.get_gid() != "target"]
    assert len(data) >= 2
    data_right = max(a.get_window_extent(renderer).x1 for a in data)
    for name, (level, _) in zip(names, targets, strict=True):
        box = name.get_window_extent(renderer)
        assert box.x0 > data_right, f"{name.get_text()} sits on the data"
        # Beside its own line: level with it, within a line of text.
        y_level = ax.transData.transform((0, level))[1]
        assert abs((box.y0 + box.y1) / 2 - y_level) <= box.height
        # On no other name: the other reference line's, the percentiles', the legend's.
        others = [t for t in ax.texts if t is not name]
        if ax.get_legend() is not None:
            others += ax.get_legend().get_texts()
        for other in others:
            assert not box.overlaps(other.get_window_extent(renderer)), (
                f"{name.get_text()} overlaps {other.get_text()}")
        # Inside the figure, not cut off at its edge.
        assert box.x1 <= ax.figure.bbox.x1
    if mode == "cohort":
        # Right of the axes, as the DAS28 panel's band names.
        assert all(t.get_window_extent(renderer).x0 >= ax.bbox.x1 for t in names)


@pytest.mark.parametrize("mode", ["cohort", "distribution"])
def test_a_reference_line_on_a_measure_with_bands_is_named_on_a_white_box(mode):
    # The bands' names take the right of the axes: a target given to DAS28 is named at
    # the line's left end, over the data, on a white box that hides them.
    cohort = make_cohort(100, visits=("baseline", "m6", "m12"), seed=1)
    with figures.theme():
        fig, ax = plt.subplots(figsize=figures.figure_size("single"))
        figures.slope_chart(cohort, measure="das28", target=4.0, mode=mode, ax=ax)
        fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    (name,) = [t for t in ax.texts if t.get_text().startswith("Target")]
    assert name.get_text() == f"Target {LE} 4 points"
    box = name.get_bbox_patch()
    assert box is not None
    assert to_rgb(box.get_facecolor()) == (1.0, 1.0, 1.0) and box.get_alpha() >= 0.8
    data = [a for a in [*ax.collections, *ax.lines] if a.get_gid() != "target"]
    assert name.get_zorder() > max(a.get_zorder() for a in data)
    # Clear of the bands' names and of the percentiles' names.
    extent = name.get_window_extent(renderer)
    others = [t for t in ax.texts if t is not name]
    for axis in ax.child_axes:
        others += axis.get_yticklabels()
    assert others
    for other in others:
        assert not extent.overlaps(other.get_window_extent(renderer)), other.get_text()
