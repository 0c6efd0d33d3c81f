"""The report on paper: ``report.pdf`` beside ``report.html``, and ``tables.docx``.

``python -m helpers.pipeline.printing reports/report.html`` prints the report to
``reports/report.pdf`` in the system's Chromium (Debian's ``chromium`` package), driven by
Playwright; no browser is ever downloaded. The page is A4 with the page number in the
footer; print rules added at print time (:data:`PRINT_CSS`; the HTML file is not changed)
keep a figure with its caption and a table row on one page (a table shorter than a page
too), a heading with what follows, and fit every table into the width of the paper.
Every request that is not a local file or an inline image is refused, so what prints is
what the report carries.

The PDF is the same bytes on every run on one machine: Chromium stamps the time of
printing into it, which :func:`stable_pdf` replaces by a fixed date (``SOURCE_DATE_EPOCH``
when set, else 2000-01-01), and the file identifier is derived from the content.
Chromium's own text rendering differs between versions and fonts between machines, so
the bytes are not promised across machines (the PDF is not committed).

Without ``chromium`` (or when Playwright cannot start it) the report is not printed: one
line says so and how to get it (``apt-get install -y chromium``), and the exit status is
still 0, since the PDF is a convenience, not a result.

``make`` and ``make analysis`` pipe the runner's output into this module
(``--after-input``), which passes the progress on: Chromium starts and the imports load
while the notebooks run (from the second notebook, at the lowest priority, so as not to
slow them), the PDF and ``tables.docx`` (:mod:`helpers.pipeline.word`) are made as soon
as the report is written, and both are written once the runner says ``done`` (nothing
is written when the run fails). ``make`` then waits well under a second for them
instead of three.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import io
import os
import re
import select
import shutil
import sys
import threading
from collections.abc import Sequence
from pathlib import Path

from helpers import paths
from helpers.io import write_bytes

#: Where Chromium comes from, in the one line printed when it is missing.
INSTALL_HINT = "apt-get install -y chromium"

#: Added to the report's own styles at print time, for paper only.
PRINT_CSS = """
@page { size: A4; }
@media print {
  html { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  body { font-size: 10pt; line-height: 1.45; margin: 0; padding: 0; max-width: none; }
  h1 { font-size: 19pt; margin-top: 0; }
  h2 { font-size: 14pt; } h3 { font-size: 11.5pt; }
  h1, h2, h3, h4 { break-after: avoid; page-break-after: avoid; }
  p, li { orphans: 3; widows: 3; }
  /* A figure is never cut in two, nor parted from its caption: one wider than the
     paper or taller than a page (with its caption) shrinks to fit. */
  figure, img, svg, .figure-scroll { break-inside: avoid; page-break-inside: avoid; }
  figure img { min-width: 0 !important; max-width: 100% !important; max-height: 220mm;
               width: auto !important; height: auto !important; }
  figure { margin: 0.6rem 0 1rem; }
  /* Tables fit the width of the paper: smaller type, cells that wrap (between words,
     an interval after "to"; within a word only when it is wider than its column), the
     header row repeated on
     every page, no row cut in two, and a table shorter than a page on one page
     (print-keep: marked by PREPARE). A line that introduces a table or a
     figure stays with it. */
  .table-scroll, .figure-scroll { overflow: visible !important; background: none !important; }
  .table-scroll.print-keep { break-inside: avoid; page-break-inside: avoid; }
  p:has(+ .table-scroll), p:has(+ figure) { break-after: avoid; page-break-after: avoid; }
  table { font-size: 8pt; max-width: 100%; }
  th, td { padding: 0.12rem 0.35rem; overflow-wrap: break-word; }
  td.num { white-space: normal; }  /* an interval may break after "to" when tight */
  thead { display: table-header-group; }
  tr { break-inside: avoid; page-break-inside: avoid; }
  pre { white-space: pre-wrap; overflow-wrap: anywhere; font-size: 7.5pt; }
  nav ol { columns: 2; }
  a { text-decoration: none; }
}
"""

#: The footer of every page (Chromium fills the spans in). Its own styles: the page's
#: do not reach it, and its font size must be given.
FOOTER = ('<div style="font: 8px system-ui, sans-serif; color: #555; width: 100%; '
          'margin: 0 14mm; display: flex; justify-content: space-between;">'
          '<span class="title"></span>'
          '<span>Page <span class="pageNumber"></span> of <span class="totalPages"></span>'
          '</span></div>')
#: Paper margins (mm): room for the footer at the bottom.
MARGIN_MM = {"top": 14, "bottom": 16, "left": 14, "right": 14}
#: A4's printable area in CSS pixels (96 per inch): the page is laid out at this width.
PRINTABLE = {"width": round((210 - MARGIN_MM["left"] - MARGIN_MM["right"]) / 25.4 * 96),
             "height": round((297 - MARGIN_MM["top"] - MARGIN_MM["bottom"]) / 25.4 * 96)}
#: Adds :data:`PRINT_CSS` to the page, waits for its fonts and marks the tables shorter
#: than a page, which print on one page (a longer one starts where it is and breaks
#: between rows), as measured in the print layout. One call: one round trip to Chromium.
PREPARE = """async ([css, limit]) => {
  const style = document.createElement('style');
  style.textContent = css;
  document.head.append(style);
  await document.fonts.ready;
  for (const box of document.querySelectorAll('.table-scroll')) {
    if (box.getBoundingClientRect().height < limit) box.classList.add('print-keep');
  }
}"""
# Rendering switches that make the output the same from run to run on one machine.
ARGS = ["--force-color-profile=srgb", "--font-render-hinting=none", "--disable-gpu",
        "--disable-lcd-text"]


class PrintUnavailable(RuntimeError):
    """Chromium is missing or cannot be started: the report cannot be printed.

    The message says why and what to do.
    """

    @classmethod
    def chromium(cls, why: str) -> PrintUnavailable:
        """``why``, and that installing Chromium and running again prints it."""
        return cls(f"{why}; to print the report, install Chromium ({INSTALL_HINT}) and "
                   "run again")


def chromium_path() -> str | None:
    """The system's Chromium, or None."""
    return shutil.which("chromium")


def fixed_date() -> dt.datetime:
    """The date written into the PDF: ``SOURCE_DATE_EPOCH`` when set, else 2000-01-01."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if epoch.isdigit():
        return dt.datetime.fromtimestamp(int(epoch), dt.timezone.utc)
    return dt.datetime(2000, 1, 1, tzinfo=dt.timezone.utc)


def stable_pdf(data: bytes, date: dt.datetime | None = None) -> bytes:
    """Chromium's PDF with its dates fixed and an identifier derived from its content.

    The creation and modification dates become ``date`` (default :func:`fixed_date`);
    the trailer's ``/ID`` (which Chromium leaves out, and which tools add at random)
    becomes the first 16 bytes of the SHA-256 of the file with its dates fixed.
    Everything else (pages, fonts, links, outline, tags) is carried over as it is.

    Chromium writes each date as a string of fixed length and a plain trailer, so the
    dates are overwritten in place and the identifier is added to the trailer, which no
    offset points past: Chromium's bytes stay as they are, in milliseconds. pypdf then
    reads the result back to check it; a file written otherwise (another Chromium) is
    rewritten by pypdf instead.
    """
    from pypdf import PdfReader

    when = (date or fixed_date()).astimezone(dt.timezone.utc)
    patched = _patched_in_place(data, when)
    if patched is not None:
        try:
            reader = PdfReader(io.BytesIO(patched))
            info, identifier = reader.metadata, reader.trailer.get("/ID")
            fixed = when.strftime("D:%Y%m%d%H%M%S")
            if (info is not None and all(str(info.get(key, "")).startswith(fixed)
                                         for key in ("/CreationDate", "/ModDate"))
                    and identifier is not None and len(reader.pages) > 0):
                return patched
        except Exception:  # not what it was expected to be: rewritten below
            pass
    return _rewritten(data, when)


_DATE = re.compile(rb"/(CreationDate|ModDate) \(D:\d{14}(?:[+-]\d\d'\d\d'|Z00'00')\)")
_TRAILER = re.compile(
    rb"\ntrailer\n<<(?:(?!>>).)*?/Info \d+ 0 R>>\nstartxref\n\d+\n%%EOF\n?\Z", re.S)


def _patched_in_place(data: bytes, when: dt.datetime) -> bytes | None:
    """Chromium's own layout with fixed dates and an ID in the trailer, or None."""
    stamp = when.strftime("D:%Y%m%d%H%M%S+00'00'").encode("ascii")
    dates = list(_DATE.finditer(data))
    trailer = _TRAILER.search(data)
    if len(dates) != 2 or trailer is None or b"/ID" in data[trailer.start():]:
        return None
    patched = bytearray(data)
    for match in dates:
        value = b"/" + match.group(1) + b" (" + stamp + b")"
        if len(value) != len(match.group(0)):
            return None
        patched[match.start():match.end()] = value
    digest = hashlib.sha256(patched).hexdigest()[:32].encode("ascii")
    end = trailer.group(0).index(b">>\nstartxref") + trailer.start()
    return bytes(patched[:end]) + b"\n/ID [<" + digest + b"> <" + digest + b">]" + bytes(
        patched[end:])


def _rewritten(data: bytes, when: dt.datetime) -> bytes:
    """:func:`stable_pdf` by pypdf: the document cloned with fixed dates, then its ID."""
    from pypdf import PdfReader, PdfWriter
    from pypdf.generic import ArrayObject, ByteStringObject, NameObject

    stamp = when.strftime("D:%Y%m%d%H%M%SZ")

    def write(identifier: bytes | None) -> bytes:
        reader = PdfReader(io.BytesIO(data))
        if identifier is not None:
            reader.trailer[NameObject("/ID")] = ArrayObject(
                [ByteStringObject(identifier), ByteStringObject(identifier)])
        writer = PdfWriter(clone_from=reader)
        writer.pdf_header = reader.pdf_header
        writer.add_metadata({"/CreationDate": stamp, "/ModDate": stamp})
        out = io.BytesIO()
        writer.write(out)
        return out.getvalue()

    return write(hashlib.sha256(write(None)).digest()[:16])


class Printer:
    """A headless Chromium ready to print, started by :meth:`start` (Playwright).

    Starting takes about a second (Playwright's driver, the browser, a first page), so
    ``make`` starts one while the notebooks run and prints once the report is written.
    """

    def __init__(self) -> None:
        self._playwright = self._browser = self._page = None

    def start(self) -> Printer:
        """Start Chromium; :class:`PrintUnavailable` when it is missing or fails."""
        executable = chromium_path()
        if executable is None:
            raise PrintUnavailable.chromium("chromium not found")
        try:
            from playwright.sync_api import sync_playwright
        except ImportError:
            raise PrintUnavailable("Playwright is not installed; `make env` installs it "
                                   "(it is in requirements.lock)") from None
        try:
            self._playwright = sync_playwright().start()
            self._browser = self._playwright.chromium.launch(executable_path=executable,
                                                             args=ARGS)
            context = self._browser.new_context(viewport=PRINTABLE, reduced_motion="reduce")
            context.route("**/*", _local_only)
            self._page = context.new_page()
            self._page.emulate_media(media="print")
            self._page.goto("about:blank")
            # Chromium's print path and pypdf warmed up now, while the notebooks run: the
            # report's print then takes half a second instead of nearly one.
            self._page.set_content("<p>warm-up</p>")
            self._page.pdf(format="A4")
            import pypdf  # noqa: F401
        except Exception as error:  # Playwright's Error, a broken install
            self.close()
            raise PrintUnavailable.chromium(
                f"Chromium could not be started ({_first_line(error)})") from None
        return self

    def pdf(self, report: str | Path) -> bytes:
        """The report printed (A4, page numbers in the footer), before :func:`stable_pdf`."""
        page = self._page
        try:
            page.goto(Path(report).resolve().as_uri(), wait_until="load")
            page.evaluate(PREPARE, [PRINT_CSS, 0.95 * PRINTABLE["height"]])
            margin = {side: f"{mm}mm" for side, mm in MARGIN_MM.items()}
            return page.pdf(format="A4", margin=margin, print_background=True,
                            display_header_footer=True, header_template="<span></span>",
                            footer_template=FOOTER)
        except Exception as error:
            raise PrintUnavailable.chromium(
                f"Chromium could not print ({_first_line(error)})") from None

    def close(self) -> None:
        """Stop Chromium and the driver (nothing happens when they did not start)."""
        for closing in (self._browser, self._playwright):
            if closing is not None:
                try:
                    closing.close() if closing is self._browser else closing.stop()
                except Exception:  # already gone: nothing to release
                    pass
        self._playwright = self._browser = self._page = None

    def __enter__(self) -> Printer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()


def _local_only(route) -> None:
    if route.request.url.startswith(("file:", "data:", "about:")):
        route.continue_()
    else:
        route.abort()


def _first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return text[0].strip() if text else type(error).__name__


def pdf_path(report: str | Path) -> Path:
    """Where the PDF of ``report`` goes: beside it, ``report.pdf`` for ``report.html``."""
    return Path(report).with_suffix(".pdf")


def print_report(report: str | Path, output: str | Path | None = None, *,
                 printer: Printer | None = None) -> Path:
    """Print ``report`` (HTML) to ``output`` (default beside it), atomically.

    Parameters
    ----------
    report : path
        The HTML report.
    output : path, optional
        The PDF; default :func:`pdf_path`.
    printer : Printer, optional
        A started printer to use (else one is started and closed).

    Returns
    -------
    Path
        ``output``.

    Raises
    ------
    PrintUnavailable
        Chromium is missing, cannot be started or cannot print.
    """
    report = paths.resolve(report)
    output = paths.resolve(output) if output is not None else pdf_path(report)
    if printer is None:
        with Printer() as own:
            data = own.pdf(report)
    else:
        data = printer.pdf(report)
    return write_bytes(stable_pdf(data), output)


def skipped_line(pdf: str | Path, reason: str) -> str:
    """The one line said when the PDF cannot be printed (``reason`` says what to do)."""
    return f"note: {paths.display_path(pdf)} skipped: {reason}"


def _prepared(folder: Path, printer: Printer | None,
              problem: str | None) -> tuple[dict[Path, bytes], str | None]:
    """``folder``'s report.pdf and tables.docx, in memory, and why the PDF is missing.

    The Word document is built while Chromium prints.
    """
    from helpers.pipeline.word import docx_bytes

    outputs: dict[Path, bytes] = {}
    worker = None
    if (folder / "tables").is_dir():
        def word() -> None:
            outputs[folder / "tables.docx"] = docx_bytes(folder / "tables")

        worker = threading.Thread(target=word)
        worker.start()
    failure = None
    try:
        if printer is None:
            raise (PrintUnavailable(problem) if problem
                   else PrintUnavailable.chromium("chromium not found"))
        outputs[folder / "report.pdf"] = stable_pdf(printer.pdf(folder / "report.html"))
    except PrintUnavailable as error:
        failure = str(error)
    finally:
        if worker is not None:
            worker.join()
    return outputs, failure


def _write(outputs: dict[Path, bytes], failure: str | None, folder: Path,
           quiet_failure: bool) -> list[Path]:
    """Write what :func:`_prepared` made (the PDF first); say in one line why the PDF is
    missing, unless ``quiet_failure`` and Chromium is installed (``make`` retries with
    its own rule for report.pdf, which says why)."""
    if failure is not None and not (quiet_failure and chromium_path() is not None):
        print(skipped_line(folder / "report.pdf", failure), file=sys.stderr)
    return [write_bytes(outputs[path], path) for path in
            (folder / "report.pdf", folder / "tables.docx") if path in outputs]


def finish_folder(folder: str | Path, *, printer: Printer | None,
                  problem: str | None = None, quiet_failure: bool = False) -> list[Path]:
    """Write ``folder/report.pdf`` and ``folder/tables.docx`` beside ``folder/report.html``.

    Returns what was written; a PDF that cannot be printed is said in one line on stderr
    (``problem``: why ``printer`` is None), unless ``quiet_failure`` and Chromium is
    installed.
    """
    folder = paths.resolve(folder)
    outputs, failure = _prepared(folder, printer, problem)
    return _write(outputs, failure, folder, quiet_failure)


def _signature(path: Path) -> tuple[int, int] | None:
    try:
        status = path.stat()
    except OSError:
        return None
    return status.st_ino, status.st_mtime_ns


#: Chromium starts when the runner starts this notebook (its ``running`` line): the
#: kernel's launch and the first notebook's imports, which use both cores, are over.
START_AT_NOTEBOOK = 2


def _lines(report: Path | None, before):
    """The runner's lines on stdin as they come, and ``None`` whenever ``report`` was
    just rewritten (so that the outputs can be made while the runner ends)."""
    try:
        stdin = sys.stdin.fileno()
    except (AttributeError, OSError, ValueError):  # not a file (tests): just read
        yield from sys.stdin
        return
    # Read unbuffered and split here: a buffered reader would keep the second of two
    # lines that arrive together out of select's sight until more input came.
    pending = b""
    while True:
        if select.select([stdin], [], [], 0.05)[0]:
            chunk = os.read(stdin, 65536)
            if not chunk:
                if pending:
                    yield pending.decode("utf-8", errors="replace")
                return
            *lines, pending = (pending + chunk).split(b"\n")
            for line in lines:
                yield line.decode("utf-8", errors="replace") + "\n"
        elif report is not None:
            now = _signature(report)
            if now is not None and now != before:  # rewritten (make analysis: moved in)
                before = now
                yield None


def _wait_then_finish(folder: Path | None, quiet_failure: bool) -> int:
    """``--after-input``: pass the runner's progress on, start Chromium while the
    notebooks run, then finish ``folder``.

    Every line the runner writes is passed on to stderr (its progress, or its error)
    except the last, ``done``. Chromium and the imports start at the lowest priority
    once the runner starts its :data:`START_AT_NOTEBOOK`-th notebook (the start-up of
    the kernel is then over, and Chromium does not slow it). The PDF and the Word
    document are made as soon as the report is rewritten (the runner then still shuts
    its kernel down) and written once the run says ``done``; on an end of input
    without it (the run failed, and said why) nothing is written. Without a folder
    (``make analysis`` without ``OUT``, which the run refuses) there is nothing to
    prepare: the input is passed on to its end.
    """
    report = folder / "report.html" if folder is not None else None
    before = _signature(report) if report is not None else None
    try:
        os.nice(19)  # the notebooks first: they are what make waits for
    except (AttributeError, OSError):
        pass
    printer, problem, prepared, started, done = None, None, None, 0, False
    try:
        for line in _lines(report, before):
            if line is None:  # the report was rewritten
                if folder is not None:
                    printer, problem = _started(printer, problem)
                    prepared = _prepared(folder, printer, problem)
                continue
            if line.strip() == "done":
                done = True
                continue
            sys.stderr.write(line)
            sys.stderr.flush()
            if line.startswith("running "):
                started += 1
                if folder is not None and started == START_AT_NOTEBOOK:
                    printer, problem = _started(printer, problem)
        if not done or folder is None:
            return 0  # the run failed (its own error says why): nothing to write
        printer, problem = _started(printer, problem)
        outputs, failure = prepared or _prepared(folder, printer, problem)
        for path in _write(outputs, failure, folder, quiet_failure):
            print(f"wrote {paths.display_path(path)}", file=sys.stderr)
    finally:
        if printer is not None:
            printer.close()
    return 0


def _started(printer: Printer | None, problem: str | None
             ) -> tuple[Printer | None, str | None]:
    """A started printer (Chromium and the Word module loaded), or why there is none;
    started once."""
    if printer is not None or problem is not None:
        return printer, problem
    import helpers.pipeline.word  # noqa: F401  (pandas, python-docx: loaded now)

    try:
        return Printer().start(), None
    except PrintUnavailable as error:
        return None, str(error)


def main(argv: Sequence[str] | None = None) -> int:
    """Command line; exit status 0 also when Chromium is missing (one line says so)."""
    parser = argparse.ArgumentParser(prog="python -m helpers.pipeline.printing",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("report", nargs="?",
                        help="the HTML report (default: FOLDER/report.html)")
    parser.add_argument("--output", help="the PDF (default: beside the report)")
    parser.add_argument("--folder", help="finish a run's folder: report.pdf and tables.docx "
                        "beside its report.html (from its tables/)")
    parser.add_argument("--folder-from", metavar="VARIABLE",
                        help="the folder, read from this environment variable (how make "
                        "passes a path without a shell reading it)")
    parser.add_argument("--after-input", action="store_true",
                        help="with --folder: start Chromium now, finish the folder once the line "
                        "'done' arrives on stdin (nothing on end of input)")
    parser.add_argument("--quiet-failure", action="store_true",
                        help="say nothing when an installed Chromium fails (make retries)")
    args = parser.parse_args(argv)
    folder = args.folder or (os.environ.get(args.folder_from) if args.folder_from else None)
    if args.after_input:
        return _wait_then_finish(paths.resolve(folder) if folder else None,
                                 args.quiet_failure)
    if folder:
        try:
            printer, problem = Printer().start(), None
        except PrintUnavailable as error:
            printer, problem = None, str(error)
        try:
            written = finish_folder(folder, printer=printer, problem=problem)
        finally:
            if printer is not None:
                printer.close()
        for path in written:
            print(f"wrote {paths.display_path(path)}", file=sys.stderr)
        return 0
    if not args.report:
        parser.error("give REPORT or --folder")
    output = args.output or pdf_path(args.report)
    try:
        written = print_report(args.report, output)
    except PrintUnavailable as error:
        print(skipped_line(output, str(error)), file=sys.stderr)
        return 0
    print(f"wrote {paths.display_path(written)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    from helpers.pipeline import exit_without_teardown

    # Playwright's event loop adds a tenth of a second to the teardown that make waits for.
    exit_without_teardown(main())
