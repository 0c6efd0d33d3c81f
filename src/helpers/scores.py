"""Clinical scores, categories and responder criteria, vectorised.

- DAS28 from its components (:func:`das28_esr`, :func:`das28_crp`) and its disease
  activity category (:func:`das28_category`);
- the EULAR response criteria (:func:`eular_response`);
- SLEDAI-2K reduction (:func:`sledai_reduction`) and glucocorticoid targets
  (:func:`gc_at_or_below`, :func:`gc_stopped`);
- the per-patient responder table of the paper's data (or any tidy cohort)
  (:func:`responder_table`) and its summary with confidence intervals
  (:func:`summarise_responders`).

Every function takes scalars or array-likes (NumPy arrays, pandas Series; Series keep
their index) and never loops over patients in Python. Missing values (NaN) stay missing.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from helpers.errors import refuse_text
from helpers.data.tidy import baseline_and_latest, change, encode
from helpers.proportions import proportion_ci
from helpers.vocab import (BASELINE, DAS28_CATEGORIES, DAS28_LOW, DAS28_MEASURES,
                           DAS28_MODERATE, DAS28_REMISSION, EULAR_GOOD_IMPROVEMENT,
                           EULAR_MODERATE_IMPROVEMENT, EULAR_RESPONSES, GC_TARGET_EULAR_2023,
                           GC_TARGET_LLDAS, MEASURES, SLEDAI_REDUCTION_POINTS, parse_yes_no)

__all__ = [
    "DAS28_REMISSION", "DAS28_LOW", "DAS28_MODERATE", "DAS28_CATEGORIES",
    "EULAR_GOOD_IMPROVEMENT", "EULAR_MODERATE_IMPROVEMENT", "EULAR_RESPONSES",
    "SLEDAI_REDUCTION_POINTS", "GC_TARGET_EULAR_2023", "GC_TARGET_LLDAS",
    "DAS28_COMPONENTS", "DERIVED_DAS28", "das28_esr", "das28_crp", "derive_das28",
    "das28_category", "eular_response", "sledai_reduction",
    "gc_at_or_below", "gc_stopped", "responder_table", "summarise_responders",
    "RESPONDER_LABELS", "PAPER_COLUMNS",
]

# The cut-offs (DAS28 activity, EULAR response, SLEDAI-2K reduction, glucocorticoid
# targets) are defined, with their sources, in helpers.vocab; they are importable from
# here too, as part of this module's public names.

# Every change is helpers.data.tidy.change (post - pre without the subtraction's float
# noise), so that e.g. 3.8 - 2.6 = 1.1999999999999997 counts as an improvement of 1.2.


# --------------------------------------------------------------------------------------
# Input handling
# --------------------------------------------------------------------------------------


def _as_float(value, name: str) -> np.ndarray:
    refuse_text(value, name)  # "5" would convert silently: a reading error
    if isinstance(value, (pd.Series, pd.Index)):
        value = value.to_numpy(dtype=float, na_value=np.nan)
    try:
        array = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be numeric (or NaN for missing), got "
                         f"{value!r}") from None
    return array


def _check_together(**inputs) -> None:
    """Inputs that are combined element by element must describe the same patients.

    Series must carry the same index (in the same order: values are paired by position
    after it); arrays the same length. Scalars go with anything.
    """
    series = {name: v for name, v in inputs.items() if isinstance(v, pd.Series)}
    if series:
        (first, index), *others = ((name, v.index) for name, v in series.items())
        for name, other in others:
            if not index.equals(other):
                raise ValueError(f"{first} and {name} are indexed differently "
                                 f"({list(index[:3])}... vs {list(other[:3])}...); "
                                 "align them first (for example other.reindex(index))")
    sizes = {name: len(v) for name, v in inputs.items()
             if v is not None and np.ndim(v) > 0}
    if len(set(sizes.values())) > 1:
        first, n_first = next(iter(sizes.items()))
        other, n_other = next((k, v) for k, v in sizes.items() if v != n_first)
        raise ValueError(f"{first} has {n_first:,} values but {other} has {n_other:,}")


def _check_range(array: np.ndarray, name: str, *, low=None, high=None,
                 low_open: bool = False, integer: bool = False, what: str = "") -> None:
    """Raise ValueError naming ``name`` for values outside the allowed range."""
    present = array[~np.isnan(array)]
    if present.size == 0:
        return
    if np.isinf(present).any():
        raise ValueError(f"{name} must be finite (or NaN for missing)")
    if low is not None:
        bad = present[present <= low] if low_open else present[present < low]
        if bad.size:
            sign = ">" if low_open else ">="
            raise ValueError(f"{name} must be {sign} {low:g}{what}, got {bad[0]:g}")
    if high is not None and (present > high).any():
        raise ValueError(f"{name} must be <= {high:g}{what}, got "
                         f"{present[present > high][0]:g}")
    if integer and (present != np.round(present)).any():
        raise ValueError(f"{name} must be whole numbers, got "
                         f"{present[present != np.round(present)][0]:g}")


def _check_measure(array: np.ndarray, name: str, code: str, what: str) -> None:
    """:func:`_check_range` with the valid range of the codebook's measure ``code``."""
    measure = MEASURES[code]
    _check_range(array, name, low=measure.low, high=measure.high, integer=measure.integer,
                 what=what)


def cut_off_name(value: float) -> str:
    """A cut-off as it is written in a column name: ``5``, ``7_5``.

    Examples
    --------
    >>> cut_off_name(5.0), cut_off_name(7.5), cut_off_name(4)
    ('5', '7_5', '4')
    """
    return f"{value:g}".replace(".", "_")


def _index_of(*inputs):
    """Index of the first pandas Series among ``inputs`` (None if none)."""
    for value in inputs:
        if isinstance(value, pd.Series):
            return value.index
    return None


def _is_scalar(*inputs) -> bool:
    return all(np.ndim(value) == 0 for value in inputs)


def _numeric_result(result: np.ndarray, inputs, name: str):
    if _is_scalar(*inputs):
        return float(result)
    index = _index_of(*inputs)
    if index is not None:
        return pd.Series(result, index=index, name=name)
    return result


def _categorical_result(codes: np.ndarray, categories, inputs, name: str):
    """Ordered categorical from codes (-1 = missing), shaped like the input."""
    if _is_scalar(*inputs):
        code = int(codes)
        return categories[code] if code >= 0 else np.nan
    cat = pd.Categorical.from_codes(np.ravel(codes),
                                    dtype=pd.CategoricalDtype(categories, ordered=True))
    index = _index_of(*inputs)
    if index is not None:
        return pd.Series(cat, index=index, name=name)
    return cat


def _boolean_result(flag: np.ndarray, missing: np.ndarray, inputs, name: str):
    """Nullable boolean (missing where ``missing``), shaped like the input."""
    if _is_scalar(*inputs):
        return pd.NA if bool(missing) else bool(flag)
    array = pd.arrays.BooleanArray(np.ravel(flag).astype(bool), np.ravel(missing))
    index = _index_of(*inputs)
    if index is not None:
        return pd.Series(array, index=index, name=name)
    return array


# --------------------------------------------------------------------------------------
# DAS28
# --------------------------------------------------------------------------------------


def _das28_inputs(tjc, sjc, gh, reactant, name: str, **check):
    """The four inputs of a DAS28 as float arrays, each checked; ``check`` is the
    acute-phase reactant's range (:func:`_check_range`)."""
    _check_together(tjc=tjc, sjc=sjc, **{name: reactant}, gh=gh)
    tjc_a, sjc_a, gh_a = (_as_float(v, n) for v, n in ((tjc, "tjc"), (sjc, "sjc"),
                                                       (gh, "gh")))
    # The ranges of the codebook: 28 joints are counted (Prevoo et al. 1995), and the
    # patient's global health is a 0-100 mm visual analogue scale.
    for array, argument, code in ((tjc_a, "tjc", "tjc28"), (sjc_a, "sjc", "sjc28"),
                                  (gh_a, "gh", "pga")):
        measure = MEASURES[code]
        _check_measure(array, argument, code, f" ({measure.name.lower()}, "
                       f"{measure.low:g}-{measure.high:g} {measure.unit})")
    reactant_a = _as_float(reactant, name)
    _check_range(reactant_a, name, **check)
    return tjc_a, sjc_a, reactant_a, gh_a


def _das28_score(tjc_a, sjc_a, reactant_term, gh_a, constant: float = 0.0):
    """Prevoo 1995's joint and global terms around the reactant's, summed in the
    published order (so DAS28-ESR and DAS28-CRP round as their formulas read)."""
    return (0.56 * np.sqrt(tjc_a) + 0.28 * np.sqrt(sjc_a) + reactant_term + 0.014 * gh_a
            + constant)


def das28_esr(tjc, sjc, esr, gh):
    """DAS28 with erythrocyte sedimentation rate.

    Parameters
    ----------
    tjc, sjc : int or array-like
        Tender and swollen joint counts of 28 joints (whole numbers 0-28).
    esr : float or array-like
        Erythrocyte sedimentation rate, mm/h (> 0).
    gh : float or array-like
        Patient's global assessment of health, 0-100 mm visual analogue scale.

    Returns
    -------
    float, numpy.ndarray or pandas.Series
        ``0.56 sqrt(TJC28) + 0.28 sqrt(SJC28) + 0.70 ln(ESR) + 0.014 GH``; float for
        scalar input, a Series (index of the first Series input) or an array otherwise.
        NaN in any component gives NaN.

    Raises
    ------
    ValueError
        Naming the argument: negative or non-integer counts, counts above 28, ESR <= 0,
        GH outside 0-100, infinite values.

    Notes
    -----
    Formula of Prevoo MLL et al., Arthritis Rheum 1995;38:44-8 (as published, the
    coefficients are rounded to 2-3 decimals). The result is not rounded.

    Examples
    --------
    >>> round(das28_esr(4, 2, 30, 50), 4)
    4.5968
    """
    tjc_a, sjc_a, esr_a, gh_a = _das28_inputs(tjc, sjc, gh, esr, "esr", low=0, low_open=True,
                                              what=" mm/h (ln(ESR) is undefined at 0)")
    with np.errstate(invalid="ignore", divide="ignore"):
        score = _das28_score(tjc_a, sjc_a, 0.70 * np.log(esr_a), gh_a)
    return _numeric_result(score, (tjc, sjc, esr, gh), "das28_esr")


def das28_crp(tjc, sjc, crp, gh):
    """DAS28 with C-reactive protein.

    Parameters
    ----------
    tjc, sjc, gh : int, float or array-like
        Joint counts and the patient's global assessment, as :func:`das28_esr` takes
        them.
    crp : float or array-like
        C-reactive protein in mg/L (>= 0).

    Returns
    -------
    float, numpy.ndarray or pandas.Series
        ``0.56 sqrt(TJC28) + 0.28 sqrt(SJC28) + 0.36 ln(CRP + 1) + 0.014 GH + 0.96``.

    Raises
    ------
    ValueError
        Naming the argument, as :func:`das28_esr`; CRP < 0.

    Notes
    -----
    Formula from the DAS28 website (Radboud UMC) / Wells G et al., Ann Rheum Dis
    2009;68:954-60; CRP must be in mg/L (not mg/dL).

    Examples
    --------
    >>> round(das28_crp(4, 2, 10, 50), 4)
    4.0392
    """
    tjc_a, sjc_a, crp_a, gh_a = _das28_inputs(tjc, sjc, gh, crp, "crp", low=0, what=" mg/L")
    score = _das28_score(tjc_a, sjc_a, 0.36 * np.log(crp_a + 1), gh_a, 0.96)
    return _numeric_result(score, (tjc, sjc, crp, gh), "das28_crp")


#: The DAS28 versions computed from components: measure -> (acute-phase reactant, formula).
DERIVED_DAS28 = {"das28_esr": ("esr", das28_esr), "das28_crp": ("crp", das28_crp)}
#: The components every DAS28 version needs besides its acute-phase reactant.
DAS28_COMPONENTS = ("tjc28", "sjc28", "pga")


def derive_das28(measurements: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, int]]:
    """Add DAS28-ESR and DAS28-CRP rows computed from their components, per visit.

    Parameters
    ----------
    measurements : pandas.DataFrame
        Tidy, validated table (``patient_id, measure, timepoint, month, value, unit``),
        with the components as measures ``tjc28``, ``sjc28``, ``pga`` (0-100 mm) and
        ``esr`` (mm/h) and/or ``crp`` (mg/L), as the built-in codebook defines them.

    Returns
    -------
    (pandas.DataFrame, dict)
        The table with one ``das28_esr`` / ``das28_crp`` row per visit that has a
        ``tjc28`` row (value NaN where a component is missing, or ESR is 0 and its
        logarithm undefined), appended after the given rows; and the number of values
        computed per version. A version the data already give for a visit is not
        recomputed: given values win.

    Examples
    --------
    >>> rows = [(1, m, "baseline", 0.0, v, "") for m, v in
    ...         [("tjc28", 4), ("sjc28", 2), ("pga", 50), ("esr", 30)]]
    >>> data = pd.DataFrame(rows, columns=["patient_id", "measure", "timepoint", "month",
    ...                                    "value", "unit"])
    >>> table, counts = derive_das28(data)
    >>> counts, round(float(table["value"].iloc[-1]), 4)  # as das28_esr(4, 2, 30, 50)
    ({'das28_esr': 1}, 4.5968)
    """
    present = set(measurements["measure"].unique())
    counts: dict[str, int] = {}
    if not set(DAS28_COMPONENTS) <= present:
        return measurements, counts
    keys = ["patient_id", "timepoint"]
    visits = measurements.loc[measurements["measure"] == "tjc28", keys + ["month"]]
    # Only the components: the other measures of a large cohort would be pivoted for
    # nothing.
    needed = [*DAS28_COMPONENTS, *(reactant for reactant, _ in DERIVED_DAS28.values())]
    rows = measurements.loc[measurements["measure"].isin(needed)]
    values = rows.pivot(index=keys, columns="measure", values="value")
    values = values.reindex(pd.MultiIndex.from_frame(visits[keys]))
    added = []
    for measure, (reactant, formula) in DERIVED_DAS28.items():
        if reactant not in present:
            continue
        reactant_values = values[reactant].to_numpy(dtype=float)
        if reactant == "esr":  # ln(ESR) is undefined at 0: the score stays missing
            reactant_values = np.where(reactant_values > 0, reactant_values, np.nan)
        score = formula(values["tjc28"].to_numpy(dtype=float),
                        values["sjc28"].to_numpy(dtype=float), reactant_values,
                        values["pga"].to_numpy(dtype=float))
        given = np.zeros(len(visits), dtype=bool)
        if measure in present:  # a visit with a given row keeps it, even if empty
            given_rows = measurements.loc[measurements["measure"] == measure, keys]
            given = pd.MultiIndex.from_frame(visits[keys]).isin(
                pd.MultiIndex.from_frame(given_rows))
        rows = visits.loc[~given].assign(measure=measure, value=score[~given],
                                         unit=MEASURES[measure].unit)
        counts[measure] = int(np.isfinite(score[~given]).sum())
        added.append(rows[measurements.columns])
    if not added:
        return measurements, counts
    return pd.concat([measurements, *added], ignore_index=True), counts


def _das28_values(das28, name: str) -> np.ndarray:
    array = _as_float(das28, name)
    # DAS28 lies between 0 and about 9.4 for any valid input (the codebook's range).
    _check_measure(array, name, "das28", " (DAS28 scale)")
    return array


def das28_category(das28):
    """DAS28 disease activity category.

    Parameters
    ----------
    das28 : float or array-like
        DAS28 values (0-10); NaN = missing.

    Returns
    -------
    str, pandas.Categorical or pandas.Series
        ``"remission"`` (< 2.6), ``"low"`` (2.6 to <= 3.2), ``"moderate"`` (> 3.2 to
        <= 5.1) or ``"high"`` (> 5.1); ordered categories :data:`DAS28_CATEGORIES`;
        missing stays missing (NaN for a scalar).

    Notes
    -----
    Remission cut-off: Fransen et al., Ann Rheum Dis 2004;63:1210; low/moderate/high:
    Prevoo et al. 1995 and van Gestel et al. 1998 (see module constants). Values are
    compared as given: 2.6 is "low", 3.2 "low", 5.1 "moderate".

    Examples
    --------
    >>> das28_category(2.38)
    'remission'
    >>> list(das28_category([2.6, 3.2, 5.1, 5.11]))
    ['low', 'low', 'moderate', 'high']
    """
    values = _das28_values(das28, "das28")
    codes = np.select([values < DAS28_REMISSION, values <= DAS28_LOW,
                       values <= DAS28_MODERATE, values > DAS28_MODERATE],
                      [0, 1, 2, 3], default=-1)
    return _categorical_result(codes, DAS28_CATEGORIES, (das28,), "das28_category")


def eular_response(das28_pre, das28_post):
    """EULAR response from DAS28 before and after treatment.

    Parameters
    ----------
    das28_pre, das28_post : float or array-like
        DAS28 at baseline and at follow-up (0-10); NaN = missing.

    Returns
    -------
    str, pandas.Categorical or pandas.Series
        ``"good"``, ``"moderate"`` or ``"none"`` (ordered categories
        :data:`EULAR_RESPONSES`); missing when either value is missing.

    Notes
    -----
    van Gestel et al., Arthritis Rheum 1996;39:34-40, with the DAS28 cut-offs of
    van Gestel et al. 1998. Improvement = pre - post:

    ====================  ==============  ================  ==============
    DAS28 at follow-up    improvement     improvement       improvement
                          > 1.2           > 0.6 and <= 1.2  <= 0.6
    ====================  ==============  ================  ==============
    <= 3.2                good            moderate          none
    > 3.2 and <= 5.1      moderate        moderate          none
    > 5.1                 moderate        none              none
    ====================  ==============  ================  ==============

    The improvement is :func:`helpers.data.tidy.change` (12 significant digits), so that
    binary floating-point noise does not move a printed 1.20 across the 1.2 cut-off. A patient
    already in remission whose DAS28 does not change has no response (improvement 0).

    Examples
    --------
    >>> eular_response(7.22, 2.18), eular_response(2.38, 2.38)
    ('good', 'none')
    """
    _check_together(das28_pre=das28_pre, das28_post=das28_post)
    pre = _das28_values(das28_pre, "das28_pre")
    post = _das28_values(das28_post, "das28_post")
    pre, post = np.broadcast_arrays(pre, post)
    improvement = change(post, pre)  # pre - post: a fall is a positive improvement
    big = improvement > EULAR_GOOD_IMPROVEMENT
    some = (improvement > EULAR_MODERATE_IMPROVEMENT) & ~big
    low_now = post <= DAS28_LOW
    moderate_now = (post > DAS28_LOW) & (post <= DAS28_MODERATE)
    high_now = post > DAS28_MODERATE
    good = low_now & big
    moderate = (low_now & some) | (moderate_now & (big | some)) | (high_now & big)
    codes = np.where(good, 2, np.where(moderate, 1, 0))
    codes = np.where(np.isnan(pre) | np.isnan(post), -1, codes)
    return _categorical_result(codes, EULAR_RESPONSES, (das28_pre, das28_post),
                               "eular_response")


# --------------------------------------------------------------------------------------
# SLEDAI-2K and glucocorticoids
# --------------------------------------------------------------------------------------


def sledai_reduction(pre, post, threshold: float = SLEDAI_REDUCTION_POINTS):
    """Whether SLEDAI-2K fell by at least ``threshold`` points.

    Parameters
    ----------
    pre, post : int or array-like
        SLEDAI-2K at baseline and follow-up (whole numbers 0-105); NaN = missing.
    threshold : float, default 4
        Minimum reduction (> 0).

    Returns
    -------
    bool, pandas.NA, pandas.arrays.BooleanArray or pandas.Series
        ``pre - post >= threshold``; missing when either value is missing.

    Notes
    -----
    The 4-point reduction is the SLEDAI component of the SLE Responder Index (SRI-4),
    Furie et al., Arthritis Rheum 2009;61:1143-51. SLEDAI-2K ranges 0-105 (Gladman et
    al., J Rheumatol 2002;29:288-91). A patient at 0 cannot reach it.

    Examples
    --------
    >>> sledai_reduction(13, 2), sledai_reduction(0, 0)
    (True, False)
    """
    _check_together(pre=pre, post=post)
    pre_a, post_a = _as_float(pre, "pre"), _as_float(post, "post")
    for array, name in ((pre_a, "pre"), (post_a, "post")):
        _check_measure(array, name, "sledai2k", " (SLEDAI-2K)")
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float, np.number)) \
            or not np.isfinite(threshold) or threshold <= 0:
        raise ValueError(f"threshold must be a number > 0, got {threshold!r}")
    pre_a, post_a = np.broadcast_arrays(pre_a, post_a)
    missing = np.isnan(pre_a) | np.isnan(post_a)
    flag = change(post_a, pre_a) >= threshold  # the reduction, pre - post
    return _boolean_result(flag, missing, (pre, post), "sledai_reduction")


def _gc_values(dose, name: str) -> np.ndarray:
    array = _as_float(dose, name)
    _check_range(array, name, low=0, what=" mg/day")
    return array


def gc_at_or_below(dose, target: float):
    """Whether a glucocorticoid dose is at or below a target.

    Parameters
    ----------
    dose : float or array-like
        Daily dose, mg/day prednisone equivalent (>= 0); NaN = missing.
    target : float
        Target in mg/day (>= 0), e.g. :data:`GC_TARGET_EULAR_2023` (5 mg/day) or
        :data:`GC_TARGET_LLDAS` (7.5 mg/day).

    Returns
    -------
    bool, pandas.NA, pandas.arrays.BooleanArray or pandas.Series
        ``dose <= target``; missing stays missing.

    Notes
    -----
    EULAR 2023 recommendations for SLE: maintenance <= 5 mg/day (Fanouriakis et al.,
    Ann Rheum Dis 2024;83:15-29); LLDAS: <= 7.5 mg/day (Franklyn et al., Ann Rheum Dis
    2016;75:1615-21).

    Examples
    --------
    >>> gc_at_or_below(5, GC_TARGET_EULAR_2023), gc_at_or_below(8, GC_TARGET_LLDAS)
    (True, False)
    """
    values = _gc_values(dose, "dose")
    if isinstance(target, bool) or not isinstance(target, (int, float, np.number)) \
            or not np.isfinite(target) or target < 0:
        raise ValueError(f"target must be a number >= 0 mg/day, got {target!r}")
    return _boolean_result(values <= target, np.isnan(values), (dose,), "gc_at_or_below")


def gc_stopped(dose, dose_pre=None):
    """Whether glucocorticoids were stopped (dose 0 at follow-up).

    Parameters
    ----------
    dose : float or array-like
        Follow-up daily dose, mg/day (>= 0); NaN = missing.
    dose_pre : float or array-like, optional
        Baseline daily dose. When given, a patient with 0 at baseline is not counted as
        having stopped (there was nothing to stop); a missing baseline dose does not
        change the result.

    Returns
    -------
    bool, pandas.NA, pandas.arrays.BooleanArray or pandas.Series
        ``dose == 0`` (and ``dose_pre != 0`` when given); missing when ``dose`` is.

    Notes
    -----
    Withdrawal is the EULAR 2023 goal when possible (Fanouriakis et al. 2024). A
    missing baseline dose arises when glucocorticoids were given as IV pulses without
    a daily dose (the paper's patient 1), so it is not evidence of no glucocorticoid.

    Examples
    --------
    >>> gc_stopped(0, 8), gc_stopped(0, 0), gc_stopped(2)
    (True, False, False)
    """
    _check_together(dose=dose, dose_pre=dose_pre)
    values = _gc_values(dose, "dose")
    flag = values == 0
    inputs = (dose,)
    if dose_pre is not None:
        pre = _gc_values(dose_pre, "dose_pre")
        values, pre = np.broadcast_arrays(values, pre)
        flag = (values == 0) & ~(pre == 0)
        inputs = (dose, dose_pre)
    return _boolean_result(flag, np.isnan(values), inputs, "gc_stopped")


# --------------------------------------------------------------------------------------
# Responder table
# --------------------------------------------------------------------------------------

# The criteria's column names carry their cut-offs (sledai_reduction_ge4, gc_le_5,
# gc_le_7_5), made from the numbers of helpers.vocab.
_SLEDAI_REDUCTION = f"sledai_reduction_ge{cut_off_name(SLEDAI_REDUCTION_POINTS)}"
_GC_EULAR = f"gc_le_{cut_off_name(GC_TARGET_EULAR_2023)}"
_GC_LLDAS = f"gc_le_{cut_off_name(GC_TARGET_LLDAS)}"

RESPONDER_COLUMNS = [
    "patient_id", "das28_pre", "das28_post", "das28_change", "das28_category_pre",
    "das28_category_post", "eular_response", "sledai_pre", "sledai_post",
    _SLEDAI_REDUCTION, "gc_pre", "gc_post", _GC_EULAR, _GC_LLDAS, "gc_stopped",
    "response_paper", "differs_from_paper",
]

#: How a displayed table heads the responder table's columns (the CSV keeps the names).
RESPONDER_LABELS = {
    "das28_pre": "DAS28 before", "das28_post": "DAS28 after", "das28_change": "DAS28 change",
    "das28_category_pre": "DAS28 activity before", "das28_category_post": "DAS28 activity after",
    "eular_response": "EULAR response", "sledai_pre": "SLEDAI-2K before",
    "sledai_post": "SLEDAI-2K after",
    _SLEDAI_REDUCTION: f"SLEDAI-2K fell \u2265 {SLEDAI_REDUCTION_POINTS:g}",
    "gc_pre": "Glucocorticoids before (mg/day)", "gc_post": "Glucocorticoids after (mg/day)",
    _GC_EULAR: f"Glucocorticoids \u2264 {GC_TARGET_EULAR_2023:g} mg/day",
    _GC_LLDAS: f"Glucocorticoids \u2264 {GC_TARGET_LLDAS:g} mg/day",
    "gc_stopped": "Glucocorticoids stopped", "response_paper": "Response (paper)",
    "differs_from_paper": "Differs from the paper",
}
#: Columns only the paper's data fill (its per-patient "Response").
PAPER_COLUMNS = ("response_paper", "differs_from_paper")


def responder_table(measurements: pd.DataFrame, response_paper=None, *,
                    baseline: str = BASELINE, followup: str | None = None,
                    das28: str | None = None) -> pd.DataFrame:
    """Per-patient responder criteria from the tidy measurements table.

    Parameters
    ----------
    measurements : pandas.DataFrame
        Tidy table (``patient_id, measure, timepoint, month, value``; docs/architecture.md) with
        measures ``das28``, ``sledai2k`` and ``gc_mg_day`` (a measure that is absent
        gives missing columns).
    response_paper : mapping, pandas.Series or pandas.DataFrame, optional
        The paper's per-patient "Response": a mapping or Series from ``patient_id`` to
        yes/no (bool, ``"Yes"``/``"No"``, 1/0), or a DataFrame with columns
        ``patient_id`` and ``response_paper`` (as ``patients.csv``).
    baseline : str, default "baseline"
        Timepoint label of the pre-treatment visit.
    followup : str, optional
        Timepoint label of the post-treatment visit (e.g. ``"last"``). Default: for each
        patient and measure, the latest non-baseline visit (largest ``month``) with a
        non-missing value.
    das28 : str, optional
        Which DAS28 the ``das28_*`` columns and the EULAR response use: ``"das28"``,
        ``"das28_esr"`` or ``"das28_crp"``. Default: the first of these the data have
        (:data:`helpers.vocab.DAS28_MEASURES`).

    Returns
    -------
    pandas.DataFrame
        One row per patient (sorted by ``patient_id``), columns :data:`RESPONDER_COLUMNS`:
        ``das28_pre, das28_post, das28_change`` (post - pre), ``das28_category_pre``,
        ``das28_category_post``, ``eular_response``, ``sledai_pre, sledai_post``,
        ``sledai_reduction_ge4``, ``gc_pre, gc_post``, ``gc_le_5`` and ``gc_le_7_5``
        (follow-up dose at or below the EULAR 2023 and LLDAS targets), ``gc_stopped``,
        ``response_paper`` (nullable boolean) and ``differs_from_paper`` (why the EULAR
        DAS28 response disagrees with the paper's "Response"; empty when it agrees or
        either is missing).

    Raises
    ------
    ValueError
        On a missing column, a duplicated patient/measure/timepoint, an unknown patient
        in ``response_paper`` or an unreadable yes/no, or out-of-range scores.

    Notes
    -----
    A EULAR good or moderate response counts as a response when compared with the
    paper. ``das28_change`` is :func:`helpers.data.tidy.change`, without binary
    floating-point noise (2.18 - 7.22 = -5.04, not -5.039999999999999). ``gc_stopped`` uses the baseline
    dose as :func:`gc_stopped` does.

    Examples
    --------
    On the paper's data (Table 2) patients 1-3 are EULAR good responders and patient 4
    (DAS28 2.38 -> 2.38, already in remission) has no EULAR response although the paper
    reports a response.
    """
    if das28 is None:
        present = set(measurements["measure"].unique())
        das28 = next((m for m in DAS28_MEASURES if m in present), "das28")
    elif das28 not in DAS28_MEASURES:
        raise ValueError(f"das28 must be one of {DAS28_MEASURES}, got {das28!r}")
    frame = _responder_values(measurements, baseline=baseline, followup=followup,
                              das28=das28)
    das_pre, das_post = frame["das28_pre"].to_numpy(), frame["das28_post"].to_numpy()
    frame["das28_change"] = change(das_pre, das_post)
    frame["das28_category_pre"] = das28_category(frame["das28_pre"])
    frame["das28_category_post"] = das28_category(frame["das28_post"])
    frame["eular_response"] = eular_response(frame["das28_pre"], frame["das28_post"])
    frame[_SLEDAI_REDUCTION] = sledai_reduction(frame["sledai_pre"], frame["sledai_post"])
    frame[_GC_EULAR] = gc_at_or_below(frame["gc_post"], GC_TARGET_EULAR_2023)
    frame[_GC_LLDAS] = gc_at_or_below(frame["gc_post"], GC_TARGET_LLDAS)
    frame["gc_stopped"] = gc_stopped(frame["gc_post"], frame["gc_pre"])
    frame["response_paper"] = _paper_response(response_paper, frame["patient_id"])
    frame["differs_from_paper"] = _differences(frame)
    return frame[RESPONDER_COLUMNS].reset_index(drop=True)


def _responder_values(measurements, *, baseline, followup, das28) -> pd.DataFrame:
    """Each patient's baseline and latest value of DAS28, SLEDAI-2K and the GC dose."""
    encoded = encode(measurements, sort_patients=True, require_month=followup is None)
    out = {"patient_id": encoded.patients}
    for measure, stem in ((das28, "das28"), ("sledai2k", "sledai"), ("gc_mg_day", "gc")):
        out[f"{stem}_pre"], out[f"{stem}_post"] = baseline_and_latest(
            encoded, measure, baseline=baseline, followup=followup)
    return pd.DataFrame(out)


def _paper_response(response_paper, patient_ids: pd.Series) -> pd.arrays.BooleanArray:
    n = len(patient_ids)
    if response_paper is None:
        return pd.arrays.BooleanArray(np.zeros(n, dtype=bool), np.ones(n, dtype=bool))
    if isinstance(response_paper, pd.DataFrame):
        column = next((c for c in ("response_paper", "response", "Response")
                       if c in response_paper.columns), None)
        if "patient_id" not in response_paper.columns or column is None:
            raise ValueError("response_paper DataFrame needs columns 'patient_id' and "
                             "'response_paper'")
        series = pd.Series(response_paper[column].to_numpy(),
                           index=response_paper["patient_id"].to_numpy())
    elif isinstance(response_paper, pd.Series):
        series = response_paper
    elif isinstance(response_paper, Mapping):
        series = pd.Series(dict(response_paper), dtype=object)
    else:
        raise ValueError("response_paper must be None, a mapping, a Series or a "
                         f"DataFrame, got {type(response_paper).__name__}")
    if series.index.has_duplicates:
        raise ValueError("response_paper lists a patient more than once")
    known = pd.Index(patient_ids)
    unknown = [p for p in series.index if p not in known]
    if unknown:
        raise ValueError(f"response_paper has patient(s) {unknown[:5]} not in "
                         "measurements")
    parsed = series.map(lambda v: parse_yes_no(v, "response_paper"))
    aligned = parsed.reindex(known)
    missing = aligned.isna().to_numpy()
    flags = np.array([bool(v) if v is not None and not pd.isna(v) else False
                      for v in aligned.to_numpy()], dtype=bool)
    return pd.arrays.BooleanArray(flags, missing)


def _differences(frame: pd.DataFrame) -> np.ndarray:
    """Explain, per patient, where the EULAR response and the paper disagree."""
    n = len(frame)
    text = np.full(n, "", dtype=object)
    paper = frame["response_paper"].array
    known = ~paper.isna()
    if not known.any():
        return text
    eular = frame["eular_response"]
    responded = eular.isin(["good", "moderate"]).to_numpy()
    eular_missing = eular.isna().to_numpy()
    paper_yes = paper.fillna(False).to_numpy(dtype=bool)
    differs = known & ~eular_missing & (paper_yes != responded)
    undetermined = known & eular_missing
    for i in np.flatnonzero(undetermined):
        text[i] = "EULAR response not computable (DAS28 missing)"
    for i in np.flatnonzero(differs):
        row = frame.iloc[i]
        pre, post = row["das28_pre"], row["das28_post"]
        improvement = float(change(post, pre))  # pre - post, never -0.0
        paper_word = "response" if paper_yes[i] else "no response"
        eular_word = f"EULAR {row['eular_response']}"
        detail = f"DAS28 {pre:.2f} -> {post:.2f}, improvement {improvement:.2f}"
        if not responded[i]:
            if improvement <= EULAR_MODERATE_IMPROVEMENT:
                detail += f" <= {EULAR_MODERATE_IMPROVEMENT}"
            if pre < DAS28_REMISSION:
                detail += "; already in DAS28 remission at baseline"
            elif pre <= DAS28_LOW:
                detail += "; already in DAS28 low disease activity at baseline"
        if not np.isnan(row["sledai_pre"]) and not np.isnan(row["sledai_post"]):
            detail += f"; SLEDAI-2K {row['sledai_pre']:.0f} -> {row['sledai_post']:.0f}"
        text[i] = f"paper: {paper_word}; {eular_word} ({detail})"
    return text


# --------------------------------------------------------------------------------------
# Summary
# --------------------------------------------------------------------------------------

#: (criterion, description) rows of :func:`summarise_responders`, in order.
RESPONDER_CRITERIA = [
    ("eular_good", "EULAR good response (DAS28)"),
    ("eular_good_or_moderate", "EULAR good or moderate response (DAS28)"),
    ("das28_remission_post", f"DAS28 remission (< {DAS28_REMISSION:g}) at follow-up"),
    ("das28_low_or_remission_post", f"DAS28 <= {DAS28_LOW:g} at follow-up"),
    (_SLEDAI_REDUCTION, f"SLEDAI-2K reduction >= {SLEDAI_REDUCTION_POINTS:g} points"),
    (_GC_EULAR, f"Glucocorticoids <= {GC_TARGET_EULAR_2023:g} mg/day (EULAR 2023)"),
    (_GC_LLDAS, f"Glucocorticoids <= {GC_TARGET_LLDAS:g} mg/day (LLDAS)"),
    ("gc_stopped", "Glucocorticoids stopped"),
    ("response_paper", "Response as reported in the paper"),
]


def summarise_responders(table: pd.DataFrame, method: str = "clopper-pearson",
                         level: float = 0.95) -> pd.DataFrame:
    """Proportion of patients meeting each responder criterion, with a CI.

    Parameters
    ----------
    table : pandas.DataFrame
        Output of :func:`responder_table`.
    method : {"clopper-pearson", "wilson"}, default "clopper-pearson"
        Interval method of :func:`helpers.proportions.proportion_ci`.
    level : float, default 0.95
        Confidence level.

    Returns
    -------
    pandas.DataFrame
        One row per criterion (:data:`RESPONDER_CRITERIA`): ``criterion, description,
        events, n, n_missing, proportion, ci_low, ci_high, ci_level, method``; ``n``
        counts patients with the criterion determinable (missing ones are left out).

    Raises
    ------
    ValueError
        On a table without the responder columns, or a bad ``method``/``level``.

    Notes
    -----
    With n = 0 (e.g. no paper response given) the proportion and interval are NaN.
    """
    missing = [c for c in RESPONDER_COLUMNS if c not in table.columns]
    if missing:
        raise ValueError(f"table lacks responder column(s) {missing}; build it with "
                         "responder_table()")
    eular = table["eular_response"]
    category = table["das28_category_post"]
    flags = {
        "eular_good": _flag(eular == "good", eular.isna()),
        "eular_good_or_moderate": _flag(eular.isin(["good", "moderate"]), eular.isna()),
        "das28_remission_post": _flag(category == "remission", category.isna()),
        "das28_low_or_remission_post": _flag(category.isin(["remission", "low"]),
                                             category.isna()),
    }
    for column in (_SLEDAI_REDUCTION, _GC_EULAR, _GC_LLDAS, "gc_stopped", "response_paper"):
        series = table[column].astype("boolean")
        flags[column] = _flag(series.fillna(False).to_numpy(dtype=bool),
                              series.isna().to_numpy())
    events = np.array([flags[c][0] for c, _ in RESPONDER_CRITERIA])
    n = np.array([flags[c][1] for c, _ in RESPONDER_CRITERIA])
    ci = proportion_ci(events, n, method=method, level=level)
    return pd.DataFrame({
        "criterion": [c for c, _ in RESPONDER_CRITERIA],
        "description": [d for _, d in RESPONDER_CRITERIA],
        "events": events.astype(np.int64),
        "n": n.astype(np.int64),
        "n_missing": (len(table) - n).astype(np.int64),
        "proportion": ci.proportion,
        "ci_low": ci.ci_low,
        "ci_high": ci.ci_high,
        "ci_level": float(level),
        "method": method,
    })


def _flag(flag, missing) -> tuple[int, int]:
    flag = np.asarray(flag, dtype=bool)
    missing = np.asarray(missing, dtype=bool)
    return int((flag & ~missing).sum()), int((~missing).sum())
