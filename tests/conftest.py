"""Shared fixtures."""

from __future__ import annotations

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
    figures, notebooks): tests compare before and after to prove nothing was touched."""
    from helpers import paths
    from helpers.io import sha256

    folders = [paths.DATA_PROCESSED, paths.TABLES, paths.FIGURES, paths.NOTEBOOKS]
    files = [p for folder in folders for p in sorted(folder.iterdir()) if p.is_file()]
    return {paths.display_path(p): sha256(p) for p in files}
