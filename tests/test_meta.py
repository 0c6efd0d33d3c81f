"""Tests for helpers.meta.pool_proportions against R's metafor 3.8-1.

Reference values: tests/reference/metafor_*.csv, written by the R script
tests/reference/metafor.R (R 4.2.2, metafor 3.8-1, lme4 1.1-31).

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

from __future__ import annotations

import doctest
import math
import warnings
from pathlib import Path

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


# The reference values: tests/reference/metafor_*.csv, written by tests/reference/metafor.R
# (R 4.2.2, metafor 3.8-1, lme4 1.1-31 for rma.glmm) with every number as its exact double
# (%.17g); re-run it with Rscript to regenerate them.
REFERENCE = Path(__file__).parent / "reference"


def _metafor(name, *keys):
    """``{key: {column: value}}`` from tests/reference/metafor_<name>.csv.

    The key is the tuple of the ``keys`` columns (or the one value); a file with a ``study``
    column holds one row per study, and each of its columns becomes a list in study order.
    Read as text and converted by Python's float, which gives back each double exactly.
    """
    table = pd.read_csv(REFERENCE / f"metafor_{name}.csv", dtype=str)
    columns = [c for c in table.columns if c not in keys and c != "study"]
    refs = {}
    for key, rows in table.groupby(list(keys), sort=False):
        values = rows[columns].astype(float)
        refs[key if len(keys) > 1 else key[0]] = (
            {c: values[c].tolist() for c in columns} if "study" in table
            else values.iloc[0].to_dict())
    return refs


# escalc and its summary, per study (k1's single study as a list of one).
R_STUDIES = _metafor("studies", "case", "transform")
# rma (FE, DL, REML) and predict, with weights() per study.
_WEIGHTS = _metafor("weights", "case", "transform", "method")
R_POOLED = {key: {"weight": _WEIGHTS[key]["weight"], **fit}
            for key, fit in _metafor("pooled", "case", "transform", "method").items()}
# rma.glmm (ML), lme4's optimiser run to rhoend = 1e-12.
R_GLMM = _metafor("glmm", "case")
# binom.test, per study.
R_CLOPPER_PEARSON = _metafor("clopper_pearson", "case")
# review4, DL, level = 90: the studies' intervals and the pooled ones.
_LEVEL90_STUDIES = _metafor("level90_studies", "transform")
R_LEVEL90 = {key: {**_LEVEL90_STUDIES[key], **fit}
             for key, fit in _metafor("level90", "transform").items()}


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
        (dict(events=["a"], n=[3]), r"events must be numbers, not text"),
        (dict(events=["3"], n=[4]), r"events must be numbers, not text \(got .3.\)"),
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
        (dict(events=[1], n=[3], level=95), r"level must be a number strictly between 0 and 1"),
        (dict(events=[1], n=[3], level=0), r"level must be a number strictly between 0 and 1"),
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
# metafor's rma with each test, predict, and confint's Q-profile intervals of tau2 and I^2
# (metafor_tests.csv). REML and the Q-profile are run to tight tolerances: metafor's
# defaults stop about 1e-6 and 1e-4 short; its Q-profile search also stops at
# tau2.max = 100 by default, below the bound of two studies.

BCG_TREATED = ([4, 6, 3, 62, 33, 180, 8, 505, 29, 17, 186, 5, 27],  # dat.bcg: tpos,
               [123, 306, 231, 13598, 5069, 1541, 2545, 88391, 7499, 1716, 50634, 2498,
                16913])                                                # tpos + tneg
R_TESTS = _metafor("tests", "case", "transform", "method", "test")
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
# metafor's leave1out for the logit; for Freeman-Tukey, refits without each study, each
# back-transformed with the harmonic mean n of the studies left (what leave1out computes,
# with the subset's own ni). `study` in metafor_leave1out.csv is the study left out.

R_LEAVE1OUT = _metafor("leave1out", "case", "transform", "method", "test")


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


def test_a_pooling_result_prints_as_metafor_lays_out_its_fit():
    # The numbers are the pooled row's (matched to metafor elsewhere in this file): the
    # summary shows each at the precision metafor's print() uses.
    result = pool_proportions([3, 10, 4], [4, 25, 9], level=0.9, labels=["a", "b", "c"])
    row = result.pooled.iloc[0]
    text = str(result)
    assert text.startswith("Random-effects model (k = 3; tau² estimator: REML; logit scale")
    assert f"Q(df = 2) = {row['q']:.4f}, p = {row['q_p_value']:.4f}" in text
    assert (f"Pooled proportion: {row['estimate']:.4f} (90% CI {row['ci_low']:.4f} to "
            f"{row['ci_high']:.4f}; 90% PI {row['pi_low']:.4f} to {row['pi_high']:.4f})") in text
    assert "Events: 17 of 38 patients" in text
    html = result._repr_html_()
    assert html.startswith("<pre>Random-effects model") and "<table" in html
    assert str(pool_proportions([3, 10, 4], [4, 25, 9], method="FE")).startswith(
        "Fixed-effect model (k = 3; logit scale; Wald z)")


def test_the_forest_plot_follows_the_level_of_the_result():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from helpers.figures import forest_plot

    result = pool_proportions([3, 10, 4], [4, 25, 9], level=0.9, labels=["a", "b", "c"])
    try:
        assert forest_plot(result.studies, result.pooled).get_xlabel() == "Proportion (90% CI)"
        assert forest_plot(result).get_xlabel() == "Proportion (90% CI)"
        assert forest_plot(result, level=0.95).get_xlabel() == "Proportion (95% CI)"
        with pytest.raises(TypeError, match="a pooling result alone"):
            forest_plot(result, result.pooled)
    finally:
        plt.close("all")
