"""tables.docx: the main tables as Word tables (helpers.pipeline.word).

The document opens with python-docx and holds the cohort summary, the pre/post
comparisons, the response criteria and the pooled estimates, with the report's headers;
every number equals the CSV's at the precision shown; the tables the report displays are
cell for cell the report's (the executed notebooks' outputs); a rerun writes the same bytes,
whatever the time.
"""

from __future__ import annotations

import math
import re
import shutil
import time
from html.parser import HTMLParser

import docx
import nbformat
import pandas as pd
import pytest

from helpers import paths
from helpers.pipeline import word
from helpers.tables import GROUP_LABELS

HEADERS = {
    "cohort_summary.csv": ["Characteristic", "Value"],
    "prepost.csv": ["Outcome · Comparison", "SLEDAI-2K · last vs baseline",
                    "DAS28 · last vs baseline",
                    "Glucocorticoid dose (mg/day) · last vs baseline"],
    "responders_summary.csv": ["Criterion", "Events", "n", "Proportion", "95% CI", "Method"],
    "meta_pooled.csv": ["Transform", "Method", "Test", "Studies", "Estimate", "95% CI",
                        "95% PI", "τ²", "I² (%)", "Q", "p (Q)"],
}
#: The rows of the transposed pre/post table, in order (the CSV's names).
PREPOST_ROWS = ["n", "pre_mean", "post_mean", "change_mean", "change_ci", "t_p_value",
                "wilcoxon_p_value", "sign_test_p_value", "hl_estimate", "hl_ci",
                "hl_ci_level", "cohen_dz", "p_value_holm"]


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    return word.write_docx(paths.TABLES, tmp_path_factory.mktemp("docx") / "tables.docx")


def _rows(grid) -> list[list[str]]:
    """A Word table's text, a merged (group) row as one cell."""
    rows = []
    for row in grid.rows:
        cells = [cell.text for cell in row.cells]
        rows.append([cells[0]] if len(set(cells)) == 1 and len(cells) > 1 else cells)
    return rows


@pytest.fixture(scope="module")
def document(written):
    return docx.Document(str(written))


def test_the_main_tables_are_word_tables_with_the_reports_headers(document):
    assert len(document.tables) == len(HEADERS)
    for grid, (csv, header) in zip(document.tables, HEADERS.items(), strict=True):
        assert _rows(grid)[0] == header, csv
    captions = [p.text for p in document.paragraphs if p.text.startswith("Table ")]
    assert [c.split(".")[0] for c in captions] == ["Table 1", "Table 2", "Table 3", "Table 4"]
    sources = [p.text for p in document.paragraphs if "Source:" in p.text]
    assert [s.rsplit("Source: ", 1)[1] for s in sources] == [f"{c}." for c in HEADERS]
    # The header row repeats on every page of a long table.
    assert all(grid.rows[0]._tr.trPr.find(docx.oxml.ns.qn("w:tblHeader")) is not None
               for grid in document.tables)


_NUMBER = re.compile(r"^<?(-?\d+(?:\.(\d+))?)$")


def _shows(text: str, value) -> None:
    """``text`` is ``value`` at the precision it shows (an em dash for a missing one)."""
    if text == "—":
        assert value is None or (isinstance(value, float) and math.isnan(value)), value
        return
    match = _NUMBER.match(text)
    assert match, text
    decimals = len(match.group(2) or "")
    if text.startswith("<"):  # a p-value below what the decimals show
        assert value < float(match.group(1)), (text, value)
        return
    assert abs(float(match.group(1)) - float(value)) <= 0.5 * 10.0 ** -decimals + 1e-12, (
        text, value)


def _interval(text: str, low, high) -> None:
    if text == "—":
        assert math.isnan(low) or math.isnan(high)
        return
    first, second = text.split(" to ")
    _shows(first, low)
    _shows(second, high)


def _csv(name: str) -> pd.DataFrame:
    return word.read_table(paths.TABLES / name)


def test_the_numbers_are_the_csvs_at_the_precision_shown(document):
    cohort, prepost, responders, pooled = (_rows(grid)[1:] for grid in document.tables)

    frame = _csv("cohort_summary.csv")
    body = [row for row in cohort if len(row) == 2]
    assert [row[0] for row in body] == frame["characteristic"].tolist()
    assert [row[1] for row in body] == frame["value"].tolist()
    assert [row[0] for row in cohort if len(row) == 1] == list(dict.fromkeys(frame["section"]))

    frame = _csv("prepost.csv")
    assert len(prepost) == len(PREPOST_ROWS)
    by_name = {name: row[1:] for name, row in zip(PREPOST_ROWS, prepost, strict=True)}
    for j, record in frame.iterrows():
        for name in ("n", "pre_mean", "post_mean", "change_mean", "t_p_value",
                     "wilcoxon_p_value", "sign_test_p_value", "hl_estimate", "cohen_dz",
                     "p_value_holm", "hl_ci_level"):
            _shows(by_name[name][j], record[name])
        _interval(by_name["change_ci"][j], record["change_ci_low"], record["change_ci_high"])
        _interval(by_name["hl_ci"][j], record["hl_ci_low"], record["hl_ci_high"])

    frame = _csv("responders_summary.csv")
    assert len(responders) == len(frame)
    for row, (_, record) in zip(responders, frame.iterrows(), strict=True):
        assert row[0] == record["description"] and row[5] == record["method"]
        for text, name in zip(row[1:4], ("events", "n", "proportion"), strict=True):
            _shows(text, record[name])
        _interval(row[4], record["ci_low"], record["ci_high"])

    frame = _csv("meta_pooled.csv")
    body = [row for row in pooled if len(row) > 1]
    # Each analysis set is a heading row, under its readable name (tables.GROUP_LABELS).
    assert [row[0] for row in pooled if len(row) == 1] == [
        GROUP_LABELS[name] for name in dict.fromkeys(frame["analysis"])]
    assert len(body) == len(frame)
    for row, (_, record) in zip(body, frame.iterrows(), strict=True):
        assert row[:3] == [record["transform"], record["method"], record["test"]]
        for text, name in zip([row[i] for i in (3, 4, 7, 8, 9, 10)],
                              ("k", "estimate", "tau2", "i2", "q", "q_p_value"), strict=True):
            _shows(text, record[name])
        _interval(row[5], record["ci_low"], record["ci_high"])
        _interval(row[6], record["pi_low"], record["pi_high"])


class _Tables(HTMLParser):
    """The text of every HTML table: rows of cells (``<wbr>`` is no text)."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: list[list[list[str]]] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self.tables[-1].append([])
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self.tables[-1][-1].append("".join(self._cell))
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def test_the_tables_the_report_shows_are_the_reports_cell_for_cell(document):
    """The notebooks display the cohort summary, the pre/post comparisons and the pooled
    estimates; the report embeds those outputs. The Word tables are the same text."""
    parser = _Tables()
    for name in ("02_prepost.ipynb", "04_review.ipynb"):
        for cell in nbformat.read(paths.NOTEBOOKS / name, as_version=4).cells:
            for output in cell.get("outputs", []):
                if "text/html" in output.get("data", {}):
                    parser.feed(output["data"]["text/html"])
    shown = [table for table in parser.tables]
    for i in (0, 1, 3):
        assert _rows(document.tables[i]) in shown, list(HEADERS)[i]


def test_a_rerun_writes_the_same_bytes_at_any_time(written, tmp_path, monkeypatch):
    # zipfile stamps each entry with time.time(): a rerun years later changes nothing.
    monkeypatch.setattr(time, "time", lambda: 1.9e9)
    again = word.write_docx(paths.TABLES, tmp_path / "again.docx")
    assert again.read_bytes() == written.read_bytes()
    properties = docx.Document(str(again)).core_properties
    assert properties.created.year == properties.modified.year == 2000
    assert properties.author == properties.last_modified_by == ""
    assert properties.revision == 1


def test_a_cohort_without_a_review_or_patients_gets_the_tables_it_has(tmp_path):
    for name in ("prepost.csv", "responders_summary.csv"):
        shutil.copy(paths.TABLES / name, tmp_path / name)
    written = word.write_docx(tmp_path, tmp_path / "tables.docx")
    document = docx.Document(str(written))
    assert [_rows(grid)[0] for grid in document.tables] == [
        HEADERS["prepost.csv"], HEADERS["responders_summary.csv"]]
    assert [p.text.split(".")[0] for p in document.paragraphs
            if p.text.startswith("Table ")] == ["Table 1", "Table 2"]
