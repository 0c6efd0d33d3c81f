"""Figures for the anifrolumab-arthritis analysis, in one theme.

Every plotting helper follows seaborn's calling convention: the data first, then
keyword-only options, ``ax=None`` (draw on the current axes when not given) and
``**kwargs`` for the main artists; it draws and returns the :class:`~matplotlib.axes.Axes`.
Saving is the caller's business, through :func:`save_figure`, which writes byte-identical
files from run to run.

- :func:`set_theme` / :func:`theme`: one look for every figure (Okabe-Ito colour-blind-safe
  palette, fonts legible at journal column width, 3.5 in / 8.5 cm);
- :func:`slope_chart`: baseline vs follow-up per patient (the paper's Table 2), or, for
  large cohorts and several visits, faded individual trajectories with median and IQR;
- :func:`waterfall`: DAS28 change per patient, coloured by EULAR response;
- :func:`swimmer`: disease duration before and months on anifrolumab, with response;
- :func:`profile_heatmap`: patients x features (autoantibodies, organs, therapies);
- :func:`forest_plot`: the literature review, studies and pooled estimates;
- :func:`save_figure`: deterministic, atomic PNG/SVG/PDF output.

Artists that tests (and users) may want to find carry a ``gid``: ``patient-<id>`` for the
per-patient lines of :func:`slope_chart`, ``band-<name>`` for the DAS28 bands, ``target``
for the glucocorticoid target line, ``threshold-<value>`` for the waterfall reference
lines and ``pooled-<i>`` for the forest plot diamonds.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from cycler import cycler
from matplotlib import patheffects
from matplotlib.collections import LineCollection, PatchCollection
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Polygon, Rectangle
from matplotlib.ticker import MaxNLocator

from helpers.io import atomic_write, round_significant
from helpers.scores import (DAS28_LOW, DAS28_MODERATE, DAS28_REMISSION,
                            EULAR_GOOD_IMPROVEMENT, EULAR_MODERATE_IMPROVEMENT,
                            GC_TARGET_EULAR_2023, parse_yes_no)

# ---------------------------------------------------------------------------------------
# Theme
# ---------------------------------------------------------------------------------------

#: Journal single-column and double-column widths in inches (8.5 cm and 17.8 cm).
COLUMN_WIDTH_IN = 3.5
DOUBLE_COLUMN_WIDTH_IN = 7.0

#: Okabe & Ito (2008) colour-blind-safe palette, "Color Universal Design".
OKABE_ITO = {
    "black": "#000000",
    "orange": "#E69F00",
    "sky_blue": "#56B4E9",
    "bluish_green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "reddish_purple": "#CC79A7",
}
#: Order of the colour cycle: yellow last, it is hard to see on white.
PALETTE = tuple(
    OKABE_ITO[name]
    for name in ("blue", "orange", "bluish_green", "vermillion", "reddish_purple", "sky_blue",
                 "black", "yellow")
)
GREY = "#6E6E6E"
LIGHT_GREY = "#D9D9D9"

#: Fixed salt for SVG element ids, so SVG output is byte-stable (matplotlib docs, rcParams).
SVG_HASHSALT = "anifrolumab-arthritis"

#: Fixed EULAR response colours: the same category always has the same colour.
EULAR_COLORS = {
    "good": OKABE_ITO["bluish_green"],
    "moderate": OKABE_ITO["orange"],
    "none": OKABE_ITO["vermillion"],
}
EULAR_LABELS = {"good": "Good", "moderate": "Moderate", "none": "No response"}
MISSING_COLOR = LIGHT_GREY

#: Axis labels, with units, for the measures of the tidy measurement table.
MEASURE_LABELS = {
    "sledai2k": "SLEDAI-2K (score)",
    "das28": "DAS28 (score)",
    "gc_mg_day": "Glucocorticoid dose\n(mg/day, prednisone eq.)",
}
#: Labels of derived per-patient columns used by :func:`waterfall`.
VALUE_LABELS = {
    "das28_change": "DAS28 change\n(last visit \u2212 baseline)",
    "sledai2k_change": "SLEDAI-2K change\n(last visit \u2212 baseline)",
    "gc_mg_day_change": "Glucocorticoid dose change\n(mg/day, last visit \u2212 baseline)",
}
TIMEPOINT_LABELS = {"baseline": "Before\nanifrolumab", "last": "Last\nvisit"}

# DAS28 disease-activity bands from the cut-offs of helpers.scores (sources cited there).
# The top of the "high" band is the score's practical maximum (about 9.4).
DAS28_BANDS = (
    ("remission", "Remission", 0.0, DAS28_REMISSION),
    ("low", "Low", DAS28_REMISSION, DAS28_LOW),
    ("moderate", "Moderate", DAS28_LOW, DAS28_MODERATE),
    ("high", "High", DAS28_MODERATE, 10.0),
)
_BAND_SHADES = ("#F6F6F6", "#ECECEC", "#E0E0E0", "#D3D3D3")

# EULAR 2023 SLE target of <= 5 mg/day, and the EULAR response improvements of 1.2 and
# 0.6 (both defined, with their sources, in helpers.scores).
GC_TARGET_MG_DAY = GC_TARGET_EULAR_2023
EULAR_IMPROVEMENT_THRESHOLDS = (EULAR_GOOD_IMPROVEMENT, EULAR_MODERATE_IMPROVEMENT)

# Above this many patients, or with more than one follow-up visit, slope_chart switches
# from labelled per-patient lines to faded lines with median and IQR.
MAX_LABELLED_PATIENTS = 30

_SMALL_TEXT = 6.5


def theme_rc(font_scale: float = 1.0) -> dict:
    """Return the rcParams of the project theme.

    Parameters
    ----------
    font_scale : float, default 1.0
        Multiplies every font size (1.0 is sized for a 3.5 in / 8.5 cm column).

    Returns
    -------
    dict
        rcParams, usable with :func:`matplotlib.rc_context` or ``rcParams.update``.

    Notes
    -----
    Fonts are pinned to DejaVu Sans, which ships with matplotlib, so a figure renders the
    same bytes on every machine (a locally installed Arial would otherwise win).
    Text in SVG is stored as paths (``svg.fonttype="path"``) for the same reason; PDF embeds
    TrueType fonts (``pdf.fonttype=42``) so journals can edit the text.
    """
    # seaborn's "ticks" style, written out: importing seaborn (and with it scipy.stats)
    # would cost about 1.5 s per process for twelve settings.
    rc = {
        "axes.axisbelow": True,
        "axes.edgecolor": ".15",
        "axes.facecolor": "white",
        "axes.grid": False,
        "axes.labelcolor": ".15",
        "figure.facecolor": "white",
        "grid.color": ".8",
        "grid.linestyle": "-",
        "lines.solid_capstyle": "round",
        "patch.edgecolor": "w",
        "patch.force_edgecolor": True,
        "text.color": ".15",
        "xtick.bottom": True,
        "xtick.top": False,
        "xtick.color": ".15",
        "xtick.direction": "out",
        "ytick.left": True,
        "ytick.right": False,
        "ytick.color": ".15",
        "ytick.direction": "out",
    }
    size = 8.0 * font_scale
    rc.update({
        "font.family": "sans-serif",
        "font.sans-serif": ["DejaVu Sans"],
        "font.size": size,
        "axes.labelsize": size,
        "axes.titlesize": size + 0.5 * font_scale,
        "axes.titleweight": "bold",
        "xtick.labelsize": size - 1 * font_scale,
        "ytick.labelsize": size - 1 * font_scale,
        "legend.fontsize": size - 1 * font_scale,
        "legend.title_fontsize": size - 0.5 * font_scale,
        "legend.frameon": False,
        "legend.handlelength": 1.4,
        "legend.borderaxespad": 0.3,
        "axes.linewidth": 0.8,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.prop_cycle": cycler(color=list(PALETTE)),
        "axes.unicode_minus": True,
        "axes.labelpad": 3.0,
        "xtick.major.size": 3.0,
        "ytick.major.size": 3.0,
        "xtick.major.width": 0.8,
        "ytick.major.width": 0.8,
        "lines.linewidth": 1.4,
        "lines.markersize": 4.5,
        "patch.linewidth": 0.6,
        "hatch.linewidth": 0.6,
        "image.cmap": "cividis",
        "figure.figsize": (COLUMN_WIDTH_IN, COLUMN_WIDTH_IN * 0.75),
        "figure.dpi": 150,
        "figure.constrained_layout.use": True,
        "savefig.dpi": 300,
        "savefig.facecolor": "white",
        "svg.fonttype": "path",
        "svg.hashsalt": SVG_HASHSALT,
        "pdf.fonttype": 42,
    })
    return rc


def set_theme(font_scale: float = 1.0) -> None:
    """Apply the project theme globally (in the manner of :func:`seaborn.set_theme`).

    Parameters
    ----------
    font_scale : float, default 1.0
        See :func:`theme_rc`.

    See Also
    --------
    theme : the same settings, only inside a ``with`` block.
    """
    mpl.rcParams.update(theme_rc(font_scale))


@contextlib.contextmanager
def theme(font_scale: float = 1.0) -> Iterator[None]:
    """Apply the project theme inside a ``with`` block, then restore the previous one.

    Examples
    --------
    >>> with theme():
    ...     fig, ax = plt.subplots(figsize=figure_size())
    """
    with mpl.rc_context(theme_rc(font_scale)):
        yield


def figure_size(width: str | float = "single", aspect: float = 0.75) -> tuple[float, float]:
    """Return ``(width, height)`` in inches for a journal figure.

    Parameters
    ----------
    width : {"single", "double"} or float, default "single"
        One column (3.5 in), two columns (7 in) or a width in inches.
    aspect : float, default 0.75
        Height divided by width.
    """
    if width == "single":
        inches = COLUMN_WIDTH_IN
    elif width == "double":
        inches = DOUBLE_COLUMN_WIDTH_IN
    elif isinstance(width, (int, float)) and width > 0:
        inches = float(width)
    else:
        raise ValueError(f"width must be 'single', 'double' or a positive number, got {width!r}")
    return (inches, inches * aspect)


# ---------------------------------------------------------------------------------------
# Small shared pieces
# ---------------------------------------------------------------------------------------


def _require_columns(data: pd.DataFrame, columns: Sequence[str], name: str = "data") -> None:
    if not isinstance(data, pd.DataFrame):
        raise TypeError(f"{name} must be a pandas DataFrame, got {type(data).__name__}")
    missing = [column for column in columns if column not in data.columns]
    if missing:
        raise ValueError(
            f"{name} is missing column(s) {missing}; it has {list(data.columns)}"
        )


def patient_label(patient_id) -> str:
    """Return the display label of a patient: ``"Pt 3"`` for id 3, the id itself otherwise."""
    if isinstance(patient_id, (int, np.integer)) and not isinstance(patient_id, bool):
        return f"Pt {int(patient_id)}"
    if isinstance(patient_id, (float, np.floating)) and float(patient_id).is_integer():
        return f"Pt {int(patient_id)}"
    text = str(patient_id)
    return f"Pt {int(text)}" if text.isdigit() else text


def timepoint_label(timepoint: str) -> str:
    """Return the axis label of a timepoint (``"m6"`` becomes ``"Month 6"``)."""
    if timepoint in TIMEPOINT_LABELS:
        return TIMEPOINT_LABELS[timepoint]
    match = re.fullmatch(r"m(\d+)", str(timepoint))
    return f"Month {match.group(1)}" if match else str(timepoint)


def measure_label(measure: str, unit: str | None = None) -> str:
    """Return the axis label of a measure, with its unit when known."""
    if measure in MEASURE_LABELS:
        return MEASURE_LABELS[measure]
    if unit and str(unit) not in {"score", "nan", ""}:
        return f"{measure} ({unit})"
    return str(measure)


def _minus(text: str) -> str:
    """Use a typographic minus sign, as the tick labels do."""
    return text.replace("-", "\u2212")


def _points(size) -> float:
    """Font size in points, also for rcParams given as names ("small")."""
    return mpl.font_manager.FontProperties(size=size).get_size_in_points()


def _get_ax(ax):
    return plt.gca() if ax is None else ax


def _text_height_in_data(ax, fontsize: float, factor: float = 1.3) -> float:
    """Height of one line of text in y data units (for spacing labels)."""
    height_px = max(ax.get_window_extent().height, 1.0)
    low, high = ax.get_ylim()
    return fontsize * factor * ax.figure.dpi / 72.0 * (high - low) / height_px


def _spread(targets: np.ndarray, gap: float, lower: float | None = None) -> np.ndarray:
    """Move 1-D label positions apart by at least ``gap``, as little as possible.

    Overlapping labels are merged into clusters centred on the mean of their targets
    (the usual 1-D "repel" used by slope-graph labelling), then pushed above ``lower``.
    """
    targets = np.asarray(targets, dtype=float)
    order = np.argsort(targets, kind="stable")
    sorted_targets = targets[order]
    clusters = [[i] for i in range(len(sorted_targets))]
    changed = True
    while changed:
        changed = False
        merged = [clusters[0]] if clusters else []
        for cluster in clusters[1:]:
            previous = merged[-1]
            prev_centre = sorted_targets[previous].mean()
            centre = sorted_targets[cluster].mean()
            prev_top = prev_centre + (len(previous) - 1) / 2 * gap
            bottom = centre - (len(cluster) - 1) / 2 * gap
            if bottom - prev_top < gap - 1e-12:
                merged[-1] = previous + cluster
                changed = True
            else:
                merged.append(cluster)
        clusters = merged
    positions = np.empty_like(sorted_targets)
    for cluster in clusters:
        centre = sorted_targets[cluster].mean()
        offsets = (np.arange(len(cluster)) - (len(cluster) - 1) / 2) * gap
        positions[cluster] = centre + offsets
    if lower is not None and len(positions):
        positions[0] = max(positions[0], lower)
        for i in range(1, len(positions)):
            positions[i] = max(positions[i], positions[i - 1] + gap)
    result = np.empty_like(positions)
    result[order] = positions
    return result


# ---------------------------------------------------------------------------------------
# Slope chart
# ---------------------------------------------------------------------------------------


def _resolve_bands(measure: str, bands):
    if bands is None:
        return DAS28_BANDS if measure == "das28" else ()
    if bands is False:
        return ()
    if bands is True:
        return DAS28_BANDS
    resolved = []
    for band in bands:
        if len(band) == 3:
            label, low, high = band
            resolved.append((str(label).lower(), str(label), float(low), float(high)))
        elif len(band) == 4:
            resolved.append(tuple(band))
        else:
            raise ValueError(f"bands must hold (label, low, high) tuples, got {band!r}")
    return tuple(resolved)


def _resolve_target(measure: str, target):
    if target is None:
        return GC_TARGET_MG_DAY if measure == "gc_mg_day" else None
    if target is False:
        return None
    return float(target)


def _draw_bands(ax, bands) -> None:
    """Shade activity bands with axhspan and name them on a right-hand secondary axis."""
    if not bands:
        return
    low_lim, high_lim = ax.get_ylim()
    centres, names = [], []
    for i, (key, name, low, high) in enumerate(bands):
        ax.axhspan(low, high, facecolor=_BAND_SHADES[i % len(_BAND_SHADES)], edgecolor="none",
                   zorder=0, gid=f"band-{key}")
        shown_low, shown_high = max(low, low_lim), min(high, high_lim)
        if shown_high - shown_low > 0.04 * (high_lim - low_lim):
            centres.append((shown_low + shown_high) / 2)
            names.append(name)
    names_axis = ax.secondary_yaxis("right")
    names_axis.set_yticks(centres, names)
    names_axis.tick_params(length=0, labelsize=_SMALL_TEXT, labelcolor=GREY, pad=2)
    names_axis.spines["right"].set_visible(False)
    for label in names_axis.get_yticklabels():
        label.set_fontstyle("italic")


def _draw_target(ax, target: float | None, unit: str) -> None:
    if target is None:
        return
    ax.axhline(target, color=GREY, linestyle=(0, (4, 2)), linewidth=0.9, zorder=1,
               gid="target")
    ax.annotate(f"Target \u2264 {target:g} {unit}".strip(), xy=(1.0, target),
                xycoords=("axes fraction", "data"), xytext=(-2, 2), textcoords="offset points",
                ha="right", va="bottom", fontsize=_SMALL_TEXT, color=GREY)


def _value_limits(values: np.ndarray, bands, target) -> tuple[float, float]:
    finite = values[np.isfinite(values)]
    high = float(finite.max()) if finite.size else 1.0
    low = min(0.0, float(finite.min())) if finite.size else 0.0
    if target is not None:
        high = max(high, target)
    if bands:
        # Show at least the start of the band above the highest value.
        above = [band[2] for band in bands if band[2] > high]
        if above and min(above) - high < 0.1 * (high - low):
            high = min(above)
    span = (high - low) or 1.0
    return low - 0.04 * span, high + 0.08 * span


def slope_chart(data: pd.DataFrame, *, measure: str, baseline: str = "baseline",
                label_patients: bool | None = None, bands=None, target=None,
                mode: str | None = None, ax=None, **kwargs):
    """Paired slope chart of one measure: baseline vs follow-up, one line per patient.

    Parameters
    ----------
    data : DataFrame
        Tidy measurement table with columns ``patient_id, measure, timepoint, month, value``
        (``unit`` is used for the axis label when present). ``value`` may be NaN.
    measure : str
        Which measure to draw, e.g. ``"sledai2k"``, ``"das28"``, ``"gc_mg_day"``.
    baseline : str, default "baseline"
        The ``timepoint`` value of the baseline visit.
    label_patients : bool, optional
        Write "Pt 1", "Pt 2"... at the right end of each line. Default: yes in paired mode;
        never in cohort mode (there would be thousands).
    bands : bool or sequence of (label, low, high), optional
        Shaded background bands. Default: the DAS28 activity bands for ``"das28"``
        (remission < 2.6, low <= 3.2, moderate <= 5.1, high > 5.1), none otherwise.
        ``False`` draws none.
    target : float or bool, optional
        Horizontal target line. Default: 5 mg/day for ``"gc_mg_day"`` (EULAR 2023), none
        otherwise. ``False`` draws none.
    mode : {"paired", "cohort"}, optional
        ``"paired"`` draws one labelled line per patient between two visits (x = visit);
        ``"cohort"`` draws every patient as a faded line over ``month`` with the median and
        interquartile range per visit. Default: paired for up to 30 patients with a single
        follow-up visit, cohort otherwise.
    ax : matplotlib Axes, optional
        Axes to draw on; the current axes by default.
    **kwargs
        Passed to the patient lines (:class:`~matplotlib.lines.Line2D` in paired mode,
        :class:`~matplotlib.collections.LineCollection` in cohort mode).

    Returns
    -------
    matplotlib Axes

    Notes
    -----
    In paired mode each patient with both values is one line (``gid="patient-<id>"``);
    a patient with only one value gets an open marker at that visit and no line. Cohort
    mode draws all patients as one LineCollection (rasterised above 500 patients, so
    vector output stays small), which keeps 10,000 patients to well under a second.
    Summaries in cohort mode are per ``timepoint``, placed at its median month.
    """
    _require_columns(data, ["patient_id", "measure", "timepoint", "month", "value"])
    if mode not in (None, "paired", "cohort"):
        raise ValueError(f"mode must be None, 'paired' or 'cohort', got {mode!r}")
    subset = data.loc[data["measure"] == measure]
    if subset.empty:
        raise ValueError(
            f"measure {measure!r} not found; data has {sorted(map(str, data['measure'].unique()))}"
        )
    timepoints = subset["timepoint"].astype(str)
    if not (timepoints == baseline).any():
        raise ValueError(f"no rows with timepoint == baseline ({baseline!r}) for {measure!r}")
    follow_ups = pd.unique(timepoints[timepoints != baseline])
    if len(follow_ups) == 0:
        raise ValueError(f"no follow-up timepoint for {measure!r}: only {baseline!r} rows")
    n_patients = subset["patient_id"].nunique()
    if mode is None:
        mode = ("paired" if n_patients <= MAX_LABELLED_PATIENTS and len(follow_ups) == 1
                else "cohort")
    if mode == "paired" and len(follow_ups) != 1:
        raise ValueError(
            f"mode='paired' needs exactly one follow-up timepoint, got {list(follow_ups)}"
        )
    ax = _get_ax(ax)
    unit = ""
    if "unit" in subset.columns and subset["unit"].notna().any():
        unit = str(subset["unit"].dropna().iloc[0])
    bands = _resolve_bands(measure, bands)
    target = _resolve_target(measure, target)
    target_unit = "mg/day" if measure == "gc_mg_day" else ""
    values = subset["value"].to_numpy(dtype=float)
    ax.set_ylim(*_value_limits(values, bands, target))
    ax.set_ylabel(measure_label(measure, unit))
    _draw_bands(ax, bands)
    _draw_target(ax, target, target_unit)
    if mode == "paired":
        _slope_paired(ax, subset, baseline, str(follow_ups[0]),
                      True if label_patients is None else bool(label_patients), kwargs)
    else:
        _slope_cohort(ax, subset, baseline, kwargs)
    return ax


def _wide(subset: pd.DataFrame, column: str) -> pd.DataFrame:
    try:
        return subset.pivot(index="patient_id", columns="timepoint", values=column)
    except ValueError as error:
        raise ValueError(
            "data has more than one row per patient_id and timepoint for this measure"
        ) from error


def _dodge(values: np.ndarray, step: float) -> np.ndarray:
    """x offsets that set tied values side by side (centred), zero for untied ones."""
    offsets = np.zeros(len(values))
    finite = np.isfinite(values)
    keys = np.round(values[finite], 9)
    index = np.flatnonzero(finite)
    for key in np.unique(keys):
        members = index[keys == key]
        offsets[members] = (np.arange(len(members)) - (len(members) - 1) / 2) * step
    return offsets


def _slope_paired(ax, subset, baseline, follow_up, label_patients, line_kwargs) -> None:
    subset = subset.assign(timepoint=subset["timepoint"].astype(str))
    wide = _wide(subset, "value").astype(float)
    wide = wide.reindex(columns=[baseline, follow_up]).sort_index()
    before = wide[baseline].to_numpy()
    after = wide[follow_up].to_numpy()
    colors = [PALETTE[i % len(PALETTE)] for i in range(len(wide))]
    style = {"linewidth": 1.5, "marker": "o", "markersize": 4.5, "zorder": 3,
             "solid_capstyle": "round", **line_kwargs}
    ax.set_xticks([0, 1], [timepoint_label(baseline), timepoint_label(follow_up)])
    ax.set_xlim(-0.25, 1.45 if label_patients else 1.25)
    ax.tick_params(axis="x", length=0)
    # Patients with the same value at a visit are set side by side, so no marker hides
    # another (the step is one marker width, converted from points to x data units).
    width_px = max(ax.get_window_extent().width, 1.0)
    step = (_points(style["markersize"]) * 1.15 * ax.figure.dpi / 72.0
            * np.ptp(ax.get_xlim()) / width_px)
    x_before = 0 + _dodge(before, step)
    x_after = 1 + _dodge(after, step)
    unpaired = False
    for i, (pid, b, a, color) in enumerate(zip(wide.index, before, after, colors, strict=True)):
        if np.isfinite(b) and np.isfinite(a):
            ax.plot([x_before[i], x_after[i]], [b, a], color=color, gid=f"patient-{pid}",
                    **style)
        else:
            points = [(x, v) for x, v in ((x_before[i], b), (x_after[i], a)) if np.isfinite(v)]
            if points:
                unpaired = True
                ax.scatter(*zip(*points, strict=True), s=style["markersize"] ** 2,
                           facecolor="white", edgecolor=color, linewidth=1.2, zorder=4)
    if label_patients:
        has_end = np.isfinite(after)
        ends = after[has_end]
        fontsize = _points(plt.rcParams["legend.fontsize"])
        gap = _text_height_in_data(ax, fontsize, factor=1.15)
        positions = _spread(ends, gap, lower=ax.get_ylim()[0] + gap / 2)
        for pid, y, color in zip(wide.index[has_end], positions,
                                 np.asarray(colors, dtype=object)[has_end], strict=True):
            ax.text(1.12, y, patient_label(pid), va="center", ha="left", color=color,
                    fontsize=fontsize, fontweight="bold")
    if unpaired:
        handle = Line2D([], [], linestyle="none", marker="o", markerfacecolor="white",
                        markeredgecolor=GREY, markersize=4.5)
        ax.legend([handle], ["Other visit not reported"], loc="best",
                  fontsize=_SMALL_TEXT, handletextpad=0.3, borderaxespad=0.2)


def _slope_cohort(ax, subset, baseline, line_kwargs) -> None:
    subset = subset.assign(timepoint=subset["timepoint"].astype(str))
    # Order visits by their median month (baseline first), so lines run left to right.
    month_by_visit = subset.groupby("timepoint", sort=True)["month"].median()
    month_by_visit[baseline] = min(month_by_visit.get(baseline, 0.0),
                                   month_by_visit.min())
    order = month_by_visit.sort_values(kind="stable").index
    months = _wide(subset, "month").reindex(columns=order).to_numpy(dtype=float)
    values = _wide(subset, "value").reindex(columns=order).to_numpy(dtype=float)
    n_patients = values.shape[0]
    # NaN vertices break a path, so a missing visit leaves a gap rather than a wrong line.
    segments = np.stack([months, values], axis=-1)
    # Fade with cohort size so the overlap shows density rather than a solid block;
    # 0.006 is about the finest step of 8-bit alpha that still registers.
    alpha = float(np.clip(10.0 / max(n_patients, 1), 0.005, 0.35))
    style = {"colors": GREY, "linewidths": 0.5 if n_patients <= 1000 else 0.25,
             "alpha": alpha, "zorder": 2,
             "rasterized": n_patients > 500, **line_kwargs}
    ax.add_collection(LineCollection(segments, **style), autolim=False)
    stats = subset.groupby("timepoint")["value"].quantile([0.25, 0.5, 0.75]).unstack()
    stats = stats.reindex(order)
    x = month_by_visit.reindex(order).to_numpy(dtype=float)
    color = PALETTE[0]
    ax.fill_between(x, stats[0.25], stats[0.75], color=color, alpha=0.3, linewidth=0,
                    zorder=3)
    # A white outline keeps the summary readable on top of dense individual lines.
    outline = [patheffects.Stroke(linewidth=3.5, foreground="white"), patheffects.Normal()]
    ax.plot(x, stats[0.5], color=color, linewidth=2.0, marker="o", markersize=4, zorder=4,
            gid="median", path_effects=outline)
    finite_months = months[np.isfinite(months)]
    right = float(finite_months.max()) if finite_months.size else 1.0
    ax.set_xlim(min(0.0, float(np.nanmin(finite_months)) if finite_months.size else 0.0)
                - 0.02 * right, right * 1.02 or 1.0)
    ax.set_xlabel("Months on anifrolumab")
    ax.xaxis.set_major_locator(MaxNLocator(nbins=6, integer=True))
    handles = [Line2D([], [], color=GREY, linewidth=0.8, alpha=0.6),
               Line2D([], [], color=color, linewidth=2.0, marker="o", markersize=4),
               Patch(facecolor=color, alpha=0.3, linewidth=0)]
    # Inside the axes: a three-column legend above each panel of a multi-panel figure is
    # wider than the panel and makes constrained layout collapse the axes.
    ax.legend(handles, [f"Patients (n = {n_patients:,})", "Median", "IQR"],
              loc="upper right", ncols=1, fontsize=_SMALL_TEXT, handletextpad=0.4,
              borderaxespad=0.3, framealpha=0.85)


# ---------------------------------------------------------------------------------------
# Waterfall
# ---------------------------------------------------------------------------------------


def _eular_category(value) -> str | None:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    key = str(value).strip().lower()
    key = {"no": "none", "no response": "none", "non-responder": "none"}.get(key, key)
    if key not in EULAR_COLORS:
        raise ValueError(
            f"EULAR response must be one of {sorted(EULAR_COLORS)} or missing, got {value!r}"
        )
    return key


#: Above this many patients the waterfall is drawn as filled areas, not one bar each.
MAX_WATERFALL_BARS = 500


def waterfall(data: pd.DataFrame, *, value: str = "das28_change",
              hue: str | None = "eular_response", label: str = "patient_id",
              thresholds: Sequence[float] | None = None, ax=None, **kwargs):
    """Waterfall of the change per patient, sorted, coloured by EULAR response.

    Parameters
    ----------
    data : DataFrame
        One row per patient with columns ``value``, ``hue`` and ``label``.
    value : str, default "das28_change"
        Column of changes, ``post - baseline`` (negative = improvement).
    hue : str or None, default "eular_response"
        Column of EULAR responses: ``"good"``, ``"moderate"``, ``"none"`` (case-insensitive;
        missing allowed, drawn grey). ``None`` draws every bar in one colour.
    label : str, default "patient_id"
        Column naming each bar (ids become "Pt 1"...).
    thresholds : sequence of float, optional
        Improvements drawn as reference lines at ``-threshold``. Default: 1.2 and 0.6, the
        EULAR response criteria (van Gestel 1996).
    ax : matplotlib Axes, optional
    **kwargs
        Passed to :meth:`~matplotlib.axes.Axes.bar`.

    Returns
    -------
    matplotlib Axes

    Notes
    -----
    Bars are sorted from the largest change (left) to the largest improvement (right);
    patients with a missing change keep their tick, marked "n/a", and get no bar. The colour
    of each EULAR category is fixed (:data:`EULAR_COLORS`) and the legend always lists all
    three, so figures from different cohorts compare directly.
    """
    columns = [value, label] + ([hue] if hue is not None else [])
    _require_columns(data, columns)
    ax = _get_ax(ax)
    thresholds = EULAR_IMPROVEMENT_THRESHOLDS if thresholds is None else tuple(thresholds)
    frame = data.loc[:, columns].copy()
    frame["_change"] = pd.to_numeric(frame[value], errors="raise").astype(float)
    frame = frame.sort_values("_change", ascending=False, na_position="last", kind="stable")
    changes = frame["_change"].to_numpy()
    present = np.isfinite(changes)
    categories = ([_eular_category(v) for v in frame[hue]] if hue is not None
                  else [None] * len(frame))
    if hue is None:
        colors = [PALETTE[0]] * len(frame)
    else:
        colors = [EULAR_COLORS[c] if c is not None else MISSING_COLOR for c in categories]
    positions = np.arange(len(frame))
    if len(frame) <= MAX_WATERFALL_BARS:
        style = {"width": 0.7, "edgecolor": "white", "linewidth": 0.5, "zorder": 3, **kwargs}
        ax.bar(positions[present], changes[present],
               color=np.asarray(colors, dtype=object)[present].tolist(), **style)
    else:
        # Thousands of bars: one filled step area per colour draws the same picture in
        # milliseconds instead of one rectangle per patient.
        colors = np.asarray(colors, dtype=object)
        for color in dict.fromkeys(colors[present].tolist()):
            mine = present & (colors == color)
            ax.fill_between(positions, 0, np.where(mine, changes, 0.0), step="mid",
                            color=color, linewidth=0, zorder=3, **kwargs)
    ax.axhline(0, color="black", linewidth=0.8, zorder=4)
    for threshold in thresholds:
        ax.axhline(-threshold, color=GREY, linestyle=(0, (4, 2)), linewidth=0.8, zorder=2,
                   gid=f"threshold-{threshold:g}")
        ax.annotate(_minus(f"-{threshold:g}"), xy=(1.0, -threshold),
                    xycoords=("axes fraction", "data"), xytext=(2, 0),
                    textcoords="offset points", ha="left", va="center",
                    fontsize=_SMALL_TEXT, color=GREY)
    finite = changes[present]
    low = min(float(finite.min()) if finite.size else 0.0, -max(thresholds, default=0.0), 0.0)
    high = max(float(finite.max()) if finite.size else 0.0, 0.0)
    span = (high - low) or 1.0
    ax.set_ylim(low - 0.12 * span, high + 0.12 * span)
    offset = 0.025 * span
    labelled = len(frame) <= MAX_LABELLED_PATIENTS
    if labelled:
        for x, change in zip(positions, changes, strict=True):
            if np.isfinite(change):
                y = change - offset if change < 0 else change + offset
                text = _minus(f"{change:+.2f}") if change != 0 else "0.00"
                ax.text(x, y, text, ha="center", va="top" if change < 0 else "bottom",
                        fontsize=_SMALL_TEXT, zorder=5)
            else:
                ax.text(x, offset, "n/a", ha="center", va="bottom", fontsize=_SMALL_TEXT,
                        color=GREY)
        ax.set_xticks(positions, [patient_label(v) for v in frame[label]])
    else:
        ax.set_xticks([])
        ax.set_xlabel(f"Patients (n = {len(frame):,}), sorted by change")
    ax.tick_params(axis="x", length=0)
    ax.set_xlim(-0.6, len(frame) - 0.4)
    ax.set_ylabel(VALUE_LABELS.get(value, value))
    if hue is not None:
        handles = [Patch(facecolor=EULAR_COLORS[k], label=EULAR_LABELS[k]) for k in EULAR_COLORS]
        if any(c is None for c in categories):
            handles.append(Patch(facecolor=MISSING_COLOR, label="Not assessable"))
        ax.legend(handles=handles, title="EULAR response", loc="lower left",
                  handlelength=1.0, handleheight=1.0, borderaxespad=0.2)
    return ax


# ---------------------------------------------------------------------------------------
# Swimmer
# ---------------------------------------------------------------------------------------


def swimmer(data: pd.DataFrame, *, duration_before: str = "disease_duration_months",
            on_treatment: str = "anifrolumab_months", response: str | None = "response_paper",
            label: str = "patient_id", before_unit: str = "years", ax=None, **kwargs):
    """Swimmer plot: SLE duration before anifrolumab and months on it, per patient.

    Parameters
    ----------
    data : DataFrame
        One row per patient with the columns named below.
    duration_before : str, default "disease_duration_months"
        Disease duration at anifrolumab start, in months; drawn to the left of 0 in grey.
    on_treatment : str, default "anifrolumab_months"
        Months on anifrolumab; drawn to the right of 0 in colour.
    response : str or None, default "response_paper"
        Column of responses (yes/no, bool or missing): a filled circle at the end of the
        treatment bar for a response, a cross for none, nothing when missing.
    label : str, default "patient_id"
        Column naming each row (ids become "Pt 1"...).
    before_unit : {"years", "months"}, default "years"
        Unit of the left-hand (pre-treatment) side. Disease duration is often ten times the
        treatment time; in years both sides stay readable. The two sides are labelled
        separately, and 0 (anifrolumab start) is marked.
    ax : matplotlib Axes, optional
    **kwargs
        Passed to :meth:`~matplotlib.axes.Axes.barh` for the treatment bars.

    Returns
    -------
    matplotlib Axes
    """
    if before_unit not in ("years", "months"):
        raise ValueError(f"before_unit must be 'years' or 'months', got {before_unit!r}")
    columns = [duration_before, on_treatment, label] + ([response] if response else [])
    _require_columns(data, columns)
    ax = _get_ax(ax)
    scale = 12.0 if before_unit == "years" else 1.0
    before = pd.to_numeric(data[duration_before], errors="raise").to_numpy(dtype=float) / scale
    during = pd.to_numeric(data[on_treatment], errors="raise").to_numpy(dtype=float)
    rows = np.arange(len(data))
    ax.barh(rows, -np.nan_to_num(before), left=0, height=0.55, color=LIGHT_GREY,
            edgecolor="none", zorder=2, gid="before")
    style = {"height": 0.55, "color": PALETTE[0], "edgecolor": "none", "zorder": 3, **kwargs}
    ax.barh(rows, np.nan_to_num(during), left=0, gid="on-treatment", **style)
    ax.axvline(0, color="black", linewidth=0.8, zorder=4)
    handles = [Patch(facecolor=LIGHT_GREY, label=f"SLE before anifrolumab ({before_unit})"),
               Patch(facecolor=PALETTE[0], label="On anifrolumab (months)")]
    if response:
        answers = [parse_yes_no(v, response) for v in data[response]]
        ends = np.nan_to_num(during)
        yes = np.array([a is True for a in answers])
        no = np.array([a is False for a in answers])
        if yes.any():
            ax.scatter(ends[yes], rows[yes], marker="o", s=30, color="black", zorder=5,
                       gid="response-yes")
        if no.any():
            ax.scatter(ends[no], rows[no], marker="X", s=34, color=OKABE_ITO["vermillion"],
                       edgecolor="white", linewidth=0.4, zorder=5, gid="response-no")
        if yes.any():
            handles.append(Line2D([], [], linestyle="none", marker="o", color="black",
                                  markersize=5, label="Response"))
        if no.any():
            handles.append(Line2D([], [], linestyle="none", marker="X",
                                  color=OKABE_ITO["vermillion"], markersize=5,
                                  label="No response"))
    ax.set_yticks(rows, [patient_label(v) for v in data[label]])
    ax.set_ylim(len(data) - 0.4, -0.6)  # first patient on top
    ax.tick_params(axis="y", length=0)
    ax.spines["left"].set_visible(False)
    # Ticks: "nice" steps on each side separately, labelled in absolute values.
    left_max = float(np.nanmax(before)) if np.isfinite(before).any() else 1.0
    right_max = float(np.nanmax(during)) if np.isfinite(during).any() else 1.0
    left_ticks = MaxNLocator(nbins=3, integer=True).tick_values(0, left_max)
    right_ticks = MaxNLocator(nbins=3, integer=True).tick_values(0, right_max)
    left_ticks = left_ticks[(left_ticks > 0) & (left_ticks <= left_max * 1.05)]
    right_ticks = right_ticks[(right_ticks >= 0) & (right_ticks <= right_max * 1.15)]
    ticks = np.concatenate([-left_ticks[::-1], right_ticks])
    ax.set_xticks(ticks, [f"{abs(t):g}" for t in ticks])
    ax.set_xlim(-left_max * 1.04, right_max * 1.12)
    # The two half-axis labels sit under the tick labels, a fixed number of points below
    # the axes, and the legend sits on top; anchoring outside artists at the axes edges
    # (never at fractions beyond them) keeps constrained layout at a fixed point, so the
    # figure saves to the same bytes however often it is drawn.
    tick_points = _points(plt.rcParams["xtick.labelsize"])
    below = -(plt.rcParams["xtick.major.size"] + plt.rcParams["xtick.major.pad"]
              + 1.6 * tick_points)
    side = {"fontsize": _points(plt.rcParams["axes.labelsize"]),
            "xycoords": ("data", "axes fraction"), "textcoords": "offset points",
            "va": "top"}
    ax.annotate(f"\u2190 SLE duration ({before_unit})", xy=(0, 0.0), xytext=(-4, below),
                ha="right", **side)
    ax.annotate("On anifrolumab (months) \u2192", xy=(0, 0.0), xytext=(4, below),
                ha="left", **side)
    ax.legend(handles=handles, loc="lower center", bbox_to_anchor=(0.5, 1.0), ncols=2,
              handlelength=1.0, columnspacing=1.0, borderaxespad=0.3)
    return ax


# ---------------------------------------------------------------------------------------
# Profile heatmap
# ---------------------------------------------------------------------------------------

_PROFILE_COLORS = {"yes": OKABE_ITO["blue"], "no": "#EFEFEF", "na": "white"}


def _to_flag(value, column: str) -> float:
    answer = parse_yes_no(value, f"feature {column!r}")
    return np.nan if answer is None else float(answer)


def profile_heatmap(data: pd.DataFrame, *, features=None, label: str = "patient_id",
                    feature_labels: Mapping[str, str] | None = None, ax=None, **kwargs):
    """Patients x features matrix of yes / no / not reported.

    Parameters
    ----------
    data : DataFrame
        One row per patient; a ``label`` column (or the index) names patients, the other
        columns are features holding True/False, 1/0, "yes"/"no" or missing.
    features : sequence of str or mapping of str to sequence of str, optional
        Feature columns in display order; a mapping ``{group: [columns]}`` (for example
        ``{"Autoantibodies": [...], "Previous therapies": [...]}``) draws the groups
        separated and named. Default: every column except ``label``.
    label : str, default "patient_id"
        Column naming the patients; the index is used when the column is absent.
    feature_labels : mapping of str to str, optional
        Display names of feature columns (default: the column names).
    ax : matplotlib Axes, optional
    **kwargs
        Passed to :meth:`~matplotlib.axes.Axes.pcolormesh`.

    Returns
    -------
    matplotlib Axes

    Notes
    -----
    Features run down the rows and patients across the columns, so long feature names
    stay horizontal and readable at column width (about 0.16 in of figure height per
    feature works well). "Not reported" cells are hatched, so they differ from "No" in
    greyscale print too.
    """
    if not isinstance(data, pd.DataFrame):
        raise TypeError(f"data must be a pandas DataFrame, got {type(data).__name__}")
    ax = _get_ax(ax)
    names = data[label] if label in data.columns else pd.Series(data.index, index=data.index)
    if features is None:
        groups = {None: [c for c in data.columns if c != label]}
    elif isinstance(features, Mapping):
        groups = {group: list(columns) for group, columns in features.items()}
    else:
        groups = {None: list(features)}
    columns = [column for group in groups.values() for column in group]
    if not columns:
        raise ValueError("profile_heatmap needs at least one feature column")
    _require_columns(data, columns)
    feature_labels = dict(feature_labels or {})
    flags = np.array([[_to_flag(v, column) for v in data[column]] for column in columns])
    n_features, n_patients = flags.shape
    cmap = mpl.colors.ListedColormap([_PROFILE_COLORS["no"], _PROFILE_COLORS["yes"]])
    style = {"cmap": cmap, "vmin": 0, "vmax": 1, "edgecolors": "white", "linewidth": 1.0,
             **kwargs}
    ax.pcolormesh(np.ma.masked_invalid(flags), **style)
    missing = [Rectangle((j, i), 1, 1) for i, j in zip(*np.nonzero(np.isnan(flags)),
                                                       strict=True)]
    if missing:
        ax.add_collection(PatchCollection(missing, facecolor=_PROFILE_COLORS["na"],
                                          edgecolor="white", hatch="////",
                                          hatchcolor=GREY, linewidth=1.0, zorder=2,
                                          gid="not-reported"))
    ax.set_xlim(0, n_patients)
    ax.set_ylim(n_features, 0)
    ax.set_yticks(np.arange(n_features) + 0.5,
                  [feature_labels.get(column, column) for column in columns])
    ax.set_xticks(np.arange(n_patients) + 0.5, [patient_label(v) for v in names])
    ax.xaxis.tick_top()
    ax.tick_params(length=0)
    for spine in ax.spines.values():
        spine.set_visible(False)
    ax.set_aspect("auto")
    if len(groups) > 1 or None not in groups:
        start = 0
        for group, group_columns in groups.items():
            stop = start + len(group_columns)
            if start > 0:
                ax.axhline(start, color="black", linewidth=1.0, zorder=4)
            if group is not None:
                ax.annotate(str(group), xy=(1.0, (start + stop) / 2),
                            xycoords=("axes fraction", "data"), xytext=(5, 0),
                            textcoords="offset points", ha="left", va="center",
                            rotation=0, fontsize=_SMALL_TEXT, fontweight="bold")
            start = stop
    handles = [Patch(facecolor=_PROFILE_COLORS["yes"], label="Yes"),
               Patch(facecolor=_PROFILE_COLORS["no"], edgecolor=LIGHT_GREY, label="No"),
               Patch(facecolor=_PROFILE_COLORS["na"], edgecolor=GREY, hatch="////",
                     label="Not reported")]
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, 0.0), ncols=3,
              handlelength=1.2, handleheight=1.2, borderaxespad=0.3, columnspacing=1.0)
    return ax


# ---------------------------------------------------------------------------------------
# Forest plot
# ---------------------------------------------------------------------------------------


def _pooled_label(row: pd.Series) -> str:
    if "label" in row and pd.notna(row["label"]):
        return str(row["label"])
    parts = [str(row[c]) for c in ("analysis", "method") if c in row and pd.notna(row[c])]
    return ", ".join(parts) if parts else "Pooled"


def _format_ci(estimate: float, low: float, high: float) -> str:
    if not np.isfinite(estimate):
        return ""
    estimate, low, high = round_significant(np.array([estimate, low, high], dtype=float))
    return f"{estimate:.2f} [{low:.2f}, {high:.2f}]"


def forest_plot(studies: pd.DataFrame, pooled: pd.DataFrame | None = None, *, ax=None,
                xlim: tuple[float, float] = (0, 1), xlabel: str = "Proportion (95% CI)",
                columns: Sequence[str] | None = None, **kwargs):
    """Forest plot of per-study proportions and pooled estimates.

    Parameters
    ----------
    studies : DataFrame
        One row per study with columns ``study, events, n, proportion, ci_low, ci_high``
        and ``weight`` (percent; NaN or absent draws equal squares).
    pooled : DataFrame, optional
        One row per pooled estimate with ``estimate, ci_low, ci_high`` and optionally
        ``pi_low, pi_high`` (prediction interval), ``label`` (else ``analysis`` and/or
        ``method`` name the row), ``events, n`` (else the study totals are shown).
    ax : matplotlib Axes, optional
    xlim : (float, float), default (0, 1)
        Range of the proportion axis; intervals beyond it are clipped.
    xlabel : str, default "Proportion (95% CI)"
    columns : sequence of {"events", "weight", "estimate"}, optional
        Text columns to the right of the plot. Default: all three, which needs a figure
        about 6 in wide; use ``("events", "weight")`` at single-column width.
    **kwargs
        Passed to the study squares (:meth:`~matplotlib.axes.Axes.scatter`).

    Returns
    -------
    matplotlib Axes

    Notes
    -----
    Square areas are proportional to the study weights. Each pooled row is a diamond
    spanning its confidence interval (``gid="pooled-<i>"``); its prediction interval is a
    thin line with end caps drawn through and beyond the diamond.
    """
    _require_columns(studies, ["study", "events", "n", "proportion", "ci_low", "ci_high"],
                     "studies")
    if pooled is not None:
        _require_columns(pooled, ["estimate", "ci_low", "ci_high"], "pooled")
    columns = ("events", "weight", "estimate") if columns is None else tuple(columns)
    unknown = set(columns) - {"events", "weight", "estimate"}
    if unknown:
        raise ValueError(f"columns must be among 'events', 'weight', 'estimate'; got {unknown}")
    ax = _get_ax(ax)
    n_studies = len(studies)
    n_pooled = 0 if pooled is None else len(pooled)
    study_y = np.arange(n_studies, dtype=float)
    pooled_y = n_studies + 0.6 + np.arange(n_pooled, dtype=float)
    color = PALETTE[0]
    proportion = studies["proportion"].to_numpy(dtype=float)
    low = studies["ci_low"].to_numpy(dtype=float)
    high = studies["ci_high"].to_numpy(dtype=float)
    if "weight" in studies.columns and studies["weight"].notna().any():
        weight = studies["weight"].to_numpy(dtype=float)
        sizes = 12 + 130 * np.nan_to_num(weight, nan=np.nanmean(weight)) / 100.0
    else:
        weight = np.full(n_studies, np.nan)
        sizes = np.full(n_studies, 40.0)
    ax.hlines(study_y, np.clip(low, *xlim), np.clip(high, *xlim), color="black",
              linewidth=1.0, zorder=2)
    style = {"marker": "s", "color": "black", "linewidths": 0, "zorder": 3, **kwargs}
    # Not clipped: a study at 0 % or 100 % keeps its whole square.
    ax.scatter(proportion, study_y, s=sizes, gid="studies", clip_on=False, **style)
    labels = [str(s) for s in studies["study"]]
    total_events = pd.to_numeric(studies["events"]).sum()
    total_n = pd.to_numeric(studies["n"]).sum()
    rows_text = [
        {"events": f"{int(e)}/{int(n)}",
         "weight": f"{round_significant(w):.1f}%" if np.isfinite(w) else "",
         "estimate": _format_ci(p, lo, hi)}
        for e, n, w, p, lo, hi in zip(studies["events"], studies["n"], weight, proportion,
                                      low, high, strict=True)
    ]
    half_height = 0.3
    for i, (_, row) in enumerate(([] if pooled is None else pooled.iterrows())):
        y = pooled_y[i]
        estimate, lo, hi = float(row["estimate"]), float(row["ci_low"]), float(row["ci_high"])
        pi_low = float(row["pi_low"]) if "pi_low" in row and pd.notna(row["pi_low"]) else None
        pi_high = (float(row["pi_high"]) if "pi_high" in row and pd.notna(row["pi_high"])
                   else None)
        if pi_low is not None and pi_high is not None:
            pi = np.clip([pi_low, pi_high], *xlim)
            ax.plot(pi, [y, y], color=color, linewidth=1.0, zorder=2, gid=f"pi-{i}",
                    marker="|", markersize=6, markeredgewidth=1.0, solid_capstyle="butt")
        lo_c, hi_c = np.clip([lo, hi], *xlim)
        ax.add_patch(Polygon([(lo_c, y), (estimate, y + half_height), (hi_c, y),
                              (estimate, y - half_height)], closed=True, facecolor=color,
                             edgecolor="black", linewidth=0.6, zorder=3, gid=f"pooled-{i}",
                             clip_on=False))
        labels.append(_pooled_label(row))
        events = row["events"] if "events" in row and pd.notna(row["events"]) else total_events
        n = row["n"] if "n" in row and pd.notna(row["n"]) else total_n
        rows_text.append({"events": f"{int(events)}/{int(n)}", "weight": "100%",
                          "estimate": _format_ci(estimate, lo, hi)})
    if n_pooled:
        ax.axhline(n_studies - 0.3 + 0.2, color=LIGHT_GREY, linewidth=0.8, zorder=1)
        ax.axvline(float(pooled["estimate"].iloc[0]), color=GREY, linestyle=(0, (2, 2)),
                   linewidth=0.7, zorder=1)
    all_y = np.concatenate([study_y, pooled_y])
    ax.set_yticks(all_y, labels)
    for tick_label in ax.get_yticklabels()[n_studies:]:
        tick_label.set_fontweight("bold")
    ax.set_ylim(all_y.max() + 0.7 if len(all_y) else 1, -1.1)
    ax.set_xlim(*xlim)
    ax.set_xlabel(xlabel)
    ax.tick_params(axis="y", length=0)
    ax.spines["left"].set_visible(False)
    # Text columns to the right, in points from the axes edge (independent of its width).
    widths = {"events": 34, "weight": 34, "estimate": 78}
    headers = {"events": "Events/N", "weight": "Weight", "estimate": "Estimate [95% CI]"}
    offset = 8.0
    fontsize = _points(plt.rcParams["ytick.labelsize"])
    for column in columns:
        centre = offset + widths[column] / 2
        ax.annotate(headers[column], xy=(1.0, -0.9), xycoords=("axes fraction", "data"),
                    xytext=(centre, 0), textcoords="offset points", ha="center",
                    va="center", fontsize=fontsize, fontweight="bold")
        for y, text in zip(all_y, rows_text, strict=True):
            ax.annotate(text[column], xy=(1.0, y), xycoords=("axes fraction", "data"),
                        xytext=(centre, 0), textcoords="offset points", ha="center",
                        va="center", fontsize=fontsize)
        offset += widths[column]
    if n_pooled and "pi_low" in pooled.columns and pooled["pi_low"].notna().any():
        handle = Line2D([], [], color=color, linewidth=1.0, marker="|", markersize=6)
        ax.legend([handle], ["95% prediction interval"], loc="lower left",
                  bbox_to_anchor=(0.0, 1.0), fontsize=_SMALL_TEXT, borderaxespad=0.0,
                  handlelength=1.6)
    return ax


# ---------------------------------------------------------------------------------------
# Saving
# ---------------------------------------------------------------------------------------

#: Metadata that keeps files byte-identical: no dates, no software-version stamps.
_SAVE_METADATA = {
    "png": {"Software": None},
    "svg": {"Date": None, "Creator": None},
    "pdf": {"CreationDate": None, "ModDate": None, "Producer": None, "Creator": None},
}


@contextlib.contextmanager
def _frozen_layout(fig, dpi: float, max_rounds: int = 25) -> Iterator[None]:
    """Run the figure's layout engine to its fixed point, then hold it while saving.

    Constrained layout iterates: an artist placed in axes coordinates outside the axes (a
    tick label near the top, say) moves when the axes shrink, so every draw nudges the
    layout by a little less (1e-6, then 1e-12...). Saving twice would then give different
    bytes. Here the layout is drawn (at the output dpi) until positions stop moving,
    snapped to a 1e-6 grid of the figure (a thousandth of a pixel) and frozen for all
    formats, so a figure saves identically however often, and whether or not it was
    displayed first. The figure's own layout engine is restored afterwards.
    """
    engine = fig.get_layout_engine()
    if engine is None or not hasattr(engine, "execute"):
        yield
        return
    original_dpi = fig.dpi
    fig.dpi = dpi
    try:
        previous = None
        for _ in range(max_rounds):
            fig.draw_without_rendering()
            current = np.array([ax.get_position().bounds for ax in fig.axes])
            if previous is not None and current.shape == previous.shape and (
                    current.size == 0 or np.abs(current - previous).max() < 1e-9):
                break
            previous = current
        for ax in fig.axes:
            ax.set_position(np.round(ax.get_position().bounds, 6).tolist())
        fig.set_layout_engine("none")
    finally:
        fig.dpi = original_dpi
    try:
        yield
    finally:
        fig.set_layout_engine(engine)


def save_figure(fig, path_stem: str | Path, *, formats: Sequence[str] = ("png", "svg"),
                dpi: int = 300, **kwargs) -> list[Path]:
    """Save a figure deterministically and atomically in one or more formats.

    Parameters
    ----------
    fig : matplotlib Figure
    path_stem : str or Path
        Destination without extension; ``".<format>"`` is appended
        (``reports/figures/slope_das28`` gives ``slope_das28.png`` ...). Folders are created.
    formats : sequence of {"png", "svg", "pdf"}, default ("png", "svg")
    dpi : int, default 300
        Resolution of PNG output (and of rasterised artists in vector output).
    **kwargs
        Passed to :meth:`~matplotlib.figure.Figure.savefig` (not ``metadata``/``format``).

    Returns
    -------
    list of Path
        The files written, in the order of ``formats``.

    Notes
    -----
    Byte-identical output, run after run and process after process: PNG drops its
    ``Software`` stamp, SVG its date and creator (matplotlib version) and uses a fixed
    ``svg.hashsalt`` for element ids, PDF drops its dates, producer and creator. Fonts are
    those of the theme (DejaVu Sans, shipped with matplotlib). Each file is written to a
    temporary file in the destination folder and renamed into place, so an error never
    leaves a half-written figure (nor clobbers the previous one).
    """
    formats = tuple(formats)
    unknown = [f for f in formats if f not in _SAVE_METADATA]
    if unknown or not formats:
        raise ValueError(f"formats must be among {sorted(_SAVE_METADATA)}, got {list(formats)}")
    forbidden = {"metadata", "format", "fname"} & set(kwargs)
    if forbidden:
        raise TypeError(f"save_figure sets {sorted(forbidden)} itself")
    stem = str(path_stem)
    paths = []
    with mpl.rc_context({"svg.hashsalt": SVG_HASHSALT}), _frozen_layout(fig, dpi):
        for fmt in formats:
            path = Path(f"{stem}.{fmt}")
            with atomic_write(path, "wb") as handle:
                fig.savefig(handle, format=fmt, dpi=dpi, metadata=_SAVE_METADATA[fmt],
                            **kwargs)
            paths.append(path)
    return paths


def save_and_show(fig, path_stem: str | Path, *, formats: Sequence[str] = ("png", "svg"),
                  dpi: int = 300) -> list[Path]:
    """Save a figure (see :func:`save_figure`), display it once and close it.

    For notebooks: displaying explicitly and closing means the figure appears exactly
    once whether the kernel is fresh or shared with other notebooks (matplotlib-inline
    only auto-displays figures it saw being created in the current kernel session).

    Returns
    -------
    list of Path
        The files written.
    """
    written = save_figure(fig, path_stem, formats=formats, dpi=dpi)
    try:
        from IPython.display import display

        display(fig)
    finally:
        plt.close(fig)
    return written
