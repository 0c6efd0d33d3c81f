"""Figures of the patients' course: slope chart, waterfall, swimmer plot, profile heatmap.

See :mod:`helpers.figures` for the conventions every figure follows.

Each figure is computed, then drawn. A pure function (numpy and pandas only, no
matplotlib) returns the rows the figure draws, with their positions, heights, colours,
texts, limits and the pieces of the figure's description: :func:`slope_rows`,
:func:`waterfall_rows`, :func:`swimmer_rows`, :func:`profile_rows`. The public figure
(:func:`slope_chart`, :func:`waterfall`, :func:`swimmer`, :func:`profile_heatmap`)
calls it, and a short private function draws those rows; so what a figure shows is
tested without drawing it, and the drawing holds no arithmetic to get wrong.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib import patheffects
from matplotlib.collections import LineCollection, PatchCollection
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle
from matplotlib.ticker import MaxNLocator

from helpers.figures.parts import (BAND_SHADES, SMALL_TEXT, eular_category, get_ax,
                                   measure_rows, minus, points, require_columns, spread,
                                   text_height_in_data)
from helpers.figures.style import (EULAR_COLORS, EULAR_LABELS, GREY, LIGHT_GREY,
                                   MAX_INDIVIDUAL_PATIENTS, MAX_LABELLED_PATIENTS,
                                   MISSING_COLOR, OKABE_ITO, PALETTE, VALUE_LABELS,
                                   describe, measure_label, patient_label, timepoint_label)
from helpers.data import tidy
from helpers.figures.distributions import (change_histogram, draw_trajectory, eular_codes,
                                           visit_quantiles)
from helpers.formats import significant
from helpers.vocab import BASELINE, MEASURES, Measure, measure_name, parse_yes_no

# ---------------------------------------------------------------------------------------
# Slope chart
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SlopeRows:
    """What :func:`slope_chart` draws, computed without matplotlib (:func:`slope_rows`).

    Attributes
    ----------
    mode : {"paired", "cohort", "distribution"}
        The chart drawn (see :func:`slope_chart`).
    ylabel : str
        The y axis label (the measure and its unit).
    ylim : (float, float)
        The y axis limits: the values drawn, the reference lines, and the start of the
        band above the highest value when it is near.
    bands : tuple of (key, name, low, high)
        The shaded activity bands, lightest (best) first; ``gid="band-<key>"``.
    targets : tuple of (level, text)
        The reference lines and their names as written ("\u2264 5 mg/day").
    lines : DataFrame
        One row per patient. Paired: indexed by patient id, ``before``, ``after`` (NaN
        when not reported), ``color`` (hex) and ``label`` ("Pt 1"). Cohort: the patient's
        ``month`` and ``value`` at each visit (two column levels, visits in order).
        Empty in distribution mode.
    summary : DataFrame
        One row per visit, in order. Cohort: ``month`` (median month; the baseline's the
        earliest), ``q25``, ``q50``, ``q75``. Distribution: the table of
        :func:`helpers.figures.distributions.visit_quantiles`. Empty in paired mode.
    xlim : (float, float) or None
        The x axis limits; None in distribution mode, where the percentiles' names set
        them.
    xticklabels : tuple of str
        The two visits of the paired chart. In cohort and distribution mode, the visits in
        order when the data have no ``month`` (x is then the visit's position, 0, 1...);
        empty when x is months.
    n_patients : int
        Patients with a row of the measure.
    label_patients : bool
        Whether the paired chart names each line at its right end.
    legend : tuple of str
        The legend's entries: the cohort chart's three, "Other visit not reported" in a
        paired chart with such a patient, none otherwise.
    subject, detail : str
        The figure's description (:func:`helpers.figures.style.describe`).
    """

    mode: str
    ylabel: str
    ylim: tuple[float, float]
    bands: tuple
    targets: tuple[tuple[float, str], ...]
    lines: pd.DataFrame
    summary: pd.DataFrame
    xlim: tuple[float, float] | None
    xticklabels: tuple[str, ...]
    n_patients: int
    label_patients: bool
    legend: tuple[str, ...]
    subject: str
    detail: str


def _resolve_bands(measure: str, bands, codebook: Mapping[str, Measure]):
    """The bands to shade: the codebook's named categories unless ``bands`` says else."""
    if bands is None or bands is True:
        return codebook[measure].bands if measure in codebook else ()
    if bands is False:
        return ()
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


def _resolve_targets(measure: str, target, codebook: Mapping[str, Measure]
                     ) -> tuple[tuple[float, str], ...]:
    """(level, label) of each reference line: the codebook's thresholds that edge no
    band, or the one ``target`` given."""
    if target is False:
        return ()
    if target is not None:
        return ((float(target), "Target \u2264 {level}"),)
    if measure not in codebook:
        return ()
    relation = "\u2264" if codebook[measure].lower_is_better else "\u2265"
    return tuple((level, f"{relation} {{level}}") for level in codebook[measure].targets)


def _draw_bands(ax, bands) -> None:
    """Shade activity bands with axhspan and name them on a right-hand secondary axis."""
    if not bands:
        return
    low_lim, high_lim = ax.get_ylim()
    centres, names = [], []
    for i, (key, name, low, high) in enumerate(bands):
        ax.axhspan(low, high, facecolor=BAND_SHADES[i % len(BAND_SHADES)], edgecolor="none",
                   zorder=0, gid=f"band-{key}")
        shown_low, shown_high = max(low, low_lim), min(high, high_lim)
        if shown_high - shown_low > 0.04 * (high_lim - low_lim):
            centres.append((shown_low + shown_high) / 2)
            names.append(name)
    names_axis = ax.secondary_yaxis("right")
    names_axis.set_yticks(centres, names)
    names_axis.tick_params(length=0, labelsize=SMALL_TEXT, labelcolor=GREY, pad=2)
    names_axis.spines["right"].set_visible(False)
    for label in names_axis.get_yticklabels():
        label.set_fontstyle("italic")


def _draw_targets(ax, targets, names: str = "above", xmax: float = 1.0) -> None:
    """Reference lines up to ``xmax`` (axes fraction), and their names where no data are.

    ``names`` says where the names go:

    - ``"above"``: just above each line's right end, inside the axes (the paired chart,
      whose right-hand side holds the patients' names, not their lines);
    - ``"outside"``: right of the axes, level with their lines and spread apart as the
      paired chart's names are (the cohort chart, whose faded lines, ribbon and median
      can fill every part of the axes: inside, a name would sit on them);
    - ``"none"``: not here (distribution mode: :func:`draw_trajectory` names them among
      the percentiles, right of the data);
    - ``"boxed"``: above each line's left end, past the first visit's marker, on a white
      box over the data (cohort and distribution mode when the bands' names take the
      right of the axes: a reference line given to a measure with bands).
    """
    for level, text in targets:
        ax.axhline(level, xmax=xmax, color=GREY, linestyle=(0, (4, 2)), linewidth=0.9,
                   zorder=1, gid="target")
        if names == "above":
            ax.annotate(text, xy=(1.0, level), xycoords=("axes fraction", "data"),
                        xytext=(-2, 2), textcoords="offset points", ha="right",
                        va="bottom", fontsize=SMALL_TEXT, color=GREY)
        elif names == "boxed":
            ax.annotate(text, xy=(0.0, level), xycoords=("axes fraction", "data"),
                        xytext=(10, 2), textcoords="offset points", ha="left",
                        va="bottom", fontsize=SMALL_TEXT, color=GREY, zorder=5,
                        bbox={"boxstyle": "square,pad=0.2", "facecolor": "white",
                              "edgecolor": "none", "alpha": 0.85})
    if names == "outside" and targets:
        gap = text_height_in_data(ax, SMALL_TEXT, factor=1.1)
        levels = spread(np.array([level for level, _ in targets]), gap,
                        lower=ax.get_ylim()[0] + gap / 2)
        # Anchored at the axes' edge, so constrained layout makes room at a fixed point.
        for (_, text), y in zip(targets, levels, strict=True):
            ax.annotate(text, xy=(1.0, y), xycoords=("axes fraction", "data"),
                        xytext=(3, 0), textcoords="offset points", ha="left",
                        va="center", fontsize=SMALL_TEXT, color=GREY,
                        annotation_clip=False)


def _value_limits(values: np.ndarray, bands, targets) -> tuple[float, float]:
    finite = values[np.isfinite(values)]
    high = float(finite.max()) if finite.size else 1.0
    low = min(0.0, float(finite.min())) if finite.size else 0.0
    high = max([high, *(level for level, _ in targets)])
    if bands:
        # Show at least the start of the band above the highest value.
        above = [band[2] for band in bands if band[2] > high]
        if above and min(above) - high < 0.1 * (high - low):
            high = min(above)
    span = (high - low) or 1.0
    return low - 0.04 * span, high + 0.08 * span


def _slope_mode(subset: pd.DataFrame, measure: str, baseline: str, mode: str | None
                ) -> tuple[str, int, pd.DataFrame | None, list[str]]:
    """(mode, patients, visit quantiles in distribution mode, follow-up visits), checked."""
    quantiles = None
    if mode == "distribution" or (mode is None and len(subset) > MAX_INDIVIDUAL_PATIENTS):
        # A possibly large cohort: validate and encode once, and take the number of
        # patients, the visits and their percentiles from the codes (at 10^6 patients
        # every extra pass over a million labels costs a tenth of a second).
        encoded = tidy.encode(subset, require_month=True)
        n_patients = len(encoded.patients)
        if mode is None and n_patients > MAX_INDIVIDUAL_PATIENTS:
            mode = "distribution"
    else:
        n_patients = subset["patient_id"].nunique()
    if mode == "distribution":
        quantiles = visit_quantiles(encoded, baseline)
        visits = list(quantiles.index)
    else:
        # The distinct visits once, in order of appearance, rather than comparing every
        # row with the baseline twice.
        visits = list(pd.unique(subset["timepoint"].astype(str)))
    if baseline not in visits:
        raise ValueError(f"no rows with timepoint == baseline ({baseline!r}) for {measure!r}")
    follow_ups = [visit for visit in visits if visit != baseline]
    if len(follow_ups) == 0:
        raise ValueError(f"no follow-up timepoint for {measure!r}: only {baseline!r} rows")
    if mode is None:
        mode = ("paired" if n_patients <= MAX_LABELLED_PATIENTS and len(follow_ups) == 1
                else "cohort")
    if mode == "paired" and len(follow_ups) != 1:
        raise ValueError(
            f"mode='paired' needs exactly one follow-up timepoint, got {list(follow_ups)}"
        )
    return mode, n_patients, quantiles, follow_ups


def slope_rows(data: pd.DataFrame, *, measure: str, baseline: str = BASELINE,
               label_patients: bool | None = None, bands=None, target=None,
               mode: str | None = None, visit_labels: Mapping[str, str] | None = None,
               codebook: Mapping[str, Measure] = MEASURES) -> SlopeRows:
    """What :func:`slope_chart` draws, without drawing: numpy and pandas only.

    Parameters
    ----------
    data, measure, baseline, label_patients, bands, target, mode, visit_labels, codebook
        As :func:`slope_chart`.

    Returns
    -------
    SlopeRows
        The mode chosen, the patients' lines, the visits' summaries, the bands and
        reference lines, the limits and the description.

    Raises
    ------
    ValueError
        Missing columns, an unknown mode or measure, no baseline or follow-up rows, or
        ``mode="paired"`` with more than one follow-up visit.
    """
    require_columns(data, ["patient_id", "measure", "timepoint", "value"])
    if mode not in (None, "paired", "cohort", "distribution"):
        raise ValueError(
            f"mode must be None, 'paired', 'cohort' or 'distribution', got {mode!r}")
    if visit_labels is not None and not isinstance(visit_labels, Mapping):
        raise ValueError("visit_labels must be a mapping of visit to label, such as "
                         f"{{'baseline': 'Week 0'}}, got {type(visit_labels).__name__}")
    subset = data.loc[measure_rows(data, measure)]
    if subset.empty:
        raise ValueError(
            f"measure {measure!r} not found; data has {sorted(map(str, data['measure'].unique()))}"
        )
    visits_in_order = ()
    if "month" not in subset.columns:
        subset, visits_in_order = _visit_positions(subset, baseline)
    mode, n_patients, quantiles, follow_ups = _slope_mode(subset, measure, baseline, mode)

    def label_of(visit) -> str:
        return str((visit_labels or {}).get(visit) or timepoint_label(visit))

    unit = _first_present(subset["unit"]) if "unit" in subset.columns else None
    unit = "" if unit is None else str(unit)
    bands = _resolve_bands(measure, bands, codebook)
    target_unit = codebook[measure].unit if measure in codebook else unit
    targets = tuple((level, f"{label.format(level=f'{level:g}')} {target_unit}".strip())
                    for level, label in _resolve_targets(measure, target, codebook))
    if mode == "distribution":
        # Only the percentiles are drawn, so they set the y range (every patient's
        # extreme would squeeze the ribbons into a strip).
        values = quantiles.filter(regex=r"^q\d+$").to_numpy(dtype=float).ravel()
    else:
        values = subset["value"].to_numpy(dtype=float)
    common = {"mode": mode, "ylabel": measure_label(measure, unit, codebook),
              "ylim": _value_limits(values, bands, targets), "bands": bands,
              "targets": targets, "n_patients": n_patients}
    name = measure_name(measure, codebook)
    if mode == "paired":
        labelled = True if label_patients is None else bool(label_patients)
        return _paired_rows(subset, measure, baseline, str(follow_ups[0]), labelled, name,
                            common, label_of)
    # Without months, x is the visit's position and the ticks name the visits.
    ticks = tuple(label_of(visit) for visit in visits_in_order)
    over = "over months on anifrolumab" if not ticks else "over visits"
    if mode == "cohort":
        return _cohort_rows(subset, measure, baseline, name, common, label_of, ticks, over)
    return SlopeRows(**common, lines=pd.DataFrame(), summary=quantiles, xlim=None,
                     xticklabels=ticks, label_patients=False, legend=(),
                     subject=f"The median {over}, with ribbons of the "
                             "25th to 75th and 10th to 90th percentiles",
                     detail=_distribution_detail(quantiles, name, n_patients, label_of))


def _visit_positions(subset: pd.DataFrame, baseline: str) -> tuple[pd.DataFrame, tuple]:
    """A table without ``month``, with each visit's position in its place (the baseline
    0, the others 1, 2... in order of first appearance), and the visits in that order."""
    timepoint = subset["timepoint"].astype(str)
    visits = [str(visit) for visit in pd.unique(timepoint)]
    order = ([baseline] if baseline in visits else []) + [v for v in visits if v != baseline]
    position = {visit: float(i) for i, visit in enumerate(order)}
    return subset.assign(month=timepoint.map(position).to_numpy(dtype=float)), tuple(order)


def slope_chart(data: pd.DataFrame, *, measure: str, baseline: str = BASELINE,
                label_patients: bool | None = None, bands=None, target=None,
                mode: str | None = None, visit_labels: Mapping[str, str] | None = None,
                ax=None, codebook: Mapping[str, Measure] = MEASURES, **kwargs):
    """Paired slope chart of one measure: baseline vs follow-up, one line per patient.

    Parameters
    ----------
    data : DataFrame
        Tidy measurement table with columns ``patient_id, measure, timepoint, value``
        (``month`` places the visits in cohort and distribution mode; without it they are
        evenly spaced in order, the baseline first; ``unit`` is used for the axis label
        when present). ``value`` may be NaN.
    measure : str
        Which measure to draw, e.g. ``"sledai2k"``, ``"das28"``, ``"gc_mg_day"``.
    baseline : str, default "baseline"
        The ``timepoint`` value of the baseline visit.
    label_patients : bool, optional
        Write "Pt 1", "Pt 2"... at the right end of each line. Default: yes in paired mode;
        never in cohort mode (there would be thousands).
    bands : bool or sequence of (label, low, high), optional
        Shaded background bands. Default: the categories the codebook names between the
        measure's thresholds (:attr:`~helpers.vocab.Measure.bands`; for DAS28 remission
        < 2.6, low <= 3.2, moderate <= 5.1, high > 5.1), none for a measure without.
        ``False`` draws none.
    target : float or bool, optional
        One horizontal target line ("Target <= target"). Default: a reference line at
        each of the codebook's thresholds of a measure without categories
        (:attr:`~helpers.vocab.Measure.targets`; for the glucocorticoid dose 5 mg/day,
        EULAR 2023, and 7.5 mg/day, LLDAS). ``False`` draws none.
    mode : {"paired", "cohort", "distribution"}, optional
        ``"paired"`` draws one labelled line per patient between two visits (x = visit);
        ``"cohort"`` draws every patient as a faded line over ``month`` with the median and
        interquartile range per visit; ``"distribution"`` draws no patient, only the
        median per visit over ``month`` with ribbons of the 25th-75th and 10th-90th
        percentiles. Default: paired for up to 30 patients with a single follow-up
        visit, cohort up to :data:`~helpers.figures.style.MAX_INDIVIDUAL_PATIENTS` (300)
        patients, distribution above.
    visit_labels : mapping of str to str, optional
        How to name visits on the axis and in the description, such as
        ``{"baseline": "Week 0", "w52": "Week 52"}``. Visits not named are labelled from
        their code (:func:`~helpers.figures.style.timepoint_label`: "m6" is "Month 6",
        the paper's "baseline" "Before anifrolumab").
    ax : matplotlib Axes, optional
        Axes to draw on; the current axes by default.
    codebook : Codebook, default the built-in codebook
        Names the measure on the axis and in the figure's description, and gives its
        thresholds.
    **kwargs
        Passed to the patient lines (:class:`~matplotlib.lines.Line2D` in paired mode,
        :class:`~matplotlib.collections.LineCollection` in cohort mode), or to the median
        line in distribution mode.

    Returns
    -------
    matplotlib Axes

    Notes
    -----
    In paired mode each patient with both values is one line (``gid="patient-<id>"``);
    a patient with only one value gets an open marker at that visit and no line. Cohort
    mode draws all patients as one LineCollection (rasterised above 500 patients, so
    vector output stays small). Distribution mode draws a handful of artists whatever
    the cohort's size (10^6 patients in well under a second; the quantiles are numpy's
    linear interpolation); its y axis spans the drawn percentiles, not every patient's
    value. Summaries in cohort and distribution mode are per ``timepoint``, placed at its
    median month. The reference lines are named where no data are: above their right end
    in paired mode, right of the axes in cohort mode, among the percentiles' names in
    distribution mode (on a white box at their left end where the bands' names take the
    right of the axes). :func:`~helpers.figures.change_distribution` shows the change from
    baseline per visit. :func:`slope_rows` gives what is drawn, without drawing it.
    """
    rows = slope_rows(data, measure=measure, baseline=baseline,
                      label_patients=label_patients, bands=bands, target=target, mode=mode,
                      visit_labels=visit_labels, codebook=codebook)
    ax = get_ax(ax)
    ax.set_ylim(*rows.ylim)
    ax.set_ylabel(rows.ylabel)
    _draw_bands(ax, rows.bands)
    if rows.mode == "paired":
        _draw_targets(ax, rows.targets)
        _draw_paired(ax, rows, kwargs)
    elif rows.mode == "cohort":
        _draw_targets(ax, rows.targets, names="boxed" if rows.bands else "outside")
        _draw_cohort(ax, rows, kwargs)
    else:
        # The reference lines are named with the percentiles, right of the data (unless
        # the bands' names stand right of those).
        end = draw_trajectory(ax, rows.summary, rows.n_patients, kwargs,
                              targets=() if rows.bands else rows.targets)
        # The target line stops where the data do: right of them are the names, which it
        # would strike through.
        low, high = ax.get_xlim()
        _draw_targets(ax, rows.targets, names="boxed" if rows.bands else "none",
                      xmax=(end - low) / (high - low))
    if rows.mode != "paired" and rows.xticklabels:
        ax.set_xticks(range(len(rows.xticklabels)), list(rows.xticklabels))
        ax.set_xlabel("Visit")
    describe(ax, rows.subject, rows.detail)
    return ax


def _when(timepoint: str, label_of=timepoint_label) -> str:
    """A visit in running text: "before anifrolumab", "at month 6"."""
    words = _words(label_of(timepoint))
    return words if words.startswith("before") else f"at {words}"


def _histogram_detail(changes: np.ndarray, thresholds: Sequence[float]) -> str:
    """How many patients changed, the median change, and the share past each threshold."""
    changes = changes[np.isfinite(changes)]
    if not changes.size:
        return "no patient with a change"
    detail = f"{changes.size:,} patients with a change, median {significant(np.median(changes))}"
    for threshold in sorted(thresholds, reverse=True):
        share = 100 * np.mean(-changes > threshold)
        detail += f"; {share:.0f}% improved by more than {threshold:g}"
    return detail


def _distribution_detail(quantiles: pd.DataFrame, name: str, n_patients: int,
                         label_of=timepoint_label) -> str:
    """The distribution chart in words: the median and IQR at the first and last visit."""
    shown = quantiles.dropna(subset=["q50"])
    detail = f"{name} of {n_patients:,} patients"
    if len(shown):
        first, last = shown.iloc[0], shown.iloc[-1]
        detail += (f", median {significant(first['q50'])} (interquartile range "
                   f"{significant(first['q25'])} to {significant(first['q75'])}) "
                   f"{_when(shown.index[0], label_of)} and {significant(last['q50'])} "
                   f"({significant(last['q25'])} to {significant(last['q75'])}) "
                   f"{_when(shown.index[-1], label_of)}")
    return detail


def _first_present(column: pd.Series, chunk: int = 4096):
    """The first non-missing value of a column, or None; reads it a chunk at a time, as
    the first rows nearly always have it (a whole-column ``notna`` of a million strings
    costs a tenth of a second)."""
    for start in range(0, len(column), chunk):
        present = column.iloc[start:start + chunk].dropna()
        if len(present):
            return present.iloc[0]
    return None


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


def _paired_rows(subset, measure, baseline, follow_up, label_patients, name: str,
                 common: dict, label_of=timepoint_label) -> SlopeRows:
    """The paired chart's rows: one line per patient from ``baseline`` to ``follow_up``."""
    subset = subset.assign(timepoint=subset["timepoint"].astype(str))
    wide = tidy.wide(subset, measure, "value").astype(float)
    wide = wide.reindex(columns=[baseline, follow_up]).sort_index()
    before = wide[baseline].to_numpy()
    after = wide[follow_up].to_numpy()
    lines = pd.DataFrame({"before": before, "after": after,
                          "color": [PALETTE[i % len(PALETTE)] for i in range(len(wide))],
                          "label": [patient_label(pid) for pid in wide.index]},
                         index=wide.index)
    paired = np.isfinite(before) & np.isfinite(after)
    change = tidy.change(before[paired], after[paired])
    detail = (f"{name} fell in {int((change < 0).sum())} of "
              f"{int(paired.sum())} patients, stayed the same in {int((change == 0).sum())} "
              f"and rose in {int((change > 0).sum())}")
    if paired.any():
        detail += (f", median {significant(np.median(before[paired]))} to "
                   f"{significant(np.median(after[paired]))}")
    # A patient with one visit reported gets an open marker, which the legend explains.
    single = int((np.isfinite(before) ^ np.isfinite(after)).sum())
    if single:
        detail += f", {single} with one visit reported"
    return SlopeRows(**common, lines=lines, summary=pd.DataFrame(),
                     xlim=(-0.25, 1.45 if label_patients else 1.25),
                     xticklabels=(label_of(baseline), label_of(follow_up)),
                     label_patients=label_patients,
                     legend=("Other visit not reported",) if single else (),
                     subject=f"One line per patient from {_words(label_of(baseline))}"
                             f" to {_words(label_of(follow_up))}",
                     detail=detail)


def _draw_paired(ax, rows: SlopeRows, line_kwargs) -> None:
    """Draw the paired chart's lines, open markers and patients' names."""
    lines = rows.lines
    before = lines["before"].to_numpy()
    after = lines["after"].to_numpy()
    style = {"linewidth": 1.5, "marker": "o", "markersize": 4.5, "zorder": 3,
             "solid_capstyle": "round", **line_kwargs}
    ax.set_xticks([0, 1], list(rows.xticklabels))
    ax.set_xlim(*rows.xlim)
    ax.tick_params(axis="x", length=0)
    # Patients with the same value at a visit are set side by side, so no marker hides
    # another (the step is one marker width, converted from points to x data units).
    width_px = max(ax.get_window_extent().width, 1.0)
    step = (points(style["markersize"]) * 1.15 * ax.figure.dpi / 72.0
            * np.ptp(ax.get_xlim()) / width_px)
    x_before = 0 + _dodge(before, step)
    x_after = 1 + _dodge(after, step)
    for i, (pid, b, a, color) in enumerate(zip(lines.index, before, after, lines["color"],
                                               strict=True)):
        if np.isfinite(b) and np.isfinite(a):
            ax.plot([x_before[i], x_after[i]], [b, a], color=color, gid=f"patient-{pid}",
                    **style)
            continue
        marks = [(x, v) for x, v in ((x_before[i], b), (x_after[i], a)) if np.isfinite(v)]
        if marks:
            ax.scatter(*zip(*marks, strict=True), s=style["markersize"] ** 2,
                       facecolor="white", edgecolor=color, linewidth=1.2, zorder=4)
    if rows.label_patients:
        has_end = np.isfinite(after)
        fontsize = points(plt.rcParams["legend.fontsize"])
        gap = text_height_in_data(ax, fontsize, factor=1.15)
        positions = spread(after[has_end], gap, lower=ax.get_ylim()[0] + gap / 2)
        for y, text, color in zip(positions, lines["label"].to_numpy()[has_end],
                                  lines["color"].to_numpy()[has_end], strict=True):
            ax.text(1.12, y, text, va="center", ha="left", color=color,
                    fontsize=fontsize, fontweight="bold")
    if rows.legend:
        handle = Line2D([], [], linestyle="none", marker="o", markerfacecolor="white",
                        markeredgecolor=GREY, markersize=4.5)
        ax.legend([handle], list(rows.legend), loc="best",
                  fontsize=SMALL_TEXT, handletextpad=0.3, borderaxespad=0.2)


def _words(label: str) -> str:
    """An axis label in running text: one line, lower case."""
    return " ".join(label.split()).lower()


def _cohort_rows(subset, measure, baseline, name: str, common: dict,
                 label_of=timepoint_label, ticks: tuple = (),
                 over: str = "over months on anifrolumab") -> SlopeRows:
    """The cohort chart's rows: every patient's course, and the quartiles per visit."""
    subset = subset.assign(timepoint=subset["timepoint"].astype(str))
    # Visits in their one order (baseline first, then by median month), so lines run
    # left to right; the baseline's summary stands at the earliest month.
    month_by_visit = subset.groupby("timepoint")["month"].median()
    order = tidy.visit_order(month_by_visit.to_dict(), baseline)
    month_by_visit[baseline] = min(month_by_visit.get(baseline, 0.0),
                                   month_by_visit.min())
    table = tidy.wide(subset, measure, ["month", "value"])
    lines = pd.concat({column: table[column].reindex(columns=order)
                       for column in ("month", "value")}, axis=1)
    stats = subset.groupby("timepoint")["value"].quantile([0.25, 0.5, 0.75]).unstack()
    stats = stats.reindex(order)
    summary = pd.DataFrame({"month": month_by_visit.reindex(order).to_numpy(dtype=float),
                            "q25": stats[0.25], "q50": stats[0.5], "q75": stats[0.75]},
                           index=stats.index)
    months = lines["month"].to_numpy(dtype=float)
    finite_months = months[np.isfinite(months)]
    right = float(finite_months.max()) if finite_months.size else 1.0
    xlim = (min(0.0, float(np.nanmin(finite_months)) if finite_months.size else 0.0)
            - 0.02 * right, right * 1.02 or 1.0)
    if ticks:  # evenly spaced visits: room for the first and last visits' names
        xlim = (-0.3, len(ticks) - 0.7)
    medians = stats[0.5].dropna()
    detail = f"{name} of {len(lines):,} patients"
    if len(medians):
        detail += (f", median {significant(medians.iloc[0])} "
                   f"{_when(medians.index[0], label_of)} and "
                   f"{significant(medians.iloc[-1])} {_when(medians.index[-1], label_of)}")
    return SlopeRows(**{**common, "n_patients": len(lines)}, lines=lines, summary=summary,
                     xlim=xlim, xticklabels=ticks, label_patients=False,
                     legend=(f"Patients (n = {len(lines):,})", "Median", "IQR"),
                     subject=f"Each patient's course {over} as a faded "
                             "line, with the median and interquartile range per visit",
                     detail=detail)


def _draw_cohort(ax, rows: SlopeRows, line_kwargs) -> None:
    """Draw every patient's course as one faded LineCollection, with the quartiles."""
    n_patients = rows.n_patients
    # NaN vertices break a path, so a missing visit leaves a gap rather than a wrong line.
    segments = np.stack([rows.lines["month"].to_numpy(dtype=float),
                         rows.lines["value"].to_numpy(dtype=float)], axis=-1)
    # Fade with cohort size so the overlap shows density rather than a solid block;
    # 0.006 is about the finest step of 8-bit alpha that still registers.
    alpha = float(np.clip(10.0 / max(n_patients, 1), 0.005, 0.35))
    style = {"colors": GREY, "linewidths": 0.5 if n_patients <= 1000 else 0.25,
             "alpha": alpha, "zorder": 2,
             "rasterized": n_patients > 500, **line_kwargs}
    ax.add_collection(LineCollection(segments, **style), autolim=False)
    summary = rows.summary
    x = summary["month"].to_numpy(dtype=float)
    color = PALETTE[0]
    ax.fill_between(x, summary["q25"], summary["q75"], color=color, alpha=0.3, linewidth=0,
                    zorder=3)
    # A white outline keeps the summary readable on top of dense individual lines.
    outline = [patheffects.Stroke(linewidth=3.5, foreground="white"), patheffects.Normal()]
    # Not clipped: the last visit's marker sits on the axes' right edge.
    ax.plot(x, summary["q50"], color=color, linewidth=2.0, marker="o", markersize=4,
            zorder=4, gid="median", path_effects=outline, clip_on=False)
    ax.set_xlim(*rows.xlim)
    ax.set_xlabel("Months on anifrolumab")
    ax.xaxis.set_major_locator(MaxNLocator(nbins=6, integer=True))
    handles = [Line2D([], [], color=GREY, linewidth=0.8, alpha=0.6),
               Line2D([], [], color=color, linewidth=2.0, marker="o", markersize=4),
               Patch(facecolor=color, alpha=0.3, linewidth=0)]
    # Inside the axes: a three-column legend above each panel of a multi-panel figure is
    # wider than the panel and makes constrained layout collapse the axes.
    ax.legend(handles, list(rows.legend), loc="upper right", ncols=1, fontsize=SMALL_TEXT,
              handletextpad=0.4, borderaxespad=0.3, framealpha=0.85)


# ---------------------------------------------------------------------------------------
# Waterfall
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class WaterfallRows:
    """What :func:`waterfall` draws, computed without matplotlib (:func:`waterfall_rows`).

    Attributes
    ----------
    mode : {"bars", "distribution"}
        One bar per patient, or a histogram of the change.
    bars : DataFrame
        One row per patient: ``change`` (NaN when missing) and ``category`` (EULAR key,
        None when missing or without ``hue``). Bars mode sorts them from the largest
        rise to the largest improvement (missing last) and adds ``position`` (x of the
        bar) and ``color`` (hex); distribution mode keeps the input's order.
    labels : DataFrame
        One row per bar when bars are labelled (up to
        :data:`~helpers.figures.style.MAX_LABELLED_PATIENTS`), else empty: ``position``,
        ``tick`` ("Pt 1"), and the number written at the bar's end, ``text``, ``y`` and
        ``va`` (vertical alignment); ``missing`` marks "n/a", a patient without a change.
    labelled : bool
        Whether each bar has its tick and number (else the x axis is named).
    by_response : bool
        Whether colours (and the histogram's stacks) are EULAR categories.
    thresholds : tuple of float
        Improvements drawn as reference lines at ``-threshold``.
    threshold_labels : tuple of str
        Their numbers as written ("\u22121.2").
    threshold_name : str
        The criterion's name (distribution mode writes it before the first number).
    value_label : str
        The axis label of the change.
    xlabel : str
        The x axis label of unlabelled bars ("" when labelled).
    xlim, ylim : (float, float) or None
        Axis limits of the bars; None in distribution mode (the histogram sets them).
    legend : tuple of (label, colour)
        The EULAR categories' legend (with "Not assessable" when some are); empty
        without ``hue``.
    subject, detail : str
        The figure's description (:func:`helpers.figures.style.describe`).
    """

    mode: str
    bars: pd.DataFrame
    labels: pd.DataFrame
    labelled: bool
    by_response: bool
    thresholds: tuple[float, ...]
    threshold_labels: tuple[str, ...]
    threshold_name: str
    value_label: str
    xlabel: str
    xlim: tuple[float, float] | None
    ylim: tuple[float, float] | None
    legend: tuple[tuple[str, str], ...]
    subject: str
    detail: str


def _waterfall_thresholds(value: str, thresholds, codebook: Mapping[str, Measure]
                          ) -> tuple[str, tuple[float, ...]]:
    """(name, improvements, largest first): given, or those of the measure ``value``
    holds the change of (``das28_change``: the EULAR 1.2 and 0.6)."""
    if thresholds is not None:
        return "", tuple(float(t) for t in thresholds)
    measure = codebook.get(value.removesuffix("_change"))
    if measure is None:
        return "", ()
    return measure.change_name, tuple(sorted(measure.change_thresholds, reverse=True))


def waterfall_rows(data: pd.DataFrame, *, value: str = "das28_change",
                   hue: str | None = "eular_response", label: str = "patient_id",
                   thresholds: Sequence[float] | None = None, mode: str | None = None,
                   codebook: Mapping[str, Measure] = MEASURES) -> WaterfallRows:
    """What :func:`waterfall` draws, without drawing: numpy and pandas only.

    Parameters
    ----------
    data, value, hue, label, thresholds, mode, codebook
        As :func:`waterfall`.

    Returns
    -------
    WaterfallRows
        The mode chosen, the bars (sorted, coloured), their numbers, the reference
        lines, the limits, the legend and the description.

    Raises
    ------
    ValueError
        Missing columns, an unknown mode, or a EULAR response that is none of good,
        moderate and none.
    """
    columns = [value, label] + ([hue] if hue is not None else [])
    require_columns(data, columns)
    if mode not in (None, "bars", "distribution"):
        raise ValueError(f"mode must be None, 'bars' or 'distribution', got {mode!r}")
    if mode is None:
        mode = "bars" if len(data) <= MAX_INDIVIDUAL_PATIENTS else "distribution"
    name, thresholds = _waterfall_thresholds(value, thresholds, codebook)
    common = {"mode": mode, "by_response": hue is not None, "thresholds": thresholds,
              "threshold_labels": tuple(minus(f"-{t:g}") for t in thresholds),
              "threshold_name": name, "value_label": VALUE_LABELS.get(value, value)}
    if mode == "bars":
        return _waterfall_bars(data.loc[:, columns].copy(), value, hue, label, common)
    changes = pd.to_numeric(data[value], errors="raise").to_numpy(dtype=float)
    # Each distinct answer is read once (eular_codes): a million rows hold a handful.
    categories = eular_codes(data[hue]) if hue is not None else [None] * len(changes)
    bars = pd.DataFrame({"change": changes, "category": pd.Series(categories, dtype=object)})
    return WaterfallRows(**common, bars=bars, labels=pd.DataFrame(), labelled=False,
                         xlabel="", xlim=None, ylim=None, legend=(),
                         subject="Histogram of the change per patient"
                                 + (", stacked by EULAR response" if hue is not None else ""),
                         detail=_histogram_detail(changes, thresholds))


def _waterfall_bars(frame: pd.DataFrame, value: str, hue: str | None, label: str,
                    common: dict) -> WaterfallRows:
    """The bars' rows: sorted from the largest rise to the largest improvement."""
    frame["_change"] = pd.to_numeric(frame[value], errors="raise").astype(float)
    frame = frame.sort_values("_change", ascending=False, na_position="last", kind="stable")
    changes = frame["_change"].to_numpy()
    present = np.isfinite(changes)
    categories = ([eular_category(v) for v in frame[hue]] if hue is not None
                  else [None] * len(frame))
    colors = [PALETTE[0] if hue is None else EULAR_COLORS[c] if c is not None
              else MISSING_COLOR for c in categories]
    positions = np.arange(len(frame))
    bars = pd.DataFrame({"position": positions, "change": changes,
                         "category": pd.Series(categories, dtype=object), "color": colors})
    finite = changes[present]
    low = min(float(finite.min()) if finite.size else 0.0,
              -max(common["thresholds"], default=0.0), 0.0)
    high = max(float(finite.max()) if finite.size else 0.0, 0.0)
    span = (high - low) or 1.0
    labelled = len(frame) <= MAX_LABELLED_PATIENTS
    labels = pd.DataFrame(columns=["position", "tick", "text", "y", "va", "missing"])
    if labelled:
        # The number stands beyond the bar's end; "n/a" just above 0 where there is none.
        offset = 0.025 * span
        labels = pd.DataFrame({
            "position": positions, "tick": [patient_label(v) for v in frame[label]],
            "text": [("n/a" if not np.isfinite(c) else "0.00" if c == 0
                      else minus(f"{c:+.2f}")) for c in changes],
            "y": np.where(present, np.where(changes < 0, changes - offset, changes + offset),
                          offset),
            "va": np.where(present & (changes < 0), "top", "bottom"), "missing": ~present})
    legend = ()
    if hue is not None:
        legend = tuple((EULAR_LABELS[k], EULAR_COLORS[k]) for k in EULAR_COLORS)
        if any(c is None for c in categories):
            legend += (("Not assessable", MISSING_COLOR),)
    name = VALUE_LABELS.get(value, value).split("\n")[0]
    detail = f"{len(frame)} patients"
    if finite.size:
        detail += (f", {name} from {significant(finite.max())} to {significant(finite.min())} "
                   f"(negative is improvement)")
    if hue is not None:
        counts = [f"{sum(c == key for c in categories)} {EULAR_LABELS[key].lower()}"
                  for key in EULAR_COLORS]
        detail += f"; EULAR response {', '.join(counts)}"
    return WaterfallRows(**common, bars=bars, labels=labels, labelled=labelled,
                         xlabel="" if labelled else
                         f"Patients (n = {len(frame):,}), sorted by change",
                         xlim=(-0.6, len(frame) - 0.4),
                         ylim=(low - 0.12 * span, high + 0.12 * span), legend=legend,
                         subject="Bars of the change per patient, sorted from the largest "
                                 "rise to the largest improvement", detail=detail)


def waterfall(data: pd.DataFrame, *, value: str = "das28_change",
              hue: str | None = "eular_response", label: str = "patient_id",
              thresholds: Sequence[float] | None = None, mode: str | None = None, ax=None,
              codebook: Mapping[str, Measure] = MEASURES, **kwargs):
    """Waterfall of the change per patient, sorted, coloured by EULAR response; for a
    large cohort, the distribution of change.

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
        Improvements (falls) drawn as reference lines at ``-threshold``. Default: for a
        ``value`` named ``<measure>_change``, the measure's
        :attr:`~helpers.vocab.Measure.change_thresholds` in ``codebook`` (DAS28: 1.2
        and 0.6, the EULAR response criteria, van Gestel 1996); none otherwise.
    mode : {"bars", "distribution"}, optional
        ``"bars"``: one bar per patient, sorted. ``"distribution"``: a histogram of the
        change (x = change, y = percentage of patients), stacked by EULAR response, with
        the thresholds as vertical lines. Default: bars up to
        :data:`~helpers.figures.style.MAX_INDIVIDUAL_PATIENTS` (300) patients,
        distribution above.
    ax : matplotlib Axes, optional
    codebook : Codebook, default the built-in codebook
        Gives the default thresholds.
    **kwargs
        Passed to :meth:`~matplotlib.axes.Axes.bar` (numbered bars, up to
        :data:`~helpers.figures.style.MAX_LABELLED_PATIENTS`), to
        :meth:`~matplotlib.axes.Axes.fill_between` (more bars, drawn side by side as one
        step area per colour), or to :func:`seaborn.histplot` (distribution).

    Returns
    -------
    matplotlib Axes

    Notes
    -----
    Bars are sorted from the largest change (left) to the largest improvement (right);
    patients with a missing change keep their tick, marked "n/a", and get no bar. The colour
    of each EULAR category is fixed (:data:`EULAR_COLORS`) and the legend always lists all
    three, so figures from different cohorts compare directly. Up to
    :data:`~helpers.figures.style.MAX_LABELLED_PATIENTS` (30) bars each is numbered and
    stands apart; above, the bars stand side by side without gaps (a few pixels each at
    column width, where gaps would snap unevenly to the pixel grid), drawn as one step
    area per colour with ``gid="bars-<category>"``.

    In distribution mode the histogram's bins are ``[a, b)`` with the thresholds on bin
    edges (:func:`helpers.figures.distributions._change_bins`), so each bar lies wholly
    on one side of every line; the legend gives each category's share of the patients
    with a change, and how many had none. :func:`waterfall_rows` gives what is drawn,
    without drawing it.
    """
    rows = waterfall_rows(data, value=value, hue=hue, label=label, thresholds=thresholds,
                          mode=mode, codebook=codebook)
    ax = get_ax(ax)
    if rows.mode == "distribution":
        categories = rows.bars["category"].to_numpy() if rows.by_response else None
        change_histogram(ax, rows.bars["change"].to_numpy(), categories,
                         tuple(-t for t in rows.thresholds), rows.threshold_name,
                         rows.value_label, kwargs)
    else:
        _draw_waterfall(ax, rows, kwargs)
    describe(ax, rows.subject, rows.detail)
    return ax


def _draw_waterfall(ax, rows: WaterfallRows, bar_kwargs) -> None:
    """Draw the bars, the reference lines, the bars' numbers and the legend."""
    if rows.labelled:
        positions = rows.bars["position"].to_numpy()
        changes = rows.bars["change"].to_numpy()
        colors = rows.bars["color"].to_numpy(dtype=object)
        present = np.isfinite(changes)
        style = {"width": 0.7, "edgecolor": "white", "linewidth": 0.5, "zorder": 3,
                 **bar_kwargs}
        ax.bar(positions[present], changes[present], color=colors[present].tolist(), **style)
    else:
        _draw_contiguous_bars(ax, rows, bar_kwargs)
    ax.axhline(0, color="black", linewidth=0.8, zorder=4)
    for threshold, text in zip(rows.thresholds, rows.threshold_labels, strict=True):
        ax.axhline(-threshold, color=GREY, linestyle=(0, (4, 2)), linewidth=0.8, zorder=2,
                   gid=f"threshold-{threshold:g}")
        ax.annotate(text, xy=(1.0, -threshold), xycoords=("axes fraction", "data"),
                    xytext=(2, 0), textcoords="offset points", ha="left", va="center",
                    fontsize=SMALL_TEXT, color=GREY)
    ax.set_ylim(*rows.ylim)
    for bar in rows.labels.itertuples():
        # "n/a" in grey, under the numbers' zorder (that of any text).
        style = {"color": GREY} if bar.missing else {"zorder": 5}
        ax.text(bar.position, bar.y, bar.text, ha="center", va=bar.va,
                fontsize=SMALL_TEXT, **style)
    if rows.labelled:
        ax.set_xticks(positions, rows.labels["tick"].tolist())
    else:
        ax.set_xticks([])
        ax.set_xlabel(rows.xlabel)
    ax.tick_params(axis="x", length=0)
    ax.set_xlim(*rows.xlim)
    ax.set_ylabel(rows.value_label)
    if rows.legend:
        handles = [Patch(facecolor=color, label=name) for name, color in rows.legend]
        ax.legend(handles=handles, title="EULAR response", loc="lower left",
                  handlelength=1.0, handleheight=1.0, borderaxespad=0.2)


def _draw_contiguous_bars(ax, rows: WaterfallRows, area_kwargs) -> None:
    """Unlabelled bars side by side, each one unit wide: one filled step area per colour.

    Above :data:`~helpers.figures.style.MAX_LABELLED_PATIENTS` bars a bar is a few
    pixels wide at column width (about 2.5 at 300 patients and 300 dpi): narrow bars
    with gaps and white edges snap to the pixel grid unevenly and read as a comb of
    clusters and white gaps. Here bar ``i`` fills ``i - 0.5`` to ``i + 0.5``, without an
    edge, so the bars fill the axis at any number. They are drawn as one step area per
    colour rather than one rectangle per bar, so no light seam opens between neighbours
    of one colour where a browser antialiases each shape of the SVG, and snapped to the
    pixel grid, so none opens between colours in the PNG either; a handful of artists
    whatever the cohort's size. Each area has ``gid="bars-<category>"``
    (``bars-not-assessable`` for a change without a response; ``bars`` without ``hue``).
    """
    positions = rows.bars["position"].to_numpy(dtype=float)
    changes = rows.bars["change"].to_numpy(dtype=float)
    colors = rows.bars["color"].to_numpy(dtype=object)
    categories = rows.bars["category"].to_numpy(dtype=object)
    present = np.isfinite(changes)
    # Steps "post": bar i's height holds from its left edge to the next bar's; the last
    # height is repeated for the right edge (unlabelled bars are never none).
    edges = np.append(positions - 0.5, positions[-1] + 0.5)
    for color in dict.fromkeys(colors[present].tolist()):
        mine = present & (colors == color)
        heights = np.where(mine, changes, 0.0)
        key = categories[mine][0]
        gid = f"bars-{key or 'not-assessable'}" if rows.by_response else "bars"
        style = {"color": color, "linewidth": 0, "zorder": 3, "snap": True, "gid": gid,
                 **area_kwargs}
        ax.fill_between(edges, 0, np.append(heights, heights[-1]), step="post", **style)


# ---------------------------------------------------------------------------------------
# Swimmer
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SwimmerRows:
    """What :func:`swimmer` draws, computed without matplotlib (:func:`swimmer_rows`).

    Attributes
    ----------
    patients : DataFrame
        One row per patient, first on top: ``position`` (y of the bars), ``tick``
        ("Pt 1"), ``before`` (disease duration in ``before_unit``) and ``during`` (months
        on anifrolumab), NaN when missing; the bars drawn, ``before_bar`` (to the left of
        0, so negative) and ``treatment_bar`` (0 where missing); ``response`` (True,
        False, or None when missing or not asked for), marked at the treatment bar's end.
    before_unit : {"years", "months"}
    left_max, right_max : float
        The longest bar on each side of 0 (1 when there is none): the spans of the two
        half-axes, each with ticks of its own.
    xlim, ylim : (float, float)
        The axis limits (the y axis runs downwards: the first patient on top).
    legend : tuple of (key, label)
        The legend's entries; the keys ``before``, ``on-treatment``, ``response-yes``,
        ``response-no`` are the gids of the artists they explain.
    side_labels : (str, str)
        The names of the two half-axes, left and right.
    subject, detail : str
        The figure's description (:func:`helpers.figures.style.describe`).
    """

    patients: pd.DataFrame
    before_unit: str
    left_max: float
    right_max: float
    xlim: tuple[float, float]
    ylim: tuple[float, float]
    legend: tuple[tuple[str, str], ...]
    side_labels: tuple[str, str]
    subject: str
    detail: str


def swimmer_rows(data: pd.DataFrame, *, duration_before: str = "disease_duration_months",
                 on_treatment: str = "anifrolumab_months",
                 response: str | None = "response_paper", label: str = "patient_id",
                 before_unit: str = "years") -> SwimmerRows:
    """What :func:`swimmer` draws, without drawing: numpy and pandas only.

    Parameters
    ----------
    data, duration_before, on_treatment, response, label, before_unit
        As :func:`swimmer`.

    Returns
    -------
    SwimmerRows
        The bars and response marks per patient, the spans of the two half-axes, the
        legend, the texts and the description.

    Raises
    ------
    ValueError
        An unknown ``before_unit``, missing columns, non-numeric durations or a response
        that is not yes/no.
    """
    if before_unit not in ("years", "months"):
        raise ValueError(f"before_unit must be 'years' or 'months', got {before_unit!r}")
    columns = [duration_before, on_treatment, label] + ([response] if response else [])
    require_columns(data, columns)
    scale = 12.0 if before_unit == "years" else 1.0
    before = pd.to_numeric(data[duration_before], errors="raise").to_numpy(dtype=float) / scale
    during = pd.to_numeric(data[on_treatment], errors="raise").to_numpy(dtype=float)
    answers = ([parse_yes_no(v, response) for v in data[response]] if response
               else [None] * len(data))
    patients = pd.DataFrame({
        "position": np.arange(len(data)), "tick": [patient_label(v) for v in data[label]],
        "before": before, "during": during, "before_bar": -np.nan_to_num(before),
        "treatment_bar": np.nan_to_num(during), "response": pd.Series(answers, dtype=object)})
    legend = (("before", f"SLE before anifrolumab ({before_unit})"),
              ("on-treatment", "On anifrolumab (months)"))
    legend += ((("response-yes", "Response"),) if any(a is True for a in answers) else ())
    legend += ((("response-no", "No response"),) if any(a is False for a in answers) else ())
    left_max = float(np.nanmax(before)) if np.isfinite(before).any() else 1.0
    right_max = float(np.nanmax(during)) if np.isfinite(during).any() else 1.0
    detail = f"{len(data)} patients"
    if np.isfinite(before).any():
        detail += (f", SLE for {significant(np.nanmin(before))} to "
                   f"{significant(np.nanmax(before))} {before_unit} before anifrolumab")
    if np.isfinite(during).any():
        detail += (f", then {significant(np.nanmin(during))} to {significant(np.nanmax(during))} "
                   "months on it")
    if response:
        detail += (f"; {sum(a is True for a in answers)} with a response and "
                   f"{sum(a is False for a in answers)} without")
    return SwimmerRows(patients=patients, before_unit=before_unit, left_max=left_max,
                       right_max=right_max, xlim=(-left_max * 1.04, right_max * 1.12),
                       ylim=(len(data) - 0.4, -0.6), legend=legend,
                       side_labels=(f"\u2190 SLE duration ({before_unit})",
                                    "On anifrolumab (months) \u2192"),
                       subject="Bars per patient of disease duration before anifrolumab "
                               "and time on it", detail=detail)


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

    Notes
    -----
    :func:`swimmer_rows` gives what is drawn, without drawing it.
    """
    rows = swimmer_rows(data, duration_before=duration_before, on_treatment=on_treatment,
                        response=response, label=label, before_unit=before_unit)
    ax = get_ax(ax)
    _draw_swimmer(ax, rows, kwargs)
    describe(ax, rows.subject, rows.detail)
    return ax


def _swimmer_handle(key: str, label: str):
    """The legend's mark for an entry of :attr:`SwimmerRows.legend`."""
    if key == "before":
        return Patch(facecolor=LIGHT_GREY, label=label)
    if key == "on-treatment":
        return Patch(facecolor=PALETTE[0], label=label)
    if key == "response-yes":
        return Line2D([], [], linestyle="none", marker="o", color="black", markersize=5,
                      label=label)
    return Line2D([], [], linestyle="none", marker="X", color=OKABE_ITO["vermillion"],
                  markersize=5, label=label)


def _two_sided_ticks(left_max: float, right_max: float) -> tuple[np.ndarray, list[str]]:
    """Ticks at "nice" steps on each side of 0 separately, labelled in absolute values."""
    left_ticks = MaxNLocator(nbins=3, integer=True).tick_values(0, left_max)
    right_ticks = MaxNLocator(nbins=3, integer=True).tick_values(0, right_max)
    left_ticks = left_ticks[(left_ticks > 0) & (left_ticks <= left_max * 1.05)]
    right_ticks = right_ticks[(right_ticks >= 0) & (right_ticks <= right_max * 1.15)]
    ticks = np.concatenate([-left_ticks[::-1], right_ticks])
    return ticks, [f"{abs(t):g}" for t in ticks]


def _draw_swimmer(ax, rows: SwimmerRows, bar_kwargs) -> None:
    """Draw the two bars per patient, the response marks, both half-axes and the legend."""
    people = rows.patients
    y = people["position"].to_numpy()
    ends = people["treatment_bar"].to_numpy()
    ax.barh(y, people["before_bar"].to_numpy(), left=0, height=0.55, color=LIGHT_GREY,
            edgecolor="none", zorder=2, gid="before")
    style = {"height": 0.55, "color": PALETTE[0], "edgecolor": "none", "zorder": 3,
             **bar_kwargs}
    ax.barh(y, ends, left=0, gid="on-treatment", **style)
    ax.axvline(0, color="black", linewidth=0.8, zorder=4)
    yes = np.array([a is True for a in people["response"]], dtype=bool)
    no = np.array([a is False for a in people["response"]], dtype=bool)
    if yes.any():
        ax.scatter(ends[yes], y[yes], marker="o", s=30, color="black", zorder=5,
                   gid="response-yes")
    if no.any():
        ax.scatter(ends[no], y[no], marker="X", s=34, color=OKABE_ITO["vermillion"],
                   edgecolor="white", linewidth=0.4, zorder=5, gid="response-no")
    ax.set_yticks(y, people["tick"].tolist())
    ax.set_ylim(*rows.ylim)
    ax.tick_params(axis="y", length=0)
    ax.spines["left"].set_visible(False)
    ax.set_xticks(*_two_sided_ticks(rows.left_max, rows.right_max))
    ax.set_xlim(*rows.xlim)
    # The two half-axis labels sit under the tick labels, a fixed number of points below
    # the axes, and the legend sits on top; anchoring outside artists at the axes edges
    # (never at fractions beyond them) keeps constrained layout at a fixed point, so the
    # figure saves to the same bytes however often it is drawn.
    tick_points = points(plt.rcParams["xtick.labelsize"])
    below = -(plt.rcParams["xtick.major.size"] + plt.rcParams["xtick.major.pad"]
              + 1.6 * tick_points)
    side = {"fontsize": points(plt.rcParams["axes.labelsize"]),
            "xycoords": ("data", "axes fraction"), "textcoords": "offset points",
            "va": "top"}
    left, right = rows.side_labels
    ax.annotate(left, xy=(0, 0.0), xytext=(-4, below), ha="right", **side)
    ax.annotate(right, xy=(0, 0.0), xytext=(4, below), ha="left", **side)
    ax.legend(handles=[_swimmer_handle(key, text) for key, text in rows.legend],
              loc="lower center", bbox_to_anchor=(0.5, 1.0), ncols=2,
              handlelength=1.0, columnspacing=1.0, borderaxespad=0.3)


# ---------------------------------------------------------------------------------------
# Profile heatmap
# ---------------------------------------------------------------------------------------

_PROFILE_COLORS = {"yes": OKABE_ITO["blue"], "no": "#EFEFEF", "na": "white"}


@dataclass(frozen=True)
class ProfileRows:
    """What :func:`profile_heatmap` draws, computed without matplotlib (:func:`profile_rows`).

    Attributes
    ----------
    flags : ndarray of float, features x patients
        1 for yes, 0 for no, NaN for not reported; row ``i`` is drawn from ``y = i`` to
        ``i + 1`` (top down), column ``j`` from ``x = j`` to ``j + 1``.
    features : tuple of str
        The rows' names (display names of the feature columns), top to bottom.
    patients : tuple of str
        The columns' names ("Pt 1"...), left to right.
    missing : ndarray of int, n x 2
        (row, column) of each not-reported cell, drawn hatched; row by row.
    groups : tuple of (name or None, start, stop)
        The feature groups' rows ``start`` to ``stop``: a rule above each group but the
        first, its name (when not None) at the right. Empty for ungrouped features.
    subject, detail : str
        The figure's description (:func:`helpers.figures.style.describe`).
    """

    flags: np.ndarray
    features: tuple[str, ...]
    patients: tuple[str, ...]
    missing: np.ndarray
    groups: tuple[tuple[str | None, int, int], ...]
    subject: str
    detail: str


def _to_flag(value, column: str) -> float:
    answer = parse_yes_no(value, f"feature {column!r}")
    return np.nan if answer is None else float(answer)


def profile_rows(data: pd.DataFrame, *, features=None, label: str = "patient_id",
                 feature_labels: Mapping[str, str] | None = None) -> ProfileRows:
    """What :func:`profile_heatmap` draws, without drawing: numpy and pandas only.

    Parameters
    ----------
    data, features, label, feature_labels
        As :func:`profile_heatmap`.

    Returns
    -------
    ProfileRows
        The grid of yes / no / not reported, the rows' and columns' names, the groups and
        the description.

    Raises
    ------
    TypeError
        ``data`` is not a DataFrame.
    ValueError
        No feature column, missing columns, or a value that is not yes/no.
    """
    if not isinstance(data, pd.DataFrame):
        raise TypeError(f"data must be a pandas DataFrame, got {type(data).__name__}")
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
    require_columns(data, columns)
    feature_labels = dict(feature_labels or {})
    flags = np.array([[_to_flag(v, column) for v in data[column]] for column in columns])
    spans = []
    if len(groups) > 1 or None not in groups:
        stops = np.cumsum([len(group_columns) for group_columns in groups.values()])
        spans = [(group, int(stop) - len(group_columns), int(stop))
                 for (group, group_columns), stop in zip(groups.items(), stops, strict=True)]
    named = [str(g) for g in groups if g is not None]
    detail = f"{flags.shape[0]} features of {flags.shape[1]} patients"
    if named:
        detail += f" in {len(named)} groups, {', '.join(named)}"
    detail += (f"; {int(np.sum(flags == 1))} cells yes, {int(np.sum(flags == 0))} no and "
               f"{int(np.isnan(flags).sum())} not reported")
    return ProfileRows(flags=flags,
                       features=tuple(feature_labels.get(c, c) for c in columns),
                       patients=tuple(patient_label(v) for v in names),
                       missing=np.argwhere(np.isnan(flags)), groups=tuple(spans),
                       subject="Grid of yes, no and not reported per patient and feature",
                       detail=detail)


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
    greyscale print too. :func:`profile_rows` gives what is drawn, without drawing it.
    """
    rows = profile_rows(data, features=features, label=label, feature_labels=feature_labels)
    ax = get_ax(ax)
    _draw_profile(ax, rows, kwargs)
    describe(ax, rows.subject, rows.detail)
    return ax


def _draw_profile(ax, rows: ProfileRows, mesh_kwargs) -> None:
    """Draw the grid, hatch the cells not reported, name rows, columns and groups."""
    n_features, n_patients = rows.flags.shape
    cmap = mpl.colors.ListedColormap([_PROFILE_COLORS["no"], _PROFILE_COLORS["yes"]])
    style = {"cmap": cmap, "vmin": 0, "vmax": 1, "edgecolors": "white", "linewidth": 1.0,
             **mesh_kwargs}
    ax.pcolormesh(np.ma.masked_invalid(rows.flags), **style)
    if len(rows.missing):
        cells = [Rectangle((j, i), 1, 1) for i, j in rows.missing]
        ax.add_collection(PatchCollection(cells, facecolor=_PROFILE_COLORS["na"],
                                          edgecolor="white", hatch="////",
                                          hatchcolor=GREY, linewidth=1.0, zorder=2,
                                          gid="not-reported"))
    ax.set_xlim(0, n_patients)
    ax.set_ylim(n_features, 0)
    ax.set_yticks(np.arange(n_features) + 0.5, list(rows.features))
    ax.set_xticks(np.arange(n_patients) + 0.5, list(rows.patients))
    ax.xaxis.tick_top()
    ax.tick_params(length=0)
    for spine in ax.spines.values():
        spine.set_visible(False)
    ax.set_aspect("auto")
    for group, start, stop in rows.groups:
        if start > 0:
            ax.axhline(start, color="black", linewidth=1.0, zorder=4)
        if group is not None:
            ax.annotate(str(group), xy=(1.0, (start + stop) / 2),
                        xycoords=("axes fraction", "data"), xytext=(5, 0),
                        textcoords="offset points", ha="left", va="center",
                        rotation=0, fontsize=SMALL_TEXT, fontweight="bold")
    handles = [Patch(facecolor=_PROFILE_COLORS["yes"], label="Yes"),
               Patch(facecolor=_PROFILE_COLORS["no"], edgecolor=LIGHT_GREY, label="No"),
               Patch(facecolor=_PROFILE_COLORS["na"], edgecolor=GREY, hatch="////",
                     label="Not reported")]
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, 0.0), ncols=3,
              handlelength=1.2, handleheight=1.2, borderaxespad=0.3, columnspacing=1.0)
