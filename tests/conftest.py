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
