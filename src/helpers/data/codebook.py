"""A user's codebook: the measures of their cohort, declared in a CSV file.

``make analysis ... CODEBOOK=codebook.csv`` reads a file with the columns

========================  ==================================================================
``measure``               the code used in the data (letters, digits and ``_``)
``label``                 name in text, tables and figures (``DAS28-ESR``)
``unit``                  the unit the values are in (``mg/L``); may be empty
``min``, ``max``          valid range, inclusive; values outside are input errors
``integer``               ``yes`` when only whole numbers are valid
``lower_is_better``       ``yes`` when a fall is an improvement
``mcid`` (optional)       minimal clinically important difference, in the unit
``thresholds`` (optional) clinical cut-offs of the level, ``;``-separated, drawn on the
                          measure's figures: as reference lines, or as the edges of
                          shaded bands when ``categories`` names them
``categories`` (optional) names of the categories the thresholds separate, lowest
                          first, ``;``-separated (one more than the thresholds:
                          ``Remission;Low;Moderate;High``)
``change_thresholds``     improvements a change from baseline is compared with, in the
(optional)                unit, ``;``-separated; drawn on the figures of change
``change_name`` (optional) what those are, for their labels (``EULAR``)
``aliases`` (optional)    other names of the measure in files, ``;``-separated
                          (``HAQ-DI;HAQ``); compared ignoring case, spaces and punctuation
``conversions`` (optional) other units and the factor to ``unit``, ``;``-separated
                          (``mg/dL=10`` for a unit of ``mg/L``)
========================  ==================================================================

Its rows extend the built-in codebook (:data:`helpers.vocab.MEASURES`) and replace
built-in measures of the same code (keeping the built-in aliases when the row gives
none, its conversions when the unit is the same, its categories when the thresholds are
the same, and its change thresholds when the row gives none). A new measure may not take a name
of a built-in one (``sledai_2k`` *is* ``sledai2k``: data columns named so are read as
it without a codebook), and a measure that a response criterion uses keeps its unit
(the criteria's cut-offs are in it). :func:`codebook_table` writes a codebook back in the
same format, so that an analysis folder records the definitions it used.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import pandas as pd

from helpers import paths
from helpers.data.decode import decode
from helpers.data.names import MeasureIndex, NameClash
from helpers.errors import InputError, quote_value
from helpers.formats import format_float
from helpers.vocab import (BASELINE, DAS28_MEASURES, MEASURES, Codebook, Measure, name_key,
                           parse_yes_no)

__all__ = ["CODEBOOK_COLUMNS", "OPTIONAL_COLUMNS", "codebook_table", "load_codebook",
           "read_codebook", "select_outcomes"]

#: Required columns of a codebook file, in order.
CODEBOOK_COLUMNS = ["measure", "label", "unit", "min", "max", "integer", "lower_is_better"]
#: Optional columns of a codebook file.
OPTIONAL_COLUMNS = ["mcid", "thresholds", "aliases", "conversions", "categories",
                    "change_thresholds", "change_name"]
#: Measures the response criteria read, in the units their cut-offs are in
#: (:mod:`helpers.scores`): a codebook may not change these units.
CRITERIA_MEASURES = (*DAS28_MEASURES, "sledai2k", "gc_mg_day")
# A code becomes part of wide column names (<measure>_<timepoint>) and file names.
_CODE = re.compile(r"[a-z][a-z0-9_]{0,39}")


def read_codebook(path: str | Path) -> list[Measure]:
    """Read and check a codebook CSV.

    Parameters
    ----------
    path : str or Path
        CSV with the columns :data:`CODEBOOK_COLUMNS` and optionally
        :data:`OPTIONAL_COLUMNS`.

    Returns
    -------
    list of Measure
        In file order.

    Raises
    ------
    InputError
        One line naming the file, row and column: a missing or unknown column, a bad
        code, a repeated measure, an empty label, a range that is not a number or has
        ``min > max``, a yes/no that is neither, a threshold outside the range.
    """
    path = Path(path)
    text = _read_text(path)
    header = list(text.columns)
    missing = [c for c in CODEBOOK_COLUMNS if c not in header]
    if missing:
        raise InputError(path, f"required codebook column is missing; a codebook has "
                         f"{', '.join(CODEBOOK_COLUMNS)} and optionally "
                         f"{', '.join(OPTIONAL_COLUMNS)}", row=0, column=missing[0])
    extra = [c for c in header if c not in CODEBOOK_COLUMNS + OPTIONAL_COLUMNS]
    if extra:
        raise InputError(path, "unknown codebook column; expected "
                         f"{', '.join(CODEBOOK_COLUMNS + OPTIONAL_COLUMNS)}", row=0,
                         column=extra[0])
    text = text.apply(lambda column: column.str.strip())
    measures, seen = [], set()
    for row, cells in text.iterrows():
        measures.append(_measure(cells, path, row))
        if measures[-1].code in seen:
            raise InputError(path, f"measure {measures[-1].code!r} is listed twice",
                             row=row, column="measure")
        seen.add(measures[-1].code)
    return measures


def _read_text(path: Path) -> pd.DataFrame:
    """A codebook CSV (any separator, UTF-8 or Windows-1252) as text, rows from 1."""
    grid = decode(path).grids[0]
    cells = grid.cells[grid.cells.apply(lambda c: c.str.strip() != "").any(axis=1)]
    if cells.empty:
        raise InputError(path, "file is empty; expected a header row and data rows")
    header = [c.strip() for c in cells.iloc[0]]
    while header and not header[-1]:
        header.pop()
    frame = cells.iloc[1:, :len(header)].copy()
    frame.columns = header
    frame.index = pd.RangeIndex(1, len(frame) + 1)
    if len(set(header)) != len(header):
        repeated = next(name for i, name in enumerate(header) if name in header[:i])
        raise InputError(path, "duplicate column name", row=0, column=repeated)
    if frame.empty:
        raise InputError(path, "has a header but no data rows")
    return frame


class _Row:
    """One codebook row's cells, read into typed values; errors name the row and column."""

    def __init__(self, cells: pd.Series, path: Path, row: int):
        self.cells, self.path, self.row = cells, path, row

    def fail(self, column: str, message: str) -> InputError:
        return InputError(self.path, f"{message} (got {quote_value(self.cells[column])})",
                          row=self.row, column=column)

    def number(self, column: str, *, optional: bool = False) -> float | None:
        value = self.cells.get(column, "")
        if optional and value == "":
            return None
        try:
            number = float(value)
        except ValueError:
            raise self.fail(column, "is not a number") from None
        if not math.isfinite(number):
            raise self.fail(column, "is not a finite number")
        return number

    def yes_no(self, column: str) -> bool:
        try:
            answer = parse_yes_no(self.cells[column], column)
        except ValueError:
            answer = None
        if answer is None:
            raise self.fail(column, "must be yes or no")
        return answer

    def words(self, column: str) -> tuple[str, ...]:
        """The ``;``-separated parts of a cell, stripped, empty ones left out."""
        return tuple(filter(None, (w.strip() for w in self.cells.get(column, "").split(";"))))

    def numbers(self, column: str, within: tuple[float, float] | None = None
                ) -> tuple[float, ...]:
        """Distinct numbers, ``;``-separated, in increasing order: within the range, or
        else greater than 0."""
        values = []
        for part in self.words(column):
            try:
                value = float(part)
            except ValueError:
                raise self.fail(column, "must be numbers separated by ';'") from None
            if within and not within[0] <= value <= within[1]:
                raise self.fail(column, f"has {part} outside min-max ({within[0]:g}-"
                                f"{within[1]:g})")
            if not within and not value > 0:
                raise self.fail(column, "must be improvements greater than 0")
            if value in values:
                raise self.fail(column, f"has {part} twice")
            values.append(value)
        return tuple(sorted(values))

    def conversions(self) -> tuple[tuple[str, float], ...]:
        """``unit=factor`` pairs, each factor a positive number."""
        pairs = []
        for part in self.words("conversions"):
            unit, _, factor = part.rpartition("=")
            try:
                value = float(factor)
            except ValueError:
                value = math.nan
            if not unit.strip() or not math.isfinite(value) or value <= 0:
                raise self.fail("conversions", "must be unit=factor pairs separated by ';' "
                                "(such as mg/dL=10: a value in mg/dL times 10 is in the "
                                "measure's unit)")
            pairs.append((unit.strip(), value))
        return tuple(pairs)


def _measure(cells: pd.Series, path: Path, row: int) -> Measure:
    read = _Row(cells, path, row)
    code = cells["measure"]
    if not _CODE.fullmatch(code):
        raise read.fail("measure", "must be a code of lower-case letters, digits and _, "
                        "starting with a letter (such as das28_esr)")
    if not cells["label"]:
        raise read.fail("label", "is empty; give the name to print in tables and figures")
    low, high = read.number("min"), read.number("max")
    if low > high:
        raise read.fail("max", f"is below min ({low:g})")
    integer, lower_is_better = read.yes_no("integer"), read.yes_no("lower_is_better")
    mcid = read.number("mcid", optional=True)
    if mcid is not None and mcid <= 0:
        raise read.fail("mcid", "must be a positive difference")
    thresholds = read.numbers("thresholds", (low, high))
    categories = read.words("categories")
    if categories and len(categories) != len(thresholds) + 1:
        raise read.fail("categories", f"names {len(categories)} categories; the "
                        f"{len(thresholds)} thresholds separate {len(thresholds) + 1}")
    return Measure.from_label(code, cells["label"], cells["unit"], low, high, integer,
                              lower_is_better=lower_is_better, mcid=mcid,
                              thresholds=thresholds, source=paths.display_path(path),
                              aliases=read.words("aliases"),
                              conversions=read.conversions(), categories=categories,
                              change_thresholds=read.numbers("change_thresholds"),
                              change_name=cells.get("change_name", ""))


def load_codebook(path: str | Path | None = None) -> Codebook:
    """The built-in codebook, extended or overridden by the file at ``path`` if given.

    Examples
    --------
    >>> load_codebook() is MEASURES
    True
    """
    if path is None:
        return MEASURES
    path = paths.resolve(path)
    measures = read_codebook(path)
    rows = {measure.code: row for row, measure in enumerate(measures, 1)}
    measures = [_inherit(measure, path, rows[measure.code]) for measure in measures]
    book = MEASURES.extended(measures, paths.display_path(path))
    try:
        MeasureIndex(book)
    except NameClash as clash:
        mine = [code for code in clash.codes if code in rows]
        code = mine[-1]
        other = next(c for c in clash.codes if c != code)
        hint = (f"data named so are read as the built-in {other!r} without a codebook: "
                f"remove this row, or give it the code {other!r} to change its definition"
                if other not in rows else "give each measure its own names")
        raise InputError(path, f"{clash.name!r} is a name of {other!r} "
                         f"({book[other].name}) too; {hint}", row=rows[code],
                         column="measure") from None
    return book


def _inherit(measure: Measure, path: Path, row: int) -> Measure:
    """A codebook row that redefines a built-in measure keeps its names (and, in the same
    unit, its conversions); the response criteria's measures keep their unit."""
    if measure.code not in MEASURES:
        return measure
    builtin = MEASURES[measure.code]
    if (measure.code in CRITERIA_MEASURES
            and name_key(measure.unit) != name_key(builtin.unit)):
        raise InputError(path, f"{measure.code} is read by the response criteria in "
                         f"{builtin.unit!r}; keep that unit and convert the values (or add "
                         "conversions) rather than change it", row=row, column="unit")
    if _row(measure) == _row(builtin):
        # The built-in definition, as codebook_table writes it (OUT's data/codebook.csv
        # read back): the built-in measure itself, with its figure labels and sources.
        return builtin
    same_unit = name_key(measure.unit) == name_key(builtin.unit)
    same_cuts = measure.thresholds == builtin.thresholds
    keep_changes = not measure.change_thresholds and same_unit
    return replace(measure, aliases=measure.aliases or builtin.aliases,
                   conversions=measure.conversions or (builtin.conversions if same_unit
                                                        else ()),
                   categories=measure.categories or (builtin.categories if same_cuts
                                                     else ()),
                   change_thresholds=(builtin.change_thresholds if keep_changes
                                      else measure.change_thresholds),
                   change_name=measure.change_name or (builtin.change_name if keep_changes
                                                       else ""))


def codebook_table(codebook: Codebook) -> pd.DataFrame:
    """A codebook as the rows of a codebook file (numbers as text, as they are written).

    Examples
    --------
    >>> codebook_table(MEASURES).loc[1, ["measure", "min", "max", "mcid", "thresholds"]
    ...                              ].tolist()
    ['das28', '0', '10', '1.2', '2.6;3.2;5.1']
    """
    return pd.DataFrame([_row(m) for m in codebook.values()],
                        columns=CODEBOOK_COLUMNS + OPTIONAL_COLUMNS)


def _row(m: Measure) -> dict[str, str]:
    """One measure as the cells of its codebook row."""
    def number(value: float | None) -> str:
        if value is None:
            return ""
        return str(int(value)) if float(value).is_integer() else format_float(value)

    def yes_no(flag: bool) -> str:
        return "yes" if flag else "no"

    return {
        "measure": m.code, "label": m.name, "unit": m.unit, "min": number(m.low),
        "max": number(m.high), "integer": yes_no(m.integer),
        "lower_is_better": yes_no(m.lower_is_better), "mcid": number(m.mcid),
        "thresholds": ";".join(number(t) for t in m.thresholds),
        "aliases": ";".join(m.aliases),
        "conversions": ";".join(f"{unit}={number(factor)}" for unit, factor in m.conversions),
        "categories": ";".join(m.categories),
        "change_thresholds": ";".join(number(t) for t in m.change_thresholds),
        "change_name": m.change_name,
    }


def select_outcomes(measurements: pd.DataFrame, codebook: Codebook,
                    measures: Sequence[str] | None = None, source: str | Path = "",
                    named_by: str = "MEASURES") -> tuple[list[str], list[str]]:
    """The outcomes to analyse, and the measures left out for having no follow-up.

    Parameters
    ----------
    measurements : DataFrame
        The tidy table.
    codebook : Codebook
        Its order is the default order of the outcomes.
    measures : sequence of str, optional
        The outcomes chosen; each must be in the data with a follow-up visit. Default:
        every measure of the data that has one.
    source : str or Path
        The data file, for the message.
    named_by : str
        What chose ``measures``, for the message (``MEASURES`` of ``make analysis``, a
        notebook's ``outcomes``).

    Returns
    -------
    (list of str, list of str)
        The outcomes, and (by default only) the measures with baseline values only.

    Raises
    ------
    InputError
        A chosen measure the data do not have, or have at baseline only.
    """
    # The distinct codes first (vectorised): a cohort has millions of rows.
    in_data = set(measurements["measure"].unique())
    present = [code for code in codebook if code in in_data]
    followed = set(measurements.loc[measurements["timepoint"] != BASELINE, "measure"].unique())
    if not measures:
        return ([code for code in present if code in followed],
                [code for code in present if code not in followed])
    measures = list(dict.fromkeys(m.strip() for m in measures if m.strip()))
    for code in measures:
        if code not in present:
            raise InputError(source, f"{named_by} names {code!r}, which the data do not "
                             f"have (they have {', '.join(present)})")
        if code not in followed:
            raise InputError(source, f"{named_by} names {code!r}, which has baseline values "
                             "only: nothing to compare")
    return measures, []
