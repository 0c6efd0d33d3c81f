"""The runner's start-up: what it skips, it skips without losing a check it needs."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from helpers import paths
from helpers.pipeline import cohort, notebooks

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


# Imports a kernel's warm-up list, then the notebooks' own import statements (top-level
# statements of their code cells, as written: `from a import b` may import a submodule),
# and prints what the notebooks still had to import, and whether pandera was loaded.
WARM_PROBE = """
import ast, json, sys
from helpers.pipeline.notebooks import skip_unused_format_checks
skip_unused_format_checks()  # as the kernel's warm-up does
warm, notebooks = json.loads(sys.argv[1])
for module in warm:
    __import__(module)
loaded, pandera = set(sys.modules), "pandera" in sys.modules
for path in notebooks:
    for cell in json.load(open(path, encoding="utf-8"))["cells"]:
        if cell["cell_type"] == "code":
            tree = ast.parse("".join(cell["source"]))
            imports = [n for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom))]
            exec(compile(ast.Module(imports, []), path, "exec"), {})
print(json.dumps({"missing": sorted(set(sys.modules) - loaded), "pandera": pandera}))
"""


def _warm_probe(warm, names) -> dict:
    spec = json.dumps([list(warm), [str(paths.NOTEBOOKS / name) for name in names]])
    result = subprocess.run([sys.executable, "-c", WARM_PROBE, spec], cwd=paths.ROOT,
                            capture_output=True, text=True, timeout=180,
                            env={**os.environ, "MPLBACKEND": "Agg"})
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("warm, names", [
    (notebooks.WARM_IMPORTS, ["01_clean.ipynb", "02_prepost.ipynb", "03_figures.ipynb",
                              "04_review.ipynb", "05_power.ipynb"]),
    (cohort.WARM_IMPORTS, cohort.NOTEBOOKS),
], ids=["make", "make analysis"])
def test_kernel_warm_up_imports_everything_the_notebooks_import(warm, names):
    # A module left out would be imported by the first cell that needs it, while the
    # run waits; the warm-up imports it while the kernel has nothing else to do.
    assert _warm_probe(warm, names)["missing"] == []


def test_analysis_kernel_leaves_pandera_to_the_runner():
    # make analysis's notebooks read the table the runner checked: the kernel has no use
    # for pandera, whose imports would compete with the runner's check of DATA.
    assert not _warm_probe(cohort.WARM_IMPORTS, cohort.NOTEBOOKS)["pandera"]
    assert _warm_probe(notebooks.WARM_IMPORTS, ["01_clean.ipynb"])["pandera"]


def test_background_imports_load_modules_and_leave_failures_to_their_importer():
    # The import statement that needs a module that failed raises there, with its own
    # message; the thread itself never raises.
    assert "tabnanny" not in sys.modules  # a module nothing of the project imports
    notebooks.import_in_background(["tabnanny", "no_such_module_anywhere"]).join(timeout=60)
    assert "tabnanny" in sys.modules
    assert "no_such_module_anywhere" not in sys.modules


def test_a_command_ends_with_its_status_and_its_output_flushed():
    # exit_without_teardown skips the interpreter's teardown, not what was printed.
    probe = ("import sys; from helpers.pipeline import exit_without_teardown; "
             "print('written', end=''); print('said', end='', file=sys.stderr); "
             "exit_without_teardown(3)")
    result = subprocess.run([sys.executable, "-c", probe], cwd=paths.ROOT,
                            capture_output=True, text=True, timeout=120)
    assert (result.returncode, result.stdout, result.stderr) == (3, "written", "said")
    none = subprocess.run([sys.executable, "-c", probe.replace("(3)", "(None)")],
                          cwd=paths.ROOT, capture_output=True, text=True, timeout=120)
    assert none.returncode == 0
