"""Power curves of the simulated next study (notebook 05)."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
import seaborn as sns

from helpers.figures.parts import get_ax, require_columns
from helpers.figures.style import GREY, PALETTE, describe
from helpers.power import TEST_LABELS
from helpers.vocab import measure_name


def power_curves(data: pd.DataFrame, *, measure: str | None = None,
                 targets: Sequence[float] = (0.8, 0.9), ax=None, **kwargs):
    """Simulated power against the number of patients, one line per test.

    Parameters
    ----------
    data : DataFrame
        :func:`helpers.analysis.planning.power_table` output (``n, test, power`` and,
        with ``measure``, a ``measure`` column).
    measure : str, optional
        Draw this measure's rows only.
    targets : sequence of float
        Power levels marked by dashed lines; the smallest simulated n reaching each is
        ringed on every curve (``gid="needed-<test>-<target>"``).
    ax : matplotlib Axes, optional
    **kwargs
        Passed to :func:`seaborn.lineplot`.

    Returns
    -------
    matplotlib Axes
    """
    require_columns(data, ["n", "test", "power"])
    if measure is not None:
        data = data[data["measure"] == measure]
    ax = get_ax(ax)
    order = [t for t in TEST_LABELS if t in set(data["test"])]
    labelled = data.assign(Test=data["test"].map(TEST_LABELS))
    # errorbar=None: one simulated value per point, and no bootstrapped band (which
    # would also be random).
    # Distinct dashes as well as colours: two tests can give the same curve (the sign
    # and signed-rank tests do when no simulated patient worsens).
    labels = [TEST_LABELS[t] for t in order]
    sns.lineplot(data=labelled, x="n", y="power", hue="Test", style="Test", markers=True,
                 dashes=dict(zip(labels, ["", (4, 2), (1, 1.5)], strict=False)),
                 hue_order=labels, style_order=labels, palette=list(PALETTE[: len(order)]),
                 errorbar=None, ax=ax, **kwargs)
    ax.set_xscale("log")  # the decisions happen between 4 and 30 patients
    sizes = sorted(set(data["n"]))
    ticks = [n for n in (4, 5, 6, 8, 10, 15, 20, 30, 50, 100, 200, 500, 1000)
             if sizes[0] <= n <= sizes[-1]]
    ax.set_xticks(ticks, [str(n) for n in ticks])
    ax.minorticks_off()
    for target in targets:
        ax.axhline(target, color=GREY, linestyle="--", linewidth=0.8, zorder=0,
                   gid=f"target-{target:g}")
        ax.text(sizes[-1], target, f"{100 * target:.0f}% ", va="bottom", ha="right",
                color=GREY, fontsize="small")
    # The smallest simulated n reaching each target, ringed on each curve.
    for test, color in zip(order, PALETTE, strict=False):
        rows = data[data["test"] == test].sort_values("n")
        for target in targets:
            reached = rows[rows["power"] >= target]
            if len(reached):
                ax.scatter(reached["n"].iloc[0], reached["power"].iloc[0], s=90,
                           facecolors="none", edgecolors=color, linewidths=1.2, zorder=4,
                           gid=f"needed-{test}-{target:g}")
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("Patients in the next study (n, log scale)")
    ax.set_ylabel("Simulated power")
    ax.legend(title=None, frameon=False, loc="lower right")
    parts = []
    first = min(targets) if len(targets) else 0.8
    for test in order:
        rows = data[data["test"] == test]
        reached = rows.loc[rows["power"] >= first, "n"]
        parts.append(f"{TEST_LABELS[test]} reaches {100 * first:.0f}% at n = "
                     f"{int(reached.min())}" if len(reached) else
                     f"{TEST_LABELS[test]} stays below {100 * first:.0f}% up to n = "
                     f"{int(rows['n'].max())}")
    name = measure_name(measure) if measure is not None else "Power"
    describe(ax, f"Simulated power against the number of patients, n from {sizes[0]} to "
             f"{sizes[-1]}", f"{name}: {', '.join(parts)}")
    return ax
