"""Assemble the executed notebooks into one self-contained HTML report.

``python -m helpers.pipeline.report --output reports/report.html notebooks/0*.ipynb`` writes every
markdown cell and every output (tables, figures) of the given notebooks, code hidden, with
a provenance block: git commit, raw-data checksums, Python and package versions, and the
parameters each notebook ran with. Figures are embedded as data URIs and the style sheet is
inline, so the file opens offline and can be forwarded as one attachment.

Built from the notebooks' outputs rather than re-executed, so the report always shows what
the committed notebooks show.
"""

from __future__ import annotations

import argparse
import base64
import html
import platform
import re
import struct
import subprocess
import sys
from collections.abc import Mapping, Sequence
from importlib import metadata
from pathlib import Path

import nbformat
import mistune

from helpers import paths
from helpers.data.patients import SKIPPED
from helpers.io import sha256, write_text

PACKAGES = ("helpers", "numpy", "pandas", "scipy", "statsmodels", "matplotlib", "seaborn",
            "pandera", "papermill", "nbformat", "nbconvert")

# The look of the page. Tables sit in boxes of their own (helpers.tables) that scroll
# sideways on a narrow screen, with a shadow on the side that hides columns (the
# background "scroll shadow" technique: white covers that scroll with the content hide
# the shadows at either end); the page itself never scrolls sideways. A transposed table
# (one column per patient or outcome) becomes one card per column on a phone. Figures are
# SVG, sharp at any size, never narrower than their text can be read at (a two-column
# figure scrolls in its box on a phone).
PHONE = "40rem"
_SCROLL_SHADOW = (
    "linear-gradient(to right, #fff 30%, rgba(255,255,255,0)) left center / 2.5rem 100% "
    "no-repeat local, "
    "linear-gradient(to left, #fff 30%, rgba(255,255,255,0)) right center / 2.5rem 100% "
    "no-repeat local, "
    "radial-gradient(farthest-side at 0 50%, rgba(0,0,0,.35), rgba(0,0,0,0)) left center / "
    "1rem 100% no-repeat scroll, "
    "radial-gradient(farthest-side at 100% 50%, rgba(0,0,0,.35), rgba(0,0,0,0)) right center "
    "/ 1rem 100% no-repeat scroll")
CSS = f"""
body {{ font: 15px/1.55 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
       color: #1d1d1f; max-width: 60rem; margin: 2rem auto; padding: 0 1.25rem;
       overflow-wrap: break-word; }}
h1, h2, h3 {{ line-height: 1.25; }} h1 {{ font-size: 1.8rem; }} h2 {{ margin-top: 2.2rem; }}
header.report {{ border-bottom: 2px solid #0072B2; margin-bottom: 1.5rem; }}
section.notebook {{ border-top: 1px solid #ddd; margin-top: 2.5rem; }}
nav ol {{ padding-left: 1.2rem; }} a {{ color: #0072B2; }}
a.anchor-link {{ display: none; }}
.table-scroll, .figure-scroll {{ max-width: 100%; overflow-x: auto; background: {_SCROLL_SHADOW};
       background-color: #fff; }}
.table-scroll {{ margin: 0.8rem 0 1.2rem; }}
.table-scroll:focus-visible, .figure-scroll:focus-visible {{ outline: 2px solid #0072B2; }}
table {{ border-collapse: collapse; font-size: 0.85rem; font-variant-numeric: tabular-nums; }}
th, td {{ padding: 0.3rem 0.55rem; border-bottom: 1px solid #e3e3e3; text-align: left;
         vertical-align: top; }}
thead th {{ vertical-align: bottom; border-bottom: 1.5px solid #1d1d1f; font-weight: 600; }}
tbody th {{ font-weight: 600; }}
.num {{ text-align: right; }} td.num {{ white-space: nowrap; }}
tr.group th {{ padding-top: 0.9rem; font-weight: 700; border-bottom: 1px solid #9a9a9a; }}
code.digest {{ overflow-wrap: anywhere; word-break: break-all; }}
.table-note {{ font-size: 0.8rem; color: #555; margin: -0.8rem 0 1.2rem; }}
figure {{ margin: 1.2rem 0 1.6rem; }}
figure img {{ display: block; max-width: 100%; height: auto; margin: 0 auto; }}
figcaption {{ font-size: 0.85rem; color: #444; margin-top: 0.4rem; }}
figcaption .files {{ color: #666; }}
pre {{ background: #f5f7fa; padding: 0.6rem 0.8rem; overflow-x: auto; font-size: 0.8rem; }}
code {{ font-size: 0.9em; }}
.key-results {{ background: #f3f8fc; border-left: 4px solid #009E73;
                padding: 0.2rem 1.2rem 0.6rem; }}
.provenance {{ font-size: 0.85rem; background: #f5f7fa; padding: 0.8rem 1rem;
              border-left: 4px solid #0072B2; }}
.provenance .table-scroll {{ background: none; }}
.provenance table {{ font-size: 0.8rem; }}
.provenance pre {{ margin: 0; padding: 0; white-space: pre-wrap; overflow-wrap: anywhere; }}
@media (max-width: {PHONE}) {{
  body {{ margin: 1rem auto; padding: 0 1rem; font-size: 15px; }}
  h1 {{ font-size: 1.45rem; }}
  .key-results {{ padding: 0.2rem 0.8rem 0.6rem; }} .key-results ul {{ padding-left: 1.1rem; }}
  .provenance tr, .provenance th, .provenance td {{ display: block; border: none; }}
  .provenance tr {{ border-bottom: 1px solid #e3e3e3; padding: 0.3rem 0; }}
  .provenance th, .provenance td {{ padding: 0.1rem 0; }}
  table.cards {{ display: flex; flex-direction: column; width: 100%; }}
  table.cards thead, table.cards tbody, table.cards tr {{ display: contents; }}
  table.cards th.corner, table.cards tbody th {{ display: none; }}
  table.cards thead th {{ display: block; text-align: left !important; font-size: 0.95rem;
                          margin-top: 1rem; padding-left: 0; }}
  table.cards thead th::before {{ content: attr(data-label) " "; font-weight: 400;
                                  color: #555; }}
  table.cards td {{ display: flex; gap: 0.8rem; white-space: normal; text-align: left !important;
                    padding-left: 0; padding-right: 0; }}
  table.cards td::before {{ content: attr(data-label); flex: 0 0 45%; font-weight: 600; }}
}}
@media print {{ body {{ max-width: none; }} section.notebook {{ break-before: page; }}
  .table-scroll, .figure-scroll {{ overflow: visible; background: none; }} }}
"""


# Markdown from notebooks and narratives carries values from data files (patient ids,
# study names, labels): raw HTML in it is escaped, never passed through, and links with
# script schemes are disarmed (mistune's escape mode and safe URLs), so a report that is
# opened and forwarded never executes data.
class _SafeRenderer(mistune.HTMLRenderer):
    """mistune's HTML renderer with raw HTML shown as text.

    mistune's own ``escape=True`` also escapes entities (``&lt;`` would show as
    ``&lt;``); escaping only the raw-HTML tokens keeps entities and backslash escapes
    working as CommonMark says, so escaped values read as what they are.
    """

    def inline_html(self, html: str) -> str:
        return mistune.escape(html)

    def block_html(self, html: str) -> str:
        return f"<p>{mistune.escape(html.strip())}</p>\n"


_MARKDOWN = mistune.create_markdown(renderer=_SafeRenderer(escape=False),
                                    plugins=["table", "strikethrough"])
# A Markdown table gets the box of every other table (it scrolls on a narrow screen).
_MARKDOWN.renderer.register(
    "table", lambda renderer, text: ('<div class="table-scroll" role="region" tabindex="0" '
                                     f'aria-label="table"><table>\n{text}</table></div>\n'))


def _markdown_html(text: str) -> str:
    """Render Markdown as HTML with raw HTML escaped."""
    return _MARKDOWN(text)


def _git(*args: str) -> str | None:
    try:
        out = subprocess.run(["git", *args], cwd=paths.ROOT, capture_output=True, text=True,
                             timeout=10, check=True)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip()


def provenance(raw_dir: str | Path = paths.DATA_RAW, inputs=None) -> dict[str, object]:
    """Commit, input checksums and software versions of this run.

    ``inputs`` (files, or a mapping of the name to show to the file) replaces the
    default input set, the CSV files of ``raw_dir``.
    """
    commit = _git("rev-parse", "HEAD")
    dirty = _git("status", "--porcelain", "--untracked-files=no", "--", "src", "notebooks",
                 "data/raw", "Makefile", "requirements.lock")
    versions = {}
    for package in PACKAGES:
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = "not installed"
    if isinstance(inputs, Mapping):  # name as shown -> file
        named = {str(name): paths.resolve(path) for name, path in inputs.items()}
    else:
        files = ([paths.resolve(p) for p in inputs] if inputs is not None
                 else sorted(paths.resolve(raw_dir).glob("*.csv")))
        named = {paths.display_path(p): p for p in files}
    return {
        "commit": (commit or "unknown (not a git checkout)")
        + (" with uncommitted changes to inputs" if dirty else ""),
        "python": f"{platform.python_version()} ({platform.python_implementation()})",
        "packages": versions,
        "inputs": {name: sha256(path) for name, path in named.items()},
    }


# How a figure is drawn on the page: its width in inches at 1.5 CSS pixels per point-pixel
# (144 px per inch, capped by the column), and never narrower than 93 px per inch, where
# the theme's smallest text (7 pt) is 9 px high: a two-column figure (7 in) scrolls in its
# box on a phone rather than shrinking to unreadable text.
PX_PER_INCH = 144
MIN_PX_PER_INCH = 93
_SVG_SIZE = re.compile(r'<svg\b[^>]*?\bwidth="([\d.]+)pt"[^>]*?\bheight="([\d.]+)pt"')
_MATPLOTLIB_REPR = re.compile(r"<(matplotlib\.[\w.]+|Figure size [\dx]+)[^>]*>")


def _image_inches(data: Mapping) -> tuple[float, float] | None:
    """Width and height in inches of a displayed SVG (points) or PNG (at 150 dpi)."""
    if "image/svg+xml" in data:
        match = _SVG_SIZE.search(data["image/svg+xml"])
        return (float(match[1]) / 72, float(match[2]) / 72) if match else None
    head = base64.b64decode(data["image/png"].strip()[:44])
    if head[:8] != b"\x89PNG\r\n\x1a\n":
        return None
    width, height = struct.unpack(">II", head[16:24])
    return width / 150, height / 150  # the inline backend's dpi (helpers.figures theme)


def _figure_html(output: Mapping, number: int, heading: str) -> str:
    """A displayed figure as a captioned ``<figure>``: the image, its text alternative."""
    data = output.get("data", {})
    alt = " ".join(str(data.get("text/plain", "")).split())
    if not alt or _MATPLOTLIB_REPR.search(alt):
        alt = f"Figure {number}: {heading}" if heading else f"Figure {number}"
    if "image/svg+xml" in data:
        payload = base64.b64encode(data["image/svg+xml"].encode("utf-8")).decode("ascii")
        src = f"data:image/svg+xml;base64,{payload}"
    else:
        src = f"data:image/png;base64,{data['image/png'].strip()}"
    size = _image_inches(data)
    attributes = ""
    if size is not None:
        width, height = size
        attributes = (f' width="{round(width * PX_PER_INCH)}" '
                      f'height="{round(height * PX_PER_INCH)}" '
                      f'style="min-width: {round(width * MIN_PX_PER_INCH)}px"')
    files = output.get("metadata", {}).get("files") or []
    title = heading if not heading or heading[-1] in ".?!" else f"{heading}."
    caption = f"<strong>Figure {number}.</strong> {html.escape(title)}".rstrip()
    if files:
        caption += (f' <span class="files">Files: '
                    f"{', '.join(html.escape(str(f)) for f in files)}.</span>")
    return (f'<figure id="figure-{number}"><div class="figure-scroll" role="region" '
            f'tabindex="0" aria-label="figure {number}">'
            f'<img alt="{html.escape(alt)}" src="{src}"{attributes}></div>'
            f"<figcaption>{caption}</figcaption></figure>")


def _output_html(output: Mapping) -> str:
    kind = output.get("output_type")
    if kind == "stream":
        return f"<pre>{html.escape(output.get('text', ''))}</pre>" if output.get(
            "name") == "stdout" else ""
    if kind not in {"execute_result", "display_data"}:
        return ""
    data = output.get("data", {})
    if "text/html" in data:
        return data["text/html"]
    if "text/markdown" in data:
        return _markdown_html(data["text/markdown"])
    if "text/plain" in data:
        return f"<pre>{html.escape(data['text/plain'])}</pre>"
    return ""


def _is_figure(output: Mapping) -> bool:
    data = output.get("data", {})
    return output.get("output_type") in {"execute_result", "display_data"} and (
        "image/svg+xml" in data or "image/png" in data)


def _heading(markdown: str, current: str) -> str:
    """The last heading of a Markdown cell (plain text), or ``current``."""
    for line in markdown.splitlines():
        match = re.match(r"#{1,6}\s+(.*\S)", line)
        if match:
            current = re.sub(r"[*_`]", "", match[1])
    return current


def _parameters(nb: nbformat.NotebookNode) -> str:
    sources = [cell.source for cell in nb.cells if cell.cell_type == "code" and (
        {"parameters", "injected-parameters"} & set(cell.metadata.get("tags", [])))]
    return "\n".join(sources)


def notebook_html(nb: nbformat.NotebookNode, anchor: str, figures: list[int] | None = None,
                  skipped: list[str] | None = None) -> str:
    """One notebook as an HTML section: markdown and outputs, code hidden.

    Figures are numbered from ``figures[0]`` on (updated in place, so that numbering runs
    on across notebooks) and captioned with the heading above them and their files; the
    list of files a figure's cell prints is then left out. A part under a ``##`` heading
    whose cells only said they were skipped (:func:`helpers.data.patients.skipped`) is
    left out whole, its lines added to ``skipped``.
    """
    figures = [0] if figures is None else figures
    skipped = [] if skipped is None else skipped
    parts = [f'<section class="notebook" id="{anchor}">']
    heading = ""
    for cells in _parts(nb.cells):
        lines = [line for cell in cells for output in cell.get("outputs", [])
                 if output.get("output_type") == "stream"
                 for line in output.get("text", "").splitlines()
                 if line.startswith(SKIPPED)]
        shown = any(output.get("output_type") in {"display_data", "execute_result"}
                    for cell in cells for output in cell.get("outputs", []))
        if lines and not shown:
            skipped.extend(line.removeprefix(SKIPPED) for line in lines)
            continue
        for cell in cells:
            if cell.cell_type == "markdown":
                parts.append(_markdown_html(cell.source))
                heading = _heading(cell.source, heading)
            elif cell.cell_type == "code":
                parts.extend(_code_html(cell, heading, figures))
    parts.append("</section>")
    return "\n".join(p for p in parts if p)


def _parts(cells) -> list[list]:
    """The cells in parts, each starting at a ``##`` heading (the first part: the rest)."""
    groups: list[list] = [[]]
    for cell in cells:
        if cell.cell_type == "markdown" and re.match(r"##\s", cell.source):
            groups.append([])
        groups[-1].append(cell)
    return [group for group in groups if group]


def _code_html(cell, heading: str, figures: list[int]) -> list[str]:
    """A code cell's outputs: figures captioned and numbered, the rest as they are."""
    parts, files = [], []
    for output in cell.get("outputs", []):
        if _is_figure(output):
            figures[0] += 1
            parts.append(_figure_html(output, figures[0], heading))
            files = list(output.get("metadata", {}).get("files") or [])
        elif (files and output.get("output_type") == "stream"
              and output.get("text", "").split() == files):
            files = []  # already in the caption
        else:
            parts.append(_output_html(output))
    return parts


def key_results(notebooks: Sequence[nbformat.NotebookNode]) -> str:
    """The notebooks' results prose (their Markdown outputs), summarised for the top.

    Each bullet keeps its first clause (up to the first ``;`` outside brackets: the
    estimate and its interval), each paragraph its bold lead and first sentence; the
    sections below keep the whole text, so nothing is said twice in full.
    """
    parts = []
    for nb in notebooks:
        texts = [o["data"]["text/markdown"] for c in nb.cells for o in c.get("outputs", [])
                 if "text/markdown" in o.get("data", {})]
        if texts:
            title = _title(nb, "Results").split("·", 1)[-1].strip()
            parts.append(f"<h3>{html.escape(title)}</h3>")
        parts.extend(_markdown_html(summarise_markdown(text)) for text in texts)
    return "\n".join(parts)


def summarise_markdown(text: str) -> str:
    r"""Bullets cut at their first top-level ``;``, paragraphs at their first sentence.

    Examples
    --------
    >>> print(summarise_markdown("- **A** (n = 4): mean -1 (95% CI -2 to 0); t p = 0.1\n\n"
    ...                          "**Lead.** First sentence. Second one."))
    - **A** (n = 4): mean -1 (95% CI -2 to 0).
    <BLANKLINE>
    **Lead.** First sentence.
    """
    out = []
    for block in text.split("\n\n"):
        lines = block.splitlines()
        if lines and all(line.startswith("- ") for line in lines):
            out.append("\n".join(_first_clause(line) for line in lines))
        else:
            out.append(_first_sentence(block))
    return "\n\n".join(out)


def _first_clause(line: str) -> str:
    depth = 0
    for i, char in enumerate(line):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if char == ";" and depth == 0:
            return line[:i].rstrip() + "."
    return line


def _first_sentence(block: str) -> str:
    lead = re.match(r"\*\*[^*]+\*\*\s*", block)
    start = lead.end() if lead else 0
    end = re.search(r"(?<!\be\.g)(?<!\bi\.e)\.\s", block[start:])
    return block if end is None else block[:start + end.start() + 1]


def _title(nb: nbformat.NotebookNode, fallback: str) -> str:
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return fallback


#: What the paper's report is about: the paper, cited. Reports on other data say what
#: they were run on instead.
PAPER_ABOUT = """Re-analysis of Cassone et al., <em>Real-World Use of Anifrolumab for Articular
Involvement in Systemic Lupus Erythematosus: A Monocentric Case Series and Systematic
Review</em>, J. Pers. Med. 2025, 15, 546,
<a href="https://doi.org/10.3390/jpm15110546">doi:10.3390/jpm15110546</a>.
Generated by <code>make report</code> from the executed notebooks; code is hidden and lives
in the project's <code>notebooks/</code> and <code>src/helpers/</code>."""


def build_report(notebooks: Sequence[str | Path], output: str | Path, *,
                 title: str = "Anifrolumab for lupus arthritis: a reproducible re-analysis",
                 raw_dir: str | Path = paths.DATA_RAW, inputs=None,
                 reading: Sequence[str] = (), about: str | None = None) -> Path:
    """Write the HTML report of ``notebooks`` to ``output`` (atomically).

    Parameters
    ----------
    notebooks : sequence of path
        Executed notebooks, in reading order.
    output : path
        The HTML file.
    title : str
        Page title.
    raw_dir : path
        Raw-data folder whose checksums go into the provenance block.
    inputs : sequence of path, or mapping of str to path, optional
        Input files to checksum instead (a user's own measurements file), or the names
        to show for them (``make pool``'s copies of the summaries, named within OUT).
    reading : sequence of str, optional
        How the input was read (:meth:`helpers.data.reader.Reading.summary`): shape,
        encoding, rows left out, measure names, visits, units. Listed in the provenance.
    about : str, optional
        What the report is about, as HTML (escaped by the caller), under the title.
        Default: the paper it re-analyses (:data:`PAPER_ABOUT`); a user's cohort names
        its own data instead.
    """
    loaded = [(Path(p), nbformat.read(paths.resolve(p), as_version=4)) for p in notebooks]
    info = provenance(raw_dir, inputs)
    toc, sections, parameters, skipped = [], [], [], []
    figures = [0]
    for path, nb in loaded:
        anchor = path.stem
        toc.append(f'<li><a href="#{anchor}">{html.escape(_title(nb, path.stem))}</a></li>')
        sections.append(notebook_html(nb, anchor, figures, skipped))
        parameters.append(f'<tr><th scope="row">{html.escape(path.name)}</th><td><pre>'
                          f"{html.escape(_parameters(nb))}</pre></td></tr>")
    packages = ", ".join(f"{k} {v}" for k, v in info["packages"].items())
    checksums = "".join(f'<tr><th scope="row">{html.escape(k)}</th>'
                        f'<td><code class="digest">{v}</code></td></tr>'
                        for k, v in info["inputs"].items())
    page = f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)}</title>
<style>{CSS}</style>
</head>
<body>
<header class="report">
<h1>{html.escape(title)}</h1>
<p>{about or PAPER_ABOUT}</p>
{_skipped_html(skipped)}
<nav><ol>{''.join(toc)}</ol></nav>
</header>
<section class="key-results" id="key-results">
<h2>Key results</h2>
{key_results([nb for _, nb in loaded])}
<p><em>Details, tables and figures follow; every number above is computed in the
notebooks below, not typed.</em></p>
</section>
{''.join(sections)}
<section class="notebook" id="provenance">
<h2>Provenance</h2>
<div class="provenance">
<p><strong>Commit:</strong> <code>{html.escape(str(info['commit']))}</code><br>
<strong>Python:</strong> {html.escape(str(info['python']))}<br>
<strong>Packages:</strong> {html.escape(packages)}</p>
{_reading_html(reading)}<p><strong>Input data (SHA-256):</strong></p>
<div class="table-scroll" role="region" tabindex="0" aria-label="input checksums"><table>
<tbody>{checksums}</tbody></table></div>
<p><strong>Parameters:</strong></p>
<div class="table-scroll" role="region" tabindex="0" aria-label="parameters"><table>
<tbody>{''.join(parameters)}</tbody></table></div>
</div>
</section>
</body>
</html>
"""
    return write_text(page, paths.resolve(output))


def _skipped_html(skipped: Sequence[str]) -> str:
    """One line naming the parts these data could not support, and why."""
    if not skipped:
        return ""
    # "what (why)." lines, grouped by why: "a, b and c (no patients table was given)".
    by_reason: dict[str, list[str]] = {}
    for line in skipped:
        match = re.fullmatch(r"(.*?) \((.*)\)\.?", line.strip())
        what, why = match.groups() if match else (line.rstrip("."), "")
        by_reason.setdefault(why, []).append(what)
    items = "; ".join(
        html.escape((", ".join(whats[:-1]) + " and " + whats[-1] if len(whats) > 1
                     else whats[0]) + (f" ({why})" if why else ""))
        for why, whats in by_reason.items())
    return f'<p class="skipped"><strong>Left out for these data:</strong> {items}.</p>'


def _reading_html(reading: Sequence[str]) -> str:
    """How the input file was read, as a list (nothing for the paper's own data)."""
    if not reading:
        return ""
    items = "".join(f"<li>{html.escape(line)}</li>" for line in reading)
    return f"<p><strong>How the data were read:</strong></p>\n<ul>{items}</ul>\n"


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m helpers.pipeline.report --output OUT NOTEBOOK [NOTEBOOK ...]``."""
    parser = argparse.ArgumentParser(prog="python -m helpers.pipeline.report",
                                     description="Build the self-contained HTML report.")
    parser.add_argument("notebooks", nargs="+")
    parser.add_argument("--output", required=True)
    parser.add_argument("--raw-dir", default=str(paths.DATA_RAW))
    args = parser.parse_args(argv)
    written = build_report(args.notebooks, args.output, raw_dir=args.raw_dir)
    print(f"wrote {paths.display_path(written)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    from helpers.pipeline import exit_without_teardown

    exit_without_teardown(main())
