"""A cohort file in the shapes clinics use, turned into the tidy measurement table.

Format and shape are detected, not declared:

- **format**: CSV (UTF-8), Excel ``.xlsx`` (the first sheet, or ``sheet=``) or Parquet,
  recognised by the file's first bytes rather than its name;
- **shape**: *tidy*, one row per patient, measure and visit with the columns of
  :data:`helpers.vocab.MEASUREMENT_COLUMNS`; or *wide*, one row per patient with a
  ``patient_id`` column and one column per measure and visit, named
  ``<measure>_<timepoint>`` where the timepoint is ``baseline`` or ``m<months>``
  (``das28_baseline``, ``das28_m6``, ``sledai2k_m12``).

:func:`read_cohort_text` returns the tidy table as text cells, with a
:class:`Locator` that maps each tidy cell back to the row and column of the file it came
from, so that every later error still names the place the user can find and fix:
spreadsheet row numbers for ``.xlsx``, the wide column (``das28_m6``) for wide files.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from helpers import paths
from helpers.errors import InputError, quote_value
from helpers.io import check_header, read_csv_text
from helpers.vocab import BASELINE, MEASUREMENT_COLUMNS, Codebook

__all__ = ["Locator", "WIDE_COLUMN", "detect_format", "read_cohort_text", "read_table"]

#: A wide column name: ``<measure>_<timepoint>``, the timepoint ``baseline`` or
#: ``m<months>``. The measure part is as short as possible, so ``das28_esr_m6`` is
#: DAS28-ESR at month 6.
WIDE_COLUMN = re.compile(rf"(?P<measure>[a-z][a-z0-9_]*?)_(?P<timepoint>{BASELINE}|"
                         r"m(?P<month>[0-9]{1,4}))")
_XLSX_MAGIC = b"PK\x03\x04"
_PARQUET_MAGIC = b"PAR1"


@dataclass(frozen=True)
class Locator:
    """Where the cells of a tidy table came from in the user's file.

    Attributes
    ----------
    source : str
        The file (and sheet) as messages print it.
    line_label : str or None
        What the file calls a row's position: ``"line"`` (CSV), ``"spreadsheet row"``
        (xlsx), None (Parquet has no lines).
    rows, columns : numpy.ndarray or None
        For a wide file, the file row and file column of each tidy row's ``value``;
        None when the tidy table *is* the file.
    """

    source: str
    line_label: str | None
    rows: np.ndarray | None = None
    columns: np.ndarray | None = None

    def error(self, message: str, *, row: int | None = None, column: str | None = None
              ) -> InputError:
        """An :class:`InputError` at ``row`` and ``column`` of the tidy table."""
        if self.rows is not None and row is not None and row >= 1:
            wide_column = str(self.columns[row - 1])
            row_in_file = int(self.rows[row - 1])
            if column in ("measure", "timepoint", "month"):
                # These come from the wide column's name, that is from the header.
                row_in_file, column = 0, wide_column
            elif column in ("value", None):
                column = wide_column
            elif column == "unit":  # the unit comes from the codebook, not the file
                row_in_file, column = None, wide_column
            row = row_in_file
        return InputError(self.source, message, row=row, column=column,
                          line_label=self.line_label)

    def relocate(self, error: InputError) -> InputError:
        """``error`` (raised on the tidy table) moved to the place in the file."""
        return self.error(error.message, row=error.row, column=error.column)


def detect_format(path: Path) -> str:
    """``"xlsx"``, ``"parquet"`` or ``"csv"``, from the file's first bytes."""
    with open(path, "rb") as handle:
        head = handle.read(4)
    if head == _PARQUET_MAGIC:
        return "parquet"
    if head == _XLSX_MAGIC and path.suffix.lower() in (".xlsx", ".xlsm"):
        return "xlsx"
    return "csv"  # read_csv_text names other binary formats (gzip, ZIP, PDF ...)


def read_table(path: str | Path, *, sheet: str | None = None
               ) -> tuple[pd.DataFrame, Locator]:
    """Read a CSV, xlsx or Parquet file as text cells, data rows numbered from 1.

    Parameters
    ----------
    path : str or Path
    sheet : str, optional
        The xlsx sheet (default: the first); an error for other formats.

    Returns
    -------
    (DataFrame, Locator)
        Every cell ``str`` (empty cells ``""``), index the 1-based data row, and how
        messages name the file's rows.
    """
    path = Path(path)
    if not path.is_file():
        read_csv_text(path)  # names a folder, a device or a missing file, and raises
    kind = detect_format(path)
    if sheet is not None and kind != "xlsx":
        raise InputError(path, f"SHEET={sheet!r} is only for .xlsx files; this is {kind}")
    if kind == "xlsx":
        return _read_xlsx(path, sheet)
    if kind == "parquet":
        return _read_parquet(path), Locator(paths.display_path(path), None)
    return read_csv_text(path), Locator(paths.display_path(path), "line")


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
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    return str(value)


def _read_xlsx(path: Path, sheet: str | None) -> tuple[pd.DataFrame, Locator]:
    import openpyxl  # deferred: only spreadsheets need it

    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many types for a damaged file
        raise InputError(path, f"cannot be read as an .xlsx workbook ({error})") from None
    try:
        if sheet is None:
            worksheet = book.worksheets[0]
        elif sheet in book.sheetnames:
            worksheet = book[sheet]
        else:
            raise InputError(path, f"has no sheet {quote_value(sheet)}; its sheets are "
                             f"{', '.join(map(quote_value, book.sheetnames))}")
        rows = [[_cell_text(v) for v in row] for row in worksheet.iter_rows(values_only=True)]
        name = worksheet.title
    finally:
        book.close()
    locator = Locator(f"{paths.display_path(path)} [sheet {quote_value(name)}]",
                      "spreadsheet row")
    if not rows or not any(rows[0]):
        raise locator.error("first row is empty; expected the header row", row=0)
    header = [c.strip() for c in rows[0]]
    # Formatting can make a sheet wider than its data: unnamed, empty columns go.
    keep = [i for i, name in enumerate(header) if name or any(r[i] for r in rows[1:])]
    for i in keep:
        if not header[i]:
            raise locator.error("a column with data has no name", row=0,
                                column=openpyxl.utils.get_column_letter(i + 1))
    body = {number: [row[i] for i in keep] for number, row in enumerate(rows[1:], 1)
            if any(row[i] for i in keep)}  # blank rows are skipped, as in a CSV
    if not body:
        raise locator.error("has a header but no data rows")
    frame = pd.DataFrame(list(body.values()), index=pd.Index(list(body), dtype="int64"),
                         columns=[header[i] for i in keep], dtype=str)
    if frame.columns.has_duplicates:
        raise locator.error("duplicate column name", row=0,
                            column=str(frame.columns[frame.columns.duplicated()][0]))
    return frame, locator


def _read_parquet(path: Path) -> pd.DataFrame:
    try:
        frame = pd.read_parquet(path)
    except Exception as error:  # pyarrow raises many types for a damaged file
        raise InputError(path, f"cannot be read as Parquet ({error})") from None
    if frame.empty:
        raise InputError(path, "has no data rows")
    text = pd.DataFrame({str(c): _column_text(frame[c]) for c in frame.columns})
    text.index = pd.RangeIndex(1, len(text) + 1)
    return text


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
        text = column.map(lambda value: value.isoformat(), na_action="ignore")
    else:
        text = column.map(_cell_text, na_action="ignore")
    text = text.astype(object)
    text[missing] = ""
    return text.astype(str)


def read_cohort_text(path: str | Path, codebook: Codebook, *, sheet: str | None = None
                     ) -> tuple[pd.DataFrame, Locator, str]:
    """Read a cohort file of any supported format and shape as a tidy text table.

    Parameters
    ----------
    path : str or Path
    codebook : Codebook
        Declares the measures a wide file's column names may use, and their units.
    sheet : str, optional
        The xlsx sheet.

    Returns
    -------
    (DataFrame, Locator, str)
        The tidy table (columns :data:`~helpers.vocab.MEASUREMENT_COLUMNS`, text,
        index 1..n), where its cells came from, and the shape (``"tidy"``/``"wide"``).

    Raises
    ------
    InputError
        A file that is neither shape, an unknown measure, a malformed wide column name
        or a repeated patient, located in the file.
    """
    path = Path(path)
    text, locator = read_table(path, sheet=sheet)
    columns = [str(c).strip() for c in text.columns]
    text.columns = columns
    # One column is a tidy file whose header did not split (such as ';'-separated).
    if "measure" in columns or "timepoint" in columns or len(columns) == 1:
        check_header(columns, MEASUREMENT_COLUMNS, lambda message, column=None:
                     locator.error(message, row=0, column=column))
        return text, locator, "tidy"
    if "patient_id" in columns and any(WIDE_COLUMN.fullmatch(c) for c in columns):
        return (*_wide_to_tidy(text, codebook, locator), "wide")
    raise locator.error(
        "is neither tidy (columns " + ", ".join(MEASUREMENT_COLUMNS) + ") nor wide "
        "(patient_id and columns such as das28_baseline, das28_m6)", row=0)


def _wide_to_tidy(text: pd.DataFrame, codebook: Codebook, locator: Locator
                  ) -> tuple[pd.DataFrame, Locator]:
    """One tidy row per cell of each ``<measure>_<timepoint>`` column."""
    measure_columns, ignored = [], []
    for column in text.columns:
        match = WIDE_COLUMN.fullmatch(column)
        if column == "patient_id":
            continue
        if match is None:
            known = next((code for code in codebook if column.startswith(code + "_")), None)
            if known is not None:  # a measure with a malformed visit: a typo, not extra
                raise locator.error(f"is not <measure>_<timepoint>: the timepoint after "
                                    f"{known!r} must be {BASELINE!r} or m<months> (such "
                                    f"as {known}_m6)", row=0, column=column)
            ignored.append(column)
            continue
        if match["measure"] not in codebook:
            raise locator.error(f"measure {match['measure']!r} is not in {codebook.source};"
                                " declare it in a codebook (CODEBOOK=codebook.csv)", row=0,
                                column=column)
        measure_columns.append((column, match))
    if ignored:
        print(f"note: {locator.source}: column(s) {', '.join(map(quote_value, ignored[:5]))}"
              f"{' ...' if len(ignored) > 5 else ''} are not <measure>_<timepoint> and are "
              "not analysed", file=sys.stderr)
    ids = text["patient_id"].str.strip()
    empty = ids == ""
    if empty.any():
        raise locator.error("is empty", row=int(empty.idxmax()), column="patient_id")
    repeated = ids.duplicated()
    if repeated.any():
        row = int(repeated.idxmax())
        raise locator.error(f"patient {quote_value(ids[row])} has a second row; a wide "
                            "file has one row per patient", row=row, column="patient_id")
    visits = {}
    for column, match in measure_columns:
        month = 0 if match["timepoint"] == BASELINE else int(match["month"])
        # m06 and m6 are the same visit; a second column for it is a duplicate.
        timepoint = BASELINE if month == 0 and match["timepoint"] == BASELINE else f"m{month}"
        key = (match["measure"], timepoint)
        if key in visits:
            raise locator.error(f"is the same measure and visit as column "
                                f"{visits[key]!r}", row=0, column=column)
        visits[key] = column
    n = len(text)
    keys = list(visits)
    tidy = pd.DataFrame({
        "patient_id": np.tile(ids.to_numpy(dtype=object), len(keys)),
        "measure": np.repeat([m for m, _ in keys], n),
        "timepoint": np.repeat([t for _, t in keys], n),
        "month": np.repeat([str(0 if t == BASELINE else int(t[1:])) for _, t in keys], n),
        "value": np.concatenate([text[visits[k]].to_numpy(dtype=object) for k in keys])
        if keys else np.array([], dtype=object),
        "unit": np.repeat([codebook[m].unit for m, _ in keys], n),
    }, dtype=str)
    tidy.index = pd.RangeIndex(1, len(tidy) + 1)
    located = Locator(locator.source, locator.line_label,
                      rows=np.tile(text.index.to_numpy(), len(keys)),
                      columns=np.repeat([visits[k] for k in keys], n))
    return tidy, located
