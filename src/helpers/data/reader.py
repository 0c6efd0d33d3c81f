"""Reading a cohort file: the pipeline of stages, in one direction.

========== ========================================== =================================
stage      what it decides                            module
========== ========================================== =================================
decode     encoding, separator, decimal mark, cells   :mod:`helpers.data.decode`
locate     sheet, header row(s), footer rows          :mod:`helpers.data.locate`
shape      tidy, wide, visit rows or REDCap -> long   :mod:`helpers.data.shapes`
interpret  measure names, units, visits               :mod:`helpers.data.interpret`
validate   numbers, ranges, pairs                     :mod:`helpers.data.schema`
derive     DAS28 from its components                  :func:`helpers.scores.derive_das28`
========== ========================================== =================================

Each stage is a small function of the previous one's result and records what it decided
in a :class:`Reading`, which ``make analysis`` prints as its summary and puts in the
report. Every error, from any stage, is one line naming the input (``DATA``), the file,
the row as the file numbers it and the column as the file names it. Deriving DAS28 is
the pipeline's last step (:mod:`helpers.pipeline.cohort`), as the scores are statistics.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from helpers.data.decode import decode
from helpers.data.interpret import interpret
from helpers.data.locate import locate
from helpers.data.names import MeasureIndex
from helpers.data.shapes import recognises, to_long
from helpers.errors import InputError
from helpers.formats import round_significant
from helpers.io import write_bytes
from helpers.vocab import MEASURE_CODES, MEASURES, Codebook, name_key

__all__ = ["EXPECTED_HEADER", "Reading", "read_cohort", "read_measurements", "read_validated",
           "validated_table", "write_validated"]

#: What a measurements header looks like, for messages.
EXPECTED_HEADER = ("a patient id column (patient_id, ID) and measures (das28_baseline, "
                   "das28_m6; or measure, timepoint, value)")


@dataclass
class Reading:
    """What reading a file decided, for the run's summary and the report.

    Attributes
    ----------
    source : str
        The file as messages name it.
    shape : str
        ``tidy``, ``wide``, ``visit rows`` or ``REDCap``.
    notes : list of str
        Every decision, in stage order (encoding, separator, sheet, header, rows left
        out, measure names, visits, DAS28 computed...).
    units : dict
        Measure code -> its unit, and where it was stated or converted from.
    """

    source: str
    shape: str = ""
    notes: list[str] = field(default_factory=list)
    units: dict = field(default_factory=dict)

    def summary(self) -> list[str]:
        """The decisions as lines, for the terminal and the report."""
        lines = [f"read as {self.shape}"] + self.notes
        if self.units:
            lines.append("units: " + ", ".join(f"{code} {how}" for code, how in
                                               self.units.items()))
        return lines


def read_cohort(path: str | Path, *, codebook: Codebook = MEASURES,
                measures: Iterable[str] | None = None, chosen: Iterable[str] | None = None,
                sheet: str | None = None, units: Mapping[str, str] | None = None,
                baseline: str | None = None, start: str | None = None,
                argument: str | None = None) -> tuple[pd.DataFrame, Reading]:
    """Read and validate a measurements file of any supported format and shape.

    Parameters
    ----------
    path : str or Path
        CSV (any of ``, ; tab |``, UTF-8 or Windows-1252), xlsx or Parquet.
    codebook : Codebook
        The measures, their names and units.
    measures : iterable of str, optional
        Allowed values of ``measure`` after reading (default: every measure of the
        codebook).
    chosen : iterable of str, optional
        The measures the user chose (``MEASURES=``): measures that no codebook declares
        are then left out with a note instead of stopping the run.
    sheet : str, optional
        The xlsx sheet (default: the one sheet that holds a table).
    units : mapping, optional
        Measure code -> unit, for measures whose unit the file does not state.
    baseline : str, optional
        The baseline's label, when it is none of the known synonyms.
    start : str, optional
        The treatment start: a date, or the name of a column.
    argument : str, optional
        The input's name in messages (``DATA``).

    Returns
    -------
    (DataFrame, Reading)
        The tidy, typed table (:func:`helpers.data.schema.check_measurements`) and what
        reading decided.

    Raises
    ------
    InputError
        One line: the input, the file, the row and column as the file has them.
    """
    path = Path(path)
    index = MeasureIndex(codebook)
    # Each stage's cells are let go once the next stage has its own (table.body = None,
    # ...): a registry export of millions of rows would otherwise be held five times over.
    try:
        decoded = decode(path, sheet=sheet)
        decimal = decoded.decimal
        table = locate(decoded, recognises(index), what="measurements",
                       expected=EXPECTED_HEADER, argument=argument)
        del decoded
        start_column = next((c for c in table.columns if start is not None
                             and name_key(c) == name_key(start)), None)
        long = to_long(table, index, measures=list(chosen or []), start=start_column)
        table.body = None
        interpreted = interpret(long, index, units=units, baseline=baseline,
                                start=None if start_column else start,
                                measures=list(chosen or []))
        long.frame = None
        # Imported here: pandera comes with the checks, and a notebook that reads the
        # table make analysis checked and handed on (read_validated) never needs it.
        from helpers.data.schema import check_measurements

        try:
            text, interpreted.frame = interpreted.frame, None
            frame = check_measurements(text, table.locator.source,
                                       factor=interpreted.factor, measures=measures,
                                       codebook=codebook, decimal=decimal)
            del text
        except InputError as error:
            raise long.locator.relocate(error) from None
    except InputError as error:
        raise error.given_as(argument) if argument else error from None
    reading = Reading(table.locator.source, long.shape,
                      table.notes + long.notes + interpreted.notes, interpreted.units)
    return frame, reading


def read_measurements(path: str | Path, measures: Iterable[str] | None = MEASURE_CODES,
                      *, codebook: Codebook = MEASURES, sheet: str | None = None,
                      sha256: str | None = None) -> pd.DataFrame:
    """Read and validate a measurements file (ours or a user's cohort).

    The tidy table only, for notebooks and tests: :func:`read_cohort` without its
    :class:`Reading`. With ``sha256``, ``path`` is the table ``make analysis`` validated
    and handed on (:func:`write_validated`): it is read as written, after its checksum
    is checked, and not validated again.

    Parameters
    ----------
    path : str or Path
        CSV, xlsx or Parquet, in any shape :func:`read_cohort` reads.
    measures : iterable of str or None, default the paper's three
        Allowed values of ``measure``; None allows every measure of ``codebook``.
    codebook : Codebook, default the built-in codebook
    sheet : str, optional
        The sheet of an xlsx file.
    sha256 : str, optional
        The checksum :func:`write_validated` returned for ``path``.

    Returns
    -------
    DataFrame
        Tidy and typed: ``month`` and ``value`` float (``value`` may be NaN);
        ``patient_id`` int when every label is a whole number, else text.

    Raises
    ------
    InputError
        The file is not a valid measurements table, or (``sha256``) it changed since it
        was validated.
    """
    if sha256 is not None:
        return read_validated(path, sha256)
    return read_cohort(path, codebook=codebook, measures=measures, sheet=sheet)[0]


def validated_table(frame: pd.DataFrame) -> pd.DataFrame:
    """The validated tidy table as every later step sees it: its numbers rounded to the
    12 significant digits its CSV holds (:func:`helpers.formats.round_significant`), so
    that the hand-off and ``measurements.csv`` give the same results."""
    return round_significant(frame)


def write_validated(frame: pd.DataFrame, path: str | Path) -> str:
    """Hand a validated tidy table on: written as Parquet (typed columns, read in a
    fraction of the time of the CSV); returns the file's SHA-256, which
    :func:`read_measurements` checks (``sha256=``).

    ``frame`` comes from :func:`read_cohort` (through :func:`validated_table`); nothing
    here validates it.
    """
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False, compression="zstd")
    data = buffer.getvalue()
    write_bytes(data, path)
    return hashlib.sha256(data).hexdigest()


def read_validated(path: str | Path, sha256: str) -> pd.DataFrame:
    """The table :func:`write_validated` wrote to ``path``, if its checksum is ``sha256``."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as error:
        raise InputError(path, f"cannot be read ({error.strerror})") from None
    if hashlib.sha256(data).hexdigest() != sha256:
        raise InputError(path, "changed since make analysis validated it (its SHA-256 "
                         "differs); run make analysis again")
    return pd.read_parquet(io.BytesIO(data))
