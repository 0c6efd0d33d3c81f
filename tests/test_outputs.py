"""`make` returns to what it wrote, whatever an interactive run left (issue 25).

make judges files by date; ``reports/outputs.sha256`` (scripts/outputs.py) records what
it wrote by content. Every committed output must match it, an output rewritten outside
make is rebuilt by the next ``make``, and the check costs next to nothing.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import git_status, make_clone
from helpers import paths

SCRIPT = paths.ROOT / "scripts" / "outputs.py"
MANIFEST = paths.ROOT / "reports" / "outputs.sha256"
sys.path.insert(0, str(SCRIPT.parent))
import outputs  # noqa: E402  (scripts/ is not a package)


def test_every_committed_output_is_what_make_wrote():
    entries = outputs.read_manifest(MANIFEST)
    # Every output of the analysis, and nothing else: the processed tables, the result
    # tables and figures (notebooks and the report are not in it).
    expected = {str(p.relative_to(paths.ROOT)) for folder in
                (paths.DATA_PROCESSED, paths.TABLES, paths.FIGURES)
                for p in folder.iterdir() if p.is_file()}
    assert set(entries) == expected
    differing = [name for name, value in entries.items()
                 if outputs.digest(paths.ROOT / name) != value]
    assert differing == [], (f"{', '.join(differing)} differ from what make wrote: an "
                             "interactive run changed them; run make")


def test_the_check_removes_what_changed_and_nothing_else(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for name, text in (("a.csv", "1\n"), ("b.csv", "2\n")):
        Path(name).write_text(text)
    outputs.write_manifest(Path("m.sha256"), ["b.csv", "a.csv"])
    lines = Path("m.sha256").read_text().splitlines()
    assert lines[0].startswith("# ") and [line.split("  ")[1] for line in lines[1:]] == [
        "a.csv", "b.csv"]  # sorted: the same bytes whatever order make lists them in
    os.utime("m.sha256", ns=(10**18, 10**18))  # written after the outputs, as by make
    os.utime("b.csv", ns=(2 * 10**18, 2 * 10**18))  # dated later, yet the same bytes
    Path("a.csv").write_text("1.0\n")  # rewritten by an interactive run
    os.utime("a.csv", ns=(2 * 10**18, 2 * 10**18))
    assert outputs.main(["--check", "m.sha256"]) == 0
    assert not Path("a.csv").exists() and Path("b.csv").read_text() == "2\n"
    assert outputs.changed(Path("absent.sha256")) == []  # no manifest: nothing to judge


def test_the_manifest_reads_with_sha256sum():
    result = subprocess.run(["sha256sum", "--check", "--quiet", str(MANIFEST)],
                            cwd=paths.ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.slow
def test_make_repairs_outputs_an_interactive_run_rewrote(tmp_path):
    """A notebook run outside make with ci_level = 0.90 (as in JupyterLab, in the
    project's notebooks folder, closed without saving): make puts the tables back."""
    clone = make_clone(tmp_path / "clone")
    env = dict(os.environ, ANIFROLUMAB_ROOT=str(clone))
    settle = subprocess.run(["make"], cwd=clone, env=env, capture_output=True, text=True,
                            timeout=600)  # a fresh clone's dates are arbitrary
    assert settle.returncode == 0 and git_status(clone) == [], settle.stderr[-2000:]
    notebook = json.loads((clone / "notebooks" / "02_prepost.ipynb").read_text())
    for cell in notebook["cells"]:
        if "parameters" in cell["metadata"].get("tags", []):
            cell["source"] = "".join(cell["source"]).replace("ci_level = 0.95",
                                                            "ci_level = 0.90")
    edited = clone / "notebooks" / ".edited.ipynb"  # not tracked: a scratch copy
    edited.write_text(json.dumps(notebook))
    subprocess.run([str(clone / ".venv" / "bin" / "jupyter"), "nbconvert", "--execute",
                    "--to", "notebook", "--stdout", str(edited)], cwd=clone / "notebooks",
                   env=env, capture_output=True, check=True, timeout=300)
    edited.unlink()
    changed = [line for line in git_status(clone) if "reports/tables" in line]
    assert changed, "the edited run wrote its 90% tables into the project"
    result = subprocess.run(["make"], cwd=clone, env=env, capture_output=True, text=True,
                            timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "outputs changed since make wrote them" in result.stderr
    assert git_status(clone) == []
    again = subprocess.run(["make"], cwd=clone, env=env, capture_output=True, text=True)
    assert "Nothing to be done" in again.stdout
