"""The project's one vocabulary: measures, visits, clinical cut-offs, yes/no answers.

Every other module imports these names from here; none defines its own copy. Like a
codebook, each entry says what a code means, how it is written and where a number comes
from:

- :data:`MEASURES`: the measures of the tidy measurement table, with their names for
  text, axis labels for figures, units and valid ranges;
- :data:`BASELINE` and :data:`LAST`, the visit labels, and how figures print them;
- the columns of ``patients.csv`` that the paper's Table 1 defines (autoantibodies,
  organ domains);
- the clinical cut-offs (DAS28 activity, EULAR response, SLEDAI-2K reduction,
  glucocorticoid targets), each with its source;
- :func:`parse_yes_no`, the one reader of yes/no answers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = [
    "AUTOANTIBODIES", "AUTOANTIBODY_COLUMNS", "BASELINE", "DAS28_CATEGORIES", "DAS28_LOW",
    "DAS28_MODERATE", "DAS28_REMISSION", "EULAR_GOOD_IMPROVEMENT",
    "EULAR_MODERATE_IMPROVEMENT", "EULAR_RESPONSES", "GC_TARGET_EULAR_2023",
    "GC_TARGET_LLDAS", "LAST", "MEASURES", "MEASUREMENT_COLUMNS", "MEASURE_CODES", "Measure",
    "ORGAN_DOMAINS",
    "SLEDAI_REDUCTION_POINTS", "TIMEPOINT_LABELS", "measure_name", "parse_yes_no",
]

# --- visits ----------------------------------------------------------------------------

#: Timepoint label of the visit before anifrolumab (month 0); every change is
#: ``follow-up - baseline``.
BASELINE = "baseline"
#: Timepoint label of the paper's "last clinical evaluation".
LAST = "last"
#: How figures print the two visits of the paper (others print as they are).
TIMEPOINT_LABELS = {BASELINE: "Before\nanifrolumab", LAST: "Last\nvisit"}


#: Columns of the tidy measurement table (data/processed/measurements.csv, and the file
#: a user's own cohort must have), in order.
MEASUREMENT_COLUMNS = ["patient_id", "measure", "timepoint", "month", "value", "unit"]


# --- measures --------------------------------------------------------------------------


@dataclass(frozen=True)
class Measure:
    """One measure of the tidy measurement table.

    Attributes
    ----------
    code : str
        The value of the ``measure`` column.
    name : str
        Name in running text.
    axis_label : str
        Axis label with its unit, for figures.
    change_label : str
        Axis label of the change from baseline to the last visit.
    unit : str
        The ``unit`` column of ``data/processed/measurements.csv``.
    low, high : float
        Valid range, inclusive (values outside are input errors).
    integer : bool
        Whether only whole numbers are valid.
    """

    code: str
    name: str
    axis_label: str
    change_label: str
    unit: str
    low: float
    high: float
    integer: bool


#: The measures, in report order. Ranges: SLEDAI-2K is an integer from 0 to 105 (Gladman
#: et al., J Rheumatol 2002;29:288-91); DAS28 lies between 0 and about 9.4 for any valid
#: input, so 0-10 (Prevoo et al., Arthritis Rheum 1995;38:44-8); a glucocorticoid dose is
#: >= 0 mg/day, and above 2000 mg/day is certainly a typing error (IV pulses are at most
#: 1000 mg).
MEASURES: dict[str, Measure] = {
    m.code: m for m in (
        Measure("sledai2k", "SLEDAI-2K", "SLEDAI-2K (score)",
                "SLEDAI-2K change\n(last visit \u2212 baseline)", "points", 0, 105, True),
        Measure("das28", "DAS28", "DAS28 (score)",
                "DAS28 change\n(last visit \u2212 baseline)", "points", 0, 10, False),
        Measure("gc_mg_day", "Glucocorticoid dose (mg/day)",
                "Glucocorticoid dose\n(mg/day, prednisone eq.)",
                "Glucocorticoid dose change\n(mg/day, last visit \u2212 baseline)",
                "mg/day", 0, 2000, False),
    )
}
#: The measure codes, in report order: the default outcomes of every analysis.
MEASURE_CODES = tuple(MEASURES)


def measure_name(code: str) -> str:
    """Name of a measure in running text; an unknown code is its own name.

    Examples
    --------
    >>> measure_name("sledai2k"), measure_name("crp")
    ('SLEDAI-2K', 'crp')
    """
    return MEASURES[code].name if code in MEASURES else code


# --- the patients table (the paper's Table 1) -------------------------------------------

#: Autoantibodies as printed in Table 1 -> column name in patients.csv. "FR" is the
#: Italian abbreviation (fattore reumatoide) for rheumatoid factor; "anti-SSA" is the
#: same antibody as "anti-SSA/Ro". anti-RNP70 (anti-U1-70K) is kept apart from anti-U1RNP
#: because the paper prints them differently and we do not merge what it distinguishes.
AUTOANTIBODIES: dict[str, str] = {
    "anti-dsDNA": "anti_dsdna",
    "anti-Sm": "anti_sm",
    "anti-SSA/Ro": "anti_ssa_ro",
    "anti-SSA": "anti_ssa_ro",
    "anti-SSB/La": "anti_ssb_la",
    "anti-U1RNP": "anti_u1rnp",
    "anti-RNP70": "anti_rnp70",
    "FR": "rheumatoid_factor",
    "anti-CCP": "anti_ccp",
}
#: The autoantibody columns of patients.csv, in Table 1's order.
AUTOANTIBODY_COLUMNS = list(dict.fromkeys(AUTOANTIBODIES.values()))
#: Organ domains printed in Table 2's "Other Organ Involvement" column.
ORGAN_DOMAINS = ("cutaneous", "hematological", "serositis")


# --- clinical cut-offs -------------------------------------------------------------------

# DAS28 disease activity cut-offs. Remission < 2.6: Fransen J et al., Ann Rheum Dis
# 2004;63:1210 (remission in RA, DAS28). Low <= 3.2, moderate <= 5.1, high > 5.1:
# Prevoo MLL et al., Arthritis Rheum 1995;38:44-8 and van Gestel AM et al., Arthritis
# Rheum 1998;41:1845-50 (validity of the DAS28 and its EULAR response criteria).
DAS28_REMISSION = 2.6
DAS28_LOW = 3.2
DAS28_MODERATE = 5.1
DAS28_CATEGORIES = ("remission", "low", "moderate", "high")

# EULAR response criteria: van Gestel AM et al., Arthritis Rheum 1996;39:34-40, Table
# (DAS-based; the DAS28 version with cut-offs 3.2 and 5.1: van Gestel et al. 1998,
# above, and Fransen J, van Riel PL, Clin Exp Rheumatol 2005;23(5 Suppl 39):S93-9).
EULAR_GOOD_IMPROVEMENT = 1.2
EULAR_MODERATE_IMPROVEMENT = 0.6
EULAR_RESPONSES = ("none", "moderate", "good")

# SLEDAI-2K reduction of >= 4 points: the SLE Responder Index (SRI-4) component,
# Furie RA et al., Arthritis Rheum 2009;61:1143-51 (SLEDAI-2K: Gladman DD et al.,
# J Rheumatol 2002;29:288-91).
SLEDAI_REDUCTION_POINTS = 4

# Glucocorticoid targets, mg/day prednisone equivalent. EULAR 2023 SLE recommendations:
# minimise to <= 5 mg/day and withdraw when possible (Fanouriakis A et al., Ann Rheum
# Dis 2024;83:15-29). Lupus Low Disease Activity State (LLDAS): <= 7.5 mg/day
# (Franklyn K et al., Ann Rheum Dis 2016;75:1615-21).
GC_TARGET_EULAR_2023 = 5.0
GC_TARGET_LLDAS = 7.5


# --- yes/no answers -----------------------------------------------------------------------

_YES = frozenset({"yes", "y", "true", "1", "1.0"})
_NO = frozenset({"no", "n", "false", "0", "0.0"})
_MISSING = frozenset({"", "na", "nan", "none"})


def parse_yes_no(value, name: str = "value", *, strict: bool = False) -> bool | None:
    """Read a yes/no answer.

    Parameters
    ----------
    value : object
        The answer.
    name : str
        What it is, for the error message.
    strict : bool, default False
        ``True``: exactly ``"Yes"`` or ``"No"`` (surrounding spaces allowed), as the
        paper prints them; anything else, missing included, is an error. ``False``: any
        common spelling, case-insensitive (``"y"``, ``"true"``, ``1``, a bool), and
        missing (None, NaN, NA, ``""``, ``"NA"``, ``"none"``) gives ``None``.

    Returns
    -------
    bool or None

    Raises
    ------
    ValueError
        Naming ``name`` and the accepted spellings.

    Examples
    --------
    >>> parse_yes_no("Yes", strict=True), parse_yes_no(" n "), parse_yes_no("NA")
    (True, False, None)
    """
    if strict:
        text = str(value).strip()
        if text not in {"Yes", "No"}:
            raise ValueError(f"expected 'Yes' or 'No', got {value!r}")
        return text == "Yes"
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    text = str(value).strip().lower()
    if text in _YES:
        return True
    if text in _NO:
        return False
    if text in _MISSING:
        return None
    raise ValueError(f"{name} must be yes/no, true/false, 1/0 or missing, got {value!r}")
