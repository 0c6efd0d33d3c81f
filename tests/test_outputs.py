"""`make` returns to what it wrote, whatever an interactive run left (issue 25).

make judges files by date; ``reports/outputs.sha256`` (scripts/outputs.py) records what
it wrote by content. Every committed output must match it, an output rewritten outside
make is rebuilt by the next ``make``, and the check costs next to nothing.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

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
                for p in folder.iterdir() if p.is_file()} | {"reports/summary.json"}
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


# The interactive run itself (a real `make lab` server, its kernel, then make) is in
# tests/test_lab.py.
