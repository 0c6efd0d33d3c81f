"""Bayesian random-effects pooling (helpers.meta.pool_proportions_bayes), two ways.

1. Against R's bayesmeta 3.4 (Röver 2020), on the review's study sets and metafor's
   dat.pritz1997, for half-normal priors of scale 0.5 and 1 and a uniform or normal prior
   for mu. bayesmeta approximates the marginal posterior of mu by a discrete mixture
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

import numpy as np
import pytest
from scipy import special, stats

from helpers.meta import BAYES_COLUMNS, _escalc, pool_proportions_bayes

PRITZ_XI = [16, 10, 4, 43, 10, 25, 13, 12, 22, 4, 5, 18, 58, 6]
PRITZ_NI = [17, 12, 8, 58, 10, 42, 14, 12, 41, 5, 6, 23, 68, 10]
SETS = {"review": ([2, 13, 3], [3, 25, 3]), "review_cs": ([2, 13, 3, 4], [3, 25, 3, 4]),
        "resolution": ([2, 13], [3, 25]), "pritz": (PRITZ_XI, PRITZ_NI)}
# (set, tau scale, mu prior sd): estimate, ci_low, ci_high, pi_low, pi_high, tau,
# tau_ci_low, tau_ci_high, prob_above (0.5)
BAYESMETA = {
    ("review", 0.5, None): [0.582201646863, 0.350493073542, 0.813489198615, 0.273773128541,
                            0.870981076591, 0.318509407555, 0.0148453976973, 1.05242020375,
                            0.760662731551],
    ("review", 0.5, 2): [0.577104814757, 0.352953198146, 0.797071042854, 0.274529489498,
                         0.858646585585, 0.311700878434, 0.0145119689739, 1.03588988192,
                         0.753664537324],
    ("review", 1, None): [0.598048458232, 0.307081238018, 0.883194113295, 0.162645131763,
                          0.948895789731, 0.550497431227, 0.0257486746115, 1.89180801818,
                          0.761735919585],
    ("review", 1, 2): [0.588440492664, 0.315063230335, 0.851248431392, 0.165950014747,
                       0.933728989459, 0.525200364866, 0.0244510919038, 1.82928386259,
                       0.751023993655],
    ("review_cs", 0.5, None): [0.622176798923, 0.401606352712, 0.840461383355,
                               0.317732931631, 0.895863768532, 0.343599167557,
                               0.0163020473209, 1.07414597633, 0.863254262205],
    ("review_cs", 1, None): [0.645608411351, 0.379142606884, 0.898741312628, 0.209936286494,
                             0.958783733583, 0.59136308405, 0.0293377259429, 1.85653059119,
                             0.866434253902],
    ("resolution", 0.5, None): [0.542346568786, 0.292923531705, 0.785989079009,
                                0.222767973857, 0.844910283033, 0.310060781924,
                                0.0143674645965, 1.05029788579, 0.635871790408],
    ("resolution", 1, None): [0.548342330686, 0.213821570683, 0.867017381954,
                              0.105692803731, 0.93849983332, 0.545121839042,
                              0.0249344496896, 1.96713683957, 0.628163278208],
    ("pritz", 0.5, None): [0.750219931251, 0.660436162949, 0.83742919514, 0.468914534973,
                           0.922267362056, 0.533591757736, 0.17069358885, 1.00273537887,
                           0.999990059809],
    ("pritz", 0.5, 2): [0.747285507158, 0.657849986176, 0.833202262045, 0.466194018202,
                        0.919719266158, 0.529020781241, 0.166969772016, 0.995913628238,
                        0.999988355714],
    ("pritz", 1, None): [0.756123602939, 0.657818370878, 0.851106743692, 0.41892228971,
                         0.941099479997, 0.627088156026, 0.220514392832, 1.25252147447,
                         0.999948315249],
    ("pritz", 1, 2): [0.75248941577, 0.654529711486, 0.845598466952, 0.415756454678,
                      0.938296904768, 0.620450017431, 0.216037785435, 1.24083750354,
                      0.999938888488],
}
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
    (dict(level=1.5), "level must be a number in \\(0, 1\\)"),
    (dict(threshold=1), "threshold must be a proportion in \\(0, 1\\)"),
])
def test_options_are_checked(kwargs, message):
    with pytest.raises(ValueError, match=message):
        pool_proportions_bayes([2, 13, 3], [3, 25, 3], **kwargs)
