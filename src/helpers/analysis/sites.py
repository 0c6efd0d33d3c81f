"""Many centres without shared patient data: site summaries, and pooling them.

A site runs the analysis where its data are (``make analysis``) and shares one small
file, ``summary.json``: per outcome and follow-up visit the number of complete pairs,
the mean and SD of the change (with its median and quartiles for groups large enough),
the pre and post means and SDs; per responder criterion and visit the events and the
denominator; the codebook entries used; the software version and the input's SHA-256.
It holds no patient id and no individual value (:data:`MIN_SHARED_N`,
:data:`MIN_QUANTILE_N`). The format is a JSON Schema in this folder
(``site_summary.schema.json``), checked on write and on read.

A coordinating centre pools any number of summaries (``make pool``,
``notebooks/06_pool.ipynb``): :func:`pooled_changes` pools the mean changes
(``rma(yi = mean change, sei = SD / sqrt(n))``, DL and REML, Wald and HKSJ), and
:func:`pooled_responders` the responder proportions (:func:`helpers.meta.pool_proportions`,
REML, logit, HKSJ).
"""

from __future__ import annotations

import json
import math
import sys
import warnings
from collections.abc import Mapping, Sequence
from functools import cache
from importlib import metadata
from pathlib import Path

import numpy as np
import pandas as pd

from helpers.data import tidy
from helpers.errors import InputError
from helpers.formats import format_level, round_significant
from helpers.io import write_text
from helpers.meta import (ContinuityCorrectionWarning, pool_estimates, pool_proportions,
                          pool_proportions_bayes)
from helpers.scores import RESPONDER_CRITERIA, responder_table, summarise_responders
from helpers.vocab import BASELINE, Measure

__all__ = [
    "CHANGE_COLUMNS", "MIN_QUANTILE_N", "MIN_SHARED_N", "RESPONDER_COLUMNS", "SCHEMA_PATH",
    "SCHEMA_VERSION", "articular_studies", "check_sites", "pooled_changes",
    "pooled_responders", "pooled_responders_bayes", "read_summary", "site_summary",
    "write_summary",
]

SCHEMA_VERSION = 1
SCHEMA_PATH = Path(__file__).with_name("site_summary.schema.json")
#: Statistics of fewer pairs than this are not shared (only ``n``): the mean and SD of
#: two values give both values back.
MIN_SHARED_N = 3
#: Medians and quartiles are shared for groups of at least this many pairs: those of a
#: few values are the values themselves, or interpolate between two of them.
MIN_QUANTILE_N = 10
#: Above this many sites a forest plot shows the pooled rows only: one row per site would
#: be unreadable (and slow to draw); the sites' own numbers are in ``site_changes.csv``
#: and ``site_responders.csv``.
MAX_FOREST_SITES = 40
#: Columns of ``pooled_changes.csv``.
CHANGE_COLUMNS = ("outcome", "comparison", "method", "test", "k", "n", "estimate", "ci_low",
                  "ci_high", "pi_low", "pi_high", "tau2", "i2", "q")
#: Columns of ``pooled_responders.csv``.
RESPONDER_COLUMNS = ("criterion", "comparison", "k", "events", "n", "estimate", "ci_low",
                     "ci_high", "pi_low", "pi_high", "tau2", "i2")
#: The criterion a site's articular response is counted by, to join the paper's review
#: (whose studies report resolution or improvement of arthritis): EULAR good or moderate.
ARTICULAR_CRITERION = "eular_good_or_moderate"
# The paper's own yes/no is not a criterion another site can have.
_SHARED_CRITERIA = [code for code, _ in RESPONDER_CRITERIA if code != "response_paper"]


# --- writing ---------------------------------------------------------------------------


def site_summary(measurements: pd.DataFrame, *, site: str, input_sha256: str,
                 codebook: Mapping[str, Measure], outcomes: Sequence[str] | None = None,
                 baseline: str = BASELINE) -> dict:
    """The summary a site shares, from its tidy measurement table.

    Parameters
    ----------
    measurements : DataFrame
        The tidy table (``patient_id, measure, timepoint, value``; ``month`` orders the
        visits), as the notebooks read it.
    site : str
        The site's name, as the pooled tables and forest plots show it.
    input_sha256 : str
        The SHA-256 of the file the analysis read.
    codebook : Codebook
        The definitions used; the entries of the outcomes are written.
    outcomes : sequence of str, optional
        The outcomes summarised (default: every measure with a follow-up visit).
    baseline : str
        The baseline visit.

    Returns
    -------
    dict
        Valid against ``site_summary.schema.json``. Numbers have 12 significant digits;
        a statistic that is not shared (too few pairs) or not defined is ``None``.
    """
    visits = tidy.paired_visits(tidy.encode(measurements), outcomes=outcomes,
                                baseline=baseline)
    rows = [_outcome_row(visit, baseline) for visit in visits]
    codes = list(dict.fromkeys(visit.outcome for visit in visits))
    responders = []
    followups = list(dict.fromkeys(visit.followup for visit in visits))
    for followup in followups:
        table = responder_table(measurements, baseline=baseline, followup=followup)
        counts = summarise_responders(table).set_index("criterion")
        for criterion in _SHARED_CRITERIA:
            if criterion in counts.index and counts.loc[criterion, "n"] > 0:
                responders.append({"criterion": criterion,
                                   "comparison": f"{followup} vs {baseline}",
                                   "events": int(counts.loc[criterion, "events"]),
                                   "n": int(counts.loc[criterion, "n"])})
    return {
        "schema_version": SCHEMA_VERSION,
        "site": str(site),
        "software": {"name": "anifrolumab-arthritis", "version": metadata.version("helpers")},
        "input": {"sha256": str(input_sha256)},
        "codebook": [_codebook_entry(codebook[code]) for code in codes if code in codebook],
        "outcomes": rows,
        "responders": responders,
    }


def _number(value) -> float | None:
    """A statistic as JSON writes it: 12 significant digits, None when undefined."""
    value = float(value)
    return float(round_significant(value)) if math.isfinite(value) else None


def _outcome_row(visit: tidy.PairedVisit, baseline: str) -> dict:
    pre, post = visit.pre, visit.post
    n = int(pre.size)
    scale = max(np.max(np.abs(pre), initial=0.0), np.max(np.abs(post), initial=0.0))
    change = tidy.change(pre, post, scale=scale)
    row = {"outcome": visit.outcome, "comparison": f"{visit.followup} vs {baseline}", "n": n}
    shared = n >= MIN_SHARED_N
    for prefix, values in (("change", change), ("pre", pre), ("post", post)):
        row[f"{prefix}_mean"] = _number(np.mean(values)) if shared else None
        row[f"{prefix}_sd"] = _number(np.std(values, ddof=1)) if shared else None
    quartiles = (np.quantile(change, [0.25, 0.5, 0.75], method="linear")
                 if n >= MIN_QUANTILE_N else [math.nan] * 3)
    for key, value in zip(("change_q1", "change_median", "change_q3"), quartiles,
                          strict=True):
        row[key] = _number(value)
    order = ("outcome", "comparison", "n", "change_mean", "change_sd", "change_median",
             "change_q1", "change_q3", "pre_mean", "pre_sd", "post_mean", "post_sd")
    return {key: row[key] for key in order}


def _codebook_entry(measure: Measure) -> dict:
    return {"code": measure.code, "label": measure.name, "unit": measure.unit,
            "min": _number(measure.low), "max": _number(measure.high),
            "integer": bool(measure.integer), "lower_is_better": bool(measure.lower_is_better)}


def write_summary(summary: dict, path: str | Path) -> Path:
    """Check ``summary`` against the schema and write it (atomically, same bytes for the
    same summary)."""
    _validate(summary, str(path))
    return write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n", Path(path))


# --- reading and checking --------------------------------------------------------------


@cache
def _validator():
    # As helpers.pipeline.notebooks.skip_unused_format_checks does for the runner: without
    # this, importing jsonschema in the kernel compiles an IRI grammar (rfc3987_syntax,
    # 1.5 s) for format checks this schema never asks for.
    if "jsonschema" not in sys.modules:
        sys.modules.setdefault("rfc3987_syntax", None)
    import jsonschema

    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    return jsonschema.Draft202012Validator(schema)


def _validate(summary, source: str) -> None:
    """Raise an InputError naming the first place ``summary`` breaks the schema."""
    if isinstance(summary, dict) and summary.get("schema_version") != SCHEMA_VERSION \
            and "schema_version" in summary:
        raise InputError(source, f"is a site summary of schema version "
                         f"{summary['schema_version']!r}; this version reads version "
                         f"{SCHEMA_VERSION} (rerun make analysis at the site with this "
                         "version)", argument="SITES")
    error = next(iter(sorted(_validator().iter_errors(summary), key=lambda e: e.path)), None)
    if error is None:
        return
    where = "/".join(str(part) for part in error.absolute_path) or "the top level"
    if not isinstance(summary, dict) or "schema_version" not in summary:
        raise InputError(source, "is not a site summary (no schema_version; make analysis "
                         "writes one as OUT/summary.json)", argument="SITES")
    raise InputError(source, f"is not a valid site summary: at {where}, {error.message}",
                     argument="SITES")


def read_summary(path: str | Path) -> dict:
    """Read and check one ``summary.json``.

    Raises
    ------
    InputError
        Not JSON, not a site summary, another schema version, or a value the schema
        refuses; one line naming the file and the place.
    """
    path = Path(path)
    try:
        summary = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(path, "does not exist", argument="SITES") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise InputError(path, f"is not a site summary (not JSON: {error})",
                         argument="SITES") from None
    _validate(summary, str(path))
    return summary


def check_sites(summaries: Sequence[tuple[Path, dict]]) -> None:
    """Refuse summaries that cannot be pooled together, before anything is written.

    Raises
    ------
    InputError
        Fewer than two sites; two summaries of the same site or of the same input; one
        measure in different units, or defined differently, at two sites.
    """
    if len(summaries) < 2:
        given = Path(summaries[0][0]) if summaries else "(none)"
        raise InputError(given, f"pooling needs at least two site summaries (got "
                         f"{len(summaries)})", argument="SITES")
    sites: dict[str, Path] = {}
    inputs: dict[str, Path] = {}
    entries: dict[str, tuple[Path, dict]] = {}
    for path, summary in summaries:
        name, digest = summary["site"], summary["input"]["sha256"]
        if name in sites:
            raise InputError(path, f"names site {name!r}, as {sites[name]} does; give each "
                             "site its own name (make analysis SITE=...)", argument="SITES")
        if digest in inputs:
            raise InputError(path, f"summarises the same input file as {inputs[digest]} "
                             f"(SHA-256 {digest[:12]}...); a cohort is pooled once",
                             argument="SITES")
        sites[name], inputs[digest] = path, path
        for entry in summary["codebook"]:
            code = entry["code"]
            if code not in entries:
                entries[code] = (path, entry)
                continue
            first_path, first = entries[code]
            if entry["unit"] != first["unit"]:
                raise InputError(path, f"measures {code} in {entry['unit']!r}, "
                                 f"{first_path} in {first['unit']!r}; convert one site's "
                                 "values (UNITS=) and rerun its analysis", argument="SITES")
            differing = [key for key in entry if entry[key] != first[key]]
            if differing:
                raise InputError(path, f"defines {code} differently from {first_path} "
                                 f"({', '.join(differing)}: {entry[differing[0]]!r} vs "
                                 f"{first[differing[0]]!r}); use one codebook for every "
                                 "site", argument="SITES")


# --- pooling ---------------------------------------------------------------------------


def _outcome_frame(summaries: Sequence[dict]) -> pd.DataFrame:
    rows = [{"site": s["site"], **row} for s in summaries for row in s["outcomes"]]
    return pd.DataFrame(rows, columns=["site", "outcome", "comparison", "n", "change_mean",
                                       "change_sd"])


def _groups(inputs: pd.DataFrame, key: str):
    """``(value, comparison, sites)`` for each ``key`` value (outcome or criterion) and
    comparison that at least two sites share, in order of first appearance."""
    for (value, comparison), sites in inputs.groupby([key, "comparison"], sort=False):
        if len(sites) >= 2:
            yield value, comparison, sites


def _sites(inputs: pd.DataFrame, key: str, value: str, comparison: str) -> pd.DataFrame:
    return inputs[(inputs[key] == value) & (inputs["comparison"] == comparison)]


def change_inputs(summaries: Sequence[dict]) -> pd.DataFrame:
    """Per site, outcome and comparison: ``yi`` (mean change) and ``sei`` (SD / sqrt(n)),
    for the sites that share them (at least :data:`MIN_SHARED_N` pairs, SD > 0)."""
    frame = _outcome_frame(summaries).dropna(subset=["change_mean", "change_sd"])
    frame = frame[frame["change_sd"] > 0]
    return frame.assign(yi=frame["change_mean"],
                        sei=frame["change_sd"] / np.sqrt(frame["n"].astype(float)))


def pooled_changes(summaries: Sequence[dict], *, level: float = 0.95,
                   methods: Sequence[str] = ("DL", "REML"),
                   tests: Sequence[str] = ("knha", "z")) -> pd.DataFrame:
    """Random-effects pooled mean change per outcome and comparison.

    One row per outcome, comparison, method and test (:data:`CHANGE_COLUMNS`), for the
    outcomes and comparisons at least two sites share: ``yi`` = mean change and ``sei``
    = SD / sqrt(n), as ``rma(yi, sei = sei, method = ..., test = ...)``. HKSJ
    (``"knha"``) is the primary result and comes first.
    """
    rows = []
    for outcome, comparison, sites in _groups(change_inputs(summaries), "outcome"):
        for method in methods:
            for test in tests:
                fit = pool_estimates(sites["yi"], sites["sei"], method=method, test=test,
                                     level=level, labels=sites["site"]).pooled.iloc[0]
                rows.append({"outcome": outcome, "comparison": comparison, "method": method,
                             "test": test, "k": len(sites), "n": int(sites["n"].sum()),
                             **{c: fit[c] for c in CHANGE_COLUMNS[6:]}})
    return pd.DataFrame(rows, columns=list(CHANGE_COLUMNS))


def responder_inputs(summaries: Sequence[dict]) -> pd.DataFrame:
    """Per site, criterion and comparison: events and n (sites with n > 0)."""
    rows = [{"site": s["site"], **row} for s in summaries for row in s["responders"]]
    frame = pd.DataFrame(rows, columns=["site", "criterion", "comparison", "events", "n"])
    return frame[frame["n"] > 0]


def _pool_responders(sites: pd.DataFrame, level: float):
    """The primary fit of one criterion: logit, REML, HKSJ."""
    with warnings.catch_warnings():  # 1/2 added to a site with 0 or n events
        warnings.simplefilter("ignore", ContinuityCorrectionWarning)
        return pool_proportions(sites["events"], sites["n"], method="REML", test="knha",
                                level=level, labels=sites["site"])


def pooled_responders(summaries: Sequence[dict], *, level: float = 0.95) -> pd.DataFrame:
    """Pooled proportion per responder criterion and comparison (:data:`RESPONDER_COLUMNS`):
    :func:`helpers.meta.pool_proportions` on the logit scale, REML, HKSJ, for the
    criteria and comparisons at least two sites share."""
    rows = []
    for criterion, comparison, sites in _groups(responder_inputs(summaries), "criterion"):
        fit = _pool_responders(sites, level).pooled.iloc[0]
        rows.append({"criterion": criterion, "comparison": comparison,
                     **{c: fit[c] for c in RESPONDER_COLUMNS[2:]}})
    return pd.DataFrame(rows, columns=list(RESPONDER_COLUMNS))


def pooled_responders_bayes(summaries: Sequence[dict], *, level: float = 0.95,
                            tau_scale: float = 0.5) -> pd.DataFrame:
    """The same proportions pooled by :func:`helpers.meta.pool_proportions_bayes`
    (half-normal prior on tau), a sensitivity analysis for few sites."""
    rows = []
    for criterion, comparison, sites in _groups(responder_inputs(summaries), "criterion"):
        with warnings.catch_warnings():  # 1/2 added to a site with 0 or n events
            warnings.simplefilter("ignore", ContinuityCorrectionWarning)
            fit = pool_proportions_bayes(sites["events"], sites["n"], tau_scale=tau_scale,
                                         level=level, labels=sites["site"]).pooled.iloc[0]
        rows.append({"criterion": criterion, "comparison": comparison, **fit.to_dict()})
    return pd.DataFrame(rows)


def articular_studies(summaries: Sequence[dict]) -> pd.DataFrame:
    """Each site's articular response as a study of the paper's review.

    The sites' EULAR good-or-moderate responses (:data:`ARTICULAR_CRITERION`) at their
    latest comparison, as rows of ``studies.csv`` (``study, design, n, events,
    outcome_definition``).
    """
    rows = []
    for summary in summaries:
        mine = [row for row in summary["responders"]
                if row["criterion"] == ARTICULAR_CRITERION and row["n"] > 0]
        if mine:
            last = mine[-1]
            rows.append({"study": summary["site"], "design": "site summary",
                         "n": last["n"], "events": last["events"],
                         "outcome_definition": "EULAR good or moderate response (DAS28), "
                                               f"{last['comparison']}"})
    return pd.DataFrame(rows, columns=["study", "design", "n", "events",
                                       "outcome_definition"])


# --- figures and words -----------------------------------------------------------------


def last_comparisons(frame: pd.DataFrame, key: str) -> list[tuple[str, str]]:
    """For each ``key`` value (outcome or criterion) of a pooled table, in order, its last
    comparison (the latest follow-up the sites share): what the forest plots show."""
    # A dict keeps each key where it first appears, with the last comparison assigned.
    return list(dict(frame[[key, "comparison"]].itertuples(index=False, name=None)).items())


def change_forest(summaries: Sequence[dict], outcome: str, comparison: str, *,
                  level: float = 0.95, max_sites: int = MAX_FOREST_SITES
                  ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A forest plot's rows for one pooled mean change (``scale="difference"``).

    Returns
    -------
    studies, pooled : DataFrame
        One row per site (``study, n, estimate, ci_low, ci_high, weight``: the site's mean
        change with its Wald interval and its REML weight); the pooled rows, REML with
        HKSJ (the primary result, with its prediction interval), then with Wald. No
        site rows above ``max_sites`` sites.
    """
    sites = _sites(change_inputs(summaries), "outcome", outcome, comparison)
    rows = []
    for test, name in (("knha", "Pooled (REML, HKSJ)"), ("z", "Pooled (REML, Wald)")):
        fit = pool_estimates(sites["yi"], sites["sei"], method="REML", test=test,
                             level=level, labels=sites["site"])
        rows.append({**fit.pooled.iloc[0].to_dict(), "label": name,
                     "n": int(sites["n"].sum())})
    studies = fit.studies.rename(columns={"yi": "estimate"}).assign(n=sites["n"].to_numpy())
    pooled = pd.DataFrame(rows)
    if len(studies) > max_sites:
        studies = studies.iloc[:0]
        pooled["label"] = pooled["label"].str.replace("Pooled (", f"{len(sites)} sites (")
    studies.attrs["level"] = pooled.attrs["level"] = level
    return studies, pooled


def responder_forest(summaries: Sequence[dict], criterion: str, comparison: str, *,
                     level: float = 0.95, max_sites: int = MAX_FOREST_SITES
                     ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A forest plot's rows for one pooled responder proportion: the sites with exact
    (Clopper-Pearson) intervals and REML weights (none above ``max_sites`` sites), the
    REML HKSJ pooled row."""
    sites = _sites(responder_inputs(summaries), "criterion", criterion, comparison)
    fit = _pool_responders(sites, level)
    studies = fit.studies.assign(proportion=fit.studies["observed"],
                                 ci_low=fit.studies["cp_low"], ci_high=fit.studies["cp_high"])
    pooled = fit.pooled.assign(label="Pooled (REML, logit, HKSJ)")
    if len(studies) > max_sites:
        studies = studies.iloc[:0]
        pooled["label"] = f"{len(sites)} sites (REML, logit, HKSJ)"
    studies.attrs["level"] = pooled.attrs["level"] = level
    return studies, pooled


def _i2_words(i2: float) -> str:
    # Cochrane Handbook 10.10.2's overlapping bands, read at their centres.
    if i2 < 30:
        return "little"
    if i2 < 60:
        return "moderate"
    return "substantial"


def heterogeneity_paragraph(changes: pd.DataFrame, responders: pd.DataFrame,
                            summaries: Sequence[dict], *, level: float = 0.95) -> str:
    """Between-site heterogeneity in words, one sentence per pooled outcome and criterion
    (REML with HKSJ, the primary analysis): the pooled estimate, I² and tau², and the
    prediction interval, where a new site's result would be expected."""
    names = {entry["code"]: entry["label"] for summary in summaries
             for entry in summary["codebook"]}
    criteria = dict(RESPONDER_CRITERIA)
    ci = f"{format_level(level)} CI"
    sentences = []
    # The latest comparison of each outcome and criterion, as the forest plots show.
    changes = changes.merge(pd.DataFrame(last_comparisons(changes, "outcome"),
                                         columns=["outcome", "comparison"]))
    responders = responders.merge(pd.DataFrame(last_comparisons(responders, "criterion"),
                                               columns=["criterion", "comparison"]))
    primary = changes[(changes["method"] == "REML") & (changes["test"] == "knha")]
    for row in primary.itertuples(index=False):
        sentences.append(
            f"{names.get(row.outcome, row.outcome)}, {row.comparison} ({row.k} sites, "
            f"{row.n:,} patients): mean change {_g(row.estimate)} ({ci} {_g(row.ci_low)} "
            f"to {_g(row.ci_high)}), {_i2_words(row.i2)} heterogeneity between sites "
            f"(I² {row.i2:.0f}%, τ² {_g(row.tau2)}); a new site's mean change would be "
            f"expected between {_g(row.pi_low)} and {_g(row.pi_high)}.")
    for row in responders.itertuples(index=False):
        sentences.append(
            f"{criteria.get(row.criterion, row.criterion)}, {row.comparison} ({row.k} "
            f"sites): {100 * row.estimate:.0f}% ({ci} {100 * row.ci_low:.0f}% to "
            f"{100 * row.ci_high:.0f}%), {_i2_words(row.i2)} heterogeneity (I² "
            f"{row.i2:.0f}%); a new site's proportion would be expected between "
            f"{100 * row.pi_low:.0f}% and {100 * row.pi_high:.0f}%.")
    if not sentences:
        return "No outcome or criterion is shared by two sites: nothing was pooled."
    return ("With few sites τ² is estimated imprecisely and I² can swing widely; the "
            "prediction intervals (t-based, as HKSJ) carry that uncertainty.\n\n"
            + "\n\n".join(f"- {sentence}" for sentence in sentences))


def _g(value: float) -> str:
    return f"{float(round_significant(value)):.3g}".replace("-", "\u2212")


def sites_table(summaries: Sequence[dict]) -> pd.DataFrame:
    """One row per site: its name, the patients with a pair (the largest n of its
    comparisons), the outcomes and criteria it shares, the software version and the
    start of its input's SHA-256."""
    return pd.DataFrame([{
        "site": s["site"],
        "patients": max((row["n"] for row in s["outcomes"]), default=0),
        "outcomes": ", ".join(dict.fromkeys(row["outcome"] for row in s["outcomes"])),
        "comparisons": ", ".join(dict.fromkeys(row["comparison"] for row in s["outcomes"])),
        "criteria": len({row["criterion"] for row in s["responders"]}),
        "version": s["software"]["version"],
        "input_sha256": s["input"]["sha256"][:12],
    } for s in summaries])
