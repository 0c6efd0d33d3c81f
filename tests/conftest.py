"""Shared fixtures."""

from __future__ import annotations

import subprocess
from pathlib import Path

import matplotlib
import pytest

# Figures are drawn headless in tests, whatever the user's MPLBACKEND says. (Only in this
# process: kernels started by the notebook runner use the inline backend.)
matplotlib.use("Agg", force=True)


@pytest.fixture
def raw_copy(tmp_path):
    """A writable copy of data/raw, for tests that corrupt it."""
    import shutil

    from helpers import paths

    target = tmp_path / "raw"
    shutil.copytree(paths.DATA_RAW, target)
    return target


def committed_outputs() -> dict[str, str]:
    """Checksums of every committed output of the default run (processed data, tables,
    figures, notebooks, the site summary): tests compare before and after to prove nothing was touched."""
    from helpers import paths
    from helpers.io import sha256

    folders = [paths.DATA_PROCESSED, paths.TABLES, paths.FIGURES, paths.NOTEBOOKS]
    files = [p for folder in folders for p in sorted(folder.iterdir()) if p.is_file()]
    files.append(paths.REPORTS / "summary.json")
    return {paths.display_path(p): sha256(p) for p in files}


def git_status(clone: Path) -> list[str]:
    """``git status --porcelain`` of ``clone``, untracked files included, as lines."""
    out = subprocess.run(["git", "status", "--porcelain", "--untracked-files=all"],
                         cwd=clone, capture_output=True, text=True, check=True).stdout
    return out.splitlines()


def make_clone(target: Path) -> Path:
    """Clone the committed project into ``target``, sharing this checkout's environment.

    The clone links ``.venv`` to this checkout's; tests run it with ``ANIFROLUMAB_ROOT``
    pointing at the clone, so nothing they do writes into the working tree.
    """
    from helpers import paths

    if not (paths.ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    subprocess.run(["git", "clone", "--quiet", str(paths.ROOT), str(target)], check=True)
    (target / ".venv").symlink_to(paths.ROOT / ".venv")
    return target


@pytest.fixture
def clone(tmp_path):
    """A fresh clone of the committed project (see :func:`make_clone`)."""
    return make_clone(tmp_path / "clone")
