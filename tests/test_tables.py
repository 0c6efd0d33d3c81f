"""One look for every result table (helpers.tables), and the committed tables obey it."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import numpy as np
import pandas as pd
import pytest

from helpers import paths
from helpers.tables import MISSING, table, to_markdown, write_markdown


def _rows(markdown: str) -> list[list[str]]:
    return [[cell.strip() for cell in line.split("|")[1:-1]]
            for line in markdown.splitlines() if line.startswith("|")]


def test_integers_print_as_integers_and_floats_with_one_precision_per_column():
    frame = pd.DataFrame({"n": [4.0, 25.0], "count": [3, 12], "das28": [7.22, 2.3],
                          "mean": [6.25, 4.9433333333], "huge": [1e-20, 1.0]})
    body = _rows(to_markdown(frame))[2:]
    assert [row[:2] for row in body] == [["4", "3"], ["25", "12"]]
    assert [row[2] for row in body] == ["7.22", "2.30"]  # two decimals, both
    assert [row[3] for row in body] == ["6.250", "4.943"]  # at most digits=3
    assert [row[4] for row in body] == ["0.000", "1.000"]


def test_missing_values_print_as_one_marker_and_booleans_as_words():
    frame = pd.DataFrame({
        "x": [np.nan, 1.5], "i": pd.array([pd.NA, 2], dtype="Int64"),
        "b": pd.array([True, pd.NA], dtype="boolean"), "s": ["a", None],
        "o": pd.Series([np.nan, "text"], dtype=object)})
    text = to_markdown(frame)
    for bad in ["NaN", "nan", "<NA>", "None", "NA ", "True", "False"]:
        assert bad not in text
    body = _rows(text)[2:]
    assert body[0] == [MISSING, MISSING, "yes", "a", MISSING]
    assert body[1] == ["1.5", "2", MISSING, MISSING, "text"]


def test_text_left_numbers_right_and_no_default_index():
    frame = pd.DataFrame({"study": ["Tani 2024"], "n": [25]})
    lines = to_markdown(frame).splitlines()
    assert lines[1] == "|:----------|----:|"
    assert lines[0].split("|")[1].strip() == "study"  # no 0, 1, 2 column
    named = table(frame.set_index("study"))
    # Displayed, the columns have their labels (helpers.tables.LABELS); the index too.
    assert named.labels == 1 and [c.text for c in named.header] == ["Study", "n"]
    html = named.to_html()
    assert '<th scope="row" class="text" style="text-align:left">Tani 2024</th>' in html
    assert '<td class="num" style="text-align:right">25</td>' in html


def test_p_values_keep_digits_and_show_a_floor():
    frame = pd.DataFrame({"t_p_value": [1e-9, 0.25, -0.0, np.nan], "change": [-0.0001, 0, 0, 1]})
    body = _rows(to_markdown(frame))[2:]
    assert [row[0] for row in body] == ["<0.001", "0.250", "<0.001", MISSING]
    assert body[0][1] == "0.000" and "-0.000" not in to_markdown(frame)


def test_intervals_groups_labels_and_column_choice():
    frame = pd.DataFrame({"analysis": ["a", "a", "b"], "k": [3, 3, 4],
                          "ci_low": [0.2391, -12.675, np.nan], "ci_high": [0.839, 1.6751, 0.5]})
    shown = table(frame, columns=["k", "CI"], intervals={"CI": ("ci_low", "ci_high")},
                  group="analysis", labels={"k": "studies"})
    assert [c.text for c in shown.header] == ["studies", "CI"]
    assert [row[1].text for row in shown.rows] == ["0.239 to 0.839", "-12.675 to 1.675",
                                                   MISSING]
    assert shown.groups == ["a", None, "b"]
    html = shown.to_html()
    assert html.count('<tr class="group">') == 2
    assert _rows(shown.to_markdown())[2] == ["a", "3", "0.239 to 0.839"]
    with pytest.raises(ValueError, match="columns not in frame"):
        table(frame, columns=["nope"])
    with pytest.raises(ValueError, match="digits"):
        table(frame, digits=-1)


def test_a_transposed_table_keeps_each_columns_rules_and_becomes_cards():
    frame = pd.DataFrame({"patient_id": [1, 2], "das28": [7.22, 2.3], "sledai": [13.0, 0.0],
                          "erosive": [True, False]}).set_index("patient_id")
    shown = table(frame, transpose=True)
    assert [c.text for c in shown.header] == ["Patient", "1", "2"]
    assert [[c.text for c in row] for row in shown.rows] == [
        ["das28", "7.22", "2.30"], ["sledai", "13", "0"], ["Erosive", "yes", "no"]]
    html = shown.to_html()
    assert 'class="data cards"' in html and 'class="corner"' in html
    # A patient's column mixes numbers and words: all left, each cell labelled for its card.
    assert 'style="text-align:left;order:1" data-label="das28"' in html
    numbers = table(frame.drop(columns="erosive"), transpose=True).to_html()
    assert 'style="text-align:right;order:2" data-label="sledai"' in numbers


def test_html_escapes_values_and_breaks_headers_after_underscores():
    frame = pd.DataFrame({"outcome_definition": ["<img src=x onerror=alert(1)>"]})
    html = table(frame, readable=False).to_html()
    assert "<img" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "outcome_<wbr>definition" in html
    assert html.startswith('<div class="table-scroll"')


def test_a_display_of_a_large_cohort_shows_its_first_rows_and_says_so(tmp_path):
    frame = pd.DataFrame({"patient_id": range(1, 251), "das28": np.linspace(1, 8, 250)})
    shown = table(frame)
    assert len(shown.rows) == 100 and "first 100 of 250 rows" in shown.to_html()
    records = table(frame.set_index("patient_id"), transpose=True)
    assert len(records.header) == 13 and "first 12 of 250 columns" in repr(records)
    assert len(table(frame, limit=0).rows) == 250
    written = write_markdown(frame, tmp_path / "all.md").read_text()
    assert written.count("\n") == 252 and "first" not in written


def test_write_markdown_rounds_after_the_policy(tmp_path):
    # 4.0225 is 4.02249999999999996... in binary: three decimals give 4.022. A value one
    # ulp above it would round to 4.023 without the 12-digit step first; with it, both
    # print 4.022, so the Markdown does not depend on last-bit noise either.
    up = float(np.nextafter(4.0225, np.inf))
    assert f"{up:.3f}" == "4.023"
    first = write_markdown(pd.DataFrame({"q1": [4.0225]}), tmp_path / "a.md").read_text()
    second = write_markdown([pd.DataFrame({"q1": [up]})], tmp_path / "b.md").read_text()
    assert first == second and "4.022" in first and first.endswith("|\n")


# --- the committed tables -------------------------------------------------------------


def nested_brackets(text: str) -> bool:
    """Whether ``text`` opens a bracket inside another: "(exact (zeros dropped))"."""
    depth = 0
    for char in text:
        depth += char in "(["
        depth -= char in ")]"
        if depth > 1:
            return True
    return False


def formatting_problems(columns: list[list[str]]) -> list[str]:
    """What breaks the table rules in a table given as columns of cell texts."""
    problems = []
    for column in columns:
        cells = [c for c in column if c and c != MISSING]
        for cell in cells:
            # "None" alone is Python's; "None; poor compliance" is the paper's words.
            if re.search(r"\bNaN\b|<NA>|\bnan\b", cell) or cell == "None":
                problems.append(f"missing value printed as {cell!r}")
            if nested_brackets(cell):
                problems.append(f"nested brackets in {cell!r}")
        numbers = [c for c in cells if re.fullmatch(r"-?\d+\.\d+", c)]
        if numbers and len(numbers) == len(cells) and all(
                re.fullmatch(r"-?\d+\.0+", c) for c in numbers):
            problems.append(f"whole numbers printed with decimals: {numbers[:3]}")
    return problems


def _markdown_tables(text: str) -> list[list[list[str]]]:
    """Every pipe table of a Markdown file, as columns of cell texts (header dropped)."""
    tables, current = [], []
    for line in [*text.splitlines(), ""]:
        if line.startswith("|"):
            current.append([cell.strip() for cell in line.split("|")[1:-1]])
        elif current:
            body = current[2:]
            tables.append([list(column) for column in zip(*body, strict=True)])
            current = []
    return tables


@pytest.mark.parametrize("path", sorted(paths.TABLES.glob("*.md")), ids=lambda p: p.name)
def test_committed_markdown_tables_follow_the_rules(path):
    tables = _markdown_tables(path.read_text(encoding="utf-8"))
    assert tables
    problems = [problem for columns in tables for problem in formatting_problems(columns)]
    assert problems == []


class _HTMLTables(HTMLParser):
    """The cell texts of every table of an HTML document, by table and column."""

    def __init__(self):
        super().__init__()
        self.tables, self._stack, self._cell = [], [], None

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self._stack.append([])
        elif tag == "tr" and self._stack:
            self._stack[-1].append([])
        elif tag in ("td", "th") and self._stack:
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None and self._stack:
            self._stack[-1][-1].append("".join(self._cell).strip())
            self._cell = None
        elif tag == "table" and self._stack:
            self.tables.append(self._stack.pop())

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def html_table_columns(html: str) -> list[list[list[str]]]:
    """Every table of ``html`` as columns of body cells (rows of equal width only)."""
    parser = _HTMLTables()
    parser.feed(html)
    result = []
    for rows in parser.tables:
        body = rows[1:]
        width = max((len(r) for r in body), default=0)
        body = [r for r in body if len(r) == width]
        result.append([list(column) for column in zip(*body, strict=True)])
    return result


def test_the_rules_catch_what_they_should():
    assert formatting_problems([["4.000", "25.000"]]) == [
        "whole numbers printed with decimals: ['4.000', '25.000']"]
    assert formatting_problems([["1.000", "0.250"], ["4", "25"]]) == []
    assert len(formatting_problems([["NaN", "<NA>", "exact (zeros (dropped))"]])) == 3


def test_markdown_files_hold_a_readers_view_of_a_large_table():
    from helpers.tables import MARKDOWN_ROWS, to_markdown

    frame = pd.DataFrame({"patient_id": range(1, 2_501), "change": [-0.5] * 2_500})
    lines = to_markdown(frame).splitlines()
    assert len(lines) == 2 + MARKDOWN_ROWS + 2  # header, rule, rows, blank, note
    assert lines[-1] == "The first 1,000 of 2,500 rows are shown; every one is in the CSV file."
    assert len(to_markdown(frame, limit=0).splitlines()) == 2 + 2_500


def test_displayed_tables_have_labels_and_the_markdown_keeps_the_csv_names():
    frame = pd.DataFrame({"outcome": ["das28"], "change_mean": [-2.75], "ci_level": [0.9],
                          "change_ci_low": [-6.18], "change_ci_high": [0.68],
                          "wilcoxon_p_value": [0.25]})
    shown = table(frame, columns=["outcome", "change_mean", "change_ci", "wilcoxon_p_value"],
                  intervals={"change_ci": ("change_ci_low", "change_ci_high")})
    # {level} is the frame's own ci_level: 90%.
    assert [c.text for c in shown.header] == [
        "Outcome", "Mean change", "90% CI of the mean change", "Wilcoxon p"]
    assert to_markdown(frame).splitlines()[0].split("|")[1].strip() == "outcome"


def test_group_headings_are_named_for_readers_and_keep_their_codes_in_markdown():
    frame = pd.DataFrame({"analysis": ["review", "review", "resolution_only"],
                          "k": [3, 3, 2]})
    shown = table(frame, group="analysis")
    assert shown.groups == ["The review's studies", None,
                            "Studies counting resolution of arthritis only"]
    assert shown.group_label == "Analysis set"
    markdown = table(frame, group="analysis", readable=False).to_markdown()
    assert "resolution_only" in markdown and "The review" not in markdown


def test_the_review_displays_name_their_level_and_threshold_from_the_data():
    # A 97.5% level reads 97.5%, never a rounded 98%; the probability column names the
    # threshold the CSV records.
    from helpers.displays import bayes_table, review_studies_table

    review = pd.DataFrame({"study": ["A"], "design": ["case series"], "n": [4], "events": [3],
                           "outcome_definition": ["resolution"], "proportion": [0.75],
                           "ci_low": [0.2], "ci_high": [0.99]})
    assert "97.5% CI" in [c.text for c in review_studies_table(review, 0.975).header]
    bayes = pd.DataFrame({"analysis": ["review"], "prior": ["half-normal"], "k": [3],
                          "estimate": [0.6], "ci_low": [0.3], "ci_high": [0.8],
                          "pi_low": [0.2], "pi_high": [0.9], "tau": [0.3], "tau_ci_low": [0.0],
                          "tau_ci_high": [1.0], "prob_above": [0.7], "threshold": [0.6],
                          "level": [0.9]})
    headers = [c.text for c in bayes_table(bayes).header]
    assert {"90% CrI", "90% PI", "τ 90% CrI", "P(> 60%)"} <= set(headers)
