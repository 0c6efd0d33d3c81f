"""Every path the project uses, in one place.

Notebooks take folders as parameters (relative to the project root, or absolute) and
resolve them with :func:`resolve`, so they run the same from ``make`` (cwd = root) and
from JupyterLab (cwd = ``notebooks/``).
"""

from __future__ import annotations

import os
from pathlib import Path

# The checkout this package lives in; ANIFROLUMAB_ROOT points the notebooks at a copy of
# the project instead (the nbval tests re-execute the notebooks in a scratch copy, so that
# testing never rewrites committed outputs).
ROOT = Path(os.environ.get("ANIFROLUMAB_ROOT") or Path(__file__).resolve().parents[2]).resolve()
DATA_RAW = ROOT / "data" / "raw"
DATA_PROCESSED = ROOT / "data" / "processed"
NOTEBOOKS = ROOT / "notebooks"
REPORTS = ROOT / "reports"
TABLES = REPORTS / "tables"
FIGURES = REPORTS / "figures"

# Raw tables as transcribed from the paper (see data/raw/README.md).
RAW_TABLE1 = "table1_patients.csv"
RAW_TABLE2 = "table2_disease_course.csv"
RAW_REVIEW = "review_table.csv"
RAW_CHECKSUMS = "SHA256SUMS"

# Tidy tables written by notebooks/01_clean.ipynb.
PATIENTS = "patients.csv"
MEASUREMENTS = "measurements.csv"
THERAPIES = "therapies.csv"
STUDIES = "studies.csv"


def resolve(path: str | Path) -> Path:
    """Return ``path`` as an absolute path, relative paths taken from the project root.

    Parameters
    ----------
    path : str or Path
        A path as given in a notebook parameter.

    Returns
    -------
    Path
        ``path`` itself when absolute, else ``ROOT / path``.
    """
    path = Path(path).expanduser()
    return path if path.is_absolute() else ROOT / path


def display_path(path: str | Path) -> str:
    """Return ``path`` relative to the project root when inside it, for messages and outputs.

    Executed notebooks must not carry absolute paths (they differ between machines).
    """
    path = Path(path)
    try:
        return path.resolve().relative_to(ROOT).as_posix()
    except ValueError:
        return path.as_posix()
