"""Schemas of the tidy tables (pandera), and strict reading of a measurements file.

Two stages, so that every message says exactly what is wrong:

1. :func:`to_typed` turns text cells into numbers, reporting the first cell that is not
   a finite number (``"NaN"``, ``"inf"``, ``"=1+1"``, ``"7,2"`` ...);
2. a pandera schema checks types, allowed values, ranges and uniqueness on the typed
   table; :func:`validate` reports its first failure as one
   :class:`~helpers.errors.InputError` line naming file, row and column.

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

from helpers import paths
from helpers.errors import InputError, quote_value
from helpers.io import FORMULA_PREFIXES
from helpers.data.shapes import read_cohort_text
from helpers.vocab import (BASELINE, MEASURE_CODES, MEASUREMENT_COLUMNS, MEASURES, Codebook,
                           Measure)



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


def measurement_schema(measures: Iterable[str] = MEASURE_CODES,
                       codebook: Mapping[str, Measure] = MEASURES) -> pa.DataFrameSchema:
    """The tidy measurements schema (docs/architecture.md, "Contracts") for ``measures``.

    Ranges come from ``codebook`` (the built-in :data:`helpers.vocab.MEASURES` by
    default), which must define every measure.
    """
    measures = list(measures)
    return pa.DataFrameSchema(
        {
            # Ours are integers, a user's may be any non-empty label.
            "patient_id": pa.Column(checks=pa.Check(lambda s: s.astype(str).str.len() > 0,
                                                    name="patient_id must not be empty")),
            "measure": pa.Column(str, pa.Check.isin(measures)),
            "timepoint": pa.Column(str, pa.Check.str_matches(r"^[A-Za-z0-9_]+$")),
            "month": pa.Column(checks=pa.Check.in_range(0, 1200)),
            "value": pa.Column(float, nullable=True),
            "unit": pa.Column(str),
        },
        checks=_measure_range_checks(codebook, measures),
        unique=["patient_id", "measure", "timepoint"],
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
    if name == "str_matches" and value[0] == r"^[A-Za-z0-9_]+$":
        return "must be letters, digits or _ only (such as baseline, last, m6)"
    return check


def validate(frame: pd.DataFrame, schema: pa.DataFrameSchema, source: str | Path,
             *, row_offset: int = 0) -> pd.DataFrame:
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

    Raises
    ------
    InputError
        ``"<file>, row R (line L), column 'C': <check> (got <value>)"``.
    """
    try:
        return schema.validate(frame, lazy=True)
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
            check = f"duplicate of an earlier row with the same {', '.join(keys)}"
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


#: What people type for a missing measurement instead of leaving the cell empty.
_MISSING_WORDS = frozenset({"na", "n/a", "nan", "nd", "n.d.", "none", "missing", "-", "?"})


def _number_hint(cell: str, optional: bool) -> str:
    """What to do about a common non-number, as the end of the message."""
    if optional and cell.lower() in _MISSING_WORDS:
        return "; leave the cell empty for a missing value"
    if cell[:1] in "<>":
        return "; a value beyond a detection limit needs a number (such as the limit)"
    return ""


def to_typed(text: pd.DataFrame, source: str | Path) -> pd.DataFrame:
    """Convert a measurements table read as text into typed columns.

    ``month`` and ``value`` must be plain finite decimal numbers (``value`` may be empty
    for a missing measurement). Text cells that a spreadsheet would execute as formulas
    are refused rather than silently carried into outputs.
    """
    for column in ["patient_id", "measure", "timepoint", "unit"]:
        cells = text[column].str.strip()
        bad = cells.str.startswith(FORMULA_PREFIXES) | (cells == "")
        if bad.any():
            row = int(bad.idxmax())
            what = "is empty" if cells[row] == "" else "looks like a spreadsheet formula"
            raise InputError(source, f"{what} (got {quote_value(text.at[row, column])})",
                             row=row, column=column)
    typed = text[MEASUREMENT_COLUMNS].apply(lambda s: s.str.strip())
    # ASCII only: \d would also match Arabic-Indic or fullwidth digits, which pandas then
    # cannot convert.
    number = r"^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?$"
    for column, optional in [("month", False), ("value", True)]:
        cells = typed[column]
        # No plausible measurement needs 64 characters; far longer digit strings would
        # also exceed Python's limit for converting text to integers.
        long = cells.str.len() > 64
        if long.any():
            row = int(long.idxmax())
            raise InputError(source, f"is too long to be a number ({len(cells[row]):,} "
                             f"characters: {quote_value(cells[row])})", row=row,
                             column=column)
        ok = cells.str.match(number) | (optional & (cells == ""))
        if not ok.all():
            row = int((~ok).idxmax())
            raise InputError(source, "is not a finite number (got "
                             f"{quote_value(text.at[row, column])})"
                             f"{_number_hint(cells[row], optional)}", row=row, column=column)
        values = pd.to_numeric(cells.replace("", np.nan), errors="raise").astype(float)
        huge = ~np.isfinite(values) & cells.ne("")
        if huge.any():
            row = int(huge.idxmax())
            raise InputError(source, f"is too large to be a number (got "
                             f"{quote_value(cells[row])})", row=row, column=column)
        typed[column] = values
    return typed


def read_measurements(path: str | Path, measures: Iterable[str] | None = MEASURE_CODES,
                      *, codebook: Codebook = MEASURES, sheet: str | None = None
                      ) -> pd.DataFrame:
    """Read and validate a measurements file (ours or a user's cohort).

    Parameters
    ----------
    path : str or Path
        CSV, xlsx or Parquet; tidy (exactly the columns ``patient_id, measure, timepoint,
        month, value, unit``) or wide (``patient_id`` and ``<measure>_<timepoint>``
        columns), see :mod:`helpers.data.shapes`.
    measures : iterable of str or None, default the paper's three
        Allowed values of ``measure``; None allows every measure of ``codebook``.
    codebook : Codebook, default the built-in codebook
        Defines each measure's unit and valid range.
    sheet : str, optional
        The sheet of an xlsx file (default: the first).

    Returns
    -------
    DataFrame
        Tidy and typed: ``month`` and ``value`` float (``value`` may be NaN);
        ``patient_id`` int when every label is a plain integer, else str.

    Raises
    ------
    InputError
        On the first problem: one line naming file, row and column (the spreadsheet row
        for xlsx, the wide column for a wide file).
    """
    path = Path(path)
    text, locator, _shape = read_cohort_text(path, codebook, sheet=sheet)
    try:
        return _check_measurements(text, measures, codebook, path)
    except InputError as error:
        raise locator.relocate(error) from None


def _check_measurements(text: pd.DataFrame, measures: Iterable[str] | None,
                        codebook: Codebook, path: Path) -> pd.DataFrame:
    typed = to_typed(text, path)
    allowed = list(codebook) if measures is None else list(measures)
    _check_measures_and_units(typed, allowed, codebook, path)
    typed = validate(typed, measurement_schema(allowed, codebook), path)
    is_baseline = typed["timepoint"] == BASELINE
    if is_baseline.all():
        raise InputError(path, f"every row is a {BASELINE!r} row; at least one follow-up "
                         "visit is needed to compare", row=1, column="timepoint")
    # Every follow-up needs a baseline for the same patient and measure, dated before it.
    # (Integer codes per patient and measure keep this fast for millions of rows.)
    key, _ = pd.factorize(typed["patient_id"] + "\x00" + typed["measure"])
    baseline_month = np.full(key.max() + 1, np.nan)
    baseline_month[key[is_baseline.to_numpy()]] = typed.loc[is_baseline, "month"].to_numpy()
    orphan = np.isnan(baseline_month[key])
    if orphan.any():
        row = typed.index[int(orphan.argmax())]
        raise InputError(path, f"follow-up '{typed.at[row, 'timepoint']}' of "
                         f"{typed.at[row, 'measure']} for patient "
                         f"{typed.at[row, 'patient_id']} has no baseline row", row=row,
                         column="timepoint")
    earlier = ~is_baseline.to_numpy() & (typed["month"].to_numpy() < baseline_month[key])
    if earlier.any():
        row = typed.index[int(earlier.argmax())]
        raise InputError(path, f"follow-up '{typed.at[row, 'timepoint']}' is dated month "
                         f"{typed.at[row, 'month']:g}, before its baseline (month "
                         f"{baseline_month[key[earlier.argmax()]]:g})", row=row,
                         column="month")
    # Integer labels ("1", "2", ...) become integers, so they sort numerically and join
    # with patients.csv; anything else ("P-01", "007") stays text.
    ids = typed["patient_id"]
    if ids.str.fullmatch(r"0|[1-9][0-9]{0,17}").all():  # ASCII digits only
        typed["patient_id"] = ids.astype("int64")
    return typed.reset_index(drop=True)


def _check_measures_and_units(typed: pd.DataFrame, allowed: list[str], codebook: Codebook,
                              path: Path) -> None:
    """Every measure is declared in the codebook, and given in the codebook's unit.

    Checked on the distinct values (a million-patient file has a handful), and only the
    first offending row is looked up.
    """
    codes = typed["measure"]
    undeclared = [code for code in codes.unique() if code not in codebook]
    if undeclared:
        row = int(codes.isin(undeclared).idxmax())
        code = codes[row]
        hint = (f"codes are lower case: {code.lower()!r}" if code.lower() in codebook else
                "declare it in a codebook (CODEBOOK=codebook.csv)")
        raise InputError(path, f"measure {quote_value(code)} is not in {codebook.source}; "
                         f"{hint}", row=row, column="measure")

    # A value in another unit (CRP in mg/dL instead of mg/L) would be silently wrong by
    # a factor; the unit is compared as written, ignoring case and spaces. (A declared
    # measure that is not allowed is the schema's to report.)
    def same(unit: str, expected: str) -> bool:
        return unit.replace(" ", "").lower() == expected.replace(" ", "").lower()

    wrong = [(code, unit) for code, unit in typed[["measure", "unit"]].drop_duplicates(
             ).itertuples(index=False) if code in allowed and not same(unit, codebook[code].unit)]
    if wrong:
        rows = [int(((codes == code) & (typed["unit"] == unit)).idxmax()) for code, unit in wrong]
        row = min(rows)
        code = codes[row]
        raise InputError(path, f"unit {quote_value(typed.at[row, 'unit'])} of {code} is not "
                         f"{codebook[code].unit!r}, the unit of {codebook.source}; convert the "
                         "values or declare the measure in a codebook", row=row,
                         column="unit")
