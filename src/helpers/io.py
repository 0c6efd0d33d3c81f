"""Reading and writing files safely.

- Every write goes to a temporary file in the target folder and is renamed into place,
  so an interrupted or failed step never leaves a half-written output behind.
- Raw inputs are verified against ``SHA256SUMS`` before anything reads them.
- Every number written carries :data:`helpers.formats.SIGNIFICANT_DIGITS` significant
  digits (the output precision policy, :mod:`helpers.formats`).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd

from helpers.errors import InputError
from helpers.formats import distinct_floats, format_float, round_significant


# Characters that make a spreadsheet treat a cell as a formula (CSV injection, OWASP).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


@contextlib.contextmanager
def atomic_write(path: str | Path, mode: str = "w", **open_kwargs) -> Iterator[io.IOBase]:
    """Open a temporary file next to ``path`` and rename it over ``path`` on success.

    Parameters
    ----------
    path : str or Path
        Final destination. Its folder is created if missing.
    mode : {"w", "wb"}
        Text or binary.
    **open_kwargs
        Passed to :func:`open` (text mode defaults to UTF-8 with ``\\n`` newlines).

    Notes
    -----
    ``os.replace`` is atomic on POSIX within one file system, which is why the temporary
    file lives in the destination folder. On error the temporary file is removed and the
    previous ``path`` (if any) is untouched.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if "b" not in mode:
        open_kwargs.setdefault("encoding", "utf-8")
        open_kwargs.setdefault("newline", "\n")
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, mode, **open_kwargs) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        # mkstemp creates files 0600; outputs are ordinary project files.
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def write_text(text: str, path: str | Path) -> Path:
    """Write ``text`` to ``path`` atomically (UTF-8, ``\\n`` line endings)."""
    with atomic_write(path) as handle:
        handle.write(text)
    return Path(path)


def write_bytes(data: bytes, path: str | Path) -> Path:
    """Write ``data`` to ``path`` atomically."""
    with atomic_write(path, "wb") as handle:
        handle.write(data)
    return Path(path)


def neutralise_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """Prefix text cells that a spreadsheet would execute with an apostrophe.

    Only string cells are touched; numbers (including negative ones) are left alone.
    """
    out = frame.copy(deep=False)  # copy-on-write: the caller's frame stays as it is
    for column in out.columns:
        values = out[column]
        if values.dtype == object or pd.api.types.is_string_dtype(values):
            text = values.astype("string")
            risky = text.str.startswith(FORMULA_PREFIXES).fillna(False).astype(bool)
            if risky.any():
                out[column] = values.where(~risky, "'" + text)
    return out


def write_csv(frame: pd.DataFrame, path: str | Path) -> Path:
    """Write ``frame`` as CSV, deterministically and atomically.

    No index, ``\\n`` line endings, missing values as empty cells, floats under the
    precision policy (:func:`format_float`: 12 significant digits, so the file is the
    same bytes on every machine), and formula-looking text neutralised. Tables of
    :data:`FAST_CSV_ROWS` rows or more are built column by column in Arrow
    (:func:`_csv_blocks`): the bytes pandas' ``to_csv`` writes, ten times faster.
    """
    frame = neutralise_formulas(frame)
    # Floats inside object columns are rounded here, then written as they print.
    objects = [c for c in frame.columns if frame[c].dtype == object]
    if objects:
        frame[objects] = round_significant(frame[objects])
    if len(frame) >= FAST_CSV_ROWS and _arrow_writable(frame):
        header = frame.iloc[:0].to_csv(index=False, lineterminator="\n").encode("utf-8")
        with atomic_write(path, "wb") as handle:
            handle.write(header)
            for block in _csv_blocks(frame):
                handle.write(block)
        return Path(path)
    # Float columns as format_float writes each value, formatted once per distinct value
    # (a cohort's million measurements hold a few thousand): the bytes pandas'
    # float_format=format_float wrote, ten times faster.
    for column in frame.columns:
        if pd.api.types.is_float_dtype(frame[column].dtype):
            frame[column] = _formatted(frame[column])
    return write_text(frame.to_csv(index=False, lineterminator="\n"), path)


#: From this many rows :func:`write_csv` builds the file in Arrow (below, pandas'
#: ``to_csv`` is as fast and needs no ``pyarrow.compute``).
FAST_CSV_ROWS = 10_000


def _distinct_text(column: pd.Series) -> tuple[list[str], np.ndarray, np.ndarray]:
    """A float column's distinct values as :func:`format_float` writes them, the
    position of each present cell's among them, and which cells are present."""
    values = column.to_numpy(dtype=float, na_value=np.nan)
    present = ~np.isnan(values)
    distinct, positions = distinct_floats(values[present])
    return [format_float(x) for x in distinct], positions, present


def _formatted(column: pd.Series) -> pd.Series:
    """A float column as the text of its cells: :func:`format_float`, empty if missing."""
    distinct, positions, present = _distinct_text(column)
    text = np.full(len(column), "", dtype=object)
    text[present] = np.array(distinct, dtype=object)[positions]
    return pd.Series(text, index=column.index, name=column.name, dtype=object)


def _arrow_writable(frame: pd.DataFrame) -> bool:
    """Whether :func:`_csv_blocks` covers every column of ``frame`` (else pandas writes
    it): floats, integers, booleans, text and categories of text, in a table of two
    columns or more (in a one-column table an empty cell is a whole row, which the csv
    module writes ``""``).
    """
    if frame.shape[1] < 2:
        return False
    for name in frame.columns:
        dtype = frame[name].dtype
        if isinstance(dtype, pd.CategoricalDtype):  # categories of text only
            if pd.api.types.infer_dtype(dtype.categories) not in ("string", "empty"):
                return False
        elif not (pd.api.types.is_float_dtype(dtype) or pd.api.types.is_bool_dtype(dtype)
                  or pd.api.types.is_integer_dtype(dtype)
                  or (pd.api.types.is_string_dtype(dtype) and pd.api.types.infer_dtype(
                      frame[name], skipna=True) in ("string", "empty"))):
            return False
    return True


#: Rows built at a time by :func:`_csv_blocks`: its working memory is that of a block
#: (about 100 MB of text), not of the whole table.
CSV_BLOCK_ROWS = 1_000_000


def _csv_blocks(frame: pd.DataFrame) -> Iterator[memoryview]:
    """The body of ``frame.to_csv(index=False, lineterminator="\\n")`` as byte blocks,
    built column-wise in Arrow, :data:`CSV_BLOCK_ROWS` rows at a time, for a frame
    :func:`_arrow_writable` accepts.

    Cells are written as pandas writes them: floats by :func:`format_float`, integers
    in decimal, booleans ``True``/``False``, missing values empty, and text quoted as
    Python's csv module quotes it with ``QUOTE_MINIMAL`` and a ``\\n`` line terminator:
    only a cell holding a comma, a double quote or a line feed, its quotes doubled.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    comma, nothing, newline = map(_text_scalar, (",", "", "\n"))
    for first in range(0, len(frame), CSV_BLOCK_ROWS):
        rows = frame.iloc[first:first + CSV_BLOCK_ROWS]
        cells = []
        for name in rows.columns:
            column = rows[name]
            dtype = column.dtype
            # A cohort's columns hold few distinct values (measures, visits, units, a
            # few thousand numbers): each is written once, then taken into place.
            if isinstance(dtype, pd.CategoricalDtype):  # text categories, coded
                codes = column.cat.codes.to_numpy()
                categories = pa.array(list(dtype.categories), type=pa.large_string())
                text = pa.DictionaryArray.from_arrays(
                    pa.array(codes.astype(np.int32), mask=codes < 0),
                    _quoted(categories))
            elif pd.api.types.is_float_dtype(dtype):
                distinct, positions, present = _distinct_text(column)
                indices = np.full(len(column), len(distinct), dtype=np.int64)
                indices[present] = positions
                text = pa.DictionaryArray.from_arrays(
                    indices, pa.array([*distinct, ""], type=pa.large_string()))
            elif pd.api.types.is_bool_dtype(dtype):
                flags = pa.array(column.to_numpy(dtype=object, na_value=None),
                                 type=pa.bool_())
                text = pc.if_else(flags, "True", "False")
            elif pd.api.types.is_integer_dtype(dtype):
                text = pc.cast(pa.array(column, from_pandas=True), pa.large_string())
            else:  # text (_arrow_writable checked)
                encoded = pc.dictionary_encode(pc.cast(pa.array(column, from_pandas=True),
                                                       pa.large_string()))
                chunks = encoded.chunks if isinstance(encoded, pa.ChunkedArray) else [encoded]
                text = pa.chunked_array([pa.DictionaryArray.from_arrays(
                    chunk.indices, _quoted(chunk.dictionary))
                    for chunk in chunks], type=pa.dictionary(pa.int32(), pa.large_string()))
            cells.append(pc.fill_null(pc.cast(text, pa.large_string()), ""))
        # Each line ends in its terminator: a last cell of "\n" joined by no separator.
        lines = pc.binary_join_element_wise(pc.binary_join_element_wise(*cells, comma),
                                            newline, nothing)
        for chunk in lines.chunks if isinstance(lines, pa.ChunkedArray) else [lines]:
            if len(chunk):
                offsets = np.frombuffer(chunk.buffers()[1], dtype=np.int64)
                start, end = offsets[chunk.offset], offsets[chunk.offset + len(chunk)]
                yield memoryview(chunk.buffers()[2])[start:end]


def _text_scalar(value: str):
    """``value`` as an Arrow large string (what the text columns of _csv_blocks are)."""
    import pyarrow as pa

    return pa.scalar(value, type=pa.large_string())


def _quoted(text):
    """Text cells as Python's csv module writes them (``QUOTE_MINIMAL``, ``\\n``)."""
    import pyarrow.compute as pc

    quote = _text_scalar('"')
    quoted = pc.binary_join_element_wise(quote, pc.replace_substring(text, '"', '""'),
                                         quote, _text_scalar(""))
    return pc.if_else(pc.match_substring_regex(text, '[,"\n]'), quoted, text)


# --- Values from data in Markdown (narratives, the .md tables of helpers.tables) -------

# What Markdown or HTML would interpret in a value taken from data: the start of a tag
# (<img, </, <!, <?) or of an entity (&amp;, &#60;); links and images ([...]), code,
# strong emphasis and table cells; and an underscore at a word boundary (emphasis).
# Ordinary text keeps its look: "<= 0.6", "AT&T" and gc_mg_day stay as they are.
_HTML_START = re.compile(r"<(?=[A-Za-z/!?])|&(?=#?\w+;)")
_MARKDOWN_ESCAPED = re.compile(r"([\\`*\[\]|]|(?<!\w)_|_(?!\w))")


def escape_markdown(value) -> str:
    """A value from data, safe to place in Markdown text or a Markdown table cell.

    Every value that reaches a narrative, a ``.md`` table or the report goes through
    this one function: a ``<`` or ``&`` that would start a tag or an entity becomes an
    entity (so ``<img onerror=...>`` shows as text), and what Markdown reads as links,
    images, code, emphasis or a table cell boundary is backslash-escaped; line breaks
    become spaces. Ordinary labels pass
    unchanged.

    Examples
    --------
    >>> escape_markdown("Tani 2024"), escape_markdown("gc_mg_day"), escape_markdown(7)
    ('Tani 2024', 'gc_mg_day', '7')
    >>> print(escape_markdown("<img src=x onerror=alert(1)>"))
    &lt;img src=x onerror=alert(1)>
    >>> print(escape_markdown("[click](javascript:alert(1)) *x* _y_"))
    \\[click\\](javascript:alert(1)) \\*x\\* \\_y\\_
    """
    text = " ".join(str(value).split())
    text = _HTML_START.sub(lambda match: "&lt;" if match.group() == "<" else "&amp;", text)
    return _MARKDOWN_ESCAPED.sub(r"\\\1", text)


def sha256(path: str | Path) -> str:
    """Return the hex SHA-256 digest of a file."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def verify_checksums(folder: str | Path, manifest: str = "SHA256SUMS") -> dict[str, str]:
    """Check every file listed in ``folder/manifest`` against its recorded SHA-256.

    Parameters
    ----------
    folder : str or Path
        Folder holding the files and the manifest (``sha256sum`` format).
    manifest : str
        Manifest file name.

    Returns
    -------
    dict
        File name to digest, for provenance records.

    Raises
    ------
    InputError
        If the manifest is missing, a file is missing, or a digest differs.
    """
    folder = Path(folder)
    manifest_path = folder / manifest
    if not manifest_path.is_file():
        raise InputError(manifest_path, "checksum manifest not found")
    digests = {}
    for number, line in enumerate(manifest_path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        match = re.fullmatch(r"([0-9a-f]{64}) [ *](.+)", line.strip())
        if not match:
            raise InputError(manifest_path, f"line {number} is not '<sha256>  <file>'")
        expected, name = match.groups()
        target = folder / name
        if not target.is_file():
            raise InputError(target, f"listed in {manifest} but missing")
        actual = sha256(target)
        if actual != expected:
            raise InputError(
                target,
                f"checksum mismatch (expected {expected[:12]}…, got {actual[:12]}…): raw data "
                "are immutable; restore the file with 'git checkout -- data/raw'",
            )
        digests[name] = actual
    return digests
