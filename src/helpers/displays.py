"""The main result tables as every reader sees them: one definition each.

The notebooks display these tables (and the report embeds what they display), and
``tables.docx`` (:mod:`helpers.pipeline.word`) writes them as Word tables: both call the
functions here, so that a column, label or interval shown in one is shown in the other.
Each takes the result frame as its CSV holds it and returns a :class:`helpers.tables.Table`.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from helpers.formats import format_level, percent
from helpers.tables import Table, table
from helpers.vocab import MEASURES, Measure, measure_name

#: The statistics of a pre/post comparison, in the order a reader takes them in.
PREPOST_COLUMNS = ["n", "pre_mean", "post_mean", "change_mean", "change_ci", "t_p_value",
                   "wilcoxon_p_value", "sign_test_p_value", "hl_estimate", "hl_ci",
                   "hl_ci_level", "cohen_dz", "p_value_holm"]


def cohort_table(summary: pd.DataFrame) -> Table:
    """The cohort summary (``cohort_summary.csv``): one row per characteristic, by section."""
    return table(summary, columns=["characteristic", "value"], group="section")


def prepost_table(prepost: pd.DataFrame,
                  codebook: Mapping[str, Measure] = MEASURES) -> Table:
    """The pre/post comparisons (``prepost.csv``): one column per outcome and comparison,
    the outcomes under their codebook names."""
    named = prepost.assign(outcome=[measure_name(code, codebook) for code in prepost["outcome"]])
    return table(named.set_index(["outcome", "comparison"]), transpose=True,
                 columns=PREPOST_COLUMNS,
                 intervals={"change_ci": ("change_ci_low", "change_ci_high"),
                            "hl_ci": ("hl_ci_low", "hl_ci_high")})


def responders_summary_table(summary: pd.DataFrame) -> Table:
    """The response criteria (``responders_summary.csv``): patients meeting each, with the
    interval of the proportion at the table's ``ci_level``."""
    return table(summary, columns=["description", "events", "n", "proportion", "ci", "method"],
                 intervals={"ci": ("ci_low", "ci_high")}, labels={"description": "Criterion"})


def pooled_table(pooled: pd.DataFrame, level: float = 0.95) -> Table:
    """The pooled estimates of the review (``meta_pooled.csv``), by analysis set; ``level``
    is the one they were computed at (the CSV does not record it)."""
    return table(pooled, group="analysis", decimals={"i2": 1},
                 columns=["transform", "method", "test", "k", "estimate", "ci", "pi", "tau2",
                          "i2", "q", "q_p_value"],
                 intervals={"ci": ("ci_low", "ci_high"), "pi": ("pi_low", "pi_high")},
                 labels={"ci": f"{format_level(level)} CI", "pi": f"{format_level(level)} PI",
                         "tau2": "τ²", "i2": "I² (%)", "q": "Q", "q_p_value": "p (Q)"})


def pooled_changes_table(changes: pd.DataFrame, level: float = 0.95,
                         codebook: Mapping[str, Measure] = MEASURES) -> Table:
    """The mean changes pooled across sites (``pooled_changes.csv``), by outcome and
    comparison: every method and test, HKSJ first."""
    named = changes.assign(outcome=[f"{measure_name(code, codebook)}, {comparison}"
                                    for code, comparison in zip(changes["outcome"],
                                                                changes["comparison"],
                                                                strict=True)])
    return table(named, group="outcome", decimals={"i2": 1},
                 columns=["method", "test", "k", "n", "estimate", "ci", "pi", "tau2", "i2",
                          "q"],
                 intervals={"ci": ("ci_low", "ci_high"), "pi": ("pi_low", "pi_high")},
                 labels={"k": "Sites", "estimate": "Mean change", "ci": f"{format_level(level)} CI",
                         "pi": f"{format_level(level)} PI", "tau2": "τ²", "i2": "I² (%)",
                         "q": "Q"})


def pooled_responders_table(responders: pd.DataFrame, level: float = 0.95,
                            descriptions: Mapping[str, str] | None = None) -> Table:
    """The responder proportions pooled across sites (``pooled_responders.csv``): REML,
    logit, HKSJ, one row per criterion and comparison; ``descriptions`` names the
    criteria (:data:`helpers.scores.RESPONDER_CRITERIA`)."""
    described = responders.assign(criterion=[(descriptions or {}).get(c, c)
                                             for c in responders["criterion"]])
    return table(described, group="comparison", decimals={"i2": 1},
                 columns=["criterion", "k", "events", "n", "estimate", "ci", "pi", "i2"],
                 intervals={"ci": ("ci_low", "ci_high"), "pi": ("pi_low", "pi_high")},
                 labels={"criterion": "Criterion", "k": "Sites", "estimate": "Proportion",
                         "ci": f"{format_level(level)} CI", "pi": f"{format_level(level)} PI",
                         "i2": "I² (%)"})


def review_studies_table(review: pd.DataFrame, level: float = 0.95) -> Table:
    """The review's studies (``studies.csv``), each with its proportion and interval."""
    return table(review, columns=["study", "design", "n", "events", "outcome_definition",
                                  "proportion", "ci"],
                 intervals={"ci": ("ci_low", "ci_high")}, level=level)


def bayes_table(bayes: pd.DataFrame) -> Table:
    """The Bayesian pooled estimates (``meta_bayes.csv``), by analysis set, at the level
    and threshold its columns record."""
    level = format_level(float(bayes["level"].iloc[0]))
    threshold = percent(float(bayes["threshold"].iloc[0]))
    return table(bayes, group="analysis",
                 columns=["prior", "k", "estimate", "ci", "pi", "tau", "tau_ci", "prob_above"],
                 intervals={"ci": ("ci_low", "ci_high"), "pi": ("pi_low", "pi_high"),
                            "tau_ci": ("tau_ci_low", "tau_ci_high")},
                 labels={"estimate": "median", "ci": f"{level} CrI", "pi": f"{level} PI",
                         "tau": "τ", "tau_ci": f"τ {level} CrI",
                         "prob_above": f"P(> {threshold})"})
