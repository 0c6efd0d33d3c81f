"""The project's one vocabulary: measures, visits, clinical cut-offs, yes/no answers.

Every other module imports these names from here; none defines its own copy. Like a
codebook, each entry says what a code means, how it is written and where a number comes
from:

- :data:`MEASURES`: the built-in codebook (a :class:`Codebook` of :class:`Measure`):
  the measures of the tidy measurement table, with their names for text, axis labels for
  figures, units, valid ranges, direction of improvement and cut-offs;
- :data:`BASELINE` and :data:`LAST`, the visit labels, and how figures print them;
- the columns of ``patients.csv`` that the paper's Table 1 defines (autoantibodies,
  organ domains);
- the clinical cut-offs (DAS28 activity, EULAR response, SLEDAI-2K reduction,
  glucocorticoid targets), each with its source;
- :func:`parse_yes_no`, the one reader of yes/no answers.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = [
    "AUTOANTIBODIES", "AUTOANTIBODY_COLUMNS", "BASELINE", "Codebook", "DAS28_CATEGORIES",
    "DAS28_LOW", "DAS28_MEASURES",
    "DAS28_MODERATE", "DAS28_REMISSION", "EULAR_GOOD_IMPROVEMENT",
    "EULAR_MODERATE_IMPROVEMENT", "EULAR_RESPONSES", "GC_TARGET_EULAR_2023",
    "GC_TARGET_LLDAS", "LAST", "MEASURES", "MEASUREMENT_COLUMNS", "MEASURE_CODES", "Measure",
    "ORGAN_DOMAINS",
    "SLEDAI_REDUCTION_POINTS", "TIMEPOINT_LABELS", "TIMEPOINT_PATTERN", "measure_name", "name_key", "name_tokens",
    "parse_yes_no",
]

# --- visits ----------------------------------------------------------------------------

#: Timepoint label of the visit before anifrolumab (month 0); every change is
#: ``follow-up - baseline``.
BASELINE = "baseline"
#: Timepoint label of the paper's "last clinical evaluation".
LAST = "last"
#: How figures print the two visits of the paper (others print as they are).
TIMEPOINT_LABELS = {BASELINE: "Before\nanifrolumab", LAST: "Last\nvisit"}
#: What a visit label of the tidy table may be (a regular expression): letters, digits
#: and ``_``, as in ``baseline``, ``last``, ``m6``.
TIMEPOINT_PATTERN = r"[A-Za-z0-9_]+"


#: Columns of the tidy measurement table (data/processed/measurements.csv, and the file
#: a user's own cohort must have), in order.
MEASUREMENT_COLUMNS = ["patient_id", "measure", "timepoint", "month", "value", "unit"]


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


# --- measures --------------------------------------------------------------------------


def name_tokens(text) -> list[str]:
    """The words and numbers of a name, in lower-case ASCII.

    Clinic files write one name in many ways (``DAS28-ESR``, ``das28_esr``, ``DAS28 ESR``;
    ``mg/dL``, ``mg/dl``; ``Età``, ``eta``): accents are dropped, the micro sign is
    ``u``, and everything that is not a letter or a digit separates words.

    Examples
    --------
    >>> name_tokens("CRP (mg/dL) T6"), name_tokens("month_6_arm_1"), name_tokens("Età")
    (['crp', 'mg', 'dl', 't6'], ['month', '6', 'arm', '1'], ['eta'])
    """
    text = str(text).replace("\u00b5", "u").replace("\u03bc", "u")
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return re.findall(r"[a-z0-9]+", text)


def name_key(text) -> str:
    """A name as names are compared: its :func:`name_tokens`, joined.

    Examples
    --------
    >>> name_key("DAS28 (VES)"), name_key("mg/dL"), name_key("µg/mL"), name_key("das28_ves")
    ('das28ves', 'mgdl', 'ugml', 'das28ves')
    """
    return "".join(name_tokens(text))


@dataclass(frozen=True)
class Measure:
    """One measure of the tidy measurement table: one row of a codebook.

    Attributes
    ----------
    code : str
        The value of the ``measure`` column.
    name : str
        Name in running text (a codebook's ``label``).
    axis_label : str
        Axis label with its unit, for figures.
    change_label : str
        Axis label of the change from baseline to the last visit.
    unit : str
        The unit the values must be in (the ``unit`` column of the tidy table).
    low, high : float
        Valid range, inclusive (values outside are input errors).
    integer : bool
        Whether only whole numbers are valid.
    lower_is_better : bool
        Whether a fall is an improvement (true of every built-in measure).
    mcid : float or None
        Minimal clinically important difference, in the measure's unit; None when no
        accepted value exists.
    thresholds : tuple of float
        Clinical cut-offs of the level, increasing, drawn on the measure's figures:
        as the edges of shaded bands when :attr:`categories` names them, otherwise as
        reference lines (targets).
    source : str
        Where the range and cut-offs come from.
    aliases : tuple of str
        Other names clinics give the measure in column headers and ``measure`` cells
        (``DAS28 (VES)``, ``TJC``); compared by :func:`name_key`.
    conversions : tuple of (str, float)
        Other units a file may state, each with the factor that turns a value in it
        into :attr:`unit` (``("mg/dL", 10.0)`` for CRP). A factor of 1 is another
        spelling of the same unit (``mg/die`` for ``mg/day``).
    categories : tuple of str
        Names of the activity categories the thresholds separate, lowest first (one
        more than the thresholds: ``Remission, Low, Moderate, High`` for DAS28), or
        empty.
    change_thresholds : tuple of float
        Improvements (positive amounts, in the unit) that a change from baseline is
        compared with, increasing; drawn on the figures of change (EULAR 0.6 and 1.2
        for DAS28, SRI-4's 4 points for SLEDAI-2K).
    change_name : str
        What the change thresholds are, for their labels (``EULAR``, ``SRI-4``).

    Raises
    ------
    ValueError
        Thresholds that are not increasing or lie outside the range, categories that do
        not number one more than the thresholds, change thresholds that are not
        positive and increasing.
    """

    code: str
    name: str
    axis_label: str
    change_label: str
    unit: str
    low: float
    high: float
    integer: bool
    lower_is_better: bool = True
    mcid: float | None = None
    thresholds: tuple[float, ...] = ()
    source: str = ""
    aliases: tuple[str, ...] = ()
    conversions: tuple[tuple[str, float], ...] = ()
    categories: tuple[str, ...] = ()
    change_thresholds: tuple[float, ...] = ()
    change_name: str = ""

    def __post_init__(self):
        cuts, changes = np.asarray(self.thresholds), np.asarray(self.change_thresholds)
        if np.any(np.diff(cuts) <= 0) or np.any((cuts < self.low) | (cuts > self.high)):
            raise ValueError(f"{self.code}: thresholds {self.thresholds} must increase "
                             f"within {self.low:g}-{self.high:g}")
        if self.categories and len(self.categories) != len(self.thresholds) + 1:
            raise ValueError(f"{self.code}: {len(self.thresholds)} thresholds separate "
                             f"{len(self.thresholds) + 1} categories, not "
                             f"{len(self.categories)}")
        if np.any(changes <= 0) or np.any(np.diff(changes) <= 0):
            raise ValueError(f"{self.code}: change thresholds {self.change_thresholds} "
                             "must be positive and increasing")

    @property
    def bands(self) -> tuple[tuple[str, str, float, float], ...]:
        """The named categories as ``(key, name, low, high)`` level bands, or none.

        Examples
        --------
        >>> MEASURES["das28"].bands[:2]
        (('remission', 'Remission', 0.0, 2.6), ('low', 'Low', 2.6, 3.2))
        """
        if not self.categories:
            return ()
        edges = (self.low, *self.thresholds, self.high)
        return tuple(("-".join(name_tokens(name)), name, float(low), float(high))
                     for name, low, high in zip(self.categories, edges, edges[1:]))

    @property
    def targets(self) -> tuple[float, ...]:
        """The thresholds drawn as reference lines: all of them unless they edge bands."""
        return () if self.categories else self.thresholds

    def unit_factor(self, unit: str) -> float | None:
        """The factor that turns a value stated in ``unit`` into :attr:`unit`.

        Returns None for a unit the codebook does not know for this measure.

        Examples
        --------
        >>> crp = MEASURES["crp"]
        >>> crp.unit_factor("mg/L"), crp.unit_factor("MG/DL"), crp.unit_factor("g/L")
        (1.0, 10.0, None)
        """
        spelling = self.unit_spelling(unit)
        if spelling is None:
            return None
        return dict(self.conversions).get(spelling, 1.0)

    def unit_spelling(self, unit: str) -> str | None:
        """``unit`` as this codebook entry writes it (``mg/dL`` for ``mg_dl``), or None.

        Examples
        --------
        >>> MEASURES["crp"].unit_spelling("MG DL"), MEASURES["pga"].unit_spelling("0-10")
        ('mg/dL', '0-10')
        """
        key = name_key(unit)
        if key == name_key(self.unit):
            return self.unit
        return next((other for other, _ in self.conversions if name_key(other) == key), None)

    @property
    def needs_unit(self) -> bool:
        """Whether values may come in units that differ by a factor (mg/L or mg/dL):
        a file must then state which one it uses."""
        return any(factor != 1 for _, factor in self.conversions)

    @property
    def names(self) -> tuple[str, ...]:
        """Every name the measure goes by: its code, its label and its aliases."""
        return (self.code, self.name, *self.aliases)

    @classmethod
    def from_label(cls, code: str, label: str, unit: str, low: float, high: float,
                   integer: bool, **extra) -> Measure:
        r"""A measure whose figure labels are made from its label and unit.

        Examples
        --------
        >>> crp = Measure.from_label("crp", "CRP", "mg/L", 0, 1000, False)
        >>> crp.axis_label, crp.change_label
        ('CRP (mg/L)', 'CRP change\n(mg/L, last visit − baseline)')
        """
        axis = f"{label} ({unit})" if unit else label
        change = (f"{label} change\n({unit + ', ' if unit else ''}last visit \u2212 "
                  "baseline)")
        return cls(code, label, axis, change, unit, float(low), float(high), bool(integer),
                   **extra)


class Codebook(Mapping):
    """The measures an analysis accepts, by code, and where their definitions come from.

    A read-only mapping from measure code to :class:`Measure`, in report order, that
    remembers its sources so that an unknown measure can be reported against them.

    Parameters
    ----------
    measures : iterable of Measure
        In report order; a later entry with the same code replaces an earlier one.
    source : str
        What the codebook is, for messages ("the built-in codebook", a file name).

    Examples
    --------
    >>> book = Codebook([MEASURES["das28"]], source="mine.csv")
    >>> list(book), book.source, "crp" in book
    (['das28'], 'mine.csv', False)
    """

    def __init__(self, measures, source: str):
        self._measures = {m.code: m for m in measures}
        self.source = source

    def __getitem__(self, code: str) -> Measure:
        return self._measures[code]

    def __iter__(self):
        return iter(self._measures)

    def __len__(self) -> int:
        return len(self._measures)

    def __repr__(self) -> str:
        return f"Codebook({list(self._measures)}, source={self.source!r})"

    def extended(self, measures, source: str) -> Codebook:
        """This codebook with ``measures`` added or replacing entries of the same code."""
        return Codebook([*self.values(), *measures], f"{self.source} + {source}")


# Sources of the built-in codebook's ranges and cut-offs:
# - SLEDAI-2K: an integer from 0 to 105 (Gladman DD et al., J Rheumatol 2002;29:288-91);
#   reduction >= 4 points, the SRI-4 component (Furie RA et al., Arthritis Rheum
#   2009;61:1143-51), is its clinically important change.
# - DAS28 (any version) lies between 0 and about 9.4 for valid components, so 0-10;
#   cut-offs 2.6 / 3.2 / 5.1 and the EULAR improvement of 1.2 (good) (Prevoo MLL et al.,
#   Arthritis Rheum 1995;38:44-8; van Gestel AM et al., Arthritis Rheum 1996;39:34-40;
#   Fransen J et al., Ann Rheum Dis 2004;63:1210). DAS28-CRP uses the same cut-offs here,
#   as the EULAR criteria do, although it reads lower than DAS28-ESR (Wells G et al., Ann
#   Rheum Dis 2009;68:954-60).
# - Glucocorticoid dose: >= 0 mg/day, above 2000 mg/day certainly a typing error (IV
#   pulses are at most 1000 mg); targets 5 mg/day (EULAR 2023, Fanouriakis A et al., Ann
#   Rheum Dis 2024;83:15-29) and 7.5 mg/day (LLDAS, Franklyn K et al., Ann Rheum Dis
#   2016;75:1615-21).
# - CRP in mg/L, the unit DAS28-CRP needs; 0-1000 (values above a few hundred are rare
#   even in sepsis, so above 1000 is a unit or typing error). ESR in mm/h, 0-200 (the
#   Westergren tube is 200 mm).
# - Tender and swollen joint counts of 28 joints: integers 0-28 (Prevoo 1995).
# - Patient global assessment: 0-100 mm visual analogue scale, as DAS28 uses it.
# - CLASI-A, the activity score of the Cutaneous Lupus Erythematosus Disease Area and
#   Severity Index: an integer from 0 to 70 (Albrecht J et al., J Invest Dermatol
#   2005;125:889-94).
# No MCID is given where no single accepted value exists (CRP, ESR, joint counts, PGA,
# CLASI-A, glucocorticoid dose): a user codebook can add one.
# Other names and units, as clinic exports write them (English, Italian, German, French
# and Spanish abbreviations: VES, BSG, VS and VSG are the ESR; PCR is the CRP; NAD and
# NAT the tender and swollen joint counts; mg/die is mg/day). "PGA" here is the
# *patient's* global assessment that DAS28 uses, not the physician's (0-3 in SLE
# trials): its unit must be stated (mm or a 0-10 scale), which keeps a physician's
# 0-3 score from being read as millimetres without a word.
_POINTS = (("score", 1.0), ("pts", 1.0), ("punti", 1.0), ("punteggio", 1.0),
           ("Punkte", 1.0))
_DAS28 = dict(mcid=EULAR_GOOD_IMPROVEMENT,
              thresholds=(DAS28_REMISSION, DAS28_LOW, DAS28_MODERATE),
              categories=tuple(c.capitalize() for c in DAS28_CATEGORIES),
              change_thresholds=(EULAR_MODERATE_IMPROVEMENT, EULAR_GOOD_IMPROVEMENT),
              change_name="EULAR",
              source="Prevoo 1995; van Gestel 1996; Fransen 2004", conversions=_POINTS)

#: The built-in codebook, in report order: the paper's measures (its Table 2) first,
#: then what arthritis and lupus follow-up usually records. A user codebook
#: (:func:`helpers.data.codebook.load_codebook`) extends or overrides it.
MEASURES: Codebook = Codebook([
    Measure("sledai2k", "SLEDAI-2K", "SLEDAI-2K (score)",
            "SLEDAI-2K change\n(last visit \u2212 baseline)", "points", 0, 105, True,
            mcid=float(SLEDAI_REDUCTION_POINTS),
            change_thresholds=(float(SLEDAI_REDUCTION_POINTS),), change_name="SRI-4",
            source="Gladman 2002; Furie 2009 (SRI-4)",
            aliases=("SLEDAI 2K", "SLEDAI", "SLEDAI score", "SLEDAI-2000"),
            conversions=_POINTS),
    Measure("das28", "DAS28", "DAS28 (score)",
            "DAS28 change\n(last visit \u2212 baseline)", "points", 0, 10, False,
            aliases=("DAS 28", "DAS28 score"), **_DAS28),
    Measure("gc_mg_day", "Glucocorticoid dose (mg/day)",
            "Glucocorticoid dose\n(mg/day, prednisone eq.)",
            "Glucocorticoid dose change\n(mg/day, last visit \u2212 baseline)",
            "mg/day", 0, 2000, False, thresholds=(GC_TARGET_EULAR_2023, GC_TARGET_LLDAS),
            source="EULAR 2023 (Fanouriakis 2024); LLDAS (Franklyn 2016)",
            aliases=("glucocorticoid dose", "glucocorticoids", "GC", "GC dose", "prednisone",
                     "prednisone dose", "prednisone equivalent", "prednisone eq",
                     "prednisolone", "PDN", "PDN dose", "pred", "pred dose", "steroid dose",
                     "steroids", "corticosteroid dose", "CS dose", "steroide",
                     "dose steroide", "Prednison", "Prednisolon"),
            conversions=(("mg/die", 1.0), ("mg/d", 1.0), ("mg/24h", 1.0),
                         ("mg/giorno", 1.0), ("mg/Tag", 1.0), ("mg/jour", 1.0),
                         ("mg/dia", 1.0), ("mg", 1.0))),
    Measure.from_label("das28_esr", "DAS28-ESR", "points", 0, 10, False,
                       aliases=("DAS28 ESR", "DAS28-VES", "DAS28 (VES)", "DAS28-BSG",
                                "DAS28-VS", "DAS28-VSG", "DAS28 4v ESR"), **_DAS28),
    Measure.from_label("das28_crp", "DAS28-CRP", "points", 0, 10, False,
                       aliases=("DAS28 CRP", "DAS28-PCR", "DAS28 (PCR)", "DAS28 4v CRP"),
                       **_DAS28),
    Measure.from_label("crp", "CRP", "mg/L", 0, 1000, False, source="mg/L as DAS28-CRP",
                       aliases=("C-reactive protein", "PCR", "proteina C reattiva",
                                "hs-CRP", "hsCRP"),
                       conversions=(("mg/dL", 10.0), ("ug/mL", 1.0))),
    Measure.from_label("esr", "ESR", "mm/h", 0, 200, False, source="Westergren, 200 mm",
                       aliases=("VES", "BSG", "VS", "VSG", "sed rate",
                                "erythrocyte sedimentation rate"),
                       conversions=(("mm/hr", 1.0), ("mm/1h", 1.0), ("mm/1st h", 1.0),
                                    ("mm/ora", 1.0), ("mm/Std", 1.0))),
    Measure.from_label("tjc28", "Tender joints (28)", "joints", 0, 28, True,
                       source="Prevoo 1995",
                       aliases=("TJC", "TJC 28", "tender joints", "tender joint count",
                                "NAD", "NAD28", "articolazioni dolenti", "dolenti"),
                       conversions=(("n", 1.0), ("0-28", 1.0), ("/28", 1.0))),
    Measure.from_label("sjc28", "Swollen joints (28)", "joints", 0, 28, True,
                       source="Prevoo 1995",
                       aliases=("SJC", "SJC 28", "swollen joints", "swollen joint count",
                                "NAT", "NAT28", "articolazioni tumefatte", "tumefatte"),
                       conversions=(("n", 1.0), ("0-28", 1.0), ("/28", 1.0))),
    Measure.from_label("pga", "Patient global assessment", "mm", 0, 100, False,
                       source="0-100 mm VAS, as DAS28",
                       aliases=("PtGA", "patient global", "VAS", "VAS global", "VAS globale",
                                "VAS GH", "VAS paziente", "global health", "GH"),
                       conversions=(("0-100", 1.0), ("/100", 1.0), ("0-100 mm", 1.0),
                                    ("cm", 10.0), ("0-10", 10.0), ("/10", 10.0),
                                    ("0-10 cm", 10.0))),
    Measure.from_label("clasi_a", "CLASI-A", "points", 0, 70, True,
                       source="Albrecht 2005",
                       aliases=("CLASI A", "CLASI activity"), conversions=_POINTS),
], source="the built-in codebook")
#: The paper's measures (its Table 2), in report order: the outcomes of the paper's
#: analysis and of the synthetic cohorts.
MEASURE_CODES = ("sledai2k", "das28", "gc_mg_day")
#: The DAS28 versions, in the order the EULAR response prefers them when several exist.
DAS28_MEASURES = ("das28", "das28_esr", "das28_crp")


def measure_name(code: str, codebook: Mapping[str, Measure] = MEASURES) -> str:
    """Name of a measure in running text; an unknown code is its own name.

    Examples
    --------
    >>> measure_name("sledai2k"), measure_name("tjc28"), measure_name("foo")
    ('SLEDAI-2K', 'Tender joints (28)', 'foo')
    """
    return codebook[code].name if code in codebook else code


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


# --- yes/no answers -----------------------------------------------------------------------

# English, and the Italian, Spanish, German and French words clinic registers use.
_YES = frozenset({"yes", "y", "true", "1", "1.0", "si", "sì", "sí", "ja", "oui"})
_NO = frozenset({"no", "n", "false", "0", "0.0", "nein", "non"})
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
