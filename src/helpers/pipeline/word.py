"""The main tables as a Word document: ``tables.docx`` beside the report.

``python -m helpers.pipeline.word reports/tables reports/tables.docx`` reads the result
tables of a run (the CSV files of ``tables_dir``) and writes the ones a manuscript needs,
each as a real Word table: the cohort summary, the pre/post comparisons, the response
criteria and, where the run has a review, the pooled estimates of the meta-analysis. A
table whose CSV is missing (a cohort without a patients table, ``make analysis`` without a
review) is left out.

Every cell is what the report shows: the frames go through :func:`helpers.tables.table`
with the columns, labels and intervals the notebooks display them with (:data:`TABLES`),
so labels, decimals, the em dash for a missing value and yes/no are the report's. Only
the presentation is Word's: a header row repeated on every page, numbers right-aligned,
group headings (cohort sections, analysis sets) as rows of their own.

The file is the same bytes on every run: the zip's timestamps are fixed (1980-01-01, the
zip format's first date) and the document's properties carry no date, author or revision
of the moment (:func:`stable_docx`).
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import sys
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from helpers import paths
from helpers.errors import InputError
from helpers.displays import (cohort_table, pooled_changes_table, pooled_responders_table,
                              pooled_table, prepost_table, responders_summary_table)
from helpers.io import write_bytes
from helpers.tables import Table

#: The document properties' dates: fixed, so that a rerun writes the same bytes.
FIXED_DATE = dt.datetime(2000, 1, 1, tzinfo=dt.timezone.utc)
#: The zip entries' timestamp (the earliest a zip can hold).
ZIP_DATE = (1980, 1, 1, 0, 0, 0)


def _level(frame: pd.DataFrame, column: str, default: float = 0.95) -> float:
    """The confidence level a table was computed at (its ``column``), else ``default``."""
    if column in frame and frame[column].notna().any():
        return float(frame[column].dropna().iloc[0])
    return default


def _codebook(folder: Path):
    """The run's codebook: ``make analysis`` writes the one it used beside its tables
    (``OUT/data/codebook.csv``); elsewhere the built-in one."""
    from helpers.data.codebook import load_codebook

    written = folder.parent / "data" / "codebook.csv"
    try:
        return load_codebook(written if written.is_file() else None)
    except (InputError, ValueError):  # not a codebook after all: the built-in names
        return load_codebook(None)


# Each table as its notebook displays it (helpers.displays: one definition for both).

def _cohort_summary(frame: pd.DataFrame, folder: Path) -> Table:
    return cohort_table(frame)


def _prepost(frame: pd.DataFrame, folder: Path) -> Table:
    return prepost_table(frame, _codebook(folder))


def _responders_summary(frame: pd.DataFrame, folder: Path) -> Table:
    # Not displayed on its own in the report (responders.md has every column).
    return responders_summary_table(frame)


def _meta_pooled(frame: pd.DataFrame, folder: Path) -> Table:
    # meta_pooled.csv does not record the level; meta_bayes.csv, written by the same
    # notebook with the same level, does.
    bayes = folder / "meta_bayes.csv"
    return pooled_table(frame, _level(read_table(bayes), "level") if bayes.is_file() else 0.95)


def _pooled_changes(frame: pd.DataFrame, folder: Path) -> Table:
    return pooled_changes_table(frame, _pool_level(folder))


def _pooled_responders(frame: pd.DataFrame, folder: Path) -> Table:
    from helpers.scores import RESPONDER_CRITERIA

    return pooled_responders_table(frame, _pool_level(folder), dict(RESPONDER_CRITERIA))


def _pool_level(folder: Path) -> float:
    # The pooled tables do not record their level; the Bayesian sensitivity table,
    # written by the same notebook with the same level, does.
    bayes = folder / "pooled_responders_bayes.csv"
    return _level(read_table(bayes), "level") if bayes.is_file() else 0.95


@dataclass(frozen=True)
class Spec:
    """One table of the document: its CSV, its caption and how it is displayed."""

    csv: str
    caption: str
    display: Callable[[pd.DataFrame, Path], Table]
    #: The table is wide: a smaller type, on a landscape page.
    wide: bool = False


#: The document's tables, in order (each only where its CSV exists).
TABLES = (
    Spec("cohort_summary.csv", "Characteristics of the cohort", _cohort_summary),
    Spec("prepost.csv", "Pre/post comparisons: each outcome at follow-up against baseline",
         _prepost),
    Spec("responders_summary.csv", "Response criteria: patients meeting each",
         _responders_summary),
    Spec("meta_pooled.csv", "Pooled proportion of responders: meta-analyses of the review",
         _meta_pooled, wide=True),
    Spec("pooled_changes.csv", "Mean change from baseline pooled across sites",
         _pooled_changes, wide=True),
    Spec("pooled_responders.csv", "Responders pooled across sites (REML, logit, HKSJ)",
         _pooled_responders, wide=True),
)


def read_table(path: str | Path) -> pd.DataFrame:
    """A result CSV as written by :func:`helpers.io.write_csv` (empty cells missing).

    Text such as ``NA`` or ``None`` stays text: only an empty cell is a missing value.
    """
    return pd.read_csv(path, keep_default_na=False, na_values=[""])


def tables_of(folder: str | Path) -> list[tuple[Spec, Table]]:
    """The document's tables that ``folder`` holds, formatted as the report shows them."""
    folder = paths.resolve(folder)
    return [(spec, spec.display(read_table(folder / spec.csv), folder))
            for spec in TABLES if (folder / spec.csv).is_file()]


# --- Word -------------------------------------------------------------------------------


def _set_cell(cell, text: str, style: str, *, bold: bool = False, right: bool = False) -> None:
    from docx.enum.text import WD_ALIGN_PARAGRAPH

    paragraph = cell.paragraphs[0]
    # The style's id, set directly: python-docx's paragraph.style looks the style up by
    # name among the template's hundreds, for every cell.
    paragraph._p.get_or_add_pPr().style = style
    if right:
        paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    run = paragraph.add_run(text)
    if bold:
        run.bold = True


def _row_property(row, name: str) -> None:
    """Set a table-row property without a value (``w:tblHeader``, ``w:cantSplit``)."""
    from docx.oxml import OxmlElement

    row._tr.get_or_add_trPr().append(OxmlElement(f"w:{name}"))


#: A4 in centimetres, and the margins of the document's pages.
A4_CM, MARGIN_CM = (21.0, 29.7), 2.0
#: A cell's left and right margins in Word (5.4 pt each), its borders and some slack.
CELL_PADDING_PT = 2 * 5.4 + 4


def _wants_and_needs(shown: Table, size: float) -> tuple[list[float], list[float]]:
    """Per column, in points: the width of its longest cell, and of its longest word (a
    number, an interval included, counting as one), in ``size``-point type at about
    0.6 em a character (a header's bold words a tenth more)."""
    def width(characters: float) -> float:
        return min(characters, 45) * 0.6 * size + CELL_PADDING_PT

    want, need = [], []
    for i, header in enumerate(shown.header):
        heading = [1.1 * len(word) for word in header.text.split()]
        longest = [len(row[i].text) for row in shown.rows]
        words = [len(word) for row in shown.rows
                 for word in ([row[i].text] if row[i].numeric else row[i].text.split())]
        want.append(width(max(longest + heading + [1])))
        need.append(width(max(words + heading + [1])))
    return want, need


def column_widths(shown: Table, size: float, available: float) -> list[float]:
    """Each column's width in points, for ``size``-point type, within ``available``.

    A column wants room for its longest cell and needs room for its longest word
    (:func:`_wants_and_needs`). Where the wants together are wider than ``available``,
    the columns give up room between their words, in proportion to what they have
    there; where even the words do not fit, every column narrows in proportion.
    """
    want, need = _wants_and_needs(shown, size)
    if sum(want) <= available:
        return want
    if sum(need) >= available:
        return [width * available / sum(need) for width in need]
    keep = (available - sum(need)) / (sum(want) - sum(need))
    return [low + (high - low) * keep for low, high in zip(need, want, strict=True)]


def _text_width(landscape: bool) -> float:
    """The width of a page's text column, in points."""
    return (A4_CM[landscape] - 2 * MARGIN_CM) / 2.54 * 72


def _page(section, *, landscape: bool) -> None:
    """Make ``section`` an A4 page, portrait or landscape, with the document's margins."""
    from docx.enum.section import WD_ORIENT
    from docx.shared import Cm

    section.orientation = WD_ORIENT.LANDSCAPE if landscape else WD_ORIENT.PORTRAIT
    width, height = A4_CM[::-1] if landscape else A4_CM
    section.page_width, section.page_height = Cm(width), Cm(height)
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, side, Cm(MARGIN_CM))


def _word_table(document, shown: Table, style: str, size: float, *,
                available: float) -> None:
    """Add ``shown`` to ``document`` as a Word table, its text in paragraph ``style`` (id)
    of ``size`` points, at most ``available`` points wide."""
    from docx.shared import Pt

    widths = [Pt(width) for width in column_widths(shown, size, available)]
    groups = shown.groups or [None] * len(shown.rows)
    grid = document.add_table(rows=1 + len(shown.rows) + sum(g is not None for g in groups),
                              cols=len(widths))
    grid.style = "Table Grid"
    grid.autofit = False  # the widths below, in Word and LibreOffice alike
    for column, width in zip(grid.columns, widths, strict=True):
        column.width = width
    rows = iter(grid.rows)
    head = next(rows)
    _row_property(head, "tblHeader")  # repeated at the top of every page
    _row_property(head, "cantSplit")
    for target, cell, width in zip(head.cells, shown.header, widths, strict=True):
        target.width = width
        _set_cell(target, cell.text, style, bold=True, right=cell.numeric)
    for row, group in zip(shown.rows, groups, strict=True):
        if group is not None:
            heading = next(rows)
            _row_property(heading, "cantSplit")
            cells = heading.cells
            for target, width in zip(cells, widths, strict=True):
                target.width = width
            _set_cell(cells[0].merge(cells[-1]), group, style, bold=True)
        line = next(rows)
        _row_property(line, "cantSplit")
        for i, (target, cell) in enumerate(zip(line.cells, row, strict=True)):
            target.width = widths[i]
            label = i < shown.labels
            _set_cell(target, cell.text, style, bold=label, right=cell.numeric and not label)


def _table_style(document, name: str, size: float) -> str:
    """A paragraph style for table text, ``size`` points, no space after; returns its id."""
    from docx.enum.style import WD_STYLE_TYPE
    from docx.shared import Pt

    style = document.styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
    style.base_style = document.styles["Normal"]
    style.font.size = Pt(size)
    style.paragraph_format.space_after = Pt(0)
    style.paragraph_format.space_before = Pt(0)
    return style.style_id


def build_document(tables: Sequence[tuple[Spec, Table]], title: str):
    """A python-docx ``Document`` holding ``tables`` under ``title``."""
    import docx
    from docx.shared import Pt

    document = docx.Document()
    _page(document.sections[0], landscape=False)  # until the first table says otherwise
    document.styles["Normal"].font.size = Pt(10)
    document.add_heading(title, level=1)
    sizes = {False: 9, True: 8}
    text = {wide: _table_style(document, f"Table text {size}", size)
            for wide, size in sizes.items()}
    landscape = False
    if not tables:
        document.add_paragraph("No result tables were found.")
    for number, (spec, shown) in enumerate(tables, start=1):
        # A wide table (or one whose words do not fit across a portrait page: a cohort
        # with many visits) on landscape pages of its own.
        wide = spec.wide or sum(_wants_and_needs(shown, sizes[False])[1]) > _text_width(False)
        if number == 1:
            _page(document.sections[0], landscape=wide)
        elif wide != landscape:
            _page(document.add_section(), landscape=wide)
        landscape = wide
        caption = document.add_paragraph()
        caption.paragraph_format.keep_with_next = True
        caption.add_run(f"Table {number}. ").bold = True
        caption.add_run(spec.caption)
        _word_table(document, shown, text[wide], sizes[wide], available=_text_width(wide))
        note = document.add_paragraph()
        if shown.note:
            note.add_run(shown.note + " ").italic = True
        note.add_run(f"Source: {spec.csv}.").font.size = Pt(8)
    properties = document.core_properties
    properties.title = title
    properties.author = properties.last_modified_by = ""
    properties.created = properties.modified = FIXED_DATE
    properties.last_printed = FIXED_DATE
    properties.revision = 1
    properties.comments = ""
    return document


def stable_docx(data: bytes) -> bytes:
    """The same .docx with every zip entry's timestamp and attributes fixed.

    python-docx stamps each entry with the time of writing; the entries' order and their
    compressed contents are already the same on every run.
    """
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for entry in source.infolist():
            info = zipfile.ZipInfo(entry.filename, date_time=ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            info.create_system = 3  # Unix, whatever the platform
            target.writestr(info, source.read(entry.filename))
    return out.getvalue()


def write_docx(folder: str | Path, output: str | Path, *,
               title: str = "Main tables") -> Path:
    """Write the main tables of ``folder`` (CSV files) to ``output`` (.docx), atomically.

    Parameters
    ----------
    folder : path
        A run's ``tables_dir`` (``reports/tables``, or ``OUT/tables`` of ``make analysis``).
    output : path
        The Word document.
    title : str
        The document's heading and title property.

    Returns
    -------
    Path
        ``output``.
    """
    return write_bytes(docx_bytes(folder, title=title), paths.resolve(output))


def docx_bytes(folder: str | Path, *, title: str = "Main tables") -> bytes:
    """The document :func:`write_docx` writes, in memory."""
    buffer = io.BytesIO()
    build_document(tables_of(folder), title).save(buffer)
    return stable_docx(buffer.getvalue())


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m helpers.pipeline.word TABLES_DIR OUTPUT [--title TITLE]``."""
    parser = argparse.ArgumentParser(prog="python -m helpers.pipeline.word",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("tables", help="folder of the result CSV files")
    parser.add_argument("output", help="the Word document to write (.docx)")
    parser.add_argument("--title", default="Main tables")
    args = parser.parse_args(argv)
    written = write_docx(args.tables, args.output, title=args.title)
    print(f"wrote {paths.display_path(written)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    from helpers.pipeline import exit_without_teardown

    exit_without_teardown(main())
