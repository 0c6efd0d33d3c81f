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
import html
import platform
import subprocess
import sys
from collections.abc import Mapping, Sequence
from importlib import metadata
from pathlib import Path

import nbformat
import mistune

from helpers import paths
from helpers.io import sha256, write_text

PACKAGES = ("helpers", "numpy", "pandas", "scipy", "statsmodels", "matplotlib", "seaborn",
            "pandera", "papermill", "nbformat", "nbconvert")

CSS = """
body { font: 15px/1.55 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
       color: #1d1d1f; max-width: 60rem; margin: 2rem auto; padding: 0 1.25rem; }
h1, h2, h3 { line-height: 1.25; } h1 { font-size: 1.8rem; } h2 { margin-top: 2.2rem; }
header.report { border-bottom: 2px solid #0072B2; margin-bottom: 1.5rem; }
section.notebook { border-top: 1px solid #ddd; margin-top: 2.5rem; }
nav ol { padding-left: 1.2rem; } a { color: #0072B2; }
a.anchor-link { display: none; }
table { border-collapse: collapse; margin: 0.8rem 0; font-size: 0.85rem;
        font-variant-numeric: tabular-nums; display: block; overflow-x: auto; }
th, td { border-bottom: 1px solid #e3e3e3; padding: 0.25rem 0.6rem; text-align: right;
         vertical-align: top; }
th { background: #f5f7fa; } tbody tr:nth-child(odd) { background: #fbfbfb; }
img { max-width: 100%; height: auto; display: block; margin: 0.8rem auto; }
pre { background: #f5f7fa; padding: 0.6rem 0.8rem; overflow-x: auto; font-size: 0.8rem; }
code { font-size: 0.9em; }
.key-results { background: #f3f8fc; border-left: 4px solid #009E73;
                padding: 0.2rem 1.2rem 0.6rem; }
.provenance { font-size: 0.85rem; background: #f5f7fa; padding: 0.8rem 1rem;
              border-left: 4px solid #0072B2; }
.provenance table { font-size: 0.8rem; } .provenance td, .provenance th { text-align: left; }
@media print { body { max-width: none; } section.notebook { break-before: page; } }
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

    ``inputs`` (files) replaces the default input set, the CSV files of ``raw_dir``.
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
    files = ([paths.resolve(p) for p in inputs] if inputs is not None
             else sorted(paths.resolve(raw_dir).glob("*.csv")))
    return {
        "commit": (commit or "unknown (not a git checkout)")
        + (" with uncommitted changes to inputs" if dirty else ""),
        "python": f"{platform.python_version()} ({platform.python_implementation()})",
        "packages": versions,
        "inputs": {paths.display_path(p): sha256(p) for p in files},
    }


def _output_html(output: Mapping) -> str:
    kind = output.get("output_type")
    if kind == "stream":
        return f"<pre>{html.escape(output.get('text', ''))}</pre>" if output.get(
            "name") == "stdout" else ""
    if kind not in {"execute_result", "display_data"}:
        return ""
    data = output.get("data", {})
    if "image/png" in data:
        alt = html.escape(data.get("text/plain", "figure"))
        return f'<img alt="{alt}" src="data:image/png;base64,{data["image/png"].strip()}">'
    if "image/svg+xml" in data:
        return data["image/svg+xml"]
    if "text/html" in data:
        return data["text/html"]
    if "text/markdown" in data:
        return _markdown_html(data["text/markdown"])
    if "text/plain" in data:
        return f"<pre>{html.escape(data['text/plain'])}</pre>"
    return ""


def _parameters(nb: nbformat.NotebookNode) -> str:
    sources = [cell.source for cell in nb.cells if cell.cell_type == "code" and (
        {"parameters", "injected-parameters"} & set(cell.metadata.get("tags", [])))]
    return "\n".join(sources)


def notebook_html(nb: nbformat.NotebookNode, anchor: str) -> str:
    """One notebook as an HTML section: markdown and outputs, code hidden."""
    parts = [f'<section class="notebook" id="{anchor}">']
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            parts.append(_markdown_html(cell.source))
        elif cell.cell_type == "code":
            parts.extend(_output_html(output) for output in cell.get("outputs", []))
    parts.append("</section>")
    return "\n".join(p for p in parts if p)


def key_results(notebooks: Sequence[nbformat.NotebookNode]) -> str:
    """The notebooks' generated results prose (their Markdown outputs), for the top."""
    parts = []
    for nb in notebooks:
        texts = [o["data"]["text/markdown"] for c in nb.cells for o in c.get("outputs", [])
                 if "text/markdown" in o.get("data", {})]
        if texts:
            title = _title(nb, "Results").split("·", 1)[-1].strip()
            parts.append(f"<h3>{html.escape(title)}</h3>")
        for cell in nb.cells:
            for output in cell.get("outputs", []):
                text = output.get("data", {}).get("text/markdown")
                if text:
                    parts.append(_markdown_html(text))
    return "\n".join(parts)


def _title(nb: nbformat.NotebookNode, fallback: str) -> str:
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return fallback


def build_report(notebooks: Sequence[str | Path], output: str | Path, *,
                 title: str = "Anifrolumab for lupus arthritis: a reproducible re-analysis",
                 raw_dir: str | Path = paths.DATA_RAW, inputs=None) -> Path:
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
    inputs : sequence of path, optional
        Input files to checksum instead (a user's own measurements file).
    """
    loaded = [(Path(p), nbformat.read(paths.resolve(p), as_version=4)) for p in notebooks]
    info = provenance(raw_dir, inputs)
    toc, sections, parameters = [], [], []
    for path, nb in loaded:
        anchor = path.stem
        toc.append(f'<li><a href="#{anchor}">{html.escape(_title(nb, path.stem))}</a></li>')
        sections.append(notebook_html(nb, anchor))
        parameters.append(f"<tr><th>{html.escape(path.name)}</th><td><pre>"
                          f"{html.escape(_parameters(nb))}</pre></td></tr>")
    packages = ", ".join(f"{k} {v}" for k, v in info["packages"].items())
    checksums = "".join(f"<tr><th>{html.escape(k)}</th><td><code>{v}</code></td></tr>"
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
<p>Re-analysis of Cassone et al., <em>Real-World Use of Anifrolumab for Articular Involvement
in Systemic Lupus Erythematosus: A Monocentric Case Series and Systematic Review</em>,
J. Pers. Med. 2025, 15, 546,
<a href="https://doi.org/10.3390/jpm15110546">doi:10.3390/jpm15110546</a>.
Generated by <code>make report</code> from the executed notebooks; code is hidden and lives
in the project's <code>notebooks/</code> and <code>src/helpers/</code>.</p>
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
<p><strong>Input data (SHA-256):</strong></p><table>{checksums}</table>
<p><strong>Parameters:</strong></p><table>{''.join(parameters)}</table>
</div>
</section>
</body>
</html>
"""
    return write_text(page, paths.resolve(output))


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
    sys.exit(main())
