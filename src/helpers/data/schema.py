"""Stage 5 of reading a file: validation, with the schemas of the tidy tables (pandera).

Two steps, so that every message says exactly what is wrong:

1. :func:`to_typed` turns text cells into numbers, reporting the first cell that is not
   a finite number (``"NaN"``, ``"inf"``, ``"=1+1"``, ``"7,2"`` ...) with a hint at what
   to type instead;
2. a pandera schema checks types, allowed values, ranges and uniqueness on the typed
   table; :func:`validate` reports its first failure as one
   :class:`~helpers.errors.InputError` line naming file, row and column.

:func:`check_measurements` runs both on the tidy text table that
:mod:`helpers.data.interpret` gives, after converting values to the codebook's units,
and checks that every follow-up has a baseline before it.

The measures and their valid ranges, with sources, are those of :mod:`helpers.vocab`.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np
import pandas as pd
import pandera.pandas as pa
import pyarrow
import pyarrow.compute as pc

from helpers import paths
from helpers.errors import InputError, quote_value
from helpers.data.decode import GROUPED_NUMBER
from helpers.data.distinct import DistinctCells
from helpers.data.names import ZERO_OR_MISSING
from helpers.data.tidy import first_repeat, whole_number_ids
from helpers.io import FORMULA_PREFIXES
from helpers.vocab import (BASELINE, MEASURE_CODES, MEASUREMENT_COLUMNS, MEASURES, Codebook,
                           Measure, TIMEPOINT_PATTERN)



def _measure_range_checks(codebook: Mapping[str, Measure], measures: list[str]
                          ) -> list[pa.Check]:
    checks = []
    for measure in measures:
        spec = codebook[measure]
        low, high, integer = spec.low, spec.high, spec.integer
        label = f"{'an integer' if integer else 'a value'} from {low:g} to {high:g}"
        checks.append(pa.Check(_measure_range(measure, low, high, integer),
                               name=f"value of {measure} must be {label}",
                               error=f"value of {measure} must be {label}"))
    return checks


def _measure_range(measure: str, low: float, high: float, integer: bool):
    """Row-wise check that ``value`` of ``measure`` lies in ``[low, high]``."""

    def measure_within_range(frame: pd.DataFrame) -> pd.Series:
        value = frame["value"]
        ok = value.isna() | ((value >= low) & (value <= high))
        if integer:
            ok &= value.isna() | (value == np.round(value))
        return (frame["measure"] != measure) | ok

    return measure_within_range


#: One row per patient, measure and visit.
UNIQUE_KEY = ("patient_id", "measure", "timepoint")


def duplicate_message(keys) -> str:
    """What a repeated row is called, whichever check found it."""
    return f"duplicate of an earlier row with the same {', '.join(keys)}"


def measurement_schema(measures: Iterable[str] = MEASURE_CODES,
                       codebook: Mapping[str, Measure] = MEASURES, *,
                       ranges: Iterable[str] | None = None,
                       unique: bool = True) -> pa.DataFrameSchema:
    """The tidy measurements schema (docs/architecture.md, "Contracts") for ``measures``.

    Ranges come from ``codebook`` (the built-in :data:`helpers.vocab.MEASURES` by
    default), which must define every measure. ``ranges``: the measures whose range is
    checked (default all of ``measures``; a table's own measures are enough, and each
    check is a pass over every row). ``unique=False`` leaves out the check of one row
    per patient, measure and visit, for a caller that checks it on integer codes
    (:func:`check_measurements`: pandera compares the three text columns, 3.6 s of a
    million patients' 5.6 s).
    """
    measures = list(measures)
    ranges = measures if ranges is None else list(ranges)
    return pa.DataFrameSchema(
        {
            # Ours are integers, a user's may be any non-empty label.
            "patient_id": pa.Column(checks=pa.Check(lambda s: s.astype(str).str.len() > 0,
                                                    name="patient_id must not be empty")),
            "measure": pa.Column(str, pa.Check.isin(measures)),
            "timepoint": pa.Column(str, pa.Check.str_matches(f"^{TIMEPOINT_PATTERN}$")),
            "month": pa.Column(checks=pa.Check.in_range(0, 1200)),
            "value": pa.Column(float, nullable=True),
            "unit": pa.Column(str),
        },
        checks=_measure_range_checks(codebook, ranges),
        unique=list(UNIQUE_KEY) if unique else None,
        strict=True,
        ordered=False,
        name="measurements",
    )



PATIENTS_SCHEMA = pa.DataFrameSchema(
    {
        "patient_id": pa.Column(int, pa.Check.ge(1), unique=True),
        "sex": pa.Column(str, pa.Check.isin(["F", "M"])),
        "age_years": pa.Column(int, pa.Check.in_range(0, 120)),
        "diagnosis_year": pa.Column(int, pa.Check.in_range(1900, 2100)),
        "disease_duration_months": pa.Column(int, pa.Check.ge(0)),
        "anifrolumab_months": pa.Column(int, pa.Check.ge(0)),
        "erosive": pa.Column(bool),
        "rhupus": pa.Column(bool),
        "response_paper": pa.Column(bool),
    },
    strict=False,
    name="patients",
)

THERAPIES_SCHEMA = pa.DataFrameSchema(
    {
        "patient_id": pa.Column(int, pa.Check.ge(1)),
        "role": pa.Column(str, pa.Check.isin(["previous", "intolerant", "concomitant"])),
        "abbreviation": pa.Column(str),
        "drug": pa.Column(str),
        "drug_class": pa.Column(str),
        "dose_mg_day": pa.Column(float, pa.Check.ge(0), nullable=True),
    },
    unique=["patient_id", "role", "abbreviation"],
    strict=False,
    name="therapies",
)

STUDIES_SCHEMA = pa.DataFrameSchema(
    {
        "study": pa.Column(str, unique=True),
        "year": pa.Column(int, pa.Check.in_range(1950, 2100)),
        "n": pa.Column(int, pa.Check.ge(1)),
        "events": pa.Column(int, pa.Check.ge(0)),
        "ultrasound_proven": pa.Column(bool),
        "outcome_definition": pa.Column(str, pa.Check.isin(["resolution", "improvement"])),
    },
    checks=[pa.Check(lambda f: f["events"] <= f["n"], name="events <= n",
                     error="events must not exceed n")],
    strict=False,
    name="studies",
)

SCHEMAS = {
    paths.PATIENTS: PATIENTS_SCHEMA,
    paths.MEASUREMENTS: measurement_schema(),
    paths.THERAPIES: THERAPIES_SCHEMA,
    paths.STUDIES: STUDIES_SCHEMA,
}


def plain_words(check: str) -> str:
    """A pandera check name as a clinician would read it.

    Examples
    --------
    >>> plain_words("isin(['sledai2k', 'das28'])"), plain_words("in_range(0, 1200)")
    ('must be one of sledai2k, das28', 'must be between 0 and 1200')
    >>> plain_words("greater_than_or_equal_to(1)")
    'must be at least 1'
    """
    match = re.fullmatch(r"(\w+)\((.*)\)", check)
    if not match:
        return check
    name, argument = match.groups()
    try:
        value = ast.literal_eval(f"({argument},)")
    except (ValueError, SyntaxError):
        return check
    if name == "isin":
        return "must be one of " + ", ".join(map(str, value[0]))
    if name == "in_range" and len(value) >= 2:
        return f"must be between {value[0]:g} and {value[1]:g}"
    words = {"greater_than_or_equal_to": "at least", "less_than_or_equal_to": "at most",
             "greater_than": "more than", "less_than": "less than"}
    if name in words:
        return f"must be {words[name]} {value[0]:g}"
    if name == "str_matches" and value[0] == f"^{TIMEPOINT_PATTERN}$":
        return "must be letters, digits or _ only (such as baseline, last, m6)"
    return check


def validate(frame: pd.DataFrame, schema: pa.DataFrameSchema, source: str | Path,
             *, row_offset: int = 0, inplace: bool = False) -> pd.DataFrame:
    """Validate ``frame`` and report the first failure as one located line.

    Parameters
    ----------
    frame : DataFrame
        Typed table; its index is taken as the data row number (plus ``row_offset``).
    schema : pandera.DataFrameSchema
    source : str or Path
        The file the table came from, for the message.
    row_offset : int
        Added to index labels to give 1-based data rows.
    inplace : bool
        Let pandera check ``frame`` itself rather than a copy of it (no schema here
        coerces a type, so nothing is changed), for a caller that owns ``frame``.

    Raises
    ------
    InputError
        ``"<file>, row R (line L), column 'C': <check> (got <value>)"``.
    """
    try:
        return schema.validate(frame, lazy=True, inplace=inplace)
    except pa.errors.SchemaErrors as errors:
        cases = errors.failure_cases
        cases = cases.assign(_row=pd.to_numeric(cases["index"], errors="coerce"))
        first = cases.sort_values("_row", kind="stable", na_position="last").iloc[0]
        label = None if pd.isna(first["_row"]) else int(first["_row"])
        row = None if label is None else label + row_offset
        column = first["column"] if first["column"] in frame.columns else None
        check = plain_words(str(first["check"]))
        failure = first["failure_case"]
        if check == "column_in_dataframe":  # pandera names the missing column as the case
            raise InputError(source, "required column is missing", row=0,
                             column=str(failure)) from None
        if check.startswith(("field_uniqueness", "multiple_fields_uniqueness")):
            keys = list(schema.unique or [column])
            # pandera flags every copy; the error belongs to the first repeat.
            label = int(frame.duplicated(subset=keys, keep="first").idxmax())
            row = label + row_offset
            check = duplicate_message(keys)
            column = None
        elif check.startswith("value of"):  # row-wise range check (helpers.vocab.MEASURES)
            column, failure = "value", frame.at[label, "value"]
        if isinstance(failure, np.generic):
            failure = failure.item()
        shown = quote_value(failure) if isinstance(failure, str) else repr(failure)
        got = "" if row is None or column is None else f" (got {shown})"
        raise InputError(source, f"{check}{got}", row=row, column=column) from None


def validate_tables(tables: Mapping[str, pd.DataFrame], source: str | Path) -> dict:
    """Validate each tidy table against its schema (see :data:`SCHEMAS`)."""
    out = {}
    for name, frame in tables.items():
        out[name] = validate(frame, SCHEMAS[name], Path(source) / name, row_offset=1)
    return out


#: Words a computation leaves for a missing value (never typed by people: refused, as they
#: may hide a failed calculation).
_COMPUTED_MISSING = frozenset({"nan", "null", "none", "?"})
_DECIMAL_HINTS = {
    "mixed": "; the file has both decimal commas and decimal points: use one decimal mark",
    "comma-separated": "; a decimal comma in a comma-separated file: use decimal points, or "
                       "save the file with ';' as separator",
    "sheet": "; a decimal comma or a thousands separator? type the number as a number "
             "(1.234 or 1234)",
}


def _number_hint(cell: str, optional: bool, decimal: str = "point") -> str:
    """What to do about a common non-number, as the end of the message."""
    if optional and cell.lower() in ZERO_OR_MISSING:
        return ("; it could mean 0 or not recorded: write 0, or leave the cell empty for a "
                "missing value")
    if optional and cell.lower() in _COMPUTED_MISSING:
        return "; leave the cell empty for a missing value"
    if cell[:1] in "<>":
        return "; a value beyond a detection limit needs a number (such as the limit)"
    if cell.startswith("#") and cell.rstrip("!?").upper().lstrip("#") in (
            "DIV/0", "N/A", "VALUE", "REF", "NAME", "NUM", "NULL"):
        return "; a spreadsheet error: fix the formula, or leave the cell empty"
    if decimal == "grouped" and re.fullmatch(GROUPED_NUMBER, cell):
        return ("; in a file separated by ';' this could be a decimal or a number with a "
                "thousands separator: write decimals with a comma (1,5), thousands without "
                "a separator (1000)")
    if re.fullmatch(r"[+-]?[0-9]+,[0-9]+", cell):
        return _DECIMAL_HINTS.get(decimal, _DECIMAL_HINTS["comma-separated"])
    if re.fullmatch(r"[+-]?[0-9]{1,3}(\.[0-9]{3})+,[0-9]+", cell):
        return "; write the number without a thousands separator"
    return ""


def to_typed(text: pd.DataFrame, source: str | Path, *, decimal: str = "point"
             ) -> pd.DataFrame:
    """Convert a measurements table read as text into typed columns.

    ``month`` and ``value`` must be plain finite decimal numbers (``value`` may be empty
    for a missing measurement). Text cells that a spreadsheet would execute as formulas
    are refused rather than silently carried into outputs. ``decimal`` (the file's
    decimal mark as decoded: ``"point"``, ``"comma"``, ``"mixed"``,
    ``"comma-separated"``, ``"sheet"``) chooses the hint for a number written with a
    comma.

    Every check runs once per distinct cell of a column
    (:class:`~helpers.data.distinct.DistinctCells`): a registry repeats each measure,
    visit and unit, and most values, on many rows. The row named is still the first row
    that fails.
    """
    typed = {}
    # One column at a time, text before numbers: at a million patients each column's
    # codes are 72 MB.
    for column in ["patient_id", "measure", "timepoint", "unit"]:
        cells = DistinctCells(text[column]).strip()
        row = cells.first(cells.values.str.startswith(FORMULA_PREFIXES)
                          | (cells.values == ""))
        if row is not None:
            what = "is empty" if cells.at(row) == "" else "looks like a spreadsheet formula"
            raise InputError(source, f"{what} (got {quote_value(text.at[row, column])})",
                             row=row, column=column)
        # Two plain searches: a regular expression takes three times as long.
        row = cells.first(cells.values.str.contains("\n", regex=False)
                          | cells.values.str.contains("\r", regex=False))
        if row is not None:
            raise InputError(source, "cell contains a line break", row=row, column=column)
        typed[column] = cells.column()
    # ASCII only: \d would also match Arabic-Indic or fullwidth digits, which pandas then
    # cannot convert.
    number = r"^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?$"
    for column, optional in [("month", False), ("value", True)]:
        cells = DistinctCells(text[column]).strip()
        # No plausible measurement needs 64 characters; far longer digit strings would
        # also exceed Python's limit for converting text to integers.
        row = cells.first(cells.values.str.len() > 64)
        if row is not None:
            raise InputError(source, f"is too long to be a number ({len(cells.at(row)):,} "
                             f"characters: {quote_value(cells.at(row))})", row=row,
                             column=column)
        ok = cells.values.str.match(number) | (optional & (cells.values == ""))
        if decimal == "grouped":  # 1.000 in a file of a comma-decimal locale
            ok &= ~cells.values.str.fullmatch(GROUPED_NUMBER)
        row = cells.first(~ok)
        if row is not None:
            raise InputError(source, "is not a finite number (got "
                             f"{quote_value(text.at[row, column])})"
                             f"{_number_hint(cells.at(row), optional, decimal)}", row=row,
                             column=column)
        values = _parsed_numbers(cells.values)
        row = cells.first(~np.isfinite(values) & cells.values.ne(""))
        if row is not None:
            raise InputError(source, f"is too large to be a number (got "
                             f"{quote_value(cells.at(row))})", row=row, column=column)
        typed[column] = values.to_numpy()[cells.codes]
    del cells
    return pd.DataFrame({column: typed[column] for column in MEASUREMENT_COLUMNS},
                        index=text.index)


def _parsed_numbers(cells: pd.Series) -> pd.Series:
    """Cells already matched as decimal numbers (or empty: missing), as floats.

    Arrow's cast parses a million cells in a few milliseconds (correctly rounded, as
    pandas' parser is); text that is not an Arrow string column goes through pandas.
    """
    column = pyarrow.array(cells.array) if cells.dtype != object else None
    if column is not None and (pyarrow.types.is_string(column.type)
                               or pyarrow.types.is_large_string(column.type)):
        parsed = pc.if_else(pc.equal(column, ""), None, column).cast(pyarrow.float64())
        return pd.Series(parsed.to_numpy(zero_copy_only=False), index=cells.index,
                         name=cells.name, dtype=float)
    return pd.to_numeric(cells.replace("", np.nan), errors="raise").astype(float)


def check_measurements(text: pd.DataFrame, source: str | Path, *,
                       factor: np.ndarray | None = None,
                       measures: Iterable[str] | None = None,
                       codebook: Codebook = MEASURES, decimal: str = "point") -> pd.DataFrame:
    """Validate a tidy table of text cells and return it typed.

    Parameters
    ----------
    text : DataFrame
        Columns :data:`~helpers.vocab.MEASUREMENT_COLUMNS`, text; index the data row.
        Handed over: its ``month`` and ``value`` columns are dropped once typed.
    source : str or Path
        The file, for messages.
    factor : ndarray, optional
        Per row, the factor that converts ``value`` to the codebook's unit (applied
        before the ranges are checked).
    measures : iterable of str, optional
        Allowed values of ``measure``; default every measure of ``codebook``.
    codebook : Codebook
    decimal : str
        The file's decimal mark, for hints (:func:`to_typed`).

    Returns
    -------
    DataFrame
        Tidy and typed: ``month`` and ``value`` float (``value`` may be NaN);
        ``patient_id`` int when every label is a whole number written without leading
        zeros or sign (so ``1``, ``2``, ``10`` sort as numbers), else text exactly as
        written (``001``, ``PT-001``).

    Raises
    ------
    InputError
        The first problem, located at the data row and column of ``text``.
    """
    typed = to_typed(text, source, decimal=decimal)
    # The numbers' text is not needed again: let it go before the checks below (190 MB
    # at a million patients). The text columns stay, shared with the typed table.
    del text["month"], text["value"]
    if factor is not None and (factor != 1).any():
        typed["value"] = typed["value"] * factor
    allowed = list(codebook) if measures is None else list(measures)
    present = set(typed["measure"].unique())
    typed = validate(typed, measurement_schema(allowed, codebook, ranges=[
        code for code in allowed if code in present], unique=False), source, inplace=True)
    # Integer codes keep the checks below fast for millions of rows, built in place (at a
    # million patients each temporary is another 72 MB). to_typed had such codes, and let
    # them go column by column: held through pandera's checks, the three would take the
    # peak past 2 GiB there. One row per patient, measure and visit: the first row that
    # repeats an earlier one, found on the codes.
    patient, patients = pd.factorize(typed["patient_id"])
    key, _ = pd.factorize(typed["measure"])
    key *= len(patients)
    key += patient
    row_key, visits = pd.factorize(typed["timepoint"])
    row_key += key * len(visits)
    repeat = first_repeat(row_key)
    del row_key
    if repeat is not None:
        raise InputError(source, duplicate_message(UNIQUE_KEY), row=int(typed.index[repeat]))
    if typed["value"].isna().all():  # formulas without values, or an empty template
        raise InputError(source, "has no values: every measurement cell is empty",
                         row=int(typed.index[0]), column="value")
    is_baseline = typed["timepoint"] == BASELINE
    if is_baseline.all():
        raise InputError(source, f"every row is a {BASELINE!r} row; at least one follow-up "
                         "visit is needed to compare", row=int(typed.index[0]),
                         column="timepoint")
    if not is_baseline.any():
        raise InputError(source, f"no row is a {BASELINE!r} row: every change is measured "
                         "from the visit before anifrolumab", row=int(typed.index[0]),
                         column="timepoint")
    # Every follow-up needs a baseline for the same patient and measure, dated before it.
    baseline_month = np.full(key.max() + 1, np.nan)
    baseline_month[key[is_baseline.to_numpy()]] = typed.loc[is_baseline, "month"].to_numpy()
    orphan = np.isnan(baseline_month[key])
    earlier = ~is_baseline.to_numpy() & (typed["month"].to_numpy() < baseline_month[key])
    for bad, column in ((orphan, "timepoint"), (earlier, "month")):
        if bad.any():
            position = int(bad.argmax())
            row = typed.index[position]
            follow_up = f"follow-up '{typed.at[row, 'timepoint']}'"
            problem = (f"of {typed.at[row, 'measure']} for patient "
                       f"{typed.at[row, 'patient_id']} has no baseline row"
                       if column == "timepoint" else
                       f"is dated month {typed.at[row, 'month']:g}, before its baseline "
                       f"(month {baseline_month[key[position]]:g})")
            raise InputError(source, f"{follow_up} {problem}", row=row, column=column)
    # A million patients' codes are 72 MB an array: let them go before the ids are built.
    del key, baseline_month, orphan, earlier, is_baseline
    typed["patient_id"] = whole_number_ids(typed["patient_id"], factorized=(patient, patients))
    return typed.reset_index(drop=True)
