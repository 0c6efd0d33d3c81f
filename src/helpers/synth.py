"""Synthetic cohorts in the tidy measurements format, for tests and benchmarks.

:func:`make_cohort` draws SLE patients treated with anifrolumab: disease activity
(SLEDAI-2K), joint activity (DAS28) and glucocorticoid dose at baseline and follow-up
visits, with plausible ranges, within-patient correlation over time and a treatment
response that develops over the first months. It is fully vectorised (10^6 patients in
about a second) and deterministic for a given seed.

The numbers are invented: they resemble the paper's four patients (Cassone et al., J.
Pers. Med. 2025, 15, 546, Table 2) in range, not any real cohort's distribution.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
import pandas as pd

from helpers.vocab import BASELINE, LAST, MEASURE_CODES, MEASURES, TIMEPOINT_PATTERN

__all__ = ["SYNTH_MEASURES", "make_cohort"]

#: Measures :func:`make_cohort` can generate: every measure of the vocabulary, in its
#: order (a test keeps the two in step).
SYNTH_MEASURES = MEASURE_CODES

_SCHEDULED = re.compile(r"m(\d+)")
_LABEL = re.compile(TIMEPOINT_PATTERN)  # the timepoint labels helpers.data.schema accepts
# Glucocorticoid doses (mg/day prednisone equivalent) as usually prescribed: tablets of
# 1, 5 and 25 mg allow 1.25 mg steps below 10 mg; baseline doses are drawn from these.
_GC_LEVELS = np.array([0.0, 2.5, 5.0, 7.5, 10.0, 12.5, 15.0, 20.0, 25.0])


def make_cohort(
    n_patients: int,
    *,
    visits: Sequence[str] | int = (BASELINE, LAST),
    measures: Sequence[str] = SYNTH_MEASURES,
    seed: int = 0,
    missing_rate: float = 0.0,
) -> pd.DataFrame:
    """Draw a synthetic cohort in the tidy measurements format (docs/architecture.md).

    Parameters
    ----------
    n_patients : int
        Number of patients (>= 1); ids are 1..n_patients.
    visits : sequence of str or int, default ("baseline", "last")
        Visit labels in chronological order, the first being ``"baseline"``. A label
        ``m<k>`` (e.g. ``"m6"``) is a scheduled visit at month k; any other label (e.g.
        ``"last"``) falls 3 to 15 months after the previous visit, varying by patient,
        and must come after every scheduled one. An int k >= 2 means ``baseline, m3,
        m6, ..., m<3(k-1)>``.
    measures : sequence of str, default SYNTH_MEASURES (every measure of helpers.vocab)
        Subset of :data:`SYNTH_MEASURES`, in output order.
    seed : int, default 0
        Seed of :func:`numpy.random.default_rng`; the same seed gives the same cohort,
        and a measure's values do not depend on which other measures are requested.
    missing_rate : float, default 0.0
        Probability, independently per value, that a value is missing (row kept,
        ``value`` NaN), at baseline and follow-up alike.

    Returns
    -------
    pandas.DataFrame
        Columns ``patient_id`` (int64), ``measure``, ``timepoint`` (str), ``month``
        (int64), ``value`` (float64), ``unit`` (str); one row per measure, patient and
        visit, sorted in that order (as ``helpers.data.paper_tables`` writes the paper's table).

    Raises
    ------
    ValueError
        On a bad argument, naming it and the allowed values.

    Notes
    -----
    Generative model, per patient i (a = latent disease activity ~ N(0, 1), shared by
    all measures so they correlate; r ~ Beta(2, 1.5) = how well the patient responds;
    f(t) = 1 - exp(-t / 4) = fraction of the response reached by month t):

    - SLEDAI-2K (Gladman et al., J Rheumatol 2002; integer 0-105): baseline
      ~ Poisson(exp(1.7 + 0.45 a)), median about 5 and mostly 0-20; follow-up
      ~ Poisson(lambda_0 (1 - 0.85 r f(t)) e^(0.25 z)), so it correlates with baseline.
    - DAS28 (Prevoo et al., Arthritis Rheum 1995; 0-10): baseline ~ N(4.6 + 0.7 a_j,
      1.0) with a_j = 0.6 a + 0.8 z, follow-up moves towards 1.8 by r f(t) times the
      distance, plus N(0, 0.35) noise; clipped to [0.5, 9.4], 2 decimals as reported.
    - Glucocorticoids (mg/day, >= 0): baseline from the usual doses 0-25 mg/day, higher
      with activity; tapered by a patient-specific fraction of r f(t), rounded to
      1.25 mg; doses below 2.5 mg/day in good responders are stopped (0); flares
      (probability 0.15 (1 - r) per follow-up visit) add 5 mg/day.

    Examples
    --------
    >>> cohort = make_cohort(3, seed=1)
    >>> cohort.shape
    (18, 6)
    >>> list(cohort.columns)
    ['patient_id', 'measure', 'timepoint', 'month', 'value', 'unit']
    """
    n_patients, labels, measures, missing_rate = _check(n_patients, visits, measures,
                                                        seed, missing_rate)
    rng = np.random.default_rng(seed)
    n_visits = len(labels)
    months = _visit_months(labels, n_patients, rng)  # (patients, visits)

    # Every measure is always drawn, in a fixed order, so that one measure's values do
    # not depend on which others were requested.
    activity = rng.standard_normal(n_patients)
    response = rng.beta(2.0, 1.5, n_patients)
    progress = 1.0 - np.exp(-months / 4.0)  # 0 at baseline
    reached = response[:, None] * progress

    sledai_rate = np.exp(1.7 + 0.45 * activity)
    noise = np.exp(0.25 * rng.standard_normal((n_patients, n_visits)))
    noise[:, 0] = 1.0
    rate = sledai_rate[:, None] * (1.0 - 0.85 * reached) * noise
    sledai = np.minimum(rng.poisson(rate), MEASURES["sledai2k"].high).astype(float)

    joint_activity = 0.6 * activity + 0.8 * rng.standard_normal(n_patients)
    das_base = 4.6 + 0.7 * joint_activity + rng.standard_normal(n_patients)
    das_target = 1.8
    das = das_base[:, None] - reached * (das_base[:, None] - das_target)
    das_noise = 0.35 * rng.standard_normal((n_patients, n_visits))
    das_noise[:, 0] = 0.0
    das = np.round(np.clip(das + das_noise, 0.5, 9.4), 2)

    level = np.clip(np.round(2.5 + 1.5 * activity + rng.standard_normal(n_patients)),
                    0, len(_GC_LEVELS) - 1).astype(int)
    gc_base = _GC_LEVELS[level]
    taper = rng.uniform(0.4, 1.0, n_patients)
    gc = gc_base[:, None] * (1.0 - taper[:, None] * reached * 1.3)
    gc = np.round(np.clip(gc, 0.0, None) / 1.25) * 1.25
    stop = (gc < 2.5) & (response[:, None] > 0.5)
    gc[stop] = 0.0
    # Flares: poor responders sometimes need 5 mg/day more than before.
    flare = rng.random((n_patients, n_visits)) < 0.15 * (1.0 - response[:, None])
    gc = np.where(flare, gc + 5.0, gc)
    gc[:, 0] = gc_base

    drawn = {"sledai2k": sledai, "das28": das, "gc_mg_day": gc}
    missing = rng.random((len(SYNTH_MEASURES), n_patients, n_visits)) < missing_rate
    selected = [SYNTH_MEASURES.index(m) for m in measures]
    values = np.stack([drawn[m] for m in measures])  # (measures, patients, visits)
    values[missing[selected]] = np.nan

    n_measures = len(measures)
    per_measure = n_patients * n_visits
    measure_codes = np.repeat(np.arange(n_measures), per_measure)
    frame = pd.DataFrame({
        "patient_id": np.tile(np.repeat(np.arange(1, n_patients + 1, dtype=np.int64),
                                        n_visits), n_measures),
        "measure": _strings(measure_codes, list(measures)),
        "timepoint": _strings(np.tile(np.arange(n_visits), n_patients * n_measures),
                              labels),
        "month": np.tile(months.reshape(-1), n_measures).astype(np.int64),
        "value": values.reshape(-1),
        "unit": _strings(measure_codes, [MEASURES[m].unit for m in measures]),
    })
    return frame


def _strings(codes: np.ndarray, labels: list[str]) -> pd.Series:
    """A str column from small integer codes (no per-row Python string creation)."""
    return pd.Series(np.array(labels, dtype=object)[codes], dtype="str")


def _check(n_patients, visits, measures, seed, missing_rate):
    if isinstance(n_patients, bool) or not isinstance(n_patients, (int, np.integer)) \
            or n_patients < 1:
        raise ValueError(f"n_patients must be an integer >= 1, got {n_patients!r}")
    if isinstance(visits, (int, np.integer)) and not isinstance(visits, bool):
        if visits < 2:
            raise ValueError(f"visits must be >= 2 (baseline and one follow-up) when an "
                             f"integer, got {visits}")
        labels = [BASELINE] + [f"m{3 * k}" for k in range(1, int(visits))]
    elif isinstance(visits, str) or not isinstance(visits, Sequence):
        raise ValueError("visits must be a sequence of labels starting with 'baseline' "
                         f"or an integer >= 2, got {visits!r}")
    else:
        labels = [str(v) for v in visits]
    if len(labels) < 2 or labels[0] != BASELINE:
        raise ValueError(f"visits must start with 'baseline' and have at least one "
                         f"follow-up, got {labels}")
    if len(set(labels)) != len(labels):
        raise ValueError(f"visits must not repeat, got {labels}")
    bad = [v for v in labels if not _LABEL.fullmatch(v)]
    if bad:
        raise ValueError(f"visit labels must match {TIMEPOINT_PATTERN}, got {bad}")
    scheduled_month, seen_unscheduled = 0, False
    for label in labels[1:]:
        match = _SCHEDULED.fullmatch(label)
        if match is None:
            seen_unscheduled = True
            continue
        month = int(match.group(1))
        if seen_unscheduled or month <= scheduled_month:
            earlier = labels[:labels.index(label)]
            raise ValueError(f"visits must be in chronological order: scheduled visit "
                             f"{label!r} (month {month}) cannot follow {earlier}; labels "
                             "m<k> fix the month to k, other labels come last")
        scheduled_month = month
    if isinstance(measures, str):
        measures = [measures]
    measures = list(measures)
    unknown = [m for m in measures if m not in SYNTH_MEASURES]
    if unknown or not measures or len(set(measures)) != len(measures):
        raise ValueError(f"measures must be distinct values from {SYNTH_MEASURES}, "
                         f"got {measures}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    if not isinstance(missing_rate, (int, float, np.floating)) \
            or not 0 <= missing_rate < 1:
        raise ValueError(f"missing_rate must be in [0, 1), got {missing_rate!r}")
    return int(n_patients), labels, measures, float(missing_rate)


def _visit_months(labels: list[str], n_patients: int, rng) -> np.ndarray:
    months = np.zeros((n_patients, len(labels)), dtype=np.int64)
    for k, label in enumerate(labels[1:], start=1):
        match = _SCHEDULED.fullmatch(label)
        if match is not None:
            months[:, k] = int(match.group(1))
        else:
            months[:, k] = months[:, k - 1] + rng.integers(3, 16, n_patients)
    return months
