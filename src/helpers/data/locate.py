"""Stage 2 of reading a file: find the table in the grid.

Spreadsheets as people make them hold more than a table: title rows above the header,
a header on two rows (a measure merged over its visits), a legend on the first sheet,
summary rows (``Media``, ``DS``, ``Totale``) and notes under the data. :func:`locate`
finds the table and records what it left out:

- **sheet**: the one given (``SHEET=``), else the only sheet that holds a table (several
  are refused with their names, never guessed between);
- **header**: the first row naming the patient id and at least one other known column
  (title rows above it are skipped); a row of visits or units just below (or above)
  it is joined to it, the upper cells carried over the columns they were merged across;
- **body**: blank rows and columns are ignored; summary and note rows *below the last
  patient* are left out by name; such a row among the patients is refused;
- **formulas without saved values** inside the table are refused, with what to do.

The result is a :class:`Table` of text cells whose :class:`Locator` names the file's own
rows (the line or spreadsheet row) in every later message.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from helpers.data.decode import Decoded, Grid
from helpers.data.names import (is_id_name, is_unit_label, might_not_be_patient, parse_visit,
                                suggest_names, summary_label)
from helpers.errors import InputError, quote_value

__all__ = ["Locator", "Table", "locate"]

#: How far down a header is looked for (title rows above it).
HEADER_SEARCH_ROWS = 30


@dataclass(frozen=True)
class Locator:
    """Where the cells of a table came from in the user's file.

    Attributes
    ----------
    source : str
        The file (and sheet) as messages print it.
    line_label : str or None
        What the file calls a row's position: ``"line"`` (CSV), ``"spreadsheet row"``
        (xlsx), None (Parquet has no lines).
    header_line : int
        The line of the (last) header row: data row ``r`` is on line ``r + header_line``.
    argument : str or None
        Which input the file is (``DATA``, ``PATIENTS``), for messages.
    names : dict
        Column of the table -> the file's name for it (``patient_id`` -> ``ID``).
    rows, columns : numpy.ndarray or None
        For a table reshaped from the file (wide, one row per visit), the file's data
        row and the file column of each reshaped row's value; None when the table's
        rows *are* the file's.
    from_header : frozenset
        Columns of a reshaped table that come from the value column's name (the measure;
        in a wide file also the visit): their errors point at the header.
    """

    source: str
    line_label: str | None
    header_line: int = 1
    argument: str | None = None
    names: dict = field(default_factory=dict)
    rows: np.ndarray | None = None
    columns: np.ndarray | None = None
    from_header: frozenset = frozenset()

    def error(self, message: str, *, row: int | None = None, column: str | None = None
              ) -> InputError:
        """An :class:`InputError` at ``row`` (a data row of the table) and ``column``."""
        if self.rows is not None and row is not None and row >= 1:
            value_column = str(self.columns[row - 1])
            row_in_file = int(self.rows[row - 1])
            if column in self.from_header:
                row_in_file, column = 0, value_column
            elif column in ("value", None):
                column = value_column
            elif column == "unit" and "unit" not in self.names:
                row_in_file, column = None, value_column  # from the header or codebook
            else:
                column = self.names.get(column, column)
            row = row_in_file
        elif column is not None:
            column = self.names.get(column, column)
        line = None
        if row is not None and self.line_label:
            line = self.header_line if row == 0 else row + self.header_line
        return InputError(self.source, message, row=row, column=column,
                          line_label=self.line_label, line=line, argument=self.argument)

    def relocate(self, error: InputError) -> InputError:
        """``error``, raised on the table, moved to the place in the file."""
        return self.error(error.message, row=error.row, column=error.column)

    def renamed(self, names: dict) -> Locator:
        """This locator for the table with its columns renamed (``names``: new -> file)."""
        return replace(self, names={**self.names, **names})

    def reshaped(self, rows: np.ndarray, columns: np.ndarray, names: dict,
                 from_header: frozenset) -> Locator:
        """This locator for a table reshaped from the file (see :attr:`rows`)."""
        return replace(self, rows=rows, columns=columns, names={**self.names, **names},
                       from_header=from_header)


@dataclass
class Table:
    """The table found in a file: header names and text cells.

    Attributes
    ----------
    body : DataFrame
        Text cells under the header's names; index the data row (the file line minus
        the header's line, so row ``r`` is on line ``r + header_line``).
    locator : Locator
    notes : list of str
        What locating decided (sheet, header row, rows left out).
    """

    body: pd.DataFrame
    locator: Locator
    notes: list[str] = field(default_factory=list)

    @property
    def columns(self) -> list[str]:
        return list(self.body.columns)


def locate(decoded: Decoded, recognise: Callable[[str], bool], *, what: str,
           expected: str, argument: str | None = None, minimum: int = 1) -> Table:
    """Find the table of a decoded file.

    Parameters
    ----------
    decoded : Decoded
        From :func:`helpers.data.decode.decode`.
    recognise : callable
        ``recognise(name)``: whether a column name is one this table may have (a
        measure, a visit column...), besides the patient id.
    what : str
        What the table holds, for messages ("measurements").
    expected : str
        The header expected, for messages ("patient_id and columns such as
        das28_baseline").
    argument : str, optional
        ``DATA``, ``PATIENTS``...: named in every message.
    minimum : int
        How many recognised columns a header needs besides the patient id.

    Returns
    -------
    Table

    Raises
    ------
    InputError
        No header in any sheet; several sheets with tables; a summary or note row among
        the patients; a formula without a saved value; a column with data but no name;
        a repeated column name; a row with fields missing; no data rows.
    """
    def source_of(grid: Grid) -> str:
        return (f"{decoded.source} [sheet {quote_value(grid.name)}]" if grid.name is not None
                else decoded.source)

    found = []
    for grid in decoded.grids:
        header = _find_header(grid, recognise, minimum)
        if header is not None:
            found.append((grid, header))
    if len(found) > 1:
        # A sheet that only has an id column (minimum 0) gives way to one with columns
        # this table has: a register's "Pazienti" sheet beside the "Visite".
        scores = [_qualifies(_header_names(grid, rows), recognise, minimum)
                  for grid, rows in found]
        if max(scores) > 1:
            found = [f for f, score in zip(found, scores) if score > 1]
    notes = list(decoded.notes)
    if not found:
        raise _no_header(decoded, recognise, what, expected, source_of, argument)
    if len(found) > 1:
        names = ", ".join(quote_value(grid.name) for grid, _ in found)
        raise InputError(decoded.source, f"several sheets hold tables of {what} ({names}); "
                         "choose one with SHEET=name", argument=argument)
    grid, header_rows = found[0]
    if len(decoded.grids) > 1 and grid is not decoded.grids[0]:
        others = ", ".join(quote_value(g.name) for g in decoded.grids if g is not grid)
        notes.append(f"sheet {quote_value(grid.name)} (no table of {what} in {others})")
    return _table(grid, header_rows, source_of(grid), decoded.line_label, notes, argument)


def _no_header(decoded: Decoded, recognise, what: str, expected: str, source_of,
               argument: str | None) -> InputError:
    """Why no sheet has a header: a row of known columns without a patient id (perhaps a
    misspelt one), or no known column at all."""
    for grid in decoded.grids:
        for i, row in enumerate(grid.cells.head(HEADER_SEARCH_ROWS).itertuples(index=False)):
            names = [c.strip() for c in row if c.strip()]
            ids = [name for name in names if is_id_name(name)]
            known = [name for name in names if not is_id_name(name) and recognise(name)]
            line = int(grid.lines[i])
            if ids and not known and len(names) > 1:
                shown = ", ".join(quote_value(n, 30) for n in names[:4])
                return InputError(source_of(grid), f"names no measure ({shown}): expected "
                                  f"{expected}", row=0, line_label=decoded.line_label,
                                  line=line, argument=argument)
            if not known:
                continue
            near = next(((name, id_name) for name in names if not recognise(name)
                         and (id_name := suggest_names(name, ID_SUGGESTIONS))), None)
            hint = (f"; did you mean {near[1]!r} for {quote_value(near[0])}?" if near else
                    ": name it patient_id (or ID, Patient, record_id)")
            return InputError(source_of(grid), f"has no patient id column{hint}", row=0,
                              line_label=decoded.line_label, line=line, argument=argument)
    grid = next((g for g in decoded.grids if len(g.cells)), decoded.grids[0])
    first = _first_row_text(grid)
    sheets = ("" if len(decoded.grids) < 2 else " of any sheet (" + ", ".join(
        quote_value(g.name) for g in decoded.grids) + ")")
    return InputError(
        source_of(grid) if len(decoded.grids) < 2 else decoded.source,
        f"found no header row of {what} in the first {HEADER_SEARCH_ROWS} rows{sheets}: "
        f"expected {expected}" + (f"; the first row reads {first}" if first else
                                  "; the sheet is empty"), argument=argument)


#: The id names a misspelt id column is compared with.
ID_SUGGESTIONS = ("patient_id", "record_id", "Patient", "Paziente")


def _first_row_text(grid: Grid) -> str:
    for _, row in grid.cells.head(HEADER_SEARCH_ROWS).iterrows():
        text = [c.strip() for c in row if c.strip()]
        if text:
            return ", ".join(quote_value(c, 30) for c in text[:4])
    return ""


def _qualifies(names: list[str], recognise: Callable[[str], bool], minimum: int) -> int:
    """1 + how many columns a candidate header names besides the patient id, or 0 if it
    names no patient id or fewer than ``minimum`` other columns."""
    if not any(is_id_name(name) for name in names if name):
        return 0
    known = sum(1 for name in names if name and not is_id_name(name) and recognise(name))
    return known + 1 if known >= minimum else 0


def _find_header(grid: Grid, recognise, minimum: int) -> tuple[int, ...] | None:
    """Positions of the header row(s) in ``grid``, or None."""
    rows = [[c.strip() for c in row] for row in
            grid.cells.head(HEADER_SEARCH_ROWS + 1).itertuples(index=False)]
    for i, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
        if not any(row):
            continue
        below = rows[i + 1] if i + 1 < len(rows) else None
        single = _qualifies(row, recognise, minimum)
        if below is not None and _is_label_row(below):
            joined = _qualifies(join_header(row, below), recognise, minimum)
            if joined and joined >= single:
                return (i, i + 1)
        if single:
            # Visits on the row above, each merged over its measures.
            if i > 0 and _is_label_row(rows[i - 1]):
                joined = _qualifies(join_header(rows[i - 1], row), recognise, minimum)
                if joined >= single:
                    return (i - 1, i)
            return (i,)
    return None


def _is_label_row(row: list[str]) -> bool:
    """Whether a row beside a header holds visit or unit labels, not data."""
    filled = [c for c in row if c]
    if len(filled) < 2:
        return False
    if any(_is_number(c) for c in filled):
        return False
    labels = sum(parse_visit(c) is not None or is_unit_label(c) for c in filled)
    return labels >= max(2, (len(filled) + 1) // 2)


def _is_number(text: str) -> bool:
    try:
        float(text.replace(",", "."))
    except ValueError:
        return False
    return True


def join_header(top: list[str], bottom: list[str]) -> list[str]:
    """One header from two rows: a cell merged across columns (written once, in its
    first column) is carried to the right over the visits below it.

    Examples
    --------
    >>> join_header(["ID", "DAS28", "", "SLEDAI-2K", ""], ["", "T0", "T6", "T0", "T6"])
    ['ID', 'DAS28 T0', 'DAS28 T6', 'SLEDAI-2K T0', 'SLEDAI-2K T6']
    >>> join_header(["", "Baseline", "", "Mese 6", ""], ["ID", "DAS28", "CRP", "DAS28", "CRP"])
    ['ID', 'Baseline DAS28', 'Baseline CRP', 'Mese 6 DAS28', 'Mese 6 CRP']
    """
    width = max(len(top), len(bottom))
    top = list(top) + [""] * (width - len(top))
    bottom = list(bottom) + [""] * (width - len(bottom))
    names, carried = [], ""
    for upper, lower in zip(top, bottom):
        if upper:
            carried = upper
        if upper and lower:
            names.append(f"{upper} {lower}")
        elif upper:
            names.append(upper)
        elif lower and carried and not is_id_name(lower):
            names.append(f"{carried} {lower}")
        else:
            names.append(lower)
        if not upper and not lower:
            carried = ""
    return names


def _table(grid: Grid, header_rows: tuple[int, ...], source: str, line_label: str | None,
           notes: list[str], argument: str | None) -> Table:
    cells = grid.cells
    rows = [[c.strip() for c in cells.iloc[i]] for i in header_rows]
    names = _header_names(grid, header_rows)
    last = header_rows[-1]
    header_line = int(grid.lines[last])
    locator = Locator(source, line_label, header_line, argument=argument)
    skipped = sum(1 for i in range(header_rows[0]) if any(c.strip() for c in cells.iloc[i]))
    if skipped:
        notes.append(f"{skipped} title row{'s' if skipped > 1 else ''} above the header "
                     "skipped")
    if len(header_rows) > 1:
        notes.append(f"two-row header joined ({quote_value(names[_first_joined(rows)])}...)")
    body = cells.iloc[last + 1:]
    lines = grid.lines[last + 1:]
    positions = np.arange(last + 1, len(cells))
    filled = body.apply(lambda column: column.str.strip() != "").to_numpy()
    keep_rows = filled.any(axis=1)
    body, lines, filled = body[keep_rows], lines[keep_rows], filled[keep_rows]
    positions = positions[keep_rows]
    widths = None if grid.widths is None else grid.widths[last + 1:][keep_rows]
    label_column = next((j for j, name in enumerate(names) if is_id_name(name)), 0)
    kept = _drop_footer(body, filled, label_column, names[label_column] or None, lines,
                        locator, notes)
    body, lines, filled, positions = body[kept], lines[kept], filled[kept], positions[kept]
    if widths is not None:  # after the notes below the data, which may be one cell wide
        width = int(max(grid.widths[i] for i in header_rows))
        _check_widths(widths[kept], width, lines, locator, body)
    if not len(body):
        raise locator.error("has a header but no data rows")
    columns = _named_columns(names, filled, locator, body, notes)
    _refuse_uncached(grid, positions, columns, locator)
    table = pd.DataFrame({names[j]: body[j].array for j in columns},
                         index=pd.Index(lines - header_line, dtype="int64"), dtype=str)
    return Table(table, locator, notes)


def _header_names(grid: Grid, header_rows: tuple[int, ...]) -> list[str]:
    rows = [[c.strip() for c in grid.cells.iloc[i]] for i in header_rows]
    return rows[0] if len(rows) == 1 else join_header(*rows)


def _first_joined(rows: list[list[str]]) -> int:
    return next((j for j, (a, b) in enumerate(zip(*rows)) if a and b), 0)


def _check_widths(widths: np.ndarray, width: int, lines: np.ndarray, locator: Locator,
                  body: pd.DataFrame) -> None:
    """A CSV row with fewer fields than the header may have lost one in the middle."""
    short = np.flatnonzero(widths < width)
    if len(short):
        at = int(short[0])
        raise locator.error(f"has {widths[at]} fields where the header has {width}; every "
                            "row needs one field per column (empty for a missing value)",
                            row=int(lines[at]) - locator.header_line)
    long = np.flatnonzero(widths > width)
    if len(long):
        extra = body.iloc[long, width:].apply(lambda c: c.str.strip() != "").to_numpy()
        if extra.any():
            at = int(long[int(np.flatnonzero(extra.any(axis=1))[0])])
            hint = ""
            if locator.line_label == "line" and "," in "".join(body.iloc[at]):
                hint = ("; a decimal comma (5,2) splits a number in two in a "
                        "comma-separated file: use decimal points, or save with ';'")
            raise locator.error(f"has {widths[at]} fields where the header has {width}"
                                f"{hint}", row=int(lines[at]) - locator.header_line)


def _drop_footer(body: pd.DataFrame, filled: np.ndarray, label_column: int,
                 label_name: str | None, lines: np.ndarray, locator: Locator,
                 notes: list[str]) -> np.ndarray:
    """Rows to keep: summary and note rows below the last patient are left out by name;
    among the patients they are an error.

    Vectorised for registry-sized files: only rows whose label could name a summary or a
    note (:func:`might_not_be_patient`) are looked at one by one.
    """
    labels = body[label_column].str.strip() if len(body) else pd.Series([], dtype=str)
    candidates = np.flatnonzero(might_not_be_patient(labels).to_numpy())
    kinds = {}
    for i in candidates:
        cells = [c.strip() for c in body.iloc[i] if c.strip()]
        label = labels.iat[i]
        if label:
            kind = summary_label(label)
            if kind == "note" and any(_is_number(c) for c in cells[1:]):
                kind = None  # a long label with numbers is a patient's row
        else:
            # No label: a total without one, or a note in another column.
            kind = ("summary" if any(summary_label(c) == "summary" for c in cells
                                     if not _is_number(c)) else
                    "note" if len(cells) == 1 and summary_label(cells[0]) == "note" else None)
        if kind is not None:
            kinds[int(i)] = kind
    keep = np.ones(len(labels), dtype=bool)
    end = len(labels)
    while end > 0 and (end - 1) in kinds:
        end -= 1
    keep[end:] = False
    inside = sorted(i for i in kinds if i < end)

    def shown(i):
        return labels.iat[i] or next(c for c in body.iloc[i] if c.strip())

    if inside:
        i = inside[0]
        raise locator.error(f"{quote_value(shown(i))} is a {kinds[i]} row, not a patient; "
                            "move summaries and notes below the last patient (they are then "
                            "left out) or delete them", row=int(lines[i]) - locator.header_line,
                            column=label_name)
    if end < len(labels):
        dropped = [shown(i) for i in range(end, len(labels))]
        first, final = int(lines[end]), int(lines[-1])
        where = f"{locator.line_label or 'row'}s {first}-{final}" if final > first else (
            f"{locator.line_label or 'row'} {first}")
        notes.append(f"{where} below the data left out as summaries or notes, not patients "
                     f"({', '.join(quote_value(d, 24) for d in dropped[:4])}"
                     f"{' ...' if len(dropped) > 4 else ''})")
    return keep


def _named_columns(names: list[str], filled: np.ndarray, locator: Locator,
                   body: pd.DataFrame, notes: list[str]) -> list[int]:
    """Positions of the columns to keep: named ones. An unnamed column must be empty, or
    hold row numbers (1, 2, 3... as pandas' and R's CSV writers add them)."""
    keep = []
    for j, name in enumerate(names):
        has_data = j < filled.shape[1] and filled[:, j].any()
        if not name:
            if has_data and _row_numbers(body[j]):
                notes.append(f"an unnamed {_column_letter(j)} of row numbers left out")
            elif has_data:
                raise locator.error("a column with data has no name", row=0,
                                    column=_column_letter(j))
            continue
        keep.append(j)
    chosen = [names[j] for j in keep]
    if len(set(chosen)) != len(chosen):
        repeated = next(name for i, name in enumerate(chosen) if name in chosen[:i])
        raise locator.error("duplicate column name", row=0, column=repeated)
    return keep


def _row_numbers(cells: pd.Series) -> bool:
    """Whether cells count 0, 1, 2... or 1, 2, 3... down the table."""
    text = cells.str.strip()
    if not text.str.fullmatch(r"[0-9]+").all():
        return False
    numbers = text.astype(np.int64).to_numpy()
    return bool(len(numbers)) and numbers[0] in (0, 1) and bool(
        (np.diff(numbers) == 1).all())


def _column_letter(position: int) -> str:
    letters = ""
    position += 1
    while position:
        position, remainder = divmod(position - 1, 26)
        letters = chr(65 + remainder) + letters
    return f"column {letters}"


def _refuse_uncached(grid: Grid, positions: np.ndarray, columns: list[int],
                     locator: Locator) -> None:
    """A formula with no saved value in the table would be read as a missing value."""
    if not grid.uncached:
        return
    rows, wanted = set(positions.tolist()), set(columns)
    for (r, c), reference in sorted(grid.uncached.items()):
        if r in rows and c in wanted:
            raise InputError(
                locator.source, f"cell {reference} holds a formula without a saved value "
                "(the workbook was written by a program and never opened in a spreadsheet); "
                "open it in Excel or LibreOffice and save it, or export the values",
                argument=locator.argument)
