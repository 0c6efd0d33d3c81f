"""Every path the project uses, in one place.

Notebooks take folders as parameters (relative to the project root, or absolute) and
resolve them with :func:`resolve` (what they read) and :func:`output` (what they write), so
they run the same from ``make`` (cwd = root) and from JupyterLab (cwd = ``notebooks/``).

A notebook copied out of the project and run there (``jupyter nbconvert --execute`` in
another folder, or the runner's ``--output-dir`` outside the project) is *detached*: what
it writes goes beside it, never into the project's committed outputs, and what it reads
is taken from beside it when there, else from the project.
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


def detached() -> Path | None:
    """The working folder when it lies outside the project, else None.

    A kernel started in a folder outside the project runs a copy of a notebook (or the
    runner's ``--output-dir`` outside the project). The project is :data:`ROOT`, also
    when ``ANIFROLUMAB_ROOT`` names it: the runners start their kernels in the folder
    they build (``make analysis``, ``make pool``), which is then the kernel's root.
    """
    try:
        cwd = Path.cwd().resolve()
    except OSError:  # the working folder was removed
        return None
    return None if cwd == ROOT or ROOT in cwd.parents else cwd


def resolve(path: str | Path) -> Path:
    """Return a path to read as an absolute path, relative paths taken from the project root.

    Parameters
    ----------
    path : str or Path
        A path as given in a notebook parameter.

    Returns
    -------
    Path
        ``path`` itself when absolute; else ``ROOT / path``, or, in a :func:`detached`
        working folder that has ``path``, that folder's.
    """
    path = Path(path).expanduser()
    if path.is_absolute():
        return path
    here = detached()
    if here is not None and (here / path).exists():
        return here / path
    return ROOT / path


def output(path: str | Path) -> Path:
    """Return a path to write as an absolute path.

    Relative paths are taken from the project root, or from the working folder when it
    is :func:`detached`: a copy of a notebook run elsewhere writes beside itself and
    never into the project's committed outputs.
    """
    path = Path(path).expanduser()
    if path.is_absolute():
        return path
    return (detached() or ROOT) / path


def display_path(path: str | Path) -> str:
    """Return ``path`` relative to the project root (or the detached working folder) when
    inside it, for messages and outputs.

    Executed notebooks must not carry absolute paths (they differ between machines).
    """
    path = Path(path)
    resolved = path.resolve()
    for base in (detached(), ROOT):
        if base is not None and (resolved == base or base in resolved.parents):
            return resolved.relative_to(base).as_posix()
    return path.as_posix()
