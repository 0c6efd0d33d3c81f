"""The one error type that bad input raises.

A clinician who feeds the pipeline a malformed file should see a single line that says
where the problem is (file, row, column) and what it is, never a traceback.
"""

from __future__ import annotations

import numbers
from pathlib import Path


def check_probability(value, name: str, example: float = 0.95) -> float:
    """A confidence level, significance level or proportion: a number strictly between
    0 and 1, or a ValueError in the one style every statistic uses.

    Examples
    --------
    >>> check_probability(0.9, "level")
    0.9
    >>> check_probability(95, "ci_level")
    Traceback (most recent call last):
    ...
    ValueError: ci_level must be a number strictly between 0 and 1 (such as 0.95), got 95
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0 < value < 1:
        raise ValueError(f"{name} must be a number strictly between 0 and 1 (such as "
                         f"{example:g}), got {value!r}")
    return float(value)


def refuse_text(value, name: str) -> None:
    """Raise a ValueError naming ``name`` when ``value`` holds text where numbers belong.

    numpy turns ``"5"`` into 5.0 without a word; in a statistic's input, text is a
    reading error (a column read as strings), so it is refused rather than converted.

    Examples
    --------
    >>> refuse_text([3, 10], "events")
    >>> refuse_text(["3", "10"], "events")
    Traceback (most recent call last):
    ...
    ValueError: events must be numbers, not text (got '3')
    """
    import numpy as np  # here: this module is imported by light command-line paths

    if isinstance(value, (str, bytes)):
        raise ValueError(f"{name} must be numbers, not text (got {value!r})")
    dtype = getattr(value, "dtype", None)
    if dtype is not None and getattr(dtype, "kind", "O") in "biufcmM":
        return  # numbers (or bool, dates): nothing to look at, whatever the length
    # A list is looked at item by item (numpy would turn [1, "2"] into ["1", "2"]).
    array = (np.asarray(value.to_numpy() if hasattr(value, "to_numpy") else value)
             if dtype is not None else np.asarray(value, dtype=object))
    if array.dtype.kind not in "OUS":
        return
    if array.dtype.kind in "US":
        first = array.ravel()[0] if array.size else ""
        raise ValueError(f"{name} must be numbers, not text (got {str(first)!r})")
    for item in array.ravel():  # object: mixed, such as numbers and None
        if isinstance(item, (str, bytes)):
            raise ValueError(f"{name} must be numbers, not text (got {item!r})")


def quote_value(value, limit: int = 60) -> str:
    r"""A value from a file, quoted for a one-line message.

    Letters stay as they are (``Età``, ``Sesso``); every other character beyond ASCII,
    and every non-printable one, is shown as an escape: an Arabic-Indic or fullwidth digit
    looks like a digit but is not one, and a zero-width space is invisible. Long values
    are cut with an ellipsis, so a message stays one readable line whatever the cell holds.

    Examples
    --------
    >>> print(quote_value("1\u0663"), quote_value("Età"), quote_value("x" * 100)[-5:])
    '1\u0663' 'Età' xxx…'
    """
    escaped = []
    for char in str(value):
        if char in "\\'":
            escaped.append("\\" + char)
        elif " " <= char <= "~" or (char.isalpha() and char.isprintable()):
            escaped.append(char)
        else:
            escaped.append(ascii(char)[1:-1])
    text = "'" + "".join(escaped) + "'"
    return text if len(text) <= limit else text[: limit - 2] + "…'"


class InputError(ValueError):
    """Bad input, located by file, data row and column.

    Parameters
    ----------
    source : str or Path
        The file the value came from.
    message : str
        What is wrong, in a few words.
    row : int, optional
        1-based data row (the header is row 0, so row ``r`` is on line ``r + 1``).
    column : str, optional
        The column name as it appears in the file.
    line_label : str or None, default "line"
        What the file calls the position of data row ``r`` (row ``r + 1`` counting the
        header): ``"line"`` for a CSV, ``"spreadsheet row"`` for an xlsx sheet; None for
        a format without lines (Parquet).
    line : int, optional
        The line (or spreadsheet row) itself, where it is not ``row + 1`` (title rows
        above the header).
    argument : str, optional
        Which input the file was given as (``DATA``, ``PATIENTS``, ``CODEBOOK``): the
        message starts with it, so that the user knows which file to fix.

    Examples
    --------
    >>> str(InputError("data/m.csv", "must be >= 0 (got -4)", row=3, column="value"))
    "data/m.csv, row 3 (line 4), column 'value': must be >= 0 (got -4)"
    >>> str(InputError("m.xlsx [sheet 'Data']", "is empty", row=3, column="value",
    ...                line_label="spreadsheet row", line=7, argument="DATA"))
    "DATA m.xlsx [sheet 'Data'], row 3 (spreadsheet row 7), column 'value': is empty"
    """

    def __init__(self, source, message, *, row=None, column=None, line_label="line",
                 line=None, argument=None):
        from helpers.paths import display_path

        self.source = display_path(source) if isinstance(source, Path) else str(source)
        self.row = row
        self.column = column
        self.line = line
        self.line_label = line_label
        self.argument = argument
        self.message = " ".join(str(message).split())  # one line, always
        where = []
        if row is not None:
            at = row + 1 if line is None else line
            where.append(f"row {row} ({line_label} {at})" if line_label else f"row {row}")
        if column is not None:
            # A column name comes from the file too: escaped, so the message stays one line.
            where.append(f"column {quote_value(column)}")
        #: Where in the file, without the file: "row 3 (line 4), column 'value'".
        self.location = ", ".join(where)
        source = f"{argument} {self.source}" if argument else self.source
        super().__init__(f"{', '.join([source, *where])}: {self.message}")

    def given_as(self, argument: str) -> InputError:
        """This error, naming the input (``DATA``, ``PATIENTS``...) the file was given as."""
        if self.argument:
            return self
        return InputError(self.source, self.message, row=self.row, column=self.column,
                          line_label=self.line_label, line=self.line, argument=argument)
