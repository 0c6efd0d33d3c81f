"""One Hodges-Lehmann definition per zero method: the estimate, its interval and the test.

For random samples with ties and zeros (integers, as SLEDAI-2K is; decimals, as DAS28
is), and both zero methods:

- the estimate lies inside its interval;
- the estimate is the median of the Walsh averages of the differences the test uses
  (the non-zero ones with ``zero_method="wilcox"``, all with ``"pratt"``);
- the interval is the brute-force inversion of the exact signed-rank test: every shift
  ``theta`` at which the test of ``d - theta`` accepts, its p-value counted here over all
  2^n sign patterns (independent of the package's convolution), evaluated between
  consecutive Walsh averages, where the statistic is constant; where even the most extreme
  shift is accepted, the whole Walsh range (R's ``qu <- 1``);
- the test itself, batched over samples (as the interval runs it over its shifts), is
  that brute-force test, row by row.
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from helpers.paired import paired_tests, signed_rank_tests


def _midranks(values: np.ndarray) -> np.ndarray:
    """Average ranks, by hand (scipy's rankdata 'average')."""
    order = sorted(range(len(values)), key=lambda i: values[i])
    ranks = np.empty(len(values))
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        for k in range(i, j + 1):
            ranks[order[k]] = (i + j) / 2 + 1
        i = j + 1
    return ranks


def _p_brute_force(x: np.ndarray, zero_method: str) -> float:
    """Two-sided exact (conditional) signed-rank p-value over all 2^n sign patterns."""
    if zero_method == "wilcox":
        x = x[x != 0]
        ranks = _midranks(np.abs(x))
    else:  # Pratt: zeros take the lowest ranks, then drop out
        ranks = _midranks(np.abs(x))[x != 0]
        x = x[x != 0]
    if len(x) == 0:
        return 1.0
    observed = ranks[x > 0].sum()
    signs = np.array(list(itertools.product([0, 1], repeat=len(x))))
    sums = signs @ ranks
    low, high = np.mean(sums <= observed + 1e-9), np.mean(sums >= observed - 1e-9)
    return min(1.0, 2 * min(low, high))


def _inverted_by_brute_force(x: np.ndarray, zero_method: str, level: float):
    walsh = np.unique((x[:, None] + x[None, :])[np.triu_indices(len(x))] / 2)
    if len(walsh) == 1:
        return walsh[0], walsh[0]
    shifts = np.r_[walsh[0] - 1, (walsh[:-1] + walsh[1:]) / 2, walsh[-1] + 1]
    accepted = [_p_brute_force(x - shift, zero_method) >= (1 - level) * (1 - 1e-12)
                for shift in shifts]
    if accepted[0] or accepted[-1]:
        return walsh[0], walsh[-1]
    inside = np.flatnonzero(accepted)
    return walsh[inside[0] - 1], walsh[inside[-1]]


def _row(d, zero_method, level):
    d = np.asarray(d, dtype=float)
    pre = np.full(len(d), 50.0)
    tidy = pd.DataFrame({
        "patient_id": np.tile(np.arange(len(d)), 2),
        "measure": "score", "timepoint": np.repeat(["baseline", "m6"], len(d)),
        "month": np.repeat([0.0, 6.0], len(d)), "value": np.r_[pre, pre + d]})
    return paired_tests(tidy, outcomes=["score"], zero_method=zero_method,
                        ci_level=level).iloc[0]


integers = st.lists(st.integers(-6, 4), min_size=2, max_size=13)
decimals = st.lists(st.sampled_from([-2.5, -1.25, -1.0, -0.5, 0.0, 0.25, 0.5, 1.0, 1.75]),
                    min_size=2, max_size=13)


@settings(max_examples=150, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(d=st.one_of(integers, decimals), zero_method=st.sampled_from(["wilcox", "pratt"]),
       level=st.sampled_from([0.9, 0.95]))
def test_the_estimate_and_interval_belong_to_the_test_beside_them(d, zero_method, level):
    d = np.asarray(d, dtype=float)
    x = np.sort(d[d != 0] if zero_method == "wilcox" else d)
    row = _row(d, zero_method, level)
    if len(x) == 0:
        assert np.isnan(row["hl_estimate"]) and np.isnan(row["hl_ci_low"])
        return
    walsh = (x[:, None] + x[None, :])[np.triu_indices(len(x))] / 2
    assert row["hl_estimate"] == pytest.approx(np.median(walsh), abs=1e-12)
    if len(x) < 2:
        return
    assert row["hl_ci_low"] <= row["hl_estimate"] <= row["hl_ci_high"]
    low, high = _inverted_by_brute_force(x, zero_method, level)
    assert (row["hl_ci_low"], row["hl_ci_high"]) == pytest.approx((low, high), abs=1e-12)
    assert np.isfinite(row["hl_ci_level"]) and 0 < row["hl_ci_level"] <= 1


@settings(max_examples=100, deadline=None, derandomize=True)
@given(rows=st.integers(1, 10).flatmap(lambda n: st.lists(
           st.lists(st.sampled_from([-2.5, -1.0, -0.5, 0.0, 0.5, 1.0, 1.75]), min_size=n,
                    max_size=n), min_size=1, max_size=6)),
       zero_method=st.sampled_from(["wilcox", "pratt"]))
def test_the_batched_test_is_the_brute_force_test_of_each_row(rows, zero_method):
    # The exact (conditional) signed-rank p-value that the interval above inverts, for
    # a batch of samples with ties and zeros at once (as the interval tests its shifts):
    # each row's is the one counted over its own 2^n sign patterns.
    p = signed_rank_tests(rows, zero_method=zero_method).p_value
    for row, p_row in zip(rows, p, strict=True):
        x = np.asarray(row, dtype=float)
        expected = _p_brute_force(x, zero_method) if np.any(x) else np.nan
        assert p_row == pytest.approx(expected, abs=1e-12, nan_ok=True), row


@pytest.mark.parametrize(("d", "zero_method"), [
    # Four non-zero differences, no ties: no 95% level is reachable (2/16 > 0.05).
    ([-3, -1, 2, -5, 0, 0], "wilcox"),
    # The same with ties: the conditional branch gives the same finite range.
    ([-3, -3, 2, -5, 0, 0], "wilcox"),
])
def test_an_unreachable_level_gives_the_walsh_range_in_every_branch(d, zero_method):
    row = _row(d, zero_method, 0.95)
    x = np.asarray([v for v in d if v != 0], dtype=float)
    assert (row["hl_ci_low"], row["hl_ci_high"]) == (x.min(), x.max())
    # The level the range reaches: 1 - 2 P(V = 0) = 1 - 2/2^4.
    assert row["hl_ci_level"] == pytest.approx(1 - 2 / 2**4, abs=1e-12)


def test_forty_patients_with_nine_zero_changes_keep_the_estimate_inside():
    # The case: integer SLEDAI-2K changes, 9 zeros among 40; the estimate of all
    # 40 differences was -3.0 while the interval of the 31 non-zero ones was (-5, -4).
    rng = np.random.default_rng(4)
    d = np.r_[np.zeros(9), -rng.integers(1, 9, 31)].astype(float)
    row = _row(d, "wilcox", 0.95)
    assert row["hl_ci_low"] <= row["hl_estimate"] <= row["hl_ci_high"]
    x = np.sort(d[d != 0])
    walsh = (x[:, None] + x[None, :])[np.triu_indices(len(x))] / 2
    assert row["hl_estimate"] == np.median(walsh)
