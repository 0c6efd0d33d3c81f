"""Simulated power, checked against closed forms, and its seeding contract."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from statsmodels.stats.power import TTestPower

from helpers import power
from helpers.analysis.planning import (dask_client, observed_differences, power_table,
                                       sample_sizes_needed)
from helpers.paired import paired_tests
from helpers.power import POWER_COLUMNS, TESTS, grid_seeds, n_needed, simulate_power
from support.paper import TABLE2, table2_measurements

# Normal draws with the mean and SD of these changes: effect size 1.5 / 1.2910 = 1.1619.
SAMPLE = [0.0, 1.0, 2.0, 3.0]
EFFECT = np.mean(SAMPLE) / np.std(SAMPLE, ddof=1)
SIZES = [4, 6, 10, 16]
REPS = 4000


@pytest.fixture(scope="module")
def normal_power():
    return simulate_power(SAMPLE, n=SIZES, reps=REPS, seed=11, method="normal")


def test_t_power_matches_the_noncentral_t(normal_power):
    # statsmodels TTestPower().power(effect_size, nobs, alpha, "two-sided"): the
    # noncentral-t power of the one-sample (paired) t-test.
    rows = normal_power[normal_power["test"] == "t"]
    exact = TTestPower().power(effect_size=EFFECT, nobs=rows["n"].to_numpy(), alpha=0.05,
                               alternative="two-sided")
    se = np.sqrt(exact * (1 - exact) / REPS)
    assert (np.abs(rows["power"].to_numpy() - exact) <= 4 * se).all(), (rows, exact)


def test_sign_power_matches_the_exact_binomial(normal_power):
    # A normal change is positive with probability q = Phi(mean / sd); the sign test
    # rejects for the k positives (of n) whose exact two-sided p is <= 0.05:
    # power = sum over those k of Binomial(n, q) probabilities.
    q = stats.norm.cdf(EFFECT)
    rows = normal_power[normal_power["test"] == "sign"]
    for n, simulated in zip(rows["n"], rows["power"], strict=True):
        k = np.arange(n + 1)
        p = np.minimum(1, 2 * stats.binom.cdf(np.minimum(k, n - k), n, 0.5))
        exact = stats.binom.pmf(k, n, q)[p <= 0.05].sum()
        assert abs(simulated - exact) <= 4 * np.sqrt(exact * (1 - exact) / REPS) + 1e-12, n


def test_four_patients_cannot_reach_significance_with_exact_tests():
    # With n = 4 the smallest exact two-sided p is 2 / 2^4 = 0.125 > 0.05 (by hand).
    table = simulate_power(TABLE2["das28"][1], n=[4], reps=200, seed=1)
    exact = table[table["test"].isin(["wilcoxon", "sign"])]
    assert (exact["power"] == 0).all()


def test_table_shape_and_monte_carlo_se(normal_power):
    assert list(normal_power.columns) == list(POWER_COLUMNS)
    assert len(normal_power) == len(SIZES) * 3 and (normal_power["reps"] == REPS).all()
    p = normal_power["power"]
    np.testing.assert_allclose(normal_power["mc_se"], np.sqrt(p * (1 - p) / REPS))


def test_seeding_contract():
    # Grid point k draws from SeedSequence(seed).spawn(K)[k], whose state depends on k
    # only: adding sizes at the end of the grid changes no earlier row.
    assert [s.spawn_key for s in grid_seeds(5, 4)] == [(0,), (1,), (2,), (3,)]
    short = simulate_power(SAMPLE, n=[4, 8], reps=300, seed=5)
    longer = simulate_power(SAMPLE, n=[4, 8, 12], reps=300, seed=5)
    pd.testing.assert_frame_equal(short, longer.iloc[: len(short)])
    again = simulate_power(SAMPLE, n=[4, 8], reps=300, seed=5)
    pd.testing.assert_frame_equal(short, again)
    other = simulate_power(SAMPLE, n=[4, 8], reps=300, seed=6)
    assert not short.equals(other)


def _changes(d) -> pd.DataFrame:
    """A tidy table whose changes (post - baseline) are ``d``."""
    n = len(d)
    return pd.DataFrame({"patient_id": np.tile(np.arange(n), 2), "measure": "x",
                         "timepoint": np.repeat(["baseline", "last"], n),
                         "month": np.repeat([0, 6], n),
                         "value": np.r_[np.zeros(n), np.asarray(d, dtype=float)]})


P_VALUES = {"t": "t_p_value", "wilcoxon": "wilcoxon_p_value", "sign": "sign_test_p_value"}


def test_power_counts_the_rejections_paired_tests_reports():
    # Each replicate, redrawn from its grid point's seed (the reproducibility contract),
    # tested by paired_tests one at a time: the simulation rejects exactly as often.
    # Observed changes with ties and a zero, in quarters (no rounding of differences).
    sample, sizes, reps, seed = np.array([-2.5, -1.0, -1.0, 0.0, 0.25, 3.0]), [5, 9], 40, 4
    power = simulate_power(sample, n=sizes, reps=reps, seed=seed)
    for size, child in zip(sizes, grid_seeds(seed, len(sizes)), strict=True):
        draws = np.random.default_rng(child).choice(sample, size=(reps, size))
        rows = pd.concat([paired_tests(_changes(d)) for d in draws])
        for test in TESTS:
            expected = int((rows[P_VALUES[test]] <= 0.05).sum())  # NaN: no rejection
            simulated = power.loc[(power["n"] == size) & (power["test"] == test), "power"]
            assert round(simulated.item() * reps) == expected, (size, test)


def test_identical_changes_are_no_t_test_rejection():
    # Three changes of -3.7 have a mean of -3.7000000000000006 in floating point, so a
    # standard deviation of 5e-16, not 0. paired_tests, as R's t.test, calls such data
    # essentially constant (t-test undefined); the simulation counts what it reports
    # (before the two shared one t-test it counted p = 7e-33, a power of 100%).
    row = paired_tests(_changes([-3.7] * 3)).iloc[0]
    assert np.isnan(row["t_p_value"]) and "constant differences" in row["notes"]
    table = simulate_power([-3.7], n=[3, 4, 6], tests=["t"], reps=10, seed=1)
    assert (table["power"] == 0).all()


@pytest.mark.parametrize(("kwargs", "message"), [
    (dict(differences=[], n=[4]), "at least one observed change"),
    (dict(differences=[1.0], n=[4], method="normal"), "at least 2 differences"),
    (dict(differences=[1.0, 2.0], n=[1]), "n must be whole numbers >= 2"),
    (dict(differences=[1.0, 2.0], n=[4], tests=["z"]), "tests must be among"),
    (dict(differences=[1.0, 2.0], n=[4], method="jackknife"), "method must be one of"),
    (dict(differences=[1.0, 2.0], n=[4], reps=0), "reps must be a positive integer"),
])
def test_arguments_are_checked(kwargs, message):
    differences = kwargs.pop("differences")
    with pytest.raises(ValueError, match=message):
        simulate_power(differences, **kwargs)


def test_power_table_and_sample_sizes_on_the_paper():
    measurements = table2_measurements()
    # DAS28 changes of Table 2, patients 1-4 (by hand): -5.04, -3.70, -2.26, 0.
    np.testing.assert_allclose(sorted(observed_differences(measurements, "das28")),
                               [-5.04, -3.7, -2.26, 0.0], atol=1e-12)
    table = power_table(measurements, measures=["das28", "sledai2k"], n=[4, 10, 20],
                        reps=200, seed=3)
    assert set(table["measure"]) == {"das28", "sledai2k"} and (table["n_observed"] == 4).all()
    needed = sample_sizes_needed(table, [0.8])
    assert set(needed.columns) == {"measure", "test", "target", "n_needed"}
    assert n_needed(pd.DataFrame({"n": [4, 8], "test": "t", "power": [0.1, 0.5]}),
                    0.8)["n_needed"].isna().all()


@pytest.mark.slow
def test_a_two_worker_cluster_gives_exactly_the_local_result():
    # 8,000 replicates of 60 patients are three blocks (tasks) of at most
    # BLOCK_DRAWS // 60 replicates, run in whatever order the workers take them.
    sizes, reps = [4, 6, 10, 30, 60], 8_000
    assert len(power.replicate_blocks(60, reps)) == 3
    local = simulate_power(SAMPLE, n=sizes, reps=reps, seed=9)
    with dask_client(n_workers=2, processes=True) as client:
        distributed = simulate_power(SAMPLE, n=sizes, reps=reps, seed=9, client=client)
    pd.testing.assert_frame_equal(local, distributed, check_exact=True)


def test_blocks_draw_from_the_seeds_the_contract_names(monkeypatch):
    # With blocks of 50 // n replicates, 23 replicates of 5 patients are blocks of
    # 10, 10 and 3; block b of grid point k draws from SeedSequence(seed).spawn(K)[k]
    # .spawn(B)[b]. Each replicate redrawn so and tested by paired_tests one at a time:
    # the simulation rejects exactly as often.
    monkeypatch.setattr(power, "BLOCK_DRAWS", 50)
    sample, sizes, reps, seed = np.array([-2.5, -1.0, -1.0, 0.0, 0.25, 3.0]), [5, 25], 23, 4
    assert power.replicate_blocks(5, reps) == [10, 10, 3]
    assert power.replicate_blocks(25, reps) == [2] * 11 + [1]
    simulated = simulate_power(sample, n=sizes, reps=reps, seed=seed)
    for k, size in enumerate(sizes):
        blocks = power.replicate_blocks(size, reps)
        children = np.random.SeedSequence(seed).spawn(len(sizes))[k].spawn(len(blocks))
        draws = np.vstack([np.random.default_rng(child).choice(sample, size=(block, size))
                           for block, child in zip(blocks, children, strict=True)])
        rows = pd.concat([paired_tests(_changes(d)) for d in draws])
        for test in TESTS:
            expected = int((rows[P_VALUES[test]] <= 0.05).sum())
            got = simulated.loc[(simulated["n"] == size) & (simulated["test"] == test),
                                "power"]
            assert round(got.item() * reps) == expected, (size, test)


def test_a_grid_point_of_one_block_draws_from_its_own_seed():
    # make's grid (1,000 replicates of up to 100 patients) is one block per point: its
    # numbers are those of the seeding before blocks existed.
    assert power.BLOCK_DRAWS >= 1_000 * 100
    point = grid_seeds(3, 2)[1]
    assert power.block_seeds(point, 1) == [point]
    assert [s.spawn_key for s in power.block_seeds(point, 3)] == [(1, 0), (1, 1), (1, 2)]
    assert point.n_children_spawned == 0  # computing the children did not spawn them


def test_power_curves_mark_the_targets_and_the_sizes_needed():
    import matplotlib.pyplot as plt

    from helpers.figures import power_curves

    table = pd.DataFrame({"n": [4, 6, 8, 4, 6, 8], "test": ["t"] * 3 + ["sign"] * 3,
                          "power": [0.5, 0.85, 0.95, 0.0, 0.6, 0.9]})
    fig, ax = plt.subplots()
    power_curves(table, targets=(0.8, 0.9), ax=ax)
    gids = {artist.get_gid() for artist in [*ax.lines, *ax.collections]} - {None}
    # t reaches 80% at n = 6 and 90% at n = 8; the sign test 90% (and so 80%) at n = 8.
    assert {"target-0.8", "target-0.9", "needed-t-0.8", "needed-t-0.9",
            "needed-sign-0.8", "needed-sign-0.9"} <= gids
    ringed = {c.get_gid(): tuple(c.get_offsets()[0]) for c in ax.collections
              if (c.get_gid() or "").startswith("needed")}
    assert ringed["needed-t-0.8"] == (6, 0.85) and ringed["needed-sign-0.8"] == (8, 0.9)
    plt.close(fig)
