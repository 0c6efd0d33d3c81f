"""The one tidy-table layer: validation, pairing, each patient's latest visit."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from helpers.data.tidy import (baseline_and_latest, change, encode, paired_visits,
                               visit_order)


def _table(rows):
    return pd.DataFrame(rows, columns=["patient_id", "measure", "timepoint", "month",
                                       "value", "unit"])


# Three patients; patient 2 lacks a DAS28 baseline, patient 3's m6 DAS28 is missing.
TABLE = _table([
    (1, "das28", "baseline", 0, 5.0, "points"), (1, "das28", "m3", 3, 4.0, "points"),
    (1, "das28", "m6", 6, 3.0, "points"), (2, "das28", "m3", 3, 2.0, "points"),
    (3, "das28", "baseline", 0, 6.0, "points"), (3, "das28", "m3", 3, 5.5, "points"),
    (3, "das28", "m6", 6, np.nan, "points"), (1, "crp", "baseline", 0, 12.0, "mg/L"),
    (1, "crp", "m6", 6, 3.0, "mg/L"),
])


def test_paired_visits_by_hand():
    visits = paired_visits(encode(TABLE))
    # Vocabulary measures first (das28), then others (crp); visits by median month; every
    # measure at every follow-up visit, even one with no rows (crp at m3).
    assert [(v.outcome, v.followup) for v in visits] == [
        ("das28", "m3"), ("das28", "m6"), ("crp", "m3"), ("crp", "m6")]
    m3, m6, crp_m3, crp = visits
    assert crp_m3.pre.size == 0 and crp_m3.n_excluded == 1  # patient 1's baseline only
    np.testing.assert_array_equal(m3.pre, [5.0, 6.0])   # patients 1 and 3
    np.testing.assert_array_equal(m3.post, [4.0, 5.5])
    assert m3.n_excluded == 1                            # patient 2: no baseline
    np.testing.assert_array_equal(m6.pre, [5.0])         # patient 3's m6 is missing
    assert m6.n_excluded == 1
    np.testing.assert_array_equal(crp.post, [3.0])


def test_baseline_and_latest_takes_each_patients_latest_value():
    encoded = encode(TABLE, sort_patients=True, require_month=True)
    pre, post = baseline_and_latest(encoded, "das28")
    # Patient 1: m6 (3.0); patient 2: no baseline; patient 3: m6 missing, so m3 (5.5).
    np.testing.assert_array_equal(pre, [5.0, np.nan, 6.0])
    np.testing.assert_array_equal(post, [3.0, 2.0, 5.5])
    pre, post = baseline_and_latest(encoded, "das28", followup="m6")
    np.testing.assert_array_equal(post, [3.0, np.nan, np.nan])
    assert np.isnan(baseline_and_latest(encoded, "sledai2k")[0]).all()  # absent measure


@pytest.mark.parametrize(("change", "message"), [
    (lambda t: t.assign(value=t["value"].astype(object).where(t.index != 2, "high")),
     "column 'value' must be numeric"),
    (lambda t: t.assign(value=t["value"].where(t.index != 2, np.inf)),
     r"column 'value' must be finite or missing \(row 2"),
    (lambda t: t.assign(patient_id=t["patient_id"].astype(object).where(t.index != 4, None)),
     r"column 'patient_id' must not be missing \(row 4\)"),
    (lambda t: pd.concat([t, t.iloc[[0]]], ignore_index=True),
     r"duplicated patient_id, measure, timepoint: \(1, 'das28', 'baseline'\)"),
    (lambda t: t.drop(columns="value"), r"lacks column\(s\) \['value'\]"),
])
def test_encode_rejects_bad_tables(change, message):
    with pytest.raises(ValueError, match=message):
        encode(change(TABLE))


def test_encode_requires_month_only_when_asked():
    encode(TABLE.drop(columns="month"))
    with pytest.raises(ValueError, match=r"lacks column\(s\) \['month'\]"):
        encode(TABLE.drop(columns="month"), require_month=True)


def test_pairing_errors():
    with pytest.raises(ValueError, match="no rows with timepoint 'baseline'"):
        paired_visits(encode(TABLE[TABLE["timepoint"] != "baseline"]))
    with pytest.raises(ValueError, match=r"outcome\(s\) \['esr'\] not in column"):
        paired_visits(encode(TABLE), outcomes=["esr"])
    with pytest.raises(ValueError, match=r"follow-up\(s\) \['m9'\]"):
        paired_visits(encode(TABLE), followups="m9")


# --- the one change and the one visit order ---------------------------------------------

# Values as clinics write them: up to 3 decimals, from 0 to 2,000 (the codebook's ranges).
_WRITTEN = st.decimals(min_value=0, max_value=2000, places=3, allow_nan=False)


@given(_WRITTEN, _WRITTEN)
def test_a_change_is_the_exact_decimal_difference(pre, post):
    # The independent source: decimal arithmetic on the numbers as written, then the
    # nearest double. The float subtraction alone misses it in the last bit.
    assert change(float(pre), float(post)) == float(post - pre)


def test_changes_on_both_sides_of_a_cut_off():
    # By hand: 3.8 - 2.6 = 1.1999999999999997 in doubles, 1.2 exactly written; 2.38 - 2.98
    # = -0.6000000000000001, -0.6 written; a fall to the same value is 0, never -0.0.
    assert change([2.6, 2.98, 5.0], [3.8, 2.38, 5.0]).tolist() == [1.2, -0.6, 0.0]
    assert str(change(5.0, 5.0)) == "0.0"
    assert np.isnan(change([np.nan, 1.0], [1.0, np.nan])).all()
    # With a sample's scale (the paired tests rank changes together): 12 digits of it.
    assert change([0.1], [0.3], scale=1000.0).tolist() == [0.2]
    assert change([0.1], [0.3], scale=0.0).tolist() == [0.3 - 0.1]  # nothing to scale by


def test_visits_in_their_one_order():
    months = {"m12": 12.0, "week24": 5.5, "baseline": 0.0, "last": 12.0, "V2": np.nan}
    assert visit_order(months) == ["baseline", "week24", "last", "m12", "V2"]
    # The baseline leads whatever a file says its month is.
    assert visit_order({"screening": -3.0, "T0": 0.5, "m6": 6.0}, "T0") == [
        "T0", "screening", "m6"]


def test_a_repeated_row_is_reported_at_its_own_positions():
    # Rows 0 and 4 repeated at the end (positions 8 and 9): row 0's key is at 0 and 8.
    base = pd.DataFrame({"patient_id": [1, 1, 2, 2, 3, 3, 4, 4], "measure": "das28",
                         "timepoint": ["baseline", "last"] * 4, "month": [0, 6] * 4,
                         "value": [1.0] * 8})
    frame = pd.concat([base, base.iloc[[0, 4]]], ignore_index=True)
    with pytest.raises(ValueError, match=r"\(1, 'das28', 'baseline'\) appears at row "
                                         r"positions \[0, 8\];"):
        encode(frame)


@pytest.mark.parametrize("spread", [5, 10**12])  # dense codes (counted), sparse (hashed)
def test_first_repeat_is_the_first_row_pandas_calls_a_duplicate(spread):
    from helpers.data.tidy import first_repeat

    rng = np.random.default_rng(spread % 97)
    for size in (0, 1, 2, 50, 1000):
        codes = rng.integers(0, min(spread, 3 * size + 1), size) * (spread // 5 or 1)
        expected = pd.Series(codes).duplicated().to_numpy()
        answer = first_repeat(codes)
        assert answer == (int(expected.argmax()) if expected.any() else None), (size, codes)
    assert first_repeat(np.arange(10**5) * 7) is None
