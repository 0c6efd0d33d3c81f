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
``thresholds`` (optional) clinical cut-offs drawn as reference lines, ``;``-separated
========================  ==================================================================

Its rows extend the built-in codebook (:data:`helpers.vocab.MEASURES`) and replace
built-in measures of the same code. :func:`codebook_table` writes a codebook back in the
same format, so that an analysis folder records the definitions it used.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from helpers import paths
from helpers.errors import InputError, quote_value
from helpers.io import format_float, read_csv_text
from helpers.vocab import BASELINE, MEASURES, Codebook, Measure, parse_yes_no

__all__ = ["CODEBOOK_COLUMNS", "OPTIONAL_COLUMNS", "codebook_table", "load_codebook",
           "read_codebook", "select_outcomes"]

#: Required columns of a codebook file, in order.
CODEBOOK_COLUMNS = ["measure", "label", "unit", "min", "max", "integer", "lower_is_better"]
#: Optional columns of a codebook file.
OPTIONAL_COLUMNS = ["mcid", "thresholds"]
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
    text = read_csv_text(path)
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


def _measure(cells: pd.Series, path: Path, row: int) -> Measure:
    def fail(column: str, message: str):
        return InputError(path, f"{message} (got {quote_value(cells[column])})", row=row,
                          column=column)

    code = cells["measure"]
    if not _CODE.fullmatch(code):
        raise fail("measure", "must be a code of lower-case letters, digits and _, "
                   "starting with a letter (such as das28_esr)")
    if not cells["label"]:
        raise fail("label", "is empty; give the name to print in tables and figures")

    def number(column: str, *, optional: bool = False) -> float | None:
        value = cells.get(column, "")
        if optional and value == "":
            return None
        try:
            number = float(value)
        except ValueError:
            raise fail(column, "is not a number") from None
        if not math.isfinite(number):
            raise fail(column, "is not a finite number")
        return number

    def yes_no(column: str) -> bool:
        try:
            answer = parse_yes_no(cells[column], column)
        except ValueError:
            answer = None
        if answer is None:
            raise fail(column, "must be yes or no")
        return answer

    low, high = number("min"), number("max")
    if low > high:
        raise fail("max", f"is below min ({low:g})")
    integer, lower_is_better = yes_no("integer"), yes_no("lower_is_better")
    mcid = number("mcid", optional=True)
    if mcid is not None and mcid <= 0:
        raise fail("mcid", "must be a positive difference")
    thresholds = []
    for part in filter(None, (p.strip() for p in cells.get("thresholds", "").split(";"))):
        try:
            value = float(part)
        except ValueError:
            raise fail("thresholds", "must be numbers separated by ';'") from None
        if not low <= value <= high:
            raise fail("thresholds", f"has {part} outside min-max ({low:g}-{high:g})")
        thresholds.append(value)
    return Measure.from_label(code, cells["label"], cells["unit"], low, high, integer,
                              lower_is_better=lower_is_better, mcid=mcid,
                              thresholds=tuple(thresholds),
                              source=paths.display_path(path))


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
    return MEASURES.extended(read_codebook(path), paths.display_path(path))


def codebook_table(codebook: Codebook) -> pd.DataFrame:
    """A codebook as the rows of a codebook file (numbers as text, as they are written).

    Examples
    --------
    >>> codebook_table(MEASURES).loc[1, ["measure", "min", "max", "mcid", "thresholds"]
    ...                              ].tolist()
    ['das28', '0', '10', '1.2', '2.6;3.2;5.1']
    """
    def number(value: float | None) -> str:
        if value is None:
            return ""
        return str(int(value)) if float(value).is_integer() else format_float(value)

    def yes_no(flag: bool) -> str:
        return "yes" if flag else "no"

    return pd.DataFrame([{
        "measure": m.code, "label": m.name, "unit": m.unit, "min": number(m.low),
        "max": number(m.high), "integer": yes_no(m.integer),
        "lower_is_better": yes_no(m.lower_is_better), "mcid": number(m.mcid),
        "thresholds": ";".join(number(t) for t in m.thresholds),
    } for m in codebook.values()], columns=CODEBOOK_COLUMNS + OPTIONAL_COLUMNS)


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
    present = [code for code in codebook if code in set(measurements["measure"])]
    followed = set(measurements.loc[measurements["timepoint"] != BASELINE, "measure"])
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
