"""Tests of helpers.proportions against R 4.2.2.

Clopper-Pearson: ``binom.test(x, n)$conf.int``; Wilson:
``prop.test(x, n, correct = FALSE)$conf.int`` (values pasted from Rscript).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from helpers.proportions import PROPORTION_METHODS, ProportionCI, proportion_ci

# (events, n): (binom.test lower, upper), (prop.test(correct = FALSE) lower, upper)
R_INTERVALS = {
    (0, 4): ((0.0, 0.60236463561647458), (0.0, 0.48989083645459719)),
    (1, 4): ((0.0063094632097098697, 0.80587955031675662),
             (0.045587260809700589, 0.69935815741759799)),
    (3, 4): ((0.19412044968324341, 0.99369053679029018),
             (0.30064184258240201, 0.95441273919029945)),
    (4, 4): ((0.39763536438352542, 1.0), (0.51010916354540281, 1.0)),
    (7, 20): ((0.15390920478454115, 0.59218853453282816),
              (0.18119182410108206, 0.56714572331476365)),
    (0, 1): ((0.0, 0.97499999999999998), (0.0, 0.79345068562276255)),
    (13, 37): ((0.20209981528400273, 0.5253887443739742),
               (0.21825607133927127, 0.51240976877449163)),
}


@pytest.mark.parametrize("counts", sorted(R_INTERVALS))
@pytest.mark.parametrize("method", PROPORTION_METHODS)
def test_scalar_against_r(counts, method):
    events, n = counts
    expected = R_INTERVALS[counts][PROPORTION_METHODS.index(method)]
    result = proportion_ci(events, n, method=method)
    assert isinstance(result, ProportionCI) and isinstance(result.ci_low, float)
    assert result.proportion == events / n
    np.testing.assert_allclose([result.ci_low, result.ci_high], expected, rtol=1e-6,
                               atol=1e-12)


@pytest.mark.parametrize("method", PROPORTION_METHODS)
def test_vectorised_equals_scalar(method):
    events, n = zip(*sorted(R_INTERVALS))
    result = proportion_ci(np.array(events), list(n), method=method)
    expected = np.array([R_INTERVALS[k][PROPORTION_METHODS.index(method)]
                         for k in sorted(R_INTERVALS)])
    np.testing.assert_allclose(result.ci_low, expected[:, 0], rtol=1e-6, atol=1e-12)
    np.testing.assert_allclose(result.ci_high, expected[:, 1], rtol=1e-6, atol=1e-12)
    frame = result.to_frame()
    assert list(frame.columns) == ["proportion", "ci_low", "ci_high"]
    assert len(frame) == len(events)


def test_other_level_against_r():
    # R: binom.test(7, 20, conf.level = 0.9); prop.test(7, 20, correct = FALSE,
    # conf.level = 0.9)
    cp = proportion_ci(7, 20, level=0.9)
    wilson = proportion_ci(7, 20, method="wilson", level=0.9)
    np.testing.assert_allclose(cp[1:], (0.17731091757444906, 0.55803451131548865),
                               rtol=1e-6)
    np.testing.assert_allclose(wilson[1:], (0.20226004005676107, 0.53348731115152825),
                               rtol=1e-6)


def test_broadcasting_missing_and_zero_n():
    result = proportion_ci([0, 1, np.nan], 2)
    assert result.proportion[:2].tolist() == [0.0, 0.5]
    assert np.isnan(result.proportion[2]) and np.isnan(result.ci_low[2])
    empty = proportion_ci(0, 0)
    assert np.isnan(empty.proportion) and np.isnan(empty.ci_low) and np.isnan(empty.ci_high)
    series = proportion_ci(pd.Series([1, 2]), pd.Series([4, 4]), method="wilson")
    assert series.proportion.tolist() == [0.25, 0.5]


def test_large_vectors_are_fast():
    rng = np.random.default_rng(0)
    n = rng.integers(1, 1000, 100_000)
    events = rng.integers(0, n + 1)
    for method in PROPORTION_METHODS:
        result = proportion_ci(events, n, method=method)
        assert np.all(result.ci_low <= result.proportion)
        assert np.all(result.proportion <= result.ci_high)


@pytest.mark.parametrize("kwargs, message", [
    ({"events": 1, "n": 4, "method": "wald"},
     r"method must be one of \('clopper-pearson', 'wilson'\), got 'wald'"),
    ({"events": 5, "n": 4}, "events must be <= n"),
    ({"events": -1, "n": 4}, "events must be >= 0"),
    ({"events": 1, "n": -4}, "n must be >= 0"),
    ({"events": 1.5, "n": 4}, "events must be whole numbers"),
    ({"events": 1, "n": 4, "level": 1.5}, "level must be"),
    ({"events": "a", "n": 4}, "events must be numbers, not text"),
    ({"events": 3, "n": "4"}, "n must be numbers, not text"),
])
def test_invalid_input(kwargs, message):
    with pytest.raises(ValueError, match=message):
        proportion_ci(**kwargs)
