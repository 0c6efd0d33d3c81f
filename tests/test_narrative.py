"""Results prose: every number in it comes from the tables."""

from __future__ import annotations

import pandas as pd
import pytest

from helpers import paths
from helpers.analysis.narrative import direction_counts, prepost_narrative, smallest_exact_p
from helpers.analysis.planning import power_narrative, power_table
from helpers.analysis.review import (analysis_sets, case_series_study, meta_analyses,
                                     review_narrative)
from helpers.paired import paired_tests
from helpers.analysis.summary import patient_features
from helpers.tables import to_markdown


@pytest.mark.parametrize(("n", "expected"), [
    (1, 1.0), (3, 0.25), (4, 0.125), (5, 0.0625), (6, 0.03125),
    # 2**(1 - 1024) is still a (subnormal) double; far beyond, it underflows to 0 where
    # 2.0 ** n overflowed (OverflowError above n = 1023).
    (1024, 2.0 ** -1023), (20_000, 0.0)])
def test_smallest_exact_p(n, expected):
    # All n signs alike: probability 2 * (1/2)**n, two-sided.
    assert smallest_exact_p(n) == expected


@pytest.fixture(scope="module")
def measurements():
    return pd.read_csv(paths.DATA_PROCESSED / paths.MEASUREMENTS)


def test_direction_counts(measurements):
    counts = direction_counts(measurements).set_index("measure")
    # Table 2: SLEDAI-2K 13->2, 6->1, 6->0, 0->0; DAS28 three fell, 2.38->2.38;
    # glucocorticoids 8->0, 6->4, 8->2 (patient 1 has no baseline dose).
    assert counts.loc["sledai2k"].tolist() == [3, 1, 0, 4]
    assert counts.loc["das28"].tolist() == [3, 1, 0, 4]
    assert counts.loc["gc_mg_day"].tolist() == [3, 0, 0, 3]


def test_prepost_narrative_is_honest_about_n(measurements):
    text = prepost_narrative(paired_tests(measurements), measurements=measurements).data
    assert "mean change -5.50" in text  # SLEDAI-2K, (2-13 + 1-6 + 0-6 + 0-0) / 4
    assert "mean change -2.75" in text  # DAS28, (-5.04 - 3.70 - 2.26 + 0) / 4
    assert "No change reaches significance at the 0.05 level" in text
    assert "cannot reach 0.05 whatever the data" in text
    assert "no patient worsened on any measure" in text


def test_to_markdown_rounds_only_for_display():
    frame = pd.DataFrame({"outcome": ["a"], "t_p_value": [0.00001], "change": [-0.0001],
                          "flag": [True]})
    text = to_markdown(frame)
    assert "<0.001" in text and "0.000" in text and "-0.000" not in text
    assert frame.loc[0, "t_p_value"] == 0.00001


def test_patient_features_keeps_missing_organs_missing():
    patients = pd.read_csv(paths.DATA_PROCESSED / paths.PATIENTS)
    therapies = pd.read_csv(paths.DATA_PROCESSED / paths.THERAPIES)
    features, groups = patient_features(patients, therapies)
    assert list(groups) == ["Autoantibodies", "Arthritis", "Other organs",
                            "Previous therapy", "Intolerance"]
    assert pd.isna(features.loc[features["patient_id"] == 2, "Cutaneous"].item())
    assert features["RTX (prev.)"].tolist() == [False, False, True, True]


# --- the caveats are built from the data, not written for the paper ---------------------



def _review_text(pooled_studies, patients, **kwargs):
    pooled = meta_analyses(analysis_sets(pooled_studies, case_series_study(patients)),
                           transforms=("logit",), methods=("REML",))
    return review_narrative(pooled, transform="logit", method="REML", **kwargs).data


def test_the_review_caveats_on_the_paper_name_its_studies():
    studies = pd.read_csv(paths.DATA_PROCESSED / paths.STUDIES)
    patients = pd.read_csv(paths.DATA_PROCESSED / paths.PATIENTS)
    text = _review_text(studies, patients, studies=studies)
    # The paper's review table: 3, 25 and 3 patients; Maicas and Tani report resolution,
    # Ceccarelli a reduction in scores; case series, a cohort: no control group.
    assert ("Three small studies (3, 25 and 3 patients) and this series of 4 cannot "
            "estimate") in text
    assert "almost no power with k = 3–4," in text
    assert ("*resolution* of arthritis (Maicas, Tani) is stricter than a *reduction* in "
            "scores (Ceccarelli) or a clinician's judgement of response (this series)") in text
    assert "None of the studies had a control group." in text


def test_the_review_caveats_follow_other_studies():
    studies = pd.read_csv(paths.DATA_PROCESSED / paths.STUDIES)
    patients = pd.read_csv(paths.DATA_PROCESSED / paths.PATIENTS)
    # Five made-up studies, all scoring improvement, one of them randomised.
    other = pd.concat([studies] * 2, ignore_index=True).iloc[:5].assign(
        study=[f"S{i} 2026" for i in range(5)], author=[f"S{i}" for i in range(5)],
        n=[10, 12, 20, 8, 30], events=[5, 6, 12, 4, 20], outcome_definition="improvement",
        design=["Case series"] * 4 + ["Randomised controlled trial"])
    text = _review_text(other, patients, studies=other)
    assert "Five small studies (10, 12, 20, 8 and 30 patients) and this series of 4" in text
    assert "k = 5–6," in text
    assert "Maicas" not in text and "stricter" not in text
    assert "control group" not in text
    # Without the studies table: the totals only, from the pooled rows.
    text = _review_text(other, patients)
    assert "Five published studies (80 patients in all) and this series of 4" in text


def test_the_power_caveat_says_whether_anyone_worsened(measurements):
    power = power_table(measurements, measures=["sledai2k", "das28"], n=[4], reps=20)
    needed = power.assign(target=0.8, n_needed=float("nan"))[
        ["measure", "test", "target", "n_needed"]].drop_duplicates()
    text = power_narrative(power, needed, alpha=0.05, measurements=measurements).data
    assert "as these few did: with four patients of whom none worsened" in text
    # Patient 4's SLEDAI-2K rises from 0 to 3 (made up): one worsened.
    worse = measurements.copy()
    rows = ((worse["patient_id"] == 4) & (worse["measure"] == "sledai2k")
            & (worse["timepoint"] != "baseline"))
    worse.loc[rows, "value"] = 3.0
    text = power_narrative(power, needed, alpha=0.05, measurements=worse).data
    assert "some of whom worsened (1 on SLEDAI-2K)" in text
    assert "none worsened" not in text
    text = power_narrative(power, needed, alpha=0.05).data
    assert "as these few did. Each point" in text


def test_one_number_style_on_a_cohort_with_several_visits():
    # 200 synthetic patients, three follow-ups: every p-value is tiny, several visits.
    from helpers.synth import make_cohort
    cohort = make_cohort(200, visits=["baseline", "m3", "m6", "m12"], seed=3)
    text = prepost_narrative(paired_tests(cohort), measurements=cohort).data
    assert "p = <" not in text and "p < 0.001" in text
    assert ".0% CI" not in text and "(95% CI" in text
    # Holm's verdict names the visit of each comparison, not "SLEDAI-2K, SLEDAI-2K".
    assert "SLEDAI-2K (m3 vs baseline), SLEDAI-2K (m6 vs baseline)" in text
    assert "smallest attainable p = 1.2e-60" in text  # 2 * 2**-200


def test_an_interval_of_percentages_shows_its_width():
    from helpers.formats import percent_interval
    # By hand: 14.12% and 14.48% print as 14% twice at whole percents.
    assert percent_interval(0.1412, 0.1448) == "14.1%–14.5%"
    assert percent_interval(0.19412, 0.99369) == "19%–99%"
