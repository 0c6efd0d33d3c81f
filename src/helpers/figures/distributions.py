"""Figures of large cohorts: distributions instead of one mark per patient.

Above :data:`~helpers.figures.style.MAX_INDIVIDUAL_PATIENTS` patients, one line or one bar
per patient stops reading (hundreds of faded lines merge into a grey block, bars get
narrower than a pixel) and costs time and file size in proportion to the cohort: at
10^6 patients a slope chart of every trajectory took half a minute and 1.5 GiB. The
figures here summarise first, once, with numpy, then draw a few dozen artists whatever
the cohort's size, so PNG and SVG output stay small and fast:

- :func:`change_distribution`: the distribution of change from baseline at each
  follow-up visit (one ECDF per visit, drawn by seaborn), with the measure's
  improvement thresholds from :mod:`helpers.vocab`;
- the distribution mode of :func:`~helpers.figures.patients.slope_chart` (median
  trajectory over months with percentile ribbons) and that of
  :func:`~helpers.figures.patients.waterfall` (histogram of change stacked by EULAR
  response, drawn by seaborn) are the private helpers below.

Quantiles are numpy's default (linear interpolation, R's type 7, as pandas'). seaborn
receives the counts, never the million rows: its own aggregation (``lineplot`` with
``errorbar=("pi", ...)``) took 3.2 s per band for one measure at 10^6 patients x 3 visits,
against 0.13 s for all five quantiles with numpy.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib import patheffects
from matplotlib.colors import to_hex
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator, MultipleLocator

from helpers.data import tidy
from helpers.figures.parts import (SMALL_TEXT, eular_category, get_ax, measure_rows, minus,
                                   require_columns, spread, text_height_in_data)
from helpers.figures.style import (EULAR_COLORS, EULAR_LABELS, GREY, LIGHT_GREY,
                                   MISSING_COLOR, OKABE_ITO, PALETTE, change_label,
                                   timepoint_label)
from helpers.vocab import BASELINE, MEASURES, Measure

__all__ = ["PERCENTILE_RIBBONS", "change_distribution", "change_histogram", "draw_trajectory",
           "eular_codes", "visit_quantiles"]

#: Percentile ribbons around the median trajectory, outermost first (drawn lighter):
#: the middle 80% and the middle 50% (interquartile range) of patients at each visit.
PERCENTILE_RIBBONS = ((10, 90), (25, 75))
_RIBBON_ALPHAS = (0.2, 0.42)
# The dark end of the visits' ramp (sky blue, Okabe-Ito blue, this navy): the latest
# visit is the darkest curve.
_NAVY = "#00263B"
_QUANTILES = (10, 25, 50, 75, 90)

# Changes from visits are helpers.data.tidy.change, so that 2.38 - 2.98 is -0.6 exactly
# and falls on the side of a threshold line the criterion puts it on (not on the other by
# 1e-16). Histogram bin edges, and a column of changes given as it is (the waterfall's),
# are rounded to this many decimals, so that values and edges compare alike.
_BIN_DECIMALS = 10
# An ECDF is drawn through its distinct values (exact); data with more distinct values
# than this (continuous measurements) are counted on a grid of this many steps instead:
# finer than the pixels of a double-column figure at 300 dpi.
MAX_ECDF_STEPS = 4096
# The ECDF's x axis leaves out this share of patients at each end (drawn, but beyond the
# axis): the curves are flat there.
_TAIL = 0.001
# About this many histogram bars: enough for the shape, few enough to stay bars.
_TARGET_BINS = 40
# Whole-number changes (SLEDAI-2K) spanning up to this many points get one bar each.
_MAX_INTEGER_BINS = 60


# ---------------------------------------------------------------------------------------
# Median trajectory with percentile ribbons (slope_chart, mode="distribution")
# ---------------------------------------------------------------------------------------


def visit_quantiles(encoded: tidy.Encoded, baseline: str) -> pd.DataFrame:
    """Per visit of one measure: median month, patients with a value, and quantiles.

    ``encoded`` is the measure's rows through :func:`helpers.data.tidy.encode` (with
    months). Returns a frame indexed by timepoint, baseline first then by median month
    (then by label), with columns ``month, n, q10, q25, q50, q75, q90``. One pass of
    numpy per visit: no pivot to a patients x visits table, which at 10^6 patients costs
    more than everything else.
    """
    rows = []
    for code, label in enumerate(encoded.timepoints):
        mine = encoded.timepoint == code
        months = encoded.month[mine]
        months = months[np.isfinite(months)]
        values = encoded.value[mine]
        values = values[~np.isnan(values)]
        quantiles = (np.percentile(values, _QUANTILES) if values.size
                     else np.full(len(_QUANTILES), np.nan))
        rows.append((str(label), float(np.median(months)) if months.size else np.nan,
                     int(values.size), *quantiles))
    table = pd.DataFrame(rows, columns=["timepoint", "month", "n",
                                        *(f"q{q}" for q in _QUANTILES)])
    table = table.set_index("timepoint")
    # The baseline is month 0 by definition; it comes first even if a file says otherwise.
    order = tidy.visit_order(table["month"].to_dict(), baseline)
    if baseline in table.index:
        table.loc[baseline, "month"] = np.nanmin([table.loc[baseline, "month"],
                                                  table["month"].min()])
    return table.loc[order]


def draw_trajectory(ax, table: pd.DataFrame, n_patients: int, line_kwargs,
                    targets: Sequence[tuple[float, str]] = ()) -> float:
    """Median per visit over months, with the percentile ribbons, labelled at the right;
    returns the x where the data area ends (the labels' room begins).

    The percentile lines are named at their right end, as on a growth chart ("P90" ...
    "P10"), instead of in a legend: a legend box over the upper corner would cover the
    ribbons in one panel or another, whatever corner it took. The reference lines
    ``targets`` (level, name), drawn by the caller up to the returned x, are named there
    too, level with their line's end: wherever else they stood, over the ribbons that
    span the axes from the first visit to the last, they would sit on data. The number
    of patients stands above the axes' top left corner.
    """
    x = table["month"].to_numpy(dtype=float)
    color = PALETTE[0]
    for (low, high), alpha in zip(PERCENTILE_RIBBONS, _RIBBON_ALPHAS, strict=True):
        ax.fill_between(x, table[f"q{low}"], table[f"q{high}"], color=color, alpha=alpha,
                        linewidth=0, zorder=3, gid=f"percentiles-{low}-{high}")
    # A white outline keeps the median line distinct where it crosses band shading.
    outline = [patheffects.Stroke(linewidth=3.5, foreground="white"), patheffects.Normal()]
    style = {"color": color, "linewidth": 2.0, "marker": "o", "markersize": 4, "zorder": 4,
             "path_effects": outline, **line_kwargs}
    ax.plot(x, table["q50"].to_numpy(dtype=float), gid="median", **style)
    finite = np.isfinite(x) & table["q50"].notna().to_numpy()
    low, high = (float(x[finite].min()), float(x[finite].max())) if finite.any() else (0.0, 1.0)
    span = (high - low) or 1.0
    # Room at the right for the labels: their width in points, converted to months.
    width_pt = max(_points_text(text, SMALL_TEXT)
                   for text in ("P10, P25", *(name for _, name in targets))) + 6.0
    axes_pt = max(ax.get_window_extent().width, 1.0) * 72.0 / ax.figure.dpi
    right = width_pt / max(axes_pt - width_pt, 1.0) * (span * 1.04)
    start, end = min(low, 0.0), high + 0.02 * span
    ax.set_xlim(start - 0.04 * span, end + right)
    ax.set_xlabel("Months on anifrolumab")
    # Ticks only under the visits' span: the room for the labels is not months of data.
    ticks = MaxNLocator(nbins=6, integer=True).tick_values(start, high)
    ax.set_xticks(ticks[(ticks >= start - 1e-9) & (ticks <= high + 1e-9)])
    ax.spines["bottom"].set_bounds(start - 0.04 * span, end)
    if finite.any():
        _label_percentiles(ax, table.loc[finite].iloc[-1], color, targets)
    ax.annotate(f"n = {n_patients:,} patients", xy=(0.0, 1.0), xycoords="axes fraction",
                xytext=(0, 3), textcoords="offset points", ha="left", va="bottom",
                fontsize=SMALL_TEXT, color=GREY)
    return end


def _label_percentiles(ax, last: pd.Series, color: str,
                       targets: Sequence[tuple[float, str]] = ()) -> None:
    """Name the percentile lines right of the last visit ("P90" ... "P10", "Median"),
    and the reference lines ``targets`` (level, name) among them.

    Equal percentiles (a score's floor, doses of 0) share one label, "P10, P25", and
    labels closer than a line of text are spread apart (the paired chart's 1-D repel); a
    reference line's name goes above a percentile's at the same level.
    """
    groups: list[tuple[float, list[int]]] = []
    for q in _QUANTILES:
        value = float(last[f"q{q}"])
        if groups and abs(groups[-1][0] - value) < 1e-9:
            groups[-1][1].append(q)
        else:
            groups.append((value, [q]))
    gap = text_height_in_data(ax, SMALL_TEXT, factor=1.1)
    # Targets after the percentiles: spread keeps ties in order, from the bottom up.
    positions = spread(np.array([value for value, _ in groups]
                                + [float(level) for level, _ in targets]), gap,
                       lower=ax.get_ylim()[0] + gap / 2)
    for (_, members), y in zip(groups, positions[:len(groups)], strict=True):
        median = 50 in members
        text = ", ".join("Median" if q == 50 else f"P{q}" for q in members)
        ax.annotate(text, xy=(last["month"], y), xytext=(5, 0), textcoords="offset points",
                    ha="left", va="center", fontsize=SMALL_TEXT,
                    color=color if median else GREY,
                    fontweight="bold" if median else "normal",
                    gid="label-" + "-".join(f"p{q}" for q in members))
    for (_, name), y in zip(targets, positions[len(groups):], strict=True):
        ax.annotate(name, xy=(last["month"], y), xytext=(5, 0), textcoords="offset points",
                    ha="left", va="center", fontsize=SMALL_TEXT, color=GREY)


def _points_text(text: str, fontsize: float) -> float:
    """Width of a text in points (DejaVu Sans averages 0.6 em per character)."""
    return 0.6 * fontsize * len(text)


# ---------------------------------------------------------------------------------------
# Change from baseline: thresholds, ECDFs per visit, histogram
# ---------------------------------------------------------------------------------------


def _resolve_thresholds(measure: str | None, thresholds,
                        codebook: Mapping[str, Measure]) -> tuple[str, tuple[float, ...]]:
    """(name, positions): where the improvement thresholds lie on the axis of change.

    The measure's :attr:`~helpers.vocab.Measure.change_thresholds` from the codebook,
    none, or the ones given; an improvement is a fall for a lower-is-better measure
    (lines left of 0) and a rise otherwise.
    """
    entry = codebook.get(measure) if measure is not None else None
    direction = -1.0 if entry is None or entry.lower_is_better else 1.0
    if thresholds is False:
        return "", ()
    if thresholds is None:
        if entry is None:
            return "", ()
        return entry.change_name, tuple(direction * t for t in entry.change_thresholds)
    return "", tuple(direction * float(t) for t in thresholds)


def _draw_change_thresholds(ax, positions: Sequence[float], name: str = "") -> None:
    """Vertical lines at the thresholds' ``positions`` on the axis of change, numbered
    above the axes, and at 0.

    The numbers stand above the plot, where no data are, the criterion's name before
    the first ("EULAR \u22121.2", "\u22120.6"); for two thresholds the left one is
    right-aligned and the right one left-aligned on its line, so that lines 0.6 apart
    in a narrow panel do not print their numbers over each other.
    """
    ax.axvline(0, color="black", linewidth=0.8, zorder=4, gid="zero")
    ordered = sorted(positions)  # left to right on the x axis
    for i, position in enumerate(ordered):
        ax.axvline(position, color=GREY, linestyle=(0, (4, 2)), linewidth=0.9, zorder=4,
                   gid=f"threshold-{abs(position):g}")
        if len(ordered) == 1:
            ha = "center"
        else:
            ha = "right" if i == 0 else "left" if i == len(ordered) - 1 else "center"
        number = minus(f"{position:g}") if position < 0 else f"+{position:g}"
        text = (f"{name} " if name and i == 0 else "") + number
        ax.annotate(text, xy=(position, 1.0),
                    xycoords=("data", "axes fraction"), xytext=(0, 2),
                    textcoords="offset points", ha=ha, va="bottom", fontsize=SMALL_TEXT,
                    color=GREY)


def _include_thresholds(ax, values: np.ndarray, positions: Sequence[float]) -> None:
    """x limits covering the data, 0 and every threshold line, with a margin."""
    low = min([float(values.min()) if values.size else 0.0, 0.0, *positions])
    high = max([float(values.max()) if values.size else 0.0, 0.0, *positions])
    pad = 0.04 * ((high - low) or 1.0)
    ax.set_xlim(low - pad, high + pad)


def _ecdf_steps(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct values and their counts: the ECDF's steps, exactly (or on a fine grid)."""
    x, counts = np.unique(values, return_counts=True)
    if x.size > MAX_ECDF_STEPS:
        edges = np.linspace(x[0], x[-1], MAX_ECDF_STEPS + 1)
        counts, _ = np.histogram(values, edges)
        x = edges[1:]
    return x, counts


def _central_range(x: np.ndarray, counts: np.ndarray) -> tuple[float, float]:
    """The changes between which the middle 99.8% of patients lie (from the steps).

    An ECDF is flat at 0% and 100% in its tails; in a large cohort a few patients' extreme
    changes (0.1% at each end) would otherwise stretch the axis and squeeze every curve
    into its middle.
    """
    share = np.cumsum(counts) / counts.sum()
    low = x[min(np.searchsorted(share, _TAIL, side="right"), len(x) - 1)]
    high = x[min(np.searchsorted(share, 1 - _TAIL, side="left"), len(x) - 1)]
    return float(low), float(high)


def _visit_colors(n: int) -> list[str]:
    """Colours for follow-up visits in time order: light (early) to dark (late) blue.

    One hue whose lightness alone orders the visits reads in greyscale and for every
    kind of colour blindness.
    """
    if n == 1:
        return [PALETTE[0]]
    ramp = sns.blend_palette([OKABE_ITO["sky_blue"], PALETTE[0], _NAVY], n_colors=n)
    return [to_hex(c) for c in ramp]


def change_distribution(data: pd.DataFrame, *, measure: str, baseline: str = BASELINE,
                        thresholds=None, ax=None,
                        codebook: Mapping[str, Measure] = MEASURES, **kwargs):
    """Distribution of change from baseline at each follow-up visit, with thresholds.

    One empirical cumulative distribution (ECDF) per follow-up visit: at any change on
    the x axis, the curve gives the percentage of patients whose change was at or
    below it, so where a curve crosses a threshold line is the share of patients who
    improved by at least that much. Works for any cohort size: the ECDFs are drawn
    through the distinct changes (few for clinical scores), not one point per patient.

    Parameters
    ----------
    data : DataFrame
        Tidy measurement table (``patient_id, measure, timepoint, value``; ``month``,
        when present, orders the visits).
    measure : str
        Which measure, e.g. ``"das28"``.
    baseline : str, default "baseline"
        The ``timepoint`` of the baseline visit.
    thresholds : sequence of float or False, optional
        Improvements drawn as dashed lines (at ``-threshold`` for a measure where lower
        is better). Default: the measure's
        :attr:`~helpers.vocab.Measure.change_thresholds` in ``codebook`` (DAS28: the
        EULAR improvements of 0.6 and 1.2; SLEDAI-2K: the 4-point reduction of the
        SRI-4; none for the glucocorticoid dose). ``False`` draws none.
    ax : matplotlib Axes, optional
        Axes to draw on; the current axes by default.
    codebook : Codebook, default the built-in codebook
        Gives the measure's improvement thresholds and direction.
    **kwargs
        Passed to :func:`seaborn.ecdfplot` (line width, ...).

    Returns
    -------
    matplotlib Axes

    Raises
    ------
    ValueError
        Missing columns, unknown measure, no baseline or no follow-up rows, duplicated
        patient/visit rows, non-numeric values (:func:`helpers.data.tidy.encode`).

    Notes
    -----
    Change is ``visit - baseline`` per patient with both values (negative =
    improvement), rounded to 10 decimals as :mod:`helpers.scores` compares them. Visits
    are ordered by median month. The x axis spans the middle 99.8% of each visit's
    changes (and 0 and the thresholds): beyond, the curves are flat within 0.1% of 0%
    and 100%. Each curve has ``gid="ecdf-<timepoint>"``; threshold
    lines ``gid="threshold-<value>"``, the no-change line ``gid="zero"``.
    """
    require_columns(data, ["patient_id", "measure", "timepoint", "value"])
    subset = data.loc[measure_rows(data, measure)]
    if subset.empty:
        raise ValueError(
            f"measure {measure!r} not found; data has {sorted(map(str, data['measure'].unique()))}"
        )
    visits = [v for v in tidy.paired_visits(tidy.encode(subset), outcomes=measure,
                                            baseline=baseline) if len(v.pre)]
    if not visits:
        raise ValueError(f"no patient has both a baseline and a follow-up value of "
                         f"{measure!r}")
    ax = get_ax(ax)
    colors = _visit_colors(len(visits))
    # The number of patients in the legend's title when every visit has the same, else
    # per visit (missing values): narrow labels keep the legend off the curves.
    sizes = [len(visit.pre) for visit in visits]
    same = len(set(sizes)) == 1
    pieces, labels, shown = [], [], []
    for visit, size in zip(visits, sizes, strict=True):
        change = tidy.change(visit.pre, visit.post)
        x, counts = _ecdf_steps(change)
        shown.extend(_central_range(x, counts))
        label = timepoint_label(visit.followup).replace("\n", " ")
        label += "" if same else f" (n = {size:,})"
        labels.append(label)
        pieces.append(pd.DataFrame({"change": x, "count": counts, "visit": label}))
    table = pd.concat(pieces, ignore_index=True)
    before = len(ax.lines)
    style = {"linewidth": 1.5, **kwargs}
    sns.ecdfplot(data=table, x="change", weights="count", hue="visit", hue_order=labels,
                 palette=colors, stat="percent", legend=False, ax=ax, **style)
    by_color = {to_hex(color): visit.followup
                for color, visit in zip(colors, visits, strict=True)}
    for line in ax.lines[before:]:
        line.set_gid(f"ecdf-{by_color[to_hex(line.get_color())]}")
    name, positions = _resolve_thresholds(measure, thresholds, codebook)
    _draw_change_thresholds(ax, positions, name)
    _include_thresholds(ax, np.array(shown), positions)
    ax.set_ylim(-2, 102)
    ax.yaxis.set_major_locator(MultipleLocator(25))
    # Light horizontal rules at every 25% help read off where a curve crosses a line.
    ax.grid(axis="y", color=LIGHT_GREY, linewidth=0.5)
    ax.set_xlabel(change_label(measure))
    ax.set_ylabel("Patients with this change\nor less (cumulative %)")
    handles = [Line2D([], [], color=color, linewidth=1.5) for color in colors]
    # Upper left: an ECDF rises from the lower left, so that corner stays empty (but for
    # threshold lines, which the opaque box interrupts rather than strikes through).
    title = f"Visit (n = {sizes[0]:,})" if same else "Visit"
    ax.legend(handles, labels, title=title, loc="upper left", fontsize=SMALL_TEXT,
              title_fontsize=SMALL_TEXT, handlelength=1.6, borderaxespad=0.3,
              framealpha=1.0, alignment="left")
    return ax


def _change_bins(values: np.ndarray, thresholds: Sequence[float]) -> np.ndarray:
    """Histogram bin edges: one per whole number, or a round width aligned with 0.

    Whole-number changes (SLEDAI-2K) spanning at most 60 points get one bar per value,
    centred on it. Otherwise the width is a round number (1, 2 or 5 x 10^k) near the
    range / 40, chosen among those dividing every threshold when one lies within a factor
    of 3, so that each threshold line falls on a bin edge: bins are ``[a, b)``, so a
    change of exactly -0.6 lies right of the line at -0.6, as the EULAR criteria (an
    improvement *greater than* 0.6) count it, and no bar straddles a line.
    """
    if values.size == 0:
        return np.array([-0.5, 0.5])
    low, high = float(values.min()), float(values.max())
    if np.array_equal(values, np.round(values)) and high - low <= _MAX_INTEGER_BINS:
        return np.arange(low - 0.5, high + 1.0)
    raw = ((high - low) or 1.0) / _TARGET_BINS
    exponent = int(np.floor(np.log10(raw)))
    widths = sorted(m * 10.0 ** e for e in range(exponent - 1, exponent + 2)
                    for m in (1, 2, 5))

    def divides(width: float) -> bool:
        return all(abs(t / width - round(t / width)) < 1e-9 for t in thresholds)

    aligned = [w for w in widths if divides(w) and raw / 3 <= w <= raw * 3]
    if aligned:
        width = min(aligned, key=lambda w: abs(np.log(w / raw)))
    else:
        width = next(w for w in widths if w >= raw)
    first = np.floor(np.round(low / width, 9))
    last = np.floor(np.round(high / width, 9)) + 1
    return np.round(np.arange(first, last + 1) * width, _BIN_DECIMALS)


def eular_codes(hue: pd.Series) -> np.ndarray:
    """EULAR category of each row as a key of EULAR_COLORS, None when missing.

    The spellings are read once per distinct value (:func:`eular_category`), not once
    per patient: a million rows hold a handful of distinct answers.
    """
    codes, uniques = pd.factorize(hue, use_na_sentinel=True)
    keys = np.array([eular_category(u) for u in uniques] + [None], dtype=object)
    return keys[codes]  # code -1 (missing) picks the trailing None


def change_histogram(ax, changes: np.ndarray, categories: np.ndarray | None,
                      thresholds: Sequence[float], threshold_name: str, xlabel: str,
                      bar_kwargs) -> None:
    """Histogram of change, stacked by EULAR category when given (waterfall at large n).

    Counts are made here (one ``searchsorted`` and one ``bincount``); seaborn draws the
    bars from the counts. Heights are percentages of the patients with a change.
    """
    present = np.isfinite(changes)
    values = np.round(changes[present], _BIN_DECIMALS) + 0.0
    edges = _change_bins(values, thresholds)
    n_bins = len(edges) - 1
    bins = np.clip(np.searchsorted(edges, values, side="right") - 1, 0, n_bins - 1)
    if categories is None:
        levels, level = ["all"], np.zeros(len(values), dtype=np.int64)
    else:
        levels = [*EULAR_COLORS, "missing"]
        level = _level_index(categories[present], levels)
    counts = np.bincount(level * n_bins + bins, minlength=len(levels) * n_bins)
    counts = counts.reshape(len(levels), n_bins)
    centres = (edges[:-1] + edges[1:]) / 2
    shown = [i for i in range(len(levels)) if counts[i].sum() > 0]
    table = pd.DataFrame({
        "change": np.tile(centres, len(shown)),
        "count": counts[shown].reshape(-1),
        "level": np.repeat([levels[i] for i in shown], n_bins),
    })
    palette = {**EULAR_COLORS, "missing": MISSING_COLOR, "all": PALETTE[0]}
    style = {"linewidth": 0.3, "edgecolor": "white", **bar_kwargs}
    if len(values):
        # bins as a list: seaborn 0.13 compares bins with "auto", which fails for arrays.
        sns.histplot(data=table, x="change", weights="count", bins=edges.tolist(),
                     hue="level", hue_order=[levels[i] for i in shown], palette=palette,
                     multiple="stack", stat="percent", legend=False, alpha=1.0, ax=ax,
                     **style)
    _draw_change_thresholds(ax, thresholds, threshold_name)
    _include_thresholds(ax, values, thresholds)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("Patients (%)")
    # Headroom above the tallest bar for the legend, in the upper corner whose bars are
    # lower (the tail of the distribution).
    heights = 100.0 * counts.sum(axis=0) / max(len(values), 1)
    tallest = float(heights.max()) if heights.size else 1.0
    ax.set_ylim(0, 1.3 * tallest or 1.0)
    thirds = np.array_split(heights, 3)
    corner = ("upper left" if thirds[0].max(initial=0) <= thirds[-1].max(initial=0)
              else "upper right")
    n_missing = int((~present).sum())
    note = f"n = {len(values):,}" + (f"\n({n_missing:,} without a change)" if n_missing
                                     else "")
    if categories is None:
        left = corner == "upper left"
        ax.text(0.02 if left else 0.98, 0.98, note, transform=ax.transAxes,
                ha="left" if left else "right", va="top", fontsize=SMALL_TEXT)
        return
    total = max(len(values), 1)
    handles = []
    for i, key in enumerate(levels):
        if key == "missing" and counts[i].sum() == 0:
            continue  # "not assessable" only when some are; the three categories always
        name = "Not assessable" if key == "missing" else EULAR_LABELS[key]
        share = 100.0 * counts[i].sum() / total
        handles.append(Patch(facecolor=palette[key], label=f"{name} ({share:.0f}%)"))
    ax.legend(handles=handles, title=f"EULAR response, {note}", loc=corner,
              fontsize=SMALL_TEXT, title_fontsize=SMALL_TEXT, handlelength=1.0,
              handleheight=1.0, borderaxespad=0.3, framealpha=0.85, alignment="left")


def _level_index(keys: np.ndarray, levels: list[str]) -> np.ndarray:
    """Index into ``levels`` of each key (None = "missing"), vectorised."""
    index = np.full(len(keys), levels.index("missing"), dtype=np.int64)
    for i, level in enumerate(levels):
        if level != "missing":
            index[keys == level] = i
    return index
