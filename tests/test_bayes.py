"""Bayesian random-effects pooling (helpers.meta.pool_proportions_bayes), two ways.

1. Against R's bayesmeta 3.4 (Röver 2020), on the review's study sets and metafor's
   dat.pritz1997, for half-normal priors of scale 0.5 and 1 and a uniform or normal prior
   for mu (tests/reference/bayesmeta.csv, made by tests/reference/bayesmeta.R). bayesmeta approximates the marginal posterior of mu by a discrete mixture
   (DIRECT, Röver & Friede 2017) whose accuracy its ``delta`` and ``epsilon`` set; the
   references were made with delta = 1e-5, epsilon = 1e-7 (its defaults, 0.01 and 1e-4,
   leave the quantiles of mu a relative 1e-3 off). For each case:

       es <- escalc(measure = "PLO", xi = xi, ni = ni)
       bm <- bayesmeta(y = es$yi, sigma = sqrt(es$vi),
                       tau.prior = function(t) dhalfnormal(t, scale = s),
                       mu.prior.mean = 0, mu.prior.sd = sd,   # NA, NA for uniform
                       interval.type = "central", delta = 1e-5, epsilon = 1e-7)
       c(plogis(bm$qposterior(mu.p = c(0.5, 0.025, 0.975))),
         plogis(bm$qposterior(mu.p = c(0.025, 0.975), predict = TRUE)),
         bm$qposterior(tau.p = c(0.5, 0.025, 0.975)), 1 - bm$pposterior(mu = 0))

2. Against a brute-force integration of the joint posterior over (mu, tau) on a tensor
   Gauss-Legendre grid, which does not use the conditional normal form of mu: the
   probabilities of the reported quantiles must be their levels to 1e-6.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import special, stats

from helpers.meta import BAYES_COLUMNS, _escalc, pool_proportions_bayes

PRITZ_XI = [16, 10, 4, 43, 10, 25, 13, 12, 22, 4, 5, 18, 58, 6]
PRITZ_NI = [17, 12, 8, 58, 10, 42, 14, 12, 41, 5, 6, 23, 68, 10]
SETS = {"review": ([2, 13, 3], [3, 25, 3]), "review_cs": ([2, 13, 3, 4], [3, 25, 3, 4]),
        "resolution": ([2, 13], [3, 25]), "pritz": (PRITZ_XI, PRITZ_NI)}
# estimate, ci_low, ci_high, pi_low, pi_high, tau, tau_ci_low, tau_ci_high, prob_above (of
# 0.5) per study set, tau scale and mu prior sd (empty: uniform), made by the R script
# beside it.
REFERENCE = pd.read_csv(Path(__file__).parent / "reference" / "bayesmeta.csv")
BAYESMETA = {(row.set, row.tau_scale, None if pd.isna(row.mu_sd) else row.mu_sd):
             [getattr(row, c) for c in ["estimate", "ci_low", "ci_high", "pi_low", "pi_high",
                                         "tau", "tau_ci_low", "tau_ci_high", "prob_above"]]
             for row in REFERENCE.itertuples(index=False)}
COLUMNS = ["estimate", "ci_low", "ci_high", "pi_low", "pi_high", "tau", "tau_ci_low",
           "tau_ci_high", "prob_above"]

pytestmark = pytest.mark.filterwarnings("ignore::helpers.meta.ContinuityCorrectionWarning")


@pytest.mark.parametrize("case", sorted(BAYESMETA, key=str), ids=str)
def test_agrees_with_bayesmeta(case):
    name, scale, mu_sd = case
    events, n = SETS[name]
    row = pool_proportions_bayes(events, n, tau_scale=scale, mu_sd=mu_sd).pooled.iloc[0]
    # bayesmeta's mixture at delta = 1e-5 is itself accurate to about 1e-6 (the exact
    # values are checked against the brute-force integration below).
    assert row[COLUMNS].astype(float).tolist() == pytest.approx(BAYESMETA[case], rel=1e-5)


def _joint(events, n, scale, mu_sd):
    yi, vi, _ = _escalc(np.asarray(events, float), np.asarray(n, float), "logit")

    def density(mu, tau):  # prior x likelihood on a grid of (mu, tau)
        log = -0.5 * (tau / scale) ** 2
        if mu_sd is not None:
            log = log + stats.norm.logpdf(mu, 0, mu_sd)
        s2 = vi[:, None, None] + tau[None] ** 2
        log = log + (-0.5 * np.log(2 * np.pi * s2)
                     - 0.5 * (yi[:, None, None] - mu[None]) ** 2 / s2).sum(axis=0)
        return np.exp(log)
    return density


def _gauss_legendre(low, high, panels=150, nodes=12):
    """Composite Gauss-Legendre nodes and weights on [low, high]."""
    x, w = special.roots_legendre(nodes)
    edges = np.linspace(low, high, panels + 1)
    half, centre = np.diff(edges) / 2, (edges[1:] + edges[:-1]) / 2
    return ((centre[:, None] + half[:, None] * x).ravel(),
            (half[:, None] * w).ravel())


@pytest.mark.parametrize("case", [("review", 0.5, None), ("review_cs", 1, None),
                                  ("resolution", 0.5, 2), ("pritz", 1, None)], ids=str)
def test_agrees_with_a_brute_force_two_dimensional_integration(case):
    """Mass of the joint posterior of (mu, tau) integrated on a tensor grid, without
    the conditional normal form of mu that the implementation uses."""
    name, scale, mu_sd = case
    events, n = SETS[name]
    row = pool_proportions_bayes(events, n, tau_scale=scale, mu_sd=mu_sd).pooled.iloc[0]
    density = _joint(events, n, scale, mu_sd)
    # Beyond these the joint density is below 1e-40 of its maximum here.
    tau_max, mu_low, mu_high = 15 * scale, -15.0, 15.0

    def mass(mu_top=mu_high, tau_top=tau_max):
        mu, mu_w = _gauss_legendre(mu_low, mu_top)
        tau, tau_w = _gauss_legendre(0.0, tau_top)
        grid = density(mu[:, None], tau[None, :])
        return float(mu_w @ grid @ tau_w)

    total = mass()
    # The median and the interval of mu (logit of the pooled proportion) ...
    for column, level in (("estimate", 0.5), ("ci_low", 0.025), ("ci_high", 0.975)):
        assert mass(mu_top=special.logit(row[column])) / total == pytest.approx(
            level, abs=1e-6), column
    # ... of tau ...
    for column, level in (("tau", 0.5), ("tau_ci_low", 0.025), ("tau_ci_high", 0.975)):
        assert mass(tau_top=row[column]) / total == pytest.approx(level, abs=1e-6), column
    # ... and the probability that the pooled proportion exceeds 1/2.
    assert 1 - mass(mu_top=0.0) / total == pytest.approx(row["prob_above"], abs=1e-6)


def test_result_layout_and_densities():
    result = pool_proportions_bayes([2, 13, 3, 4], [3, 25, 3, 4], tau_scale=1.0,
                                    analysis="review+case_series", threshold=0.6)
    assert list(result.pooled.columns) == list(BAYES_COLUMNS)
    row = result.pooled.iloc[0]
    assert (row["prior"], row["mu_prior"], row["k"], row["events"], row["n"]) == (
        "half-normal(1)", "uniform", 4, 22, 35)
    assert row["ci_low"] < row["estimate"] < row["ci_high"]
    assert row["pi_low"] < row["ci_low"] and row["ci_high"] < row["pi_high"]
    # The densities integrate to 1 (trapezoid on fine grids).
    p = np.linspace(1e-6, 1 - 1e-6, 20_001)
    assert np.trapezoid(result.proportion_density(p), p) == pytest.approx(1, abs=1e-5)
    t = np.linspace(0, 20, 20_001)
    assert np.trapezoid(result.tau_density(t), t) == pytest.approx(1, abs=1e-5)


@pytest.mark.parametrize(("kwargs", "message"), [
    (dict(tau_scale=0), "tau_scale must be a positive number"),
    (dict(mu_sd=-1), "mu_sd must be None or a positive number"),
    (dict(level=1.5), "level must be a number strictly between 0 and 1"),
    (dict(threshold=1), "threshold must be a number strictly between 0 and 1 \\(such as 0.5\\)"),
])
def test_options_are_checked(kwargs, message):
    with pytest.raises(ValueError, match=message):
        pool_proportions_bayes([2, 13, 3], [3, 25, 3], **kwargs)
