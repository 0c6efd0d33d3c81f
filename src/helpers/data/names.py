"""The names clinic files use: columns, visits, units, and rows that are not patients.

Every stage of the reading pipeline (:mod:`helpers.data.reader`) recognises what a file
says through this module, so that one word list serves them all:

- column names: the patient id (``patient_id``, ``ID``, ``Paziente``, ``record_id``),
  the columns of a tidy file (``measure``/``parameter``, ``value``/``result``), the
  visit, month, date and treatment-start columns of a one-row-per-visit file;
- measure names, through a :class:`MeasureIndex` of a codebook (codes, labels and
  aliases, compared by :func:`helpers.vocab.name_key`), with units and visits split off
  a wide column's name (``CRP (mg/dL) T6``, ``crp_mg_dl_m6``, ``Baseline DAS28``);
- visit labels (:func:`parse_visit`): the baseline's synonyms (``T0``, ``BL``,
  ``basale``, ``screening``...), months, weeks, days and years in several languages
  (``M6``, ``6 mesi``, ``month_6_arm_1``, ``W24``, ``week 24``), numbered visits
  (``V2``, whose month must come from elsewhere);
- summary and note rows (``Media``, ``DS``, ``Totale``, ``Legenda: ...``).

Nothing here reads a file; everything is a pure function of strings, tested on its own.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from dataclasses import dataclass

import pandas as pd

from helpers.vocab import BASELINE, LAST, MEASURES, Codebook, Measure, name_key
from helpers.vocab import name_tokens as tokens

__all__ = ["ColumnName", "MeasureIndex", "NameClash", "Visit", "column_role", "is_id_name",
           "is_unit_label", "measure_prefix", "might_not_be_patient", "parse_column", "parse_visit", "suggest_names", "summary_label",
           "visit_label",
           "visit_split"]

#: Days in an average Gregorian month: weeks and days become months with it.
DAYS_PER_MONTH = 365.2425 / 12
_BUILT_IN_UNITS = frozenset(name_key(unit) for measure in MEASURES.values()
                            for unit in (measure.unit, *dict(measure.conversions)))

# --- column names ---------------------------------------------------------------------

#: Names of the patient-id column, by :func:`name_key` (``Patient ID``, ``N°``, ``Cod.
#: paziente``, REDCap's ``record_id``/``Record ID``).
ID_NAMES = frozenset(map(name_key, [
    "patient_id", "patient", "patient id", "patient no", "patient number", "pt", "pt id",
    "id", "id patient", "subject", "subject id", "participant", "participant id",
    "record_id", "record id", "paziente", "id paziente", "codice paziente", "cod paziente",
    "codice", "n paziente", "numero paziente", "patient code", "no", "nr", "n°",
    "numero patient", "n patient", "no patient", "identifiant patient", "num patient",
    "patient nr", "patienten id", "patient_nr", "pat id", "identifiant", "paciente",
    "id paciente", "case", "case id", "caso",
]))

#: Names of the other columns a file may have, by role and :func:`name_key`.
COLUMN_ROLES = {
    "measure": ["measure", "parameter", "variable", "item", "test", "analyte", "esame",
                "parametro", "variabile", "measure name", "outcome"],
    "value": ["value", "result", "valore", "risultato", "wert", "valeur", "resultado",
              "score"],
    "unit": ["unit", "units", "unita", "unita di misura", "um", "einheit", "unite",
             "unidad"],
    "timepoint": ["timepoint", "time point", "visit", "visita", "visit name", "event",
                  "redcap_event_name", "event name", "tempo", "time", "follow up",
                  "zeitpunkt", "besuch", "visite"],
    "month": ["month", "months", "mese", "mesi", "months since start", "month of follow up",
              "follow up months", "follow up (months)", "months of follow up",
              "months on anifrolumab", "duration of ani therapy (months)",
              "mesi di follow up", "durata follow up (mesi)", "monat", "monate", "mois"],
    "date": ["date", "visit date", "visit_date", "data", "data visita", "datum",
             "date of visit", "fecha", "date visite", "data prelievo", "sample date",
             "collection date", "data esame", "date of sample", "untersuchungsdatum",
             "visitendatum"],
    "start": ["start_date", "start date", "treatment start", "anifrolumab start",
              "anifrolumab_start", "start", "data inizio", "inizio", "data inizio terapia",
              "data inizio anifrolumab", "inizio anifrolumab", "inizio terapia",
              "therapy start", "date of first infusion", "first infusion",
              "first dose", "therapiebeginn", "startdatum"],
}
_ROLE_OF = {name_key(name): role for role, names in COLUMN_ROLES.items() for name in names}

#: REDCap's own columns that are not data: repeating forms, access groups, survey
#: bookkeeping; and a form's status column (``<form>_complete``, ``Complete?``).
REDCAP_BOOKKEEPING = frozenset(map(name_key, [
    "redcap_repeat_instrument", "redcap_repeat_instance", "redcap_data_access_group",
    "redcap_survey_identifier", "repeat instrument", "repeat instance",
    "data access group", "survey identifier", "complete",
]))


def is_id_name(name: str) -> bool:
    """Whether a column name names the patient id.

    Examples
    --------
    >>> is_id_name("Patient ID"), is_id_name("N°"), is_id_name("record_id")
    (True, True, True)
    >>> is_id_name("DAS28")
    False
    """
    return name_key(name) in ID_NAMES


def column_role(name: str) -> str | None:
    """The role of a column that is not a measure: ``"id"``, ``"measure"``, ``"value"``,
    ``"unit"``, ``"timepoint"``, ``"month"``, ``"date"``, ``"start"``, ``"redcap"``
    (bookkeeping to leave out), or None.

    Examples
    --------
    >>> column_role("Visit date"), column_role("Risultato"), column_role("clinical_complete")
    ('date', 'value', 'redcap')
    """
    key = name_key(name)
    if key in ID_NAMES:
        return "id"
    if key in _ROLE_OF:
        return _ROLE_OF[key]
    if key in REDCAP_BOOKKEEPING or key.endswith("complete") or key.endswith("timestamp"):
        return "redcap"
    return None


# --- visits ---------------------------------------------------------------------------

#: Labels of the visit before anifrolumab (month 0), by :func:`name_key`.
#: Visits before the treatment that are not its baseline when a baseline is also named
#: (a screening visit weeks before): read as the baseline only when alone.
PRE_BASELINE_NAMES = frozenset(map(name_key, [
    "screening", "pre", "pre-treatment", "pretreatment", "before", "enrolment",
    "enrollment", "arruolamento", "inclusion", "prima",
]))
#: Labels of the visit before anifrolumab (month 0), by :func:`name_key`.
BASELINE_NAMES = frozenset(map(name_key, [
    BASELINE, "BL", "B/L", "T0", "M0", "month 0", "mese 0", "V0", "visit 0", "W0",
    "week 0", "D0", "day 0", "basale", "visita basale", "baseline visit",
    "before anifrolumab", "before ANI", "pre anifrolumab", "pre ANI", "inizio", "start",
    "time 0", "tempo 0", "Ausgangswert", "Baseline-Visite", "basal", "linea base",
])) | PRE_BASELINE_NAMES
#: Labels of the last visit whatever its month (the paper's "last clinical evaluation").
LAST_NAMES = frozenset(map(name_key, [
    LAST, "last visit", "last follow up", "final", "final visit", "end of follow up",
    "last clinical evaluation", "last evaluation", "ultima valutazione",
    "ultima visita", "ultimo controllo", "ultimo follow up", "letzte Visite",
    "derniere visite", "ultima", "follow up", "FU",
]))
# Words for a unit of time, by the number of months in one.
_TIME_UNITS = {
    **dict.fromkeys(["m", "mo", "mos", "mon", "mth", "mths", "month", "months", "mese",
                     "mesi", "mes", "meses", "mois", "monat", "monate", "monats",
                     "t"], 1.0),
    **dict.fromkeys(["w", "wk", "wks", "week", "weeks", "settimana", "settimane", "sett",
                     "semana", "semanas", "semaine", "semaines", "woche", "wochen"],
                    7 / DAYS_PER_MONTH),
    **dict.fromkeys(["d", "day", "days", "giorno", "giorni", "gg", "dia", "dias", "jour",
                     "jours", "tag", "tage"], 1 / DAYS_PER_MONTH),
    **dict.fromkeys(["y", "yr", "yrs", "year", "years", "anno", "anni", "ano", "anos",
                     "an", "ans", "jahr", "jahre"], 12.0),
}
# The label a visit gets from its unit of time: months and years in months (m6, m12),
# weeks and days as written (w24, d90).
_LABEL_PREFIX = {1.0: "m", 12.0: "m", 7 / DAYS_PER_MONTH: "w", 1 / DAYS_PER_MONTH: "d"}
# Words for a numbered visit (V2), whose month must come from a month column or dates.
_VISIT_WORDS = frozenset(["v", "visit", "visita", "visite", "besuch", "visite", "vis"])
# Words that may come before a visit's time without changing it ("follow-up 6 months",
# "dopo 6 mesi", "FU 6m"). "at" and "after" likewise.
_FILLER = frozenset(["follow", "up", "fu", "at", "after", "dopo", "post", "nach", "apres",
                     "time", "tempo", "controllo", "visita", "visit", "visite", "a", "al",
                     "alla", "ai", "bei", "im", "in", "de", "di", "del"])


@dataclass(frozen=True)
class Visit:
    """A visit label as read.

    Attributes
    ----------
    timepoint : str
        The label in the tidy table: ``baseline``, ``last``, ``m6``, ``w24``, ``d90``,
        ``v2``.
    month : float or None
        Months since anifrolumab started, when the label says it (None for ``last``
        and numbered visits).
    baseline : bool
        Whether the label names the baseline.
    """

    timepoint: str
    month: float | None
    baseline: bool = False


def parse_visit(label) -> Visit | None:
    """Read a visit label as clinics write it; None when it is not one.

    Parameters
    ----------
    label : str
        ``T0``, ``baseline``, ``M6``, ``6 mesi``, ``month_6_arm_1`` (REDCap's event
        name; ``Month 6 (Arm 1: Anifrolumab)`` in a label export), ``W24``, ``week 24``,
        ``day 90``, ``1 year``, ``V2``, ``last visit``; or two names of one visit,
        ``Basale (T0)``, ``6 mesi (T6)``, ``Month 6 / V3``...

    Returns
    -------
    Visit or None

    Notes
    -----
    ``T<n>`` is read as month ``n`` (``T0`` the baseline, ``T6`` month 6). Weeks and days
    become months at 365.2425/12 days a month (``W24`` is month 5.52), and keep their
    own label (``w24``): nothing is rounded to a month the file did not state. Two names
    that disagree (``6 mesi (T3)``) are not a visit.

    Examples
    --------
    >>> parse_visit("T0"), parse_visit("6 mesi")
    (Visit(timepoint='baseline', month=0.0, baseline=True), Visit(timepoint='m6', month=6.0, baseline=False))
    >>> parse_visit("month_12_arm_1").timepoint, round(parse_visit("W24").month, 2)
    ('m12', 5.52)
    >>> parse_visit("V2"), parse_visit("DAS28")
    (Visit(timepoint='v2', month=None, baseline=False), None)
    >>> parse_visit("Basale (T0)").timepoint, parse_visit("Month 6 / V3").timepoint
    ('baseline', 'm6')
    >>> parse_visit("6 mesi (T3)") is None
    True
    """
    words = tokens(label)
    if "arm" in words:  # REDCap's arm suffix: month_6_arm_1, "Month 6 (Arm 1: ...)"
        words = words[:words.index("arm")]
    visit = _one_visit(words)
    if visit is not None or len(words) < 2:
        return visit
    # Two names of one visit: both must say the same, or one give the month of the other.
    for cut in range(1, len(words)):
        first, second = _one_visit(words[:cut]), _one_visit(words[cut:])
        if first is None or second is None:
            continue
        if first == second:
            return first
        dated = [v for v in (first, second) if v.month is not None]
        if len(dated) == 1:
            return dated[0]
        return None
    return None


def _one_visit(words: list[str]) -> Visit | None:
    """One name of a visit, as words: a synonym, a time or a visit number."""
    if not words:
        return None
    key = "".join(words)
    if key in BASELINE_NAMES:
        return Visit(BASELINE, 0.0, True)
    if key in LAST_NAMES:
        return Visit(LAST, None)
    numbered = _numbered_visit(words)
    if numbered is not None:
        return numbered
    while len(words) > 1 and words[0] in _FILLER:
        words = words[1:]
    key = "".join(words)
    if key in BASELINE_NAMES:
        return Visit(BASELINE, 0.0, True)
    if len(words) == 1:
        match = (re.fullmatch(r"(?P<unit>[a-z]+)(?P<n>[0-9]{1,4})", words[0])
                 or re.fullmatch(r"(?P<n>[0-9]{1,4})(?P<unit>[a-z]+)", words[0]))
    elif len(words) == 2:
        match = (re.fullmatch(r"(?P<unit>[a-z]+) (?P<n>[0-9]{1,4})", " ".join(words))
                 or re.fullmatch(r"(?P<n>[0-9]{1,4}) (?P<unit>[a-z]+)", " ".join(words)))
    else:
        match = None
    if match is None or match["unit"] not in _TIME_UNITS:
        return None
    months_per_unit, count = _TIME_UNITS[match["unit"]], int(match["n"])
    if count == 0:
        return Visit(BASELINE, 0.0, True)
    prefix = _LABEL_PREFIX[months_per_unit]
    shown = count * 12 if months_per_unit == 12.0 else count
    return Visit(f"{prefix}{shown}", count * months_per_unit)


def _numbered_visit(words: list[str]) -> Visit | None:
    """``V2``, ``visit 2``, ``Visita 3``: a visit number, not a time."""
    text = " ".join(words)
    match = (re.fullmatch(r"(?:v|vis)([0-9]{1,3})", text)
             or re.fullmatch(r"(?:visit|visita|visite|besuch|vis) ([0-9]{1,3})", text))
    return None if match is None else Visit(f"v{int(match[1])}", None)


def visit_label(label) -> str:
    """A label the grammar does not know, as a timepoint: lower case, ``_`` between words.

    Examples
    --------
    >>> visit_label("Post induction"), visit_label("Controllo #2"), visit_label("?")
    ('post_induction', 'controllo_2', '')
    """
    return "_".join(tokens(label))


def is_unit_label(text: str) -> bool:
    """Whether a cell names a unit of a built-in measure (a header row of units).

    Examples
    --------
    >>> is_unit_label("mg/dL"), is_unit_label("(mm/h)"), is_unit_label("DAS28")
    (True, True, False)
    """
    return bool(name_key(text)) and name_key(text) in _BUILT_IN_UNITS


# --- values -------------------------------------------------------------------------------

#: What clinic exports write for a value that was not measured, read as missing (and
#: counted in the run's summary): R's NA, SAS's ".", Excel's #N/A, "n.d.", "-"...
MISSING_VALUES = frozenset([
    "na", "n/a", "n.a.", "nd", "n.d.", "n.v.", "nv", "nr", "n.r.", "-", "\u2013", "\u2014",
    ".", "missing", "not done", "not available", "mancante", "assente", "non disponibile",
    "non eseguito", "n.e.", "k.a.", "k. a.", "nicht bestimmt", "#n/a",
])
#: Words that could mean zero or not recorded (a glucocorticoid dose of "none"): refused
#: with a hint, never guessed.
ZERO_OR_MISSING = frozenset(["none", "no", "nessuno", "nessuna", "sospeso", "sospesa",
                             "stopped", "off", "keine", "nil", "zero?"])


# --- rows that are not patients ---------------------------------------------------------

# A summary row's label, by its first word(s): means, SDs, medians, totals, counts, in
# the languages of the exports we read. Matched on the label's words, so "Media ± DS",
# "Mean (SD)" and "Totale pazienti" are summaries, while "Mediana Rossi" is not a label.
_SUMMARY_WORDS = frozenset([
    "mean", "means", "average", "avg", "media", "medie", "mittelwert", "mw", "moyenne",
    "promedio", "sd", "ds", "std", "stdev", "stddev", "dev", "st", "sem", "deviazione",
    "standardabweichung", "stabw", "desviacion", "median", "mediana", "mediane", "min",
    "max", "minimum", "maximum", "minimo", "massimo", "range", "iqr", "total", "totale",
    "totali", "tot", "totals", "gesamt", "summe", "sum", "somma", "count", "conteggio", "n",
    "anzahl", "nombre", "moy", "ecart", "q1", "q3", "percentile", "quartile", "summary",
    "riepilogo", "statistics", "statistiche", "overall",
])
# Summary labels only when they are the whole label: Spanish "DE" (desviación estándar)
# and "SE" are also the first word of surnames ("De Luca") that may label patients.
_SOLO_SUMMARY_WORDS = frozenset(["de", "se", "ee", "all", "tutti", "alle", "tous", "todos",
                                 "allpatients", "tuttiipazienti"])
# A note row's first word: a legend, footnote or source line below the data.
_NOTE_WORDS = frozenset([
    "note", "notes", "nota", "legenda", "legend", "key", "abbreviations", "abbreviazioni",
    "abkurzungen", "source", "fonte", "quelle", "footnote", "dati", "data", "updated",
    "aggiornato", "export", "exported", "generated", "printed", "stampato",
])


def summary_label(text: str) -> str | None:
    """``"summary"`` or ``"note"`` for a row label that names no patient, else None.

    Parameters
    ----------
    text : str
        The row's first non-empty cell (its label).

    Examples
    --------
    >>> summary_label("Media ± DS"), summary_label("Totale"), summary_label("n=40")
    ('summary', 'summary', 'summary')
    >>> summary_label("Legenda: VES = velocità di eritrosedimentazione")
    'note'
    >>> summary_label("PT-007"), summary_label("12"), summary_label("Rossi M.")
    (None, None, None)
    """
    stripped = str(text).strip()
    if not stripped:
        return None
    words = tokens(stripped)
    if stripped[0] in "*†‡§¹²³" or (words and words[0] in _NOTE_WORDS and len(words) > 1):
        return "note"
    if not words or stripped.startswith(("%", "±")):
        return "summary"
    if "".join(words) in _SOLO_SUMMARY_WORDS:
        return "summary"
    if words[0] in _SUMMARY_WORDS:
        # "N 12" could be an id; "N", "n=40" and "N: 40" are counts.
        if words[0] == "n" and len(words) > 1 and "=" not in stripped and ":" not in stripped:
            return None
        return "summary"
    if ":" in stripped or "=" in stripped:
        return "note"
    if len(words) >= 5 or len(stripped) > 40:
        return "note"  # a sentence, not an id
    return None


# A plain pattern of what RE2 and Python read alike (no \s, \w or \b), so that pandas
# runs it in Arrow for millions of labels. A label with a letter beyond ASCII ("Écart-type")
# is looked at closely too: the word lists are matched without accents.
_CANDIDATE = (r"(?i)^[^A-Za-z0-9]*(?:"
              + "|".join(sorted(_SUMMARY_WORDS | _NOTE_WORDS | _SOLO_SUMMARY_WORDS
                                | {"all patients", "tutti i pazienti"}, key=len,
                                reverse=True))
              + r")(?:[^A-Za-z0-9]|$)|[:=]|^[*†‡§¹²³%±]|^$|^[^A-Za-z0-9]+$|[^\x00-\x7f]"
              + r"|[^ \t]+(?:[ \t]+[^ \t]+){4}|.{41}")


def might_not_be_patient(labels: pd.Series) -> pd.Series:
    """Which row labels :func:`summary_label` could call a summary or a note (and empty
    labels), vectorised: a superset, so that only these need a closer look.

    Examples
    --------
    >>> might_not_be_patient(pd.Series(["P-01", "Media", "", "12", "Note: x"])).tolist()
    [False, True, True, False, True]
    """
    return labels.str.contains(_CANDIDATE, regex=True)


# --- measures --------------------------------------------------------------------------


class NameClash(ValueError):
    """Two measures of a codebook go by one name.

    Attributes
    ----------
    name : str
        The name, as written.
    codes : tuple of str
        The two measures' codes, the earlier in the codebook first.
    """

    def __init__(self, name: str, codes: tuple[str, str]):
        self.name, self.codes = name, codes
        super().__init__(f"{name!r} names both {codes[0]!r} and {codes[1]!r}")


class MeasureIndex:
    """Every name of every measure of a codebook, for lookups and suggestions.

    Parameters
    ----------
    codebook : Codebook

    Raises
    ------
    NameClash
        Two measures go by the same name (a user codebook whose code or label is a
        built-in measure's alias).

    Examples
    --------
    >>> from helpers.vocab import MEASURES
    >>> index = MeasureIndex(MEASURES)
    >>> index.lookup("DAS28 (VES)"), index.lookup("SLEDAI 2K"), index.lookup("TJC")
    ('das28_esr', 'sledai2k', 'tjc28')
    >>> index.lookup("sledaii"), index.suggest("sledaii")
    (None, 'sledai2k')
    """

    def __init__(self, codebook: Codebook):
        self.codebook = codebook
        #: Every unit any measure may be stated in, by :func:`helpers.vocab.name_key`.
        self.unit_keys = frozenset(name_key(unit) for measure in codebook.values()
                                   for unit in (measure.unit, *dict(measure.conversions)))
        self._code_of: dict[str, str] = {}
        for measure in codebook.values():
            for name in measure.names:
                key = name_key(name)
                other = self._code_of.get(key)
                if other is not None and other != measure.code:
                    raise NameClash(name, (other, measure.code))
                self._code_of[key] = measure.code

    def lookup(self, name) -> str | None:
        """The code a name stands for, or None."""
        return self._code_of.get(name_key(name))

    def suggest(self, name) -> str | None:
        """The code of the measure whose name is closest to ``name``, if close."""
        key = name_key(name)
        if len(key) < 3:
            return None
        close = difflib.get_close_matches(key, list(self._code_of), n=1, cutoff=0.8)
        return self._code_of[close[0]] if close else None

    def measure(self, code: str) -> Measure:
        return self.codebook[code]


@dataclass(frozen=True)
class ColumnName:
    """A column name read as a measure, its unit and its visit.

    Attributes
    ----------
    measure : str or None
        The code, when the name is a known measure's.
    measure_text : str
        The words naming the measure, as written (for messages).
    unit : str or None
        The unit the name states, as the codebook spells it (``mg/dL`` for ``mg_dl``).
    visit : Visit or None
        The visit the name states (``T6``), if any.
    visit_text : str
        The words of the name that state the visit (``t6``, ``6 mesi``).
    """

    measure: str | None
    measure_text: str
    unit: str | None
    visit: Visit | None
    visit_text: str = ""


def parse_column(name: str, index: MeasureIndex) -> ColumnName | None:
    """Read a column name as measure, unit and visit, in any order clinics write them.

    The visit may end the name (``das28_m6``, ``DAS28 (VES) 6 mesi``) or start it
    (``Baseline DAS28``, ``T6_CRP``); a unit may follow the measure (``crp_mg_dl_m6``,
    ``CRP (mg/dL) T6``, ``VAS global (0-10) W24``). Returns None when no reading names a
    known measure; the caller decides whether an unknown name with a visit is an error.

    Examples
    --------
    >>> from helpers.vocab import MEASURES
    >>> index = MeasureIndex(MEASURES)
    >>> column = parse_column("crp_mg_dl_m6", index)
    >>> column.measure, column.unit, column.visit.timepoint
    ('crp', 'mg/dL', 'm6')
    >>> parse_column("Baseline DAS28", index).visit.baseline
    True
    >>> parse_column("DAS28-ESR", index).visit is None
    True
    """
    words = tokens(name)
    for visit, rest, visit_words in _visit_splits(words):
        found = _measure_and_unit(rest, index)
        if found is not None:
            code, unit_words = found
            unit = (index.measure(code).unit_spelling("".join(unit_words)) if unit_words
                    else None)
            return ColumnName(code, " ".join(rest[:len(rest) - len(unit_words)]), unit,
                              visit, " ".join(visit_words))
    # The unit last, after the visit: "CRP T0 (mg/dL)".
    for size in (1, 2, 3):
        if len(words) > size + 1 and "".join(words[-size:]) in index.unit_keys:
            column = parse_column(" ".join(words[:-size]), index)
            spelling = None if column is None else index.measure(
                column.measure).unit_spelling("".join(words[-size:]))
            if column is not None and column.visit is not None and column.unit is None \
                    and spelling is not None:
                return ColumnName(column.measure, column.measure_text, spelling,
                                  column.visit, column.visit_text)
    return None


def visit_split(name: str) -> tuple[str, Visit] | None:
    """A name that ends (or starts) with a visit, as (the rest, the visit).

    For names that :func:`parse_column` does not know as a measure: whether the column
    looks like ``<something>_<visit>`` (an undeclared measure) or is plain extra data.

    Examples
    --------
    >>> visit_split("c3_m6")[0], visit_split("sex")
    ('c3', None)
    """
    words = tokens(name)
    for visit, rest, _ in _visit_splits(words):
        if visit is not None and rest:
            return " ".join(rest), visit
    return None


def measure_prefix(name: str, index: MeasureIndex) -> tuple[str, str] | None:
    """A name that starts with a known measure followed by other words, as (code, the
    other words): ``das28_mese`` is DAS28 with a visit that cannot be read.

    Examples
    --------
    >>> from helpers.vocab import MEASURES
    >>> measure_prefix("das28_mese", MeasureIndex(MEASURES)), measure_prefix("sex", MeasureIndex(MEASURES))
    (('das28', 'mese'), None)
    """
    words = tokens(name)
    for size in range(len(words) - 1, 0, -1):
        code = index.lookup("".join(words[:size]))
        if code is not None:
            return code, " ".join(words[size:])
    return None


def _visit_splits(words: list[str]):
    """(visit, the other words, the visit's words) for every way a name can split: visit
    last, visit first, then no visit, longest visit first."""
    for size in (3, 2, 1):
        if len(words) > size:
            visit = parse_visit(" ".join(words[-size:]))
            if visit is not None:
                yield visit, words[:-size], words[-size:]
            visit = parse_visit(" ".join(words[:size]))
            if visit is not None:
                yield visit, words[size:], words[:size]
    yield None, words, []


def _measure_and_unit(words: list[str], index: MeasureIndex
                      ) -> tuple[str, list[str]] | None:
    """The measure the words name and the words stating its unit, if any."""
    for size in range(0, min(3, len(words) - 1) + 1):
        measure_words, unit_words = words[:len(words) - size], words[len(words) - size:]
        code = index.lookup("".join(measure_words))
        if code is None:
            continue
        if not unit_words or index.measure(code).unit_factor("".join(unit_words)) is not None:
            return code, unit_words
    return None


def suggest_names(name: str, choices: Iterable[str]) -> str | None:
    """The closest of ``choices`` to ``name`` (by :func:`helpers.vocab.name_key`), if close.

    Examples
    --------
    >>> suggest_names("Patiend_ID", ["patient_id", "sex"])
    'patient_id'
    """
    keys = {name_key(choice): choice for choice in choices}
    close = difflib.get_close_matches(name_key(name), list(keys), n=1, cutoff=0.75)
    return keys[close[0]] if close else None
