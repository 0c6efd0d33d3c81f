"""Run the statistics, figures and report on your own cohort.

``make analysis DATA=path/to/cohort.xlsx OUT=path/to/folder`` (or
``python -m helpers.pipeline.cohort --data ... --out ...``) validates every input,
converts it to the tidy table, then executes ``02_prepost`` and ``03_figures`` on it in
one kernel, writing the converted data, executed notebooks, tables, figures and
``report.html`` into ``OUT`` only.

What it guarantees:

- **Validate everything before writing anything.** DATA (and PATIENTS, when given) are
  read and cross-checked before any notebook starts; a bad file stops the run with one
  line naming the file, row and column, and exit status 1.
- **OUT is whole or untouched.** OUT must be a new or empty folder, or one that this
  command made before (it holds the marker file :data:`MARKER`). The run builds into a
  temporary sibling folder and swaps it in only when everything succeeded, so a failed
  run leaves OUT as it was and a repeated run leaves nothing stale.
- **Committed files are never touched.** Inside the repository, OUT may only be in a
  folder git ignores (such as ``out/``), never in ``.git`` or a tracked folder.

DATA may be CSV, xlsx (``--sheet``) or Parquet, tidy (the format of
``data/processed/measurements.csv``) or wide (``das28_baseline, das28_m6, ...``); see
:mod:`helpers.data.shapes`. Its measures must be in the codebook: the built-in one
(:data:`helpers.vocab.MEASURES`), extended by ``--codebook``. DAS28-ESR and DAS28-CRP are
computed from their components where a visit has them
(:func:`helpers.scores.derive_das28`). The outcomes are every measure present, or those
named by ``--measures``.

OUT holds ``data/measurements.csv`` (the converted tidy table), ``data/codebook.csv``
(the definitions used), ``tables/``, ``figures/``, ``notebooks/`` and ``report.html``.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from helpers import paths
from helpers.data.codebook import codebook_table, load_codebook, select_outcomes
from helpers.data.schema import PATIENTS_SCHEMA, read_measurements, validate
from helpers.errors import InputError
from helpers.io import read_csv_text, write_csv, write_text
from helpers.scores import derive_das28
from helpers.vocab import measure_name

NOTEBOOKS = ("02_prepost.ipynb", "03_figures.ipynb")
#: The file that marks a folder as made by this command (so a rerun may replace it).
MARKER = ".anifrolumab-analysis"


def _ignored_by_git(folder: Path) -> bool:
    """Whether ``folder`` (inside the checkout) is in a folder git ignores."""
    relative = folder.relative_to(paths.ROOT).as_posix()
    try:
        result = subprocess.run(["git", "check-ignore", "-q", "--no-index", relative + "/"],
                                cwd=paths.ROOT, capture_output=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return relative == "out" or relative.startswith("out/")
    return result.returncode == 0


def check_output_folder(out: str | Path) -> Path:
    """Resolve ``out`` and refuse folders this command must not write into.

    Raises
    ------
    InputError
        OUT is a file; OUT is not empty and was not made by this command; OUT is inside
        the repository but not in a folder git ignores (or is inside ``.git``).
    """
    folder = paths.resolve(out).resolve()
    root = paths.ROOT.resolve()
    if folder == root or root in folder.parents:
        inside = folder.relative_to(root).parts
        if not inside or inside[0] == ".git" or not _ignored_by_git(folder):
            raise InputError(out, "output folder is inside the project but not in a folder "
                             "git ignores; use out/<name> or a folder outside the project")
    if folder.exists() and not folder.is_dir():
        raise InputError(out, "output folder is a file, not a folder")
    if folder.is_dir() and any(folder.iterdir()) and not (folder / MARKER).is_file():
        raise InputError(out, "output folder is not empty and was not made by make analysis; "
                         "choose a new or empty folder (nothing was written)")
    return folder


def check_patients(patients: str | Path, measurements) -> Path:
    """Validate a PATIENTS file and match its ids with DATA's, before anything runs."""
    import pandas as pd

    path = paths.resolve(patients)
    if path.is_dir():
        raise InputError(path, "is a folder, not a file")
    text = read_csv_text(path)
    if "patient_id" not in text.columns:
        raise InputError(path, "required column is missing", row=0, column="patient_id")
    frame = pd.read_csv(path)
    frame.index = pd.RangeIndex(1, len(frame) + 1)
    validate(frame, PATIENTS_SCHEMA, path)
    ids = set(text["patient_id"].str.strip())
    data_ids = set(measurements["patient_id"].astype(str))
    missing = sorted(data_ids - ids)
    if missing:
        raise InputError(path, f"{len(missing)} patient(s) of DATA are not in PATIENTS "
                         f"(first: {', '.join(missing[:3])}); the summary and the "
                         "statistics must describe the same patients", column="patient_id")
    extra = sorted(ids - data_ids)
    if extra:
        print(f"warning: {paths.display_path(path)}: {len(extra)} patient(s) have no "
              f"measurements and are left out (first: {', '.join(extra[:3])})",
              file=sys.stderr)
    return path


def run_cohort(data: str | Path, out: str | Path, *, patients: str | Path | None = None,
               codebook: str | Path | None = None, measures: Sequence[str] | None = None,
               sheet: str | None = None, quiet: bool = False) -> Path:
    """Validate and convert the inputs, then run the pre/post and figures notebooks.

    Parameters
    ----------
    data : str or Path
        The measurements: CSV, xlsx or Parquet, tidy or wide.
    out : str or Path
        The output folder (see the module's rules).
    patients : str or Path, optional
        A ``patients.csv``-like table (cohort summary, swimmer plot).
    codebook : str or Path, optional
        A codebook CSV extending the built-in one (:mod:`helpers.data.codebook`).
    measures : sequence of str, optional
        The outcomes; default every measure present.
    sheet : str, optional
        The sheet of an xlsx DATA.
    quiet : bool
        No progress output.

    Returns
    -------
    Path
        The report, ``out/report.html``.
    """
    folder = check_output_folder(out)
    book = load_codebook(codebook)
    data_path = paths.resolve(data)
    if data_path.is_dir():
        raise InputError(data_path, "is a folder, not a file")
    # Fail fast, before a kernel starts: every check runs on the data as given.
    frame = read_measurements(data_path, measures=None, codebook=book, sheet=sheet)
    try:
        frame, derived = derive_das28(frame)
    except ValueError as error:  # a user codebook widened a component's range
        raise InputError(data_path, f"DAS28 cannot be computed: {error}") from None
    outcomes, baseline_only = select_outcomes(frame, book, measures, data_path)
    if baseline_only:
        print(f"note: {', '.join(baseline_only)} ha{'s' if len(baseline_only) == 1 else 've'}"
              " baseline values only and cannot be compared", file=sys.stderr)
    patients_path = check_patients(patients, frame) if patients else None
    if not quiet:
        print(f"{paths.display_path(data_path)}: {frame['patient_id'].nunique():,} patients, "
              f"{len(frame):,} measurements; outcomes: {', '.join(outcomes)}",
              file=sys.stderr)
        for measure, count in derived.items():
            print(f"  {measure_name(measure, book)} computed from its components at "
                  f"{count:,} visits", file=sys.stderr)
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
        staging.chmod(0o755)  # mkdtemp makes it private; OUT is an ordinary folder
    except OSError as error:
        raise InputError(out, f"output folder cannot be created ({error.strerror})") from None
    try:
        write_csv(frame, staging / "data" / "measurements.csv")
        write_csv(codebook_table(book), staging / "data" / "codebook.csv")
        _run_into(staging, staging / "data" / "measurements.csv",
                  [data_path] + ([patients_path] if patients_path else []),
                  patients_path, codebook, outcomes, quiet)
        _swap_into_place(staging, folder)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return folder / "report.html"


def _run_into(staging: Path, measurements: Path, inputs: list[Path],
              patients_path: Path | None, codebook: str | Path | None,
              outcomes: Sequence[str], quiet: bool) -> None:
    from helpers.pipeline.notebooks import run_notebooks
    from helpers.pipeline.report import build_report

    write_text("made by make analysis; a rerun replaces this folder as a whole\n",
               staging / MARKER)
    parameters = {
        "measurements_path": str(measurements),
        "patients_path": str(patients_path) if patients_path else None,
        "therapies_path": None,
        "codebook_path": str(paths.resolve(codebook)) if codebook else None,
        "outcomes": list(outcomes),
        "tables_dir": str(staging / "tables"),
        "figures_dir": str(staging / "figures"),
    }
    # Cells tagged "paper" describe the paper's four patients, not this cohort.
    executed = run_notebooks([paths.NOTEBOOKS / name for name in NOTEBOOKS],
                             output_dir=staging / "notebooks", parameters=parameters,
                             quiet=quiet, drop_tags=("paper",))
    build_report(executed, staging / "report.html", inputs=inputs,
                 title="Pre/post analysis of a cohort on anifrolumab")


def _swap_into_place(staging: Path, folder: Path) -> None:
    """Replace ``folder`` by ``staging``: renames only, so never half of either."""
    old = None
    if folder.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{folder.name}.old.", dir=folder.parent))
        os.replace(folder, old / folder.name)
    os.replace(staging, folder)
    if old is not None:
        with contextlib.suppress(OSError):
            shutil.rmtree(old)


def main(argv: Sequence[str] | None = None) -> int:
    """Command line; exit status 1 with one ``error:`` line on bad input."""
    from helpers.pipeline.notebooks import skip_unused_format_checks

    skip_unused_format_checks()
    parser = argparse.ArgumentParser(prog="python -m helpers.pipeline.cohort",
                                     description=__doc__.split("\n\n")[0])
    # `make analysis` hands the paths over in the environment (ANALYSIS_DATA, ...), so
    # that neither make nor a shell reads '$', quotes or spaces in them.
    parser.add_argument("--data", default=os.environ.get("ANALYSIS_DATA") or None,
                        help="tidy measurements CSV (default: $ANALYSIS_DATA)")
    parser.add_argument("--out", default=os.environ.get("ANALYSIS_OUT") or None,
                        help="output folder, created (default: $ANALYSIS_OUT)")
    parser.add_argument("--patients", default=os.environ.get("ANALYSIS_PATIENTS") or None,
                        help="optional patients.csv (enables the cohort summary, swimmer "
                        "plot and the paper-response comparison; default: "
                        "$ANALYSIS_PATIENTS)")
    parser.add_argument("--codebook", default=os.environ.get("ANALYSIS_CODEBOOK") or None,
                        help="codebook CSV declaring more measures (default: "
                        "$ANALYSIS_CODEBOOK; the built-in codebook always applies)")
    parser.add_argument("--measures", default=os.environ.get("ANALYSIS_MEASURES") or None,
                        help="comma-separated outcomes, such as das28,crp (default: "
                        "$ANALYSIS_MEASURES, else every measure in DATA)")
    parser.add_argument("--sheet", default=os.environ.get("ANALYSIS_SHEET") or None,
                        help="sheet of an .xlsx DATA (default: $ANALYSIS_SHEET, else the "
                        "first)")
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args(argv)
    if not args.data or not args.out:
        print("error: usage: make analysis DATA=path/to/data.{csv,xlsx,parquet} "
              "OUT=path/to/folder [PATIENTS=patients.csv] [CODEBOOK=codebook.csv] "
              "[MEASURES=das28,crp] [SHEET=name]", file=sys.stderr)
        return 2
    for name, value in (("DATA", args.data), ("OUT", args.out), ("PATIENTS", args.patients),
                        ("CODEBOOK", args.codebook)):
        if value is not None and ("\n" in value or "\r" in value or "\0" in value):
            print(f"error: {name} contains a line break or NUL character; rename the path",
                  file=sys.stderr)
            return 2
    from helpers.pipeline.notebooks import NotebookError

    try:
        measures = args.measures.split(",") if args.measures else None
        report = run_cohort(args.data, args.out, patients=args.patients,
                            codebook=args.codebook, measures=measures, sheet=args.sheet,
                            quiet=args.quiet)
    except (InputError, NotebookError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    if not args.quiet:
        print(f"wrote {paths.display_path(report)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
