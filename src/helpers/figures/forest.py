"""The forest plot of the literature review: studies, pooled estimates, prediction intervals.

See :mod:`helpers.figures` for the conventions every figure follows.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.lines import Line2D
from matplotlib.patches import Polygon

from helpers.figures.parts import SMALL_TEXT, get_ax, points, require_columns
from helpers.figures.style import GREY, LIGHT_GREY, PALETTE, describe
from helpers.io import format_level, round_significant

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
                xlim: tuple[float, float] = (0, 1), xlabel: str | None = None,
                columns: Sequence[str] | None = None, level: float = 0.95, **kwargs):
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
    xlabel : str, optional
        Default "Proportion (95% CI)", with the level of ``level``.
    columns : sequence of {"events", "weight", "estimate"}, optional
        Text columns to the right of the plot. Default: all three, which needs a figure
        about 6 in wide; use ``("events", "weight")`` at single-column width.
    level : float, default 0.95
        The confidence level of the intervals (and of the prediction interval), named in
        the axis label, the estimate column's header and the legend.
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
    require_columns(studies, ["study", "events", "n", "proportion", "ci_low", "ci_high"],
                     "studies")
    if pooled is not None:
        require_columns(pooled, ["estimate", "ci_low", "ci_high"], "pooled")
    columns = ("events", "weight", "estimate") if columns is None else tuple(columns)
    unknown = set(columns) - {"events", "weight", "estimate"}
    if unknown:
        raise ValueError(f"columns must be among 'events', 'weight', 'estimate'; got {unknown}")
    ax = get_ax(ax)
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
    ax.set_xlabel(f"Proportion ({format_level(level)} CI)" if xlabel is None else xlabel)
    ax.tick_params(axis="y", length=0)
    ax.spines["left"].set_visible(False)
    # Text columns to the right, in points from the axes edge (independent of its width).
    widths = {"events": 34, "weight": 34, "estimate": 78}
    headers = {"events": "Events/N", "weight": "Weight",
               "estimate": f"Estimate [{format_level(level)} CI]"}
    offset = 8.0
    fontsize = points(plt.rcParams["ytick.labelsize"])
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
        ax.legend([handle], [f"{format_level(level)} prediction interval"], loc="lower left",
                  bbox_to_anchor=(0.0, 1.0), fontsize=SMALL_TEXT, borderaxespad=0.0,
                  handlelength=1.6)
    describe(ax, "Forest plot", _forest_detail(labels, proportion, pooled, level))
    return ax


def _forest_detail(labels: Sequence[str], proportion: np.ndarray, pooled, level: float
                   ) -> str:
    """The rows of a forest plot in words: each study's proportion, the first pooled row."""
    rows = [f"{label} {_percent(p)}" for label, p in zip(labels, proportion, strict=False)]
    detail = ", ".join(rows)
    if pooled is not None and len(pooled):
        first = pooled.iloc[0]
        detail += (f"; {_pooled_label(first)}: {_percent(first['estimate'])}, "
                   f"{format_level(level)} CI {_percent(first['ci_low'])} to "
                   f"{_percent(first['ci_high'])}")
        if len(pooled) > 1:
            detail += f", and {len(pooled) - 1} more pooled estimates"
    return detail


def _percent(value) -> str:
    value = float(round_significant(float(value)))
    return f"{100 * value:.0f}%" if np.isfinite(value) else "not estimable"


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
