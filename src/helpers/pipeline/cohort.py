"""Run the statistics, figures and report on your own cohort.

``make analysis DATA=path/to/measurements.csv OUT=path/to/folder`` (or
``python -m helpers.pipeline.cohort --data ... --out ...``) validates the measurements file, then
executes ``02_prepost`` and ``03_figures`` on it in one kernel, writing the executed
notebooks, tables, figures and ``report.html`` into ``OUT`` only. Nothing committed is
touched: ``OUT`` may not be inside the project's own data, notebooks or reports folders.

The file must be the tidy format of ``data/processed/measurements.csv``:
``patient_id, measure, timepoint, month, value, unit``, every follow-up with a baseline
(see :func:`helpers.data.schema.read_measurements`). A bad file stops the run before any
notebook starts, with one line naming the file, row and column, and exit status 1.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from helpers import paths
from helpers.errors import InputError
from helpers.data.schema import read_measurements
from helpers.vocab import MEASURE_CODES

NOTEBOOKS = ("02_prepost.ipynb", "03_figures.ipynb")
# Committed results live here; a user's run must never write into them.
PROTECTED = (paths.DATA_RAW, paths.DATA_PROCESSED, paths.NOTEBOOKS, paths.REPORTS,
             paths.ROOT / "src", paths.ROOT / "tests")


def check_output_folder(out: str | Path) -> Path:
    """Resolve ``out`` and refuse folders that hold committed files."""
    folder = paths.resolve(out).resolve()
    for protected in PROTECTED:
        protected = protected.resolve()
        if folder == protected or protected in folder.parents or folder in protected.parents:
            raise InputError(out, f"output folder overlaps {paths.display_path(protected)}, "
                             "which holds committed results; choose a folder of its own")
    return folder


def run_cohort(data: str | Path, out: str | Path, *, patients: str | Path | None = None,
               measures: Sequence[str] = MEASURE_CODES, quiet: bool = False) -> Path:
    """Validate ``data`` and run the pre/post and figures notebooks on it into ``out``.

    Returns
    -------
    Path
        The report, ``out/report.html``.
    """
    from helpers.pipeline.notebooks import run_notebooks
    from helpers.pipeline.report import build_report

    folder = check_output_folder(out)
    data_path = paths.resolve(data)
    frame = read_measurements(data_path, measures=measures)  # fail fast, before a kernel
    if not quiet:
        print(f"{paths.display_path(data_path)}: {frame['patient_id'].nunique():,} patients, "
              f"{len(frame):,} measurements", file=sys.stderr)
    parameters = {
        "measurements_path": str(data_path),
        "patients_path": str(paths.resolve(patients)) if patients else None,
        "therapies_path": None,
        "outcomes": list(measures),
        "tables_dir": str(folder / "tables"),
        "figures_dir": str(folder / "figures"),
    }
    executed = run_notebooks([paths.NOTEBOOKS / name for name in NOTEBOOKS],
                             output_dir=folder / "notebooks", parameters=parameters,
                             quiet=quiet)
    inputs = [data_path] + ([paths.resolve(patients)] if patients else [])
    return build_report(executed, folder / "report.html", inputs=inputs,
                        title="Pre/post analysis of a cohort on anifrolumab")


def main(argv: Sequence[str] | None = None) -> int:
    """Command line; exit status 1 with one ``error:`` line on bad input."""
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
    parser.add_argument("--measures", nargs="+", default=list(MEASURE_CODES),
                        help="allowed measures (default: %(default)s)")
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args(argv)
    if not args.data or not args.out:
        print("error: usage: make analysis DATA=path/to/measurements.csv OUT=path/to/folder "
              "[PATIENTS=patients.csv]", file=sys.stderr)
        return 2
    for name, value in (("DATA", args.data), ("OUT", args.out), ("PATIENTS", args.patients)):
        if value is not None and ("\n" in value or "\r" in value or "\0" in value):
            print(f"error: {name} contains a line break or NUL character; rename the path",
                  file=sys.stderr)
            return 2
    from helpers.pipeline.notebooks import NotebookError

    try:
        report = run_cohort(args.data, args.out, patients=args.patients,
                            measures=args.measures, quiet=args.quiet)
    except (InputError, NotebookError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    if not args.quiet:
        print(f"wrote {paths.display_path(report)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
