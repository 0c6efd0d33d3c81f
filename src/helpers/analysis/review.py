"""The literature review's analysis plan: which studies are pooled, and how.

:mod:`helpers.meta` is the generic statistics; this module applies it to the paper's
review table (``data/processed/studies.csv``), optionally with the case series itself as a
fourth study, under every transform and estimator, plus a sensitivity analysis restricted
to studies whose outcome is *resolution* of arthritis.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd

from helpers.formats import (format_level, number_word, percent, percent_interval,
                             round_significant)
from helpers.io import escape_markdown
from helpers.meta import (ContinuityCorrectionWarning, leave_one_out, pool_proportions,
                          pool_proportions_bayes)
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
      arthritis (improvement in a score is a weaker outcome); left out when no study's is.
    """
    sets = {"review": studies}
    if case_series is not None:
        sets["review+case_series"] = pd.concat([studies, case_series], ignore_index=True)
    resolution = studies[studies["outcome_definition"] == "resolution"]
    if len(resolution):
        sets["resolution_only"] = resolution
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
                 level: float = 0.95, bayes: pd.DataFrame | None = None
                 ) -> tuple[pd.DataFrame, pd.DataFrame]:
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
    bayes : DataFrame, optional
        :func:`bayes_analyses`: the main set's Bayesian row under the first prior is
        drawn too (credible and predictive intervals).

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
    if bayes is not None and (bayes["analysis"] == main_name).any():
        row = bayes[bayes["analysis"] == main_name].iloc[0]
        bayesian = {column: row[column] for column in
                    ("analysis", "k", "events", "n", "estimate", "ci_low", "ci_high",
                     "pi_low", "pi_high")}
        bayesian["label"] = f"Bayesian, {row['prior']} prior for τ"
        forest_pooled = pd.concat([forest_pooled.iloc[:1], pd.DataFrame([bayesian]),
                                   forest_pooled.iloc[1:]], ignore_index=True)
    return forest_studies, forest_pooled


_TEST_NAMES = {"knha": "HKSJ", "z": "Wald", "t": "t"}

#: Scales of the half-normal priors for tau (logit scale) of the Bayesian sensitivity
#: analysis: Röver et al. 2021 (Res Synth Methods 12:448-474) call 0.5 and 1.0 weakly
#: informative for log odds, "reasonable" and "fairly conservative" heterogeneity.
BAYES_TAU_SCALES = (0.5, 1.0)


def bayes_analyses(sets: dict[str, pd.DataFrame], *,
                   tau_scales: Sequence[float] = BAYES_TAU_SCALES, level: float = 0.95,
                   threshold: float = 0.5) -> tuple[pd.DataFrame, dict]:
    """Bayesian random-effects pooling of every study set under each prior.

    Returns
    -------
    table : DataFrame
        One row per study set and prior, the columns of
        :data:`helpers.meta.BAYES_COLUMNS` (``meta_bayes.csv``).
    results : dict
        ``(analysis, tau_scale)`` -> :class:`helpers.meta.BayesianPooledProportions`,
        for :func:`bayes_curves`.
    """
    rows, results = [], {}
    for analysis, frame in sets.items():
        for scale in tau_scales:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ContinuityCorrectionWarning)
                result = pool_proportions_bayes(
                    frame["events"].to_numpy(), frame["n"].to_numpy(), tau_scale=scale,
                    level=level, threshold=threshold, labels=frame["study"].tolist(),
                    analysis=analysis)
            results[(analysis, scale)] = result
            rows.append(result.pooled)
    return pd.concat(rows, ignore_index=True), results


def bayes_curves(results: dict, analysis: str, *, points: int = 401) -> pd.DataFrame:
    """Posterior densities of the pooled proportion and of tau, under each prior.

    What :func:`helpers.figures.posterior_densities` draws, computed here on fixed grids
    (the same bytes on every run).

    Returns
    -------
    DataFrame
        Columns ``prior`` (``half-normal(0.5)``), ``tau_scale``, ``parameter``
        (``proportion`` or ``tau``), ``x``, ``posterior`` and ``prior_density`` (the
        half-normal prior's density for ``tau``; NaN for the proportion, whose prior is
        uniform on the logit scale).
    """
    chosen = {scale: result for (name, scale), result in results.items() if name == analysis}
    tau_top = 3.5 * max(chosen)
    proportion = np.linspace(0.0005, 0.9995, points)
    tau = np.linspace(0.0, tau_top, points)
    frames = []
    for scale, result in chosen.items():
        prior = result.pooled["prior"].item()
        frames.append(pd.DataFrame({
            "prior": prior, "tau_scale": scale, "parameter": "proportion", "x": proportion,
            "posterior": result.proportion_density(proportion), "prior_density": np.nan}))
        frames.append(pd.DataFrame({
            "prior": prior, "tau_scale": scale, "parameter": "tau", "x": tau,
            "posterior": result.tau_density(tau),
            "prior_density": np.sqrt(2 / np.pi) / scale * np.exp(-0.5 * (tau / scale) ** 2)}))
    return pd.concat(frames, ignore_index=True)


def bayes_narrative(bayes: pd.DataFrame, pooled: pd.DataFrame, *, analysis: str,
                    method: str = "REML", test: str = "knha", level: float = 0.95):
    """What the prior on tau changes, in words with the numbers of ``bayes``.

    Compares the Bayesian posterior medians and credible intervals of ``analysis`` under
    each prior with its ``method``/``test`` result on the logit scale in ``pooled``.
    """
    from IPython.display import Markdown


    rows = round_significant(bayes[bayes["analysis"] == analysis]).reset_index(drop=True)
    frequentist = round_significant(pooled).set_index(
        ["analysis", "transform", "method", "test"]).loc[(analysis, "logit", method, test)]
    ci = format_level(level)
    parts = []
    for row in rows.itertuples(index=False):
        # The prior median of a half-normal with scale s is s times the normal's 75th
        # percentile, 0.674.
        prior_median = row.tau_scale * 0.6744897501960817
        parts.append(
            f"under a **{row.prior}** prior for τ the pooled proportion is "
            f"{percent(row.estimate)} ({ci} credible interval "
            f"{percent_interval(row.ci_low, row.ci_high)}; a new study's proportion "
            f"{percent_interval(row.pi_low, row.pi_high)}), with a posterior median τ of {row.tau:.2f} against a "
            f"prior median of {prior_median:.2f}, and a probability of "
            f"{percent(row.prob_above)} that more than {percent(row.threshold)} of patients "
            "respond")
    widths = (100 * (rows["ci_high"] - rows["ci_low"])).round().astype(int).tolist()
    prior_medians = rows["tau_scale"] * 0.6744897501960817
    close = bool(((rows["tau"] - prior_medians).abs() <= 0.25 * prior_medians).all())
    likely = bool((rows["prob_above"] > 0.5).all())
    text = (
        f"With {int(rows['k'].iloc[0])} studies the data say little about the between-study "
        "standard deviation τ, so a Bayesian analysis states what is assumed instead "
        "(Röver et al. 2021; Cochrane's guidance for few studies). For the "
        f"{analysis.replace('+', ' + ').replace('_', ' ')} set, " + "; ".join(parts) + ". "
        f"The {method} estimate with {_TEST_NAMES[test]} intervals is "
        f"{percent(frequentist['estimate'])} ({ci} CI "
        f"{percent_interval(frequentist['ci_low'], frequentist['ci_high'])}). "
        + ("The posterior of τ stays close to its prior: the studies barely update it, so "
           if close else "The studies move τ away from its prior, and ")
        + f"the wider prior admits more heterogeneity and a wider credible interval "
        f"({widths[-1]} against {widths[0]} percentage points). "
        + (f"Under every prior a response in more than {percent(rows['threshold'].iloc[0])} of "
           "patients is the likelier answer, but " if likely else "")
        + "no prior can make a few small uncontrolled series say how often arthritis "
        "responds in practice.")
    return Markdown(text)


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


    table = round_significant(table).reset_index(drop=True)
    table["omitted"] = table["omitted"].map(escape_markdown)  # study names are data
    whole = round_significant(full).iloc[0]
    low, high = table["estimate"].idxmin(), table["estimate"].idxmax()
    most = (table["estimate"] - whole["estimate"]).abs().idxmax()
    moved = table.loc[most]
    omitted_n = int(whole["n"]) - int(moved["n"])
    text = (
        f"Leaving out one study at a time, the pooled proportion ({percent(whole['estimate'])} "
        f"with all {int(whole['k'])} studies) ranges from "
        f"{percent(table.loc[low, 'estimate'])}, without *{table.loc[low, 'omitted']}*, to "
        f"{percent(table.loc[high, 'estimate'])}, without *{table.loc[high, 'omitted']}*. "
        f"*{moved['omitted']}* moves it most: its {omitted_n} patients are "
        f"{percent(omitted_n / int(whole['n']))} of the {int(whole['n'])}. With so few "
        "studies one of them can move the pooled answer more than its interval suggests, "
        f"and the interval without it stays wide "
        f"({percent_interval(moved['ci_low'], moved['ci_high'])}).")
    return Markdown(text)


def review_narrative(pooled: pd.DataFrame, *, transform: str, method: str,
                     test: str = "knha", level: float = 0.95,
                     studies: pd.DataFrame | None = None):
    """A short results paragraph with the numbers filled in from ``pooled``.

    ``test`` names the primary intervals (``"knha"``: Hartung-Knapp-Sidik-Jonkman, with
    a t-based prediction interval); the Wald (``"z"``) result is quoted as sensitivity.
    ``level`` is the confidence level ``pooled`` was computed at, named in the text.
    ``studies`` (``data/processed/studies.csv``: ``author, n, outcome_definition``,
    optionally ``design``), when given, names each study's size and outcome in the
    closing caveats; without it they speak of the studies as a whole.
    Returns an :class:`IPython.display.Markdown` object (displayed in notebooks and the
    report); its ``.data`` is the Markdown text.
    """
    from IPython.display import Markdown


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
        return (f"{percent(r['estimate'])}, {ci} {percent_interval(r['ci_low'], r['ci_high'])}, "
                f"prediction interval {percent_interval(r['pi_low'], r['pi_high'])}, "
                f"{int(r['events'])}/{int(r['n'])} patients in {int(r['k'])} studies; "
                f"I² = {r['i2']:.0f}%{i2_ci}, heterogeneity p = {r['q_p_value']:.2f}")

    def interval(analysis, which):
        r = rows.loc[(analysis, transform, method, which)]
        return percent_interval(r["ci_low"], r["ci_high"])

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
        f"ranges from {percent(spread.min())} to {percent(spread.max())}: with so few patients the "
        f"choice of model (for example {transform} vs {other}) moves the estimate visibly.")
    text = "\n".join(lines) + "\n\n" + _review_caveats(rows, transform, method, test,
                                                       studies)
    return Markdown(text)


def _review_caveats(rows: pd.DataFrame, transform: str, method: str, test: str,
                    studies: pd.DataFrame | None) -> str:
    """The closing paragraph: how little so few patients can say, built from the data."""

    def total(analysis):
        key = (analysis, transform, method, test)
        return int(rows.loc[key, "n"]) if key in rows.index else None

    k = rows.xs((transform, method, test), level=("transform", "method", "test"))["k"]
    # The main analyses' numbers of studies (the sensitivity analyses' are not the point).
    ks = sorted({int(k[a]) for a in ("review", "review+case_series") if a in k.index})
    series = (total("review+case_series") - total("review")
              if total("review+case_series") is not None else None)
    if studies is not None and len(studies):
        sizes = [int(n) for n in studies["n"]]
        subject = (f"{number_word(len(sizes), capital=True)} small studies "
                   f"({_listed([str(n) for n in sizes])} patients)")
    else:
        subject = (f"{number_word(ks[0], capital=True)} published studies "
                   f"({total('review')} patients in all)")
    subject += f" and this series of {series}" if series else ""
    k_text = f"k = {ks[0]}" + (f"–{ks[-1]}" if len(ks) > 1 else "")
    text = (f"{subject} cannot estimate a response rate precisely: the intervals are wide, "
            f"the heterogeneity test has almost no power with {k_text}, and a prediction "
            "interval for a new study spans most of the possible range.")
    text += _outcome_caveat(studies, series)
    if studies is not None and not studies.get("design", pd.Series(dtype=str)).astype(
            str).str.contains("control|randomi", case=False).any():
        text += " None of the studies had a control group."
    return text + (" The synthesis is descriptive: it says that responses were common in "
                   "these reports, not how often they would occur in practice.")


def _outcome_caveat(studies: pd.DataFrame | None, series: int | None) -> str:
    """Why pooling different outcome definitions answers a looser question."""
    if studies is None or "outcome_definition" not in studies:
        return ""
    authors = studies.groupby("outcome_definition", sort=False)["author"].agg(list)
    kinds = {"resolution": "*resolution* of arthritis", "improvement": "a *reduction* in "
             "scores"}
    # Resolution, where some study asked for it, is the strictest outcome: named first.
    order = sorted(authors.index, key=lambda kind: kind != "resolution")
    named = [f"{kinds.get(kind, kind)} ({', '.join(authors[kind])})" for kind in order]
    if series:
        named.append("a clinician's judgement of response (this series)")
    if len(named) < 2:
        return ""
    comparison = (f"{named[0]} is stricter than {_listed(named[1:], 'or')}"
                  if order[0] == "resolution" else f"{_listed(named)} differ")
    return (f" The outcomes are not the same thing either: {comparison}, so pooling them "
            "answers a looser question than any one study asked.")


def _listed(items: list[str], conjunction: str = "and") -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    return items[0] if len(items) == 1 else (
        f"{', '.join(items[:-1])} {conjunction} {items[-1]}")
