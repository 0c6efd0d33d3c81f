"""The patients table (PATIENTS): one row per patient, as a clinic register has it.

Only the patient id is required. Every other column is optional and read when present,
under its own name or a clinic's (``Sesso``, ``Età``, ``Anno diagnosi``); the analyses
that need a column are skipped, with a note, when it is absent (:func:`supports`).

========================== ================================================== ==============
column                     meaning                                            used by
========================== ================================================== ==============
``patient_id``             the id, as in DATA (text: ``001`` is not ``1``)    everything
``sex``                    F or M (female/male, femmina/maschio, w/m ...)     cohort summary
``ethnicity``              text                                               cohort summary
``age_years``              age at anifrolumab start, 0-120                    cohort summary
``diagnosis_year``         year of the SLE diagnosis                          cohort summary
``disease_duration_months`` SLE duration at anifrolumab start, months         summary, swimmer
``anifrolumab_months``     months on anifrolumab                              summary, swimmer
``arthritis_pattern``      text                                               cohort summary
``erosive``, ``rhupus``    yes/no                                             summary, profiles
``anti_dsdna``, ...        autoantibodies (:data:`~helpers.vocab.AUTOANTIBODY_COLUMNS`), yes/no
``organ_cutaneous``, ...   organ domains (:data:`~helpers.vocab.ORGAN_DOMAINS`), yes/no
``side_effects``           text (``none`` for none)                           cohort summary
``response_paper``         a response as the paper judged it, yes/no          comparison
========================== ================================================== ==============

:func:`read_patients` reads a PATIENTS file of any format the measurements may have
(:mod:`helpers.data.decode`, :mod:`helpers.data.locate`), reports *every* problem of
the file in one line, and returns the table with canonical column names and types.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from helpers.data.decode import decode
from helpers.data.locate import locate
from helpers.data.names import MeasureIndex, column_role, is_id_name, parse_column
from helpers.data.tidy import whole_number_ids
from helpers.errors import InputError, quote_value
from helpers.vocab import (AUTOANTIBODIES, AUTOANTIBODY_COLUMNS, MEASURES, ORGAN_DOMAINS,
                           name_key, parse_yes_no)

__all__ = ["PATIENT_COLUMNS", "read_patients", "supports"]


@dataclass(frozen=True)
class Column:
    """One optional column of the patients table: its kind and other names."""

    name: str
    kind: str  # "text", "sex", "number", "year", "yes/no"
    aliases: tuple[str, ...] = ()
    low: float | None = None
    high: float | None = None


_YES_NO = "yes/no"
#: The columns of the patients table, in the order of the paper's Table 1.
PATIENT_COLUMNS: tuple[Column, ...] = (
    Column("sex", "sex", ("sesso", "gender", "genere", "geschlecht", "sexe", "sexo")),
    Column("ethnicity", "text", ("ethnic group", "etnia", "race", "razza", "origin",
                                 "origine")),
    Column("age_years", "number", ("age", "age (years)", "eta", "età", "eta (anni)", "alter",
                                   "age at start", "age at baseline", "edad", "age_y"),
           0, 120),
    Column("diagnosis_year", "year", ("year of diagnosis", "diagnosis year", "anno diagnosi",
                                      "anno di diagnosi", "diagnosejahr", "dx year",
                                      "year of sle diagnosis"), 1900, 2100),
    Column("disease_duration_months", "number", ("disease duration (months)",
                                                 "disease duration months",
                                                 "durata malattia (mesi)",
                                                 "sle duration (months)"), 0, 1500),
    Column("anifrolumab_months", "number", ("months on anifrolumab",
                                            "anifrolumab duration (months)",
                                            "durata anifrolumab (mesi)",
                                            "mesi di anifrolumab", "treatment months"),
           0, 600),
    Column("arthritis_pattern", "text", ("pattern", "arthritis", "pattern artrite")),
    Column("erosive", _YES_NO, ("erosive arthritis", "erosions", "erosioni", "erosiva")),
    Column("rhupus", _YES_NO, ()),
    *(Column(code, _YES_NO, tuple(label for label, c in AUTOANTIBODIES.items() if c == code))
      for code in AUTOANTIBODY_COLUMNS),
    *(Column(f"organ_{domain}", _YES_NO, (domain,)) for domain in ORGAN_DOMAINS),
    Column("side_effects", "text", ("adverse events", "side effects", "eventi avversi",
                                    "effetti collaterali")),
    Column("response_paper", _YES_NO, ("response", "risposta", "responder")),
)
_COLUMN_OF = {name_key(name): column for column in PATIENT_COLUMNS
              for name in (column.name, *column.aliases)}
# Words only: numeric codes (1/2, 0/1) mean different things in different registers.
_SEX = {**dict.fromkeys(["f", "female", "femmina", "donna", "w", "weiblich", "femme",
                         "mujer", "femenino", "feminin"], "F"),
        **dict.fromkeys(["m", "male", "maschio", "uomo", "mannlich", "homme", "hombre",
                         "masculino", "masculin"], "M")}
#: What the analyses need, by analysis: (every one of these columns, at least one of
#: these).
ANALYSES = {
    "the swimmer plot": (("disease_duration_months", "anifrolumab_months"), ()),
    "the patient profiles": ((), ("erosive", "rhupus", *AUTOANTIBODY_COLUMNS,
                                  *(f"organ_{d}" for d in ORGAN_DOMAINS))),
    "the paper's response": (("response_paper",), ()),
}


def supports(patients: pd.DataFrame | None, analysis: str) -> bool:
    """Whether ``patients`` has the columns ``analysis`` (a key of :data:`ANALYSES`) needs.

    Examples
    --------
    >>> supports(pd.DataFrame({"patient_id": [1]}), "the swimmer plot")
    False
    >>> supports(None, "the patient profiles")
    False
    """
    if patients is None:
        return False
    every, some = ANALYSES[analysis]
    return (all(c in patients.columns for c in every)
            and (not some or any(c in patients.columns for c in some)))


#: How a notebook says it left a section out; the report drops that section and lists
#: the line instead (:func:`helpers.pipeline.report.build_report`).
SKIPPED = "Skipped: "


def skipped(what: str, why: str) -> str:
    """The one line a notebook prints where the data cannot support a section.

    Examples
    --------
    >>> skipped("the swimmer plot", "no patients table (PATIENTS) was given")
    'Skipped: the swimmer plot (no patients table (PATIENTS) was given).'
    """
    return f"{SKIPPED}{what} ({why})."


def missing_for(patients: pd.DataFrame | None, analysis: str) -> str:
    """Why ``patients`` does not support ``analysis``: for :func:`skipped`.

    Examples
    --------
    >>> missing_for(None, "the swimmer plot")
    'no patients table (PATIENTS) was given'
    >>> missing_for(pd.DataFrame({"patient_id": [1]}), "the swimmer plot")
    'PATIENTS has no disease_duration_months or anifrolumab_months'
    """
    if patients is None:
        return "no patients table (PATIENTS) was given"
    every, some = ANALYSES[analysis]
    needed = [c for c in every if c not in patients.columns] or list(some)
    joined = " or ".join(needed) if len(needed) < 3 else f"any of {', '.join(needed[:3])}, ..."
    return f"PATIENTS has no {joined}"


def _recognise(name: str) -> bool:
    return name_key(name) in _COLUMN_OF


def read_patients(path: str | Path, *, ids: Iterable | None = None,
                  argument: str | None = "PATIENTS", sheet: str | None = None
                  ) -> tuple[pd.DataFrame, list[str]]:
    """Read a patients table and match it with the measurements' patients.

    Parameters
    ----------
    path : str or Path
        CSV, xlsx or Parquet; one row per patient.
    ids : iterable, optional
        DATA's patient ids: each must be in the file (rows of other patients are left out,
        with a note), and the ids take DATA's type.
    argument : str, optional
        How messages name the input.
    sheet : str, optional
        The xlsx sheet.

    Returns
    -------
    (DataFrame, list of str)
        The table (``patient_id`` first, known columns under their canonical names and
        types, other columns as text), and notes on what was read.

    Raises
    ------
    InputError
        One line: a measurements file given as PATIENTS; no id column; or every problem
        of the file at once (empty or repeated ids, values that are not what a column
        holds), or DATA's patients missing from it.
    """
    path = Path(path)
    decoded = decode(path, sheet=sheet)
    try:
        table = locate(decoded, _recognise, what="patients", minimum=0, argument=argument,
                       expected="patient_id (or ID, Patient) and optional columns such as "
                                "sex, age_years")
    except InputError as error:
        raise _measurements_instead(decoded, argument) or error from None
    fail = table.locator.error
    _refuse_measurements(table, fail)
    notes = list(table.notes)
    id_column = next(name for name in table.columns if is_id_name(name))
    problems: list[tuple[int, int, str]] = []  # (row, column position, message)
    frame = {"patient_id": table.body[id_column].str.strip()}
    unknown = []
    for name in table.columns:
        if name == id_column:
            continue
        column = _COLUMN_OF.get(name_key(name))
        if column is None:
            unknown.append(name)
            frame[name] = table.body[name].str.strip().replace("", np.nan)
            continue
        if column.name in frame:
            raise fail(f"is the same column as {quote_value(frame[column.name].name)}",
                       row=0, column=name)
        frame[column.name] = _typed(table.body[name], column, name, fail, problems,
                                    table.columns.index(name))
        frame[column.name].name = name
    if unknown:
        notes.append(f"column{'s' if len(unknown) > 1 else ''} "
                     f"{', '.join(map(quote_value, unknown[:5]))} not used")
    patients = pd.DataFrame(frame, index=table.body.index)
    _check_ids(patients["patient_id"], id_column, fail, problems,
               table.columns.index(id_column))
    if problems:
        count = len(problems)
        ordered = [text for _, _, text in sorted(problems)]
        shown = "; ".join(ordered[:8]) + (f"; and {count - 8} more" if count > 8 else "")
        raise InputError(table.locator.source, f"{count} problem{'s' if count > 1 else ''}: "
                         f"{shown}", argument=argument)
    if ids is not None:
        patients = _match(patients, list(ids), table, notes, argument)
    return patients.reset_index(drop=True), [f"PATIENTS: {note}" for note in notes]


def _measurements_instead(decoded, argument) -> InputError | None:
    """A measurements file given as PATIENTS, said so."""
    from helpers.data.shapes import recognises

    try:
        table = locate(decoded, recognises(MeasureIndex(MEASURES)), what="measurements",
                       expected="", argument=argument)
    except InputError:
        return None
    return _measurement_error(table, table.locator.error, force=True)


def _refuse_measurements(table, fail) -> None:
    error = _measurement_error(table, fail)
    if error is not None:
        raise error


def _measurement_error(table, fail, force: bool = False) -> InputError | None:
    index = MeasureIndex(MEASURES)
    measurement_like = [name for name in table.columns
                        if column_role(name) in ("measure", "value", "timepoint", "month")
                        or ((parsed := parse_column(name, index)) is not None
                            and parsed.visit is not None)]
    if not measurement_like and not force:
        return None
    shown = ", ".join(map(quote_value, measurement_like[:3])) or "measures"
    return fail(f"looks like a measurements file (it has {shown}): give it as DATA; "
                "PATIENTS has one row per patient, with patient_id and optional columns "
                "such as sex and age_years", row=0)


def _typed(cells: pd.Series, column: Column, name: str, fail, problems: list,
           position: int) -> pd.Series:
    """A column's cells in its type; each bad cell is added to ``problems``."""
    text = cells.str.strip()
    present = text != ""

    def problem(row, message):
        problems.append((int(row), position, f"{_where(fail, row, name)}: {message} "
                                             f"(got {quote_value(text[row])})"))

    if column.kind == "text":
        return text.where(present, np.nan)
    if column.kind == "sex":
        mapped = text.map(lambda v: _SEX.get(name_key(v)))
        for row in text.index[present & mapped.isna()]:
            problem(row, "must be F or M (female/male, femmina/maschio)" + (
                ": a number's meaning differs between registers" if text[row].isdigit()
                else ""))
        return mapped.where(present, np.nan)
    if column.kind == _YES_NO:
        values = []
        for row, value in text.items():
            try:
                values.append(parse_yes_no(value, name))
            except ValueError:
                problem(row, "must be yes or no")
                values.append(None)
        series = pd.Series(values, index=text.index, dtype="boolean")
        return series.astype(bool) if series.notna().all() else series
    numbers = pd.to_numeric(text.where(present, np.nan), errors="coerce")
    for row in text.index[present & numbers.isna()]:
        problem(row, "is not a number")
    valid = numbers.notna()
    if column.low is not None:
        outside = valid & ((numbers < column.low) | (numbers > column.high))
        for row in text.index[outside]:
            problem(row, f"must be between {column.low:g} and {column.high:g}")
    if column.kind == "year":
        for row in text.index[valid & (numbers != np.round(numbers))]:
            problem(row, "must be a year")
    if numbers.notna().all() and (numbers == np.round(numbers)).all():
        return numbers.astype("int64")
    return numbers


def _where(fail, row, column) -> str:
    """Where a cell is, as messages say it: "row 3 (line 4), column 'Sesso'"."""
    return fail("", row=int(row), column=column).location


def _check_ids(ids: pd.Series, column: str, fail, problems: list, position: int) -> None:
    for row in ids.index[ids == ""]:
        problems.append((int(row), position,
                         _where(fail, row, column) + ": the patient id is empty"))
    repeated = ids.duplicated() & (ids != "")
    for row in ids.index[repeated]:
        problems.append((int(row), position, _where(fail, row, column)
                         + f": patient {quote_value(ids[row])} has a second row"))


def _match(patients: pd.DataFrame, data_ids: list, table, notes: list[str],
           argument: str | None) -> pd.DataFrame:
    """Keep DATA's patients, in the file's order, with ids of DATA's type."""
    as_text = {str(i): i for i in data_ids}
    ids = patients["patient_id"]
    missing = sorted(i for i in as_text if i not in set(ids))
    if missing:
        hint = ""
        stripped = {i.lstrip("0") for i in ids}
        if any(i.lstrip("0") in stripped for i in missing):
            hint = " (ids must match exactly: 001 is not 1)"
        raise InputError(table.locator.source, f"{len(missing)} patient(s) of DATA are not in "
                         f"PATIENTS (first: {', '.join(missing[:3])}){hint}; the summary and "
                         "the statistics must describe the same patients",
                         column=table.locator.names.get("patient_id", "patient_id"),
                         argument=argument)
    extra = ~ids.isin(as_text)
    if extra.any():
        notes.append(f"{int(extra.sum())} patient(s) of PATIENTS have no measurements and "
                     f"are left out (first: {', '.join(ids[extra].head(3))})")
    patients = patients[~extra].copy()
    patients["patient_id"] = whole_number_ids(patients["patient_id"]) if all(
        isinstance(i, (int, np.integer)) for i in data_ids) else patients["patient_id"]
    return patients
