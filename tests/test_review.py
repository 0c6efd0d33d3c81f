"""The review's analysis plan, and meta_pooled.csv against metafor.

Reference values: R 4.2.2, metafor 3.8-1, for each study set ``dat`` (xi = events,
ni = n) and transform (measure "PLO" or "PFT"):

    dat <- escalc(measure = "PLO", xi = xi, ni = ni)
    res <- rma(yi, vi, data = dat, method = "REML", control = list(threshold = 1e-12))
    predict(res, transf = transf.ilogit)            # PFT: transf.ipft.hm, targs = list(ni = ni)

with xi = c(2, 13, 3), ni = c(3, 25, 3) (review) and c(2, 13, 3, 4), c(3, 25, 3, 4)
(review + case series).
"""

from __future__ import annotations

import pandas as pd
import pytest

from helpers import paths
from helpers.analysis.review import (analysis_sets, case_series_study,
                                     leave_one_out_narrative, leave_one_out_panel,
                                     meta_analyses, review_narrative, studies_table)

# (analysis, transform, method): estimate, ci_low, ci_high, pi_low, pi_high, tau2, i2, q,
# printed by the R calls in the module docstring (sprintf "%.10f"; FE has no PI: its CI).
METAFOR = {
    ("review", "logit", "FE"): (0.5614007847, 0.3831069103, 0.7251353784, 0.3831069103, 0.7251353784, 0.0000000000, 0.0000000000, 1.5693907652),
    ("review", "logit", "DL"): (0.5614007847, 0.3831069103, 0.7251353784, 0.3831069103, 0.7251353784, 0.0000000000, 0.0000000000, 1.5693907652),
    ("review", "logit", "REML"): (0.5614007847, 0.3831069103, 0.7251353784, 0.3831069103, 0.7251353784, 0.0000000000, 0.0000000000, 1.5693907652),
    ("review", "ft", "FE"): (0.6032448510, 0.3958915138, 0.7968744913, 0.3958915138, 0.7968744913, 0.0000000000, 36.7802758460, 3.1635696403),
    ("review", "ft", "DL"): (0.6766693029, 0.3443731261, 0.9450807415, 0.1931250309, 1.0000000000, 0.0247811359, 36.7802758460, 3.1635696403),
    ("review", "ft", "REML"): (0.6786839171, 0.3420403701, 0.9488022708, 0.1863864199, 1.0000000000, 0.0260695849, 37.9665550753, 3.1635696403),
    ("review+case_series", "logit", "FE"): (0.5889084733, 0.4151811160, 0.7429765470, 0.4151811160, 0.7429765470, 0.0000000000, 5.7298719225, 3.1823442496),
    ("review+case_series", "logit", "DL"): (0.6078568679, 0.4086331012, 0.7766490045, 0.3734996143, 0.8012073547, 0.0677640693, 5.7298719225, 3.1823442496),
    ("review+case_series", "logit", "REML"): (0.6532492334, 0.3945172331, 0.8448895154, 0.2886434118, 0.8974021120, 0.3201936994, 22.3119824818, 3.1823442496),
    ("review+case_series", "ft", "FE"): (0.6706472415, 0.4773874398, 0.8436272999, 0.4773874398, 0.8436272999, 0.0000000000, 54.7259532537, 6.6263129002),
    ("review+case_series", "ft", "DL"): (0.7966656972, 0.4477665076, 0.9999858238, 0.1861381020, 1.0000000000, 0.0497676474, 54.7259532537, 6.6263129002),
    ("review+case_series", "ft", "REML"): (0.7946185915, 0.4511875993, 0.9996587743, 0.1968559626, 1.0000000000, 0.0471019136, 53.3587497006, 6.6263129002),
    ("resolution_only", "logit", "FE"): (0.5347495581, 0.3528436986, 0.7078589294, 0.3528436986, 0.7078589294, 0.0000000000, 0.0000000000, 0.2264090609),
    ("resolution_only", "logit", "DL"): (0.5347495581, 0.3528436986, 0.7078589294, 0.3528436986, 0.7078589294, 0.0000000000, 0.0000000000, 0.2264090609),
    ("resolution_only", "logit", "REML"): (0.5347495581, 0.3528436986, 0.7078589294, 0.3528436986, 0.7078589294, 0.0000000000, 0.0000000000, 0.2264090609),
    ("resolution_only", "ft", "FE"): (0.5383204733, 0.3278842126, 0.7432976892, 0.3278842126, 0.7432976892, 0.0000000000, 0.0000000000, 0.1534570916),
    ("resolution_only", "ft", "DL"): (0.5383204733, 0.3278842126, 0.7432976892, 0.3278842126, 0.7432976892, 0.0000000000, 0.0000000000, 0.1534570916),
    ("resolution_only", "ft", "REML"): (0.5383204733, 0.3278842126, 0.7432976892, 0.3278842126, 0.7432976892, 0.0000000000, 0.0000000000, 0.1534570916),
}


@pytest.fixture(scope="module")
def tables():
    studies = pd.read_csv(paths.DATA_PROCESSED / paths.STUDIES)
    patients = pd.read_csv(paths.DATA_PROCESSED / paths.PATIENTS)
    return studies, patients


def test_case_series_counts_the_papers_responders(tables):
    _, patients = tables
    row = case_series_study(patients).iloc[0]
    assert (row["events"], row["n"]) == (4, 4)  # Table 2: "Response: Yes" x 4


def test_analysis_sets(tables):
    studies, patients = tables
    sets = analysis_sets(studies, case_series_study(patients))
    assert {k: len(v) for k, v in sets.items()} == {"review": 3, "review+case_series": 4,
                                                      "resolution_only": 2}
    assert sets["resolution_only"]["study"].tolist() == ["Maicas 2024", "Tani 2024"]


def test_studies_table_exact_intervals(tables):
    studies, _ = tables
    table = studies_table(studies)
    # R: binom.test(13, 25)$conf.int -> 0.3130570445 0.7220319903
    tani = table.set_index("study").loc["Tani 2024"]
    assert tani["proportion"] == pytest.approx(0.52, abs=1e-12)
    assert tani["ci_low"] == pytest.approx(0.3130570445, abs=1e-9)
    assert tani["ci_high"] == pytest.approx(0.7220319903, abs=1e-9)


def test_committed_meta_pooled_matches_its_recomputation_and_metafor(tables):
    studies, patients = tables
    pooled = meta_analyses(analysis_sets(studies, case_series_study(patients)))
    committed = pd.read_csv(paths.TABLES / "meta_pooled.csv")
    assert committed.columns.tolist() == [
        "analysis", "transform", "method", "test", "k", "events", "n", "estimate", "ci_low",
        "ci_high", "pi_low", "pi_high", "tau2", "tau2_ci_low", "tau2_ci_high", "i2",
        "i2_ci_low", "i2_ci_high", "q", "q_df", "q_p_value", "h2", "q_wald",
        "q_wald_p_value"]
    # 3 sets x 2 transforms x (FE with Wald; DL and REML with Wald and HKSJ)
    assert len(committed) == 3 * 2 * (1 + 2 * 2)
    pd.testing.assert_frame_equal(committed, pooled, check_dtype=False, rtol=1e-12)
    row = committed.set_index(["analysis", "transform", "method", "test"])
    assert set(row.xs("z", level="test").index) == set(METAFOR)
    for key, expected in METAFOR.items():
        got = row.loc[(*key, "z"), ["estimate", "ci_low", "ci_high", "pi_low", "pi_high",
                                    "tau2", "i2", "q"]]
        assert got.tolist() == pytest.approx(expected, abs=1e-6), key
    # HKSJ rows (rma(test = "knha") + predict, review + case series, logit, REML; the
    # full set of test = "knha" references is in test_meta.py).
    knha = row.loc[("review+case_series", "logit", "REML", "knha")]
    assert knha[["ci_low", "ci_high", "pi_low", "pi_high"]].tolist() == pytest.approx(
        [0.29657083856271638, 0.89382164639445194, 0.15336539144773056,
         0.95143881700730737], abs=1e-9)


def test_narrative_quotes_the_table(tables):
    studies, patients = tables
    pooled = meta_analyses(analysis_sets(studies, case_series_study(patients)))
    text = review_narrative(pooled, transform="logit", method="REML").data
    # HKSJ (metafor rma(test = "knha"), review, logit, REML): 0.5614 (0.2387-0.8393)
    assert "56%, 95% CI 24%–84%," in text
    assert "18/31 patients in 3 studies" in text
    # The Wald interval as sensitivity: review + case series 0.3945-0.8449 (METAFOR).
    assert "95% CI 39%–84% instead of 30%–89%" in text
    wald = review_narrative(pooled, transform="logit", method="REML", test="z").data
    assert "56%, 95% CI 38%–73%," in wald and "**Wald intervals**" not in wald


def test_committed_leave_one_out_matches_metafor(tables):
    # R: leave1out(rma(yi, vi, data = escalc("PLO", xi = c(2, 13, 3, 4),
    #    ni = c(3, 25, 3, 4)), method = "REML", test = "knha",
    #    control = list(threshold = 1e-12)), transf = transf.ilogit)
    committed = pd.read_csv(paths.TABLES / "meta_leave1out.csv")
    assert committed["omitted"].tolist() == [
        "Maicas 2024", "Tani 2024", "Ceccarelli 2025", "Cassone 2025 (this case series)"]
    assert set(committed[["analysis", "transform", "method", "test"]].itertuples(
        index=False, name=None)) == {("review+case_series", "logit", "REML", "knha")}
    expected = {
        "estimate": [0.70428301268497706, 0.81476864283900963, 0.58091140492318716,
                     0.56140078470872135],
        "ci_low": [0.10849358843116562, 0.35047610128524065, 0.1860359164576682,
                   0.23874492552541066],
        "ci_high": [0.97899521259002398, 0.97286825595192938, 0.89369082803038191,
                    0.83933261716991237],
        "tau2": [0.85615359187389106, 0, 0.075142384225909048, 0],
    }
    for column, values in expected.items():
        assert committed[column].tolist() == pytest.approx(values, abs=1e-9), column
    studies, patients = tables
    pooled = meta_analyses(analysis_sets(studies, case_series_study(patients)))
    table, rows, full = leave_one_out_panel(studies, case_series_study(patients), pooled,
                                            transform="logit", method="REML")
    pd.testing.assert_frame_equal(committed, table, check_dtype=False, rtol=1e-11)
    assert rows["study"].iloc[1] == "Without Tani 2024" and full["label"].item() == (
        "All studies")
    text = leave_one_out_narrative(table, full).data
    # 0.6532 with all four; 0.5614 without the case series; 0.8148 without Tani (25 of
    # the 35 patients, 71%); HKSJ interval without Tani 0.3505-0.9729.
    assert "(65% with all 4 studies) ranges from 56%" in text
    assert "to 81%, without *Tani 2024*." in text
    assert "its 25 patients are 71% of the 35" in text and "(35%–97%)" in text


# --- the Bayesian sensitivity analysis ------------------------------------------------
# bayesmeta 3.4 (delta = 1e-5, epsilon = 1e-7; see test_bayes.py for the call), posterior
# median and central 95% credible interval of the pooled proportion, and the posterior
# median of tau, review + case series:
BAYESMETA_MAIN = {0.5: (0.622176798923, 0.401606352712, 0.840461383355, 0.343599167557),
                  1.0: (0.645608411351, 0.379142606884, 0.898741312628, 0.59136308405)}


def test_committed_meta_bayes_matches_its_recomputation_and_bayesmeta(tables):
    from helpers.analysis.review import bayes_analyses
    from helpers.meta import BAYES_COLUMNS

    studies, patients = tables
    table, results = bayes_analyses(analysis_sets(studies, case_series_study(patients)))
    committed = pd.read_csv(paths.TABLES / "meta_bayes.csv")
    assert committed.columns.tolist() == list(BAYES_COLUMNS)
    pd.testing.assert_frame_equal(committed, table, check_dtype=False, rtol=1e-12)
    assert committed["prior"].tolist() == ["half-normal(0.5)", "half-normal(1)"] * 3
    main = committed[committed["analysis"] == "review+case_series"].set_index("tau_scale")
    for scale, expected in BAYESMETA_MAIN.items():
        got = main.loc[scale, ["estimate", "ci_low", "ci_high", "tau"]].tolist()
        assert got == pytest.approx(expected, rel=1e-5), scale
    assert set(results) == {(a, s) for a in ("review", "review+case_series",
                                              "resolution_only") for s in (0.5, 1.0)}


def test_bayes_curves_narrative_and_forest_row(tables):
    import numpy as np

    from helpers.analysis.review import (bayes_analyses, bayes_curves, bayes_narrative,
                                         forest_panel)

    studies, patients = tables
    case_series = case_series_study(patients)
    sets = analysis_sets(studies, case_series)
    table, results = bayes_analyses(sets)
    curves = bayes_curves(results, "review+case_series")
    assert set(curves["parameter"]) == {"proportion", "tau"}
    for (prior, parameter), group in curves.groupby(["prior", "parameter"]):
        # The densities on their grids hold (nearly) all the posterior mass.
        assert np.trapezoid(group["posterior"], group["x"]) == pytest.approx(1, abs=2e-3)
    pooled = meta_analyses(sets)
    text = bayes_narrative(table, pooled, analysis="review+case_series").data
    # 0.6222 (0.4016-0.8405) and 0.6456 (0.3791-0.8987), REML-HKSJ 0.6532 (0.2966-0.8938)
    assert "is 62% (95% credible interval 40%–84%;" in text
    assert "is 65% (95% credible interval 38%–90%;" in text
    assert "with HKSJ intervals is 65% (95% CI 30%–89%)" in text
    _, rows = forest_panel(studies, case_series, pooled, transform="logit", method="REML",
                           bayes=table)
    bayesian = rows.iloc[1]
    assert bayesian["label"] == "Bayesian, half-normal(0.5) prior for τ"
    assert bayesian["ci_low"] == pytest.approx(BAYESMETA_MAIN[0.5][1], rel=1e-5)
