"""Result tables as a reader sees them: one look in Markdown files, notebooks and the report.

:func:`table` turns a result frame into a :class:`Table` of formatted cells, which renders
as GitHub Markdown (:meth:`Table.to_markdown`: the ``.md`` files beside the CSV), as HTML
(:meth:`Table.to_html`: what a notebook displays and the report embeds) and as plain
text. The rules are the same everywhere:

- an integer prints as an integer, also when pandas stores it as a float (a count of
  ``4.0`` prints ``4``, never ``4.000``);
- each float column has one number of decimals: the fewest that show every value of the
  column exactly, at most ``digits`` (3); p-value columns always have ``digits``, and a
  p-value below ``10**-digits`` prints as ``<0.001``;
- a missing value prints as an em dash (—), whatever pandas called it (NaN, None, <NA>);
- True and False print as yes and no;
- text is left-aligned, numbers right-aligned;
- the index is a column only when it carries meaning (it has a name): the default
  0, 1, 2... never shows;
- a pair of columns can print as one interval, ``0.239 to 0.839``.

Numbers are brought to the output precision policy first
(:func:`helpers.formats.round_significant`), so what prints does not depend on the last bits
of a float. Only what is shown is rounded: the CSV files keep 12 significant digits.

In HTML a table sits in a box of its own that scrolls sideways when the screen is
narrower than the table (the report shades the edge that hides columns), headers break
after underscores, and a transposed table (one column per patient or outcome) turns into
one card per column on a phone.
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
from tabulate import tabulate

from helpers.io import escape_markdown, write_text
from helpers.formats import fixed, format_level, round_significant
from helpers.vocab import AUTOANTIBODIES, ORGAN_DOMAINS

#: What a missing value prints as.
MISSING = "\u2014"


@dataclass(frozen=True)
class Cell:
    """One formatted cell: its text (plain, not escaped) and whether it is a number."""

    text: str
    numeric: bool = False


@dataclass
class Table:
    """A table of formatted cells, ready to render.

    Attributes
    ----------
    header : list of Cell
        Column headers, row-label columns first.
    rows : list of list of Cell
        Body rows, as long as ``header``.
    labels : int
        How many leading columns are row labels (shown as row headers).
    groups : list of str or None
        Per row, the group it starts (a heading row in HTML), or None.
    group_label : str
        Header of the group column in Markdown and plain text.
    cards : bool
        A transposed table: on a phone the report shows one card per column.
    note : str
        A line under the table (what was left out).
    """

    header: list[Cell]
    rows: list[list[Cell]]
    labels: int = 0
    groups: list[str | None] = field(default_factory=list)
    group_label: str = ""
    cards: bool = False
    note: str = ""

    # --- Markdown and plain text ------------------------------------------------------

    def _grid(self, escape) -> tuple[list[str], list[list[str]], list[str]]:
        header = [escape(c.text) for c in self.header]
        rows = [[escape(c.text) for c in row] for row in self.rows]
        align = ["left" if i < self.labels else _align(self._column(i))
                 for i in range(len(self.header))]
        if any(self.groups):
            current = ""
            for row, group in zip(rows, self.groups, strict=True):
                current = group if group is not None else current
                row.insert(0, escape(current))
            header.insert(0, escape(self.group_label))
            align.insert(0, "left")
        return header, rows, align

    def _column(self, i: int) -> list[Cell]:
        return [self.header[i], *(row[i] for row in self.rows)]

    def to_markdown(self) -> str:
        """GitHub-flavoured Markdown, values from data escaped (no trailing newline)."""
        header, rows, align = self._grid(escape_markdown)
        text = tabulate(rows, header, tablefmt="pipe", colalign=align, disable_numparse=True)
        return f"{text}\n\n{escape_markdown(self.note)}" if self.note else text

    def __repr__(self) -> str:
        header, rows, align = self._grid(str)
        text = tabulate(rows, header, tablefmt="simple", colalign=align, disable_numparse=True)
        return f"{text}\n{self.note}" if self.note else text

    # --- HTML -------------------------------------------------------------------------

    def to_html(self) -> str:
        """The table as HTML in a sideways-scrolling box; every value escaped."""
        width = len(self.header)
        classes = "data cards" if self.cards else "data"
        head = "".join(self._head_cell(i, cell) for i, cell in enumerate(self.header))
        body = []
        for r, row in enumerate(self.rows):
            group = self.groups[r] if self.groups else None
            if group is not None:
                body.append(f'<tr class="group"><th colspan="{width}" scope="rowgroup">'
                            f"{_label_html(group)}</th></tr>")
            cells = []
            for i, cell in enumerate(row):
                if i < self.labels:
                    cells.append(f'<th scope="row" class="text" style="text-align:left">'
                                 f"{_label_html(cell.text)}</th>")
                    continue
                kind = "num" if cell.numeric else "text"
                extra = ""
                if self.cards:
                    label = " \u00b7 ".join(c.text for c in row[: self.labels])
                    extra = f' data-label="{_attribute(label)}"'
                    style = f"{_style(cell)};order:{i}"
                else:
                    style = _style(cell)
                cells.append(f'<td class="{kind}" style="{style}"{extra}>'
                             f"{html.escape(cell.text)}</td>")
            body.append(f"<tr>{''.join(cells)}</tr>")
        note = f'<p class="table-note">{html.escape(self.note)}</p>' if self.note else ""
        return (f'<div class="table-scroll" role="region" tabindex="0" aria-label="table">'
                f'<table class="{classes}"><thead><tr>{head}</tr></thead>'
                f"<tbody>{''.join(body)}</tbody></table></div>{note}")

    def _head_cell(self, i: int, cell: Cell) -> str:
        if i < self.labels:
            corner = ' class="corner"' if self.cards else ' class="text"'
            return (f'<th scope="col"{corner} style="text-align:left">'
                    f"{_label_html(cell.text)}</th>")
        kind = "num" if _align(self._column(i)[1:]) == "right" else "text"
        extra = ""
        if self.cards:
            corner = " \u00b7 ".join(c.text for c in self.header[: self.labels])
            extra = f' data-label="{_attribute(corner)}" style="{_style(cell, kind)};order:{i}"'
        else:
            extra = f' style="{_style(cell, kind)}"'
        return f'<th scope="col" class="{kind}"{extra}>{_label_html(cell.text)}</th>'

    def _repr_html_(self) -> str:
        return self.to_html()


def _align(cells: Sequence[Cell]) -> str:
    values = [c for c in cells if c.text != MISSING]
    return "right" if values and all(c.numeric for c in values) else "left"


def _style(cell: Cell, kind: str | None = None) -> str:
    numeric = cell.numeric if kind is None else kind == "num"
    return "text-align:right" if numeric else "text-align:left"


def _attribute(text: str) -> str:
    """A label shown by CSS (a card's field names): escaped, breakable after underscores."""
    return html.escape(text.replace("_", "_\u200b"))


def _label_html(text: str) -> str:
    """A header or row label: escaped, with a line-break opportunity after underscores."""
    return html.escape(text).replace("_", "_<wbr>")


# --- formatting -----------------------------------------------------------------------


def _decimals(values: np.ndarray, cap: int) -> int:
    """The fewest decimals that show every finite value exactly, at most ``cap``."""
    need = 0
    for value in values:
        if not math.isfinite(value):
            continue
        exponent = Decimal(repr(float(value))).normalize().as_tuple().exponent
        need = max(need, -int(exponent))
        if need >= cap:
            return cap
    return need


def _is_number(value) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(
        value, (bool, np.bool_))


def _format(series: pd.Series, name, digits: int, places: int | None) -> list[Cell]:
    """One column's cells under the rules of the module docstring."""
    missing = pd.isna(series).to_numpy(dtype=bool)
    values = series.to_numpy(dtype=object)
    p_value = "p_value" in str(name)
    if pd.api.types.is_bool_dtype(series.dtype):
        return [Cell(MISSING if m else ("yes" if v else "no")) for v, m in
                zip(values, missing, strict=True)]
    if pd.api.types.is_integer_dtype(series.dtype):
        return [Cell(MISSING if m else str(int(v)), True) for v, m in
                zip(values, missing, strict=True)]
    floats = np.array([float(v) for v, m in zip(values, missing, strict=True)
                       if not m and _is_number(v)], dtype=float)
    if places is not None:
        decimals = places
    elif p_value:
        decimals = digits
    else:
        decimals = _decimals(floats, digits)
    numeric = bool((~missing).any()) and all(_is_number(v) for v, m in
                                             zip(values, missing, strict=True) if not m)
    cells = []
    for value, is_missing in zip(values, missing, strict=True):
        if is_missing:
            cells.append(Cell(MISSING, numeric))
        elif isinstance(value, (bool, np.bool_)):
            cells.append(Cell("yes" if value else "no"))
        elif isinstance(value, (int, np.integer)):
            cells.append(Cell(str(int(value)), numeric))
        elif _is_number(value):
            cells.append(Cell(fixed(float(value), decimals, p_value), numeric))
        else:
            cells.append(Cell(str(value), numeric))
    return cells


#: How a displayed table heads the result columns every module writes (the CSV files
#: keep these names: they are the contract). ``{level}`` is the confidence level the
#: table is shown with (``95%``). Measures are named by the codebook, and the response
#: criteria by :data:`helpers.scores.RESPONDER_LABELS`, whose names carry cut-offs.
LABELS = {
    # helpers.paired.paired_tests
    "outcome": "Outcome", "comparison": "Comparison", "n": "n",
    "pre_mean": "Mean before", "post_mean": "Mean after", "change_mean": "Mean change",
    "change_ci": "{level} CI of the mean change", "t_p_value": "Paired t p",
    "wilcoxon_p_value": "Wilcoxon p", "sign_test_p_value": "Sign test p",
    "hl_estimate": "Hodges-Lehmann estimate", "hl_ci": "Hodges-Lehmann CI",
    "hl_ci_level": "Hodges-Lehmann CI level", "cohen_dz": "Cohen's dz",
    "p_value_holm": "Holm-adjusted p",
    # the cohort summary and the review
    "section": "Section", "analysis": "Analysis set", "characteristic": "Characteristic",
    "value": "Value",
    "study": "Study", "design": "Design", "events": "Events",
    "outcome_definition": "Outcome", "proportion": "Proportion", "ci": "{level} CI",
    "pi": "{level} PI", "transform": "Transform", "method": "Method", "test": "Test",
    "k": "Studies", "estimate": "Estimate", "tau2": "τ²", "tau": "τ", "i2": "I² (%)",
    "q": "Q", "q_p_value": "p (Q)", "prior": "Prior", "prob_above": "P(> threshold)",
    # power
    "measure": "Measure", "target": "Target power", "n_needed": "n needed",
    # the processed tables (notebook 01): patients (the paper's Tables 1 and 2),
    # therapies and the review's studies
    "patient_id": "Patient", "sex": "Sex", "ethnicity": "Ethnicity", "age_years": "Age (years)",
    "diagnosis_year": "Year of diagnosis", "disease_duration_months": "Disease duration (months)",
    "anifrolumab_months": "Months on anifrolumab", "arthritis_pattern": "Arthritis pattern",
    "erosive": "Erosive", "rhupus": "Rhupus", "comorbidities": "Comorbidities",
    **{column: printed[0].upper() + printed[1:]
       for printed, column in reversed(AUTOANTIBODIES.items())},  # the first spelling
    "rheumatoid_factor": "Rheumatoid factor",
    "organ_involvement_at_diagnosis": "Organ involvement at diagnosis",
    "other_organ_involvement": "Other organ involvement",
    **{f"organ_{domain}": f"{domain.capitalize()} involvement" for domain in ORGAN_DOMAINS},
    "organ_serositis": "Serositis",
    "treatment_intolerance": "Treatment intolerance",
    "status_before_anifrolumab": "Status before anifrolumab", "side_effects": "Side effects",
    "response_paper": "Response (as the paper reports it)",
    "differs_from_paper": "Differs from the paper",
    "role": "Role", "abbreviation": "Abbreviation", "drug": "Drug", "drug_class": "Drug class",
    "dose_mg_day": "Dose (mg/day)", "route": "Route", "dose_schedule": "Schedule",
    "as_printed": "As printed", "author": "Author", "year": "Year", "reference": "Reference",
    "ultrasound_proven": "Ultrasound-proven", "concomitant_treatment": "Concomitant treatment",
}
#: Group headings of readable tables (values of a ``group`` column): the review's
#: analysis sets (helpers.analysis.review.analysis_sets).
GROUP_LABELS = {
    "review": "The review's studies",
    "review+case_series": "The review's studies and the case series",
    "resolution_only": "Studies counting resolution of arthritis only",
}


def _header_text(name) -> str:
    if isinstance(name, tuple):
        return " ".join(str(part) for part in name if str(part))
    return "" if name is None else str(name)


def table(frame: pd.DataFrame, *, columns: Sequence | None = None,
          labels: Mapping | None = None, digits: int = 3,
          decimals: Mapping | None = None,
          intervals: Mapping | None = None, group=None, index: bool | None = None,
          transpose: bool = False, limit: int | None = None, readable: bool = True,
          level: float | None = None) -> Table:
    """Format a result table for reading (see the module docstring for the rules).

    Parameters
    ----------
    frame : pandas.DataFrame
        Unrounded results.
    columns : sequence, optional
        Columns to show, in order (names of ``frame`` or of ``intervals``). Default: all
        (but ``group``).
    labels : mapping, optional
        Header text per column, over the defaults.
    readable : bool, default True
        Head the columns (and index levels) :data:`LABELS` names with their labels;
        ``False`` keeps the names (the Markdown beside a CSV file).
    level : float, optional
        The confidence level the ``{level}`` of a label stands for (``0.95``: ``95%``);
        default: the frame's ``ci_level`` column if it has one value, else 95%.
    digits : int, default 3
        The most decimals of a float column (and the decimals of p-values).
    decimals : mapping, optional
        Fixed decimals for some columns.
    intervals : mapping of str to (str, str), optional
        New columns printing two columns as one interval, ``{"95% CI": ("ci_low",
        "ci_high")}``: ``0.239 to 0.839``, both ends with the same decimals.
    group : column name, optional
        Rows are grouped by this column: in HTML each group starts with a heading row; in
        Markdown and text it stays the first column.
    index : bool, optional
        Show the index as row labels. Default: when it has a name (a ``set_index`` or a
        pivot), never for the default 0, 1, 2...
    transpose : bool, default False
        One column per row of ``frame`` (each formatted under its own column's rules):
        for a few records with many fields, such as patients or outcomes. On a phone the
        report shows one card per column.
    limit : int, optional
        Show the first ``limit`` rows only (a display of a large cohort), with a note
        saying so; 0 shows every row. Default: 100 rows, or 12 columns when transposed
        (:func:`to_markdown` and :func:`write_markdown`: :data:`MARKDOWN_ROWS`).

    Returns
    -------
    Table

    Examples
    --------
    >>> frame = pd.DataFrame({"study": ["A", "B"], "n": [4.0, 25.0],
    ...                       "p": [0.5, float("nan")], "flag": [True, False]})
    >>> print(table(frame).to_markdown())
    | Study   |   n |   p | flag   |
    |:--------|----:|----:|:-------|
    | A       |   4 | 0.5 | yes    |
    | B       |  25 |   — | no     |
    """
    if not isinstance(digits, (int, np.integer)) or isinstance(digits, bool) or digits < 0:
        raise ValueError(f"digits must be a non-negative integer, got {digits!r}")
    labels = {**(_readable_labels(frame, level) if readable else {}), **(labels or {})}
    decimals, intervals = dict(decimals or {}), dict(intervals or {})
    shown = list(columns) if columns is not None else [c for c in frame.columns if c != group]
    needed = [c for name in shown for c in intervals.get(name, (name,))]
    if group is not None:
        needed.append(group)
    unknown = [c for c in dict.fromkeys(needed) if c not in frame.columns]
    if unknown:
        raise ValueError(f"columns not in frame: {unknown}; available: {list(frame.columns)}")
    if transpose and group is not None:
        raise ValueError("a transposed table cannot be grouped")
    if index is None:
        index = any(name is not None for name in frame.index.names)
    limit = (12 if transpose else 100) if limit is None else limit
    note = ""
    if 0 < limit < len(frame):
        note = (f"The first {limit:,} of {len(frame):,} {'columns' if transpose else 'rows'} "
                "are shown; every one is in the CSV file.")
        frame = frame.iloc[:limit]
    frame = round_significant(frame.loc[:, list(dict.fromkeys(needed))])

    header, body = [], []
    if index:
        for level, name in enumerate(frame.index.names):
            values = frame.index.get_level_values(level).to_series(index=frame.index)
            header.append(Cell(labels.get(name, _header_text(name))))
            body.append([Cell(c.text) for c in _format(values, name, digits, None)])
    for name in shown:
        if name in intervals:
            low, high = intervals[name]
            both = np.concatenate([frame[low].to_numpy(dtype=float),
                                   frame[high].to_numpy(dtype=float)])
            places = decimals.get(name, _decimals(both, digits))
            ends = [_format(frame[c], c, digits, places) for c in (low, high)]
            cells = [Cell(MISSING if MISSING in (a.text, b.text) else f"{a.text} to {b.text}",
                          True) for a, b in zip(*ends, strict=True)]
        else:
            cells = _format(frame[name], name, digits, decimals.get(name))
        numeric = _align(cells) == "right"
        header.append(Cell(labels.get(name, _header_text(name)), numeric))
        body.append(cells)
    rows = [list(row) for row in zip(*body, strict=True)] if body else []
    n_labels = frame.index.nlevels if index else 0
    groups = []
    if group is not None:
        previous = object()
        for cell in _format(frame[group], group, digits, None):
            text = GROUP_LABELS.get(cell.text, cell.text) if readable else cell.text
            groups.append(text if cell.text != previous else None)
            previous = cell.text
    result = Table(header, rows, labels=n_labels, groups=groups,
                   group_label=labels.get(group, _header_text(group)), note=note)
    return _transposed(result) if transpose else result


def _readable_labels(frame: pd.DataFrame, level: float | None) -> dict:
    """:data:`LABELS` with ``{level}`` filled in."""
    if level is None and "ci_level" in frame and frame["ci_level"].nunique() == 1:
        level = float(frame["ci_level"].iloc[0])
    text = format_level(0.95 if level is None else level)
    return {name: label.format(level=text) for name, label in LABELS.items()}


def _transposed(source: Table) -> Table:
    """One column per row of ``source``; its header is the row's labels."""
    corner = " \u00b7 ".join(c.text for c in source.header[: source.labels])
    header = [Cell(corner)] + [
        Cell(" \u00b7 ".join(c.text for c in row[: source.labels]) or str(r + 1))
        for r, row in enumerate(source.rows)]
    rows = [[Cell(source.header[i].text)] + [row[i] for row in source.rows]
            for i in range(source.labels, len(source.header))]
    # A column of one record mixes numbers and text: all left, unless all numbers.
    for i in range(1, len(header)):
        numeric = _align([row[i] for row in rows]) == "right"
        header[i] = Cell(header[i].text, numeric)
        for row in rows:
            row[i] = Cell(row[i].text, numeric)
    return Table(header, rows, labels=1, cards=True, note=source.note)


#: Rows of a Markdown table file: a reader's view, not a data file. A million-patient
#: responder table would be hundreds of megabytes of Markdown (and minutes to format);
#: every row is in the CSV beside it.
MARKDOWN_ROWS = 1000


def to_markdown(frame: pd.DataFrame, digits: int = 3, columns: Sequence | None = None,
                **options) -> str:
    """A result table as GitHub Markdown (no trailing newline); see :func:`table`.

    The first :data:`MARKDOWN_ROWS` rows with a note saying so, unless ``limit`` says
    otherwise (0: every row). Only the rendering is rounded; the CSV keeps the precision
    policy's 12 significant digits.
    """
    options.setdefault("limit", MARKDOWN_ROWS)
    options.setdefault("readable", False)  # beside its CSV, a table keeps the CSV's names
    return table(frame, digits=digits, columns=columns, **options).to_markdown()


def write_markdown(tables, path: str | Path, **options) -> Path:
    """Write one or more result tables as Markdown, atomically.

    Parameters
    ----------
    tables : DataFrame or sequence of DataFrame
        Separated by a blank line when several.
    path : str or Path
        Destination (``.md``).
    **options
        Passed to :func:`table` (``digits``, ``columns``, ...).

    Notes
    -----
    The numbers are rounded to the precision policy before they are rounded for reading,
    so a value on a display boundary (``4.0225``) prints the same on every CPU.
    """
    frames = [tables] if isinstance(tables, pd.DataFrame) else list(tables)
    return write_text("\n\n".join(to_markdown(f, **options) for f in frames) + "\n", path)
