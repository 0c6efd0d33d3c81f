"""Where notebooks read and write: the project, or beside a copy run elsewhere.

A notebook copied out of the project and executed there must never write into the
project's committed outputs (issue 25): it writes beside itself, and reads what is not
beside it from the project.
"""

import shutil
import subprocess
import sys

import pytest
from conftest import committed_outputs

from helpers import paths


@pytest.fixture
def elsewhere(tmp_path, monkeypatch):
    """A working folder outside the project, with no explicit root."""
    monkeypatch.delenv("ANIFROLUMAB_ROOT", raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path.resolve()


def test_inside_the_project_relative_paths_are_the_projects(monkeypatch):
    monkeypatch.delenv("ANIFROLUMAB_ROOT", raising=False)
    monkeypatch.chdir(paths.NOTEBOOKS)  # where Lab starts a notebook's kernel
    assert paths.detached() is None
    assert paths.output("reports/tables") == paths.TABLES
    assert paths.resolve("data/raw") == paths.DATA_RAW
    assert paths.display_path(paths.TABLES / "prepost.csv") == "reports/tables/prepost.csv"


def test_a_copy_elsewhere_writes_beside_itself_and_reads_the_project(elsewhere):
    assert paths.detached() == elsewhere
    assert paths.output("reports/tables") == elsewhere / "reports" / "tables"
    # Not beside it: read from the project.
    assert paths.resolve("data/raw") == paths.DATA_RAW
    # Beside it (an earlier copied notebook wrote it): read that one.
    (elsewhere / "data" / "processed").mkdir(parents=True)
    assert paths.resolve("data/processed") == elsewhere / "data" / "processed"
    assert paths.display_path(elsewhere / "reports" / "x.csv") == "reports/x.csv"
    # Absolute paths are taken as they are.
    assert paths.output(paths.TABLES) == paths.TABLES


def test_detached_is_judged_from_the_working_folder_alone(elsewhere, monkeypatch):
    # ANIFROLUMAB_ROOT (a scratch copy, a folder being built) changes what the project is,
    # not the rule: a kernel working outside it writes beside itself.
    monkeypatch.setenv("ANIFROLUMAB_ROOT", str(paths.ROOT))
    assert paths.detached() == elsewhere
    monkeypatch.chdir(paths.ROOT)
    assert paths.detached() is None
    assert paths.output("tables") == paths.ROOT / "tables"


@pytest.mark.slow
def test_a_notebook_copied_elsewhere_and_executed_leaves_the_project_untouched(tmp_path):
    """``jupyter nbconvert --execute`` on a copy in another folder, as a user would."""
    before = committed_outputs()
    copy = tmp_path / "mine"
    copy.mkdir()
    shutil.copy(paths.NOTEBOOKS / "02_prepost.ipynb", copy)
    env = {k: v for k, v in __import__("os").environ.items() if k != "ANIFROLUMAB_ROOT"}
    result = subprocess.run(
        [sys.executable, "-m", "jupyter", "nbconvert", "--to", "notebook", "--execute",
         "--inplace", "02_prepost.ipynb"],
        cwd=copy, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert committed_outputs() == before, "a copy run elsewhere rewrote project outputs"
    # It wrote beside itself, from the project's processed data: the same tables.
    written = sorted(p.name for p in (copy / "reports" / "tables").iterdir())
    assert "prepost.csv" in written
    for name in written:
        assert (copy / "reports" / "tables" / name).read_bytes() == (
            paths.TABLES / name).read_bytes(), name
