"""report.pdf: the report printed by the system's Chromium (helpers.pipeline.printing).

A4 pages numbered in the footer, the same bytes when printed again, and, where Chromium is
missing or cannot start, one line that says so and an exit status of 0. The tests that
print are skipped where ``chromium`` is not installed; the others run everywhere.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import re
import shutil
import subprocess
import sys

import pytest
from pypdf import PdfReader, PdfWriter

from helpers import paths
from helpers.pipeline import printing
from helpers.pipeline.report import build_report

NOTEBOOKS = sorted(paths.NOTEBOOKS.glob("0*.ipynb"))
needs_chromium = pytest.mark.skipif(
    printing.chromium_path() is None,
    reason="chromium not installed (apt-get install -y chromium): report not printed")
#: A4 in PDF points; Chromium rounds the page to whole CSS pixels (under a point).
A4 = (595.28, 841.89)
Y2K = dt.datetime(2000, 1, 1, tzinfo=dt.timezone.utc)


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    return build_report(NOTEBOOKS, tmp_path_factory.mktemp("pdf") / "report.html")


@pytest.fixture(scope="module")
def printed(report):
    """The report printed twice, each time by a Chromium of its own (as two runs do), and
    what the first Chromium printed before :func:`printing.stable_pdf`."""
    with printing.Printer() as chromium:
        raw = chromium.pdf(report)
        first = printing.print_report(report, printer=chromium)
    data = first.read_bytes()
    second = printing.print_report(report, report.with_name("again.pdf"))
    return data, second.read_bytes(), raw


@needs_chromium
def test_the_report_prints_on_numbered_a4_pages(report, printed):
    data = printed[0]
    assert (report.parent / "report.pdf").read_bytes() == data  # beside the report
    pages = PdfReader(io.BytesIO(data)).pages
    assert len(pages) > 5
    for number, page in enumerate(pages, start=1):
        width, height = float(page.mediabox.width), float(page.mediabox.height)
        assert width == pytest.approx(A4[0], abs=1.5) and height == pytest.approx(A4[1], abs=1.5)
        assert f"Page {number} of {len(pages)}" in page.extract_text(), number


@needs_chromium
def test_the_pdf_says_what_the_report_says(printed):
    reader = PdfReader(io.BytesIO(printed[0]))
    text = "\n".join(page.extract_text() for page in reader.pages)
    for words in ("Key results", "Provenance", "Figure 1.", "Pooled proportions"):
        assert words in text, words
    assert reader.metadata.title.startswith("Anifrolumab for lupus arthritis")


@needs_chromium
def test_a_second_print_is_byte_identical(printed):
    first, second, _ = printed
    assert first == second
    reader = PdfReader(io.BytesIO(first))
    assert reader.metadata.creation_date == reader.metadata.modification_date == Y2K
    identifier = reader.trailer["/ID"]
    assert len(identifier[0]) == 16 and identifier[0] == identifier[1]


@needs_chromium
def test_only_the_dates_and_the_identifier_are_changed(printed):
    """Chromium's bytes are kept: its dates overwritten in place, the ID added to the
    trailer (which no offset points past)."""
    stable, raw = printed[0], printed[2]
    trailer = raw.rindex(b"\ntrailer\n")
    assert len(stable) == len(raw) + len(stable[stable.index(b"\n/ID ["):
                                                stable.index(b"]>>\nstartxref") + 1])
    allowed = [range(m.start(), m.end()) for m in re.finditer(
        rb"/(CreationDate|ModDate) \([^)]*\)", raw)]
    differing = [i for i in range(trailer) if stable[i] != raw[i]]
    assert differing and all(any(i in r for r in allowed) for i in differing)


def _pdf_made_at(stamp: str) -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=A4[0], height=A4[1])
    writer.add_metadata({"/Title": "t", "/CreationDate": stamp, "/ModDate": stamp})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_dates_and_identifier_are_fixed_whenever_it_was_printed():
    early, late = _pdf_made_at("D:20240101000000Z"), _pdf_made_at("D:20261231235959Z")
    assert early != late
    assert printing.stable_pdf(early) == printing.stable_pdf(late)
    other = _pdf_made_at("D:20240101000000Z").replace(b"/Title (t)", b"/Title (u)")
    ids = [PdfReader(io.BytesIO(printing.stable_pdf(pdf))).trailer["/ID"][0]
           for pdf in (early, other)]
    assert ids[0] != ids[1], "the identifier follows the content"


def test_source_date_epoch_sets_the_date(monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    assert printing.fixed_date() == dt.datetime(2023, 11, 14, 22, 13, 20, tzinfo=dt.timezone.utc)
    data = printing.stable_pdf(_pdf_made_at("D:20240101000000Z"))
    assert PdfReader(io.BytesIO(data)).metadata.creation_date == printing.fixed_date()
    monkeypatch.delenv("SOURCE_DATE_EPOCH")
    assert printing.fixed_date().year == 2000


def _one_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, lines
    return lines[0]


def test_without_chromium_one_line_says_how_to_get_the_pdf(tmp_path):
    """Run as make runs it, with a PATH that has no chromium."""
    report = tmp_path / "report.html"
    report.write_text("<!DOCTYPE html><title>t</title><p>x</p>")
    result = subprocess.run(
        [sys.executable, "-m", "helpers.pipeline.printing", str(report)],
        env={**os.environ, "PATH": str(tmp_path / "empty")}, capture_output=True, text=True,
        timeout=60)
    assert result.returncode == 0, result.stderr
    line = _one_line(result.stderr)
    assert "report.pdf skipped: chromium not found" in line
    assert printing.INSTALL_HINT in line
    assert not (tmp_path / "report.pdf").exists()


def test_a_chromium_that_cannot_start_is_one_line_too(tmp_path, monkeypatch, capsys):
    report = tmp_path / "report.html"
    report.write_text("<!DOCTYPE html><title>t</title><p>x</p>")
    monkeypatch.setattr(printing, "chromium_path", lambda: shutil.which("false"))
    assert printing.main([str(report)]) == 0
    line = _one_line(capsys.readouterr().err)
    assert "Chromium could not be started" in line and printing.INSTALL_HINT in line
    assert not (tmp_path / "report.pdf").exists()


def _run_folder(tmp_path):
    folder = tmp_path / "run"
    shutil.copytree(paths.TABLES, folder / "tables")
    (folder / "report.html").write_text("<!DOCTYPE html><title>t</title><p>x</p>")
    return folder


def test_make_finishes_a_folder_without_chromium(tmp_path, monkeypatch, capsys):
    """make's companion (--after-input): tables.docx written, one line for the PDF,
    nothing at all when the run failed (end of input without `done`)."""
    folder = _run_folder(tmp_path)
    monkeypatch.setattr(os, "nice", lambda increment: 0)  # not this test process
    monkeypatch.setattr(shutil, "which", lambda name, *a, **k: None)
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    assert printing.main(["--folder", str(folder), "--after-input"]) == 0
    assert capsys.readouterr().err == "" and not (folder / "tables.docx").exists()

    monkeypatch.setattr(sys, "stdin", io.StringIO("done\n"))
    assert printing.main(["--folder", str(folder), "--after-input", "--quiet-failure"]) == 0
    err = capsys.readouterr().err.strip().splitlines()
    assert [line for line in err if "skipped" in line] == [err[0]] and len(err) == 2, err
    assert printing.INSTALL_HINT in err[0] and err[1].endswith("tables.docx")
    assert (folder / "tables.docx").is_file() and not (folder / "report.pdf").exists()


def test_make_analysis_without_out_waits_for_nothing(monkeypatch, capsys):
    monkeypatch.delenv("ANALYSIS_OUT", raising=False)
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    assert printing.main(["--folder-from", "ANALYSIS_OUT", "--after-input"]) == 0
    assert capsys.readouterr().err == ""


@needs_chromium
def test_make_finishes_a_folder(tmp_path, monkeypatch, capsys):
    folder = _run_folder(tmp_path)
    monkeypatch.setattr(os, "nice", lambda increment: 0)
    monkeypatch.setenv("ANALYSIS_OUT", str(folder))
    monkeypatch.setattr(sys, "stdin", io.StringIO("done\n"))
    assert printing.main(["--folder-from", "ANALYSIS_OUT", "--after-input"]) == 0
    assert capsys.readouterr().err.split() == [
        "wrote", str(folder / "report.pdf"), "wrote", str(folder / "tables.docx")]
    assert (folder / "report.pdf").read_bytes().startswith(b"%PDF-")


def test_report_pdf_is_ignored_like_the_report():
    ignored = subprocess.run(
        ["git", "check-ignore", "reports/report.html", "reports/report.pdf",
         "reports/tables.docx"], cwd=paths.ROOT, capture_output=True, text=True)
    assert ignored.stdout.split() == ["reports/report.html", "reports/report.pdf",
                                      "reports/tables.docx"]


def test_lines_that_arrive_together_are_passed_on_together(monkeypatch):
    # The runner's progress comes through a pipe; two lines written at once must both be
    # passed on then, not the second only when more input comes (or at its end).
    read, write = os.pipe()
    with os.fdopen(read, "r") as stdin, os.fdopen(write, "w") as runner:
        monkeypatch.setattr("sys.stdin", stdin)
        runner.write("running notebooks/01_clean.ipynb\n  done in 1.0 s\n")
        runner.flush()
        lines = printing._lines(None, None)
        assert [next(lines), next(lines)] == ["running notebooks/01_clean.ipynb\n",
                                              "  done in 1.0 s\n"]
        runner.write("done")  # the last line, without a newline, at the end of input
        runner.close()
        assert list(lines) == ["done"]
