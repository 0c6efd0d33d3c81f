"""Tests for helpers.meta.pool_proportions against R's metafor 3.8-1.

Reference values come from the R script in the comment below, pasted unrounded.

Data: the review table of Cassone et al. 2025 (Maicas 2024: 2/3 with resolution of
arthritis; Tani 2024: 13/25 resolution; Ceccarelli 2025: 3/3 with DAS28 reduction in all
patients), the same plus the paper's case series (4/4 responders, Table 2), and metafor's
``dat.pritz1997`` (Pritz 1997, 14 studies; data copied below), plus edge cases.

Tolerances:

- inverse-variance models (FE, DL, REML): ``rtol=1e-9, atol=1e-10`` on every quantity
  (yi, vi, per-study proportions and CIs, weights, mu, se, estimate, CI, PI, tau2, I^2 in
  percent, H^2, Q, its p-value). FE and DL are closed form; REML is compared with metafor
  run to ``threshold=1e-12`` (metafor's default 1e-5 stops about 2e-6 short in tau2).
  Observed agreement is about 1e-14.
- GLMM: ``atol=1e-5`` on mu, se, tau2 and the proportions, ``atol=1e-4`` on I^2 (percent)
  and ``rtol=1e-6`` on the LRT Q and its p-value; lme4's optimiser run with bobyqa to
  ``rhoend=1e-12`` (its default stops about 1e-5 short). Observed agreement is about 1e-7.
- Clopper-Pearson: ``rtol=1e-9`` against ``binom.test``.
"""

# Reference values (R 4.2.2, metafor 3.8-1, lme4 1.1-31), produced by this R script
# and pasted unrounded (printed with %.17g, shown as the same doubles in Python repr);
# re-run it with Rscript to regenerate every literal.
#
#     library(metafor)  # version 3.8-1; rma.glmm(method = "ML") fits with lme4
#     num <- function(v) if (length(v) == 1) sprintf("%.17g", v) else
#       paste0("[", paste(sprintf("%.17g", v), collapse = ", "), "]")
#     emit <- function(key, fields)  # one Python dict entry: key: dict(name=value, ...),
#       cat(sprintf("    %s: dict(%s),\n", key,
#                   paste(names(fields), sapply(fields, num), sep = "=", collapse = ", ")))
#     cases <- list(
#       review3 = list(x = c(2, 13, 3), n = c(3, 25, 3)),
#       review4 = list(x = c(2, 13, 3, 4), n = c(3, 25, 3, 4)),
#       pritz1997 = list(x = dat.pritz1997$xi, n = dat.pritz1997$ni),
#       k1 = list(x = 3, n = 10),
#       all_zero = list(x = c(0, 0, 0), n = c(5, 10, 20)),
#       identical = list(x = c(3, 3, 3), n = c(10, 10, 10)))
#     label <- c(PLO = "logit", PFT = "ft")
#     back <- function(dat, meas, n, ...)  # per study: own n for Freeman-Tukey
#       if (meas == "PLO") summary(dat, transf = transf.ilogit, ...) else
#         summary(dat, transf = transf.ipft, ni = n, ...)
#     pred <- function(res, meas, n)  # pooled: harmonic mean of n for Freeman-Tukey
#       if (meas == "PLO") predict(res, transf = transf.ilogit) else
#         predict(res, transf = transf.ipft.hm, targs = list(ni = n))
#     pooled <- function(res, p) list(  # FE models have no PI in predict(): it is the CI
#       estimate = p$pred, ci_low = p$ci.lb, ci_high = p$ci.ub,
#       pi_low = if (is.null(p$pi.lb)) p$ci.lb else p$pi.lb,
#       pi_high = if (is.null(p$pi.ub)) p$ci.ub else p$pi.ub,
#       mu = res$b[1], se = res$se, tau2 = res$tau2, i2 = res$I2, h2 = res$H2)
#     cat("R_STUDIES = {\n")
#     for (cn in names(cases)) for (meas in c("PLO", "PFT")) {
#       x <- cases[[cn]]$x; n <- cases[[cn]]$n
#       dat <- escalc(measure = meas, xi = x, ni = n)
#       s <- back(dat, meas, n)
#       emit(sprintf('("%s", "%s")', cn, label[meas]), list(
#         yi = dat$yi, vi = dat$vi, proportion = s$yi, ci_low = s$ci.lb, ci_high = s$ci.ub))
#     }
#     cat("}\n\nR_POOLED = {\n")
#     for (cn in names(cases)) for (meas in c("PLO", "PFT")) for (meth in c("FE", "DL", "REML")) {
#       x <- cases[[cn]]$x; n <- cases[[cn]]$n
#       dat <- escalc(measure = meas, xi = x, ni = n)
#       # REML run to convergence: the default threshold 1e-5 stops ~2e-6 short in tau2.
#       res <- rma(yi, vi, data = dat, method = meth,
#                  control = list(threshold = 1e-12, maxiter = 10000))
#       emit(sprintf('("%s", "%s", "%s")', cn, label[meas], meth), c(
#         list(weight = weights(res)), pooled(res, pred(res, meas, n)),
#         list(q = res$QE, q_p_value = res$QEp)))
#     }
#     cat("}\n\nR_GLMM = {\n")
#     for (cn in c("review3", "review4", "pritz1997")) {
#       x <- cases[[cn]]$x; n <- cases[[cn]]$n
#       # lme4 optimiser tightened: its default stops ~1e-5 short in tau2.
#       res <- rma.glmm(measure = "PLO", xi = x, ni = n, method = "ML", control = list(
#         glmerCtrl = list(optimizer = "bobyqa", optCtrl = list(rhoend = 1e-12, maxfun = 1e5))))
#       emit(sprintf('"%s"', cn), c(pooled(res, pred(res, "PLO", n)),
#                                   list(q = res$QE.LRT, q_p_value = res$QEp.LRT)))
#     }
#     cat("}\n\nR_CLOPPER_PEARSON = {\n")
#     for (cn in c("review4", "all_zero")) {
#       x <- cases[[cn]]$x; n <- cases[[cn]]$n
#       ci <- sapply(seq_along(x), function(i) binom.test(x[i], n[i])$conf.int)
#       emit(sprintf('"%s"', cn), list(cp_low = ci[1, ], cp_high = ci[2, ]))
#     }
#     cat("}\n\nR_LEVEL90 = {\n")  # review4, DL, level = 90
#     for (meas in c("PLO", "PFT")) {
#       x <- cases$review4$x; n <- cases$review4$n
#       dat <- escalc(measure = meas, xi = x, ni = n)
#       s <- back(dat, meas, n, level = 90)
#       p <- pred(rma(yi, vi, data = dat, method = "DL", level = 90), meas, n)
#       emit(sprintf('"%s"', label[meas]), list(
#         study_ci_low = s$ci.lb, study_ci_high = s$ci.ub, ci_low = p$ci.lb, ci_high = p$ci.ub,
#         pi_low = p$pi.lb, pi_high = p$pi.ub))
#     }
#     cat("}\n")

from __future__ import annotations

import doctest
import math
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from helpers import meta
from helpers.io import write_csv
from helpers.meta import (
    LEAVE_ONE_OUT_COLUMNS,
    POOLED_COLUMNS,
    STUDY_COLUMNS,
    ContinuityCorrectionWarning,
    PooledProportions,
    leave_one_out,
    pool_proportions,
)

# metafor's dat.pritz1997 (Pritz 1997): xi, ni for 14 studies.
PRITZ_XI = [16, 10, 4, 43, 10, 25, 13, 12, 22, 4, 5, 18, 58, 6]
PRITZ_NI = [17, 12, 8, 58, 10, 42, 14, 12, 41, 5, 6, 23, 68, 10]

CASES = {
    "review3": ([2, 13, 3], [3, 25, 3]),
    "review4": ([2, 13, 3, 4], [3, 25, 3, 4]),
    "pritz1997": (PRITZ_XI, PRITZ_NI),
    "k1": ([3], [10]),
    "all_zero": ([0, 0, 0], [5, 10, 20]),
    "identical": ([3, 3, 3], [10, 10, 10]),
}

IV_TOL = dict(rtol=1e-9, atol=1e-10)

# Zero-cell corrections are expected in most cases here; their warning has its own test.
pytestmark = pytest.mark.filterwarnings("ignore::helpers.meta.ContinuityCorrectionWarning")


R_STUDIES = {
    ("review3", "logit"): dict(
        yi=[0.6931471805599452, 0.08004270767353656, 1.9459101490553132],
        vi=[1.5, 0.16025641025641024, 2.2857142857142856],
        proportion=[0.6666666666666666, 0.52, 0.875],
        ci_low=[0.1535131211739351, 0.33079959659830854, 0.26555817271811466],
        ci_high=[0.9566281032788424, 0.7036325581952452, 0.9926749054912373],
    ),
    ("review3", "ft"): dict(
        yi=[0.9162978572970231, 0.8046479485616542, 1.308996938995747],
        vi=[0.07142857142857142, 0.00980392156862745, 0.07142857142857142],
        proportion=[0.6666666666666665, 0.5200000000000002, 1.0],
        ci_low=[0.05887248033525355, 0.32202266154471726, 0.49971129103264683],
        ci_high=[1.0, 0.7149867223018761, 1.0],
    ),
    ("review4", "logit"): dict(
        yi=[0.6931471805599452, 0.08004270767353656, 1.9459101490553132, 2.1972245773362196],
        vi=[1.5, 0.16025641025641024, 2.2857142857142856, 2.2222222222222223],
        proportion=[0.6666666666666666, 0.52, 0.875, 0.8999999999999999],
        ci_low=[0.1535131211739351, 0.33079959659830854, 0.26555817271811466, 0.3263990359568071],
        ci_high=[0.9566281032788424, 0.7036325581952452, 0.9926749054912373, 0.9940533709129094],
    ),
    ("review4", "ft"): dict(
        yi=[0.9162978572970231, 0.8046479485616542, 1.308996938995747, 1.3389725222944935],
        vi=[0.07142857142857142, 0.00980392156862745, 0.07142857142857142, 0.05555555555555555],
        proportion=[0.6666666666666665, 0.5200000000000002, 1.0, 1.0],
        ci_low=[0.05887248033525355, 0.32202266154471726, 0.49971129103264683, 0.6114880425791462],
        ci_high=[1.0, 0.7149867223018761, 1.0, 1.0],
    ),
    ("pritz1997", "logit"): dict(
        yi=[2.772588722239781, 1.6094379124341007, 0.0, 1.0531499145913525, 3.044522437723424,
            0.38566248081198456, 2.564949357461537, 3.2188758248682015, 0.14660347419187544,
            1.3862943611198908, 1.6094379124341007, 1.2809338454620645, 1.7578579175523734,
            0.4054651081081642],
        vi=[1.0625, 0.6, 0.5, 0.08992248062015504, 2.0952380952380953, 0.0988235294117647,
            1.0769230769230769, 2.08, 0.09808612440191387, 1.25, 1.2, 0.25555555555555554,
            0.11724137931034484, 0.41666666666666663],
        proportion=[0.9411764705882353, 0.8333333333333334, 0.5, 0.7413793103448276,
            0.9545454545454545, 0.5952380952380952, 0.9285714285714286, 0.9615384615384615,
            0.5365853658536585, 0.8, 0.8333333333333334, 0.782608695652174, 0.8529411764705881,
            0.6],
        ci_low=[0.6796805413542041, 0.5227982652768053, 0.20006249320420802, 0.6142977387195114,
            0.5516864197473312, 0.44263473038631584, 0.6297159911935645, 0.59680631290742,
            0.38527163601208086, 0.30895442762570346, 0.3687472097280245, 0.5720262436705777,
            0.7477703425377551, 0.2974049108491526],
        ci_high=[0.9917795292283683, 0.9580177536445644, 0.799937506795792, 0.8376554364286396,
            0.9972173305064705, 0.731412504452786, 0.9900373553079407, 0.9976372795686094,
            0.6814489945353599, 0.9728169075534755, 0.9771674501107465, 0.9065097554036576,
            0.9190091538067259, 0.8416579886376584],
    ),
    ("pritz1997", "ft"): dict(
        yi=[1.2819073096527314, 1.1187212829291615, 0.7853981633974483, 1.0326894500169623,
            1.417657642210062, 0.8789931264359736, 1.2533215339261292, 1.43027887604349,
            0.8211530938056015, 1.0527893048177204, 1.0950266627869918, 1.0720045036500236,
            1.170160443475441, 0.8772135155976999],
        vi=[0.014285714285714285, 0.02, 0.029411764705882353, 0.004273504273504274,
            0.023809523809523808, 0.0058823529411764705, 0.017241379310344827, 0.02,
            0.006024096385542169, 0.045454545454545456, 0.038461538461538464, 0.010638297872340425,
            0.0036496350364963502, 0.023809523809523808],
        proportion=[0.9411764705882353, 0.8333333333333335, 0.5, 0.7413793103448276, 1.0,
            0.5952380952380953, 0.9285714285714286, 1.0, 0.536585365853658, 0.8,
            0.8333333333333333, 0.7826086956521738, 0.8529411764705883, 0.6000000000000001],
        ci_low=[0.7645710884415071, 0.5605110393530279, 0.15324916432428637, 0.6200564271967521,
            0.8348288736913805, 0.4420623286583032, 0.7184130503915923, 0.8614349888272232,
            0.38190259334808885, 0.32487301888361386, 0.41402527027282304, 0.5876265101607316,
            0.7576340449339807, 0.27623416820384944],
        ci_high=[1.0, 0.9958812837215456, 0.8467508356757136, 0.846913420584805, 1.0,
            0.7398538920813055, 1.0, 1.0, 0.6879013358009771, 1.0, 1.0, 0.9313785754931665,
            0.9284937357613392, 0.8868511216383561],
    ),
    ("k1", "logit"): dict(
        yi=-0.8472978603872036, vi=0.47619047619047616, proportion=0.30000000000000004,
        ci_low=0.09976831557167737, ci_high=0.6236819273451222,
    ),
    ("k1", "ft"): dict(
        yi=0.5983760463866399, vi=0.023809523809523808, proportion=0.2999999999999998,
        ci_low=0.04966277451118423, ci_high=0.6252735442750762,
    ),
    ("all_zero", "logit"): dict(
        yi=[-2.3978952727983707, -3.044522437723423, -3.713572066704308],
        vi=[2.1818181818181817, 2.0952380952380953, 2.048780487804878],
        proportion=[0.08333333333333331, 0.045454545454545456, 0.023809523809523805],
        ci_low=[0.005001745943428998, 0.0027826694935295074, 0.0014730021253051126],
        ci_high=[0.6217924876972497, 0.448313580252669, 0.2873753746567418],
    ),
    ("all_zero", "ft"): dict(
        yi=[0.21026716764198256, 0.15313868458483473, 0.10999398869772971],
        vi=[0.045454545454545456, 0.023809523809523808, 0.012195121951219513],
        proportion=[0.0, 0.0, 0.0],
        ci_low=[0.0, 0.0, 0.0],
        ci_high=[0.31725113829387547, 0.1651711263086197, 0.08425337138285521],
    ),
    ("identical", "logit"): dict(
        yi=[-0.8472978603872036, -0.8472978603872036, -0.8472978603872036],
        vi=[0.47619047619047616, 0.47619047619047616, 0.47619047619047616],
        proportion=[0.30000000000000004, 0.30000000000000004, 0.30000000000000004],
        ci_low=[0.09976831557167737, 0.09976831557167737, 0.09976831557167737],
        ci_high=[0.6236819273451222, 0.6236819273451222, 0.6236819273451222],
    ),
    ("identical", "ft"): dict(
        yi=[0.5983760463866399, 0.5983760463866399, 0.5983760463866399],
        vi=[0.023809523809523808, 0.023809523809523808, 0.023809523809523808],
        proportion=[0.2999999999999998, 0.2999999999999998, 0.2999999999999998],
        ci_low=[0.04966277451118423, 0.04966277451118423, 0.04966277451118423],
        ci_high=[0.6252735442750762, 0.6252735442750762, 0.6252735442750762],
    ),
}

R_POOLED = {
    ("review3", "logit", "FE"): dict(
        weight=[9.077499148984455, 84.96539203449449, 5.957108816521048],
        estimate=0.5614007847087213, ci_low=0.3831069102749968, ci_high=0.7251353783999629,
        pi_low=0.3831069102749968, pi_high=0.7251353783999629, mu=0.24684901483733535,
        se=0.36900201521775833, tau2=0.0, i2=0.0, h2=0.7846953825937703, q=1.5693907651875405,
        q_p_value=0.4562586649503522,
    ),
    ("review3", "logit", "DL"): dict(
        weight=[9.077499148984455, 84.96539203449449, 5.957108816521048],
        estimate=0.5614007847087213, ci_low=0.3831069102749968, ci_high=0.7251353783999629,
        pi_low=0.3831069102749968, pi_high=0.7251353783999629, mu=0.24684901483733535,
        se=0.36900201521775833, tau2=0.0, i2=0.0, h2=1.0, q=1.5693907651875405,
        q_p_value=0.4562586649503522,
    ),
    ("review3", "logit", "REML"): dict(
        weight=[9.077499148984455, 84.96539203449449, 5.957108816521048],
        estimate=0.5614007847087213, ci_low=0.3831069102749968, ci_high=0.7251353783999629,
        pi_low=0.3831069102749968, pi_high=0.7251353783999629, mu=0.24684901483733535,
        se=0.36900201521775833, tau2=0.0, i2=0.0, h2=1.0, q=1.5693907651875405,
        q_p_value=0.4562586649503522,
    ),
    ("review3", "ft", "FE"): dict(
        weight=[10.76923076923077, 78.46153846153847, 10.76923076923077],
        estimate=0.6032448510365385, ci_low=0.39589151381421295, ci_high=0.7968744913419317,
        pi_low=0.39589151381421295, pi_high=0.7968744913419317, mu=0.870986291549135,
        se=0.08770580193070295, tau2=0.0, i2=36.78027584600623, h2=1.5817848201364337,
        q=3.1635696402728675, q_p_value=0.20560779758228268,
    ),
    ("review3", "ft", "DL"): dict(
        weight=[20.91250128134558, 58.17499743730884, 20.91250128134558],
        estimate=0.676669302945176, ci_low=0.3443731261336777, ci_high=0.9450807415038008,
        pi_low=0.19312503094481115, pi_high=1.0, mu=0.9334687262435428, se=0.14184447915816958,
        tau2=0.024781135851158733, i2=36.78027584600623, h2=1.5817848201364337,
        q=3.1635696402728675, q_p_value=0.20560779758228268,
    ),
    ("review3", "ft", "REML"): dict(
        weight=[21.196177491207035, 57.60764501758592, 21.196177491207035],
        estimate=0.6786839171303386, ci_low=0.3420403701152389, ci_high=0.9488022707996505,
        pi_low=0.18638641985675225, pi_high=1.0, mu=0.9352161685734948, se=0.1437563294903326,
        tau2=0.02606958491167457, i2=37.96655507533113, h2=1.6120336396186978,
        q=3.1635696402728675, q_p_value=0.20560779758228268,
    ),
    ("review4", "logit", "FE"): dict(
        weight=[8.553405324494815, 80.05987383727147, 5.613172244199722, 5.773548594034],
        estimate=0.5889084732784102, ci_low=0.4151811160063624, ci_high=0.7429765470293869,
        pi_low=0.4151811160063624, pi_high=0.7429765470293869, mu=0.3594548957043724,
        se=0.35819140116343134, tau2=0.0, i2=5.729871922515678, h2=1.0607814165459293,
        q=3.182344249637788, q_p_value=0.36435665647711907,
    ),
    ("review4", "logit", "DL"): dict(
        weight=[10.838574556517635, 74.52105962299774, 7.220090941531455, 7.420274878953166],
        estimate=0.6078568679117731, ci_low=0.4086331012249032, ci_high=0.7766490044935648,
        pi_low=0.3734996142602513, pi_high=0.8012073547268324, mu=0.43831253360919586,
        se=0.41221751239014537, tau2=0.0677640692976406, i2=5.729871922515677,
        h2=1.0607814165459293, q=3.182344249637788, q_p_value=0.36435665647711907,
    ),
    ("review4", "logit", "REML"): dict(
        weight=[16.121398860933127, 61.07620342773728, 11.260592775947229, 11.541804935382363],
        estimate=0.6532492334323268, ci_low=0.3945172330590846, ci_high=0.8448895154249152,
        pi_low=0.2886434118378088, pi_high=0.8974021120103111, mu=0.6333524610185121,
        se=0.5417016580318259, tau2=0.3201936993539808, i2=22.3119824818146, h2=1.2871997921248506,
        q=3.182344249637788, q_p_value=0.36435665647711907,
    ),
    ("review4", "ft", "FE"): dict(
        weight=[9.45945945945946, 68.91891891891892, 9.45945945945946, 12.162162162162163],
        estimate=0.6706472414562968, ci_low=0.47738743983789417, ci_high=0.843627299938762,
        pi_low=0.47738743983789417, pi_high=0.843627299938762, mu=0.9279035358289756,
        se=0.08219949365267865, tau2=0.0, i2=54.72595325368819, h2=2.208770966738165,
        q=6.6263129002144945, q_p_value=0.08481195000882469,
    ),
    ("review4", "ft", "DL"): dict(
        weight=[19.285764108198833, 39.23619485286086, 19.285764108198833, 22.192276930741468],
        estimate=0.7966656971821588, ci_low=0.4477665075657135, ci_high=0.999985823837259,
        pi_low=0.18613810202630227, pi_high=1.0, mu=1.0420268322763735, se=0.15288432511358294,
        tau2=0.04976764736941258, i2=54.725953253688196, h2=2.208770966738165,
        q=6.6263129002144945, q_p_value=0.08481195000882469,
    ),
    ("review4", "ft", "REML"): dict(
        weight=[19.09291704062898, 39.769080100888026, 19.09291704062898, 22.04508581785402],
        estimate=0.7946185914567974, ci_low=0.45118759926592206, ci_high=0.9996587742581962,
        pi_low=0.19685596258348775, pi_high=1.0, mu=1.0400524181765545, se=0.15043579088141962,
        tau2=0.04710191361968225, i2=53.358749700585676, h2=2.144024856924895,
        q=6.6263129002144945, q_p_value=0.08481195000882469,
    ),
    ("pritz1997", "logit", "FE"): dict(
        weight=[1.7299414866579592, 3.063438049290136, 3.6761256591481635, 20.440526294401426,
            0.8772572595694479, 18.59944529926154, 1.706772627461647, 0.8836840526798468,
            18.73927470151137, 1.4704502636592653, 1.531719024645068, 7.19241976789858,
            15.677594722837753, 4.411350790977797],
        estimate=0.7193652722349184, ci_low=0.6627543634984959, ci_high=0.7697744015866186,
        pi_low=0.6627543634984959, pi_high=0.7697744015866186, mu=0.9413153343241499,
        se=0.1355751758093672, tau2=0.0, i2=56.354479658373826, h2=2.291185881558312,
        q=29.785416460258055, q_p_value=0.005056641177659884,
    ),
    ("pritz1997", "logit", "DL"): dict(
        weight=[4.0750386112145875, 6.035091789796116, 6.735577403974336, 12.853465764337288,
            2.362056753816986, 12.604956105055038, 4.034179829705781, 2.376798669301061,
            12.625178167474823, 3.6009200202856557, 3.7162189518971176, 9.40360133900842,
            12.120084851813266, 7.456831742319537],
        estimate=0.7573066148413106, ci_low=0.6605669374182043, ci_high=0.8334276307967056,
        pi_low=0.46714462561405956, pi_high=0.917401208636152, mu=1.1379693537080857,
        se=0.24089608681658245, tau2=0.361558277235463, i2=56.354479658373826,
        h2=2.291185881558312, q=29.785416460258055, q_p_value=0.005056641177659884,
    ),
    ("pritz1997", "logit", "REML"): dict(
        weight=[4.0860538688250845, 6.045232656116302, 6.744436693656652, 12.829539973037562,
            2.3705570385837804, 12.583114477376725, 4.04517074329348, 2.385333670553129,
            12.603169318582932, 3.6115456937015087, 3.726960940550484, 9.402918999028804,
            12.102126745746652, 7.463839180946895],
        estimate=0.7574792950891536, ci_low=0.6605219651047755, ci_high=0.8337162014237663,
        pi_low=0.4661345726257387, pi_high=0.9178500393234653, mu=1.1389091159858893,
        se=0.24147789834556962, tau2=0.3645877786092507, i2=56.55960299634027,
        h2=2.302004744375961, q=29.785416460258055, q_p_value=0.005056641177659884,
    ),
    ("pritz1997", "ft", "FE"): dict(
        weight=[5.255255255255255, 3.7537537537537538, 2.5525525525525525, 17.567567567567565,
            3.153153153153153, 12.762762762762764, 4.354354354354354, 3.7537537537537538,
            12.462462462462462, 1.6516516516516515, 1.951951951951952, 7.057057057057057,
            20.57057057057057, 3.153153153153153],
        estimate=0.7816891615991486, ci_low=0.7310631643167409, ci_high=0.8289658675420555,
        pi_low=0.7310631643167409, pi_high=0.8289658675420555, mu=1.0610948302846233,
        se=0.027399831217559553, tau2=0.0, i2=67.95375994625043, h2=3.1204908854291467,
        q=40.56638151057891, q_p_value=0.00011200906361182795,
    ),
    ("pritz1997", "ft", "DL"): dict(
        weight=[7.375503764330691, 6.407472331994857, 5.268541638829497, 10.030744376257983,
            5.89193026417185, 9.482206230406042, 6.840926019362143, 6.407472331994857,
            9.436740573127013, 4.043444272394433, 4.499512673811401, 8.162653748477917,
            10.260921510669462, 5.89193026417185],
        estimate=0.8023350441889809, ci_low=0.7046677867282031, ci_high=0.8866007413809907,
        pi_low=0.4791486451431167, pi_high=0.9965378131966223, mu=1.0840411781446746,
        se=0.052817210470621656, tau2=0.023537569533748318, i2=67.95375994625043,
        h2=3.1204908854291467, q=40.56638151057891, q_p_value=0.00011200906361182795,
    ),
    ("pritz1997", "ft", "REML"): dict(
        weight=[7.391151044404317, 6.468202652634876, 5.364812723186571, 9.855032882333118,
            5.971118655226216, 9.353973522156396, 6.883139445267792, 6.468202652634876,
            9.312260275410033, 4.156279207041349, 4.608843642498817, 8.131783995273159,
            10.064080646706268, 5.971118655226216],
        estimate=0.8028998887863115, ci_low=0.7022056417349258, ci_high=0.889346782690558,
        pi_low=0.4646304862694465, pi_high=0.998942036480408, mu=1.0846791843165942,
        se=0.054405162875762025, tau2=0.025761116441403494, i2=69.88685950519145,
        h2=3.320809399379644, q=40.56638151057891, q_p_value=0.00011200906361182795,
    ),
    ("k1", "logit", "FE"): dict(
        weight=100.0, estimate=0.30000000000000004, ci_low=0.09976831557167737,
        ci_high=0.6236819273451222, pi_low=0.09976831557167737, pi_high=0.6236819273451222,
        mu=-0.8472978603872034, se=0.6900655593423541, tau2=0.0, i2=0.0, h2=1.0, q=0.0,
        q_p_value=1.0,
    ),
    ("k1", "logit", "DL"): dict(
        weight=100.0, estimate=0.30000000000000004, ci_low=0.09976831557167737,
        ci_high=0.6236819273451222, pi_low=0.09976831557167737, pi_high=0.6236819273451222,
        mu=-0.8472978603872034, se=0.6900655593423541, tau2=0.0, i2=0.0, h2=1.0, q=0.0,
        q_p_value=1.0,
    ),
    ("k1", "logit", "REML"): dict(
        weight=100.0, estimate=0.30000000000000004, ci_low=0.09976831557167737,
        ci_high=0.6236819273451222, pi_low=0.09976831557167737, pi_high=0.6236819273451222,
        mu=-0.8472978603872034, se=0.6900655593423541, tau2=0.0, i2=0.0, h2=1.0, q=0.0,
        q_p_value=1.0,
    ),
    ("k1", "ft", "FE"): dict(
        weight=100.0, estimate=0.2999999999999998, ci_low=0.04966277451118423,
        ci_high=0.6252735442750762, pi_low=0.04966277451118423, pi_high=0.6252735442750762,
        mu=0.5983760463866399, se=0.1543033499620919, tau2=0.0, i2=0.0, h2=1.0, q=0.0,
        q_p_value=1.0,
    ),
    ("k1", "ft", "DL"): dict(
        weight=100.0, estimate=0.2999999999999998, ci_low=0.04966277451118423,
        ci_high=0.6252735442750762, pi_low=0.04966277451118423, pi_high=0.6252735442750762,
        mu=0.5983760463866399, se=0.1543033499620919, tau2=0.0, i2=0.0, h2=1.0, q=0.0,
        q_p_value=1.0,
    ),
    ("k1", "ft", "REML"): dict(
        weight=100.0, estimate=0.2999999999999998, ci_low=0.04966277451118423,
        ci_high=0.6252735442750762, pi_low=0.04966277451118423, pi_high=0.6252735442750762,
        mu=0.5983760463866399, se=0.1543033499620919, tau2=0.0, i2=0.0, h2=1.0, q=0.0,
        q_p_value=1.0,
    ),
    ("all_zero", "logit", "FE"): dict(
        weight=[32.19308247814519, 33.52337514253135, 34.28354237932345],
        estimate=0.04454332391794667, ci_low=0.008938994559910405, ci_high=0.19417585884862534,
        pi_low=0.008938994559910405, pi_high=0.19417585884862534, mu=-3.065727134283378,
        se=0.8380898083116721, tau2=0.0, i2=0.0, h2=0.20474302662676772, q=0.40948605325353543,
        q_p_value=0.8148566859803574,
    ),
    ("all_zero", "logit", "DL"): dict(
        weight=[32.19308247814519, 33.52337514253135, 34.28354237932345],
        estimate=0.04454332391794667, ci_low=0.008938994559910405, ci_high=0.19417585884862534,
        pi_low=0.008938994559910405, pi_high=0.19417585884862534, mu=-3.065727134283378,
        se=0.8380898083116721, tau2=0.0, i2=0.0, h2=1.0, q=0.40948605325353543,
        q_p_value=0.8148566859803574,
    ),
    ("all_zero", "logit", "REML"): dict(
        weight=[32.19308247814519, 33.52337514253135, 34.28354237932345],
        estimate=0.04454332391794667, ci_low=0.008938994559910405, ci_high=0.19417585884862534,
        pi_low=0.008938994559910405, pi_high=0.19417585884862534, mu=-3.065727134283378,
        se=0.8380898083116721, tau2=0.0, i2=0.0, h2=1.0, q=0.40948605325353543,
        q_p_value=0.8148566859803574,
    ),
    ("all_zero", "ft", "FE"): dict(
        weight=[15.068493150684931, 28.767123287671232, 56.16438356164384],
        estimate=0.0, ci_low=0.0, ci_high=0.04698620271053022, pi_low=0.0,
        pi_high=0.04698620271053022, mu=0.13751513365685286, se=0.08276058886023681, tau2=0.0,
        i2=0.0, h2=0.09440139536859608, q=0.18880279073719217, q_p_value=0.9099174522776592,
    ),
    ("all_zero", "ft", "DL"): dict(
        weight=[15.068493150684931, 28.767123287671232, 56.16438356164384],
        estimate=0.0, ci_low=0.0, ci_high=0.04698620271053022, pi_low=0.0,
        pi_high=0.04698620271053022, mu=0.13751513365685286, se=0.08276058886023681, tau2=0.0,
        i2=0.0, h2=1.0, q=0.18880279073719217, q_p_value=0.9099174522776592,
    ),
    ("all_zero", "ft", "REML"): dict(
        weight=[15.068493150684931, 28.767123287671232, 56.16438356164384],
        estimate=0.0, ci_low=0.0, ci_high=0.04698620271053022, pi_low=0.0,
        pi_high=0.04698620271053022, mu=0.13751513365685286, se=0.08276058886023681, tau2=0.0,
        i2=0.0, h2=1.0, q=0.18880279073719217, q_p_value=0.9099174522776592,
    ),
    ("identical", "logit", "FE"): dict(
        weight=[33.33333333333333, 33.33333333333333, 33.33333333333333],
        estimate=0.30000000000000004, ci_low=0.1640817279269227, ci_high=0.4833987250405341,
        pi_low=0.1640817279269227, pi_high=0.4833987250405341, mu=-0.8472978603872034,
        se=0.3984095364447979, tau2=0.0, i2=0.0, h2=0.0, q=0.0, q_p_value=1.0,
    ),
    ("identical", "logit", "DL"): dict(
        weight=[33.33333333333333, 33.33333333333333, 33.33333333333333],
        estimate=0.30000000000000004, ci_low=0.1640817279269227, ci_high=0.4833987250405341,
        pi_low=0.1640817279269227, pi_high=0.4833987250405341, mu=-0.8472978603872034,
        se=0.3984095364447979, tau2=0.0, i2=0.0, h2=1.0, q=0.0, q_p_value=1.0,
    ),
    ("identical", "logit", "REML"): dict(
        weight=[33.33333333333333, 33.33333333333333, 33.33333333333333],
        estimate=0.30000000000000004, ci_low=0.1640817279269227, ci_high=0.4833987250405341,
        pi_low=0.1640817279269227, pi_high=0.4833987250405341, mu=-0.8472978603872034,
        se=0.3984095364447979, tau2=0.0, i2=0.0, h2=1.0, q=0.0, q_p_value=1.0,
    ),
    ("identical", "ft", "FE"): dict(
        weight=[33.33333333333333, 33.33333333333333, 33.33333333333333],
        estimate=0.2999999999999998, ci_low=0.13867917123326584, ci_high=0.4864018673132555,
        pi_low=0.13867917123326584, pi_high=0.4864018673132555, mu=0.5983760463866399,
        se=0.0890870806374748, tau2=0.0, i2=0.0, h2=0.0, q=0.0, q_p_value=1.0,
    ),
    ("identical", "ft", "DL"): dict(
        weight=[33.33333333333333, 33.33333333333333, 33.33333333333333],
        estimate=0.2999999999999998, ci_low=0.13867917123326584, ci_high=0.4864018673132555,
        pi_low=0.13867917123326584, pi_high=0.4864018673132555, mu=0.5983760463866399,
        se=0.0890870806374748, tau2=0.0, i2=0.0, h2=1.0, q=0.0, q_p_value=1.0,
    ),
    ("identical", "ft", "REML"): dict(
        weight=[33.33333333333333, 33.33333333333333, 33.33333333333333],
        estimate=0.2999999999999998, ci_low=0.13867917123326584, ci_high=0.4864018673132555,
        pi_low=0.13867917123326584, pi_high=0.4864018673132555, mu=0.5983760463866399,
        se=0.0890870806374748, tau2=0.0, i2=0.0, h2=1.0, q=0.0, q_p_value=1.0,
    ),
}

R_GLMM = {
    "review3": dict(
        estimate=0.5806451615297606, ci_low=0.4042090344412075, ci_high=0.7386188860744011,
        pi_low=0.4042090344412075, pi_high=0.7386188860744011, mu=0.3254224014179612,
        se=0.36397613809716634, tau2=0.0, i2=0.0, h2=1.0, q=3.728706735025286,
        q_p_value=0.15499640319702124,
    ),
    "review4": dict(
        estimate=0.7614298971321392, ci_low=0.2971103463270034, ci_high=0.9601576138444926,
        pi_low=0.18084357206686916, pi_high=0.9787872620313272, mu=1.160534909678419,
        se=1.031463452368114, tau2=0.7934997908355711, i2=41.579732850902914,
        h2=1.7117347263199831, q=7.74337969782345, q_p_value=0.05162395191274845,
    ),
    "pritz1997": dict(
        estimate=0.7984444002535825, ci_low=0.6924023342804023, ci_high=0.8745525654454902,
        pi_low=0.4425844358458279, pi_high=0.9518405385365025, mu=1.376600062403171,
        se=0.2883856648342282, tau2=0.589325227453521, i2=67.78952656872971, h2=3.1045802606216544,
        q=42.23239802523367, q_p_value=6.0002983757726965e-05,
    ),
}

R_CLOPPER_PEARSON = {
    "review4": dict(
        cp_low=[0.09429932405024613, 0.3130570444570322, 0.2924017738212867, 0.3976353643835254],
        cp_high=[0.9915962413403874, 0.7220319903300535, 1.0, 1.0],
    ),
    "all_zero": dict(
        cp_low=[0.0, 0.0, 0.0],
        cp_high=[0.5218237501049814, 0.30849710781876083, 0.16843347098308536],
    ),
}

R_LEVEL90 = {
    "logit": dict(
        study_ci_low=[0.2105889780411881, 0.3592949138512768, 0.3679841077324718,
            0.436647714247834],
        study_ci_high=[0.9374779078755966, 0.6766701986845348, 0.988257111631397,
            0.990521707453208],
        ci_low=0.4403541368625597, ci_high=0.7533110521798363, pi_low=0.4100869194492673,
        pi_high=0.7756042443212456,
    ),
    "ft": dict(
        study_ci_low=[0.13263752387231825, 0.352804189421863, 0.6078219088661814,
            0.6989590292623282],
        study_ci_high=[1.0, 0.6850821388699632, 1.0, 1.0],
        ci_low=0.5062692917876622, ci_high=0.9900635503944812, pi_low=0.27719721461638747,
        pi_high=1.0,
    ),
}


def _pool(case, **kwargs):
    events, n = CASES[case]
    return pool_proportions(events, n, **kwargs)


@pytest.mark.parametrize(("case", "transform"), sorted(R_STUDIES))
def test_studies_match_escalc_summary(case, transform):
    studies = _pool(case, transform=transform, method="FE").studies
    ref = R_STUDIES[case, transform]
    for column in ("yi", "vi", "proportion", "ci_low", "ci_high"):
        np.testing.assert_allclose(studies[column], ref[column], **IV_TOL, err_msg=column)


@pytest.mark.parametrize(("case", "transform", "method"), sorted(R_POOLED))
def test_pooled_matches_rma(case, transform, method):
    result = _pool(case, transform=transform, method=method)
    pooled = result.pooled.iloc[0]
    ref = R_POOLED[case, transform, method]
    np.testing.assert_allclose(result.studies["weight"], ref["weight"], **IV_TOL)
    assert result.mu == pytest.approx(ref["mu"], rel=1e-9, abs=1e-10)
    assert result.se == pytest.approx(ref["se"], rel=1e-9, abs=1e-10)
    assert result.h2 == pytest.approx(ref["h2"], rel=1e-9, abs=1e-10)
    for column in ("estimate", "ci_low", "ci_high", "pi_low", "pi_high", "tau2", "i2", "q",
                   "q_p_value"):
        assert pooled[column] == pytest.approx(ref[column], rel=1e-9, abs=1e-10), column
    assert pooled["q_df"] == len(CASES[case][0]) - 1


@pytest.mark.parametrize("case", sorted(R_GLMM))
def test_glmm_matches_rma_glmm(case):
    result = _pool(case, transform="logit", method="GLMM")
    pooled = result.pooled.iloc[0]
    ref = R_GLMM[case]
    assert result.mu == pytest.approx(ref["mu"], abs=1e-5)
    assert result.se == pytest.approx(ref["se"], abs=1e-5)
    assert result.h2 == pytest.approx(ref["h2"], abs=1e-5)
    for column in ("estimate", "ci_low", "ci_high", "pi_low", "pi_high", "tau2"):
        assert pooled[column] == pytest.approx(ref[column], abs=1e-5), column
    assert pooled["i2"] == pytest.approx(ref["i2"], abs=1e-4)
    assert pooled["q"] == pytest.approx(ref["q"], rel=1e-6)
    assert pooled["q_p_value"] == pytest.approx(ref["q_p_value"], rel=1e-6)
    assert result.studies["weight"].isna().all()


@pytest.mark.parametrize("transform", sorted(R_LEVEL90))
def test_level_is_used_everywhere(transform):
    result = _pool("review4", transform=transform, method="DL", level=0.90)
    ref = R_LEVEL90[transform]
    np.testing.assert_allclose(result.studies["ci_low"], ref["study_ci_low"], **IV_TOL)
    np.testing.assert_allclose(result.studies["ci_high"], ref["study_ci_high"], **IV_TOL)
    for column in ("ci_low", "ci_high", "pi_low", "pi_high"):
        assert result.pooled.loc[0, column] == pytest.approx(ref[column], rel=1e-9), column
    assert result.level == 0.90


@pytest.mark.parametrize("case", sorted(R_CLOPPER_PEARSON))
def test_clopper_pearson_matches_binom_test(case):
    studies = _pool(case, transform="ft", method="FE").studies
    ref = R_CLOPPER_PEARSON[case]
    np.testing.assert_allclose(studies["cp_low"], ref["cp_low"], rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(studies["cp_high"], ref["cp_high"], rtol=1e-9, atol=1e-12)


# --- structure -----------------------------------------------------------------------


def test_result_structure_and_contract_columns():
    labels = ["Maicas 2024", "Tani 2024", "Ceccarelli 2025", "Case series"]
    result = pool_proportions(
        [2, 13, 3, 4], [3, 25, 3, 4], transform="ft", method="REML", labels=labels,
        analysis="review + case series",
    )
    assert isinstance(result, PooledProportions)
    # The contract (docs/architecture.md) of meta_pooled.csv, in order and nothing else.
    assert list(result.pooled.columns) == [
        "analysis", "transform", "method", "test", "k", "events", "n", "estimate", "ci_low",
        "ci_high", "pi_low", "pi_high", "tau2", "tau2_ci_low", "tau2_ci_high", "i2",
        "i2_ci_low", "i2_ci_high", "q", "q_df", "q_p_value", "h2", "q_wald", "q_wald_p_value",
    ]
    assert list(result.pooled.columns) == list(POOLED_COLUMNS)
    assert len(result.pooled) == 1
    row = result.pooled.iloc[0]
    assert (row["analysis"], row["transform"], row["method"]) == (
        "review + case series", "ft", "REML",
    )
    assert (row["k"], row["events"], row["n"], row["q_df"]) == (4, 22, 35, 3)
    assert list(result.studies.columns) == list(STUDY_COLUMNS)
    assert result.studies["study"].tolist() == labels
    assert result.studies["events"].tolist() == [2, 13, 3, 4]
    np.testing.assert_allclose(result.studies["observed"], [2 / 3, 13 / 25, 1, 1])
    assert result.studies["weight"].sum() == pytest.approx(100)


def test_default_labels_and_analysis():
    result = pool_proportions([2, 13], [3, 25], transform="ft", method="DL")
    assert result.studies["study"].tolist() == ["Study 1", "Study 2"]
    assert result.pooled.loc[0, "analysis"] == "pooled"


def test_summary_frame_has_one_row_per_study_plus_pooled():
    result = _pool("review4", transform="ft", method="REML", analysis="all four")
    frame = result.summary_frame()
    assert frame["row"].tolist() == ["study"] * 4 + ["pooled"]
    assert frame["study"].iloc[-1] == "all four"
    np.testing.assert_allclose(frame["estimate"].iloc[:4], result.studies["proportion"])
    np.testing.assert_allclose(frame["weight"].iloc[:4], result.studies["weight"])
    pooled = result.pooled.iloc[0]
    last = frame.iloc[-1]
    for column in ("estimate", "ci_low", "ci_high", "pi_low", "pi_high"):
        assert last[column] == pooled[column]
    assert (last["events"], last["n"], last["weight"]) == (22, 35, 100.0)
    assert frame["pi_low"].iloc[:4].isna().all()


@pytest.mark.parametrize("transform", ["logit", "ft"])
def test_fixed_effect_prediction_interval_is_the_confidence_interval(transform):
    pooled = _pool("pritz1997", transform=transform, method="FE").pooled.iloc[0]
    assert (pooled["pi_low"], pooled["pi_high"]) == (pooled["ci_low"], pooled["ci_high"])
    assert pooled["tau2"] == 0


# --- edge cases ----------------------------------------------------------------------


@pytest.mark.parametrize("method", ["FE", "DL", "REML"])
def test_single_study(method):
    # metafor with k = 1: tau2 = 0, Q = 0 on 0 df with p = 1, I^2 = 0, H^2 = 1.
    result = pool_proportions(3, 10, transform="ft", method=method)
    row = result.pooled.iloc[0]
    assert (row["k"], row["tau2"], row["q"], row["q_df"], row["q_p_value"], row["i2"]) == (
        1, 0.0, 0.0, 0, 1.0, 0.0,
    )
    assert result.h2 == 1.0
    assert result.studies["weight"].tolist() == [100.0]
    assert row["estimate"] == pytest.approx(0.3, abs=1e-12)  # Miller's inversion is exact


def test_all_zero_events_are_corrected_and_pooled_near_zero():
    with pytest.warns(ContinuityCorrectionWarning, match="3 of 3 studies"):
        result = _pool("all_zero", transform="logit", method="REML")
    assert result.studies["correction"].tolist() == [0.5, 0.5, 0.5]
    # (0 + 1/2) / (n + 1): the corrected proportions, as metafor's summary shows.
    np.testing.assert_allclose(result.studies["proportion"], [0.5 / 6, 0.5 / 11, 0.5 / 21])
    ft = _pool("all_zero", transform="ft", method="REML").pooled.iloc[0]
    # Freeman-Tukey: the back-transform clips to 0 below transf.pft(0, n_harmonic).
    assert ft["estimate"] == 0.0
    assert ft["ci_low"] == 0.0
    assert 0 < ft["ci_high"] < 0.2


@pytest.mark.parametrize("method", ["DL", "REML"])
def test_identical_studies_have_no_heterogeneity(method):
    pooled = _pool("identical", transform="logit", method=method).pooled.iloc[0]
    assert (pooled["tau2"], pooled["i2"], pooled["q"], pooled["q_p_value"]) == (0, 0, 0, 1)
    assert pooled["estimate"] == pytest.approx(0.3, rel=1e-12)


def test_glmm_identical_studies_is_the_logistic_common_effect():
    # rma.glmm refuses this data set (lme4: "Response is constant"); by hand, tau2 = 0 and
    # mu = logit(9/30) with se = 1/sqrt(N p (1 - p)), the common-effect logistic model.
    result = _pool("identical", transform="logit", method="GLMM")
    assert result.tau2 == 0.0
    assert result.mu == pytest.approx(math.log(0.3 / 0.7), abs=1e-8)
    assert result.se == pytest.approx(1 / math.sqrt(30 * 0.3 * 0.7), rel=1e-5)
    assert result.pooled.loc[0, "q"] == pytest.approx(0, abs=1e-12)


def test_continuity_correction_warning_only_when_applied():
    with pytest.warns(ContinuityCorrectionWarning, match="1 of 3 studies"):
        result = _pool("review3", transform="logit", method="DL")
    assert result.studies["correction"].tolist() == [0.0, 0.0, 0.5]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _pool("review3", transform="ft", method="DL")
        _pool("review3", transform="logit", method="GLMM")
        pool_proportions([2, 13], [3, 25], transform="logit", method="DL")


def test_reml_falls_back_to_direct_maximisation(monkeypatch):
    monkeypatch.setattr(meta, "_REML_MAXITER", 1)
    with pytest.warns(RuntimeWarning, match="did not converge"):
        result = _pool("pritz1997", transform="logit", method="REML")
    ref = R_POOLED["pritz1997", "logit", "REML"]
    assert result.tau2 == pytest.approx(ref["tau2"], abs=1e-7)


def test_array_likes_are_accepted():
    events = pd.Series([2, 13, 3]), np.array([2.0, 13.0, 3.0]), (2, 13, 3)
    expected = _pool("review3", transform="ft", method="REML").pooled
    for values in events:
        got = pool_proportions(values, np.array([3, 25, 3]), transform="ft", method="REML")
        pd.testing.assert_frame_equal(got.pooled, expected)


# --- validation ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (dict(events=[4, 1], n=[3, 5]), r"events must be <= n \(got events=\[4\.0\] > n=\[3\.0\]"),
        (dict(events=[-1, 1], n=[3, 5]), r"events must be >= 0"),
        (dict(events=[1, 1], n=[0, 5]), r"n must be >= 1"),
        (dict(events=[1, 2, 3], n=[3, 5]), r"same length \(got 3 and 2\)"),
        (dict(events=[], n=[]), r"at least one study"),
        (dict(events=[1.5], n=[3]), r"events must be whole numbers"),
        (dict(events=[np.nan], n=[3]), r"events must be finite"),
        (dict(events=["a"], n=[3]), r"events must be whole numbers"),
        (dict(events=[[1, 2]], n=[[3, 4]]), r"events must be a scalar or one-dimensional"),
        (dict(events=[1], n=[3], labels=["a", "b"]), r"labels must have one entry per study"),
        (
            dict(events=[1], n=[3], transform="arcsine"),
            r"transform must be one of \('logit', 'ft'\) \(got 'arcsine'\)",
        ),
        (
            dict(events=[1], n=[3], method="PM"),
            r"method must be one of \('FE', 'DL', 'REML', 'GLMM'\) \(got 'PM'\)",
        ),
        (dict(events=[1], n=[3], level=95), r"level must be a number in \(0, 1\)"),
        (dict(events=[1], n=[3], level=0), r"level must be a number in \(0, 1\)"),
        (
            dict(events=[1, 2], n=[3, 4], method="GLMM", transform="ft"),
            r"transform must be 'logit'",
        ),
        (dict(events=[1], n=[3], method="GLMM"), r"GLMM' needs at least 2 studies"),
        (dict(events=[0, 0], n=[3, 4], method="GLMM"), r"no finite estimate"),
        (dict(events=[3, 4], n=[3, 4], method="GLMM"), r"no finite estimate"),
    ],
)
def test_invalid_input_raises_value_error_naming_the_argument(kwargs, message):
    events, n = kwargs.pop("events"), kwargs.pop("n")
    with pytest.raises(ValueError, match=message):
        pool_proportions(events, n, **kwargs)


# --- properties ----------------------------------------------------------------------


@st.composite
def _studies(draw):
    k = draw(st.integers(1, 8))
    n = draw(st.lists(st.integers(1, 200), min_size=k, max_size=k))
    events = [draw(st.integers(0, size)) for size in n]
    return events, n


@settings(max_examples=60, deadline=None)
@given(
    data=_studies(),
    transform=st.sampled_from(["logit", "ft"]),
    method=st.sampled_from(["FE", "DL", "REML"]),
)
def test_intervals_are_ordered_and_bounded(data, transform, method):
    events, n = data
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ContinuityCorrectionWarning)
        result = pool_proportions(events, n, transform=transform, method=method)
    row = result.pooled.iloc[0]
    tol = 1e-12
    assert 0 <= row["pi_low"] <= row["ci_low"] + tol
    assert row["ci_low"] <= row["estimate"] + tol
    assert row["estimate"] <= row["ci_high"] + tol
    assert row["ci_high"] <= row["pi_high"] + tol <= 1 + 2 * tol
    assert row["tau2"] >= 0
    assert 0 <= row["i2"] <= 100
    assert 0 <= row["q_p_value"] <= 1
    assert result.studies["weight"].sum() == pytest.approx(100)
    studies = result.studies
    assert ((studies["ci_low"] <= studies["proportion"] + tol)
            & (studies["proportion"] <= studies["ci_high"] + tol)).all()


def test_docstring_example_runs():
    assert doctest.testmod(meta, optionflags=doctest.NORMALIZE_WHITESPACE).failed == 0


# --- the output precision policy: iterative fits converge beyond 12 digits -------------


def _written_row(result, tmp_path):
    """The pooled row as ``write_csv`` writes it to meta_pooled.csv."""
    return write_csv(result.pooled, tmp_path / "row.csv").read_bytes()


@pytest.mark.parametrize("case", ["review3", "review4", "pritz1997"])
@pytest.mark.parametrize(("transform", "method"),
                         [("logit", "REML"), ("ft", "REML"), ("logit", "GLMM")])
def test_written_rows_do_not_depend_on_the_starting_value(case, transform, method, tmp_path):
    """REML and GLMM started anywhere write the same bytes (12 significant digits).

    The starting values span the boundary (0), the default neighbourhood and far above
    the maximum. What makes this hold: REML runs to a relative 1e-15 and a maximum on
    the boundary is set to exactly 0; the GLMM, whose Nelder-Mead fit stops about 1e-9
    from the maximum, is polished by Newton steps on its exact (complex-step) gradient.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ContinuityCorrectionWarning)
        default = _written_row(_pool(case, transform=transform, method=method), tmp_path)
        for tau2_init in (0.0, 0.01, 0.3, 1.0, 5.0, 20.0):
            result = _pool(case, transform=transform, method=method, tau2_init=tau2_init)
            assert _written_row(result, tmp_path) == default, tau2_init


def test_tau2_init_is_validated():
    with pytest.raises(ValueError, match="tau2_init must be a finite number >= 0"):
        _pool("review4", method="REML", tau2_init=-1.0)


# --- test = "z" / "knha" / "t" and the Q-profile interval of tau2 ------------------------
#
# R 4.2.2, metafor 3.8-1; this script, pasted unrounded (REML and the Q-profile run to
# tight tolerances: metafor's defaults stop about 1e-6 and 1e-4 short; its Q-profile
# search also stops at tau2.max = 100 by default, below the bound of two studies):
#
#     suppressMessages(library(metafor))
#     sets <- list(
#       review3 = list(x = c(2, 13, 3), n = c(3, 25, 3)),
#       review4 = list(x = c(2, 13, 3, 4), n = c(3, 25, 3, 4)),
#       resolution2 = list(x = c(2, 13), n = c(3, 25)),
#       pritz1997 = list(x = dat.pritz1997$xi, n = dat.pritz1997$ni),
#       bcg_treated = list(x = dat.bcg$tpos, n = dat.bcg$tpos + dat.bcg$tneg)
#     )
#     f <- function(v) sprintf("%.17g", v)
#     for (nm in names(sets)) for (tr in c("PLO", "PFT")) for (me in c("DL", "REML")) for (te in c("z", "knha", "t")) {
#       s <- sets[[nm]]
#       dat <- escalc(measure = tr, xi = s$x, ni = s$n)
#       fit <- rma(yi, vi, data = dat, method = me, test = te, control = list(threshold = 1e-12, maxiter = 10000))
#       tf <- if (tr == "PLO") transf.ilogit else transf.ipft.hm
#       ta <- if (tr == "PLO") NULL else list(ni = s$n)
#       p <- predict(fit, transf = tf, targs = ta)
#       ci <- confint(fit, control = list(tol = 1e-12, tau2.max = 1e4))  # default cap: 100
#       cat(sprintf('("%s", "%s", "%s", "%s"): dict(estimate=%s, ci_low=%s, ci_high=%s, pi_low=%s, pi_high=%s, tau2=%s, tau2_ci_low=%s, tau2_ci_high=%s, i2_ci_low=%s, i2_ci_high=%s),\n',
#           nm, if (tr == "PLO") "logit" else "ft", me, te, f(p$pred), f(p$ci.lb), f(p$ci.ub), f(p$pi.lb), f(p$pi.ub), f(fit$tau2),
#           f(ci$random["tau^2", "ci.lb"]), f(ci$random["tau^2", "ci.ub"]), f(ci$random["I^2(%)", "ci.lb"]), f(ci$random["I^2(%)", "ci.ub"])))
#     }

BCG_TREATED = ([4, 6, 3, 62, 33, 180, 8, 505, 29, 17, 186, 5, 27],  # dat.bcg: tpos,
               [123, 306, 231, 13598, 5069, 1541, 2545, 88391, 7499, 1716, 50634, 2498,
                16913])                                                # tpos + tneg
R_TESTS = {
    ("review3", "logit", "DL", "z"): dict(estimate=0.56140078470872135, ci_low=0.38310691027499683, ci_high=0.72513537839996289, pi_low=0.38310691027499683, pi_high=0.72513537839996289, tau2=0, tau2_ci_low=0, tau2_ci_high=34.270918293144028, i2_ci_low=0, i2_ci_high=97.102509681527735),
    ("review3", "logit", "DL", "knha"): dict(estimate=0.56140078470872135, ci_low=0.23874492552541066, ci_high=0.83933261716991237, pi_low=0.23874492552541066, pi_high=0.83933261716991237, tau2=0, tau2_ci_low=0, tau2_ci_high=34.270918293144028, i2_ci_low=0, i2_ci_high=97.102509681527735),
    ("review3", "logit", "DL", "t"): dict(estimate=0.56140078470872135, ci_low=0.20737219918598604, ci_high=0.86230127176660842, pi_low=0.20737219918598604, pi_high=0.86230127176660842, tau2=0, tau2_ci_low=0, tau2_ci_high=34.270918293144028, i2_ci_low=0, i2_ci_high=97.102509681527735),
    ("review3", "logit", "REML", "z"): dict(estimate=0.56140078470872135, ci_low=0.38310691027499683, ci_high=0.72513537839996289, pi_low=0.38310691027499683, pi_high=0.72513537839996289, tau2=0, tau2_ci_low=0, tau2_ci_high=34.270918293144028, i2_ci_low=0, i2_ci_high=97.102509681527735),
    ("review3", "logit", "REML", "knha"): dict(estimate=0.56140078470872135, ci_low=0.23874492552541066, ci_high=0.83933261716991237, pi_low=0.23874492552541066, pi_high=0.83933261716991237, tau2=0, tau2_ci_low=0, tau2_ci_high=34.270918293144028, i2_ci_low=0, i2_ci_high=97.102509681527735),
    ("review3", "logit", "REML", "t"): dict(estimate=0.56140078470872135, ci_low=0.20737219918598604, ci_high=0.86230127176660842, pi_low=0.20737219918598604, pi_high=0.86230127176660842, tau2=0, tau2_ci_low=0, tau2_ci_high=34.270918293144028, i2_ci_low=0, i2_ci_high=97.102509681527735),
    ("review3", "ft", "DL", "z"): dict(estimate=0.67666930294517602, ci_low=0.34437312613367771, ci_high=0.94508074150380084, pi_low=0.19312503094481115, pi_high=1, tau2=0.024781135851158733, tau2_ci_low=0, tau2_ci_high=2.7189740831115006, i2_ci_low=0, i2_ci_high=98.45757907645681),
    ("review3", "ft", "DL", "knha"): dict(estimate=0.67666930294517602, ci_low=0.036774675337672869, ci_high=1, pi_low=0, pi_high=1, tau2=0.024781135851158733, tau2_ci_low=0, tau2_ci_high=2.7189740831115006, i2_ci_low=0, i2_ci_high=98.45757907645681),
    ("review3", "ft", "DL", "t"): dict(estimate=0.67666930294517602, ci_low=0.032187619563431191, ci_high=1, pi_low=0, pi_high=1, tau2=0.024781135851158733, tau2_ci_low=0, tau2_ci_high=2.7189740831115006, i2_ci_low=0, i2_ci_high=98.45757907645681),
    ("review3", "ft", "REML", "z"): dict(estimate=0.6786839171303386, ci_low=0.34204037011523891, ci_high=0.94880227079965052, pi_low=0.18638641985675225, pi_high=1, tau2=0.026069584911674569, tau2_ci_low=0, tau2_ci_high=2.7189740831115006, i2_ci_low=0, i2_ci_high=98.45757907645681),
    ("review3", "ft", "REML", "knha"): dict(estimate=0.6786839171303386, ci_low=0.03642912375400742, ci_high=1, pi_low=0, pi_high=1, tau2=0.026069584911674569, tau2_ci_low=0, tau2_ci_high=2.7189740831115006, i2_ci_low=0, i2_ci_high=98.45757907645681),
    ("review3", "ft", "REML", "t"): dict(estimate=0.6786839171303386, ci_low=0.028586942213762456, ci_high=1, pi_low=0, pi_high=1, tau2=0.026069584911674569, tau2_ci_low=0, tau2_ci_high=2.7189740831115006, i2_ci_low=0, i2_ci_high=98.45757907645681),
    ("review4", "logit", "DL", "z"): dict(estimate=0.60785686791177307, ci_low=0.40863310122490321, ci_high=0.77664900449356478, pi_low=0.3734996142602513, pi_high=0.80120735472683235, tau2=0.067764069297640603, tau2_ci_low=0, tau2_ci_high=12.923556729772374, i2_ci_low=0, i2_ci_high=92.058365985212504),
    ("review4", "logit", "DL", "knha"): dict(estimate=0.60785686791177307, ci_low=0.29813848920812092, ci_high=0.84977061209622529, pi_low=0.25000732503358147, pi_high=0.87816836554625088, tau2=0.067764069297640603, tau2_ci_low=0, tau2_ci_high=12.923556729772374, i2_ci_low=0, i2_ci_high=92.058365985212504),
    ("review4", "logit", "DL", "t"): dict(estimate=0.60785686791177307, ci_low=0.29451666393448894, ci_high=0.85197457469783777, pi_low=0.24726892089992919, pi_high=0.87972796627503758, tau2=0.067764069297640603, tau2_ci_low=0, tau2_ci_high=12.923556729772374, i2_ci_low=0, i2_ci_high=92.058365985212504),
    ("review4", "logit", "REML", "z"): dict(estimate=0.65324923343232677, ci_low=0.39451723305908459, ci_high=0.84488951542491519, pi_low=0.28864341183780878, pi_high=0.89740211201031106, tau2=0.32019369935398079, tau2_ci_low=0, tau2_ci_high=12.923556729772374, i2_ci_low=0, i2_ci_high=92.058365985212504),
    ("review4", "logit", "REML", "knha"): dict(estimate=0.65324923343232677, ci_low=0.29657083856271638, ci_high=0.89382164639445194, pi_low=0.15336539144773056, pi_high=0.95143881700730737, tau2=0.32019369935398079, tau2_ci_low=0, tau2_ci_high=12.923556729772374, i2_ci_low=0, i2_ci_high=92.058365985212504),
    ("review4", "logit", "REML", "t"): dict(estimate=0.65324923343232677, ci_low=0.25150832726256273, ci_high=0.91351184713218991, pi_low=0.134748389047984, pi_high=0.95796529691612609, tau2=0.32019369935398079, tau2_ci_low=0, tau2_ci_high=12.923556729772374, i2_ci_low=0, i2_ci_high=92.058365985212504),
    ("review4", "ft", "DL", "z"): dict(estimate=0.79666569718215885, ci_low=0.44776650756571351, ci_high=0.99998582383725898, pi_low=0.18613810202630227, pi_high=1, tau2=0.049767647369412582, tau2_ci_low=0, tau2_ci_high=0.98299993614231185, i2_ci_low=0, i2_ci_high=95.979961852342527),
    ("review4", "ft", "DL", "knha"): dict(estimate=0.79666569718215885, ci_low=0.27781049273050518, ci_high=1, pi_low=0, pi_high=1, tau2=0.049767647369412582, tau2_ci_low=0, tau2_ci_high=0.98299993614231185, i2_ci_low=0, i2_ci_high=95.979961852342527),
    ("review4", "ft", "DL", "t"): dict(estimate=0.79666569718215885, ci_low=0.23148216095008023, ci_high=1, pi_low=0, pi_high=1, tau2=0.049767647369412582, tau2_ci_low=0, tau2_ci_high=0.98299993614231185, i2_ci_low=0, i2_ci_high=95.979961852342527),
    ("review4", "ft", "REML", "z"): dict(estimate=0.79461859145679736, ci_low=0.45118759926592206, ci_high=0.99965877425819616, pi_low=0.19685596258348775, pi_high=1, tau2=0.047101913619682252, tau2_ci_low=0, tau2_ci_high=0.98299993614231185, i2_ci_low=0, i2_ci_high=95.979961852342527),
    ("review4", "ft", "REML", "knha"): dict(estimate=0.79461859145679736, ci_low=0.27560697728821232, ci_high=1, pi_low=0, pi_high=1, tau2=0.047101913619682252, tau2_ci_low=0, tau2_ci_high=0.98299993614231185, i2_ci_low=0, i2_ci_high=95.979961852342527),
    ("review4", "ft", "REML", "t"): dict(estimate=0.79461859145679736, ci_low=0.23773706530778577, ci_high=1, pi_low=0, pi_high=1, tau2=0.047101913619682252, tau2_ci_low=0, tau2_ci_high=0.98299993614231185, i2_ci_low=0, i2_ci_high=95.979961852342527),
    ("resolution2", "logit", "DL", "z"): dict(estimate=0.5347495580596936, ci_low=0.35284369863552012, ci_high=0.7078589293685672, pi_low=0.35284369863552012, pi_high=0.7078589293685672, tau2=0, tau2_ci_low=0, tau2_ci_high=190.55003440222512, i2_ci_low=0, i2_ci_high=99.566241247881408),
    ("resolution2", "logit", "DL", "knha"): dict(estimate=0.5347495580596936, ci_low=0.10327901885820867, ci_high=0.91980908192680444, pi_low=0.10327901885820867, pi_high=0.91980908192680444, tau2=0, tau2_ci_low=0, tau2_ci_high=190.55003440222512, i2_ci_low=0, i2_ci_high=99.566241247881408),
    ("resolution2", "logit", "DL", "t"): dict(estimate=0.5347495580596936, ci_low=0.0090525798412430889, ci_high=0.99313245290642505, pi_low=0.0090525798412430889, pi_high=0.99313245290642505, tau2=0, tau2_ci_low=0, tau2_ci_high=190.55003440222512, i2_ci_low=0, i2_ci_high=99.566241247881408),
    ("resolution2", "logit", "REML", "z"): dict(estimate=0.5347495580596936, ci_low=0.35284369863552012, ci_high=0.7078589293685672, pi_low=0.35284369863552012, pi_high=0.7078589293685672, tau2=0, tau2_ci_low=0, tau2_ci_high=190.55003440222512, i2_ci_low=0, i2_ci_high=99.566241247881408),
    ("resolution2", "logit", "REML", "knha"): dict(estimate=0.5347495580596936, ci_low=0.10327901885820867, ci_high=0.91980908192680444, pi_low=0.10327901885820867, pi_high=0.91980908192680444, tau2=0, tau2_ci_low=0, tau2_ci_high=190.55003440222512, i2_ci_low=0, i2_ci_high=99.566241247881408),
    ("resolution2", "logit", "REML", "t"): dict(estimate=0.5347495580596936, ci_low=0.0090525798412430889, ci_high=0.99313245290642505, pi_low=0.0090525798412430889, pi_high=0.99313245290642505, tau2=0, tau2_ci_low=0, tau2_ci_high=190.55003440222512, i2_ci_low=0, i2_ci_high=99.566241247881408),
    ("resolution2", "ft", "DL", "z"): dict(estimate=0.53832047328633759, ci_low=0.32788421262465178, ci_high=0.74329768915013217, pi_low=0.32788421262465178, pi_high=0.74329768915013217, tau2=0, tau2_ci_low=0, tau2_ci_high=6.3060358895914002, i2_ci_low=0, i2_ci_high=99.360036667715931),
    ("resolution2", "ft", "DL", "knha"): dict(estimate=0.53832047328633759, ci_low=0.064009766814314806, ci_high=0.97515678328006661, pi_low=0.064009766814314806, pi_high=0.97515678328006661, tau2=0, tau2_ci_low=0, tau2_ci_high=6.3060358895914002, i2_ci_low=0, i2_ci_high=99.360036667715931),
    ("resolution2", "ft", "DL", "t"): dict(estimate=0.53832047328633759, ci_low=0, ci_high=1, pi_low=0, pi_high=1, tau2=0, tau2_ci_low=0, tau2_ci_high=6.3060358895914002, i2_ci_low=0, i2_ci_high=99.360036667715931),
    ("resolution2", "ft", "REML", "z"): dict(estimate=0.53832047328633759, ci_low=0.32788421262465178, ci_high=0.74329768915013217, pi_low=0.32788421262465178, pi_high=0.74329768915013217, tau2=0, tau2_ci_low=0, tau2_ci_high=6.3060358895914002, i2_ci_low=0, i2_ci_high=99.360036667715931),
    ("resolution2", "ft", "REML", "knha"): dict(estimate=0.53832047328633759, ci_low=0.064009766814314806, ci_high=0.97515678328006661, pi_low=0.064009766814314806, pi_high=0.97515678328006661, tau2=0, tau2_ci_low=0, tau2_ci_high=6.3060358895914002, i2_ci_low=0, i2_ci_high=99.360036667715931),
    ("resolution2", "ft", "REML", "t"): dict(estimate=0.53832047328633759, ci_low=0, ci_high=1, pi_low=0, pi_high=1, tau2=0, tau2_ci_low=0, tau2_ci_high=6.3060358895914002, i2_ci_low=0, i2_ci_high=99.360036667715931),
    ("pritz1997", "logit", "DL", "z"): dict(estimate=0.75730661484131057, ci_low=0.66056693741820427, ci_high=0.83342763079670557, pi_low=0.46714462561405956, pi_high=0.91740120863615204, tau2=0.36155827723546302, tau2_ci_low=0.041363125920590507, tau2_ci_high=2.0509923081902954, i2_ci_low=12.870335138082634, i2_ci_high=87.987181528510902),
    ("pritz1997", "logit", "DL", "knha"): dict(estimate=0.75730661484131057, ci_low=0.64799153319078817, ci_high=0.84100385751507256, pi_low=0.43434028812620384, pi_high=0.92690581125424232, tau2=0.36155827723546302, tau2_ci_low=0.041363125920590507, tau2_ci_high=2.0509923081902954, i2_ci_low=12.870335138082634, i2_ci_high=87.987181528510902),
    ("pritz1997", "logit", "DL", "t"): dict(estimate=0.75730661484131057, ci_low=0.64965999105396122, ci_high=0.84002225975810407, pi_low=0.43501352156815359, pi_high=0.92671997566616682, tau2=0.36155827723546302, tau2_ci_low=0.041363125920590507, tau2_ci_high=2.0509923081902954, i2_ci_low=12.870335138082634, i2_ci_high=87.987181528510902),
    ("pritz1997", "logit", "REML", "z"): dict(estimate=0.75747929508915357, ci_low=0.66052196510477545, ci_high=0.83371620142376635, pi_low=0.46613457262573871, pi_high=0.91785003932346532, tau2=0.36458777860925068, tau2_ci_low=0.041363125920590507, tau2_ci_high=2.0509923081902954, i2_ci_low=12.870335138082634, i2_ci_high=87.987181528510902),
    ("pritz1997", "logit", "REML", "knha"): dict(estimate=0.75747929508915357, ci_low=0.64812906981939022, ci_high=0.84117447222474684, pi_low=0.43330387231905582, pi_high=0.92731796014891621, tau2=0.36458777860925068, tau2_ci_low=0.041363125920590507, tau2_ci_high=2.0509923081902954, i2_ci_low=12.870335138082634, i2_ci_high=87.987181528510902),
    ("pritz1997", "logit", "REML", "t"): dict(estimate=0.75747929508915357, ci_low=0.64958780024956808, ci_high=0.84031724115091921, pi_low=0.43389082300966814, pi_high=0.92715671409035738, tau2=0.36458777860925068, tau2_ci_low=0.041363125920590507, tau2_ci_high=2.0509923081902954, i2_ci_low=12.870335138082634, i2_ci_high=87.987181528510902),
    ("pritz1997", "ft", "DL", "z"): dict(estimate=0.80233504418898094, ci_low=0.70466778672820307, ci_high=0.88660074138099065, pi_low=0.47914864514311672, pi_high=0.99653781319662227, tau2=0.023537569533748318, tau2_ci_low=0.0067436865228359131, tau2_ci_high=0.092268665229628455, i2_ci_low=37.793003150750025, i2_ci_high=89.261687005340448),
    ("pritz1997", "ft", "DL", "knha"): dict(estimate=0.80233504418898094, ci_low=0.69143310587944695, ci_high=0.89619094554617429, pi_low=0.44330465880670272, pi_high=1, tau2=0.023537569533748318, tau2_ci_low=0.0067436865228359131, tau2_ci_high=0.092268665229628455, i2_ci_low=37.793003150750025, i2_ci_high=89.261687005340448),
    ("pritz1997", "ft", "DL", "t"): dict(estimate=0.80233504418898094, ci_low=0.69409991389788783, ci_high=0.89429044947359848, pi_low=0.44424013990979777, pi_high=1, tau2=0.023537569533748318, tau2_ci_low=0.0067436865228359131, tau2_ci_high=0.092268665229628455, i2_ci_low=37.793003150750025, i2_ci_high=89.261687005340448),
    ("pritz1997", "ft", "REML", "z"): dict(estimate=0.80289988878631147, ci_low=0.70220564173492583, ci_high=0.889346782690558, pi_low=0.46463048626944647, pi_high=0.99894203648040802, tau2=0.025761116441403494, tau2_ci_low=0.0067436865228359131, tau2_ci_high=0.092268665229628455, i2_ci_low=37.793003150750025, i2_ci_high=89.261687005340448),
    ("pritz1997", "ft", "REML", "knha"): dict(estimate=0.80289988878631147, ci_low=0.69185611630867283, ci_high=0.89679992053145408, pi_low=0.42845061106085186, pi_high=1, tau2=0.025761116441403494, tau2_ci_low=0.0067436865228359131, tau2_ci_high=0.092268665229628455, i2_ci_low=37.793003150750025, i2_ci_high=89.261687005340448),
    ("pritz1997", "ft", "REML", "t"): dict(estimate=0.80289988878631147, ci_low=0.69129681096962492, ci_high=0.89719579478736211, pi_low=0.42826036238590576, pi_high=1, tau2=0.025761116441403494, tau2_ci_low=0.0067436865228359131, tau2_ci_high=0.092268665229628455, i2_ci_low=37.793003150750025, i2_ci_high=89.261687005340448),
    ("bcg_treated", "logit", "DL", "z"): dict(estimate=0.0074941921189936788, ci_low=0.0033622984249965832, ci_high=0.016619056861389342, pi_low=0.0003934331044044322, pi_high=0.12652903736743534, tau2=2.1027508188315753, tau2_ci_low=0.7014361935615212, tau2_ci_high=4.0074002143365073, i2_ci_low=97.718351940819517, i2_ci_high=99.592969775642885),
    ("bcg_treated", "logit", "DL", "knha"): dict(estimate=0.0074941921189936788, ci_low=0.0035792798933990833, ci_high=0.015623978984569261, pi_low=0.0002939702040995586, pi_high=0.16240099367103419, tau2=2.1027508188315753, tau2_ci_low=0.7014361935615212, tau2_ci_high=4.0074002143365073, i2_ci_low=97.718351940819517, i2_ci_high=99.592969775642885),
    ("bcg_treated", "logit", "DL", "t"): dict(estimate=0.0074941921189936788, ci_low=0.0030739231092910737, ci_high=0.018155006848597676, pi_low=0.00028292100852773087, pi_high=0.16768144942565319, tau2=2.1027508188315753, tau2_ci_low=0.7014361935615212, tau2_ci_high=4.0074002143365073, i2_ci_low=97.718351940819517, i2_ci_high=99.592969775642885),
    ("bcg_treated", "logit", "REML", "z"): dict(estimate=0.0074691884684761197, ci_low=0.0038189173074609042, ci_high=0.014557545133252917, pi_low=0.00064717016919205628, pi_high=0.080417385398572211, tau2=1.4476800369539595, tau2_ci_low=0.7014361935615212, tau2_ci_high=4.0074002143365073, i2_ci_low=97.718351940819517, i2_ci_high=99.592969775642885),
    ("bcg_treated", "logit", "REML", "knha"): dict(estimate=0.0074691884684761197, ci_low=0.0035629913014562681, ci_high=0.015590842106451961, pi_low=0.00049296886094193871, pi_high=0.10299583580956892, tau2=1.4476800369539595, tau2_ci_low=0.7014361935615212, tau2_ci_high=4.0074002143365073, i2_ci_low=97.718351940819517, i2_ci_high=99.592969775642885),
    ("bcg_treated", "logit", "REML", "t"): dict(estimate=0.0074691884684761197, ci_low=0.0035428472086793967, ci_high=0.015678411435926232, pi_low=0.00049220120532161371, pi_high=0.10313997505383653, tau2=1.4476800369539595, tau2_ci_low=0.7014361935615212, tau2_ci_high=4.0074002143365073, i2_ci_low=97.718351940819517, i2_ci_high=99.592969775642885),
    ("bcg_treated", "ft", "DL", "z"): dict(estimate=0.0091688533504138969, ci_low=0.0056578356370659, ci_high=0.013447069436052062, pi_low=0.00040313247900986005, pi_high=0.027132629785064255, tau2=0.0011061450921776856, tau2_ci_low=0.0033979851818011267, tau2_ci_high=0.019081029084403556, i2_ci_low=99.344341706275401, i2_ci_high=99.882606519975099),
    ("bcg_treated", "ft", "DL", "knha"): dict(estimate=0.0091688533504138969, ci_low=0.0017147763408049688, ci_high=0.021712035325650136, pi_low=0, pi_high=0.034229837841030952, tau2=0.0011061450921776856, tau2_ci_low=0.0033979851818011267, tau2_ci_high=0.019081029084403556, i2_ci_low=99.344341706275401, i2_ci_high=99.882606519975099),
    ("bcg_treated", "ft", "DL", "t"): dict(estimate=0.0091688533504138969, ci_low=0.0053138115781935502, ci_high=0.013972024023335694, pi_low=7.8648351858001675e-05, pi_high=0.029690382492184086, tau2=0.0011061450921776856, tau2_ci_low=0.0033979851818011267, tau2_ci_high=0.019081029084403556, i2_ci_low=99.344341706275401, i2_ci_high=99.882606519975099),
    ("bcg_treated", "ft", "REML", "z"): dict(estimate=0.010462027803478602, ci_low=0.0028859718326014749, ci_high=0.022219651230262538, pi_low=0, pi_high=0.073061437605895951, tau2=0.0068914157901077853, tau2_ci_low=0.0033979851818011267, tau2_ci_high=0.019081029084403556, i2_ci_low=99.344341706275401, i2_ci_high=99.882606519975099),
    ("bcg_treated", "ft", "REML", "knha"): dict(estimate=0.010462027803478602, ci_low=0.0023281742489972279, ci_high=0.023722965161335208, pi_low=0, pi_high=0.083211135626788502, tau2=0.0068914157901077853, tau2_ci_low=0.0033979851818011267, tau2_ci_high=0.019081029084403556, i2_ci_low=99.344341706275401, i2_ci_high=99.882606519975099),
    ("bcg_treated", "ft", "REML", "t"): dict(estimate=0.010462027803478602, ci_low=0.0023058345268608393, ci_high=0.023787170089919207, pi_low=0, pi_high=0.083242523576556371, tau2=0.0068914157901077853, tau2_ci_low=0.0033979851818011267, tau2_ci_high=0.019081029084403556, i2_ci_low=99.344341706275401, i2_ci_high=99.882606519975099),
}
TEST_SETS = {**CASES, "bcg_treated": BCG_TREATED, "resolution2": ([2, 13], [3, 25])}


@pytest.mark.parametrize("key", sorted(R_TESTS), ids=lambda k: "-".join(k))
def test_knha_t_and_q_profile_match_metafor(key):
    # Observed agreement about 5e-12; rtol 1e-9 (1e-6 would do for the report).
    case, transform, method, test = key
    events, n = TEST_SETS[case]
    row = pool_proportions(events, n, transform=transform, method=method,
                           test=test).pooled.iloc[0]
    assert row["test"] == test
    for column, expected in R_TESTS[key].items():
        np.testing.assert_allclose(row[column], expected, rtol=1e-9, atol=1e-12,
                                   err_msg=column)


def test_knha_is_wider_than_wald_with_few_studies():
    # The review plus the case series (k = 4), logit, REML: HKSJ 30%-89% against Wald
    # 39%-84%, and a t-based prediction interval 15%-95% against 29%-90% (metafor above).
    wald = _pool("review4", method="REML", test="z").pooled.iloc[0]
    knha = _pool("review4", method="REML", test="knha").pooled.iloc[0]
    assert knha["ci_low"] < wald["ci_low"] and knha["ci_high"] > wald["ci_high"]
    assert round(100 * knha["ci_low"]) == 30 and round(100 * knha["ci_high"]) == 89
    assert round(100 * knha["pi_low"]) == 15 and round(100 * knha["pi_high"]) == 95


def test_q_profile_is_not_defined_for_fixed_effect_or_one_study():
    fixed = _pool("review4", method="FE").pooled.iloc[0]
    assert np.isnan(fixed["tau2_ci_low"]) and np.isnan(fixed["i2_ci_high"])
    single = _pool("k1", method="REML").pooled.iloc[0]
    assert np.isnan(single["tau2_ci_low"])


@pytest.mark.parametrize(("kwargs", "message"), [
    (dict(test="hksj"), r"test must be one of \('z', 'knha', 't'\)"),
    (dict(method="GLMM", test="knha"), "supports test='z' only"),
])
def test_test_is_validated(kwargs, message):
    with pytest.raises(ValueError, match=message):
        _pool("review4", **kwargs)


def test_knha_needs_two_studies():
    with pytest.raises(ValueError, match="needs at least 2 studies"):
        _pool("k1", method="REML", test="knha")



# --- leave-one-out ----------------------------------------------------------------------
#
# R 4.2.2, metafor 3.8-1 (leave1out for the logit; explicit refits for Freeman-Tukey, so
# that each is back-transformed with the harmonic mean n of the studies left):
#
#     suppressMessages(library(metafor))
#     sets <- list(
#       review4 = list(x = c(2, 13, 3, 4), n = c(3, 25, 3, 4)),
#       pritz1997 = list(x = dat.pritz1997$xi, n = dat.pritz1997$ni)
#     )
#     f <- function(v) paste0("[", paste(sprintf("%.17g", v), collapse = ", "), "]")
#     ctl <- list(threshold = 1e-12, maxiter = 10000)
#     for (nm in names(sets)) for (me in c("DL", "REML")) for (te in c("z", "knha")) {
#       s <- sets[[nm]]
#       # logit: metafor's leave1out on the fitted model
#       dat <- escalc(measure = "PLO", xi = s$x, ni = s$n)
#       l <- leave1out(rma(yi, vi, data = dat, method = me, test = te, control = ctl),
#                      transf = transf.ilogit)
#       cat(sprintf('("%s", "logit", "%s", "%s"): dict(estimate=%s, ci_low=%s, ci_high=%s, tau2=%s, i2=%s),\n',
#           nm, me, te, f(l$estimate), f(l$ci.lb), f(l$ci.ub), f(l$tau2), f(l$I2)))
#       # Freeman-Tukey: refit without each study, back-transformed with the remaining
#       # studies' harmonic mean n (what leave1out computes, with the subset's own ni)
#       dat <- escalc(measure = "PFT", xi = s$x, ni = s$n)
#       est <- lo <- hi <- t2 <- i2 <- c()
#       for (i in seq_along(s$x)) {
#         fit <- rma(yi, vi, data = dat[-i, ], method = me, test = te, control = ctl)
#         p <- predict(fit, transf = transf.ipft.hm, targs = list(ni = s$n[-i]))
#         est <- c(est, p$pred); lo <- c(lo, p$ci.lb); hi <- c(hi, p$ci.ub)
#         t2 <- c(t2, fit$tau2); i2 <- c(i2, fit$I2)
#       }
#       cat(sprintf('("%s", "ft", "%s", "%s"): dict(estimate=%s, ci_low=%s, ci_high=%s, tau2=%s, i2=%s),\n',
#           nm, me, te, f(est), f(lo), f(hi), f(t2), f(i2)))
#     }

R_LEAVE1OUT = {
    ("review4", "logit", "DL", "z"): dict(estimate=[0.69158582518375533, 0.81476864283900963, 0.56763449278107581, 0.56140078470872135], ci_low=[0.34803027521259283, 0.47729795272547942, 0.38564742341455693, 0.38310691027499683], ci_high=[0.90402731556531235, 0.95493200630512076, 0.73303154927736713, 0.72513537839996289], tau2=[0.68428421335424017, 0, 0.0079676865402403887, 0], i2=[35.508152132395438, 0, 0.78101765008997071, 0]),
    ("review4", "ft", "DL", "z"): dict(estimate=[0.84554352541660238, 0.95237098776731011, 0.72016291676657884, 0.67666930294517602], ci_low=[0.39114983619386356, 0.65895385324317701, 0.34271824802413592, 0.34437312613367771], ci_high=[1, 1, 0.98757861256434887, 0.94508074150380084], tau2=[0.088118152342523764, 0, 0.045364739427588056, 0.024781135851158733], i2=[69.807812552542288, 0, 54.344499696942314, 36.780275846006226]),
    ("review4", "logit", "DL", "knha"): dict(estimate=[0.69158582518375533, 0.81476864283900963, 0.56763449278107581, 0.56140078470872135], ci_low=[0.10710315205958042, 0.35047610128524065, 0.20635814439290823, 0.23874492552541066], ci_high=[0.97670090530992781, 0.97286825595192938, 0.86891870568570451, 0.83933261716991237], tau2=[0.68428421335424017, 0, 0.0079676865402403887, 0], i2=[35.508152132395438, 0, 0.78101765008997071, 0]),
    ("review4", "ft", "DL", "knha"): dict(estimate=[0.84554352541660238, 0.95237098776731011, 0.72016291676657884, 0.67666930294517602], ci_low=[0.032070667509020379, 0.30245301317068368, 0.019493341044437673, 0.036774675337672869], ci_high=[1, 1, 1, 1], tau2=[0.088118152342523764, 0, 0.045364739427588056, 0.024781135851158733], i2=[69.807812552542288, 0, 54.344499696942314, 36.780275846006226]),
    ("review4", "logit", "REML", "z"): dict(estimate=[0.70428301268497706, 0.81476864283900963, 0.58091140492318716, 0.56140078470872135], ci_low=[0.33876395725429581, 0.47729795272547942, 0.37206323128570185, 0.38310691027499683], ci_high=[0.91715933272658356, 0.95493200630512076, 0.76430124635132102, 0.72513537839996289], tau2=[0.85615359187389106, 0, 0.075142384225909048, 0], i2=[40.788874933463347, 0, 6.9106486794849422, 0]),
    ("review4", "ft", "REML", "z"): dict(estimate=[0.83997140781634438, 0.95237098776731011, 0.71987587756849059, 0.6786839171303386], ci_low=[0.40767291367400232, 0.65895385324317701, 0.34339485637073991, 0.34204037011523891], ci_high=[1, 1, 0.98714457527214239, 0.94880227079965052], tau2=[0.076385897593633956, 0, 0.044979795496719009, 0.026069584911674569], i2=[66.714096259238644, 0, 54.132987652356562, 37.966555075331129]),
    ("review4", "logit", "REML", "knha"): dict(estimate=[0.70428301268497706, 0.81476864283900963, 0.58091140492318716, 0.56140078470872135], ci_low=[0.10849358843116562, 0.35047610128524065, 0.1860359164576682, 0.23874492552541066], ci_high=[0.97899521259002398, 0.97286825595192938, 0.89369082803038191, 0.83933261716991237], tau2=[0.85615359187389106, 0, 0.075142384225909048, 0], i2=[40.788874933463347, 0, 6.9106486794849422, 0]),
    ("review4", "ft", "REML", "knha"): dict(estimate=[0.83997140781634438, 0.95237098776731011, 0.71987587756849059, 0.6786839171303386], ci_low=[0.027666955866539555, 0.30245301317068368, 0.019461939877778889, 0.03642912375400742], ci_high=[1, 1, 1, 1], tau2=[0.076385897593633956, 0, 0.044979795496719009, 0.026069584911674569], i2=[66.714096259238644, 0, 54.132987652356562, 37.966555075331129]),
    ("pritz1997", "logit", "DL", "z"): dict(estimate=[0.74224531594046805, 0.75286446298759169, 0.77203996511621786, 0.76661405452385678, 0.74770218815316869, 0.77753754911952555, 0.74483953094076638, 0.74643639497088676, 0.77809423270533851, 0.75704339398182963, 0.75512013051807025, 0.75750063216496688, 0.73526747778507673, 0.76973049629871082], ci_low=[0.64380337631317919, 0.64996392080534693, 0.67508480269672144, 0.65448658429821793, 0.64944021024452225, 0.67693136223815253, 0.64545235455463323, 0.64867344070280719, 0.68730574673102374, 0.65604932278722194, 0.65401019936355109, 0.65122276666280143, 0.63335057740774769, 0.6692761841321766], ci_high=[0.82104338407465638, 0.83327472209635678, 0.84663615696215433, 0.85065662345965798, 0.82580878842103977, 0.85359025742516681, 0.82396477577461236, 0.82436105412570304, 0.84833948001930892, 0.83580460961546255, 0.83417421559478344, 0.8393813458967343, 0.8170385495451673, 0.84666330402928225], tau2=[0.32128575130540782, 0.38191872888383449, 0.36078557637400788, 0.48767348195521537, 0.34121628530545561, 0.379054592950889, 0.33708639588245004, 0.33282702112704005, 0.26841076242644057, 0.38720127781055952, 0.38274783669120321, 0.40996069813278541, 0.29057257522192015, 0.38988776741618075], i2=[54.842330908480349, 58.64625084806859, 57.059482994416541, 59.473966802841566, 56.609032662913158, 53.752394253182771, 56.035940677995789, 55.99446421680355, 45.109383246690264, 59.493188719269206, 59.194277645298257, 59.043118425167791, 47.919299496843074, 58.712502644253767]),
    ("pritz1997", "ft", "DL", "z"): dict(estimate=[0.78838702190461496, 0.80065459087525315, 0.81566135473369228, 0.80990004916527014, 0.78261442878835874, 0.82194293538874308, 0.79143452087067923, 0.77995103139742794, 0.82623047343096112, 0.80153227189170906, 0.80056450235868537, 0.80480774547150868, 0.79581710413188911, 0.81347946693783557], ci_low=[0.68598504133870086, 0.69657715810314436, 0.71829870309176225, 0.69848027763952647, 0.68434329323692888, 0.72332704546500792, 0.68833698401864052, 0.68298100156566399, 0.73514022824844016, 0.70066574024854411, 0.69892892870003909, 0.69819229741715882, 0.68692845019868198, 0.71346116383121716], ci_high=[0.87730508259864615, 0.88975772581738211, 0.89852972831000155, 0.90344793395025924, 0.86877954498284327, 0.90528549725354801, 0.88061190685321122, 0.86532001886872578, 0.90381810253272943, 0.88804112232394605, 0.88776871974036298, 0.89542552940335318, 0.88895278386813448, 0.89848537011948848], tau2=[0.02277473445104471, 0.025423340318150672, 0.022855366863269444, 0.029742437411778198, 0.020485961763948742, 0.02204900589810881, 0.023749246166849397, 0.019237941156499006, 0.017545300983299348, 0.024907570487848526, 0.024977092403027135, 0.02663426724479289, 0.026404421179072549, 0.024082573763648897], i2=[67.535977796979736, 70.292518631953996, 68.349751252884843, 70.250887275868635, 65.765904245785748, 64.813781139577671, 68.689374724236018, 64.163859698537976, 59.526223807725721, 70.417730069346277, 70.396574846085429, 70.410074970929784, 67.089901929136971, 69.309484040193155]),
    ("pritz1997", "logit", "DL", "knha"): dict(estimate=[0.74224531594046805, 0.75286446298759169, 0.77203996511621786, 0.76661405452385678, 0.74770218815316869, 0.77753754911952555, 0.74483953094076638, 0.74643639497088676, 0.77809423270533851, 0.75704339398182963, 0.75512013051807025, 0.75750063216496688, 0.73526747778507673, 0.76973049629871082], ci_low=[0.63178989179067657, 0.63298288444724282, 0.66418252904560748, 0.64242467683007698, 0.63660034902521578, 0.66575632166536569, 0.6320235374796076, 0.63677795936674997, 0.67515628784747173, 0.63873648576940001, 0.63690384768236907, 0.63462076581895688, 0.6135978592607535, 0.65568469899745874], ci_high=[0.82855771925339694, 0.8432830947699016, 0.85292672940644365, 0.85725510108081604, 0.83370970995497673, 0.85980771147145052, 0.83224812423165095, 0.83173653446809814, 0.85539897709981005, 0.84595105315020469, 0.84425929070601635, 0.84889476951139387, 0.82928489544378214, 0.85439024514943884], tau2=[0.32128575130540782, 0.38191872888383449, 0.36078557637400788, 0.48767348195521537, 0.34121628530545561, 0.379054592950889, 0.33708639588245004, 0.33282702112704005, 0.26841076242644057, 0.38720127781055952, 0.38274783669120321, 0.40996069813278541, 0.29057257522192015, 0.38988776741618075], i2=[54.842330908480349, 58.64625084806859, 57.059482994416541, 59.473966802841566, 56.609032662913158, 53.752394253182771, 56.035940677995789, 55.99446421680355, 45.109383246690264, 59.493188719269206, 59.194277645298257, 59.043118425167791, 47.919299496843074, 58.712502644253767]),
    ("pritz1997", "ft", "DL", "knha"): dict(estimate=[0.78838702190461496, 0.80065459087525315, 0.81566135473369228, 0.80990004916527014, 0.78261442878835874, 0.82194293538874308, 0.79143452087067923, 0.77995103139742794, 0.82623047343096112, 0.80153227189170906, 0.80056450235868537, 0.80480774547150868, 0.79581710413188911, 0.81347946693783557], ci_low=[0.6702478419084571, 0.67943230480390493, 0.70644761973286196, 0.68712680331692888, 0.6723473762081893, 0.70915542987182956, 0.67224105181396632, 0.67146770536209943, 0.72018760854565089, 0.68319212319673694, 0.68137499067589236, 0.68238565673782159, 0.67186302428407219, 0.6992494883863335], ci_high=[0.88883816591345111, 0.90190293709385772, 0.90687879204285526, 0.91121926759824046, 0.87780709076123553, 0.91506849988845884, 0.89230090291261854, 0.87406629797802882, 0.91429688235508122, 0.90046086101478395, 0.90025628414394709, 0.90646505677181677, 0.89964165661481543, 0.90842777221249671], tau2=[0.02277473445104471, 0.025423340318150672, 0.022855366863269444, 0.029742437411778198, 0.020485961763948742, 0.02204900589810881, 0.023749246166849397, 0.019237941156499006, 0.017545300983299348, 0.024907570487848526, 0.024977092403027135, 0.02663426724479289, 0.026404421179072549, 0.024082573763648897], i2=[67.535977796979736, 70.292518631953996, 68.349751252884843, 70.250887275868635, 65.765904245785748, 64.813781139577671, 68.689374724236018, 64.163859698537976, 59.526223807725721, 70.417730069346277, 70.396574846085429, 70.410074970929784, 67.089901929136971, 69.309484040193155]),
    ("pritz1997", "logit", "REML", "z"): dict(estimate=[0.74162233970835822, 0.75331887784283658, 0.77300434819361885, 0.7660793057303168, 0.74750680025037908, 0.77705871865055143, 0.74426036541745633, 0.74633708113934605, 0.77777777834686368, 0.757229538754152, 0.75516873387157424, 0.75908280983976817, 0.73686103024664051, 0.77103044783301922], ci_low=[0.64416276047639276, 0.64980463273169109, 0.67499316096673467, 0.65462817007415119, 0.64954768795854412, 0.67714552535090211, 0.64576405369008627, 0.64873055064311402, 0.68746288867168315, 0.65598635941432748, 0.65399196473435794, 0.65083828295308499, 0.63352589833067863, 0.66902753077276711], ci_high=[0.81985385382316567, 0.83404956469054214, 0.84810968045769053, 0.8498163404122776, 0.82544266571904246, 0.85277459220373553, 0.82288119559671702, 0.82417276008168294, 0.84777315880844639, 0.83612050639576796, 0.83425806733427288, 0.8419207248003332, 0.81936644776477696, 0.84870597070617204], tau2=[0.30980294718392953, 0.39007212880005615, 0.3757452671543145, 0.47683085042762641, 0.33744805525749216, 0.36910544995724887, 0.32634166538324383, 0.33090922194104583, 0.26259888628579492, 0.39060118897790252, 0.38364511652349376, 0.43817825959418011, 0.30825345298283435, 0.41225704742734642], i2=[53.939511396644747, 59.157602042407731, 58.051943261440464, 58.930907103254789, 56.336061798496544, 53.090571235710385, 55.236389858313352, 55.852021427792799, 44.56795083865731, 59.703694132974803, 59.250825183865629, 60.642577710214255, 49.394850983568475, 60.057969872332002]),
    ("pritz1997", "ft", "REML", "z"): dict(estimate=[0.78905924565616292, 0.80140044838748692, 0.81639086650433068, 0.80993438622973457, 0.78287221434815035, 0.82225841532601252, 0.79207354209366287, 0.78017849002219064, 0.82661105587651196, 0.80224959885904112, 0.80125814102414439, 0.80546186808254416, 0.79658650350310523, 0.81422454569236025], ci_low=[0.68311377901682047, 0.69276643641816038, 0.716516796839338, 0.69825027576243781, 0.68261990635930681, 0.72098148218893909, 0.6851175077259366, 0.68178411526485738, 0.73265266864712864, 0.69745608446418439, 0.69549269420044524, 0.69484948049565742, 0.68434738969262476, 0.71103184196815272], ci_high=[0.88056366244033202, 0.89372430577130468, 0.9009900360459866, 0.90366294055516228, 0.87053010204915038, 0.90744512458518267, 0.88404807437652155, 0.86662855655567927, 0.90621953857115844, 0.89154470190505875, 0.89139914898954675, 0.89885848822989534, 0.89206705506196859, 0.90142188795906919], tau2=[0.025201883314164196, 0.028723334171702961, 0.024649715847449641, 0.029945307148882046, 0.021762588488164123, 0.023913736041680851, 0.02643757706871417, 0.020130329732120332, 0.019409952850983143, 0.027769214839818195, 0.027969620873549001, 0.029594461001499102, 0.028906371221632497, 0.026374679285655688], i2=[69.715675070111772, 72.776422693604943, 69.961628760526338, 70.392757249607541, 67.113697912571112, 66.642264037712266, 70.948262086698378, 65.199644584853701, 61.934346241772673, 72.631900052091396, 72.699200333674696, 72.557591048793412, 69.056981023380914, 71.208746349407363]),
    ("pritz1997", "logit", "REML", "knha"): dict(estimate=[0.74162233970835822, 0.75331887784283658, 0.77300434819361885, 0.7660793057303168, 0.74750680025037908, 0.77705871865055143, 0.74426036541745633, 0.74633708113934605, 0.77777777834686368, 0.757229538754152, 0.75516873387157424, 0.75908280983976817, 0.73686103024664051, 0.77103044783301922], ci_low=[0.63137530483354387, 0.63330867922551426, 0.66507702608406583, 0.64191602038461859, 0.63645641327099434, 0.66536260910297063, 0.63163842067194509, 0.63670349430523565, 0.6749563759610725, 0.63887406870352559, 0.63693878953577987, 0.6359270231976335, 0.61481192995859413, 0.65683171628079196], ci_high=[0.82788540258448984, 0.84374310956159393, 0.85379799153592151, 0.85679446552817629, 0.83350874841406064, 0.85935345616733305, 0.83162808317953929, 0.83163471364180885, 0.85505820370217056, 0.84613709914024149, 0.84430854197292693, 0.85038014991691402, 0.83087613165013463, 0.85558208599377494], tau2=[0.30980294718392953, 0.39007212880005615, 0.3757452671543145, 0.47683085042762641, 0.33744805525749216, 0.36910544995724887, 0.32634166538324383, 0.33090922194104583, 0.26259888628579492, 0.39060118897790252, 0.38364511652349376, 0.43817825959418011, 0.30825345298283435, 0.41225704742734642], i2=[53.939511396644747, 59.157602042407731, 58.051943261440464, 58.930907103254789, 56.336061798496544, 53.090571235710385, 55.236389858313352, 55.852021427792799, 44.56795083865731, 59.703694132974803, 59.250825183865629, 60.642577710214255, 49.394850983568475, 60.057969872332002]),
    ("pritz1997", "ft", "REML", "knha"): dict(estimate=[0.78905924565616292, 0.80140044838748692, 0.81639086650433068, 0.80993438622973457, 0.78287221434815035, 0.82225841532601252, 0.79207354209366287, 0.78017849002219064, 0.82661105587651196, 0.80224959885904112, 0.80125814102414439, 0.80546186808254416, 0.79658650350310523, 0.81422454569236025], ci_low=[0.67067916117085369, 0.67992411527076313, 0.70719532256293061, 0.68715929538250076, 0.67250154852222832, 0.7092973151336549, 0.67263597439755585, 0.67160208188467208, 0.72022320839832721, 0.68365983232327387, 0.68179551949954842, 0.68291063619345582, 0.67259682890126637, 0.69990857934724593], ci_high=[0.88961444111013455, 0.90273730532943186, 0.90751718751370491, 0.91125053376846665, 0.8781191875751051, 0.91546314786122285, 0.89304543992249796, 0.87434454818675134, 0.91487019768629174, 0.9012695935642755, 0.90106016184193971, 0.90712790354585404, 0.90034660411251055, 0.90914615058573567], tau2=[0.025201883314164196, 0.028723334171702961, 0.024649715847449641, 0.029945307148882046, 0.021762588488164123, 0.023913736041680851, 0.02643757706871417, 0.020130329732120332, 0.019409952850983143, 0.027769214839818195, 0.027969620873549001, 0.029594461001499102, 0.028906371221632497, 0.026374679285655688], i2=[69.715675070111772, 72.776422693604943, 69.961628760526338, 70.392757249607541, 67.113697912571112, 66.642264037712266, 70.948262086698378, 65.199644584853701, 61.934346241772673, 72.631900052091396, 72.699200333674696, 72.557591048793412, 69.056981023380914, 71.208746349407363]),
}


@pytest.mark.parametrize("key", sorted(R_LEAVE1OUT), ids=lambda k: "-".join(k))
def test_leave_one_out_matches_metafor(key):
    case, transform, method, test = key
    events, n = TEST_SETS[case]
    table = leave_one_out(events, n, transform=transform, method=method, test=test)
    assert list(table.columns) == list(LEAVE_ONE_OUT_COLUMNS)
    assert table["k"].tolist() == [len(events) - 1] * len(events)
    for column, expected in R_LEAVE1OUT[key].items():
        np.testing.assert_allclose(table[column], expected, rtol=1e-9, atol=1e-12,
                                   err_msg=column)


def test_leave_one_out_labels_and_limits():
    table = leave_one_out([2, 13, 3, 4], [3, 25, 3, 4], labels=list("abcd"))
    assert table["omitted"].tolist() == list("abcd")
    # Without Tani (13/25) the three others are 9/10.
    assert table.loc[1, ["events", "n"]].tolist() == [9, 10]
    with pytest.raises(ValueError, match="needs at least 3 studies"):
        leave_one_out([2, 13], [3, 25], test="knha")


# --- metafor parity: the GLMM's Wald-type heterogeneity test, H^2 everywhere ------------
# R 4.2.2, metafor 3.8-1:
#   d <- dat.pritz1997; r <- rma.glmm(measure = "PLO", xi = xi, ni = ni, data = d)
#   r$QE.Wld; r$QEp.Wld; r$H2
#   g <- rma(measure = "PLO", xi = xi, ni = ni, data = d, method = "REML",
#            control = list(threshold = 1e-12)); g$H2; leave1out(g)$H2
PRITZ_XI = [16, 10, 4, 43, 10, 25, 13, 12, 22, 4, 5, 18, 58, 6]
PRITZ_NI = [17, 12, 8, 58, 10, 42, 14, 12, 41, 5, 6, 23, 68, 10]
PRITZ_LEAVE1OUT_H2 = [2.17105816790479, 2.44843606156114, 2.38390065654884,
                      2.43492107925094, 2.29021943780043, 2.13176759202249,
                      2.23395744184792, 2.26510937157503, 1.80401052302678,
                      2.48161705765269, 2.45403742410032, 2.54081680613399,
                      1.97608350026852, 2.50362837543226]


@pytest.mark.parametrize(("events", "n", "q_wald", "p_wald"), [
    # Two studies with every patient responding (10/10, 12/12): their logits have no
    # finite maximum, and contribute what R's glm leaves them after its 1e-8 stop.
    (PRITZ_XI, PRITZ_NI, 25.0979089110941, 0.0224092755132579),
    # rma.glmm(measure = "PLO", xi = c(4, 7, 12, 3, 9), ni = c(10, 15, 20, 8, 30))
    ([4, 7, 12, 3, 9], [10, 15, 20, 8, 30], 4.4890188206535, 0.34385155020237),
    # The review (Ceccarelli 3/3): R's own value carries the rounding of inverting a
    # covariance matrix whose entries span 1e9 (the 3/3 study's variance): 2e-7 relative.
    ([2, 13, 3], [3, 25, 3], 0.22640937706697, 0.892967861126282),
])
def test_glmm_wald_heterogeneity_test_is_metafors(events, n, q_wald, p_wald):
    row = pool_proportions(events, n, method="GLMM").pooled.iloc[0]
    assert row["q_wald"] == pytest.approx(q_wald, rel=1e-6)
    assert row["q_wald_p_value"] == pytest.approx(p_wald, rel=1e-6)
    assert np.isnan(pool_proportions(events, n, method="REML").pooled["q_wald"].item())


def test_h2_is_metafors_in_pooled_and_leave_one_out_rows():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ContinuityCorrectionWarning)
        reml = pool_proportions(PRITZ_XI, PRITZ_NI, method="REML").pooled.iloc[0]
        table = leave_one_out(PRITZ_XI, PRITZ_NI, method="REML")
        assert reml["h2"] == pytest.approx(2.30200474437596, rel=1e-10)
        np.testing.assert_allclose(table["h2"], PRITZ_LEAVE1OUT_H2, rtol=1e-10)
        # The review with the case series: leave1out(rma(..., method = "REML",
        # test = "knha")); FE's H^2 is Q / df; Freeman-Tukey DL's leave1out.
        x, m = [2, 13, 3, 4], [3, 25, 3, 4]
        np.testing.assert_allclose(
            leave_one_out(x, m, method="REML", test="knha")["h2"],
            [1.68887181062052, 1, 1.07423672612876, 1], rtol=1e-10)
        assert pool_proportions(x, m, method="FE").pooled["h2"].item() == pytest.approx(
            1.06078141654593, rel=1e-12)
        np.testing.assert_allclose(
            leave_one_out(x, m, transform="ft", method="DL")["h2"],
            [3.31211510176353, 1, 2.19031659572686, 1.58178482013643], rtol=1e-10)
        # The GLMM's H^2 uses its tau^2, which this fit finds more precisely than lme4
        # (metafor: 3.10460052464905; tau^2 agrees to 1e-5, see the GLMM tests above).
        glmm = pool_proportions(PRITZ_XI, PRITZ_NI, method="GLMM").pooled.iloc[0]
        assert glmm["h2"] == pytest.approx(3.10460052464905, rel=1e-4)
