"""Stage 3 of reading a file: the table's shape, turned into one long table.

A located table (:mod:`helpers.data.locate`) comes in one of four shapes, recognised by
its column names (:mod:`helpers.data.names`), never by the file's name:

- **tidy**: one row per patient, measure and visit: a patient id, a measure column
  (``measure``, ``parameter``, ``esame``...), a value column (``value``, ``result``,
  ``risultato``...), and a visit (``timepoint``, ``visit``), a ``month`` or a visit
  ``date``; a ``unit`` column is optional;
- **wide**: one row per patient, one column per measure and visit (``das28_baseline``,
  ``DAS28 (VES) T6``, ``crp_mg_dl_m6``, ``Baseline SLEDAI-2K``);
- **visit rows**: one row per patient and visit: a patient id, a visit, month or date
  column, and one column per measure (``DAS28``, ``CRP (mg/dL)``);
- **REDCap**: the visit rows REDCap exports (``record_id``, ``redcap_event_name`` such
  as ``month_6_arm_1``, or the label export's ``Record ID``, ``Event Name``): rows of
  repeating instruments and REDCap's bookkeeping columns are left out.

:func:`to_long` returns one :class:`Long` table of text cells with the columns of
:data:`LONG_COLUMNS` (measure names and visit labels still as written, for
:mod:`helpers.data.interpret` to read) and a :class:`~helpers.data.locate.Locator` that
maps every long row back to the file's row and column.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from helpers.data.locate import Table
from helpers.data.names import (MeasureIndex, column_role, measure_prefix, parse_column,
                                visit_split)
from helpers.errors import quote_value
from helpers.vocab import name_key

__all__ = ["LONG_COLUMNS", "Long", "recognises", "to_long"]

#: Columns of the long table: the measure and the visit as written, with the month,
#: visit date and treatment start when the file gives them, and the unit it states.
LONG_COLUMNS = ["patient_id", "measure", "visit", "month", "date", "start", "value", "unit"]


@dataclass
class Long:
    """A table reshaped to one row per patient, measure and visit, all text.

    Attributes
    ----------
    frame : DataFrame
        Columns :data:`LONG_COLUMNS`; index the long row, 1..n.
    locator : Locator
        Maps long rows to the file.
    shape : str
        ``"tidy"``, ``"wide"``, ``"visit rows"`` or ``"REDCap"``.
    notes : list of str
        What reshaping decided.
    unit_source : str
        Where the ``unit`` cells come from: ``"unit column"`` or ``"column names"``.
    """

    frame: pd.DataFrame
    locator: object
    shape: str
    notes: list[str] = field(default_factory=list)
    unit_source: str = "column names"


def recognises(index: MeasureIndex):
    """The header test of a measurements table: a column name this stage can use."""
    def recognise(name: str) -> bool:
        role = column_role(name)
        if role not in (None, "redcap"):
            return True
        return parse_column(name, index) is not None or visit_split(name) is not None
    return recognise


def to_long(table: Table, index: MeasureIndex, *, measures: Sequence[str] | None = None,
            start: str | None = None) -> Long:
    """Reshape a located table of measurements into the long table.

    Parameters
    ----------
    table : Table
    index : MeasureIndex
        The codebook's measure names.
    measures : sequence of str, optional
        The measures chosen (``MEASURES=``): a column of another, undeclared measure is
        then left out with a note instead of stopping the run.
    start : str, optional
        The column that holds each patient's treatment start (``START=column``), whatever
        its name.

    Returns
    -------
    Long

    Raises
    ------
    InputError
        No patient id column; a shape that cannot be told; a column that nearly names a
        known measure; an undeclared measure; two columns for one measure and visit; an
        empty or repeated patient id (wide).
    """
    names = table.columns
    roles = {name: "start" if name == start else column_role(name) for name in names}
    fail = table.locator.error
    id_column = next((n for n in names if roles[n] == "id"), None)
    if id_column is None:
        raise fail("has no patient id column; name it patient_id (or ID, Patient, "
                   "record_id)", row=0)
    by_role = {}
    for name in names:
        if roles[name] not in (None, "id", "redcap") and roles[name] not in by_role:
            by_role[roles[name]] = name
    if "measure" in by_role and "value" in by_role:
        return _tidy(table, id_column, by_role)
    columns = {name: parse_column(name, index) for name in names if roles[name] is None}
    visited = {n: c for n, c in columns.items() if c is not None and c.visit is not None}
    plain = {n: c for n, c in columns.items() if c is not None and c.visit is None}
    others = [n for n in names if roles[n] is None and columns.get(n) is None]
    if by_role.keys() & {"timepoint", "month", "date"} and (plain or not visited):
        return _visit_rows(table, id_column, by_role, plain, others, index)
    if visited:
        return _wide(table, id_column, visited, others, index, measures, by_role)
    if plain:
        listed = ", ".join(quote_value(n) for n in list(plain)[:3])
        raise fail(f"columns {listed} name measures but no visit: add a visit column (one "
                   "row per patient and visit), or name them with their visit, such as "
                   "das28_baseline and das28_m6 (one row per patient)", row=0)
    raise fail("names no measure: expected a tidy table (patient_id, measure, timepoint, "
               "month, value, unit), one column per measure and visit (das28_baseline, "
               "das28_m6), or one row per visit (patient_id, visit, das28)", row=0)


def _tidy(table: Table, id_column: str, by_role: dict) -> Long:
    body = table.body
    if not by_role.keys() & {"timepoint", "month", "date"}:
        raise table.locator.error("has no visit column: add timepoint (baseline, m6, ...) "
                                  "or month (months since anifrolumab start)", row=0)
    renamed = {"patient_id": id_column, **{role: by_role[role] for role in
                                           ("measure", "value", "unit", "month", "date",
                                            "start") if role in by_role}}
    if "timepoint" in by_role:
        renamed["visit"] = by_role["timepoint"]
    frame = pd.DataFrame({column: body[renamed[column]] if column in renamed else ""
                          for column in LONG_COLUMNS}, index=body.index, dtype=str)
    used = set(renamed.values())
    notes = _unused_note([n for n in table.columns if n not in used])
    names = {"timepoint": renamed.get("visit", renamed.get("month", "")),
             **{k: v for k, v in renamed.items() if k != "visit"}}
    return Long(frame, table.locator.renamed(names), "tidy", notes, "unit column")


def _unused_note(columns: list[str]) -> list[str]:
    if not columns:
        return []
    shown = ", ".join(quote_value(c) for c in columns[:5])
    return [f"column{'s' if len(columns) > 1 else ''} {shown}{' ...' if len(columns) > 5 else ''}"
            " not analysed"]


def _check_ids(table: Table, id_column: str, *, unique: bool) -> pd.Series:
    ids = table.body[id_column].str.strip()
    empty = ids == ""
    if empty.any():
        raise table.locator.error("is empty: every row needs its patient's id",
                                  row=int(ids.index[empty.to_numpy().argmax()]),
                                  column=id_column)
    if unique:
        repeated = ids.duplicated()
        if repeated.any():
            row = int(ids.index[repeated.to_numpy().argmax()])
            raise table.locator.error(f"patient {quote_value(ids[row])} has a second row; a "
                                      "file with one column per visit has one row per "
                                      "patient", row=row, column=id_column)
    return ids


def _wide(table: Table, id_column: str, visited: dict, others: list[str],
          index: MeasureIndex, measures: Sequence[str] | None, by_role: dict) -> Long:
    fail = table.locator.error
    start = by_role.pop("start", None)
    month_column = by_role.pop("month", None)
    # A visit or date column has no meaning beside visits in the column names.
    dates, notes = _wide_other_columns(others + list(by_role.values()), index, measures,
                                       fail)
    ids = _check_ids(table, id_column, unique=True)
    seen = {}
    for name, column in visited.items():
        key = (column.measure, column.visit.timepoint)
        if key in seen:
            raise fail(f"is the same measure and visit as column {seen[key]!r}", row=0,
                       column=name)
        seen[key] = name
    keys = list(visited)
    n = len(ids)
    body = table.body
    month_of = _follow_up_months(visited, month_column, body, fail)
    empty = np.full(n, "", dtype=object)

    def per_visit(columns_of: dict) -> np.ndarray:
        """The cells of each visit's own column (dates, months), visit by visit."""
        return np.concatenate([columns_of.get(visited[k].visit.timepoint, empty)
                               for k in keys]) if keys else np.array([], dtype=object)

    frame = pd.DataFrame({
        "patient_id": np.tile(ids.to_numpy(dtype=object), len(keys)),
        "measure": np.repeat([visited[k].measure for k in keys], n),
        "visit": np.repeat([visited[k].visit_text for k in keys], n),
        "month": per_visit(month_of),
        "date": per_visit({visit: body[name].to_numpy(dtype=object)
                           for visit, name in dates.items()}),
        "start": np.tile(body[start].to_numpy(dtype=object), len(keys)) if start else "",
        "value": np.concatenate([body[k].to_numpy(dtype=object) for k in keys]),
        "unit": np.repeat([visited[k].unit or "" for k in keys], n),
    }, dtype=str)
    frame.index = pd.RangeIndex(1, len(frame) + 1)
    names = {"patient_id": id_column, **({"start": start} if start else {}),
             **({"month": month_column} if month_column else {})}
    from_header = {"measure", "timepoint", "unit"} | ({"month"} if not month_column else set())
    locator = table.locator.reshaped(np.tile(body.index.to_numpy(), len(keys)),
                                     np.repeat(keys, n), names, frozenset(from_header))
    notes.insert(0, f"one column per measure and visit ({len(keys)} columns)")
    if month_column:
        notes.append(f"months of the follow-up visit from column {quote_value(month_column)}")
    notes += _renamed_note(visited)
    return Long(frame, locator, "wide", notes)


def _wide_other_columns(others: list[str], index: MeasureIndex,
                        measures: Sequence[str] | None, fail) -> tuple[dict, list[str]]:
    """What a wide file's other columns are: visit dates (``data T0``), extra data
    (``Età``), or measures the codebook does not know, which stop the run unless
    ``MEASURES=`` chose others (a near miss always stops it, with a suggestion).

    Returns the date column of each visit, and the notes naming the columns left out.
    """
    dates, unused, skipped = {}, [], []
    for name in others:
        split = visit_split(name)
        if split is None:
            prefix = measure_prefix(name, index)
            if prefix is not None and not measures:
                code, rest = prefix
                raise fail(f"starts with the measure {code} but its visit "
                           f"{quote_value(rest)} cannot be read: name visits baseline (or "
                           "T0, BL), M6, 6 mesi, W24 or V2, or choose the measures with "
                           "MEASURES=", row=0, column=name)
            unused.append(name)
            continue
        rest, visit = split
        if column_role(rest) == "date":
            dates[visit.timepoint] = name
        elif column_role(name) is not None:
            unused.append(name)
        elif (near := index.suggest(rest)) is not None:
            raise fail(f"{quote_value(rest)} is not a measure of the codebook; did you mean "
                       f"{near!r} ({index.measure(near).name})?", row=0, column=name)
        elif measures:
            skipped.append(name)
        else:
            raise fail(f"measure {quote_value(rest)} is not in {index.codebook.source}; "
                       "declare it in a codebook (CODEBOOK=codebook.csv), or choose the "
                       "measures to analyse with MEASURES=", row=0, column=name)
    return dates, _unused_note(skipped) + _unused_note(unused)


def _follow_up_months(visited: dict, month_column: str | None, body: pd.DataFrame,
                      fail) -> dict[str, np.ndarray]:
    """The months a per-patient month column gives: those of the one follow-up visit whose
    label does not say its month (the paper's "last clinical evaluation")."""
    if month_column is None:
        return {}
    undated = sorted({c.visit.timepoint for c in visited.values()
                      if c.visit.month is None and not c.visit.baseline})
    if len(undated) != 1:
        what = ("no visit lacks one" if not undated else
                f"visits {', '.join(map(quote_value, undated))} all lack one")
        raise fail(f"gives one month per patient, for the follow-up visit whose name does not "
                   f"say its month, but {what}; name visits with their month (M6) or leave "
                   "this column out", row=0, column=month_column)
    return {undated[0]: body[month_column].to_numpy(dtype=object)}


def _redcap(table: Table, id_column: str, by_role: dict
            ) -> tuple[str, str | None, np.ndarray, list[str]]:
    """Whether visit rows are a REDCap export (``record_id``, ``redcap_event_name`` or the
    label export's names), and its rows of repeating instruments, which are not visits.

    Returns the shape's name, the repeat-instrument column (or None), the rows to keep and
    a note on the rows left out.
    """
    body, notes = table.body, []
    keep = np.ones(len(body), dtype=bool)
    repeat = next((n for n in table.columns if n.lower().replace(" ", "_") in
                   ("redcap_repeat_instrument", "repeat_instrument")), None)
    visit_column = by_role.get("timepoint")
    redcap_event = visit_column is not None and visit_column.replace(" ", "_").lower() in (
        "redcap_event_name", "event_name")
    shape = ("REDCap" if redcap_event or id_column.replace(" ", "_").lower() == "record_id"
             else "visit rows")
    if repeat is not None:
        repeated = (body[repeat].str.strip() != "").to_numpy()
        if repeated.any():
            kinds = sorted(set(body.loc[repeated, repeat].str.strip()))
            notes.append(f"{int(repeated.sum())} rows of repeating instruments "
                         f"({', '.join(map(quote_value, kinds[:3]))}) are not visits: left out")
            keep &= ~repeated
    return shape, repeat, keep, notes


def _renamed_note(columns: dict) -> list[str]:
    """Measures whose columns call them by another name (``DAS28 (VES) T0`` = das28_esr),
    one column named per measure."""
    renamed = {}
    for name, column in columns.items():
        if name_key(column.measure_text) != name_key(column.measure):
            renamed.setdefault(column.measure, name)
    if not renamed:
        return []
    return ["measures: " + ", ".join(f"{quote_value(name)} = {code}" for code, name in
                                     list(renamed.items())[:8])]


def _visit_rows(table: Table, id_column: str, by_role: dict, plain: dict,
                others: list[str], index: MeasureIndex) -> Long:
    body = table.body
    fail = table.locator.error
    shape, repeat, keep, notes = _redcap(table, id_column, by_role)
    for name in others:
        near = index.suggest(name)
        if near is not None:
            raise fail(f"{quote_value(name)} is not a measure of the codebook; did you mean "
                       f"{near!r} ({index.measure(near).name})?", row=0, column=name)
    if not plain:
        raise fail("has a visit column but no measure column (such as das28, sledai2k, "
                   "crp)", row=0)
    seen = {}
    for name, column in plain.items():
        if column.measure in seen:
            raise fail(f"is the same measure as column {seen[column.measure]!r}", row=0,
                       column=name)
        seen[column.measure] = name
    body = body[keep]
    sub = Table(body, table.locator, table.notes)
    ids = _check_ids(sub, id_column, unique=False)
    keys = list(plain)
    n = len(body)

    def repeated(role):
        column = by_role.get(role)
        if column is None:
            return ""
        return np.tile(body[column].to_numpy(dtype=object), len(keys))

    frame = pd.DataFrame({
        "patient_id": np.tile(ids.to_numpy(dtype=object), len(keys)),
        "measure": np.repeat([plain[k].measure for k in keys], n),
        "visit": repeated("timepoint"),
        "month": repeated("month"),
        "date": repeated("date"),
        "start": repeated("start"),
        "value": np.concatenate([body[k].to_numpy(dtype=object) for k in keys]),
        "unit": np.repeat([plain[k].unit or "" for k in keys], n),
    }, dtype=str)
    frame.index = pd.RangeIndex(1, len(frame) + 1)
    visit_file_column = (by_role.get("timepoint") or by_role.get("month")
                         or by_role.get("date"))
    names = {"patient_id": id_column, "timepoint": visit_file_column,
             "month": by_role.get("month") or by_role.get("date") or visit_file_column,
             **{role: by_role[role] for role in ("date", "start") if role in by_role}}
    locator = table.locator.reshaped(np.tile(body.index.to_numpy(), len(keys)),
                                     np.repeat(keys, n), names,
                                     frozenset({"measure", "unit"}))
    used = {id_column, *by_role.values(), *plain}
    unused = [c for c in table.columns if c not in used and column_role(c) != "redcap"
              and c != repeat]
    notes.insert(0, f"one row per patient and visit ({len(keys)} measure column"
                    f"{'s' if len(keys) > 1 else ''})")
    notes += _renamed_note(plain) + _unused_note(unused)
    return Long(frame, locator, shape, notes)
