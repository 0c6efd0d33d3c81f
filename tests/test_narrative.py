"""Results prose: every number in it comes from the tables."""

from __future__ import annotations

import pandas as pd
import pytest

from helpers import paths
from helpers.analysis.narrative import direction_counts, prepost_narrative, smallest_exact_p
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
