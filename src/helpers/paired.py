"""Paired pre/post comparisons of the tidy measurements table.

:func:`paired_tests` compares every follow-up visit with baseline, one row per outcome
and comparison, with the column contract of ``reports/tables/prepost.csv``
(docs/architecture.md): descriptive statistics on complete pairs, the paired t-test,
the Wilcoxon signed-rank test, the exact sign test, the Hodges-Lehmann estimate with its
distribution-free confidence interval, two effect sizes and Holm-adjusted p-values.
Its rounded rendering is :func:`helpers.tables.write_markdown`'s business.

Everything is vectorised with NumPy: patients are never looped over in Python, so a
cohort of 10^6 patients is handled in seconds (see :func:`paired_tests`, Notes).

The three tests are written once, batched over samples (the rows of a 2-D array):
:func:`t_tests`, :func:`sign_tests` and :func:`signed_rank_tests` test hundreds of
thousands of simulated samples at once for :func:`helpers.power.simulate_power`, and
:func:`paired_tests` runs the same functions on one sample, adding only what a single
sample needs (intervals, the method in words, notes), as scipy.stats.wilcoxon serves
one sample and many from one n-d statistic.

Change is always ``post - baseline`` (negative = improvement for SLEDAI-2K, DAS28 and
glucocorticoid dose), as clinical papers report it (docs/architecture.md, "Contracts").
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import NamedTuple

import numpy as np
import pandas as pd
from scipy import stats

from helpers.data.tidy import change, encode, paired_visits
from helpers.errors import check_probability, refuse_text
from helpers.vocab import BASELINE

__all__ = [
    "PREPOST_COLUMNS",
    "EXTRA_COLUMNS",
    "ZERO_METHODS",
    "P_ADJUST_BASES",
    "NormalApproximationWarning",
    "SignTests",
    "SignedRankTests",
    "TTests",
    "paired_tests",
    "sign_tests",
    "signed_rank_tests",
    "t_tests",
]

#: Columns of the prepost.csv contract (docs/architecture.md), in this order.
PREPOST_COLUMNS = [
    "outcome", "comparison", "n",
    "pre_mean", "pre_sd", "pre_median", "pre_q1", "pre_q3", "pre_min", "pre_max",
    "post_mean", "post_sd", "post_median", "post_q1", "post_q3", "post_min", "post_max",
    "change_mean", "change_sd", "change_median", "change_ci_low", "change_ci_high",
    "t_statistic", "t_df", "t_p_value",
    "wilcoxon_statistic", "wilcoxon_p_value", "wilcoxon_method",
    "sign_test_p_value",
    "hl_estimate", "hl_ci_low", "hl_ci_high", "hl_ci_level",
    "cohen_dz", "rank_biserial", "p_value_holm",
]
#: Further columns, appended after :data:`PREPOST_COLUMNS`.
EXTRA_COLUMNS = [
    "n_excluded",          # patients with a row for the outcome but no complete pair
    "n_zero",              # zero differences among the n pairs
    "wilcoxon_n",          # differences the signed-rank test used (zeros dropped)
    "sign_test_n",         # non-zero differences of the sign test
    "hl_method",           # how the Hodges-Lehmann estimate and interval were computed
    "p_value_holm_basis",  # which p-value column p_value_holm adjusts
    "reject_holm",         # p_value_holm <= alpha
    "notes",               # edge cases met, in words ("" when none)
]

ZERO_METHODS = ("wilcox", "pratt")
P_ADJUST_BASES = {"t": "t_p_value", "wilcoxon": "wilcoxon_p_value",
                  "sign": "sign_test_p_value"}

# Exact signed-rank distributions below 50 non-zero differences, as R's wilcox.test;
# unlike R, also with ties and zeros (the exact conditional distribution).
_EXACT_MAX_N = 49
# Up to this many ranks the null distribution's counts (< 2^n) are exact in a float64.
_INTEGER_COUNTS_MAX_N = 52
_EXACT_FORCED_MAX_N = 1000
# Walsh averages are materialised (n(n+1)/2 of them) up to this many; above it the
# order statistics are found by randomised selection without materialising them.
_WALSH_MATERIALISE_MAX = 2_000_000
# Differences are helpers.data.tidy.change at the sample's scale (12 significant digits
# of the largest absolute value in the data), so that binary floating-point noise such as
# 5.59 - 1.89 = 3.6999999999999997 cannot hide a zero difference or a tie.


class NormalApproximationWarning(UserWarning):
    """A small-sample test fell back from its exact distribution to a normal one."""


# --------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------


def paired_tests(
    measurements,
    post=None,
    *,
    outcomes: Sequence[str] | None = None,
    baseline: str = BASELINE,
    followups: Sequence[str] | None = None,
    alpha: float = 0.05,
    ci_level: float = 0.95,
    zero_method: str = "wilcox",
    exact: bool | None = None,
    correction: bool = True,
    p_adjust: str = "t",
) -> pd.DataFrame:
    """Compare each follow-up visit with baseline, per outcome, on complete pairs.

    Parameters
    ----------
    measurements : pandas.DataFrame, or array-like with ``post``
        Tidy table with at least ``patient_id, measure, timepoint, value`` (docs/architecture.md);
        ``month``, when present, orders the follow-up visits. ``value`` may be missing.
        Or, with ``post``, the values before: one per patient, NaN where missing.
    post : array-like, optional
        The values after, paired by position with ``measurements`` (Series: by index,
        which must then be the same). The result is the one row a tidy table of these
        pairs gives: outcome ``pre.name`` (a Series') or ``"value"``, comparison
        ``"post vs baseline"``.
    outcomes : sequence of str, optional
        Measures to analyse, in output order. Default: ``sledai2k, das28, gc_mg_day``
        (those present), then any other measure in order of first appearance.
    baseline : str, default "baseline"
        The ``timepoint`` label of the reference visit.
    followups : sequence of str, optional
        Follow-up labels to compare with baseline, in output order. Default: every other
        timepoint in the data, ordered by median ``month`` (then label).
    alpha : float, default 0.05
        Family-wise error rate for ``reject_holm``.
    ci_level : float, default 0.95
        Requested level of both confidence intervals (t and Hodges-Lehmann).
    zero_method : {"wilcox", "pratt"}, default "wilcox"
        Zero differences in the signed-rank test: ``"wilcox"`` drops them before ranking
        (Wilcoxon 1945; R's ``wilcox.test``); ``"pratt"`` ranks them with the others and
        then drops them (Pratt 1959).
    exact : bool, optional
        Signed-rank p-value from an exact distribution. ``None`` (default): exact when
        fewer than 50 non-zero differences; with ties (or Pratt's ranks) the exact
        *conditional* distribution of the tied ranks, as coin's ``wilcoxsign_test(
        distribution = "exact")`` and exactRankTests' ``wilcox.exact``, where R's
        ``wilcox.test`` falls back to the normal approximation. ``True``: exact up to
        1000 non-zero differences, with a warning above. ``False``: always the normal
        approximation (R's ``wilcox.test`` with ties or zeros).
    correction : bool, default True
        Continuity correction in the normal approximation of the signed-rank test (R's
        ``correct=TRUE``).
    p_adjust : {"t", "wilcoxon", "sign"}, default "t"
        Which p-value ``p_value_holm`` adjusts (recorded in ``p_value_holm_basis``).

    Returns
    -------
    pandas.DataFrame
        One row per outcome and follow-up visit (outcome-major), numbers unrounded:

        - ``outcome``, ``comparison`` (e.g. ``"last vs baseline"``), ``n`` complete pairs;
        - ``pre_*`` and ``post_*``: mean, sd (n - 1 denominator), median, q1, q3, min,
          max of the paired values;
        - ``change_mean``, ``change_sd``, ``change_median`` of ``post - baseline``;
          ``change_ci_low``, ``change_ci_high``: t confidence interval of the mean change;
        - ``t_statistic``, ``t_df``, ``t_p_value``: paired t-test (two-sided);
        - ``wilcoxon_statistic`` (V, the sum of the ranks of positive changes, as in
          R), ``wilcoxon_p_value`` (two-sided), ``wilcoxon_method`` (how it was computed);
        - ``sign_test_p_value``: exact two-sided binomial test of the non-zero signs;
        - ``hl_estimate``, ``hl_ci_low``, ``hl_ci_high``: Hodges-Lehmann estimate of the
          change and its distribution-free interval, on the differences the signed-rank
          test uses (the non-zero ones with ``zero_method="wilcox"``, all with
          ``"pratt"``), the interval inverting that test, so the estimate always lies
          in it; ``hl_ci_level``: the confidence level that interval actually has (it
          can be below ``ci_level`` for small n);
        - ``cohen_dz`` (mean change / sd of change), ``rank_biserial`` (matched pairs);
        - ``p_value_holm``: Holm-adjusted ``p_adjust`` p-value, across outcomes within
          each comparison;
        - then :data:`EXTRA_COLUMNS`: ``n_excluded, n_zero, wilcoxon_n, sign_test_n,
          hl_method, p_value_holm_basis, reject_holm, notes``.

    Raises
    ------
    ValueError
        On structurally invalid input: a missing column, a non-numeric or infinite
        value, a missing key, a duplicated ``patient_id, measure, timepoint``, no
        baseline rows, an unknown outcome or follow-up, or a bad option.

    Warns
    -----
    NormalApproximationWarning
        When ``exact=True`` cannot be honoured (more than 1000 non-zero differences),
        so that the signed-rank p-value uses the normal approximation.

    See Also
    --------
    t_tests, signed_rank_tests, sign_tests : The same tests, batched over many samples.

    Notes
    -----
    Complete pairs only (``n_excluded`` counts the others); quartiles as R's
    ``quantile(type = 7)``; the signed-rank test exact (conditional, with ties) below 50
    non-zero differences, where R's ``wilcox.test`` uses the normal approximation; the
    Hodges-Lehmann interval inverts that same test, so the estimate always lies in it;
    Holm within each comparison. Every convention, its reference, and where it differs
    from R: docs/methods.md, "Paired pre/post statistics".

    Examples
    --------
    >>> import pandas as pd
    >>> m = pd.DataFrame({
    ...     "patient_id": [1, 1, 2, 2, 3, 3, 4, 4],
    ...     "measure": ["sledai2k"] * 8,
    ...     "timepoint": ["baseline", "last"] * 4,
    ...     "month": [0, 12, 0, 9, 0, 14, 0, 4],
    ...     "value": [13.0, 2, 6, 1, 6, 0, 0, 0],
    ...     "unit": ["points"] * 8,
    ... })
    >>> row = paired_tests(m).iloc[0]
    >>> row["comparison"], float(row["change_mean"]), round(float(row["t_p_value"]), 4)
    ('last vs baseline', -5.5, 0.0925)
    >>> row["wilcoxon_method"], float(row["hl_estimate"]), float(row["hl_ci_level"])
    ('exact (zeros dropped)', -7.0, 0.75)
    """
    _check_options(alpha=alpha, ci_level=ci_level, zero_method=zero_method,
                   p_adjust=p_adjust, exact=exact)
    if post is not None:
        measurements, baseline = _pairs_table(measurements, post), BASELINE
    visits = paired_visits(encode(measurements), outcomes=outcomes, baseline=baseline,
                           followups=followups)
    rows = []
    for visit in visits:
        row = {"outcome": visit.outcome, "comparison": f"{visit.followup} vs {baseline}"}
        row.update(_compare(visit.pre, visit.post, ci_level=ci_level,
                            zero_method=zero_method, exact=exact, correction=correction,
                            label=f"{visit.outcome}, {row['comparison']}"))
        row["n_excluded"] = visit.n_excluded
        if visit.n_excluded:
            row["notes"] = _join_notes(
                f"{visit.n_excluded} patient(s) without a complete pair excluded",
                row["notes"])
        rows.append(row)
    frame = pd.DataFrame(rows, columns=[c for c in PREPOST_COLUMNS + EXTRA_COLUMNS
                                        if c not in ("p_value_holm", "p_value_holm_basis",
                                                     "reject_holm")])
    basis = P_ADJUST_BASES[p_adjust]
    frame["p_value_holm"] = _holm_within(frame[basis].to_numpy(dtype=float),
                                         frame["comparison"].to_numpy())
    frame["p_value_holm_basis"] = basis
    frame["reject_holm"] = frame["p_value_holm"] <= alpha
    frame = frame[PREPOST_COLUMNS + EXTRA_COLUMNS]
    int_columns = ["n", "n_excluded", "n_zero", "wilcoxon_n", "sign_test_n"]
    frame[int_columns] = frame[int_columns].astype("int64")
    float_columns = [c for c in PREPOST_COLUMNS
                     if c not in ("outcome", "comparison", "n", "wilcoxon_method")]
    frame[float_columns] = frame[float_columns].astype("float64")
    return frame.reset_index(drop=True)


# --------------------------------------------------------------------------------------
# The tests, batched over samples: paired_tests runs them on one sample (one row)
# --------------------------------------------------------------------------------------


class TTests(NamedTuple):
    """Paired t-tests of k samples (:func:`t_tests`), each field of shape (k,)."""

    mean: np.ndarray  #: mean difference
    sd: np.ndarray  #: standard deviation of the differences (n - 1 denominator)
    se: np.ndarray  #: standard error of the mean, sd / sqrt(n)
    statistic: np.ndarray  #: t = mean / se; NaN where the test is undefined
    p_value: np.ndarray  #: two-sided, n - 1 degrees of freedom; NaN where undefined


class SignTests(NamedTuple):
    """Sign tests of k samples (:func:`sign_tests`), each field of shape (k,)."""

    n: np.ndarray  #: non-zero differences (the ones the test counts)
    p_value: np.ndarray  #: exact two-sided binomial p-value; NaN where n = 0


class SignedRankTests(NamedTuple):
    """Signed-rank tests of k samples (:func:`signed_rank_tests`), each field of shape (k,)."""

    statistic: np.ndarray  #: V, the sum of the ranks of the positive differences (R)
    p_value: np.ndarray  #: two-sided; NaN where no difference is non-zero
    n: np.ndarray  #: non-zero differences (the ones the test ranks)
    rank_total: np.ndarray  #: sum of the ranks of the non-zero differences
    ties: np.ndarray  #: whether some non-zero differences tie in absolute value
    exact: np.ndarray  #: whether p_value is exact (else the normal approximation)


def t_tests(samples) -> TTests:
    """Two-sided paired t-tests of many samples of paired differences at once.

    Each row is one sample, and its test is the one :func:`paired_tests` reports for it,
    bit for bit (paired_tests runs this function on one row): R's ``t.test``, undefined
    (NaN) for fewer than two differences and for "essentially constant" ones (standard
    error 0 or at most 10 machine epsilons of the mean), where R stops.

    Parameters
    ----------
    samples : array_like, shape (k, n)
        k samples of n differences each, finite.

    Returns
    -------
    TTests
        ``mean``, ``sd``, ``se``, ``statistic`` and ``p_value`` of each sample; all NaN
        when n < 2.

    Examples
    --------
    >>> t_tests([[1.0, 2.0, 3.0, 4.0], [2.0, 2.0, 2.0, 2.0]]).p_value.round(4)
    array([0.0305,    nan])
    """
    d = _samples(samples)
    k, n = d.shape
    if n < 2:
        nan = np.full(k, np.nan)
        return TTests(nan, nan, nan, nan, nan)
    mean = d.mean(axis=1)
    sd = d.std(axis=1, ddof=1)
    se = sd / math.sqrt(n)
    # Same test as R's t.test: "data are essentially constant" -> undefined here.
    constant = (se <= 10 * np.finfo(float).eps * np.abs(mean)) | (se == 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.where(constant, np.nan, mean / se)
    return TTests(mean, sd, se, t, 2 * stats.t.sf(np.abs(t), n - 1))


def sign_tests(samples) -> SignTests:
    """Exact two-sided sign tests of many samples of paired differences at once.

    Each row is one sample, and its test is the one :func:`paired_tests` reports for it
    (paired_tests runs this function on one row): zeros dropped, the number of positive
    differences against Binomial(n, 1/2), as R's ``binom.test``.

    Parameters
    ----------
    samples : array_like, shape (k, n)
        One sample of n finite differences per row, as for :func:`t_tests`; zeros count
        towards n but not towards the test.

    Returns
    -------
    SignTests
        ``n`` (non-zero differences) and ``p_value`` of each sample.

    Examples
    --------
    >>> sign_tests([[1.0, 2.0, 3.0, -4.0], [0.0, 0.0, 0.0, 0.0]])
    SignTests(n=array([4, 0]), p_value=array([0.625,   nan]))
    """
    d = _samples(samples)
    positive = np.count_nonzero(d > 0, axis=1)
    m = positive + np.count_nonzero(d < 0, axis=1)
    # Binomial(m, 1/2) is symmetric, so R's binom.test two-sided p-value is twice the
    # smaller tail.
    tail = stats.binom.cdf(np.minimum(positive, m - positive), m, 0.5)
    return SignTests(m, np.where(m > 0, np.minimum(1.0, 2.0 * tail), np.nan))


def signed_rank_tests(samples, *, zero_method: str = "wilcox", exact: bool | None = None,
                      correction: bool = True) -> SignedRankTests:
    """Two-sided Wilcoxon signed-rank tests of many samples of paired differences at once.

    Each row is one sample, and its test is the one :func:`paired_tests` reports for it
    with the same options, bit for bit (paired_tests runs this function on one row):
    midranks of the absolute differences, the exact distribution (exact conditional
    with ties) up to the size ``exact`` allows, else the normal approximation with the
    ranks' own variance. Vectorised over rows, for simulations that test hundreds of
    thousands of samples (:func:`helpers.power.simulate_power`).

    Parameters
    ----------
    samples : array_like, shape (k, n)
        k samples of n differences each, finite.
    zero_method : {"wilcox", "pratt"}, default "wilcox"
        Zero differences dropped before ranking, or ranked and then dropped.
    exact : bool, optional
        Exact p-values up to 49 (``None``), 1000 (``True``) or no (``False``) non-zero
        differences, the normal approximation above.
    correction : bool, default True
        Continuity correction in the normal approximation.

    All three as in :func:`paired_tests`, which says more.

    Returns
    -------
    SignedRankTests
        ``statistic`` (V), ``p_value``, ``n`` (non-zero differences), ``rank_total``,
        ``ties`` and ``exact`` of each sample; V and the p-value are NaN for a sample
        whose differences are all zero.

    Examples
    --------
    >>> signed_rank_tests([[1.0, 2.0, 3.0, 4.0], [-1.0, 2.0, 2.0, 0.0],
    ...                    [0.0, 0.0, 0.0, 0.0]]).p_value
    array([0.125, 0.5  ,   nan])
    """
    if zero_method not in ZERO_METHODS:
        raise ValueError(f"zero_method must be one of {ZERO_METHODS}, got {zero_method!r}")
    if exact not in (None, True, False):
        raise ValueError(f"exact must be None, True or False, got {exact!r}")
    return _signed_rank_rows(_samples(samples), zero_method, _exact_limit(exact),
                             correction)


def _samples(samples) -> np.ndarray:
    """``samples`` as a C-contiguous 2-D float array, checked.

    Contiguous rows are reduced (summed pairwise) as a lone 1-D sample is, so that the
    mean and SD of a row do not depend on the other rows or on the memory layout.
    """
    d = np.ascontiguousarray(samples, dtype=float)
    if d.ndim != 2:
        raise ValueError(f"samples must be a 2-D array (samples x differences), got "
                         f"shape {d.shape}")
    return d


def _exact_limit(exact) -> int:
    """Most non-zero differences with an exact signed-rank p-value under ``exact``.

    The exact distribution costs O(n^3): up to _EXACT_MAX_N differences by default (R's
    49), up to _EXACT_FORCED_MAX_N with ``exact=True``, never with ``exact=False``.
    ``exact`` is told from False by identity, as paired_tests always has (so ``0`` gets
    the default policy).
    """
    if exact is False:
        return 0
    return _EXACT_FORCED_MAX_N if exact else _EXACT_MAX_N


#: Samples per block in :func:`_signed_rank_rows` (bounds its working memory).
_BLOCK_ROWS = 16_384


def _signed_rank_rows(d: np.ndarray, zero_method: str, exact_max_n: int,
                      correction: bool) -> SignedRankTests:
    """:func:`signed_rank_tests` of the rows of ``d``, exact up to ``exact_max_n``
    non-zero differences, in blocks of _BLOCK_ROWS rows."""
    blocks = [_signed_rank_block(d[start:start + _BLOCK_ROWS], zero_method, exact_max_n,
                                 correction)
              for start in range(0, max(len(d), 1), _BLOCK_ROWS)]  # no rows: one empty
    return SignedRankTests(*(np.concatenate(field) for field in zip(*blocks)))


def _signed_rank_block(d: np.ndarray, zero_method: str, exact_max_n: int,
                       correction: bool) -> SignedRankTests:
    """One block of :func:`_signed_rank_rows`."""
    ranks, used, positive, ties = _signed_ranks(d, zero_method)
    m = np.count_nonzero(used, axis=1)
    # Ranks are multiples of 1/2, so their sums (and, below 2^51, the sums of their
    # squares) are exact in any order: a row gives the same numbers alone or in a batch.
    v = np.where(positive, ranks, 0.0).sum(axis=1)
    rank_total = ranks.sum(axis=1)
    exact = (m > 0) & (m <= exact_max_n)
    p = np.full(len(d), np.nan)
    if exact.any():
        p[exact] = _exact_p_values(ranks[exact], used[exact], v[exact], ties[exact])
    large = m > exact_max_n
    if large.any():
        p[large] = _normal_p(v[large], rank_total[large], (ranks[large] ** 2).sum(axis=1),
                             correction)
    return SignedRankTests(np.where(m > 0, v, np.nan), p, m, rank_total, ties, exact)


def _signed_ranks(d: np.ndarray, zero_method: str
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The ranks the signed-rank test gives each row of ``d``, O(n log n) per row.

    Returns
    -------
    ranks : ndarray, shape (k, n)
        Row i's midranks of |d|, in the order of |d| (zeros first, ties side by side), 0
        at the zeros, which never count: ``"wilcox"`` ranks the non-zero differences
        only, ``"pratt"`` all of them (the zeros taking the lowest ranks) and then drops
        the zeros.
    used, positive : bool ndarray, shape (k, n)
        Where the differences, in the same order, are non-zero and positive.
    ties : bool ndarray, shape (k,)
        Whether some non-zero |d| of the row tie.
    """
    k, n = d.shape
    order = np.argsort(np.abs(d), axis=1, kind="stable")
    magnitude = np.take_along_axis(np.abs(d), order, axis=1)
    used = magnitude != 0
    positive = np.take_along_axis(d > 0, order, axis=1) & used
    # A run of equal |d| from sorted position `start` to `end` (exclusive) shares the
    # midrank (start + 1 + end) / 2, positions counted after the zeros for "wilcox".
    column = np.arange(n)
    new_run = np.ones((k, n), dtype=bool)
    new_run[:, 1:] = magnitude[:, 1:] != magnitude[:, :-1]
    start = np.maximum.accumulate(np.where(new_run, column, 0), axis=1)
    run_ends = np.ones((k, n), dtype=bool)
    run_ends[:, :-1] = new_run[:, 1:]
    end = np.minimum.accumulate(np.where(run_ends, column + 1, n)[:, ::-1], axis=1)[:, ::-1]
    offset = (n - np.count_nonzero(used, axis=1))[:, None] if zero_method == "wilcox" else 0
    ranks = np.where(used, (start - offset + 1 + end - offset) / 2.0, 0.0)
    return ranks, used, positive, (~new_run & used).any(axis=1)


def _exact_p_values(ranks: np.ndarray, used: np.ndarray, v: np.ndarray, ties: np.ndarray
                    ) -> np.ndarray:
    """Two-sided exact p-values of the statistics ``v`` given each row's ``ranks``.

    Untied ranks are integers (Pratt's too: the zeros' ranks drop out) and use the
    distribution of R's ``psignrank``. With ties the ranks are doubled, which makes
    midranks (multiples of 1/2) integers exactly, and the permutation distribution of
    those scores, each positive with probability 1/2 independently, is counted by the
    same convolution: the exact conditional distribution of coin's ``wilcoxsign_test(
    distribution = "exact")`` and exactRankTests' ``wilcox.exact``. It depends on the
    scores only: one per distinct pattern. It is symmetric, so twice the smaller tail
    is both R's and coin's two-sided p-value.
    """
    scale = np.where(ties, 2, 1)[:, None]
    scores = np.where(used, np.round(scale * ranks), -1).astype(np.int64)
    statistic = np.round(scale[:, 0] * v).astype(np.int64)
    patterns, which = np.unique(scores, axis=0, return_inverse=True)
    which = np.ravel(which)
    p = np.empty(len(v))
    for i, pattern in enumerate(patterns):
        rows = which == i
        # Scores are sorted (ranks in |d| order): the cache sees one key per pattern.
        cdf = _signed_rank_cdf(tuple(pattern[pattern >= 0].tolist()))
        p[rows] = _two_sided_p(cdf, statistic[rows])
    return p


@lru_cache(maxsize=1024)
def _signed_rank_cdf(ranks: tuple[int, ...]) -> np.ndarray:
    """Null CDF of the sum of positively signed ranks, for integer ``ranks``.

    Each rank is positive with probability 1/2 independently; the distribution is built
    by convolution (subset-sum counting), O(len(ranks) * sum(ranks)). For ranks 1..n it
    is R's ``psignrank``.
    """
    total = int(sum(ranks))
    if len(ranks) <= _INTEGER_COUNTS_MAX_N:
        # Subset-sum counts in integers, divided once: below 2^53 every halving step of
        # the loop below is exact, so the probabilities are identical, only faster.
        counts = np.zeros(total + 1, dtype=np.int64)
        counts[0] = 1
        for r in ranks:
            counts[r:] += counts[: total + 1 - r].copy()
        return np.cumsum(counts / 2.0 ** len(ranks))
    pmf = np.zeros(total + 1)
    pmf[0] = 1.0
    for r in ranks:
        shifted = np.zeros_like(pmf)
        shifted[r:] = pmf[: total + 1 - r]
        pmf = (pmf + shifted) / 2.0
    return np.cumsum(pmf)


def _two_sided_p(cdf: np.ndarray, k):
    """Twice the smaller tail at the statistic ``k`` (integer, or integer array) of a
    symmetric null distribution given by its ``cdf`` over 0, 1, ..., capped at 1."""
    lower = cdf[k]
    upper = 1.0 - np.where(k > 0, cdf[np.maximum(k - 1, 0)], 0.0)
    return np.minimum(1.0, 2.0 * np.minimum(lower, upper))


def _normal_p(v, rank_total, square_total, correction: bool):
    """Two-sided normal-approximation p-value of the signed-rank statistic ``v`` (or an
    array of them): mean ``rank_total / 2``, variance ``square_total / 4`` (the sum of
    the squared ranks, which allows for ties), optionally continuity-corrected."""
    z = v - rank_total / 2.0
    if correction:
        z = z - 0.5 * np.sign(z)
    z = z / np.sqrt(square_total / 4.0)
    return np.minimum(1.0, 2.0 * stats.norm.sf(np.abs(z)))

# --------------------------------------------------------------------------------------
# Input validation and pairing
# --------------------------------------------------------------------------------------


def _pairs_table(pre, post) -> pd.DataFrame:
    """Two arrays of paired values as the tidy table :func:`paired_tests` reads."""
    for name, values in (("pre", pre), ("post", post)):
        if isinstance(values, (str, pd.DataFrame)) or np.ndim(values) != 1:
            raise ValueError(f"{name} must be a one-dimensional array of numbers, got "
                             f"{type(values).__name__}")
        refuse_text(values, name)
        try:
            np.asarray(values, dtype=float)
        except (TypeError, ValueError):
            raise ValueError(f"{name} must be numbers (NaN or None where missing), got "
                             f"values of type {np.asarray(values).dtype}") from None
    if isinstance(pre, pd.Series) and isinstance(post, pd.Series) and not (
            pre.index.equals(post.index)):
        raise ValueError("pre and post are indexed differently: pair them by patient "
                         "first (for example post.reindex(pre.index))")
    if len(pre) != len(post):
        raise ValueError(f"pre has {len(pre):,} values but post has {len(post):,}: each "
                         "patient needs one of each (NaN where missing)")
    n = len(pre)
    name = str(pre.name) if isinstance(pre, pd.Series) and pre.name is not None else "value"
    return pd.DataFrame({
        "patient_id": np.tile(np.arange(1, n + 1), 2),
        "measure": name,
        "timepoint": np.repeat([BASELINE, "post"], n),
        "value": np.concatenate([np.asarray(pre, dtype=float),
                                 np.asarray(post, dtype=float)]),
    })


def _check_options(*, alpha, ci_level, zero_method, p_adjust, exact):
    check_probability(alpha, "alpha", 0.05)
    check_probability(ci_level, "ci_level")
    if zero_method not in ZERO_METHODS:
        raise ValueError(f"zero_method must be one of {ZERO_METHODS}, got {zero_method!r}")
    if p_adjust not in P_ADJUST_BASES:
        raise ValueError(f"p_adjust must be one of {tuple(P_ADJUST_BASES)}, "
                         f"got {p_adjust!r}")
    if exact not in (None, True, False):
        raise ValueError(f"exact must be None, True or False, got {exact!r}")


# --------------------------------------------------------------------------------------
# Statistics of one group of pairs
# --------------------------------------------------------------------------------------


def _describe(x: np.ndarray, prefix: str) -> dict:
    n = len(x)
    if n == 0:
        keys = ("mean", "sd", "median", "q1", "q3", "min", "max")
        return {f"{prefix}_{k}": np.nan for k in keys}
    # "linear" = R type 7 (Hyndman and Fan 1996), NumPy's and R's default.
    q1, median, q3 = np.quantile(x, [0.25, 0.5, 0.75], method="linear")
    return {
        f"{prefix}_mean": float(np.mean(x)),
        f"{prefix}_sd": float(np.std(x, ddof=1)) if n > 1 else np.nan,
        f"{prefix}_median": float(median),
        f"{prefix}_q1": float(q1),
        f"{prefix}_q3": float(q3),
        f"{prefix}_min": float(np.min(x)),
        f"{prefix}_max": float(np.max(x)),
    }


def _compare(pre, post, *, ci_level, zero_method, exact, correction, label) -> dict:
    n = len(pre)
    notes = []
    row = {"n": n}
    row.update(_describe(pre, "pre"))
    row.update(_describe(post, "post"))
    scale = max(np.max(np.abs(pre), initial=0.0), np.max(np.abs(post), initial=0.0))
    d = change(pre, post, scale=scale)
    if n == 0:
        notes.append("no complete pairs")
    elif n == 1:
        notes.append("n = 1: sd, t-test, Cohen's dz and HL interval undefined")
    row.update(_describe(d, "change"))
    for key in ("change_q1", "change_q3", "change_min", "change_max"):
        row.pop(key)
    row.update(_t_test(d, ci_level, notes))
    row.update(_wilcoxon(d, zero_method=zero_method, exact=exact, correction=correction,
                         label=label, notes=notes))
    row.update(_sign_test(d))
    row.update(_hodges_lehmann(d, zero_method, row["wilcoxon_method"], ci_level, notes))
    row["n_zero"] = int(np.count_nonzero(d == 0))
    row["notes"] = _join_notes(*notes)
    return row


def _join_notes(*notes: str) -> str:
    return "; ".join(n for n in notes if n)


def _t_test(d: np.ndarray, ci_level: float, notes: list) -> dict:
    out = dict.fromkeys(("change_ci_low", "change_ci_high", "t_statistic", "t_df",
                         "t_p_value", "cohen_dz"), np.nan)
    n = len(d)
    if n < 2:
        return out
    # The batched test on this one sample; a single sample adds the interval, Cohen's dz
    # and a note on why the test is undefined.
    test = t_tests(d[None, :])
    mean, sd, se = float(test.mean[0]), float(test.sd[0]), float(test.se[0])
    out["t_df"] = float(n - 1)
    if np.isnan(test.statistic[0]):
        notes.append("all differences zero" if mean == 0 and se == 0
                     else "constant differences: t-test and Cohen's dz undefined")
        return out
    half = stats.t.ppf(0.5 + ci_level / 2, n - 1) * se
    out.update({
        "change_ci_low": mean - half,
        "change_ci_high": mean + half,
        "t_statistic": float(test.statistic[0]),
        "t_p_value": float(test.p_value[0]),
        "cohen_dz": mean / sd,
    })
    return out


def _wilcoxon(d, *, zero_method, exact, correction, label, notes) -> dict:
    out = {"wilcoxon_statistic": np.nan, "wilcoxon_p_value": np.nan,
           "rank_biserial": np.nan, "wilcoxon_n": 0}
    reason = _not_computed(len(d), int(np.count_nonzero(d)))
    if reason:
        out["wilcoxon_method"] = reason
        return out
    # The batched test on this one sample; a single sample adds the method in words, the
    # rank-biserial correlation and the warning when exact=True cannot be honoured.
    test = signed_rank_tests(d[None, :], zero_method=zero_method, exact=exact,
                             correction=correction)
    v, rank_total, m = float(test.statistic[0]), float(test.rank_total[0]), int(test.n[0])
    zeros = ("" if m == len(d) else "zeros dropped" if zero_method == "wilcox"
             else "Pratt zeros")
    out.update(wilcoxon_statistic=v, wilcoxon_p_value=float(test.p_value[0]),
               wilcoxon_n=m, rank_biserial=(2 * v - rank_total) / rank_total,
               wilcoxon_method=_signed_rank_method(m, bool(test.ties[0]),
                                                   bool(test.exact[0]), zeros,
                                                   exact=exact, correction=correction))
    if exact and not test.exact[0]:
        warnings.warn(f"{label}: too many ({m}) non-zero differences for the exact "
                      f"distribution (at most {_EXACT_FORCED_MAX_N}); the signed-rank "
                      "p-value uses the normal approximation", NormalApproximationWarning,
                      stacklevel=4)
        notes.append("Wilcoxon p-value approximate (large n)")
    return out


def _signed_rank_method(m: int, ties: bool, exact_used: bool, zeros: str, *, exact,
                        correction: bool) -> str:
    """How the signed-rank p-value of ``m`` non-zero differences was computed, in words.

    exact=None: exact for n < 50 as R, but with ties (or Pratt's zeros) too, from the
    exact conditional distribution (coin, exactRankTests) where R falls back to the
    normal approximation; ``zeros`` names how zeros were treated ("" if none).
    """
    labels = (["ties"] if ties else []) + ([zeros] if zeros else [])
    if exact_used:
        kind = "exact conditional" if ties else "exact"
        return f"{kind} ({'; '.join(labels)})" if labels else kind
    why = "exact=False" if exact is False else f"n = {m} > {_exact_limit(exact)}"
    reasons = [why, *labels] + (["continuity correction"] if correction else [])
    return f"normal approximation ({'; '.join(reasons)})"


def _not_computed(pairs: int, used: int) -> str:
    """Why a rank statistic of ``used`` of ``pairs`` differences is undefined ("" if not)."""
    if pairs == 0:
        return "not computed (no pairs)"
    return "not computed (all differences zero)" if used == 0 else ""


def _sign_test(d: np.ndarray) -> dict:
    test = sign_tests(d[None, :])  # the batched test on this one sample
    return {"sign_test_p_value": float(test.p_value[0]), "sign_test_n": int(test.n[0])}


def _hl_critical_rank(n: int, ci_level: float, exact: bool = True
                      ) -> tuple[int, float, str]:
    """Lower critical order C of the Walsh-average interval and its achieved level.

    ``exact``: from the exact signed-rank distribution of ``n`` untied ranks (R's
    ``qsignrank``; where no level is reachable, C = 1, the whole Walsh range, as R);
    else from its normal approximation.
    """
    alpha = 1.0 - ci_level
    if exact:
        cdf = _signed_rank_cdf(tuple(range(1, n + 1)))
        # R: qu <- qsignrank(alpha/2, n); if (qu == 0) qu <- 1
        qu = int(np.searchsorted(cdf, alpha / 2 * (1 - 1e-12), side="left"))
        c = max(qu, 1)
        return c, float(1.0 - 2.0 * cdf[c - 1]), "exact critical values"
    pairs = n * (n + 1) / 2
    sigma = math.sqrt(n * (n + 1) * (2 * n + 1) / 24)
    z = stats.norm.ppf(1 - alpha / 2)
    c = max(1, math.ceil(pairs / 2 - 0.5 - z * sigma))
    level = 1.0 - 2.0 * stats.norm.cdf((c - 0.5 - pairs / 2) / sigma)
    return c, float(level), "normal-approximation critical values"


def _hodges_lehmann(d: np.ndarray, zero_method: str, test_method: str, ci_level: float,
                    notes: list) -> dict:
    """The Hodges-Lehmann estimate and interval of the signed-rank test reported beside it.

    Both use the differences the test uses: the non-zero ones with
    ``zero_method="wilcox"``, all of them with ``"pratt"``. The estimate is the median of
    their Walsh averages; the interval inverts the same test (``test_method``, as
    :func:`_wilcoxon` chose it): the exact test's critical values (R's
    ``wilcox.test(conf.int = TRUE)``), the exact conditional test's own inversion with
    ties (:func:`_conditional_interval`), or the normal approximation's. Where no level
    is reachable (too few differences), the interval is the whole Walsh range and its
    level the one that range reaches, in every branch.
    """
    out = {"hl_estimate": np.nan, "hl_ci_low": np.nan, "hl_ci_high": np.nan,
           "hl_ci_level": np.nan}
    x = np.sort(d[d != 0] if zero_method == "wilcox" else d)
    n = len(x)
    reason = _not_computed(len(d), n)
    if reason:
        out["hl_method"] = reason
        return out
    pairs = n * (n + 1) // 2
    median_ranks = np.array(sorted({(pairs + 1) // 2, pairs // 2 + 1}), dtype=np.int64)
    used = "non-zero differences" if zero_method == "wilcox" else "all differences"
    out["hl_estimate"] = float(np.mean(_walsh_order_statistics(x, median_ranks)))
    if n < 2:
        out["hl_method"] = f"median of Walsh averages of the {used}"
        return out
    if test_method.startswith("exact conditional"):
        low, high, level = _conditional_interval(x, zero_method, ci_level)
        how = "inversion of the exact conditional signed-rank test"
    else:
        c, level, critical = _hl_critical_rank(n, ci_level,
                                               exact=test_method.startswith("exact"))
        low, high = _walsh_order_statistics(x, np.array([c, pairs + 1 - c]))
        selection = ("all Walsh averages" if pairs <= _WALSH_MATERIALISE_MAX
                     else "randomised selection")
        how = f"{critical}; {selection}"
    out.update(hl_ci_low=float(low), hl_ci_high=float(high), hl_ci_level=level,
               hl_method=f"median of Walsh averages of the {used}; {how}")
    if level < ci_level - 1e-12:
        notes.append(f"HL interval level {level:.4g} < requested {ci_level:g} (n = {n})")
    return out


def _conditional_interval(x: np.ndarray, zero_method: str, ci_level: float
                          ) -> tuple[float, float, float]:
    """The interval that inverts the exact conditional signed-rank test, and its level.

    The interval is every shift ``theta`` at which the exact conditional signed-rank
    test of ``x - theta`` does not reject at ``1 - ci_level`` (p >= alpha), the test
    run as :func:`signed_rank_tests` runs it, with the tie pattern of ``x - theta``
    itself. The statistic only changes at Walsh averages, so it is evaluated once
    between each two consecutive distinct ones (and beyond both ends); the interval is
    the closure of the accepted stretches, so its ends are Walsh averages. Without ties
    this is R's exact ``wilcox.test(conf.int = TRUE)`` interval. exactRankTests'
    ``wilcox.exact`` instead evaluates the statistic *at* the Walsh averages, with the
    quantiles of the observed ranks, which can add a stretch the test rejects (tested).

    Where even the most extreme shifts are accepted (too few differences for the
    level), the interval is the whole Walsh range, at the level it reaches, as R's
    ``qu <- 1``; where no stretch is (every difference equal), the shifts at which the
    test accepts. n <= 49 here (unless exact=True), so the n(n+1)/2 + 1 shifts, tested
    at once as the rows of one batch, are cheap.
    """
    rows, cols = np.triu_indices(len(x))
    walsh = np.unique((x[rows] + x[cols]) / 2)
    alpha = 1.0 - ci_level
    ranks, used, _, _ = _signed_ranks(x[None, :], zero_method)
    cdf = _signed_rank_cdf(tuple(sorted(np.round(2 * ranks[used]).astype(np.int64).tolist())))
    if len(walsh) == 1:  # every difference equal: only that shift can be accepted
        return float(walsh[0]), float(walsh[0]), float(1.0 - 2.0 * cdf[0])
    shifts = np.r_[walsh[0] - 1.0, (walsh[:-1] + walsh[1:]) / 2, walsh[-1] + 1.0]
    # The test of x - theta at every shift at once (one row each), exact whatever the
    # number of differences: the interval belongs to the exact test reported beside it.
    # A shift that left no non-zero difference would be accepted.
    p = _signed_rank_rows(x[None, :] - shifts[:, None], zero_method, len(x), True).p_value
    accepted = np.where(np.isnan(p), 1.0, p) >= alpha * (1 - 1e-12)
    inside = np.flatnonzero(accepted)  # stretch k lies between walsh[k - 1] and walsh[k]
    if accepted[0] or accepted[-1] or not inside.size:
        # No level reachable: the whole Walsh range, at the level it reaches.
        return float(walsh[0]), float(walsh[-1]), float(1.0 - 2.0 * cdf[0])
    # The level the observed tie pattern's distribution gives the interval's ends.
    qu = int(np.searchsorted(cdf, alpha / 2 * (1 - 1e-12), side="left"))
    level = float(1.0 - 2.0 * cdf[qu - 1]) if qu > 0 else float(1.0 - 2.0 * cdf[0])
    return float(walsh[inside[0] - 1]), float(walsh[inside[-1]]), level


# --------------------------------------------------------------------------------------
# Order statistics of Walsh averages without materialising them
# --------------------------------------------------------------------------------------


def _walsh_order_statistics(d_sorted: np.ndarray, ranks: np.ndarray,
                            materialise_max: int | None = None) -> np.ndarray:
    """Order statistics (1-based ``ranks``) of the Walsh averages of sorted ``d``.

    Up to ``materialise_max`` pairs (default 2e6) they are computed directly; above it
    by :func:`_select_pair_sums`, in O(n) memory.
    """
    n = len(d_sorted)
    pairs = n * (n + 1) // 2
    limit = _WALSH_MATERIALISE_MAX if materialise_max is None else materialise_max
    ranks = np.asarray(ranks, dtype=np.int64)
    if pairs <= limit:
        i, j = np.triu_indices(n)
        sums = d_sorted[i] + d_sorted[j]
        return np.partition(sums, ranks - 1)[ranks - 1] / 2.0
    return _select_pair_sums(d_sorted, ranks, limit) / 2.0


class _PairSums:
    """The implicit upper-triangular matrix d_i + d_j (i <= j) of sorted ``d``.

    Row i holds d_i + d_j for j = i..n-1, non-decreasing in j, so a set of candidate
    entries is described by one window ``lo[i] <= j < hi[i]`` per row.
    """

    def __init__(self, d: np.ndarray, materialise_max: int):
        self.d = d
        self.n = n = len(d)
        self.materialise_max = materialise_max
        # Fixed seed: the selected values are exact whatever the sample, and the run
        # time is reproducible.
        self.rng = np.random.default_rng(20251125)
        # First and one-past-last index of each run of equal values, to step over ties.
        new_run = np.empty(n, dtype=bool)
        new_run[0] = True
        new_run[1:] = d[1:] != d[:-1]
        starts = np.flatnonzero(new_run)
        lengths = np.diff(np.append(starts, n))
        self.run_start = np.repeat(starts, lengths)
        self.run_end = np.repeat(starts + lengths, lengths)

    def count(self, rows, lo, hi, pivot, inclusive) -> np.ndarray:
        """Per row, candidates in [lo, hi) with sum < pivot (<= if inclusive).

        Sums are compared as computed in floating point, like the sampled pivots and the
        final selection: the binary search for ``pivot - d[i]`` gives a first guess that
        rounding can put on the wrong side, so it is moved across whole runs of equal
        values until the computed sums agree. Rounding is monotone, so for a fixed row
        the qualifying columns are a prefix and every count is consistent.
        """
        d, n = self.d, self.n
        if pivot == -np.inf:
            return np.zeros(len(rows), dtype=np.int64)
        if pivot == np.inf:
            return hi[rows] - lo[rows]
        base = d[rows]
        j = np.searchsorted(d, pivot - base, side="right" if inclusive else "left")

        def qualifies(sums):
            return sums <= pivot if inclusive else sums < pivot

        for _ in range(n + 1):
            moved = False
            right = np.flatnonzero(j < n)
            step = right[qualifies(base[right] + d[j[right]])]
            if len(step):
                j[step] = self.run_end[j[step]]
                moved = True
            left = np.flatnonzero(j > 0)
            back = left[~qualifies(base[left] + d[j[left] - 1])]
            if len(back):
                j[back] = self.run_start[j[back] - 1]
                moved = True
            if not moved:
                break
        return np.clip(j, lo[rows], hi[rows]) - lo[rows]

    def sample(self, rows, lo, widths, size) -> np.ndarray:
        """Sorted sums of ``size`` candidates drawn uniformly with replacement."""
        cumulative = np.cumsum(widths)
        u = self.rng.integers(0, int(cumulative[-1]), size=size)
        which = np.searchsorted(cumulative, u, side="right")
        cols = lo[rows[which]] + (u - (cumulative[which] - widths[which]))
        return np.sort(self.d[rows[which]] + self.d[cols])

    @staticmethod
    def pivots(sample, first, last, total):
        """Sample quantiles safely below rank ``first`` and above rank ``last``."""
        size = len(sample)
        f_first, f_last = (first - 0.5) / total, (last - 0.5) / total
        a = int(f_first * size - 4.0 * math.sqrt(f_first * (1 - f_first) * size) - 2)
        b = int(math.ceil(f_last * size + 4.0 * math.sqrt(f_last * (1 - f_last) * size) + 2))
        return (sample[a] if a >= 0 else -np.inf), (sample[b] if b < size else np.inf)


def _select_pair_sums(d: np.ndarray, ranks: np.ndarray, materialise_max: int,
                      sample_size: int = 100_000) -> np.ndarray:
    """Order statistics (1-based ``ranks``) of d_i + d_j, i <= j, for sorted ``d``.

    Randomised selection in the implicit sorted matrix (after Monahan 1984): each round
    draws candidates uniformly, takes two sample quantiles bracketing the target rank as
    pivots, counts the candidates below each pivot (one binary search per row, O(n log
    n)) and keeps only the windows between them, shrinking the candidates about 100-fold
    per round; once at most ``materialise_max`` remain they are selected directly. The
    result is exact (the sample only steers the search). A first round shared by all
    ranks narrows the matrix to their common bracket, and rank k + 1 next to a
    requested k is read off in one count.
    """
    matrix = _PairSums(d, materialise_max)
    n = len(d)
    lo = np.arange(n, dtype=np.int64)
    hi = np.full(n, n, dtype=np.int64)
    rows = np.arange(n, dtype=np.int64)
    offset = 0
    wanted = sorted({int(k) for k in ranks})
    total = n * (n + 1) // 2
    if len(wanted) > 1 and total > materialise_max:
        sample = matrix.sample(rows, lo, hi - lo, sample_size)
        pivot_low, pivot_high = matrix.pivots(sample, wanted[0], wanted[-1], total)
        below = matrix.count(rows, lo, hi, pivot_low, False)
        at_or_below = matrix.count(rows, lo, hi, pivot_high, True)
        if below.sum() < wanted[0] and wanted[-1] <= at_or_below.sum():
            lo, hi = lo + below, lo + at_or_below
            offset = int(below.sum())
    found: dict[int, float] = {}
    for k in wanted:
        if k - 1 in found:  # the neighbour of a known order statistic
            found[k] = _next_pair_sum(matrix, lo, hi, found[k - 1], k - offset)
        else:
            found[k] = _select_in(matrix, lo.copy(), hi.copy(), k - offset, sample_size)
    return np.array([found[int(k)] for k in ranks])


def _next_pair_sum(matrix: _PairSums, lo, hi, value: float, k: int) -> float:
    """The k-th smallest candidate, given that the (k - 1)-th equals ``value``."""
    rows = np.flatnonzero(hi > lo)
    at_or_below = matrix.count(rows, lo, hi, value, True)
    if at_or_below.sum() >= k:
        return value
    cols = lo[rows] + at_or_below
    more = cols < hi[rows]
    return float(np.min(matrix.d[rows[more]] + matrix.d[cols[more]]))


def _select_in(matrix: _PairSums, lo, hi, target: int, sample_size: int) -> float:
    """The ``target``-th smallest (1-based) candidate sum within the windows."""
    d = matrix.d
    rows = np.flatnonzero(hi > lo)
    previous_total = -1
    for _ in range(200):
        widths = hi[rows] - lo[rows]
        keep = widths > 0
        rows, widths = rows[keep], widths[keep]
        total = int(widths.sum())
        smallest = np.min(d[rows] + d[lo[rows]])
        if smallest == np.max(d[rows] + d[hi[rows] - 1]):  # every candidate equal
            return float(smallest)
        if total <= matrix.materialise_max:
            starts = np.repeat(lo[rows] - np.cumsum(widths) + widths, widths)
            sums = d[np.repeat(rows, widths)] + d[starts + np.arange(total)]
            return float(np.partition(sums, target - 1)[target - 1])
        sample = matrix.sample(rows, lo, widths, sample_size)
        if total == previous_total:
            # No progress (heavily tied sums): a single pivot at the target quantile;
            # either it is the answer or the side without the target is discarded.
            pivot = sample[min(int((target - 0.5) / total * sample_size), sample_size - 1)]
            pivot_low = pivot_high = pivot
        else:
            pivot_low, pivot_high = matrix.pivots(sample, target, target, total)
        previous_total = total
        below = matrix.count(rows, lo, hi, pivot_low, False)
        at_or_below = matrix.count(rows, lo, hi, pivot_high, True)
        n_below, n_at_or_below = int(below.sum()), int(at_or_below.sum())
        if target <= n_below:  # below pivot_low
            hi[rows] = lo[rows] + below
        elif target > n_at_or_below:  # above pivot_high
            lo[rows] = lo[rows] + at_or_below
            target -= n_at_or_below
        else:  # in [pivot_low, pivot_high]
            if pivot_low == pivot_high:
                return float(pivot_low)
            hi[rows] = lo[rows] + at_or_below
            lo[rows] = lo[rows] + below
            target -= n_below
    raise RuntimeError("selection of a Walsh average did not converge")  # pragma: no cover


# --------------------------------------------------------------------------------------
# Multiplicity
# --------------------------------------------------------------------------------------


def _holm(p: np.ndarray) -> np.ndarray:
    """Holm (1979) step-down adjusted p-values; NaN stays NaN and is not counted."""
    adjusted = np.full(len(p), np.nan)
    defined = np.flatnonzero(~np.isnan(p))
    m = len(defined)
    if m == 0:
        return adjusted
    order = defined[np.argsort(p[defined], kind="stable")]
    factors = m - np.arange(m)
    adjusted[order] = np.minimum(1.0, np.maximum.accumulate(factors * p[order]))
    return adjusted


def _holm_within(p: np.ndarray, family: Iterable) -> np.ndarray:
    family = np.asarray(family)
    adjusted = np.full(len(p), np.nan)
    for label in pd.unique(family):
        members = np.flatnonzero(family == label)
        adjusted[members] = _holm(p[members])
    return adjusted
