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

DATA is read by :func:`helpers.data.reader.read_cohort`: CSV (any separator, UTF-8 or
Windows-1252), xlsx (``--sheet``) or Parquet; tidy, wide, one row per visit or a REDCap
export; measure names, units and visits as clinics write them (``--units``,
``--baseline``, ``--start`` for what the file does not state). Its measures must be in
the codebook: the built-in one (:data:`helpers.vocab.MEASURES`), extended by
``--codebook``. DAS28-ESR and DAS28-CRP are computed from their components where a visit
has them (:func:`helpers.scores.derive_das28`). The outcomes are every measure present,
or those named by ``--measures``. PATIENTS is read by
:func:`helpers.data.patients.read_patients`. What reading decided is printed as the run's
summary and listed in the report.

OUT holds ``data/measurements.csv`` (the converted tidy table), ``data/patients.csv``
(with PATIENTS), ``data/codebook.csv`` (the definitions used), ``tables/``, ``figures/``,
``notebooks/`` and ``report.html``.
"""

from __future__ import annotations

import argparse
import contextlib
import html
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from helpers import paths
from helpers.errors import InputError
from helpers.pipeline.notebooks import FIRST_USE_IMPORTS

# Imported where they are used, not here: a registry export's run launches the notebooks'
# kernel first, and the kernel then imports its libraries on the other core while this
# process imports its own (pandas, the readers) and checks the file. Imported here, they
# would hold the kernel back by their 0.7 s.
if TYPE_CHECKING:
    import pandas as pd

    from helpers.data.reader import Reading

NOTEBOOKS = ("02_prepost.ipynb", "03_figures.ipynb")
#: What the kernel of these notebooks imports while the runner checks DATA: the modules
#: they import (tested), and what those import at first use
#: (:data:`helpers.pipeline.notebooks.FIRST_USE_IMPORTS`). Not pandera: the notebooks
#: read the table already checked, and its 0.4 s of imports would compete with the check
#: for the two cores.
WARM_IMPORTS = ("pandas", "scipy.stats", "matplotlib.pyplot", "helpers.paired",
                "helpers.figures", "helpers.analysis.narrative", "helpers.analysis.sites",
                "helpers.analysis.summary", "helpers.data.codebook", "helpers.data.patients",
                "helpers.data.reader", "helpers.displays", "helpers.io", "helpers.scores",
                "helpers.tables", *FIRST_USE_IMPORTS)
#: What this process imports to run the notebooks and write the report.
RUNNER_IMPORTS = ("nbformat", "papermill", "helpers.pipeline.report")
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


def check_output_folder(out: str | Path, command: str = "make analysis") -> Path:
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
                             "git ignores; use out/<name> or a folder outside the project",
                             argument="OUT")
    if folder.exists() and not folder.is_dir():
        raise InputError(out, "output folder is a file, not a folder", argument="OUT")
    if folder.is_dir() and any(folder.iterdir()) and not (folder / MARKER).is_file():
        raise InputError(out, f"output folder is not empty and was not made by {command}; "
                         "choose a new or empty folder (nothing was written)", argument="OUT")
    return folder


def run_cohort(data: str | Path, out: str | Path, *, patients: str | Path | None = None,
               codebook: str | Path | None = None, measures: Sequence[str] | None = None,
               sheet: str | None = None, units: str | None = None,
               baseline: str | None = None, start: str | None = None,
               site: str | None = None, quiet: bool = False) -> Path:
    """Validate and convert the inputs, then run the pre/post and figures notebooks.

    Parameters
    ----------
    data : str or Path
        The measurements: CSV, xlsx or Parquet, in any shape
        :func:`helpers.data.reader.read_cohort` reads.
    out : str or Path
        The output folder (see the module's rules).
    patients : str or Path, optional
        A patients table (cohort summary, swimmer plot; :mod:`helpers.data.patients`).
    codebook : str or Path, optional
        A codebook CSV extending the built-in one (:mod:`helpers.data.codebook`).
    measures : sequence of str, optional
        The outcomes; default every measure present.
    sheet : str, optional
        The sheet of an xlsx DATA.
    units : str, optional
        ``crp=mg/dL,pga=0-10``: units of measures whose unit DATA does not state.
    baseline : str, optional
        The baseline visit's label, when it is none of the known synonyms.
    start : str, optional
        The treatment start (a date, or a column of DATA), for visits given as dates.
    site : str, optional
        The site's name in ``OUT/summary.json`` (default: OUT's folder name).
    quiet : bool
        No progress output.

    Returns
    -------
    Path
        The report, ``out/report.html``.
    """
    folder = check_output_folder(out)
    data_path = paths.resolve(data)
    # Checking a registry export takes seconds: then the notebooks' kernel starts first,
    # and imports its libraries meanwhile (on the other core), in the folder the run is
    # built in. A small file is checked first, so that its errors come at once and
    # nothing (not even OUT's parent folder) is created before they are found.
    early = _size(data_path) >= EARLY_KERNEL_BYTES
    staging = staging_folder(folder, out) if early else None
    kernel = None
    try:
        if early:
            from helpers.pipeline.notebooks import import_in_background, start_kernel

            with kernel_root(staging):
                kernel = start_kernel(staging, WARM_IMPORTS)
        from helpers.data.codebook import load_codebook
        from helpers.data.interpret import parse_units
        from helpers.data.names import MeasureIndex

        if early:
            # What this process needs once DATA is checked (0.4 s), imported meanwhile:
            # Arrow lets go of the interpreter while it parses. Started once pandas and
            # pyarrow are loaded: what both threads may still import (helpers.data) has
            # no import cycle, which is all the import system's per-module locks need.
            import_in_background(RUNNER_IMPORTS)

        try:
            book = load_codebook(codebook)
        except InputError as error:
            raise error.given_as("CODEBOOK") from None
        index = MeasureIndex(book)
        try:
            unit_of = parse_units(units, index)
        except ValueError as error:
            raise InputError("UNITS", str(error)) from None
        chosen = [index.lookup(m) or m.strip() for m in measures or [] if m.strip()]
        checked = _checked(data_path, book, chosen, patients, sheet=sheet, units=unit_of,
                           baseline=baseline, start=start)
        if not quiet:
            _print_summary(data_path, checked.frame, checked.outcomes, checked.reading)
        if staging is None:
            staging = staging_folder(folder, out)
        _write_and_run(staging, checked, data_path, patients, codebook, book, quiet, kernel,
                       site=site or folder.name)
        swap_into_place(staging, folder)
    finally:
        if kernel is not None:
            kernel.shutdown()
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)
    return folder / "report.html"


#: A DATA file at least this large starts the notebooks' kernel while it is checked.
EARLY_KERNEL_BYTES = 4_000_000


@dataclass
class _Checked:
    """Every input, read and checked: the tidy table and what reading decided."""

    frame: pd.DataFrame
    reading: Reading
    outcomes: list[str]
    patients: pd.DataFrame | None


def _checked(data_path: Path, book, chosen, patients, *, sheet, units, baseline,
             start) -> _Checked:
    """Read and check DATA (and PATIENTS); derive DAS28 where its components are."""
    from helpers.data.codebook import select_outcomes
    from helpers.data.patients import read_patients
    from helpers.data.reader import read_cohort
    from helpers.scores import derive_das28
    from helpers.vocab import measure_name

    frame, reading = read_cohort(data_path, codebook=book, chosen=chosen, sheet=sheet,
                                 units=units, baseline=baseline, start=start,
                                 argument="DATA")
    try:
        frame, derived = derive_das28(frame)
    except ValueError as error:  # a user codebook widened a component's range
        raise InputError(data_path, f"DAS28 cannot be computed: {error}",
                         argument="DATA") from None
    for measure, count in derived.items():
        reading.notes.append(f"{measure_name(measure, book)} computed from its components "
                             f"at {count:,} visits")
    outcomes, baseline_only = select_outcomes(frame, book, chosen or None, data_path)
    if baseline_only:
        reading.notes.append(f"{', '.join(baseline_only)} ha"
                             f"{'s' if len(baseline_only) == 1 else 've'} baseline values "
                             "only and cannot be compared")
    reading.notes += _criteria_notes(frame)
    patients_table = None
    if patients:
        patients_table, notes = read_patients(paths.resolve(patients),
                                              ids=frame["patient_id"].unique())
        reading.notes += notes
    return _Checked(frame, reading, outcomes, patients_table)


def _write_and_run(staging: Path, checked: _Checked, data_path: Path, patients, codebook,
                   book, quiet: bool, kernel, *, site: str) -> None:
    """The data folder of OUT, then the notebooks and the report, all into ``staging``.

    Read once: the notebooks get the checked, typed table as Parquet with its checksum,
    and neither read nor check DATA again. ``measurements.csv``, the same table for
    people, is written meanwhile, while the notebooks run.
    """
    from helpers.data.codebook import codebook_table
    from helpers.data.reader import validated_table, write_validated
    from helpers.io import write_csv

    frame = validated_table(checked.frame)
    handed = staging / "data" / "measurements.parquet"
    digest = write_validated(frame, handed)
    with ThreadPoolExecutor(max_workers=1) as background:
        for_people = background.submit(write_csv, frame, staging / "data" / "measurements.csv")
        write_csv(codebook_table(book), staging / "data" / "codebook.csv")
        patients_path = None
        if checked.patients is not None:
            patients_path = write_csv(checked.patients, staging / "data" / "patients.csv")
        inputs = [data_path] + ([paths.resolve(patients)] if patients else [])
        _run_into(staging, (handed, digest), inputs, patients_path, codebook,
                  checked.outcomes, checked.reading, quiet, kernel=kernel, site=site,
                  about=_about(data_path, frame, checked.patients is not None))
        for_people.result()


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:  # read_cohort says what is wrong with it
        return 0


def staging_folder(folder: Path, out: str | Path) -> Path:
    """The hidden sibling of OUT the run is built in, then swapped into place."""
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
        staging.chmod(0o755)  # mkdtemp makes it private; OUT is an ordinary folder
    except OSError as error:
        raise InputError(out, f"output folder cannot be created ({error.strerror})",
                         argument="OUT") from None
    return staging


def _criteria_notes(frame) -> list[str]:
    """The response criteria that DATA cannot inform, said rather than left at 0/0."""
    from helpers.vocab import DAS28_MEASURES

    present = set(frame["measure"].unique())
    needs = {"eular": DAS28_MEASURES, "sledai": ("sledai2k",), "gc": ("gc_mg_day",)}
    missing = []
    for criterion, label in RESPONDER_CRITERIA_LABELS.items():
        if not present.intersection(needs[criterion]):
            missing.append(f"{label} (no {' or '.join(needs[criterion])} in DATA)")
    return [f"response criteria not assessed: {'; '.join(missing)}"] if missing else []


#: The families of response criteria of :func:`helpers.scores.responder_table`.
RESPONDER_CRITERIA_LABELS = {"eular": "EULAR DAS28 response", "sledai": "SLEDAI-2K reduction",
                             "gc": "glucocorticoid targets"}


def _print_summary(data_path: Path, frame, outcomes, reading: Reading) -> None:
    print(f"DATA {paths.display_path(data_path)}: {frame['patient_id'].nunique():,} patients, "
          f"{len(frame):,} measurements; outcomes: {', '.join(outcomes)}", file=sys.stderr)
    for line in reading.summary():
        print(f"  {line}", file=sys.stderr)


def _about(data: Path, frame, has_patients: bool) -> str:
    """The report's first lines on a user's cohort: its file, size and follow-up."""
    months = frame["month"].dropna()
    follow_up = (f", visits from month {months.min():g} to month {months.max():g}"
                 if len(months) else "")
    return (f"The data of <code>{html.escape(data.name)}</code>: "
            f"{frame['patient_id'].nunique():,} patients, {len(frame):,} measurements"
            f"{html.escape(follow_up)}"
            f"{'' if has_patients else '; no patients table (PATIENTS) was given'}. "
            "Generated by <code>make analysis</code>; every number is computed from these "
            "data, and the methods are those of the anifrolumab-arthritis project "
            "(its <code>docs/methods.md</code>).")


def _run_into(staging: Path, measurements: tuple[Path, str], inputs: list[Path],
              patients_path: Path | None, codebook: str | Path | None,
              outcomes: Sequence[str], reading: Reading, quiet: bool, *,
              about: str, site: str, kernel=None) -> None:
    from helpers.io import sha256, write_text
    from helpers.pipeline.notebooks import run_notebooks
    from helpers.pipeline.report import build_report

    write_text("made by make analysis; a rerun replaces this folder as a whole\n",
               staging / MARKER)
    # Paths relative to OUT: the kernel's project root is the folder being built
    # (ANIFROLUMAB_ROOT), so what the notebooks write and show (parameters, the "Files:"
    # of each figure, the report's provenance) names OUT's own files, never the scratch
    # folder the run is built in nor a path of this machine.
    parameters = {
        "measurements_path": measurements[0].relative_to(staging).as_posix(),
        "measurements_sha256": measurements[1],
        "patients_path": (patients_path.relative_to(staging).as_posix() if patients_path
                          else None),
        "therapies_path": None,
        # The definitions used, as written into OUT (built-in and the user's), so the
        # notebooks name OUT's own copy, not where CODEBOOK lies on this machine.
        "codebook_path": "data/codebook.csv" if codebook else None,
        "outcomes": list(outcomes),
        "tables_dir": "tables",
        "figures_dir": "figures",
        # What the site shares for pooling across centres (make pool): OUT/summary.json.
        "summary_path": "summary.json",
        "site": site,
        "input_sha256": sha256(inputs[0]),
    }
    # Cells tagged "paper" describe the paper's four patients, not this cohort.
    from helpers.pipeline.notebooks import start_kernel

    with kernel_root(staging):
        # The kernel works in the folder being built, its project root: the notebooks'
        # relative paths are OUT's (helpers.paths.detached).
        kernel = kernel or start_kernel(staging, WARM_IMPORTS)
        executed = run_notebooks([paths.NOTEBOOKS / name for name in NOTEBOOKS],
                                 output_dir=staging / "notebooks", parameters=parameters,
                                 quiet=quiet, drop_tags=("paper",), kernel=kernel)
    # The inputs by their role and file name: where they lie on this machine is not
    # the report's business (nor the same on the next).
    named = {f"{role} {path.name}": path
             for role, path in zip(("DATA", "PATIENTS"), inputs, strict=False)}
    build_report(executed, staging / "report.html", inputs=named,
                 title=f"Pre/post analysis of {inputs[0].name}", about=about,
                 reading=reading.summary())


@contextlib.contextmanager
def kernel_root(folder: Path) -> Iterator[None]:
    """Notebook kernels started inside see ``folder`` as the project root."""
    before = os.environ.get("ANIFROLUMAB_ROOT")
    os.environ["ANIFROLUMAB_ROOT"] = str(folder)
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("ANIFROLUMAB_ROOT", None)
        else:
            os.environ["ANIFROLUMAB_ROOT"] = before


def swap_into_place(staging: Path, folder: Path) -> None:
    """Replace ``folder`` by ``staging``: renames only, so never half of either."""
    old = None
    if folder.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{folder.name}.old.", dir=folder.parent))
        os.replace(folder, old / folder.name)
    os.replace(staging, folder)
    if old is not None:
        with contextlib.suppress(OSError):
            shutil.rmtree(old)


#: The command's options, each also read from ``ANALYSIS_<NAME>`` (how make passes them).
OPTIONS = (
    ("data", "the measurements: CSV, xlsx or Parquet, in any shape the README lists"),
    ("out", "output folder, created"),
    ("patients", "optional patients table (cohort summary, swimmer plot, patient profiles)"),
    ("codebook", "codebook CSV declaring more measures (the built-in codebook always "
                 "applies)"),
    ("measures", "comma-separated outcomes, such as das28,crp (else every measure in DATA)"),
    ("sheet", "sheet of an .xlsx DATA (else the one sheet that holds a table)"),
    ("units", "units DATA does not state, such as crp=mg/dL,pga=0-10"),
    ("baseline", "label of the baseline visit, when it is not baseline, T0, BL, M0, "
                 "basale, screening..."),
    ("start", "treatment start for visits given as dates: a date (2023-01-15) or a column "
              "of DATA"),
    ("site", "the site's name in OUT/summary.json, for pooling across centres (default: "
             "OUT's folder name)"),
)


def main(argv: Sequence[str] | None = None) -> int:
    """Command line; exit status 1 with one ``error:`` line on bad input."""
    from helpers.pipeline.notebooks import skip_unused_format_checks

    skip_unused_format_checks()
    parser = argparse.ArgumentParser(prog="python -m helpers.pipeline.cohort",
                                     description=__doc__.split("\n\n")[0])
    # `make analysis` hands the paths over in the environment (ANALYSIS_DATA, ...), so
    # that neither make nor a shell reads '$', quotes or spaces in them.
    for name, help_text in OPTIONS:
        variable = f"ANALYSIS_{name.upper()}"
        parser.add_argument(f"--{name}", default=os.environ.get(variable) or None,
                            help=f"{help_text} (default: ${variable})")
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args(argv)
    if not args.data or not args.out:
        print("error: usage: make analysis DATA=path/to/data.{csv,xlsx,parquet} "
              "OUT=path/to/folder [PATIENTS=patients.csv] [CODEBOOK=codebook.csv] "
              "[MEASURES=das28,crp] [SHEET=name] [UNITS=crp=mg/dL] [BASELINE=label] "
              "[START=date or column] [SITE=name]", file=sys.stderr)
        return 2
    for name, value in (("DATA", args.data), ("OUT", args.out), ("PATIENTS", args.patients),
                        ("CODEBOOK", args.codebook)):
        if value is not None and ("\n" in value or "\r" in value or "\0" in value):
            print(f"error: {name} contains a line break or NUL character; rename the path",
                  file=sys.stderr)
            return 2
    measures = args.measures.split(",") if args.measures else None
    return finish_command(lambda: run_cohort(
        args.data, args.out, patients=args.patients, codebook=args.codebook,
        measures=measures, sheet=args.sheet, units=args.units, baseline=args.baseline,
        start=args.start, site=args.site, quiet=args.quiet), quiet=args.quiet)


def finish_command(run: Callable[[], Path], *, quiet: bool) -> int:
    """Do a command's work (``make analysis``, ``make pool``): exit status 1 and one
    ``error:`` line on bad input or a failed notebook, else 0 and ``wrote REPORT``."""
    from helpers.pipeline.notebooks import NotebookError

    try:
        report = run()
    except (InputError, NotebookError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    if not quiet:
        print(f"wrote {paths.display_path(report)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    from helpers.pipeline import exit_without_teardown

    exit_without_teardown(main())
