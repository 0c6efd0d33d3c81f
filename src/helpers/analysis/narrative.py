"""Results text with the numbers filled in, so that prose never drifts from the tables.

Each function returns an :class:`IPython.display.Markdown` object; notebooks display it
and the HTML report renders it. The sentences state what the data show and, with four
patients, what they cannot show.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping

import pandas as pd
from IPython.display import Markdown

from helpers.data.tidy import encode, latest_change
from helpers.formats import format_level, p_clause, percent, percent_interval, round_significant
from helpers.io import escape_markdown
from helpers.vocab import BASELINE, MEASURES, Measure, measure_name


def smallest_exact_p(n: int) -> float:
    """Smallest two-sided p-value an exact signed-rank or sign test can give with n pairs.

    All n differences with the same sign is the most extreme outcome; under the null it
    has probability 2 / 2**n (both directions), so the p-value cannot go below that
    (Wilcoxon 1945; for n = 4, 0.125). Computed as 2**(1 - n) by exponent arithmetic,
    which is exact and underflows to 0 for n above about 1075 instead of overflowing.

    Examples
    --------
    >>> smallest_exact_p(4), smallest_exact_p(20_000)
    (0.125, 0.0)
    """
    return min(1.0, math.ldexp(1.0, 1 - n)) if n > 0 else math.nan


def _floor_clause(p: float) -> str:
    """The smallest p-value an exact test can reach, as a clause (it may underflow)."""
    return (f"smallest attainable p = {p:.2g}" if p > 0 else
            "smallest attainable p < 1e-300")


def _mcid_clause(code: str, mean_change: float, codebook: Mapping[str, Measure]) -> str:
    """Whether the mean change is an improvement of at least the measure's MCID."""
    spec = codebook.get(code)
    if spec is None or spec.mcid is None or pd.isna(mean_change):
        return ""
    improvement = -mean_change if spec.lower_is_better else mean_change
    reached = "reaches" if improvement >= spec.mcid else "does not reach"
    return (f"; the mean change {reached} the minimal clinically important improvement of "
            f"{spec.mcid:g} {spec.unit}")


def _effect_sizes(prepost: pd.DataFrame, n_max: int) -> str:
    """One sentence on the size of the effects and the width of their intervals."""
    dz = prepost["cohen_dz"].abs().dropna()
    if dz.empty:
        return ""
    # Cohen's (1988) conventions: 0.2 small, 0.5 medium, 0.8 large.
    size = ("large (|dz| \u2265 0.8 on every outcome)" if (dz >= 0.8).all() else
            f"|dz| from {dz.min():.2f} to {dz.max():.2f}")
    width = ("but with so few patients the confidence intervals are wide." if n_max < 30
             else f"and with n = {n_max:,} the intervals are narrow: small changes reach "
             "significance, so judge them against each measure's minimal clinically "
             "important difference.")
    return f"Effect sizes are {size}, {width}"


def _lower_is_better(code: str, codebook: Mapping[str, Measure]) -> bool:
    return codebook[code].lower_is_better if code in codebook else True


def direction_counts(measurements: pd.DataFrame, baseline: str = BASELINE) -> pd.DataFrame:
    """Patients whose value fell, stayed or rose from baseline to their last visit.

    Returns one row per measure with at least one complete pair, in alphabetical order:
    ``measure, fell, unchanged, rose, n`` (complete pairs). The last visit is each
    patient's latest with a value (:func:`helpers.data.tidy.baseline_and_latest`).
    """
    encoded = encode(measurements, require_month=True)
    rows = []
    for measure in sorted(encoded.measures):
        change = latest_change(encoded, measure, baseline=baseline)
        if change.size:
            rows.append({"measure": measure, "fell": int((change < 0).sum()),
                         "unchanged": int((change == 0).sum()),
                         "rose": int((change > 0).sum()), "n": int(change.size)})
    return pd.DataFrame(rows, columns=["measure", "fell", "unchanged", "rose", "n"])


def _unbracketed(label: str) -> str:
    """A method label to put in brackets: its own brackets become commas.

    >>> _unbracketed("exact (zeros dropped)")
    'exact, zeros dropped'
    """
    return re.sub(r"\s*\(([^()]*)\)", r", \1", str(label))


def prepost_narrative(prepost: pd.DataFrame, alpha: float = 0.05,
                      measurements: pd.DataFrame | None = None, *, ci_level: float = 0.95,
                      codebook: Mapping[str, Measure] = MEASURES) -> Markdown:
    """Plain-language summary of ``paired_tests`` output, one bullet per outcome.

    Parameters
    ----------
    prepost : DataFrame
        Output of :func:`helpers.paired.paired_tests`.
    alpha : float
        The significance level the tests used.
    measurements : DataFrame, optional
        The tidy table; adds how many patients fell, stayed or rose on each measure
        (baseline to last visit), and whether any worsened.
    ci_level : float
        The confidence level ``paired_tests`` was given (named in the text).
    codebook : Codebook
        Names of the measures and which direction is an improvement.
    """
    prepost = round_significant(prepost)  # text agrees with the CSV on every machine
    lines = []
    for row in prepost.itertuples(index=False):
        # Labels from data go through escape_markdown: the text is rendered as Markdown.
        name = escape_markdown(measure_name(row.outcome, codebook))
        comparison = escape_markdown(row.comparison)
        n = int(row.n)
        if n == 0:
            lines.append(f"- **{name}** ({comparison}): no complete pairs.")
            continue
        level = format_level(row.hl_ci_level) if pd.notna(row.hl_ci_level) else "n/a"
        # The estimate uses the differences the test uses: say so when zeros were dropped.
        of = (f" of the {int(row.wilcoxon_n)} non-zero changes"
              if "non-zero" in str(getattr(row, "hl_method", "")) and row.wilcoxon_n < n
              else "")
        lines.append(
            f"- **{name}** ({comparison}, n = {n:,}): mean change {row.change_mean:+.2f} "
            f"({format_level(ci_level)} CI {row.change_ci_low:+.2f} to "
            f"{row.change_ci_high:+.2f}); paired t {p_clause(row.t_p_value)}, Wilcoxon "
            f"{p_clause(row.wilcoxon_p_value)} ({_unbracketed(row.wilcoxon_method)}), sign "
            f"test {p_clause(row.sign_test_p_value)}; "
            f"Hodges-Lehmann{of} {row.hl_estimate:+.2f} ({level} CI {row.hl_ci_low:+.2f} to "
            f"{row.hl_ci_high:+.2f}); Cohen's dz {row.cohen_dz:+.2f}, "
            f"{p_clause(row.p_value_holm, 'Holm-adjusted p')}"
            f"{_mcid_clause(row.outcome, row.change_mean, codebook)}.")
    n_max = int(prepost["n"].max()) if len(prepost) else 0
    floor = smallest_exact_p(n_max)
    # An outcome compared at several visits is named with the visit each time.
    repeated = prepost["outcome"].duplicated(keep=False)
    significant = [
        escape_markdown(measure_name(row.outcome, codebook)
                        + (f" ({row.comparison})" if again else ""))
        for row, again in zip(prepost.itertuples(index=False), repeated, strict=True)
        if row.p_value_holm < alpha]
    verdict = (f"After Holm adjustment, {', '.join(significant)} changed at the "
               f"{alpha:g} level." if significant else
               f"No change reaches significance at the {alpha:g} level after Holm "
               "adjustment.")
    direction = ""
    if measurements is not None:
        counts = direction_counts(measurements)
        parts = [f"{escape_markdown(measure_name(r.measure, codebook))}: {r.fell:,} fell, "
                 f"{r.unchanged:,} unchanged, {r.rose:,} rose"
                 for r in counts.itertuples(index=False)]
        # A rise is a worsening where lower is better (every built-in measure).
        worse = sum(r.rose if _lower_is_better(r.measure, codebook) else r.fell
                    for r in counts.itertuples(index=False))
        direction = (f" Direction of change per patient: {'; '.join(parts)}"
                     + ("; no patient worsened on any measure." if worse == 0 else "."))
    if floor > alpha:
        power = (f"With n = {n_max:,} the smallest two-sided p-value an exact signed-rank "
                 f"or sign test can produce is {floor:.4g} (every patient changing in the "
                 f"same direction), so these tests cannot reach {alpha:g} whatever the "
                 "data; the t-test can, but only by leaning on a normality that "
                 f"{n_max:,} values cannot check.")
    else:
        power = (f"With n = {n_max:,} the exact tests can reach {alpha:g} ("
                 f"{_floor_clause(floor)}).")
    text = "\n".join(lines) + (
        f"\n\n**What {n_max:,} patients can and cannot show.** {verdict} {power}{direction} "
        f"{_effect_sizes(prepost, n_max)} Without a control group, regression to the mean, "
        "concomitant therapy and glucocorticoid tapering cannot be separated from the "
        f"effect of anifrolumab. Read these numbers as a description of {n_max:,} "
        "patients, not as evidence of efficacy.")
    return Markdown(text)


def responders_narrative(table: pd.DataFrame, summary: pd.DataFrame) -> Markdown:
    """Where the EULAR and other criteria agree or disagree with the paper's "Response"."""
    rows = round_significant(summary).set_index("criterion")
    bullets = []
    for _, row in rows.iterrows():
        if int(row["n"]) == 0:
            continue
        bullets.append(f"- {row['description']}: {int(row['events'])}/{int(row['n'])} "
                       f"({percent(row['proportion'])}, {format_level(row['ci_level'])} CI "
                       f"{percent_interval(row['ci_low'], row['ci_high'])})")
    differ = table[table["differs_from_paper"].fillna("").astype(str) != ""]
    notes = "\n".join(f"- Patient {escape_markdown(r.patient_id)}: "
                      f"{escape_markdown(r.differs_from_paper)}"
                      for r in differ.itertuples(index=False))
    text = "\n".join(bullets)
    if notes:
        text += ("\n\n**Where a standard definition disagrees with the paper's "
                 f"\"Response\":**\n\n{notes}")
    return Markdown(text)
