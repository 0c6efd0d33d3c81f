"""The forest plot of the literature review: studies, pooled estimates, prediction intervals.

A forest plot is made in three steps, each testable on its own:

- :func:`helpers.analysis.review.forest_panel` chooses what is shown: the main analysis'
  studies and the pooled rows, in order;
- :func:`forest_rows` lays those out, with numpy and pandas only: each row's position,
  label, interval as drawn, square size and the texts of the columns beside the plot,
  the axis limits and labels, and the figure's description (:class:`ForestRows`);
- :func:`draw_forest` draws a :class:`ForestRows` and decides nothing.

:func:`forest_plot` is the last two in one call. :func:`posterior_densities` draws the
Bayesian analysis' posteriors. See :mod:`helpers.figures` for the conventions every
figure follows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.lines import Line2D
from matplotlib.patches import Polygon

from helpers.figures.parts import SMALL_TEXT, get_ax, points, require_columns
from helpers.figures.style import GREY, LIGHT_GREY, PALETTE, describe
from helpers.formats import format_level, percent, round_significant, significant

__all__ = ["ForestRows", "draw_forest", "forest_plot", "forest_rows", "posterior_densities"]

# ---------------------------------------------------------------------------------------
# Forest plot: the rows, computed
# ---------------------------------------------------------------------------------------

# Widths (points) of the text columns beside the plot. They are placed in points from the
# axes' right edge, not in data units, so that they keep their size whatever the axes' width.
_TEXT_WIDTHS = {"events": 34, "weight": 34, "estimate": 78}
_TEXT_START = 8.0  # points between the axes' right edge and the first column
# The y axis runs downwards from _TOP, where the column headers (_HEADER_Y) sit above the
# first study (y = 0), to this margin below the last row.
_TOP, _HEADER_Y, _BOTTOM_MARGIN = -1.1, -0.9, 0.7
# The pooled rows start this far below the last study: a gap for the rule between them.
_POOLED_GAP = 0.6
# Square areas (points²): this plus an area proportional to the study's weight, so that
# a study of 1 % weight stays visible; equal squares when no study has a weight.
_SQUARE_BASE, _SQUARE_PER_WEIGHT, _SQUARE_EQUAL = 12, 130, 40.0
# The columns of ForestRows.rows and their types (an empty forest keeps them).
_ROW_TYPES = {"kind": object, "label": object, "y": float, "estimate": float,
              "ci_low": float, "ci_high": float, "draw_low": float, "draw_high": float,
              "draw_pi_low": float, "draw_pi_high": float, "size": float, "weight": float,
              "events_text": object, "weight_text": object, "estimate_text": object}


@dataclass(frozen=True, eq=False)
class ForestRows:
    """Everything a forest plot draws, computed without drawing (:func:`forest_rows`).

    Attributes
    ----------
    rows : DataFrame
        One row per study, then one per pooled estimate, top to bottom: ``kind``
        (``"study"`` or ``"pooled"``: the colour and the tick label's weight), ``label``
        (the y tick label), ``y``, ``estimate``, ``ci_low``, ``ci_high`` (as given),
        ``draw_low``, ``draw_high`` (the interval as drawn: clipped to ``xlim``),
        ``draw_pi_low``, ``draw_pi_high`` (the prediction interval as drawn, NaN when a
        row has none), ``size`` (a study's square area in points², NaN for pooled rows),
        ``weight`` (percent; NaN when unknown, 100 for pooled rows) and one text per
        text column, ``events_text``, ``weight_text``, ``estimate_text``.
    columns : DataFrame
        The text columns drawn, in order: ``column`` (``"events"``, ``"weight"`` or
        ``"estimate"``), ``header`` and ``centre`` (points right of the axes' edge).
    xlim, ylim : (float, float)
        The axes' limits; ``ylim`` runs downwards (the first study at the top).
    xlabel : str
    header_y : float
        The y of the column headers.
    separator : float or None
        The y of the rule between studies and pooled rows; None without pooled rows.
    reference : float or None
        The x of the dashed line at the first pooled estimate; None without pooled rows.
    legend : str or None
        The legend's entry for the prediction intervals; None when no pooled row has a
        lower prediction limit.
    detail : str
        What the plot shows, in words (:func:`helpers.figures.style.describe`).
    """

    rows: pd.DataFrame
    columns: pd.DataFrame
    xlim: tuple[float, float]
    ylim: tuple[float, float]
    xlabel: str
    header_y: float
    separator: float | None
    reference: float | None
    legend: str | None
    detail: str


def forest_rows(studies: pd.DataFrame, pooled: pd.DataFrame | None = None, *,
                xlim: tuple[float, float] | None = None, xlabel: str | None = None,
                columns: Sequence[str] | None = None, level: float = 0.95,
                scale: str = "proportion") -> ForestRows:
    """The rows of a forest plot: positions, intervals, squares and texts.

    Parameters
    ----------
    studies, pooled, xlim, xlabel, columns, level, scale
        As for :func:`forest_plot`.

    Returns
    -------
    ForestRows
        What :func:`draw_forest` draws.

    Raises
    ------
    TypeError, ValueError
        When a table misses a column, or ``columns`` names an unknown one.

    Examples
    --------
    >>> studies = pd.DataFrame({"study": ["A", "B"], "events": [2, 3], "n": [3, 3],
    ...                         "proportion": [2 / 3, 1.0], "ci_low": [0.09, 0.29],
    ...                         "ci_high": [0.99, 1.0]})
    >>> layout = forest_rows(studies, columns=("events", "estimate"))
    >>> layout.rows[["label", "y", "events_text", "estimate_text"]].values.tolist()
    [['A', 0.0, '2/3', '0.67 [0.09, 0.99]'], ['B', 1.0, '3/3', '1.00 [0.29, 1.00]']]
    >>> layout.detail
    'A 67%, B 100%'
    """
    if scale not in ("proportion", "difference"):
        raise ValueError(f"scale must be 'proportion' or 'difference', got {scale!r}")
    if scale == "difference":
        # Estimates such as mean changes: no events; the "events" column shows n.
        require_columns(studies, ["study", "n", "estimate", "ci_low", "ci_high"], "studies")
        studies = studies.drop(columns=["proportion", "events"], errors="ignore").rename(
            columns={"estimate": "proportion"}).assign(events=studies["n"])
    require_columns(studies, ["study", "events", "n", "proportion", "ci_low", "ci_high"],
                     "studies")
    if pooled is not None:
        require_columns(pooled, ["estimate", "ci_low", "ci_high"], "pooled")
    text_columns = _text_columns(columns, level, scale)
    pooled = pooled if pooled is not None else pd.DataFrame(columns=["estimate"])
    records = _study_records(studies) + _pooled_records(studies, pooled)
    rows = pd.DataFrame(records, columns=list(_ROW_TYPES)).astype(_ROW_TYPES)
    if scale == "difference":
        rows["events_text"] = rows["events_text"].str.split("/").str[-1]
    xlim = (0.0, 1.0) if xlim is None and scale == "proportion" else (
        _difference_limits(rows) if xlim is None else tuple(xlim))
    for end in ("low", "high"):
        rows[f"draw_{end}"] = np.clip(rows[f"ci_{end}"].to_numpy(), *xlim)
        rows[f"draw_pi_{end}"] = np.clip(rows[f"draw_pi_{end}"].to_numpy(), *xlim)
    n_studies, has_pooled = len(studies), len(pooled) > 0
    has_pi = has_pooled and "pi_low" in pooled.columns and pooled["pi_low"].notna().any()
    return ForestRows(
        rows=rows, columns=text_columns, xlim=xlim,
        ylim=(rows["y"].max() + _BOTTOM_MARGIN if len(rows) else 1, _TOP),
        xlabel=(f"{'Proportion' if scale == 'proportion' else 'Estimate'} "
                f"({format_level(level)} CI)") if xlabel is None else xlabel,
        header_y=_HEADER_Y,
        # Between the last study's interval and the first diamond (half height 0.3);
        # written as it always was, so that the line's y is the same float.
        separator=n_studies - 0.3 + 0.2 if has_pooled else None,
        reference=float(pooled["estimate"].iloc[0]) if has_pooled else None,
        legend=f"{format_level(level)} prediction interval" if has_pi else None,
        detail=_forest_detail(rows, len(pooled), level,
                              percent if scale == "proportion" else significant))


def _difference_limits(rows: pd.DataFrame) -> tuple[float, float]:
    """x limits for estimates such as mean changes: every interval drawn and 0 (no
    change), padded by 5%."""
    values = np.concatenate([rows[["ci_low", "ci_high", "draw_pi_low", "draw_pi_high"]]
                             .to_numpy(dtype=float).ravel(), [0.0]])
    values = values[np.isfinite(values)]
    low, high = float(values.min()), float(values.max())
    pad = 0.05 * ((high - low) or 1.0)
    return low - pad, high + pad


def _text_columns(columns: Sequence[str] | None, level: float,
                  scale: str = "proportion") -> pd.DataFrame:
    """The text columns' headers and centres (points right of the axes), in order."""
    columns = tuple(_TEXT_WIDTHS) if columns is None else tuple(columns)
    unknown = set(columns) - set(_TEXT_WIDTHS)
    if unknown:
        raise ValueError(f"columns must be among 'events', 'weight', 'estimate'; got {unknown}")
    headers = {"events": "Events/N" if scale == "proportion" else "N", "weight": "Weight",
               "estimate": f"Estimate [{format_level(level)} CI]"}
    centres, left = [], _TEXT_START
    for column in columns:  # each column starts where the one before it ends
        centres.append(left + _TEXT_WIDTHS[column] / 2)
        left += _TEXT_WIDTHS[column]
    return pd.DataFrame({"column": list(columns),
                         "header": [headers[column] for column in columns],
                         "centre": np.array(centres, dtype=float)})


def _study_records(studies: pd.DataFrame) -> list[dict]:
    """One row per study: the square, its interval and its texts."""
    proportion = studies["proportion"].to_numpy(dtype=float)
    low = studies["ci_low"].to_numpy(dtype=float)
    high = studies["ci_high"].to_numpy(dtype=float)
    if "weight" in studies.columns and studies["weight"].notna().any():
        weight = studies["weight"].to_numpy(dtype=float)
        # A study without a weight gets the others' mean square, but no weight text.
        sizes = (_SQUARE_BASE + _SQUARE_PER_WEIGHT
                 * np.nan_to_num(weight, nan=np.nanmean(weight)) / 100.0)
    else:
        weight = np.full(len(studies), np.nan)
        sizes = np.full(len(studies), _SQUARE_EQUAL)
    return [
        {"kind": "study", "label": str(label), "y": float(y), "estimate": p, "ci_low": lo,
         "ci_high": hi, "draw_pi_low": np.nan, "draw_pi_high": np.nan, "size": size,
         "weight": w,
         "events_text": f"{int(e)}/{int(n)}" if np.isfinite([e, n]).all() else "",
         "weight_text": f"{round_significant(w):.1f}%" if np.isfinite(w) else "",
         "estimate_text": _format_ci(p, lo, hi)}
        for y, (label, e, n, w, p, lo, hi, size) in enumerate(zip(
            studies["study"], studies["events"], studies["n"], weight, proportion, low,
            high, sizes, strict=True))
    ]


def _pooled_records(studies: pd.DataFrame, pooled: pd.DataFrame) -> list[dict]:
    """One row per pooled estimate, below the studies: the diamond and its texts."""
    # A pooled row without its own events and n shows the studies' totals.
    total_events = pd.to_numeric(studies["events"]).sum()
    total_n = pd.to_numeric(studies["n"]).sum()
    records = []
    for i, (_, row) in enumerate(pooled.iterrows()):
        estimate, lo, hi = float(row["estimate"]), float(row["ci_low"]), float(row["ci_high"])
        pi = [float(row[c]) if c in row and pd.notna(row[c]) else None
              for c in ("pi_low", "pi_high")]
        # Both ends, or no interval; clipped to xlim by forest_rows with the others.
        pi = pi if None not in pi else [np.nan, np.nan]
        events = row["events"] if "events" in row and pd.notna(row["events"]) else total_events
        n = row["n"] if "n" in row and pd.notna(row["n"]) else total_n
        records.append({
            "kind": "pooled", "label": _pooled_label(row),
            "y": len(studies) + _POOLED_GAP + float(i), "estimate": estimate, "ci_low": lo,
            "ci_high": hi, "draw_pi_low": pi[0], "draw_pi_high": pi[1], "size": np.nan,
            "weight": 100.0, "events_text": f"{int(events)}/{int(n)}", "weight_text": "100%",
            "estimate_text": _format_ci(estimate, lo, hi)})
    return records


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


def _forest_detail(rows: pd.DataFrame, n_pooled: int, level: float, number=percent) -> str:
    """The rows of a forest plot in words: each study's estimate (``number`` writes it),
    the first pooled row."""
    studies = rows[rows["kind"] == "study"]
    detail = ", ".join(f"{label} {number(p)}"
                       for label, p in zip(studies["label"], studies["estimate"], strict=True))
    if n_pooled:
        first = rows[rows["kind"] == "pooled"].iloc[0]
        detail += (f"; {first['label']}: {number(first['estimate'])}, "
                   f"{format_level(level)} CI {number(first['ci_low'])} to "
                   f"{number(first['ci_high'])}")
        if n_pooled > 1:
            detail += f", and {n_pooled - 1} more pooled estimates"
    return detail


# ---------------------------------------------------------------------------------------
# Forest plot: drawing the rows
# ---------------------------------------------------------------------------------------


def forest_plot(studies, pooled: pd.DataFrame | None = None, *, ax=None,
                xlim: tuple[float, float] | None = None, xlabel: str | None = None,
                columns: Sequence[str] | None = None, level: float | None = None,
                scale: str = "proportion", **kwargs):
    """Forest plot of per-study proportions and pooled estimates.

    Parameters
    ----------
    studies : DataFrame or result of :func:`helpers.meta.pool_proportions`
        One row per study with columns ``study, events, n, proportion, ci_low, ci_high``
        and ``weight`` (percent; NaN or absent draws equal squares). A pooling result
        (``forest_plot(pool_proportions(...))``) gives its studies, its pooled row and
        its level.
    pooled : DataFrame, optional
        One row per pooled estimate with ``estimate, ci_low, ci_high`` and optionally
        ``pi_low, pi_high`` (prediction interval), ``label`` (else ``analysis`` and/or
        ``method`` name the row), ``events, n`` (else the study totals are shown).
    ax : matplotlib Axes, optional
    xlim : (float, float), optional
        Range of the axis; intervals beyond it are clipped. Default: 0 to 1 for
        proportions; for differences, every interval drawn and 0, padded by 5%.
    xlabel : str, optional
        Default "Proportion (95% CI)", with the level of ``level``.
    columns : sequence of {"events", "weight", "estimate"}, optional
        Text columns to the right of the plot. Default: all three, which needs a figure
        about 6 in wide; use ``("events", "weight")`` at single-column width.
    level : float, optional
        The confidence level of the intervals (and of the prediction interval), named in
        the axis label, the estimate column's header and the legend. Default: the level
        the frames were computed at (``pool_proportions`` records it in their
        ``attrs``), else 0.95.
    scale : {"proportion", "difference"}, default "proportion"
        ``"difference"`` draws estimates such as mean changes: ``studies`` then has
        ``study, n, estimate, ci_low, ci_high`` (no events), the "events" column shows
        ``n``, and the description writes numbers, not percentages.
    **kwargs
        Passed to the study squares (:meth:`~matplotlib.axes.Axes.scatter`).

    Returns
    -------
    matplotlib Axes

    Notes
    -----
    Square areas are proportional to the study weights. Each pooled row is a diamond
    spanning its confidence interval (``gid="pooled-<i>"``); its prediction interval is a
    thin line with end caps drawn through and beyond the diamond. The rows are
    :func:`forest_rows`, drawn by :func:`draw_forest`.
    """
    if hasattr(studies, "studies") and hasattr(studies, "pooled"):  # a pooling result
        if pooled is not None:
            raise TypeError("give a pooling result alone, or studies and pooled frames")
        level = studies.level if level is None else level
        studies, pooled = studies.studies, studies.pooled
        if "yi" in studies and "events" not in studies:  # helpers.meta.pool_estimates
            studies = studies.rename(columns={"yi": "estimate"}).assign(n=np.nan)
            scale = "difference"
            columns = ("weight", "estimate") if columns is None else columns  # no n
    if level is None:
        recorded = [frame.attrs.get("level") for frame in (pooled, studies)
                    if frame is not None and frame.attrs.get("level") is not None]
        level = recorded[0] if recorded else 0.95
    # Laid out before the Axes is taken: bad input raises without creating a figure.
    layout = forest_rows(studies, pooled, xlim=xlim, xlabel=xlabel, columns=columns,
                         level=level, scale=scale)
    return draw_forest(get_ax(ax), layout, **kwargs)


def draw_forest(ax, layout: ForestRows, **kwargs):
    """Draw the rows of a forest plot (:func:`forest_rows`) on ``ax``.

    Parameters
    ----------
    ax : matplotlib Axes
    layout : ForestRows
    **kwargs
        Passed to the study squares (:meth:`~matplotlib.axes.Axes.scatter`).

    Returns
    -------
    matplotlib Axes
    """
    rows, color = layout.rows, PALETTE[0]
    studies = rows[rows["kind"] == "study"]
    ax.hlines(studies["y"].to_numpy(), studies["draw_low"].to_numpy(),
              studies["draw_high"].to_numpy(), color="black", linewidth=1.0, zorder=2)
    style = {"marker": "s", "color": "black", "linewidths": 0, "zorder": 3, **kwargs}
    # Not clipped: a study at 0 % or 100 % keeps its whole square.
    ax.scatter(studies["estimate"].to_numpy(), studies["y"].to_numpy(),
               s=studies["size"].to_numpy(), gid="studies", clip_on=False, **style)
    half_height = 0.3
    for i, row in enumerate(rows[rows["kind"] == "pooled"].itertuples(index=False)):
        y = row.y
        if pd.notna(row.draw_pi_low):
            ax.plot(np.array([row.draw_pi_low, row.draw_pi_high]), [y, y], color=color,
                    linewidth=1.0, zorder=2, gid=f"pi-{i}", marker="|", markersize=6,
                    markeredgewidth=1.0, solid_capstyle="butt")
        ax.add_patch(Polygon([(row.draw_low, y), (row.estimate, y + half_height),
                              (row.draw_high, y), (row.estimate, y - half_height)],
                             closed=True, facecolor=color, edgecolor="black", linewidth=0.6,
                             zorder=3, gid=f"pooled-{i}", clip_on=False))
    if layout.separator is not None:
        ax.axhline(layout.separator, color=LIGHT_GREY, linewidth=0.8, zorder=1)
        ax.axvline(layout.reference, color=GREY, linestyle=(0, (2, 2)), linewidth=0.7,
                   zorder=1)
    ax.set_yticks(rows["y"].to_numpy(), rows["label"].tolist())
    for tick_label, kind in zip(ax.get_yticklabels(), rows["kind"], strict=True):
        if kind == "pooled":
            tick_label.set_fontweight("bold")
    ax.set_ylim(*layout.ylim)
    ax.set_xlim(*layout.xlim)
    ax.set_xlabel(layout.xlabel)
    ax.tick_params(axis="y", length=0)
    ax.spines["left"].set_visible(False)
    _draw_text_columns(ax, layout)
    if layout.legend is not None:
        handle = Line2D([], [], color=color, linewidth=1.0, marker="|", markersize=6)
        ax.legend([handle], [layout.legend], loc="lower left", bbox_to_anchor=(0.0, 1.0),
                  fontsize=SMALL_TEXT, borderaxespad=0.0, handlelength=1.6)
    describe(ax, "Forest plot", layout.detail)
    return ax


def _draw_text_columns(ax, layout: ForestRows) -> None:
    """The text columns right of the axes: a bold header, then one text per row."""
    fontsize = points(plt.rcParams["ytick.labelsize"])
    # x in axes fraction (the right edge) plus an offset in points; y in data units.
    where = {"xycoords": ("axes fraction", "data"), "textcoords": "offset points",
             "ha": "center", "va": "center", "fontsize": fontsize}
    for column in layout.columns.itertuples(index=False):
        ax.annotate(column.header, xy=(1.0, layout.header_y), xytext=(column.centre, 0),
                    fontweight="bold", **where)
        for y, text in zip(layout.rows["y"], layout.rows[f"{column.column}_text"],
                           strict=True):
            ax.annotate(text, xy=(1.0, y), xytext=(column.centre, 0), **where)


# ---------------------------------------------------------------------------------------
# Posterior densities of the Bayesian analysis
# ---------------------------------------------------------------------------------------


def posterior_densities(curves: pd.DataFrame, *, axes=None, level: float = 0.95,
                        summary: pd.DataFrame | None = None):
    """Posterior densities of the pooled proportion and of tau, one line per prior.

    Parameters
    ----------
    curves : DataFrame
        :func:`helpers.analysis.review.bayes_curves`: ``prior, parameter, x, posterior,
        prior_density``.
    axes : pair of matplotlib Axes, optional
        Left: the pooled proportion; right: tau with each prior's density dashed.
    level : float
        Probability of the credible intervals in ``summary``, named in the text.
    summary : DataFrame, optional
        :func:`helpers.analysis.review.bayes_analyses` rows of the same analysis: their
        medians are marked on the proportion panel.

    Returns
    -------
    pair of matplotlib Axes
    """
    require_columns(curves, ["prior", "parameter", "x", "posterior", "prior_density"],
                     "curves")
    if axes is None:
        _, axes = plt.subplots(1, 2)
    left, right = axes
    priors = list(dict.fromkeys(curves["prior"]))
    for prior, color in zip(priors, PALETTE, strict=False):
        mine = curves[curves["prior"] == prior]
        share = mine[mine["parameter"] == "proportion"]
        left.plot(share["x"], share["posterior"], color=color, linewidth=1.4,
                  label=f"{prior} prior", gid=f"posterior-proportion-{prior}")
        tau = mine[mine["parameter"] == "tau"]
        right.plot(tau["x"], tau["posterior"], color=color, linewidth=1.4,
                   label=f"posterior, {prior}", gid=f"posterior-tau-{prior}")
        right.plot(tau["x"], tau["prior_density"], color=color, linewidth=1.0,
                   linestyle="--", label=f"prior, {prior}", gid=f"prior-tau-{prior}")
        if summary is not None and (summary["prior"] == prior).any():
            median = float(summary.loc[summary["prior"] == prior, "estimate"].iloc[0])
            left.axvline(median, color=color, linewidth=0.8, linestyle=":", zorder=1)
    left.set_xlim(0, 1)
    left.set_ylim(bottom=0)
    left.set_xlabel("Pooled proportion of patients responding")
    left.set_ylabel("Posterior density")
    left.legend(frameon=False, loc="upper left")
    right.set_xlim(0, float(curves.loc[curves["parameter"] == "tau", "x"].max()))
    right.set_ylim(bottom=0)
    right.set_xlabel("Between-study SD τ (logit scale)")
    right.set_ylabel("Density")
    right.legend(frameon=False, loc="upper right", fontsize=SMALL_TEXT)
    details = []
    if summary is not None:
        for row in round_significant(summary).itertuples(index=False):
            details.append(f"{row.prior} prior: median {row.estimate:.2f}, "
                           f"{format_level(level)} credible interval {row.ci_low:.2f} to "
                           f"{row.ci_high:.2f}, median tau {row.tau:.2f}")
    describe(left, "Posterior of the pooled proportion",
             "; ".join(details) if details else ", ".join(priors))
    describe(right, "Posterior and prior densities of tau",
             "the posterior stays close to each prior: few studies barely update it")
    return left, right
