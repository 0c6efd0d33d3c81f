"""The literature review's analysis plan: which studies are pooled, and how.

:mod:`helpers.meta` is the generic statistics; this module applies it to the paper's
review table (``data/processed/studies.csv``), optionally with the case series itself as a
fourth study, under every transform and estimator, plus a sensitivity analysis restricted
to studies whose outcome is *resolution* of arthritis.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import pandas as pd

from helpers.meta import ContinuityCorrectionWarning, leave_one_out, pool_proportions
from helpers.proportions import proportion_ci

CASE_SERIES_LABEL = "Cassone 2025 (this case series)"


def case_series_study(patients: pd.DataFrame) -> pd.DataFrame:
    """The case series as a one-row study: responders by the paper's own "Response"."""
    return pd.DataFrame([{
        "study": CASE_SERIES_LABEL,
        "author": "Cassone",
        "year": 2025,
        "design": "Case series (monocentric)",
        "n": int(len(patients)),
        "events": int(patients["response_paper"].astype(bool).sum()),
        "ultrasound_proven": False,
        # The paper's "Response" is a clinical judgement of articular improvement.
        "outcome_definition": "improvement",
        "outcome": "Response (the paper's Table 2)",
    }])


def studies_table(studies: pd.DataFrame, level: float = 0.95) -> pd.DataFrame:
    """The review table with events, n, the observed proportion and its exact CI."""
    ci = proportion_ci(studies["events"].to_numpy(), studies["n"].to_numpy(),
                       method="clopper-pearson", level=level).to_frame()
    out = studies.reset_index(drop=True).copy()
    out["proportion"] = ci["proportion"].to_numpy()
    out["ci_low"] = ci["ci_low"].to_numpy()
    out["ci_high"] = ci["ci_high"].to_numpy()
    out["ci_method"] = "Clopper-Pearson"
    return out


def analysis_sets(studies: pd.DataFrame, case_series: pd.DataFrame | None = None
                  ) -> dict[str, pd.DataFrame]:
    """The study sets that are pooled.

    - ``review``: the review table's studies;
    - ``review+case_series``: the same plus the case series (if given);
    - ``resolution_only``: sensitivity analysis, studies whose outcome is resolution of
      arthritis (improvement in a score is a weaker outcome).
    """
    sets = {"review": studies}
    if case_series is not None:
        sets["review+case_series"] = pd.concat([studies, case_series], ignore_index=True)
    sets["resolution_only"] = studies[studies["outcome_definition"] == "resolution"]
    return sets


def meta_analyses(sets: dict[str, pd.DataFrame], *, transforms: Sequence[str] = ("logit", "ft"),
                  methods: Sequence[str] = ("FE", "DL", "REML"),
                  tests: Sequence[str] = ("z", "knha"), level: float = 0.95
                  ) -> pd.DataFrame:
    """Pool every study set under every transform, method and test.

    Returns
    -------
    DataFrame
        One row per analysis x transform x method x test with the ``meta_pooled.csv``
        columns (see :func:`helpers.meta.pool_proportions`), unrounded. The common-effect
        model (``"FE"``) is pooled with ``"z"`` only: the Hartung-Knapp adjustment is a
        random-effects method.

    Notes
    -----
    On the logit scale a study with 0 or n events gets 1/2 added to each cell (metafor's
    ``escalc`` default); the warning that says so is silenced here because the studies
    table records it in its ``correction`` column.
    """
    rows = []
    for analysis, frame in sets.items():
        for transform in transforms:
            for method in methods:
                for test in (["z"] if method == "FE" else tests):
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore", ContinuityCorrectionWarning)
                        result = pool_proportions(frame["events"].to_numpy(),
                                                  frame["n"].to_numpy(), transform=transform,
                                                  method=method, level=level, test=test,
                                                  labels=frame["study"].tolist(),
                                                  analysis=analysis)
                    rows.append(result.pooled)
    return pd.concat(rows, ignore_index=True)


def forest_data(frame: pd.DataFrame, *, transform: str, method: str, level: float = 0.95,
                analysis: str = "pooled", test: str = "z"
                ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per-study rows (exact CIs, weights) and the pooled row for the forest plot.

    The studies' intervals are exact (Clopper-Pearson); see
    :func:`helpers.figures.forest_plot`.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ContinuityCorrectionWarning)
        result = pool_proportions(frame["events"].to_numpy(), frame["n"].to_numpy(),
                                  transform=transform, method=method, level=level,
                                  labels=frame["study"].tolist(), analysis=analysis,
                                  test=test)
    studies = result.studies.copy()
    # Exact intervals per study: a Wald interval on 3/3 says nothing useful.
    studies["proportion"] = studies["observed"]
    studies["ci_low"], studies["ci_high"] = studies["cp_low"], studies["cp_high"]
    return studies, result.pooled


def forest_panel(studies: pd.DataFrame, case_series: pd.DataFrame | None,
                 pooled: pd.DataFrame, *, transform: str, method: str, test: str = "knha",
                 level: float = 0.95) -> tuple[pd.DataFrame, pd.DataFrame]:
    """What the forest plot shows: the main analysis' studies and three pooled rows.

    Parameters
    ----------
    studies, case_series
        As for :func:`analysis_sets`; the main analysis is the review with the case
        series when there is one, else the review alone.
    pooled : DataFrame
        :func:`meta_analyses` of those sets (the ``meta_pooled.csv`` table).
    transform, method, test, level
        The main analysis' scale, estimator, test (``"knha"``: Hartung-Knapp-Sidik-
        Jonkman intervals, the primary analysis) and confidence level.

    Returns
    -------
    studies, pooled_rows : DataFrame
        The studies' rows of :func:`forest_data`, and the pooled rows in the order drawn,
        each with a ``label``: the main analysis on ``transform``, on the other scale (the
        transform matters with few studies), and the studies whose outcome is
        *resolution* of arthritis only.
    """
    main_name = "review+case_series" if case_series is not None else "review"
    main_set = analysis_sets(studies, case_series)[main_name]
    forest_studies, _ = forest_data(main_set, transform=transform, method=method,
                                    level=level)
    other = "ft" if transform == "logit" else "logit"
    scale = {"logit": "logit", "ft": "Freeman-Tukey"}
    inference = _TEST_NAMES[test]
    rows = [(main_name, transform, test, f"Pooled ({method}, {scale[transform]}, {inference})"),
            (main_name, transform, "z", f"Pooled ({method}, {scale[transform]}, Wald)"),
            (main_name, other, test, f"Pooled ({method}, {scale[other]}, {inference})"),
            ("resolution_only", transform, test, "Resolution of arthritis only")]
    rows = list(dict.fromkeys(rows))  # test="z" would list the Wald row twice
    lookup = pooled.set_index(["analysis", "transform", "method", "test"])
    forest_pooled = pd.DataFrame([
        {**lookup.loc[(a, t, method, te)].to_dict(), "label": label}
        for a, t, te, label in rows if (a, t, method, te) in lookup.index])
    return forest_studies, forest_pooled


_TEST_NAMES = {"knha": "HKSJ", "z": "Wald", "t": "t"}


def leave_one_out_panel(studies: pd.DataFrame, case_series: pd.DataFrame | None,
                        pooled: pd.DataFrame, *, transform: str, method: str,
                        test: str = "knha", level: float = 0.95
                        ) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Sensitivity of the main analysis to each study (:func:`helpers.meta.leave_one_out`).

    Returns
    -------
    table : DataFrame
        One row per omitted study (``meta_leave1out.csv``), with the main analysis'
        ``analysis``, ``transform``, ``method`` and ``test`` in front.
    rows, full : DataFrame
        The same as forest-plot rows (``study`` = "Without <study>", the pooled proportion
        of the others as ``proportion``) and the main analysis' pooled row, labelled
        "All studies", for :func:`helpers.figures.forest_plot`.
    """
    main_name = "review+case_series" if case_series is not None else "review"
    main_set = analysis_sets(studies, case_series)[main_name]
    table = leave_one_out(main_set["events"].to_numpy(), main_set["n"].to_numpy(),
                          transform=transform, method=method, test=test, level=level,
                          labels=main_set["study"].tolist())
    table.insert(0, "test", test)
    table.insert(0, "method", method)
    table.insert(0, "transform", transform)
    table.insert(0, "analysis", main_name)
    rows = pd.DataFrame({
        "study": "Without " + table["omitted"].astype(str),
        "events": table["events"], "n": table["n"], "proportion": table["estimate"],
        "ci_low": table["ci_low"], "ci_high": table["ci_high"],
    })
    lookup = pooled.set_index(["analysis", "transform", "method", "test"])
    full = lookup.loc[[(main_name, transform, method, test)]].reset_index()
    full["label"] = "All studies"
    return table, rows, full


def leave_one_out_narrative(table: pd.DataFrame, full: pd.DataFrame):
    """How far the pooled proportion moves when each study is left out, in words."""
    from IPython.display import Markdown

    from helpers.io import escape_markdown, round_significant

    table = round_significant(table).reset_index(drop=True)
    table["omitted"] = table["omitted"].map(escape_markdown)  # study names are data
    whole = round_significant(full).iloc[0]
    low, high = table["estimate"].idxmin(), table["estimate"].idxmax()
    most = (table["estimate"] - whole["estimate"]).abs().idxmax()
    moved = table.loc[most]
    omitted_n = int(whole["n"]) - int(moved["n"])
    text = (
        f"Leaving out one study at a time, the pooled proportion ({_pct(whole['estimate'])} "
        f"with all {int(whole['k'])} studies) ranges from "
        f"{_pct(table.loc[low, 'estimate'])}, without *{table.loc[low, 'omitted']}*, to "
        f"{_pct(table.loc[high, 'estimate'])}, without *{table.loc[high, 'omitted']}*. "
        f"*{moved['omitted']}* moves it most: its {omitted_n} patients are "
        f"{_pct(omitted_n / int(whole['n']))} of the {int(whole['n'])}. With so few "
        "studies one of them can move the pooled answer more than its interval suggests, "
        f"and the interval without it stays wide ({_pct(moved['ci_low'])}–"
        f"{_pct(moved['ci_high'])}).")
    return Markdown(text)


def _pct(x: float) -> str:
    return f"{100 * x:.0f}%"


def review_narrative(pooled: pd.DataFrame, *, transform: str, method: str,
                     test: str = "knha", level: float = 0.95):
    """A short results paragraph with the numbers filled in from ``pooled``.

    ``test`` names the primary intervals (``"knha"``: Hartung-Knapp-Sidik-Jonkman, with
    a t-based prediction interval); the Wald (``"z"``) result is quoted as sensitivity.
    ``level`` is the confidence level ``pooled`` was computed at, named in the text.
    Returns an :class:`IPython.display.Markdown` object (displayed in notebooks and the
    report); its ``.data`` is the Markdown text.
    """
    from IPython.display import Markdown

    from helpers.io import format_level, round_significant

    ci = f"{format_level(level)} CI"
    rows = round_significant(pooled).set_index(["analysis", "transform", "method", "test"])

    def describe(analysis, which=test):
        key = (analysis, transform, method, which)
        if key not in rows.index:
            return None
        r = rows.loc[key]
        i2_ci = (f" ({ci} {r['i2_ci_low']:.0f}%–{r['i2_ci_high']:.0f}%)"
                 if pd.notna(r["i2_ci_low"]) else "")
        # One level of brackets: the I² interval is the only parenthesis.
        return (f"{_pct(r['estimate'])}, {ci} {_pct(r['ci_low'])}–{_pct(r['ci_high'])}, "
                f"prediction interval {_pct(r['pi_low'])}–{_pct(r['pi_high'])}, "
                f"{int(r['events'])}/{int(r['n'])} patients in {int(r['k'])} studies; "
                f"I² = {r['i2']:.0f}%{i2_ci}, heterogeneity p = {r['q_p_value']:.2f}")

    def interval(analysis, which):
        r = rows.loc[(analysis, transform, method, which)]
        return f"{_pct(r['ci_low'])}–{_pct(r['ci_high'])}"

    other = "ft" if transform == "logit" else "logit"
    spread = rows.xs(("review", "z"), level=("analysis", "test"))["estimate"]
    lines = [f"- **Published studies** ({method}, {transform} scale, "
             f"{_TEST_NAMES[test]} intervals): {describe('review')}."]
    with_cs = describe("review+case_series")
    if with_cs:
        lines.append(f"- **With this case series**: {with_cs}.")
    resolution = describe("resolution_only")
    if resolution:
        lines.append(f"- **Resolution of arthritis only** (sensitivity): {resolution}.")
    main = "review+case_series" if with_cs else "review"
    if test != "z" and (main, transform, method, "z") in rows.index:
        lines.append(
            f"- **Wald intervals** (sensitivity; metafor's and RevMan's default before "
            f"2025): {ci} {interval(main, 'z')} instead of {interval(main, test)}. With "
            f"{int(rows.loc[(main, transform, method, test), 'k'])} studies the Wald "
            "interval treats the between-study variance as known and is too narrow; the "
            "Hartung-Knapp-Sidik-Jonkman interval and its t-based prediction interval do "
            "not (IntHout et al. 2014; RevMan's random-effects default since 2025).")
    lines.append(
        f"- Across transforms and estimators the pooled proportion of the published studies "
        f"ranges from {_pct(spread.min())} to {_pct(spread.max())}: with so few patients the "
        f"choice of model (for example {transform} vs {other}) moves the estimate visibly.")
    text = "\n".join(lines) + (
        "\n\nThree small studies (3, 25 and 3 patients) and this series of 4 cannot estimate "
        "a response rate precisely: the intervals are wide, the heterogeneity test has "
        "almost no power with k = 3–4, and a prediction interval for a new study spans most "
        "of the possible range. The outcomes are not the same thing either: *resolution* of "
        "arthritis (Maicas, Tani) is stricter than a *reduction* in scores (Ceccarelli) or a "
        "clinician's judgement of response (this series), so pooling them answers a looser "
        "question than any one study asked. None of the studies had a control group. The "
        "synthesis is descriptive: it says that responses were common in these reports, "
        "not how often they would occur in practice.")
    return Markdown(text)
