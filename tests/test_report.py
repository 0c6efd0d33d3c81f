"""The HTML report: every table and figure, narrative, provenance, self-contained."""

from __future__ import annotations

import re

import pytest

from helpers import paths
from helpers.pipeline.report import build_report
from test_tables import formatting_problems, html_table_columns, nested_brackets

NOTEBOOKS = sorted(paths.NOTEBOOKS.glob("0*.ipynb"))


@pytest.fixture(scope="module")
def html(tmp_path_factory):
    out = tmp_path_factory.mktemp("report") / "report.html"
    build_report(NOTEBOOKS, out)
    return out.read_text(encoding="utf-8")


def test_report_is_self_contained(html):
    # Opens offline: no external scripts, style sheets, fonts or images.
    assert "<script" not in html
    assert not re.search(r"<link[^>]+href=", html)
    assert not re.search(r"""src=["']https?:""", html)
    assert not re.search(r"url\(\s*['\"]?https?:", html)
    assert html.count("<style>") == 1


def test_report_shows_every_figure_and_table(html):
    # 4 figures in 03_figures, the Bayesian posteriors, the forest and leave-one-out
    # plots in 04_review and the power curves in 05_power, embedded as SVG data URIs
    # (sharp on any screen), each with a caption and a text alternative built from the
    # data.
    assert html.count('src="data:image/svg+xml;base64,') == 8
    assert html.count("<figcaption><strong>Figure ") == 8
    alts = re.findall(r'<img alt="([^"]*)"', html)
    assert len(alts) == 8 and all(len(alt) > 40 and alt.endswith(".") for alt in alts)
    assert not any("Figure size" in alt or "matplotlib" in alt for alt in alts)
    for heading in ["Paired comparisons, last visit vs baseline", "Forest plot",
                    "Leave one study out", "Power curves",
                    "A Bayesian view: what the prior on τ changes",
                    "Response, by standard definitions", "Patient profiles"]:
        assert heading in html
    assert html.count("<table") >= 10
    # Code is hidden: no notebook source appears.
    assert "from helpers" not in html


def test_report_has_provenance(html):
    assert "Provenance" in html
    assert re.search(r"<strong>Commit:</strong> <code>[0-9a-f]{40}", html)
    for name in ["table1_patients.csv", "table2_disease_course.csv", "review_table.csv"]:
        assert name in html
    assert re.search(r"pandas \d+\.\d+", html)
    assert 'raw_dir = &quot;data/raw&quot;' in html  # the parameters each notebook ran with


def test_report_is_deterministic(tmp_path, html):
    again = build_report(NOTEBOOKS, tmp_path / "again.html").read_text(encoding="utf-8")
    assert again == html


def _results(html: str) -> str:
    """The report without its provenance block (code and checksums, not results)."""
    return html.split('<section class="notebook" id="provenance">')[0]


def test_every_table_of_the_report_follows_the_table_rules(html):
    tables = html_table_columns(_results(html))
    assert len(tables) >= 11
    assert [p for columns in tables for p in formatting_problems(columns)] == []


def test_the_narrative_never_nests_brackets(html):
    text = re.sub(r"<(pre|code|style)\b.*?</\1>", " ", _results(html), flags=re.S)
    paragraphs = [re.sub(r"<[^>]+>", "", p) for p in re.findall(
        r"<(?:p|li|figcaption)\b[^>]*>(.*?)</(?:p|li|figcaption)>", text, flags=re.S)]
    assert len(paragraphs) > 40
    assert [p for p in paragraphs if nested_brackets(p)] == []
