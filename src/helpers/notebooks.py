"""Run notebooks reproducibly with papermill.

``python -m helpers.notebooks run notebooks/01_clean.ipynb`` executes a notebook in place
(the default run, whose outputs are committed); ``--output-dir`` sends the executed copy
elsewhere (a run on other data); ``-p name value`` sets parameters.

What the runner guarantees:

- **Deterministic files.** papermill stamps start/end times, durations, paths and random
  ids into the notebook; :func:`normalise` removes them and numbers cells, so an unchanged
  checkout re-executes to the same bytes and ``git status`` stays clean.
- **Atomic.** The notebook executes into a temporary file that is renamed into place only
  on success; a failed or interrupted run leaves the previous notebook untouched.
- **One-line errors.** A cell that raises ends the run with ``error: <message>`` (the
  exception's own message, e.g. an :class:`~helpers.errors.InputError` naming file, row and
  column) and exit status 1, not a kernel traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import nbformat

from helpers.io import write_text
from helpers.paths import ROOT, display_path, resolve

# Kept from papermill's output: the cell tags (parameters, injected-parameters).
_VOLATILE_NOTEBOOK_METADATA = ("papermill", "widgets")
_VOLATILE_CELL_METADATA = ("papermill", "execution", "collapsed", "scrolled")


class NotebookError(RuntimeError):
    """A notebook cell raised; the message is the cell's exception, on one line."""


def normalise(nb: nbformat.NotebookNode, kernelspec: Mapping | None = None
              ) -> nbformat.NotebookNode:
    """Strip run-specific metadata from an executed notebook, in place.

    Parameters
    ----------
    nb : NotebookNode
        Executed notebook.
    kernelspec : mapping, optional
        Kernel spec to record (the source notebook's), whatever kernel ran it.

    Returns
    -------
    NotebookNode
        ``nb``, with papermill/execution metadata removed, cell ids ``cell-00``,
        ``cell-01``..., and only the language name kept in ``language_info`` (its version
        differs between machines).
    """
    for key in _VOLATILE_NOTEBOOK_METADATA:
        nb.metadata.pop(key, None)
    if kernelspec is not None:
        nb.metadata["kernelspec"] = dict(kernelspec)
    language = nb.metadata.get("language_info", {}).get("name", "python")
    nb.metadata["language_info"] = {"name": language}
    for index, cell in enumerate(nb.cells):
        cell["id"] = f"cell-{index:02d}"
        for key in _VOLATILE_CELL_METADATA:
            cell.metadata.pop(key, None)
        if cell.cell_type == "code":
            for output in cell.get("outputs", []):
                output.get("metadata", {}).pop("execution", None)
    return nb


def _one_line(text: str) -> str:
    import re

    text = re.sub(r"\x1b\[[0-9;]*m", "", str(text))  # ANSI colours from IPython
    return " ".join(text.split())


def run_notebook(notebook: str | Path, *, output_dir: str | Path | None = None,
                 parameters: Mapping[str, object] | None = None,
                 kernel_name: str = "python3", quiet: bool = False) -> Path:
    """Execute ``notebook`` with papermill and write it atomically, normalised.

    Parameters
    ----------
    notebook : str or Path
        Source notebook (relative paths from the project root).
    output_dir : str or Path, optional
        Folder for the executed copy; default: in place.
    parameters : mapping, optional
        Values for the notebook's ``parameters`` cell.
    kernel_name : str
        Jupyter kernel; ``"python3"`` is the interpreter running this function, so the
        notebook sees the same environment.
    quiet : bool
        Do not print progress.

    Returns
    -------
    Path
        The executed notebook.

    Raises
    ------
    NotebookError
        When a cell raises; the previous output file is left untouched.
    """
    import papermill
    from papermill.exceptions import PapermillExecutionError

    source = resolve(notebook)
    target = resolve(output_dir) / source.name if output_dir is not None else source
    target.parent.mkdir(parents=True, exist_ok=True)
    kernelspec = nbformat.read(source, as_version=4).metadata.get("kernelspec")
    tmp = target.with_name(f".{target.name}.{os.getpid()}.running.ipynb")
    started = time.perf_counter()
    started_wall = time.time()
    if not quiet:
        print(f"running {display_path(source)} -> {display_path(target)}", file=sys.stderr,
              flush=True)
    try:
        papermill.execute_notebook(
            str(source), str(tmp), parameters=dict(parameters or {}), kernel_name=kernel_name,
            cwd=str(ROOT), progress_bar=False, request_save_on_cell_execute=False,
        )
        nb = normalise(nbformat.read(tmp, as_version=4), kernelspec)
        # nbformat's own serialisation (sorted keys, indent 1), with a final newline.
        write_text(nbformat.writes(nb) + "\n", target)
        if target == source:
            # The notebook is both make's prerequisite and, executed, an output. Dating it
            # to the start of the run keeps it older than the files it wrote, so a second
            # `make` sees nothing stale.
            os.utime(target, (started_wall, started_wall))
    except PapermillExecutionError as error:
        raise NotebookError(f"{display_path(source)}: {_one_line(error.evalue)}") from None
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
    if not quiet:
        print(f"  done in {time.perf_counter() - started:.1f} s", file=sys.stderr, flush=True)
    return target


def _parse_value(text: str) -> object:
    """Read a ``-p`` value as JSON when it parses (numbers, booleans, lists), else text."""
    try:
        return json.loads(text)
    except ValueError:
        return text


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: ``python -m helpers.notebooks run NB [NB ...] [options]``."""
    parser = argparse.ArgumentParser(prog="python -m helpers.notebooks",
                                     description="Execute notebooks reproducibly.")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="execute notebooks with papermill")
    run.add_argument("notebooks", nargs="+", help="notebooks, run in the order given")
    run.add_argument("--output-dir", help="write executed copies here instead of in place")
    run.add_argument("-p", "--parameter", nargs=2, action="append", default=[],
                     metavar=("NAME", "VALUE"), help="set a parameter (value read as JSON)")
    run.add_argument("--quiet", action="store_true", help="no progress output")
    args = parser.parse_args(argv)
    parameters = {name: _parse_value(value) for name, value in args.parameter}
    try:
        for notebook in args.notebooks:
            run_notebook(notebook, output_dir=args.output_dir, parameters=parameters,
                         quiet=args.quiet)
    except NotebookError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("error: interrupted; previous outputs are unchanged", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
