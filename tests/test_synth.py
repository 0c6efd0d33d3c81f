"""Tests of helpers.synth: validity, determinism and plausibility of synthetic cohorts."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from helpers.data.schema import measurement_schema
from helpers.paired import paired_tests
from helpers.synth import SYNTH_MEASURES, make_cohort
from helpers.vocab import MEASURE_CODES, MEASURES

COLUMNS = ["patient_id", "measure", "timepoint", "month", "value", "unit"]


@pytest.fixture(scope="module")
def cohort() -> pd.DataFrame:
    return make_cohort(5_000, visits=("baseline", "m3", "m6", "last"), seed=42,
                       missing_rate=0.02)


def test_format(cohort):
    assert list(cohort.columns) == COLUMNS
    assert len(cohort) == 5_000 * 3 * 4
    assert cohort["patient_id"].dtype == np.int64 and cohort["month"].dtype == np.int64
    assert cohort["value"].dtype == np.float64
    for column in ("measure", "timepoint", "unit"):
        assert pd.api.types.is_string_dtype(cohort[column].dtype)
    # Every measure of the vocabulary, in its order, with its unit.
    assert cohort["measure"].unique().tolist() == list(MEASURE_CODES)
    units = {code: measure.unit for code, measure in MEASURES.items()}
    assert (cohort["unit"] == cohort["measure"].map(units)).all()


def test_ranges(cohort):
    value = cohort.set_index("measure")["value"].dropna()
    sledai = value.loc["sledai2k"]
    assert sledai.between(0, 105).all() and (sledai == np.round(sledai)).all()
    assert sledai.quantile(0.9) <= 20  # mostly 0-20
    assert value.loc["das28"].between(0, 10).all()
    assert (value.loc["gc_mg_day"] >= 0).all()


def test_keys_unique_and_every_follow_up_has_baseline(cohort):
    assert not cohort.duplicated(["patient_id", "measure", "timepoint"]).any()
    keys = cohort[["patient_id", "measure"]].drop_duplicates()
    baseline = cohort[cohort["timepoint"] == "baseline"][["patient_id", "measure"]]
    assert len(baseline) == len(keys)
    follow = cohort[cohort["timepoint"] != "baseline"]
    merged = follow.merge(baseline, on=["patient_id", "measure"], how="left",
                          indicator=True)
    assert (merged["_merge"] == "both").all()


def test_months_increase_per_visit(cohort):
    one = cohort[cohort["measure"] == "das28"]
    months = one["month"].to_numpy().reshape(5_000, 4)
    assert (months[:, 0] == 0).all()
    assert (months[:, 1] == 3).all() and (months[:, 2] == 6).all()
    assert (np.diff(months, axis=1) > 0).all()
    # the same visit has the same month for every measure
    sledai = cohort[cohort["measure"] == "sledai2k"]["month"].to_numpy()
    assert (sledai == one["month"].to_numpy()).all()


def test_missing_rate(cohort):
    assert cohort["value"].isna().mean() == pytest.approx(0.02, abs=0.005)
    assert make_cohort(100)["value"].notna().all()


def test_plausible_course(cohort):
    wide = cohort.pivot_table(index=["measure", "patient_id"], columns="timepoint",
                              values="value")
    for measure in SYNTH_MEASURES:
        part = wide.loc[measure]
        # baseline and follow-up correlate, and patients improve on average
        assert part["baseline"].corr(part["last"]) > 0.2, measure
        assert part["last"].mean() < part["baseline"].mean(), measure
    gc = wide.loc["gc_mg_day"]
    assert ((gc["last"] == 0) & (gc["baseline"] > 0)).any()  # some stop
    assert (gc["last"] > gc["baseline"]).any()                # some flare


def test_deterministic_by_seed():
    first = make_cohort(300, seed=7)
    pd.testing.assert_frame_equal(first, make_cohort(300, seed=7))
    assert not first["value"].equals(make_cohort(300, seed=8)["value"])
    # a measure's values do not depend on which other measures are requested
    das_only = make_cohort(300, seed=7, measures=["das28"])
    pd.testing.assert_frame_equal(
        das_only.reset_index(drop=True),
        first[first["measure"] == "das28"].reset_index(drop=True))


def test_visits_as_int_and_default():
    cohort = make_cohort(10, visits=3)
    assert cohort["timepoint"].unique().tolist() == ["baseline", "m3", "m6"]
    default = make_cohort(10)
    assert default["timepoint"].unique().tolist() == ["baseline", "last"]
    last = default[default["timepoint"] == "last"]["month"]
    assert last.between(3, 15).all()


def test_feeds_paired_tests_and_schema():
    cohort = make_cohort(200, seed=1)
    result = paired_tests(cohort)
    assert result["n"].tolist() == [200, 200, 200]
    measurement_schema().validate(cohort)


@pytest.mark.parametrize("kwargs, message", [
    ({"n_patients": 0}, "n_patients must be an integer >= 1"),
    ({"n_patients": 2.5}, "n_patients"),
    ({"n_patients": 5, "visits": 1}, "visits must be >= 2"),
    ({"n_patients": 5, "visits": ("last", "baseline")}, "start with 'baseline'"),
    ({"n_patients": 5, "visits": ("baseline", "m6", "m3")}, "chronological"),
    ({"n_patients": 5, "visits": ("baseline", "last", "m6")}, "chronological"),
    ({"n_patients": 5, "visits": ("baseline", "m 3")}, "labels must match"),
    ({"n_patients": 5, "measures": ("crp",)}, "measures must be distinct values from"),
    ({"n_patients": 5, "seed": -1}, "seed"),
    ({"n_patients": 5, "missing_rate": 1.0}, "missing_rate"),
])
def test_invalid_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        make_cohort(**kwargs)
