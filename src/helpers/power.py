"""Power of the pre/post tests by simulation, for planning the next study.

With four patients no closed form tells how many a study needs: the exact signed-rank
test (with the ties of integer scores) and the sign test have no simple power formula.
:func:`simulate_power` simulates it from the changes observed, for a grid of sample
sizes, on one process or as Dask tasks on any cluster, with the same result either way.

Reproducibility contract: the grid point for sample size ``n_k`` (the k-th of ``n``)
has the seed ``SeedSequence(seed).spawn(K)[k]``. Its replicates are split into blocks of
about the same cost (:func:`replicate_blocks`: about :data:`BLOCK_DRAWS` drawn changes
each), each a task of its own: a point of one block draws from its own seed, block ``b``
of a point of ``B`` blocks from that seed's ``spawn(B)[b]`` (:func:`block_seeds`). No
replicate draws from a shared generator, and every test at one n uses the same
replicates (common random numbers). So a result does not depend on the number of
workers, the order tasks run in, or which other sizes are in the grid's tail.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

from helpers.paired import sign_tests, signed_rank_tests, t_tests
from helpers.errors import check_probability

__all__ = ["BLOCK_DRAWS", "METHODS", "POWER_COLUMNS", "TESTS", "TEST_LABELS", "block_seeds",
           "grid_seeds", "n_needed", "replicate_blocks", "simulate_power"]

TESTS = ("t", "wilcoxon", "sign")
#: How tables, text and figures name the tests.
TEST_LABELS = {"t": "Paired t-test", "wilcoxon": "Wilcoxon signed-rank test",
               "sign": "Sign test"}
METHODS = ("bootstrap", "normal")
POWER_COLUMNS = ("n", "test", "power", "mc_se", "reps")


def grid_seeds(seed: int, size: int) -> list[np.random.SeedSequence]:
    """The seed of each grid point: ``SeedSequence(seed).spawn(size)``.

    Examples
    --------
    >>> [s.spawn_key for s in grid_seeds(7, 3)]
    [(0,), (1,), (2,)]
    """
    return np.random.SeedSequence(seed).spawn(size)


#: About how many changes one task draws (replicates x patients): a grid point's
#: replicates are split into blocks of this cost, so that the tasks of a grid take
#: about the same time whatever their n, and a cluster of many workers gets many tasks.
#: At least the 100,000 of notebook 05's grid in ``make`` (1,000 replicates of up to 100
#: patients): each of its points is one block, and draws what it always drew.
BLOCK_DRAWS = 200_000


def replicate_blocks(n: int, reps: int) -> list[int]:
    """The replicates of each block of a grid point of ``reps`` replicates of ``n``.

    Blocks of ``max(1, BLOCK_DRAWS // n)`` replicates, the last one what is left.

    Examples
    --------
    >>> replicate_blocks(100, 1_000), replicate_blocks(100, 5_000), replicate_blocks(4, 100)
    ([1000], [2000, 2000, 1000], [100])
    """
    size = max(1, BLOCK_DRAWS // n)
    full, rest = divmod(reps, size)
    return [size] * full + ([rest] if rest else [])


def block_seeds(point: np.random.SeedSequence, blocks: int) -> list[np.random.SeedSequence]:
    """The seed of each block of a grid point whose seed is ``point``.

    One block: ``point`` itself. Several: ``point.spawn(blocks)``, computed without
    changing ``point`` (spawning twice from one SeedSequence gives new children).

    Examples
    --------
    >>> point = grid_seeds(7, 3)[2]
    >>> [s.spawn_key for s in block_seeds(point, 2)], block_seeds(point, 1) == [point]
    ([(2, 0), (2, 1)], True)
    """
    if blocks == 1:
        return [point]
    return [np.random.SeedSequence(point.entropy, spawn_key=(*point.spawn_key, b),
                                   pool_size=point.pool_size) for b in range(blocks)]


def simulate_power(differences, *, n: Sequence[int], tests: Sequence[str] = TESTS,
                   reps: int = 2000, seed: int = 0, alpha: float = 0.05,
                   method: str = "bootstrap", client=None) -> pd.DataFrame:
    """Simulated power of the paired tests for each sample size.

    Parameters
    ----------
    differences : array_like
        Observed paired changes (post - baseline); missing values are dropped.
    n : sequence of int
        Sample sizes (numbers of patients), each >= 2.
    tests : sequence of {"t", "wilcoxon", "sign"}
        ``"t"``: paired t-test; ``"wilcoxon"``: the signed-rank test (exact, or exact
        conditional with ties, below 50 non-zero differences; normal approximation
        above); ``"sign"``: the exact sign test. All two-sided, each exactly as
        :func:`helpers.paired.paired_tests` reports it with its defaults: the same
        batched functions (:func:`helpers.paired.t_tests`,
        :func:`helpers.paired.signed_rank_tests`, :func:`helpers.paired.sign_tests`).
    reps : int
        Replicates per sample size.
    seed : int
        Root of the grid's seeds (see the module's reproducibility contract).
    alpha : float
        Significance level.
    method : {"bootstrap", "normal"}
        ``"bootstrap"``: resample the observed differences with replacement;
        ``"normal"``: draw from a normal distribution with their mean and SD.
    client : dask.distributed.Client, optional
        Run the grid's blocks as Dask tasks on the client's cluster; default: in this
        process. The result is the same.

    Returns
    -------
    DataFrame
        Columns :data:`POWER_COLUMNS`: ``n``, ``test``, ``power`` (share of replicates
        with p <= alpha), ``mc_se`` (its Monte Carlo standard error,
        sqrt(power (1 - power) / reps)) and ``reps``; one row per n and test.

    Notes
    -----
    A replicate whose test is undefined (all differences zero, or essentially constant
    for the t-test, as paired_tests says) counts as not rejecting, as a study that
    observed it would report no significant change.
    """
    sample, n, tests = _check(differences, n, tests, reps, alpha, method)
    blocks = []  # (grid point, replicates, seed): one task each
    for k, (size, point) in enumerate(zip(n, grid_seeds(seed, len(n)), strict=True)):
        sizes = replicate_blocks(size, reps)
        blocks += [(k, block, child) for block, child in
                   zip(sizes, block_seeds(point, len(sizes)), strict=True)]
    if client is None:
        counts = [_simulate_block(sample, n[k], tests, block, alpha, method, child)
                  for k, block, child in blocks]
    else:
        # The observed changes go to every worker once, not with every task.
        shared = client.scatter(sample, broadcast=True)
        futures = [client.submit(_simulate_block, shared, n[k], tests, block, alpha, method,
                                 child, pure=False) for k, block, child in blocks]
        counts = client.gather(futures)
    totals = [dict.fromkeys(tests, 0) for _ in n]
    for (k, _, _), block in zip(blocks, counts, strict=True):
        for test in tests:
            totals[k][test] += block[test]
    rows = []
    for size, point in zip(n, totals, strict=True):
        for test in tests:
            power = point[test] / reps
            rows.append({"n": size, "test": test, "power": power,
                         "mc_se": math.sqrt(power * (1 - power) / reps), "reps": reps})
    return pd.DataFrame(rows, columns=list(POWER_COLUMNS))


def n_needed(power: pd.DataFrame, target: float) -> pd.DataFrame:
    """The smallest simulated n whose power reaches ``target``, per test (NaN if none)."""
    out = []
    for test, rows in power.groupby("test", sort=False):
        reached = rows.loc[rows["power"] >= target, "n"]
        out.append({"test": test, "target": target,
                    "n_needed": int(reached.min()) if len(reached) else math.nan})
    return pd.DataFrame(out, columns=["test", "target", "n_needed"])


def _check(differences, n, tests, reps, alpha, method):
    sample = np.asarray(differences, dtype=float).ravel()
    sample = sample[~np.isnan(sample)]
    if sample.size == 0:
        raise ValueError("differences must hold at least one observed change")
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    if method == "normal" and sample.size < 2:
        raise ValueError("method='normal' needs at least 2 differences (for their SD)")
    tests = [tests] if isinstance(tests, str) else list(tests)
    unknown = [t for t in tests if t not in TESTS]
    if unknown or not tests:
        raise ValueError(f"tests must be among {TESTS}, got {tests}")
    sizes = [int(v) for v in np.atleast_1d(n)]
    if not sizes or min(sizes) < 2 or any(v != w for v, w in zip(sizes, np.atleast_1d(n))):
        raise ValueError(f"n must be whole numbers >= 2, got {list(np.atleast_1d(n))}")
    if not (isinstance(reps, (int, np.integer)) and reps >= 1):
        raise ValueError(f"reps must be a positive integer, got {reps!r}")
    check_probability(alpha, "alpha", 0.05)
    return sample, sizes, tests


def _simulate_block(sample, n, tests, reps, alpha, method, seed) -> dict[str, int]:
    """Rejections of each test among ``reps`` replicates of ``n`` differences."""
    rng = np.random.default_rng(seed)
    if method == "bootstrap":
        draws = rng.choice(sample, size=(reps, n), replace=True)
    else:
        draws = rng.normal(sample.mean(), sample.std(ddof=1), size=(reps, n))
    # The tests paired_tests reports, batched over the replicates (the rows).
    counts = {}
    if "t" in tests:
        counts["t"] = _rejections(t_tests(draws).p_value, alpha)
    if "sign" in tests:
        counts["sign"] = _rejections(sign_tests(draws).p_value, alpha)
    if "wilcoxon" in tests:
        counts["wilcoxon"] = _rejections(_signed_rank_p_values(draws), alpha)
    return counts


def _rejections(p: np.ndarray, alpha: float) -> int:
    # A NaN p-value (the test undefined for the replicate) is no rejection.
    return int(np.count_nonzero(p <= alpha))


def _signed_rank_p_values(draws: np.ndarray) -> np.ndarray:
    # The p-value depends on the multiset of a replicate's differences only, and
    # bootstrap replicates of a few observed changes repeat multisets a lot: each
    # distinct one is tested once.
    distinct, which = np.unique(np.sort(draws, axis=1), axis=0, return_inverse=True)
    return signed_rank_tests(distinct).p_value[np.ravel(which)]
