"""`make analysis` on a clinic's cohort: a report about that cohort, as PDF and Word too.

One run of the real command (the Makefile's pipe from the runner into
``helpers.pipeline.printing``) on 200 synthetic patients seen at four visits, without a
patients table, then the seven checks a reader would make of its report (issue 26) and
the two files beside it. The paper's own report is checked the same way where ``make``
has built it.
"""

from __future__ import annotations

import html
import re
import subprocess
import zipfile

import pandas as pd
import pytest

from helpers import paths
from helpers.io import write_csv
from helpers.pipeline import cohort
from helpers.synth import make_cohort

VISITS = ["baseline", "m3", "m6", "m12"]
#: A header cell that is a CSV column name (snake_case), not a label.
CSV_NAME = re.compile(r"^[a-z0-9]+(?:_[a-z0-9]+)+$")


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("clinic")
    data = folder / "clinic_export.csv"
    write_csv(make_cohort(200, visits=VISITS, seed=26), data)
    out = folder / "result"
    result = subprocess.run(["make", "--no-print-directory", "analysis", f"DATA={data}",
                             f"OUT={out}"], cwd=paths.ROOT, capture_output=True, text=True,
                            timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    return out, result.stderr


def _headers(report: str) -> list[str]:
    return [html.unescape(re.sub(r"<[^>]+>", "", cell)).strip()
            for cell in re.findall(r"<th[^>]*>(.*?)</th>", report, flags=re.S)]


def _seven_checks(out, name: str, n_patients: int, visits) -> None:
    """What a reader checks of a cohort's report (issue 26), on the run in ``out``."""
    report = (out / "report.html").read_text(encoding="utf-8")
    # 1. Its own title and input, not the paper's.
    assert f"<h1>Pre/post analysis of {name}</h1>" in report
    assert f"{n_patients:,} patients" in report
    assert "Cassone" not in report and "J. Pers. Med." not in report
    # 2. No scratch folder (built as OUT's hidden sibling .<OUT>.<random>) in any text.
    texts = [p for p in out.rglob("*") if p.suffix in {".html", ".ipynb", ".md", ".csv"}]
    for path in texts:
        assert f".{out.name}." not in path.read_text(encoding="utf-8"), path
    # 3. No section without its input: what needs a patients table is left out whole.
    assert "Left out for these data:" in report
    for heading in ("Who the patients were", "Patient profiles"):
        assert heading not in report
    # 4. p-values as "p < 0.001", never "p = < 0.001" or "below 1e-300".
    assert "p &lt; 0.001" in report or "p < 0.001" in report
    assert not re.search(r"p = (&lt;|<)", report)
    assert "below 1e-300" not in report
    # 5. One style of level: 95%, never 95.0%.
    assert "95% CI" in report and "95.0%" not in report
    # 6. Every visit named where several are listed (the Holm verdict).
    verdict = re.search(r"After Holm adjustment, ([^.]*?) changed", report).group(1)
    for visit in visits[1:]:
        assert f"SLEDAI-2K ({visit} vs baseline)" in verdict
    # 7. Displayed tables under labels, not CSV names; the paper's column is not shown.
    headers = _headers(report)
    assert "Mean change" in headers and "Wilcoxon p" in headers
    assert [h for h in headers if CSV_NAME.match(h)] == []
    assert "response_paper" not in report


def test_the_report_reads_as_the_cohorts_own(run):
    _seven_checks(run[0], "clinic_export.csv", 200, VISITS)


@pytest.mark.slow
def test_a_registry_of_100_000_patients_gets_the_same_report(tmp_path):
    # The same checks at registry size (three visits, no patients table); without the
    # Makefile's printing (the PDF is tested above), in about ten seconds.
    data = tmp_path / "registry.csv"
    write_csv(make_cohort(100_000, visits=3, seed=27), data)
    cohort.run_cohort(data, tmp_path / "registry", quiet=True)
    _seven_checks(tmp_path / "registry", "registry.csv", 100_000, ["baseline", "m3", "m6"])


def test_the_csv_files_keep_their_column_names(run):
    out, _ = run
    prepost = pd.read_csv(out / "tables" / "prepost.csv")
    assert {"change_mean", "wilcoxon_p_value", "hl_ci_level"} <= set(prepost.columns)
    assert len(prepost) == 3 * (len(VISITS) - 1)  # three measures, each follow-up


def test_a_pdf_and_the_word_tables_beside_the_report(run):
    from pypdf import PdfReader

    out, stderr = run
    assert "wrote" in stderr and "report.pdf" in stderr
    reader = PdfReader(out / "report.pdf")
    text = "".join(page.extract_text() for page in reader.pages)
    assert "Pre/post analysis of clinic_export.csv" in text
    assert f"Page 1 of {len(reader.pages)}" in text
    # A4 is 595.28 x 841.89 points (210 x 297 mm); Chromium rounds the page to whole
    # CSS pixels (595.92 x 842.88): within 2 points.
    width, height = (float(v) for v in reader.pages[0].mediabox[2:])
    assert width == pytest.approx(595.28, abs=2) and height == pytest.approx(841.89, abs=2)
    with zipfile.ZipFile(out / "tables.docx") as docx:
        document = docx.read("word/document.xml").decode("utf-8")
    assert document.count("<w:tbl>") == 2  # pre/post and response criteria; no cohort
    assert "Mean change" in document and "change_mean" not in document


def test_the_papers_report_meets_the_same_checks():
    report_path = paths.REPORTS / "report.html"
    if not report_path.is_file():
        pytest.skip("reports/report.html is built by make")
    report = report_path.read_text(encoding="utf-8")
    assert "Cassone et al." in report and "Left out for these data" not in report
    assert not re.search(r"p = (&lt;|<)", report) and "95.0%" not in report
    headers = _headers(report)
    assert [h for h in headers if CSV_NAME.match(h)] == []
