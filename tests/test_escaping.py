"""Values from data never execute: escaped in narratives, Markdown tables and the report."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import numpy as np
import pandas as pd
import pytest

from helpers.analysis.narrative import prepost_narrative, responders_narrative
from helpers.io import escape_markdown
from helpers.pipeline.report import _markdown_html
from helpers.tables import to_markdown

class _ActiveContent(HTMLParser):
    """Collects what a browser would execute or load: scripts, event handlers, script
    URLs, and images that are not the report's own embedded PNG or SVG figures (an SVG
    shown as an image runs no script and loads nothing)."""

    def __init__(self):
        super().__init__()
        self.found = []

    def handle_starttag(self, tag, attrs):
        if tag == "script":
            self.found.append("<script>")
        for name, value in attrs:
            value = (value or "").strip().lower()
            if name.startswith("on"):
                self.found.append(f"{tag} {name}=")
            if value.startswith(("javascript:", "vbscript:")):
                self.found.append(f"{tag} {name}={value[:20]}")
            if tag == "img" and name == "src" and not value.startswith(
                    ("data:image/png;base64,", "data:image/svg+xml;base64,")):
                self.found.append(f"img src={value[:20]}")


def _active(html: str) -> list[str]:
    parser = _ActiveContent()
    parser.feed(html)
    return parser.found


ATTACKS = [
    "<img src=x onerror=alert(1)>",
    "<script>alert(1)</script>",
    "[click](javascript:alert(1))",
    "![x](javascript:alert(1))",
    "<a href='javascript:alert(1)'>x</a>",
    "**bold** _em_ `code` | cell",
]


@pytest.mark.parametrize("attack", ATTACKS)
def test_escaped_value_renders_as_its_own_text(attack):
    html = _markdown_html(f"Patient {escape_markdown(attack)}: paper says yes.")
    assert _active(html) == [] and "<a " not in html
    # The reader still sees the characters of the value (as text, entities decoded).
    text = re.sub(r"<[^>]+>", "", html)
    text = text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    text = text.replace("&quot;", '"').replace("&#x27;", "'")
    assert attack.replace("\\", "") in text.replace("\\", "")


def test_raw_html_in_markdown_is_escaped_by_the_report_renderer():
    # Even unescaped Markdown (a notebook a user edited) cannot inject: raw HTML is text.
    html = _markdown_html("x <img src=x onerror=alert(1)> [y](javascript:alert(1))\n\n"
                          "<script>alert(1)</script>")
    assert _active(html) == []


def _measurements(pid_a, pid_b, timepoint="last"):
    rows = []
    for pid, (pre, post) in {pid_a: (6.0, 2.0), pid_b: (5.0, 2.0), "3": (4.0, 4.5)}.items():
        rows += [(pid, "das28", "baseline", 0, pre, "points"),
                 (pid, "das28", timepoint, 6, post, "points")]
    return pd.DataFrame(rows, columns=["patient_id", "measure", "timepoint", "month", "value",
                                       "unit"])


@pytest.mark.parametrize("attack", ATTACKS)
def test_narratives_escape_patient_ids_and_labels(attack):
    from helpers.paired import paired_tests
    from helpers.scores import responder_table, summarise_responders

    measurements = _measurements(attack, "2")
    measurements["measure"] = measurements["measure"].where(
        measurements["patient_id"] != "3", "das28")
    prepost = paired_tests(measurements)
    prepost["outcome"] = attack  # a user's own measure code
    prepost["comparison"] = f"{attack} vs baseline"
    text = prepost_narrative(prepost, measurements=measurements).data
    # The patient the paper calls a responder but EULAR does not is named in the text.
    responders = responder_table(measurements, pd.DataFrame(
        {"patient_id": [attack, "2", "3"], "response_paper": ["No", "Yes", "Yes"]}))
    text += responders_narrative(responders, summarise_responders(responders)).data
    assert escape_markdown(attack) in text
    html = _markdown_html(text)
    assert _active(html) == [] and "<a " not in html


@pytest.mark.parametrize("attack", ATTACKS)
def test_markdown_tables_escape_cells(attack):
    table = to_markdown(pd.DataFrame({"patient_id": [attack], "value": [np.float64(1.5)]}))
    body = table.splitlines()[2]
    assert body.count("|") - body.count("\\|") == 3  # the cell did not split the row
    assert _active(_markdown_html(table)) == []


@pytest.mark.slow
def test_a_cohort_with_hostile_ids_gives_an_inert_report(tmp_path):
    """make analysis's path, in process: every attack string as a patient id."""
    from helpers.io import write_csv
    from helpers.pipeline.cohort import run_cohort
    from helpers.synth import make_cohort

    cohort = make_cohort(len(ATTACKS) + 4, seed=2)
    ids = {i + 1: attack for i, attack in enumerate(ATTACKS)}
    cohort["patient_id"] = cohort["patient_id"].map(lambda p: ids.get(p, str(p)))
    data = tmp_path / "hostile.csv"
    write_csv(cohort, data)
    report = run_cohort(data, tmp_path / "out", quiet=True).read_text(encoding="utf-8")
    assert _active(report) == []
    assert "onerror=alert(1)" in report  # the ids are there, as text
    for path in (tmp_path / "out").rglob("*.md"):
        assert _active(_markdown_html(path.read_text(encoding="utf-8"))) == [], path.name
