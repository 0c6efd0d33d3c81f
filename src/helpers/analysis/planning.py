"""Planning the next study: simulated power per measure, on Dask, and what it means.

:func:`power_table` runs :func:`helpers.power.simulate_power` for each measure from the
changes a cohort observed; :func:`dask_client` gives it a cluster (an embedded
``LocalCluster`` by default, or an existing scheduler); :func:`power_narrative` says
what the table can and cannot tell.
"""

from __future__ import annotations

import contextlib
import logging
import os
import warnings
from collections.abc import Iterator, Mapping, Sequence

import numpy as np
import pandas as pd

from helpers.data.tidy import encode, latest_change
from helpers.formats import number_word, round_significant
from helpers.io import escape_markdown
from helpers.power import TEST_LABELS, TESTS, n_needed, simulate_power
from helpers.vocab import BASELINE, MEASURES, Measure, measure_name

__all__ = ["dask_client", "observed_differences", "power_narrative", "power_table",
           "sample_sizes_needed"]

def observed_differences(measurements: pd.DataFrame, measure: str,
                         baseline: str = BASELINE) -> np.ndarray:
    """Each patient's change from baseline to their last visit (complete pairs only)."""
    return latest_change(encode(measurements, require_month=True), measure,
                         baseline=baseline)


@contextlib.contextmanager
def dask_client(address: str | None = None, *, n_workers: int = 2,
                processes: bool = False) -> Iterator:
    """A Dask client: on ``address``, else ``$DASK_SCHEDULER_ADDRESS``, else embedded.

    The embedded cluster is a ``LocalCluster`` of ``n_workers`` workers (threads by
    default: they start in a fraction of a second), without a dashboard. Dask's logs
    and warnings are silenced while the client lives: on a busy machine it reports
    slow event loops or slow scratch directories, with timings, and those would reach
    a notebook's outputs and change them from run to run. Everything is closed on exit.
    """
    from dask.distributed import Client, LocalCluster

    address = address or os.environ.get("DASK_SCHEDULER_ADDRESS") or None
    with _quiet_dask():
        if address:
            with Client(address) as client:
                yield client
            return
        with LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=processes,
                          dashboard_address=None, silence_logs=logging.CRITICAL) as cluster, \
                Client(cluster) as client:
            yield client


@contextlib.contextmanager
def _quiet_dask() -> Iterator[None]:
    """Dask's, tornado's and asyncio's logs off, and warnings ignored, for a while."""
    import dask

    loggers = [logging.getLogger(name) for name in ("distributed", "tornado", "asyncio")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.CRITICAL)
    try:
        # Workers sample their threads' stacks every 10 ms for the dashboard's profile:
        # with the GIL, that slows the simulation's Python by a fifth (measured: 22 s
        # against 18 s in one worker process). An embedded cluster's workers do without.
        # Nannies start worker processes with MALLOC_TRIM_THRESHOLD_ set, which turns off
        # glibc's adaptive mmap threshold: every array over 128 KiB is then mapped and
        # unmapped afresh, and the simulation's temporaries fault their pages in again
        # each time (measured: 3x the page faults, 0.6 s more system time in 7 s).
        with warnings.catch_warnings(), dask.config.set(
                {"distributed.admin.tick.limit": "1h",
                 "distributed.worker.profile.enabled": False,
                 "distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None}):
            warnings.simplefilter("ignore")
            yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)


def power_table(measurements: pd.DataFrame, *, measures: Sequence[str],
                n: Sequence[int], tests: Sequence[str] = TESTS, reps: int = 2000,
                seed: int = 0, alpha: float = 0.05, method: str = "bootstrap",
                client=None) -> pd.DataFrame:
    """Simulated power for each measure (``reports/tables/power.csv``).

    Each measure gets its own seed (``SeedSequence(seed).spawn``), so adding or removing
    a measure changes no other measure's rows.

    Returns
    -------
    DataFrame
        ``measure, method, n_observed, n, test, power, mc_se, reps``.
    """
    frames = []
    seeds = np.random.SeedSequence(seed).spawn(len(measures))
    for measure, child in zip(measures, seeds, strict=True):
        differences = observed_differences(measurements, measure)
        root = int(child.generate_state(1)[0])
        table = simulate_power(differences, n=n, tests=tests, reps=reps, seed=root,
                               alpha=alpha, method=method, client=client)
        table.insert(0, "n_observed", len(differences))
        table.insert(0, "method", method)
        table.insert(0, "measure", measure)
        frames.append(table)
    return pd.concat(frames, ignore_index=True)


def sample_sizes_needed(power: pd.DataFrame, targets: Sequence[float]) -> pd.DataFrame:
    """Smallest simulated n reaching each target power, per measure and test."""
    rows = []
    for measure, table in power.groupby("measure", sort=False):
        for target in targets:
            needed = n_needed(table, target)
            needed.insert(0, "measure", measure)
            rows.append(needed)
    return pd.concat(rows, ignore_index=True)


def _bootstrap_caveat(power: pd.DataFrame, measurements: pd.DataFrame | None,
                      codebook: Mapping[str, Measure]) -> str:
    """What resampling the observed changes assumes, and whether any patient worsened."""
    patients = int(power["n_observed"].max())
    text = ("Bootstrapping resamples the observed changes, so it assumes that future "
            f"patients change exactly as these{' few' if patients <= 10 else ''} did")
    return text + _worsening(power, measurements, codebook, patients)


def _worsening(power: pd.DataFrame, measurements: pd.DataFrame | None,
               codebook: Mapping[str, Measure], patients: int) -> str:
    """The end of the bootstrap caveat: whether the patients resampled ever worsened."""
    if measurements is None:
        return "."
    measures = list(dict.fromkeys(power["measure"]))
    worse = {measure: int((observed_differences(measurements, measure)
                           * (1 if codebook[measure].lower_is_better else -1) > 0).sum())
             if measure in codebook else 0 for measure in measures}
    if any(worse.values()):
        which = ", ".join(f"{n} on {measure_name(m, codebook)}" for m, n in worse.items() if n)
        return (f": {number_word(patients)} patients, some of whom worsened ({which}); "
                "every simulated study draws its patients from these, so the power shown "
                "holds only for a population that responds in the same proportions.")
    return (f": with {number_word(patients)} patients of whom none worsened, every "
            "simulated study has only improvements and zeros, the exact tests reject as "
            "soon as there are enough non-zero changes, and the power shown is an upper "
            "bound for a population in which some patients worsen or the effect is "
            "smaller.")


def power_narrative(power: pd.DataFrame, needed: pd.DataFrame, *, alpha: float,
                    measurements: pd.DataFrame | None = None,
                    codebook: Mapping[str, Measure] = MEASURES):
    """What the simulated power says, and what bootstrapping a few changes cannot say.

    ``measurements`` (the tidy table the power was simulated from), when given, lets the
    caveat say how many patients changed and whether any worsened (a rise, where the
    codebook says lower is better); without it the caveat speaks of the changes only.
    """
    from IPython.display import Markdown

    needed = round_significant(needed)
    lines = []
    for measure, rows in needed.groupby("measure", sort=False):
        observed = int(power.loc[power["measure"] == measure, "n_observed"].iloc[0])
        parts = []
        for test, by_test in rows.groupby("test", sort=False):
            sizes = ", ".join(
                f"{100 * r.target:.0f}% at n = {int(r.n_needed)}" if pd.notna(r.n_needed)
                else f"{100 * r.target:.0f}% not reached by n = {int(power['n'].max())}"
                for r in by_test.itertuples(index=False))
            parts.append(f"{TEST_LABELS.get(test, escape_markdown(test))}: {sizes}")
        lines.append(f"- **{escape_markdown(measure_name(measure))}** (from {observed} "
                     f"observed changes): {'; '.join(parts)}.")
    method = str(power["method"].iloc[0])
    reps = int(power["reps"].iloc[0])
    caveat = (
        _bootstrap_caveat(power, measurements, codebook) + " "
        if method == "bootstrap" else
        "The normal model uses the observed mean and SD of the changes as if they were the "
        "population's; with a handful of patients both are very uncertain. ")
    text = "\n".join(lines) + (
        f"\n\n{caveat}Each point is {reps:,} simulated studies (two-sided tests at "
        f"{alpha:g}; Monte Carlo SE in `power.csv`). Read the curves as a first sketch for "
        "a protocol, to be redone with a clinically chosen effect size and a plausible "
        "spread, not as a sample-size calculation.")
    return Markdown(text)
