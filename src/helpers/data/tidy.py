"""The tidy measurement table, validated and paired in one place.

Every analysis that compares visits (the paired statistics, the responder criteria, the
narrative's direction counts) starts here, as scipy's ``_wilcoxon_iv`` separates input
validation from computation one level down:

1. :func:`encode` checks an in-memory table (a DataFrame with the columns of
   :data:`helpers.vocab.MEASUREMENT_COLUMNS`; numeric, finite values; at most one value
   per patient, measure and visit) and turns patients, measures and visits into integer
   codes, vectorised, so that a million patients cost no Python loop;
2. :func:`paired_visits` pairs baseline with each follow-up visit per measure (complete
   pairs as two arrays, for the statistics); :func:`baseline_and_latest` gives each
   patient's baseline and latest follow-up value of one measure (for per-patient
   criteria); :func:`wide` lays one measure out as patients x visits (for figures);
3. :func:`change` is the one change from baseline (``post - pre`` without the float
   noise of the subtraction) and :func:`visit_order` the one order of visits, which every
   table, criterion, sentence and figure uses, so that no patient is classified
   differently in two places; :func:`whole_number_ids` the one reading of patient ids
   (integers where the file wrote integers, else the text written).

Errors are :class:`ValueError` naming the column and the row position. Reading a *file*
is the job of :func:`helpers.data.reader.read_measurements`, whose errors also name the
file and line (:class:`~helpers.errors.InputError`, a ``ValueError``); what it returns
passes :func:`encode`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from helpers.vocab import BASELINE, MEASURE_CODES

__all__ = ["CHANGE_DIGITS", "Encoded", "PairedVisit", "baseline_and_latest", "change",
           "encode", "latest_change", "paired_visits", "visit_order", "wide"]

#: Significant digits a change from baseline keeps, relative to the size of the values
#: compared. A subtraction of numbers written with a few decimals leaves noise in the
#: 16th digit (2.18 - 7.22 = -5.039999999999999, 3.8 - 2.6 = 1.1999999999999997); kept,
#: it would split tied changes and put a change of exactly 1.2 on the wrong side of a
#: cut-off. Twelve digits drop that noise and keep every digit a clinical value has.
CHANGE_DIGITS = 12

_REQUIRED = ("patient_id", "measure", "timepoint", "value")


@dataclass(frozen=True)
class Encoded:
    """A validated tidy table as integer codes (one entry per row of ``frame``).

    Attributes
    ----------
    frame : DataFrame
        The table as given.
    patient, measure, timepoint : ndarray of int64
        Codes into ``patients``, ``measures`` and ``timepoints``.
    patients, measures, timepoints : Index
        The distinct values, in order of first appearance (``patients`` sorted when
        :func:`encode` was asked to).
    value : ndarray of float
        The values; NaN where missing.
    month : ndarray of float or None
        Months since baseline (NaN where not a number); None without a ``month`` column.
    """

    frame: pd.DataFrame
    patient: np.ndarray
    patients: pd.Index
    measure: np.ndarray
    measures: pd.Index
    timepoint: np.ndarray
    timepoints: pd.Index
    value: np.ndarray
    month: np.ndarray | None


@dataclass(frozen=True)
class PairedVisit:
    """Complete baseline/follow-up pairs of one measure at one follow-up visit.

    Attributes
    ----------
    outcome, followup : str
        The measure and the follow-up timepoint.
    pre, post : ndarray of float
        Baseline and follow-up values of the patients with both.
    n_excluded : int
        Patients seen at either visit but without a complete pair.
    """

    outcome: str
    followup: str
    pre: np.ndarray
    post: np.ndarray
    n_excluded: int


def encode(measurements: pd.DataFrame, *, sort_patients: bool = False,
           require_month: bool = False) -> Encoded:
    """Validate a tidy measurement table and encode it as integer codes.

    Parameters
    ----------
    measurements : DataFrame
        Columns ``patient_id, measure, timepoint, value`` at least (``month`` too with
        ``require_month``); other columns are ignored.
    sort_patients : bool
        Order ``patients`` by id (when the ids are comparable) instead of by first
        appearance.
    require_month : bool
        Whether a ``month`` column is needed.

    Returns
    -------
    Encoded

    Raises
    ------
    ValueError
        Not a DataFrame; a required column missing; a value that is not a number or is
        infinite; a missing patient id; a patient with two values for one measure and
        visit.
    """
    if not isinstance(measurements, pd.DataFrame):
        raise ValueError("measurements must be a pandas DataFrame in the tidy format "
                         "(patient_id, measure, timepoint, month, value, unit), got "
                         f"{type(measurements).__name__}")
    required = [*_REQUIRED, "month"] if require_month else list(_REQUIRED)
    missing = [c for c in required if c not in measurements.columns]
    if missing:
        raise ValueError(f"measurements lacks column(s) {missing}; required: {required}")
    try:
        values = pd.to_numeric(measurements["value"], errors="raise")
    except (ValueError, TypeError) as error:
        raise ValueError(f"column 'value' must be numeric: {error}") from None
    values = np.asarray(values, dtype=float)
    if np.isinf(values).any():
        row = int(np.flatnonzero(np.isinf(values))[0])
        raise ValueError(f"column 'value' must be finite or missing (row {row} is "
                         f"{values[row]})")
    patient, patients = _factorize(measurements["patient_id"], "patient_id", sort_patients)
    measure, measures = _factorize(measurements["measure"].astype(str), "measure")
    timepoint, timepoints = _factorize(measurements["timepoint"].astype(str), "timepoint")
    _check_unique(measurements, patient, measure, timepoint,
                  len(patients), len(measures), len(timepoints))
    month = None
    if "month" in measurements.columns:
        month = pd.to_numeric(measurements["month"], errors="coerce").to_numpy(dtype=float)
    return Encoded(measurements, patient, patients, measure, measures, timepoint,
                   timepoints, values, month)


def arrow_backed(series: pd.Series) -> bool:
    """Whether a column's values live in Arrow memory (string[pyarrow], ArrowDtype)."""
    return (getattr(series.dtype, "storage", None) == "pyarrow"
            or isinstance(series.dtype, pd.ArrowDtype))


def _factorize(series: pd.Series, name: str, sort: bool = False
               ) -> tuple[np.ndarray, pd.Index]:
    # Python-backed string arrays factorize through a generic path two to three times
    # slower than their object-array view (0.3 s against 0.13 s for 3 million visit
    # labels); Arrow-backed ones (pandas' default where pyarrow is installed) are fastest
    # as they are (0.06 s), and converting them would cost 0.3 s. Codes, uniques and
    # missing values are the same either way.
    if pd.api.types.is_string_dtype(series.dtype) and not arrow_backed(series):
        series = series.to_numpy(dtype=object)
    try:
        codes, uniques = pd.factorize(series, sort=sort)
    except TypeError:  # ids of mixed types cannot be sorted: keep their order
        codes, uniques = pd.factorize(series, sort=False)
    if (codes < 0).any():
        row = int(np.flatnonzero(codes < 0)[0])
        raise ValueError(f"column {name!r} must not be missing (row {row})")
    return codes.astype(np.int64, copy=False), pd.Index(uniques)


def first_repeat(codes: np.ndarray) -> int | None:
    """The position of the first of ``codes`` (non-negative integers) equal to an
    earlier one; None when all differ.

    Counted (``np.bincount``) where the codes are dense enough, as a table's key codes
    are; only the rows whose code repeats are then hashed, so the usual answer (none)
    costs one counting pass.

    Examples
    --------
    >>> first_repeat(np.array([0, 5, 2, 2, 0])), first_repeat(np.array([3, 1]))
    (3, None)
    """
    codes = np.asarray(codes, dtype=np.int64)
    if not len(codes):
        return None
    size = int(codes.max()) + 1
    rows = None
    if size <= 8 * len(codes) + 1024:
        counts = np.bincount(codes, minlength=size)
        if counts.max() <= 1:
            return None
        rows = np.flatnonzero(np.isin(codes, np.flatnonzero(counts > 1)))
    candidates = codes if rows is None else codes[rows]
    repeated = pd.Series(candidates).duplicated().to_numpy()
    if not repeated.any():
        return None
    first = int(repeated.argmax())
    return first if rows is None else int(rows[first])


def whole_number_ids(ids: pd.Series, *, factorized: tuple | None = None) -> pd.Series:
    """Patient ids as integers when that loses nothing, else as the text written.

    ``1``, ``2``, ``10`` become integers (they then sort as numbers); ``001``, ``+1``,
    ``PT-001`` and a mix stay text, so that every id matches its PATIENTS row exactly.

    Examples
    --------
    >>> whole_number_ids(pd.Series(["1", "10", "2"])).tolist()
    [1, 10, 2]
    >>> whole_number_ids(pd.Series(["001", "2"])).tolist()
    ['001', '2']
    """
    # Each distinct id once: a registry repeats every id at every visit and measure.
    # ``factorized``: the codes and distinct ids of ``ids`` as text, when the caller has
    # them already.
    codes, distinct = (pd.factorize(ids.astype(str)) if factorized is None
                       else factorized)
    distinct = pd.Series(distinct).str.strip()
    if distinct.str.fullmatch(r"0|[1-9][0-9]{0,17}").all():  # ASCII digits only
        distinct = distinct.astype("int64")
    return pd.Series(distinct.to_numpy()[codes], index=ids.index, name=ids.name,
                     dtype=distinct.dtype, copy=False)


def _check_unique(measurements, pid, mc, tc, n_pid, n_meas, n_tp) -> None:
    """At most one row per (patient, measure, timepoint), by counting codes."""
    key = (mc * n_tp + tc) * max(n_pid, 1) + pid
    repeat = first_repeat(key)
    if repeat is None:
        return
    # The rows of the first repeated key only: each repeated key has its own positions.
    dup = np.flatnonzero(key == key[repeat])
    first = measurements.iloc[dup[0]]
    key_text = ", ".join(repr(v.item() if isinstance(v, np.generic) else v)
                         for v in (first["patient_id"], first["measure"], first["timepoint"]))
    raise ValueError(
        f"duplicated patient_id, measure, timepoint: ({key_text}) appears at row "
        f"positions {dup[:5].tolist()}; each patient has at most one value per measure "
        "and visit")


def paired_visits(encoded: Encoded, *, outcomes: Sequence[str] | str | None = None,
                  baseline: str = BASELINE,
                  followups: Sequence[str] | str | None = None) -> list[PairedVisit]:
    """Pair baseline with each follow-up visit, per measure, vectorised.

    Parameters
    ----------
    encoded : Encoded
        From :func:`encode`.
    outcomes : str or sequence of str, optional
        Measures, in this order. Default: the vocabulary's measures present, in its
        order, then any others in order of appearance.
    baseline : str
        The baseline timepoint.
    followups : str or sequence of str, optional
        Follow-up timepoints, in this order. Default: all, ordered by median month,
        then by label.

    Returns
    -------
    list of PairedVisit
        One per outcome and follow-up, outcomes outermost.

    Raises
    ------
    ValueError
        No baseline rows; an outcome not in the table or repeated; an unknown follow-up;
        no follow-up rows at all.
    """
    pid, mc, tc = encoded.patient, encoded.measure, encoded.timepoint
    measures, timepoints, values = encoded.measures, encoded.timepoints, encoded.value
    n_pid, n_meas, n_tp = int(pid.max(initial=-1)) + 1, len(measures), len(timepoints)
    if baseline not in timepoints:
        raise ValueError(f"no rows with timepoint {baseline!r} (the baseline); timepoints "
                         f"found: {list(timepoints)}")
    base_code = int(timepoints.get_loc(baseline))
    outcomes = _outcomes(outcomes, measures)
    out_codes = np.array([measures.get_loc(o) for o in outcomes], dtype=np.int64)

    is_base = tc == base_code
    in_outcome = np.zeros(n_meas, dtype=bool)
    in_outcome[out_codes] = True
    follow = ~is_base & in_outcome[mc]
    follow_codes = _followup_codes(encoded, follow, followups, baseline)
    if not follow_codes:
        raise ValueError(f"no follow-up rows: every row of outcomes {outcomes} has "
                         f"timepoint {baseline!r}, so there is nothing to compare")

    # Baseline values in a dense (measure x patient) matrix: O(rows) lookup, no merge.
    base_value = np.full((n_meas, n_pid), np.nan)
    has_base = np.zeros((n_meas, n_pid), dtype=bool)
    base_value[mc[is_base], pid[is_base]] = values[is_base]
    has_base[mc[is_base], pid[is_base]] = True
    base_rows = has_base.sum(axis=1)

    # Sort follow-up rows once by (measure, timepoint) and slice each group.
    rows = np.flatnonzero(follow)
    key = mc[rows] * n_tp + tc[rows]
    order = np.argsort(key, kind="stable")
    rows, key = rows[order], key[order]
    visits = []
    for m in out_codes:
        for t in follow_codes:
            k = m * n_tp + t
            lo, hi = np.searchsorted(key, k, "left"), np.searchsorted(key, k, "right")
            idx = rows[lo:hi]
            post = values[idx]
            pre = base_value[m, pid[idx]]
            with_base = has_base[m, pid[idx]]
            complete = ~np.isnan(pre) & ~np.isnan(post)
            patients_seen = int(base_rows[m]) + len(idx) - int(with_base.sum())
            visits.append(PairedVisit(str(measures[m]), str(timepoints[t]), pre[complete],
                                      post[complete], patients_seen - int(complete.sum())))
    return visits


def _outcomes(outcomes, measures: pd.Index) -> list[str]:
    """Requested outcomes, checked; by default the vocabulary's first, then the rest."""
    if outcomes is None:
        known = [m for m in MEASURE_CODES if m in measures]
        return known + [m for m in measures if m not in known]
    outcomes = [outcomes] if isinstance(outcomes, str) else list(outcomes)
    unknown = [o for o in outcomes if o not in measures]
    if unknown:
        raise ValueError(f"outcome(s) {unknown} not in column 'measure'; available: "
                         f"{list(measures)}")
    if len(set(outcomes)) != len(outcomes):
        raise ValueError(f"outcomes must not repeat, got {outcomes}")
    return outcomes


def _followup_codes(encoded: Encoded, follow: np.ndarray, followups, baseline: str
                    ) -> list[int]:
    """Codes of the follow-up visits: requested, or all by median month then label."""
    timepoints, tc = encoded.timepoints, encoded.timepoint
    if followups is not None:
        followups = [followups] if isinstance(followups, str) else list(followups)
        unknown = [f for f in followups if f not in timepoints or f == baseline]
        if unknown:
            raise ValueError(f"follow-up(s) {unknown} not among the non-baseline "
                             f"timepoints {[t for t in timepoints if t != baseline]}")
        return [int(timepoints.get_loc(f)) for f in followups]
    present = np.unique(tc[follow])
    months = dict.fromkeys((str(timepoints[code]) for code in present), np.nan)
    if encoded.month is not None:
        medians = pd.Series(encoded.month[follow]).groupby(tc[follow]).median()
        months = {str(timepoints[code]): medians[code] for code in present}
    return [int(timepoints.get_loc(visit)) for visit in visit_order(months, baseline)]


def baseline_and_latest(encoded: Encoded, measure: str, *, baseline: str = BASELINE,
                        followup: str | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Each patient's baseline value of ``measure`` and their latest follow-up value.

    Parameters
    ----------
    encoded : Encoded
        From :func:`encode` (with a ``month`` column unless ``followup`` is given).
    measure : str
        The measure; absent from the table gives all-missing arrays.
    baseline : str
        The baseline timepoint.
    followup : str, optional
        Use this visit. Default: per patient, the latest visit (largest month; among
        equal months the later row) with a non-missing value.

    Returns
    -------
    pre, post : ndarray of float
        Indexed by patient code (``encoded.patients``); NaN where missing.

    Raises
    ------
    ValueError
        ``followup`` is not a follow-up timepoint of the table.
    """
    n = len(encoded.patients)
    pre, post = np.full(n, np.nan), np.full(n, np.nan)
    timepoints = encoded.timepoints
    is_base = (encoded.timepoint == timepoints.get_loc(baseline) if baseline in timepoints
               else np.zeros(len(encoded.value), dtype=bool))
    if followup is None:
        month = encoded.month
        is_post = ~is_base & ~np.isnan(encoded.value)
    else:
        if followup not in timepoints or followup == baseline:
            raise ValueError(f"followup {followup!r} is not a follow-up timepoint; found "
                             f"{[t for t in timepoints if t != baseline]}")
        month = np.zeros(len(encoded.value))
        is_post = encoded.timepoint == timepoints.get_loc(followup)
    if measure not in encoded.measures:
        return pre, post
    of_measure = encoded.measure == encoded.measures.get_loc(measure)
    pid, values = encoded.patient, encoded.value
    rows = np.flatnonzero(is_base & of_measure)
    pre[pid[rows]] = values[rows]
    rows = np.flatnonzero(is_post & of_measure)
    # Latest visit per patient: sort by (patient, month) and keep each last row.
    rows = rows[np.lexsort((month[rows], pid[rows]))]
    last = np.ones(len(rows), dtype=bool)
    last[:-1] = pid[rows[1:]] != pid[rows[:-1]]
    rows = rows[last]
    post[pid[rows]] = values[rows]
    return pre, post


def latest_change(encoded: Encoded, measure: str, *, baseline: str = BASELINE
                  ) -> np.ndarray:
    """Each patient's :func:`change` from baseline to their latest follow-up value.

    Complete pairs only, in the order of ``encoded.patients`` (:func:`baseline_and_latest`
    picks the values).
    """
    pre, post = baseline_and_latest(encoded, measure, baseline=baseline)
    complete = ~np.isnan(pre) & ~np.isnan(post)
    return change(pre[complete], post[complete])


def change(pre, post, scale: float | None = None) -> np.ndarray:
    """Change from baseline, ``post - pre``, rounded to :data:`CHANGE_DIGITS` significant
    digits of the values' size.

    Parameters
    ----------
    pre, post : array-like of float
        Baseline and follow-up values (NaN = missing, giving NaN).
    scale : float, optional
        The size the digits are counted from. Default: each pair's own, the larger of
        ``|pre|`` and ``|post|``. A statistic that ranks a sample's changes together
        passes the sample's largest value, so that equal changes stay equal.

    Returns
    -------
    ndarray of float
        ``-0.0`` is written ``0.0``.

    Examples
    --------
    >>> change([7.22, 2.6], [2.18, 3.8]).tolist()
    [-5.04, 1.2]
    >>> float(2.18 - 7.22), float(3.8 - 2.6)
    (-5.039999999999999, 1.1999999999999997)
    """
    pre, post = np.asarray(pre, dtype=float), np.asarray(post, dtype=float)
    difference = post - pre
    if scale is not None:
        if not np.isfinite(scale) or scale <= 0:
            return difference + 0.0
        decimals = CHANGE_DIGITS - int(math.floor(math.log10(scale))) - 1
        return np.round(difference, decimals) + 0.0  # + 0.0 turns -0.0 into 0.0
    size = np.fmax(np.abs(pre), np.abs(post))
    with np.errstate(divide="ignore", invalid="ignore"):
        exponent = np.floor(np.log10(np.where(size > 0, size, 1.0)))
    # Round each pair at its own decimal: scale to CHANGE_DIGITS whole digits and back
    # (np.round takes one number of decimals for a whole array).
    factor = 10.0 ** (CHANGE_DIGITS - 1 - exponent)
    return np.round(difference * factor) / factor + 0.0


def visit_order(months: Mapping[str, float], baseline: str = BASELINE) -> list[str]:
    """Visits in the order every table and figure shows them.

    The baseline first, then by median month (``months``: visit -> median month, NaN
    where unknown, placed last), then by label.

    Examples
    --------
    >>> visit_order({"m12": 12.0, "last": 6.0, "baseline": 0.0, "m6": 6.0, "x": np.nan})
    ['baseline', 'last', 'm6', 'm12', 'x']
    """
    return sorted(months, key=lambda visit: (
        visit != baseline, np.inf if pd.isna(months[visit]) else months[visit], str(visit)))


def wide(measurements: pd.DataFrame, measure: str, column="value") -> pd.DataFrame:
    """One measure of a tidy table as a patients x visits table.

    Parameters
    ----------
    measurements : DataFrame
        Tidy table (checked by :func:`encode`).
    measure : str
        The measure.
    column : str or list of str
        What the cells hold: ``"value"``, ``"month"``, or both (one validation for
        both tables; the columns are then ``(column, timepoint)``).

    Returns
    -------
    DataFrame
        Index: ``patient_id`` (sorted); columns: the timepoints (sorted); NaN where a
        patient has no row.
    """
    subset = measurements.loc[measurements["measure"] == measure]
    encode(subset)  # one value per patient and visit, numbers only
    return subset.pivot(index="patient_id", columns="timepoint", values=column)
