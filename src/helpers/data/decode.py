"""Stage 1 of reading a file: bytes to a grid of text cells.

:func:`decode` reads a CSV, xlsx or Parquet file (recognised by its first bytes, not its
name) as grids of text cells, one per sheet, deciding and recording on the way:

- **encoding** (CSV): UTF-8, with or without the byte-order mark Excel's "CSV UTF-8"
  writes; UTF-16 with a byte-order mark (Excel's "Unicode text"); otherwise
  Windows-1252, Excel's "CSV" on Western European Windows, said so in a note;
- **separator** (CSV): ``,``, ``;``, tab or ``|``, the one that splits the most lines
  into the same number of fields (a tie between two is refused, never guessed);
- **decimal mark**: a decimal comma (``5,2``) is read where the separator allows it
  (``;``, tab or ``|``) and the file uses no decimal point; in an xlsx text cell, where
  a decimal comma cannot be a thousands separator (``1,234`` stays refused);
- **spreadsheet cells**: numbers as typed (``6.0`` is ``6``), dates as ISO dates,
  formulas by their saved value, and where a formula has none (a workbook written by a
  program and never opened in a spreadsheet), the cell is remembered so that the next
  stage can refuse it if it lies in the data.

Nothing is interpreted here: which row is the header, what a column means and which rows
are patients are the next stages' decisions (:mod:`helpers.data.locate`).
:func:`read_csv_text` is the strict reader of the project's own CSV tables (the paper's
raw tables): UTF-8, commas, one header row.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
import re
import zipfile
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from helpers import paths
from helpers.errors import InputError, quote_value

__all__ = ["Decoded", "Grid", "check_header", "decode", "detect_format", "read_csv_text"]

_XLSX_MAGIC = b"PK\x03\x04"
_PARQUET_MAGIC = b"PAR1"
_UTF8_BOM = b"\xef\xbb\xbf"
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
# Files that are not text, recognised by their first bytes, and what to do.
_NOT_TEXT = (
    (b"\x1f\x8b", "looks like a gzip file; unzip it first"),
    (_XLSX_MAGIC, "is a ZIP archive (an .xlsx workbook is one); give the workbook its .xlsx "
                  "name, or save the sheet as CSV"),
    (b"%PDF", "is a PDF document, not a data file; export the table as CSV or xlsx"),
)
SEPARATORS = (",", ";", "\t", "|")
_SEPARATOR_NAMES = {",": "','", ";": "';'", "\t": "tab", "|": "'|'"}
# A number with a decimal comma, and with a decimal point, as whole cells.
_COMMA_NUMBER = r"\s*[+-]?[0-9]+,[0-9]+\s*"
_POINT_NUMBER = r"\s*[+-]?[0-9]*\.[0-9]+\s*"


@dataclass
class Grid:
    """One table of text cells as a file (or one sheet of it) holds it.

    Attributes
    ----------
    cells : DataFrame
        Every cell as ``str`` (empty ``""``); columns ``0..k-1``; one row per non-blank
        line (CSV) or sheet row.
    lines : ndarray of int
        The line (CSV) or spreadsheet row (xlsx) each row starts on, 1-based.
    widths : ndarray of int or None
        Fields per CSV line as written (a short line is not padded silently).
    name : str or None
        The sheet's name (xlsx).
    uncached : dict
        ``(row position, column position) -> cell reference`` of formulas that have no
        saved value (xlsx).
    """

    cells: pd.DataFrame
    lines: np.ndarray
    widths: np.ndarray | None = None
    name: str | None = None
    uncached: dict = field(default_factory=dict)


@dataclass
class Decoded:
    """A file read as grids, and what decoding decided.

    Attributes
    ----------
    path : Path
    kind : {"csv", "xlsx", "parquet"}
    grids : list of Grid
        One per sheet (one for CSV and Parquet).
    line_label : str or None
        How messages name a row's position: ``"line"``, ``"spreadsheet row"``, None.
    decimal : {"point", "comma", "mixed", "grouped", "comma-separated", "sheet"}
        The decimal mark: of a ``;``, tab or ``|`` separated file (``"mixed"``: both,
        so neither is converted; ``"grouped"``: points only in ``1.000``, which may be a
        thousand); ``"comma-separated"`` where a comma cannot be one; ``"sheet"`` for a
        workbook (its numbers are typed).
    notes : list of str
        What was decided, for the run's summary.
    """

    path: Path
    kind: str
    grids: list[Grid]
    line_label: str | None
    decimal: str = "point"
    notes: list[str] = field(default_factory=list)

    @property
    def source(self) -> str:
        return paths.display_path(self.path)


def detect_format(path: Path) -> str:
    """``"xlsx"``, ``"parquet"`` or ``"csv"``, from the file's first bytes."""
    with open(path, "rb") as handle:
        head = handle.read(4)
    if head == _PARQUET_MAGIC:
        return "parquet"
    if head == _XLSX_MAGIC and path.suffix.lower() in (".xlsx", ".xlsm"):
        return "xlsx"
    return "csv"  # other binary formats (gzip, ZIP, PDF ...) are named by _text


def _check_file(path: Path) -> None:
    if path.is_dir():
        raise InputError(path, "is a folder, not a file")
    if path.exists() and not path.is_file():
        raise InputError(path, "is not a regular file")
    if not path.is_file():
        raise InputError(path, "file not found")


def decode(path: str | Path, *, sheet: str | None = None) -> Decoded:
    """Read a CSV, xlsx or Parquet file as grids of text cells.

    Parameters
    ----------
    path : str or Path
    sheet : str, optional
        The one xlsx sheet to read (default: every sheet, for the next stage to choose).

    Returns
    -------
    Decoded

    Raises
    ------
    InputError
        Not a readable file, not text, an unknown sheet, a separator that cannot be
        told (one line naming the file).
    """
    path = Path(path)
    _check_file(path)
    kind = detect_format(path)
    if sheet is not None and kind != "xlsx":
        raise InputError(path, f"SHEET={sheet!r} is only for .xlsx files; this is {kind}")
    if kind == "xlsx":
        return _decode_xlsx(path, sheet)
    if kind == "parquet":
        return Decoded(path, "parquet", [_parquet_grid(path)], None)
    return _decode_csv(path)


# --- CSV -------------------------------------------------------------------------------


def _read_bytes(path: Path) -> bytes:
    try:
        data = path.read_bytes()
    except OSError as error:
        raise InputError(path, f"cannot be read ({error.strerror})") from None
    if not data.strip() or not data.strip(_UTF8_BOM + b" \t\r\n"):
        raise InputError(path, "file is empty; expected a header row and data rows")
    return data


def _text(path: Path, data: bytes, *, strict: bool, notes: list[str]) -> str:
    """Decode a CSV file's bytes; ``strict`` accepts UTF-8 only, without byte-order mark."""
    if not strict and data.startswith(_UTF16_BOMS):
        try:
            notes.append("encoding UTF-16 (Excel's 'Unicode text')")
            return data.decode("utf-16")
        except UnicodeDecodeError:
            raise InputError(path, "starts as UTF-16 text but is not valid UTF-16; save it "
                             "as CSV UTF-8") from None
    if data.startswith(_UTF16_BOMS):
        raise InputError(path, "is UTF-16 text; save it as UTF-8")
    for magic, message in _NOT_TEXT:
        if data.startswith(magic):
            raise InputError(path, message)
    if b"\x00" in data[:4096]:
        raise InputError(path, "contains NUL bytes: it is not a text file (UTF-16 text "
                         "without byte-order mark, or a binary file?); save it as CSV UTF-8")
    if data.startswith(_UTF8_BOM):
        if strict:
            raise InputError(path, "starts with a byte-order mark; save it as UTF-8 "
                             "without BOM", row=0)
        data = data[len(_UTF8_BOM):]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        if not strict:
            try:
                text = data.decode("cp1252")
            except UnicodeDecodeError:
                pass
            else:
                notes.append("encoding Windows-1252 (not UTF-8: Excel's 'CSV' on Windows); "
                             "save as 'CSV UTF-8' if accented letters look wrong")
                return text
        line_start = data.rfind(b"\n", 0, error.start) + 1
        row = data.count(b"\n", 0, error.start)
        header = data.split(b"\n", 1)[0].decode("utf-8", "replace").split(",")
        field_number = data[line_start:error.start].count(b",")
        column = header[field_number].strip() if field_number < len(header) else None
        what = ("is not valid UTF-8" if strict else
                "is neither UTF-8 nor Windows-1252 text")
        raise InputError(
            path, f"{what} (byte 0x{data[error.start]:02x}); save it as CSV UTF-8",
            row=row, column=column) from None


def sniff_separator(text: str) -> str | None:
    """The separator that splits the most lines of ``text`` into the same number of
    fields (more than one); None when no candidate splits any line.

    A line that one candidate splits and others do not (a title row) counts for no one;
    quotes are respected. Two candidates that split equally many lines into equally
    many fields are ambiguous: :class:`ValueError`.

    Examples
    --------
    >>> sniff_separator("id;das28_baseline;das28_m6\\nP1;5,2;3,1\\nP2;4,4;3,0\\n")
    ';'
    >>> sniff_separator("Registro 2024\\n\\nid,das28_baseline\\n1,5.2\\n")
    ','
    """
    sample = "\n".join(text.splitlines()[:200])
    scores = {}
    for separator in SEPARATORS:
        reader = csv.reader(io.StringIO(sample), delimiter=separator)
        widths = Counter(len(row) for row in reader if len(row) > 1)
        if widths:
            width, agree = widths.most_common(1)[0]
            scores[separator] = (agree, width)
    if not scores:
        return None
    ranked = sorted(scores, key=lambda s: scores[s], reverse=True)
    if len(ranked) > 1 and scores[ranked[0]] == scores[ranked[1]]:
        first, second = (_SEPARATOR_NAMES[s] for s in ranked[:2])
        raise ValueError(f"both {first} and {second} split {scores[ranked[0]][0]} lines into "
                         f"{scores[ranked[0]][1]} fields: the separator cannot be told")
    return ranked[0]


def _decode_csv(path: Path) -> Decoded:
    notes: list[str] = []
    text = _text(path, _read_bytes(path), strict=False, notes=notes)
    try:
        separator = sniff_separator(text) or ","
    except ValueError as error:
        raise InputError(path, f"{error}; save the file with one separator, or quote text "
                         "cells that contain it") from None
    if separator != ",":
        notes.append(f"separator {_SEPARATOR_NAMES[separator]}")
    grid = _csv_grid(path, text, separator)
    decoded = Decoded(path, "csv", [grid], "line", decimal="comma-separated", notes=notes)
    if separator != ",":
        decoded.decimal = _decimal_commas(grid.cells, notes)
    return decoded


def _csv_grid(path: Path, text: str, separator: str) -> Grid:
    """The cells of a CSV text, with the line each row starts on and its width."""
    fast = _plain_grid(text, separator)
    if fast is not None:
        return fast
    # The csv module, not pandas, splits quoted text: it keeps the line numbers, and
    # pandas silently turns a row with one field too many into an index.
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=separator, strict=True)
    rows, lines, start = [], [], 1
    try:
        for row in reader:
            if row:
                rows.append(row)
                lines.append(start)
            start = reader.line_num + 1
    except csv.Error as error:
        raise InputError(path, f"cannot be parsed as CSV ({error})", row=reader.line_num - 1
                         ) from None
    widths = np.array([len(row) for row in rows], dtype=np.int64)
    width = int(widths.max(initial=0))
    cells = pd.DataFrame([row + [""] * (width - len(row)) for row in rows], dtype=str)
    return Grid(cells, np.array(lines, dtype=np.int64), widths)


def _plain_grid(text: str, separator: str) -> Grid | None:
    """The fast path: pandas' C parser, where it reads exactly what the csv module would.

    Without any quote character, CSV is lines split at the separator, and pandas' parser
    reads it ten times faster than the csv module (a million-patient file has millions
    of rows). Anything it could read differently (quotes, lone carriage returns, lines of
    spaces) returns None.
    """
    if '"' in text:
        return None
    if "\r" in text:  # Windows line ends are common; a lone carriage return is not
        if text.count("\r") != text.count("\r\n"):
            return None
        text = text.replace("\r\n", "\n")
    encoded = text.encode("utf-8")
    rectangular = _rectangular_grid(encoded, separator)
    if rectangular is not None:
        return rectangular
    data = np.frombuffer(encoded, dtype=np.uint8)
    separators = np.flatnonzero(data == ord(separator))
    starts, ends = _line_bounds(data)
    filled = ends > starts
    widths = (np.searchsorted(separators, ends) - np.searchsorted(separators, starts))[filled] + 1
    if not len(widths):
        return None
    width = int(widths.max())
    try:
        cells = pd.read_csv(io.StringIO(text), sep=separator, header=None,
                            names=range(width), dtype=str, keep_default_na=False,
                            na_filter=False, skip_blank_lines=True, engine="c",
                            quoting=csv.QUOTE_NONE)
    except (pd.errors.ParserError, ValueError):
        return None
    if len(cells) != len(widths):  # a line of spaces only, say
        return None
    lines = np.flatnonzero(filled) + 1
    return Grid(cells, lines.astype(np.int64), widths.astype(np.int64))


def _line_bounds(data: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Where each line of a UTF-8 text (as bytes) starts and ends (its newline)."""
    newlines = np.flatnonzero(data == ord("\n"))
    return np.concatenate([[0], newlines + 1]), np.append(newlines, len(data))


def _rectangular_grid(encoded: bytes, separator: str) -> Grid | None:
    """The fastest path: Arrow's CSV reader, for a file whose every line has as many
    fields as its first (most files); None for any other.

    Arrow reads a registry export of millions of rows in a second or two, into compact
    string columns (pandas' parser makes a Python string of every cell first: gigabytes
    at a million patients). Only what the plain path reads the same way comes here: no
    quotes (the caller checks), ``\n`` line ends, every cell text (nothing becomes
    missing). A line with another number of fields, or a line of spaces, makes Arrow
    stop, and the plain path reads the file instead.
    """
    first = encoded.split(b"\n", 1)[0]
    width = first.count(separator.encode("utf-8")) + 1
    if not first.strip():
        return None
    names = [str(i) for i in range(width)]
    try:
        table = pacsv.read_csv(
            pa.py_buffer(encoded),
            read_options=pacsv.ReadOptions(column_names=names, use_threads=True),
            parse_options=pacsv.ParseOptions(delimiter=separator, quote_char=False,
                                             escape_char=False, newlines_in_values=False,
                                             ignore_empty_lines=True),
            convert_options=pacsv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.large_string()), null_values=[],
                strings_can_be_null=False, quoted_strings_can_be_null=False))
    except pa.ArrowInvalid:  # a row of another width: the plain path reports widths
        return None
    if b"\n\n" in encoded:  # blank lines: each row's line, counted
        starts, ends = _line_bounds(np.frombuffer(encoded, dtype=np.uint8))
        lines = np.flatnonzero(ends > starts) + 1  # the non-empty lines, 1-based
    else:  # row r on line r (the first line is not blank: checked above)
        lines = np.arange(1, table.num_rows + 1)
    if len(lines) != table.num_rows:  # a line Arrow read otherwise: not this path's
        return None
    # Large strings are what pandas' str columns hold: handed over without a copy (1.3 s
    # and a copy of every cell at a million patients, as 32-bit-offset strings).
    cells = table.to_pandas(
        types_mapper={pa.large_string(): pd.StringDtype(na_value=np.nan)}.get)
    cells.columns = range(width)
    return Grid(cells, lines.astype(np.int64), np.full(len(lines), width, dtype=np.int64))


#: A number whose only point groups three digits (1.000, 12.500).
GROUPED_NUMBER = r"\s*[+-]?[0-9]{1,3}(?:\.[0-9]{3})+\s*"
# A number with points between groups of three digits, and perhaps a decimal comma.
_GROUPED_DECIMAL = r"\s*[+-]?[0-9]{1,3}(?:\.[0-9]{3})+(?:,[0-9]+)?\s*"


def _grouped_only(cells: pd.DataFrame) -> bool:
    """Whether every number with a point groups three digits after it (``1.000``): in a
    file of a comma-decimal locale these may be thousands, unless another number shows
    that points are decimals (``4.5``)."""
    grouped = False
    for column in cells.columns:
        values = cells[column]
        if not values.str.contains(".", regex=False).any():
            continue
        points = values.str.fullmatch(_POINT_NUMBER).to_numpy().sum()
        thousands = values.str.fullmatch(GROUPED_NUMBER).to_numpy().sum()
        if points > thousands:
            return False
        grouped = grouped or thousands > 0
    return grouped


def _decimal_commas(cells: pd.DataFrame, notes: list[str]) -> str:
    """Read decimal commas (``5,2``) as points in a file whose separator allows them.

    Converted only when no cell is a number with a decimal point: a file that mixes both
    marks (or writes ``1.234,5``) is left for validation to refuse, never guessed.
    """
    commas = {}
    for column in cells.columns:
        values = cells[column]
        if values.str.contains(",", regex=False).any():
            comma = values.str.fullmatch(_COMMA_NUMBER)
            if comma.any():
                commas[column] = comma
    if not commas:
        return "grouped" if _grouped_only(cells) else "point"
    # Points in a file with decimal commas: thousands separators if every one groups
    # three digits (1.000, 1.250,5), else two decimal marks in one file.
    grouped = {}
    for column in cells.columns:
        values = cells[column]
        if not values.str.contains(".", regex=False).any():
            continue
        point = values.str.fullmatch(_POINT_NUMBER)
        thousands = values.str.fullmatch(_GROUPED_DECIMAL)
        if (point & ~values.str.fullmatch(GROUPED_NUMBER)).any():
            notes.append("decimal mark unclear: both decimal commas and decimal points")
            return "mixed"
        if thousands.any():
            grouped[column] = thousands
    removed = 0
    for column, thousands in grouped.items():
        cells.loc[thousands, column] = cells.loc[thousands, column].str.replace(
            ".", "", regex=False)
        removed += int(thousands.sum())
        commas[column] = cells[column].str.fullmatch(_COMMA_NUMBER)
    if removed:
        notes.append(f"thousands separators (points) removed from {removed:,} "
                     f"number{'s' if removed != 1 else ''}")
    count = 0
    for column, comma in commas.items():
        cells.loc[comma, column] = cells.loc[comma, column].str.replace(",", ".", regex=False)
        count += int(comma.sum())
    notes.append(f"decimal commas ({count:,} numbers)")
    return "comma"


# --- xlsx ------------------------------------------------------------------------------


def _cell_text(value) -> str:
    """A spreadsheet or Parquet cell as the text a CSV would hold."""
    if value is None or value is pd.NA or value is pd.NaT:
        return ""
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        if math.isnan(value):
            return ""
        # Whole numbers are stored as floats by spreadsheets: 6.0 is "6", as typed.
        return str(int(value)) if value.is_integer() and abs(value) < 2**53 else repr(
            float(value))
    if isinstance(value, dt.datetime):
        return (value.date().isoformat() if value.time() == dt.time() else
                value.isoformat())
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    return str(value)


def _xlsx_text(value, counts: Counter) -> str:
    """A cell's text; a text cell holding a number with a decimal comma becomes that
    number, unless the comma could be a thousands separator (three digits after it)."""
    text = _cell_text(value)
    if isinstance(value, str) and "," in text and re.fullmatch(_COMMA_NUMBER, text):
        if re.fullmatch(r"\s*[+-]?[0-9]{1,3},[0-9]{3}\s*", text):
            counts["ambiguous"] += 1
            return text
        counts["comma"] += 1
        return text.replace(",", ".")
    return text


def _decode_xlsx(path: Path, sheet: str | None) -> Decoded:
    import openpyxl  # deferred: only spreadsheets need it

    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many types for a damaged file
        raise InputError(path, f"cannot be read as an .xlsx workbook ({error})") from None
    counts: Counter = Counter()
    try:
        if sheet is not None and sheet not in book.sheetnames:
            raise InputError(path, f"has no sheet {quote_value(sheet)}; its sheets are "
                             f"{', '.join(map(quote_value, book.sheetnames))}")
        names = [sheet] if sheet is not None else list(book.sheetnames)
        grids = []
        for name in names:
            rows = [[_xlsx_text(v, counts) for v in row]
                    for row in book[name].iter_rows(min_row=1, values_only=True)]
            width = max((len(r) for r in rows), default=0)
            cells = pd.DataFrame([r + [""] * (width - len(r)) for r in rows], dtype=str)
            grids.append(Grid(cells, np.arange(1, len(rows) + 1, dtype=np.int64), None,
                              name))
    finally:
        book.close()
    if _has_formulas(path):
        _find_uncached_formulas(path, grids)
    notes = []
    if counts["comma"]:
        notes.append(f"decimal commas in {counts['comma']:,} text cells read as numbers")
    return Decoded(path, "xlsx", grids, "spreadsheet row", decimal="sheet", notes=notes)


def _has_formulas(path: Path) -> bool:
    """Whether any worksheet holds a formula (its XML has an ``<f>`` element)."""
    with zipfile.ZipFile(path) as archive:
        for name in archive.namelist():
            if name.startswith("xl/worksheets/") and name.endswith(".xml"):
                with archive.open(name) as handle:
                    for chunk in iter(lambda: handle.read(1 << 20), b""):
                        if b"<f>" in chunk or b"<f " in chunk or b"<f/>" in chunk:
                            return True
    return False


def _find_uncached_formulas(path: Path, grids: list[Grid]) -> None:
    """Mark formula cells whose saved value is missing (read as empty)."""
    import openpyxl
    from openpyxl.utils import get_column_letter

    book = openpyxl.load_workbook(path, read_only=True, data_only=False)
    try:
        for grid in grids:
            for r, row in enumerate(book[grid.name].iter_rows(min_row=1, values_only=True)):
                for c, value in enumerate(row):
                    if (isinstance(value, str) and value.startswith("=")
                            and r < len(grid.cells) and grid.cells.iat[r, c] == ""):
                        grid.uncached[(r, c)] = f"{get_column_letter(c + 1)}{r + 1}"
    finally:
        book.close()


# --- Parquet ---------------------------------------------------------------------------


def _parquet_grid(path: Path) -> Grid:
    try:
        frame = pd.read_parquet(path)
    except Exception as error:  # pyarrow raises many types for a damaged file
        raise InputError(path, f"cannot be read as Parquet ({error})") from None
    if frame.empty:
        raise InputError(path, "has no data rows")
    header = pd.DataFrame([[str(c) for c in frame.columns]])
    body = pd.DataFrame({i: _column_text(frame[c]) for i, c in enumerate(frame.columns)})
    cells = pd.concat([header, body], ignore_index=True).astype(str)
    return Grid(cells, np.arange(len(cells), dtype=np.int64))


def _column_text(column: pd.Series) -> pd.Series:
    """A typed column as the text a CSV would hold, as :func:`_cell_text` writes cells,
    column-wise (a Parquet file may hold millions of rows)."""
    missing = column.isna().to_numpy()
    if pd.api.types.is_bool_dtype(column):
        text = column.map({True: "yes", False: "no"})
    elif pd.api.types.is_float_dtype(column):
        values = column.to_numpy(dtype=float, na_value=np.nan)
        whole = np.isfinite(values) & (values == np.round(values)) & (np.abs(values) < 2**53)
        text = pd.Series(values, index=column.index).astype(str)  # shortest repr
        text[whole] = values[whole].astype(np.int64).astype(str)
    elif pd.api.types.is_numeric_dtype(column):
        text = column.astype(str)
    elif pd.api.types.is_datetime64_any_dtype(column):
        text = column.map(_cell_text, na_action="ignore")
    else:
        text = column.map(_cell_text, na_action="ignore")
    text = text.astype(object)
    text[missing] = ""
    return text.astype(str).reset_index(drop=True)


# --- the strict reader of the project's own tables ----------------------------------------


def read_csv_text(path: str | Path, columns: Sequence[str] | None = None) -> pd.DataFrame:
    """Read one of the project's own CSV tables strictly, every cell as text.

    Parameters
    ----------
    path : str or Path
        UTF-8 without byte-order mark, comma-separated, one header row.
    columns : sequence of str, optional
        The exact header expected (order free). Missing, extra or renamed columns raise.

    Returns
    -------
    DataFrame
        All cells as ``str``; empty cells are ``""``. The index is the 1-based data row.

    Raises
    ------
    InputError
        One line naming file, row and column.

    Notes
    -----
    pandas' default NA parsing is off on purpose: the paper prints "None" and "NA" as
    words that mean something ("no comorbidities", "not available").
    """
    path = Path(path)
    _check_file(path)
    text = _text(path, _read_bytes(path), strict=True, notes=[])
    grid = _csv_grid(path, text, ",")
    width = int(grid.widths[0])
    short_or_long = np.flatnonzero(grid.widths != width)
    if len(short_or_long):
        at = int(short_or_long[0])
        raise InputError(path, f"has {grid.widths[at]} fields where the header has {width}",
                         row=int(grid.lines[at]) - 1)
    header = grid.cells.iloc[0].tolist()
    frame = grid.cells.iloc[1:].copy()
    frame.columns = header
    frame.index = pd.RangeIndex(1, len(frame) + 1)
    if columns is not None:
        check_header(header, columns, lambda message, column=None: InputError(
            path, message, row=0, column=column))
    if len(set(header)) != len(header):
        repeated = next(name for i, name in enumerate(header) if name in header[:i])
        raise InputError(path, "duplicate column name", row=0, column=repeated)
    if frame.empty:
        raise InputError(path, "has a header but no data rows")
    for column in frame.columns:
        broken = frame[column].str.contains(r"[\r\n]", regex=True)
        if broken.any():
            raise InputError(path, "cell contains a line break", row=int(broken.idxmax()),
                             column=column)
    return frame


def check_header(header: Sequence[str], expected: Sequence[str], fail) -> None:
    """Check a file's header against the exact columns expected (order free).

    Parameters
    ----------
    header : sequence of str
        The file's column names.
    expected : sequence of str
        The columns it must have, and only those.
    fail : callable
        ``fail(message, column=None)`` returns the exception to raise, located in the
        file's header.

    Examples
    --------
    >>> check_header(["b", "a"], ["a", "b"], ValueError)
    >>> check_header(["a", "c"], ["a", "b"], lambda m, column=None: ValueError(m, column))
    Traceback (most recent call last):
    ValueError: ("required column is missing (found unexpected 'c')", 'b')
    """
    header, expected = list(header), list(expected)
    if len(header) == 1 and any(sep in header[0] for sep in ";\t|"):
        raise fail(f"header {header[0]!r} is not comma-separated")
    if any(not name.strip() for name in header):
        raise fail("a column has an empty name")
    missing = [c for c in expected if c not in header]
    extra = [c for c in header if c not in expected]
    if missing:
        hint = f" (found unexpected {extra[0]!r})" if extra else ""
        raise fail(f"required column is missing{hint}", column=missing[0])
    if extra:
        raise fail(f"unexpected column; expected only {expected}", column=extra[0])
