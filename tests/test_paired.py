"""Tests of helpers.paired.

Reference numbers come from R 4.2.2 (Rscript), pasted as literals; each block names the
R call that produced it. Change is post - baseline, so R is called as
``t.test(post, pre, paired = TRUE)``. Datasets:

- the paper's Table 2 (Cassone et al., J. Pers. Med. 2025): SLEDAI-2K, DAS28 and
  glucocorticoid dose before anifrolumab and at the last visit;
- the Hamilton depression scale data of R's ``?wilcox.test`` example (Hollander and
  Wolfe 1973, p. 29): ``x`` first visit, ``y`` second visit, no zeros or ties;
- R's ``sleep`` data: ``extra`` of group 1 (pre) and group 2 (post) paired by ID, with
  a zero difference and ties.
"""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from statsmodels.stats.multitest import multipletests

from helpers.paired import (
    EXTRA_COLUMNS,
    PREPOST_COLUMNS,
    NormalApproximationWarning,
    _hl_critical_rank,
    _holm,
    _signed_rank_cdf,
    _walsh_order_statistics,
    paired_tests,
    sign_tests,
    signed_rank_tests,
    t_tests,
)
from helpers.tables import to_markdown
from helpers.synth import make_cohort
from support.paper import TABLE2, table2_measurements

TOL = {"rtol": 1e-6, "atol": 1e-12}

DEPRESSION_X = [1.83, 0.50, 1.62, 2.48, 1.68, 1.88, 1.55, 3.06, 1.30]
DEPRESSION_Y = [0.878, 0.647, 0.598, 2.05, 1.06, 1.29, 1.06, 3.14, 1.29]
# sleep$extra[sleep$group == 1] and [sleep$group == 2]
SLEEP_PRE = [0.7, -1.6, -0.2, -1.2, -0.1, 3.4, 3.7, 0.8, 0.0, 2.0]
SLEEP_POST = [1.9, 0.8, 1.1, 0.1, -0.1, 4.4, 5.5, 1.6, 4.6, 3.4]


def paper_measurements() -> pd.DataFrame:
    return table2_measurements()


def tidy(pre, post, measure="x", ids=None, followup="last") -> pd.DataFrame:
    """Two-visit tidy table of one measure."""
    n = len(pre)
    ids = np.arange(1, n + 1) if ids is None else np.asarray(ids)
    return pd.DataFrame({
        "patient_id": np.r_[ids, ids],
        "measure": measure,
        "timepoint": ["baseline"] * n + [followup] * n,
        "month": [0] * n + [6] * n,
        "value": np.r_[np.asarray(pre, float), np.asarray(post, float)],
        "unit": "u",
    })


def one(frame: pd.DataFrame, outcome: str = "x") -> pd.Series:
    rows = frame[frame["outcome"] == outcome]
    assert len(rows) == 1
    return rows.iloc[0]


def check(row: pd.Series, expected: dict) -> None:
    for column, value in expected.items():
        if isinstance(value, str):
            assert row[column] == value, column
        else:
            np.testing.assert_allclose(row[column], value, **TOL, err_msg=column)


# --------------------------------------------------------------------------------------
# R references
# --------------------------------------------------------------------------------------

# R: pre <- c(13, 6, 6, 0); post <- c(2, 1, 0, 0); d <- post - pre
R_SLEDAI = {
    "n": 4,
    # t.test(post, pre, paired = TRUE)
    "t_statistic": -2.4394301941500904, "t_df": 3, "t_p_value": 0.092547278345700076,
    "change_ci_low": -12.675222607736345, "change_ci_high": 1.6752226077363461,
    "change_mean": -5.5,
    # mean, sd, quantile(x, c(.25, .5, .75), type = 7), min, max
    "pre_mean": 6.25, "pre_sd": 5.315072906367325, "pre_median": 6, "pre_q1": 4.5,
    "pre_q3": 7.75, "pre_min": 0, "pre_max": 13,
    "post_mean": 0.75, "post_sd": 0.9574271077563381, "post_median": 0.5, "post_q1": 0,
    "post_q3": 1.25, "post_min": 0, "post_max": 2,
    "change_sd": 4.5092497528228943, "change_median": -5.5,
    "cohen_dz": -1.2197150970750452,  # mean(d) / sd(d)
    # nz <- d != 0; wilcox.test(post[nz], pre[nz], paired = TRUE, exact = TRUE)
    "wilcoxon_statistic": 0, "wilcoxon_p_value": 0.25000000000000006,
    "wilcoxon_method": "exact (zeros dropped)",
    # binom.test(sum(d > 0), sum(d != 0))$p.value
    "sign_test_p_value": 0.25000000000000006,
    # The Hodges-Lehmann estimate and interval use the differences the test uses, the
    # three non-zero ones: wilcox.test(d[nz], exact = TRUE, conf.int = TRUE) and
    # exactRankTests::wilcox.exact(d, conf.int = TRUE) (which drops the zero) both give
    # -7, (-11, -5); no 95% level is reachable with 3: the whole Walsh range, at
    # 1 - 2 * psignrank(0, 3) = 0.75 ("requested conf.level not achievable").
    "hl_estimate": -7, "hl_ci_low": -11, "hl_ci_high": -5, "hl_ci_level": 0.75,
    # r <- rank(abs(d[nz])); (sum(r[d[nz] > 0]) - sum(r[d[nz] < 0])) / sum(r)
    "rank_biserial": -1,
}
# R: pre <- c(7.22, 5.59, 4.57, 2.38); post <- c(2.18, 1.89, 2.31, 2.38); same calls
R_DAS28 = {
    "n": 4,
    "t_statistic": -2.5506370642761547, "t_df": 3, "t_p_value": 0.083896234364817857,
    "change_ci_low": -6.1811927251844629, "change_ci_high": 0.68119272518446261,
    "change_mean": -2.75,
    "pre_mean": 4.9399999999999995, "pre_sd": 2.0257837989282073,
    "pre_median": 5.0800000000000001, "pre_q1": 4.0225, "pre_q3": 5.9974999999999996,
    "pre_min": 2.38, "pre_max": 7.22,
    "post_mean": 2.19, "post_sd": 0.21648710508172692, "post_median": 2.245,
    "post_q1": 2.1075000000000004, "post_q3": 2.3274999999999997, "post_min": 1.89,
    "post_max": 2.38,
    "change_sd": 2.1563240325455104, "change_median": -2.9800000000000004,
    "cohen_dz": -1.2753185321380773,
    "wilcoxon_statistic": 0, "wilcoxon_p_value": 0.25000000000000006,
    "wilcoxon_method": "exact (zeros dropped)",
    "sign_test_p_value": 0.25000000000000006,
    # wilcox.test(d[nz], exact = TRUE, conf.int = TRUE), wilcox.exact(d, conf.int = TRUE)
    "hl_estimate": -3.6749999999999998, "hl_ci_low": -5.04, "hl_ci_high": -2.2599999999999998,
    "hl_ci_level": 0.75,
    "rank_biserial": -1,
}
# R: pre <- c(8, 6, 8); post <- c(0, 4, 2) (patient 1 has no baseline daily dose)
R_GC = {
    "n": 3, "n_excluded": 1,
    "t_statistic": -3.0237157840738176, "t_df": 2, "t_p_value": 0.0941783726843234,
    "change_ci_low": -12.922499400526853, "change_ci_high": 2.2558327338601862,
    "change_mean": -5.333333333333333, "change_sd": 3.0550504633038935,
    "change_median": -6, "cohen_dz": -1.7457431218879389,
    "pre_mean": 7.333333333333333, "pre_sd": 1.1547005383792515, "pre_median": 8,
    "pre_q1": 7, "pre_q3": 8, "pre_min": 6, "pre_max": 8,
    "post_mean": 2, "post_sd": 2, "post_median": 2, "post_q1": 1, "post_q3": 3,
    "post_min": 0, "post_max": 4,
    # wilcox.test(post, pre, paired = TRUE, exact = TRUE, conf.int = TRUE)
    # -> V = 0, p = 0.25, estimate -5.5, interval (-8, -2), conf.level 1 - 2/8
    "wilcoxon_statistic": 0, "wilcoxon_p_value": 0.25000000000000006,
    "wilcoxon_method": "exact",
    "hl_estimate": -5.5, "hl_ci_low": -8, "hl_ci_high": -2, "hl_ci_level": 0.75,
    "sign_test_p_value": 0.25000000000000006,  # binom.test(0, 3)
    "rank_biserial": -1,
}
# R: x, y of ?wilcox.test; pre <- x; post <- y
R_DEPRESSION = {
    "n": 9,
    # t.test(y, x, paired = TRUE)
    "t_statistic": -3.0353754156485913, "t_df": 8, "t_p_value": 0.016176627434908095,
    "change_ci_low": -0.75999906550560925, "change_ci_high": -0.10377871227216852,
    "change_mean": -0.43188888888888888, "change_sd": 0.4268554920709246,
    "change_median": -0.48999999999999999, "cohen_dz": -1.0117918052161969,
    "pre_mean": 1.7666666666666666, "pre_sd": 0.71559415872406329, "pre_median": 1.68,
    "pre_q1": 1.55, "pre_q3": 1.88, "pre_min": 0.5, "pre_max": 3.06,
    "post_mean": 1.3347777777777778, "post_sd": 0.80233343719705741,
    "post_median": 1.06, "post_q1": 0.878, "post_q3": 1.29, "post_min": 0.598,
    "post_max": 3.14,
    # wilcox.test(y, x, paired = TRUE, exact = TRUE, conf.int = TRUE)
    # -> V = 5, p = 0.0390625, estimate -0.46, interval (-0.786, -0.01); the achieved
    # level is 1 - 2 * psignrank(qsignrank(0.025, 9) - 1, 9) = 0.9609375
    "wilcoxon_statistic": 5, "wilcoxon_p_value": 0.0390625, "wilcoxon_method": "exact",
    "hl_estimate": -0.46000000000000008, "hl_ci_low": -0.78600000000000003,
    "hl_ci_high": -0.010000000000000009, "hl_ci_level": 0.9609375,
    "sign_test_p_value": 0.17968750000000006,  # binom.test(sum(d > 0), 9)
    "rank_biserial": -0.77777777777777779,
}
# R: pre <- sleep$extra[sleep$group == 1]; post <- sleep$extra[sleep$group == 2]
R_SLEEP = {
    "n": 10, "n_zero": 1, "wilcoxon_n": 9,
    # t.test(post, pre, paired = TRUE)
    "t_statistic": 4.0621276833820366, "t_df": 9, "t_p_value": 0.0028328901973842702,
    "change_ci_low": 0.70011423672301754, "change_ci_high": 2.4598857632769824,
    "change_mean": 1.58, "change_sd": 1.2299954832798732, "change_median": 1.3,
    "cohen_dz": 1.2845575625910546,
    "pre_mean": 0.75, "pre_sd": 1.7890096577591625, "pre_median": 0.35,
    "pre_q1": -0.17500000000000002, "pre_q3": 1.7, "pre_min": -1.6, "pre_max": 3.7,
    "post_mean": 2.33, "post_sd": 2.002248735796829, "post_median": 1.75,
    "post_q1": 0.87500000000000011, "post_q3": 4.15, "post_min": -0.1, "post_max": 5.5,
    # wilcox.test(post, pre, paired = TRUE): zero and ties -> normal approximation with
    # tie-corrected variance and continuity correction: V = 45, p = 0.009090698...
    "wilcoxon_statistic": 45, "wilcoxon_p_value": 0.0090906980159250559,
    "wilcoxon_method": "normal approximation (ties; zeros dropped; continuity correction)",
    "sign_test_p_value": 0.0039062500000000035,  # binom.test(9, 9)
    # The estimate from the nine non-zero differences the test uses:
    # nz <- d[d != 0]; W <- outer(nz, nz, "+") / 2; median(W[!lower.tri(W)]) = 1.4
    "hl_estimate": 1.3999999999999999,
    "rank_biserial": 1,
}


@pytest.fixture(scope="module")
def paper_result() -> pd.DataFrame:
    return paired_tests(paper_measurements())


def test_columns_and_order(paper_result):
    assert list(paper_result.columns) == PREPOST_COLUMNS + EXTRA_COLUMNS
    assert list(paper_result["outcome"]) == ["sledai2k", "das28", "gc_mg_day"]
    assert set(paper_result["comparison"]) == {"last vs baseline"}


def test_paper_headline_numbers(paper_result):
    # The numbers the report quotes: SLEDAI-2K mean change -5.5, paired t p = 0.0925;
    # DAS28 mean change -2.75, p = 0.0839 (R t.test(post, pre, paired = TRUE)).
    sledai, das28 = one(paper_result, "sledai2k"), one(paper_result, "das28")
    assert sledai["change_mean"] == pytest.approx(-5.5, abs=1e-12)
    assert sledai["t_p_value"] == pytest.approx(0.0925, abs=5e-5)
    assert das28["change_mean"] == pytest.approx(-2.75, abs=1e-12)
    assert das28["t_p_value"] == pytest.approx(0.0839, abs=5e-5)


@pytest.mark.parametrize("outcome, expected", [("sledai2k", R_SLEDAI), ("das28", R_DAS28),
                                               ("gc_mg_day", R_GC)])
def test_paper_against_r(paper_result, outcome, expected):
    check(one(paper_result, outcome), expected)


def test_depression_against_r():
    check(one(paired_tests(tidy(DEPRESSION_X, DEPRESSION_Y))), R_DEPRESSION)


def test_sleep_exact_false_is_r_wilcox_test():
    # exact=False is R's default policy with a zero and ties: the normal approximation.
    row = one(paired_tests(tidy(SLEEP_PRE, SLEEP_POST), exact=False))
    check({**row, "wilcoxon_method": row["wilcoxon_method"].replace("exact=False; ", "")},
          R_SLEEP)


# Exact conditional signed-rank test (ties, zeros) and the interval that inverts it.
# R 4.2.2, coin 1.4-2, exactRankTests 0.8-35, on d <- round(post - pre, 10) (R's own
# differences carry float noise, 1.3000000000000003, that hides ties):
#   pvalue(wilcoxsign_test(I(pre + d) ~ pre, distribution = "exact",
#                          zero.method = "Wilcoxon"))   # and "Pratt"
#   w <- wilcox.exact(d, conf.int = TRUE); w$p.value; w$conf.int
# The Hodges-Lehmann estimate is by hand: the median of the Walsh averages of the non-zero
# d, the differences the test uses.
# The interval inverts the exact conditional test; wilcox.exact's can be wider by one
# stretch of Walsh averages that the test rejects: for ties12 it starts at -3, but at
# theta = -2.8, d - theta has |.| ranks 2.5 (x4, negative), 5.5 (x2), 9 (x5), 12, so
# V = 68 of 78, and P(V >= 68) counts the negative-rank subsets summing to <= 10: 31 of
# 4096, two-sided p = 0.0151 < 0.05 (by hand): -2.8 is rejected, the interval starts at
# the next Walsh average, -2.55. Likewise the sleep upper end is 2.95, not 2.9.
EXACT_CONDITIONAL = {
    # sleep$extra, group 2 - group 1 (one zero; ties at 1.3 and 1.3)
    "sleep": (SLEEP_PRE, SLEEP_POST, dict(
        coin_wilcoxon=0.00390625, coin_pratt=0.00390625, exact_ci=(1.05, 2.9),
        ci=(1.05, 2.95))),
    # SLEDAI-like integers: zeros and many ties
    "sledai": ([10, 8, 6, 12, 4, 6, 8, 10, 4, 6, 14, 2, 8, 6],
               [4, 8, 2, 6, 4, 2, 6, 4, 6, 2, 8, 2, 2, 4], dict(
                   coin_wilcoxon=0.00390625, coin_pratt=0.00390625,
                   exact_ci=(-6.0, -2.0))),
    # quarters (exact in binary): two zeros, ties at -2 and 0.5
    "quarters": ([3.25, 4.5, 5, 2.75, 6, 4.5, 3.75, 5.5, 4, 4.75],
                 [2, 4.5, 3, 3.25, 4, 2.5, 3.75, 3.5, 4.5, 2.75], dict(
                     coin_wilcoxon=0.0390625, coin_pratt=0.0390625,
                     exact_ci=(-2.0, -0.375))),
    # twelve DAS28-like differences, several tied, no zero
    "ties12": ([4.1, 5.2, 6.3, 3.3, 5.5, 6.1, 4.4, 5.0, 6.6, 7.0, 5.9, 4.8],
               [2.0, 3.1, 3.3, 2.2, 3.5, 4.1, 2.4, 2.0, 3.6, 4.0, 3.9, 2.8], dict(
                   coin_wilcoxon=0.00048828125, coin_pratt=0.00048828125,
                   exact_ci=(-3.0, -2.0), ci=(-2.55, -2.0))),
}


@pytest.mark.parametrize("case", sorted(EXACT_CONDITIONAL))
def test_exact_conditional_against_coin_and_wilcox_exact(case):
    pre, post, ref = EXACT_CONDITIONAL[case]
    wilcox = one(paired_tests(tidy(pre, post)))
    pratt = one(paired_tests(tidy(pre, post), zero_method="pratt"))
    assert wilcox["wilcoxon_method"].startswith("exact conditional (ties")
    np.testing.assert_allclose(wilcox["wilcoxon_p_value"], ref["coin_wilcoxon"], **TOL)
    np.testing.assert_allclose(pratt["wilcoxon_p_value"], ref["coin_pratt"], **TOL)
    d = np.subtract(post, pre)
    nonzero = d[d != 0]  # the differences the test uses (wilcox.exact drops zeros too)
    walsh = (nonzero[:, None] + nonzero[None, :])[np.triu_indices(len(nonzero))] / 2
    np.testing.assert_allclose(wilcox["hl_estimate"], np.median(walsh), **TOL)
    np.testing.assert_allclose([wilcox["hl_ci_low"], wilcox["hl_ci_high"]],
                               ref.get("ci", ref["exact_ci"]), **TOL)
    assert wilcox["hl_method"].endswith("inversion of the exact conditional signed-rank test")
    # Just inside each end the test accepts, just outside it rejects (p vs 0.05).
    x = np.subtract(post, pre, dtype=float)
    x = x[x != 0]
    for end, step in ((wilcox["hl_ci_low"], -1e-6), (wilcox["hl_ci_high"], 1e-6)):
        inside, outside = signed_rank_tests([x - (end - step), x - (end + step)]).p_value
        assert inside >= 0.05 > outside


def test_exact_conditional_is_smaller_than_the_normal_approximation_here():
    # 12 differences with ties, where R's default falls back to the normal approximation
    # (wilcox.test(round(post - pre, 10), exact = FALSE) -> p = 0.0022367206199104058)
    # although the exact conditional p is 2 / 2^12 (all 12 negative).
    pre, post, _ = EXACT_CONDITIONAL["ties12"]
    exact = one(paired_tests(tidy(pre, post)))
    approx = one(paired_tests(tidy(pre, post), exact=False))
    np.testing.assert_allclose(approx["wilcoxon_p_value"], 0.0022367206199104058, **TOL)
    assert exact["wilcoxon_p_value"] == 2 / 2**12


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(1, 6), min_size=1, max_size=30))
def test_conditional_distribution_sums_to_one(ranks):
    # Doubled midranks of any tie pattern: the permutation distribution is a probability
    # distribution, symmetric about its mean.
    cdf = _signed_rank_cdf(tuple(sorted(ranks)))
    pmf = np.diff(np.r_[0.0, cdf])
    assert cdf[-1] == pytest.approx(1.0, abs=1e-12) and (pmf >= 0).all()
    np.testing.assert_allclose(pmf, pmf[::-1], atol=1e-15)


def _halving_cdf(ranks):
    # The distribution built as the module first did, halving at every step in floating
    # point (exact while the counts stay below 2^53); the reference for the integer path.
    pmf = np.zeros(sum(ranks) + 1)
    pmf[0] = 1.0
    for r in ranks:
        shifted = np.zeros_like(pmf)
        shifted[r:] = pmf[: len(pmf) - r]
        pmf = (pmf + shifted) / 2.0
    return np.cumsum(pmf)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(1, 120), min_size=1, max_size=60))
def test_distribution_from_integer_counts_is_the_halving_one_bit_for_bit(ranks):
    ranks = tuple(sorted(ranks))
    assert np.array_equal(_signed_rank_cdf.__wrapped__(ranks), _halving_cdf(ranks))


# Ties and zeros; tenths make the t-test's sums depend on their order. paired_tests
# rounds differences to 12 significant digits, which leaves all of these unchanged.
CHANGES = [-7.5, -3.0, -1.3, -1.25, -1.0, -0.1, 0.0, 0.0, 0.25, 0.7, 1.0, 1.25, 2.0, 2.7,
           4.75]


@settings(max_examples=60, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(batch=st.sampled_from([1, 2, 3, 5, 12, 49, 50, 60]).flatmap(
           lambda n: st.lists(st.lists(st.sampled_from(CHANGES), min_size=n, max_size=n),
                              min_size=1, max_size=4)),
       zero_method=st.sampled_from(["wilcox", "pratt"]),
       exact=st.sampled_from([None, True, False]), correction=st.booleans())
def test_paired_tests_reports_the_batched_tests_of_each_sample(batch, zero_method, exact,
                                                               correction):
    # Random samples with ties and zeros, both sides of the exact/normal boundary: each
    # row of a batch gets, bit for bit, the tests paired_tests reports for that sample
    # alone, with every option.
    samples = np.array(batch + [[0.0] * len(batch[0])])  # and an all-zero sample
    t, sign = t_tests(samples), sign_tests(samples)
    rank = signed_rank_tests(samples, zero_method=zero_method, exact=exact,
                             correction=correction)
    for i, d in enumerate(samples):
        row = one(paired_tests(tidy(np.zeros(len(d)), d), zero_method=zero_method,
                               exact=exact, correction=correction))
        for column, batched in (("t_statistic", t.statistic), ("t_p_value", t.p_value),
                                ("sign_test_p_value", sign.p_value),
                                ("sign_test_n", sign.n),
                                ("wilcoxon_statistic", rank.statistic),
                                ("wilcoxon_p_value", rank.p_value),
                                ("wilcoxon_n", rank.n)):
            assert np.array_equal(row[column], batched[i], equal_nan=True), (column, d)
        if rank.n[i]:
            assert row["wilcoxon_method"].startswith("exact") == rank.exact[i]
    assert np.isnan(rank.p_value[-1]) and np.isnan(sign.p_value[-1])


def test_batched_tests_in_blocks_and_empty(monkeypatch):
    import helpers.paired as paired

    samples = np.random.default_rng(3).choice([-1.0, 0.0, 1.0, 2.0], size=(40, 9))
    whole = signed_rank_tests(samples)
    monkeypatch.setattr(paired, "_BLOCK_ROWS", 7)
    for field, value in zip(whole, signed_rank_tests(samples), strict=True):
        assert np.array_equal(field, value, equal_nan=True)
    for test in (t_tests, sign_tests, signed_rank_tests):
        assert all(field.shape == (0,) for field in test(np.empty((0, 4))))
        with pytest.raises(ValueError, match="2-D"):
            test([1.0, 2.0])
    with pytest.raises(ValueError, match="zero_method must be one of"):
        signed_rank_tests(samples, zero_method="zsplit")


def test_exact_conditional_tends_to_the_normal_approximation():
    # Differences drawn from 7 tied values: the gap between the exact conditional p and
    # the normal approximation (R's tie-corrected variance, continuity correction)
    # shrinks as n grows (measured: 0.0013 at n = 49, 4e-5 at n = 400).
    rng = np.random.default_rng(5)
    gaps = []
    for n in (49, 400):
        d = rng.choice([-3, -2, -1, 1, 2, 3, 4], size=n)
        exact = one(paired_tests(tidy(np.zeros(n), d), exact=True))
        approx = one(paired_tests(tidy(np.zeros(n), d), exact=False))
        assert exact["wilcoxon_method"] == "exact conditional (ties)"
        gaps.append(abs(exact["wilcoxon_p_value"] - approx["wilcoxon_p_value"]))
    assert gaps[1] < 1e-4 < gaps[0]


def test_exact_false_reproduces_r_default_with_zeros():
    # R: wilcox.test(post, pre, paired = TRUE) on the paper's SLEDAI-2K (a zero, so R
    # uses the normal approximation with continuity correction): V = 0,
    # p = 0.18144920772142031.
    result = paired_tests(tidy(*TABLE2["sledai2k"]), exact=False)
    row = one(result)
    assert row["wilcoxon_statistic"] == 0
    np.testing.assert_allclose(row["wilcoxon_p_value"], 0.18144920772142031, **TOL)
    assert row["wilcoxon_method"] == ("normal approximation (exact=False; zeros dropped; "
                                      "continuity correction)")


def test_exact_distribution_matches_r_psignrank():
    # R: psignrank(0:10, 20)
    expected = [9.5367431640625e-07, 1.9073486328125e-06, 2.86102294921875e-06,
                4.76837158203125e-06, 6.67572021484375e-06, 9.5367431640625e-06,
                1.33514404296875e-05, 1.811981201171875e-05, 2.384185791015625e-05,
                3.147125244140625e-05, 4.100799560546875e-05]
    np.testing.assert_allclose(_signed_rank_cdf(tuple(range(1, 21)))[:11], expected,
                               rtol=1e-12)
    # R: d <- (1:20) * c(rep(-1, 15), rep(1, 5)); wilcox.test(d, exact = TRUE)
    # -> V = 90, p = 0.59581947326660156
    d = np.arange(1, 21) * np.r_[-np.ones(15), np.ones(5)]
    row = one(paired_tests(tidy(np.zeros(20), d)))
    assert row["wilcoxon_statistic"] == 90
    np.testing.assert_allclose(row["wilcoxon_p_value"], 0.59581947326660156, **TOL)


def test_exact_true_extends_and_warns():
    # 60 untied differences. R: d <- (1:60) * rep(c(-1, 1, 1), 20)
    d = np.arange(1, 61) * np.tile([-1, 1, 1], 20)
    # wilcox.test(d) (n >= 50: normal approximation) -> V = 1240, p = 0.016901653275967536
    default = one(paired_tests(tidy(np.zeros(60), d)))
    assert default["wilcoxon_method"] == ("normal approximation (n = 60 > 49; "
                                          "continuity correction)")
    assert default["wilcoxon_statistic"] == 1240
    np.testing.assert_allclose(default["wilcoxon_p_value"], 0.016901653275967536, **TOL)
    # wilcox.test(d, exact = TRUE) -> V = 1240, p = 0.016137123087551532
    forced = one(paired_tests(tidy(np.zeros(60), d), exact=True))
    assert forced["wilcoxon_method"] == "exact" and forced["wilcoxon_statistic"] == 1240
    np.testing.assert_allclose(forced["wilcoxon_p_value"], 0.016137123087551532, **TOL)
    with pytest.warns(NormalApproximationWarning, match="too many"):
        paired_tests(tidy(np.zeros(1001), np.arange(1, 1002)), exact=True)


def test_hl_critical_values_against_r():
    # R: qu <- qsignrank(0.025, 49); 1 - 2 * psignrank(qu - 1, 49) -> 416, 0.950566264...
    c, level, how = _hl_critical_rank(49, 0.95)
    assert (c, how) == (416, "exact critical values")
    np.testing.assert_allclose(level, 0.95056626418111279, **TOL)
    # n = 60 uses the normal approximation; R's exact qsignrank(0.025, 60) = 649 with
    # level 0.95071849401563868: same order statistic, level within 1e-3.
    c, level, how = _hl_critical_rank(60, 0.95, exact=False)
    assert (c, how) == (649, "normal-approximation critical values")
    assert level == pytest.approx(0.95071849401563868, abs=1e-3)


def test_pratt_against_scipy_and_enumeration():
    # Normal approximation: scipy.stats.wilcoxon(d, zero_method="pratt",
    # correction=True, method="approx") on the sleep differences -> p = 0.0068015531...
    row = one(paired_tests(tidy(SLEEP_PRE, SLEEP_POST), zero_method="pratt", exact=False))
    np.testing.assert_allclose(row["wilcoxon_p_value"], 0.006801553132897053, **TOL)
    assert "Pratt zeros" in row["wilcoxon_method"]
    # Exact: Pratt ranks of the non-zero differences, signs enumerated by hand.
    d = np.array([-3, -1, 0, 0, 2, 4, 5, 7, 8, 9.5, 11, 12.5])
    row = one(paired_tests(tidy(np.zeros(12), d), zero_method="pratt"))
    # Pratt ranks of |d| for the non-zero d, in order (the two zeros take ranks 1-2):
    #   d:     -3 -1  2  4  5  7  8 9.5 11 12.5
    ranks = np.array([5, 3, 4, 6, 7, 8, 9, 10, 11, 12])
    observed = ranks[d[d != 0] > 0].sum()
    sums = np.array([np.dot(signs, ranks) for signs in itertools.product([0, 1],
                                                                           repeat=10)])
    p = min(1.0, 2 * min((sums <= observed).mean(), (sums >= observed).mean()))
    assert row["wilcoxon_statistic"] == observed == 67
    assert row["wilcoxon_method"] == "exact (Pratt zeros)"
    np.testing.assert_allclose(row["wilcoxon_p_value"], p, **TOL)


def test_holm_against_r_and_statsmodels(paper_result):
    # R: p.adjust(c(0.0925472783457001, 0.0838962343648179, 0.0941783726843234), "holm")
    np.testing.assert_allclose(paper_result["p_value_holm"], [0.25168870309445374] * 3,
                               **TOL)
    assert set(paper_result["p_value_holm_basis"]) == {"t_p_value"}
    rng = np.random.default_rng(3)
    p = rng.uniform(0, 0.2, 7)
    np.testing.assert_allclose(_holm(p), multipletests(p, method="holm")[1], rtol=1e-12)
    with_nan = np.array([0.01, np.nan, 0.04])
    np.testing.assert_allclose(_holm(with_nan), [0.02, np.nan, 0.04])


def test_holm_within_each_comparison_and_basis():
    frame = pd.concat([
        tidy(DEPRESSION_X, DEPRESSION_Y, "a"), tidy(DEPRESSION_X, DEPRESSION_Y, "b"),
        tidy(DEPRESSION_X, DEPRESSION_Y, "a", followup="m12").assign(month=12),
        tidy(DEPRESSION_X, DEPRESSION_Y, "b", followup="m12").assign(month=12),
    ]).drop_duplicates(["patient_id", "measure", "timepoint"])
    result = paired_tests(frame, p_adjust="wilcoxon")
    assert list(result["comparison"]) == ["last vs baseline", "m12 vs baseline"] * 2
    # two outcomes per comparison, equal p-values -> Holm doubles them
    np.testing.assert_allclose(result["p_value_holm"], 2 * 0.0390625, **TOL)
    assert set(result["p_value_holm_basis"]) == {"wilcoxon_p_value"}
    assert result["reject_holm"].tolist() == [False] * 4


# --------------------------------------------------------------------------------------
# Hodges-Lehmann for large n
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["continuous", "integer", "two_decimals"])
def test_walsh_selection_equals_materialised(kind):
    rng = np.random.default_rng(11)
    n = 1500
    if kind == "continuous":
        d = rng.normal(size=n)
    elif kind == "integer":
        d = rng.integers(-4, 4, n).astype(float)
    else:  # differences of 2-decimal values: heavy ties plus floating-point noise
        d = np.round(rng.normal(5, 1, n), 2) - np.round(rng.normal(4, 1, n), 2)
    d = np.sort(d)
    pairs = n * (n + 1) // 2
    c, _, _ = _hl_critical_rank(n, 0.95)
    ranks = np.array([1, c, pairs // 2, pairs // 2 + 1, pairs + 1 - c, pairs])
    direct = _walsh_order_statistics(d, ranks)
    for limit in (100, 5000):
        np.testing.assert_array_equal(_walsh_order_statistics(d, ranks, limit), direct)


def test_large_cohort_smoke():
    cohort = make_cohort(10_000, seed=3)
    result = paired_tests(cohort)
    assert len(result) == 3 and (result["n"] == 10_000).all()
    assert result["hl_method"].str.contains("randomised selection").all()
    assert result["wilcoxon_method"].str.startswith("normal approximation").all()
    assert (result["hl_ci_low"] <= result["hl_estimate"]).all()
    assert (result["hl_estimate"] <= result["hl_ci_high"]).all()
    np.testing.assert_allclose(result["hl_ci_level"], 0.95, atol=1e-3)


# --------------------------------------------------------------------------------------
# Properties
# --------------------------------------------------------------------------------------

values = st.lists(st.integers(0, 30), min_size=1, max_size=12)
FLIPPED = ["change_mean", "change_median", "t_statistic", "hl_estimate", "cohen_dz",
           "rank_biserial"]
SAME = ["n", "change_sd", "t_df", "t_p_value", "wilcoxon_p_value", "sign_test_p_value",
        "hl_ci_level", "p_value_holm"]


def _quiet(frame):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NormalApproximationWarning)
        return paired_tests(frame)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), pre=values)
def test_swapping_visits_flips_signs(data, pre):
    post = data.draw(st.lists(st.integers(0, 30), min_size=len(pre), max_size=len(pre)))
    forward = one(_quiet(tidy(pre, post)))
    backward = one(_quiet(tidy(post, pre)))
    for column in FLIPPED:
        np.testing.assert_allclose(backward[column], -forward[column], rtol=1e-12,
                                   atol=1e-12, err_msg=column)
    for column in SAME:
        np.testing.assert_allclose(backward[column], forward[column], rtol=1e-12,
                                   atol=1e-12, err_msg=column)
    np.testing.assert_allclose(backward["change_ci_low"], -forward["change_ci_high"],
                               rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(backward["hl_ci_low"], -forward["hl_ci_high"], rtol=1e-12,
                               atol=1e-12)
    for stat in ("mean", "sd", "median", "q1", "q3", "min", "max"):
        assert backward[f"pre_{stat}"] == pytest.approx(forward[f"post_{stat}"],
                                                        nan_ok=True)
    # V becomes the rank sum of the other sign: V + V' = m(m + 1)/2 without ties
    m = forward["wilcoxon_n"]
    if m:
        assert forward["wilcoxon_statistic"] + backward["wilcoxon_statistic"] == \
            pytest.approx(m * (m + 1) / 2)
    assert backward["wilcoxon_method"] == forward["wilcoxon_method"]


@settings(max_examples=40, deadline=None)
@given(data=st.data(), pre=st.lists(st.integers(0, 900), min_size=2, max_size=10))
def test_reordering_patients_changes_nothing(data, pre):
    post = data.draw(st.lists(st.integers(0, 900), min_size=len(pre), max_size=len(pre)))
    pre, post = np.array(pre) / 100, np.array(post) / 100  # DAS28-like 2 decimals
    frame = tidy(pre, post)
    permutation = data.draw(st.permutations(range(len(frame))))
    shuffled = frame.iloc[list(permutation)].reset_index(drop=True)
    relabelled = shuffled.assign(patient_id=shuffled["patient_id"].map(
        dict(zip(range(1, len(pre) + 1), data.draw(st.permutations(
            [f"p{k}" for k in range(len(pre))]))))))
    expected = _quiet(frame)
    for other in (shuffled, relabelled):
        pd.testing.assert_frame_equal(_quiet(other), expected, check_exact=False,
                                      rtol=1e-12, atol=1e-12)


# --------------------------------------------------------------------------------------
# Edge cases
# --------------------------------------------------------------------------------------


def test_single_pair():
    row = one(paired_tests(tidy([5], [3])))
    assert row["n"] == 1 and row["change_mean"] == -2
    for column in ("pre_sd", "change_sd", "t_statistic", "t_p_value", "t_df", "cohen_dz",
                   "change_ci_low", "hl_ci_low", "hl_ci_high"):
        assert np.isnan(row[column]), column
    assert row["hl_estimate"] == -2
    assert row["wilcoxon_method"] == "exact" and row["wilcoxon_p_value"] == 1.0
    assert row["sign_test_p_value"] == 1.0
    assert "n = 1" in row["notes"]


def test_all_zero_changes():
    row = one(paired_tests(tidy([3, 5, 7], [3, 5, 7])))
    assert row["n"] == 3 and row["n_zero"] == 3 and row["change_mean"] == 0
    for column in ("t_statistic", "t_p_value", "cohen_dz", "wilcoxon_statistic",
                   "wilcoxon_p_value", "sign_test_p_value", "rank_biserial"):
        assert np.isnan(row[column]), column
    assert row["wilcoxon_method"] == "not computed (all differences zero)"
    # The Hodges-Lehmann estimate uses the differences the test uses: with zeros dropped
    # there are none; with Pratt's ranking every Walsh average is 0.
    assert np.isnan([row["hl_estimate"], row["hl_ci_low"], row["hl_ci_high"]]).all()
    assert row["hl_method"] == "not computed (all differences zero)"
    assert "all differences zero" in row["notes"]
    pratt = one(paired_tests(tidy([3, 5, 7], [3, 5, 7]), zero_method="pratt"))
    assert (pratt["hl_estimate"], pratt["hl_ci_low"], pratt["hl_ci_high"]) == (0, 0, 0)


def test_constant_nonzero_changes():
    # coin: pvalue(wilcoxsign_test(c(1, 3, 5, 7) ~ c(3, 5, 7, 9), distribution = "exact"))
    # -> 0.125 (four tied differences, all negative)
    row = one(paired_tests(tidy([3, 5, 7, 9], [1, 3, 5, 7])))
    assert row["wilcoxon_p_value"] == 0.125
    assert row["change_mean"] == -2 and row["change_sd"] == 0
    assert np.isnan(row["t_statistic"]) and np.isnan(row["cohen_dz"])
    assert "constant differences" in row["notes"]
    assert row["rank_biserial"] == -1 and row["hl_estimate"] == -2


def test_missing_follow_up():
    frame = tidy([1, 2, 3, 4], [0, np.nan, 1, 2])
    frame = frame[~((frame["patient_id"] == 4) & (frame["timepoint"] == "last"))]
    row = one(paired_tests(frame))
    assert row["n"] == 2 and row["n_excluded"] == 2
    assert "2 patient(s) without a complete pair excluded" in row["notes"]


def test_outcome_without_any_follow_up_value_gives_empty_row():
    frame = pd.concat([tidy([1, 2, 3], [0, 0, 0], "a"),
                       tidy([1, 2, 3], [np.nan] * 3, "b")])
    row = one(paired_tests(frame), "b")
    assert row["n"] == 0 and row["n_excluded"] == 3
    assert np.isnan(row["pre_mean"]) and np.isnan(row["t_p_value"])
    assert row["wilcoxon_method"] == "not computed (no pairs)"
    assert "no complete pairs" in row["notes"]


def test_timepoints_ordered_by_month_and_selectable():
    frame = pd.concat([tidy([5, 6, 7], [4, 4, 4], followup="m6").assign(month=6),
                       tidy([5, 6, 7], [3, 2, 1], followup="m3").assign(month=3)])
    frame = frame.drop_duplicates(["patient_id", "measure", "timepoint"])
    result = paired_tests(frame)
    assert list(result["comparison"]) == ["m3 vs baseline", "m6 vs baseline"]
    only = paired_tests(frame, followups=["m6"], outcomes=["x"])
    assert list(only["comparison"]) == ["m6 vs baseline"]


@pytest.mark.parametrize("mutate, message", [
    (lambda f: f.drop(columns="value"), "lacks column"),
    (lambda f: f.assign(value=["a"] * len(f)), "must be numeric"),
    (lambda f: f.assign(value=np.inf), "finite"),
    (lambda f: pd.concat([f, f.iloc[:1]]), "duplicated"),
    (lambda f: f[f["timepoint"] == "last"], "no rows with timepoint 'baseline'"),
    (lambda f: f[f["timepoint"] == "baseline"], "no follow-up rows"),
    (lambda f: f.assign(measure=[None] + ["x"] * (len(f) - 1)), "must not be missing"),
])
def test_structurally_invalid_input_raises(mutate, message):
    with pytest.raises(ValueError, match=message):
        paired_tests(mutate(tidy([1, 2], [0, 1])))


@pytest.mark.parametrize("kwargs, message", [
    ({"zero_method": "zsplit"}, r"zero_method must be one of \('wilcox', 'pratt'\)"),
    ({"p_adjust": "bonferroni"}, "p_adjust must be one of"),
    ({"ci_level": 95}, "ci_level must be"),
    ({"alpha": 0}, "alpha must be"),
    ({"outcomes": ["das28"]}, r"outcome\(s\) \['das28'\] not in column 'measure'"),
    ({"followups": ["m99"]}, "follow-up"),
])
def test_bad_options_raise(kwargs, message):
    with pytest.raises(ValueError, match=message):
        paired_tests(tidy([1, 2], [0, 1]), **kwargs)


def test_not_a_dataframe():
    with pytest.raises(ValueError, match="pandas DataFrame"):
        paired_tests([1, 2, 3])


# --------------------------------------------------------------------------------------
# Markdown
# --------------------------------------------------------------------------------------


def test_prepost_markdown(paper_result):
    text = to_markdown(paper_result, digits=3,
                            columns=["outcome", "n", "change_mean", "t_p_value",
                                     "hl_ci_level", "notes"])
    lines = text.splitlines()
    assert lines[0].split("|")[1].strip() == "outcome"
    cells = [cell.strip() for cell in lines[2].split("|")[1:-1]]
    assert cells[:5] == ["sledai2k", "4", "-5.500", "0.093", "0.75"]
    assert lines[1].startswith("|:--") and lines[1].split("|")[2].endswith(":")
    tiny = paper_result.assign(t_p_value=[1e-9, np.nan, -0.0])
    text = to_markdown(tiny, digits=3, columns=["t_p_value"])
    assert "<0.001" in text and "\u2014" in text and "-0.000" not in text
    with pytest.raises(ValueError, match="columns not in frame"):
        to_markdown(paper_result, columns=["nope"])


def test_two_arrays_give_the_row_a_tidy_table_of_them_gives():
    # The paper's SLEDAI-2K (Table 2) as two arrays, and as the tidy table they stand for.
    pre, post = [13.0, 6.0, 6.0, 0.0], [2.0, 1.0, 0.0, 0.0]
    tidy = pd.DataFrame({"patient_id": [1, 2, 3, 4] * 2, "measure": "value",
                         "timepoint": ["baseline"] * 4 + ["post"] * 4,
                         "value": pre + post})
    from_arrays = paired_tests(pre, post)
    pd.testing.assert_frame_equal(from_arrays, paired_tests(tidy))
    assert from_arrays.loc[0, "hl_estimate"] == -7.0  # hand: HL of the 3 non-zero changes
    named = paired_tests(pd.Series(pre, name="sledai2k"), pd.Series(post))
    assert named.loc[0, "outcome"] == "sledai2k"
    # None marks a missing value, as NaN does: pairs (1, 2), (2, 3), (4, 6) remain, by
    # hand changes 1, 1, 2 with mean 4/3.
    gaps = paired_tests([1, 2, None, 4], [2, 3, 4, 6])
    assert (gaps.loc[0, "n"], gaps.loc[0, "n_excluded"]) == (3, 1)
    assert gaps.loc[0, "change_mean"] == pytest.approx(4 / 3, rel=1e-12)


@pytest.mark.parametrize(("pre", "post", "message"), [
    ([1.0, 2.0], [1.0], "pre has 2 values but post has 1"),
    (["1", "2"], [1.0, 2.0], "pre must be numbers, not text"),
    ([1.0, 2.0], [1.0, "2"], "post must be numbers, not text"),
    (pd.Series([1.0, 2.0], index=[1, 2]), pd.Series([1.0, 2.0], index=[2, 3]),
     "indexed differently"),
])
def test_two_arrays_that_do_not_pair_are_refused(pre, post, message):
    with pytest.raises(ValueError, match=message):
        paired_tests(pre, post)
