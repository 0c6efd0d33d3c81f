"""The runner's start-up: what it skips, it skips without losing a check it needs."""

from __future__ import annotations

import subprocess
import sys

from helpers import paths

PROBE = """
import sys
from helpers.pipeline.notebooks import skip_unused_format_checks
skip_unused_format_checks()
import nbformat, papermill
assert sys.modules["rfc3987_syntax"] is None, "the IRI grammar was imported"
for name in ("01_clean", "02_prepost", "03_figures", "04_review", "05_power"):
    nbformat.validate(nbformat.read(f"notebooks/{name}.ipynb", as_version=4))
broken = nbformat.read("notebooks/02_prepost.ipynb", as_version=4)
broken.cells[0]["cell_type"] = "not a cell type"
try:
    nbformat.validate(broken)
except nbformat.ValidationError:
    print("still validates")
"""


def test_runner_skips_the_iri_grammar_but_still_validates_notebooks():
    result = subprocess.run([sys.executable, "-c", PROBE], cwd=paths.ROOT,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "still validates"


def test_importing_the_runner_changes_nothing():
    # A Jupyter server importing the save hooks keeps jsonschema's format checks.
    probe = ("import sys, helpers.pipeline.notebooks, helpers.pipeline.cohort; "
             "print('rfc3987_syntax' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", probe], cwd=paths.ROOT,
                            capture_output=True, text=True, timeout=120)
    assert result.stdout.strip() == "False", result.stderr
