"""``make pool``: pool site summaries from many centres into one report.

``python -m helpers.pipeline.pool --sites "a/summary.json b/summary.json" --out OUT
[--review yes]`` reads every site summary (``OUT/summary.json`` of each site's ``make
analysis``), refuses a set that cannot be pooled before anything is written, then runs
``notebooks/pooling/06_pool.ipynb`` with papermill into ``OUT``: ``tables/`` (pooled
changes and responders), ``figures/`` (a forest plot per outcome and criterion),
``sites/`` (the summaries pooled, as read), the executed notebook and ``report.html``.
As ``make analysis``, it builds OUT in a hidden sibling folder and swaps it into place,
so OUT is never half-written.
"""

from __future__ import annotations

import argparse
import glob
import os
import re
import shlex
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path

from helpers import paths
from helpers.analysis.sites import check_sites, read_summary
from helpers.io import write_text
from helpers.pipeline.cohort import (MARKER, check_output_folder, finish_command, kernel_root,
                                     staging_folder, swap_into_place)

NOTEBOOK = paths.NOTEBOOKS / "pooling" / "06_pool.ipynb"


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "_", name).strip("_").lower()[:40] or "site"


def run_pool(sites: Sequence[str | Path], out: str | Path, *, review: bool = False,
             quiet: bool = False) -> Path:
    """Pool the site summaries ``sites`` into the folder ``out``; return its report.

    Raises
    ------
    InputError
        A file that is not a site summary or of another schema version; two summaries
        of one site or one input; a measure in two units or defined differently;
        fewer than two sites; an output folder this command must not write into.
        Raised before anything is written.
    """
    from helpers.pipeline.notebooks import run_notebooks, start_kernel
    from helpers.pipeline.report import build_report

    folder = check_output_folder(out, "make pool")
    read = [(paths.resolve(site), read_summary(paths.resolve(site))) for site in sites]
    check_sites(read)
    staging = staging_folder(folder, out)
    try:
        write_text("made by make pool; a rerun replaces this folder as a whole\n",
                   staging / MARKER)
        copies = []
        for i, (source, summary) in enumerate(read, 1):
            copy = staging / "sites" / f"{i:03d}_{_slug(summary['site'])}.json"
            copy.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, copy)
            copies.append(copy.relative_to(staging).as_posix())
        parameters = {"sites": copies, "review": bool(review), "tables_dir": "tables",
                      "figures_dir": "figures"}
        if review:
            studies = staging / "data" / paths.STUDIES
            studies.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(paths.DATA_PROCESSED / paths.STUDIES, studies)
            parameters["studies_path"] = studies.relative_to(staging).as_posix()
        # Paths relative to OUT: the kernel's root, and its working folder, is the
        # folder being built.
        with kernel_root(staging):
            executed = run_notebooks([NOTEBOOK], output_dir=staging / "notebooks",
                                     parameters=parameters, quiet=quiet,
                                     kernel=start_kernel(staging))
        build_report(executed, staging / "report.html",
                     inputs={name: staging / name for name in copies},
                     title=f"Pooled analysis of {len(read)} sites",
                     about=(f"The summaries of {len(read)} sites: "
                            + ", ".join(s["site"] for _, s in read) + ". No patient-level "
                            "data: each site shared counts, means, SDs and quartiles."))
        swap_into_place(staging, folder)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return folder / "report.html"


def _expand(items: Sequence[str]) -> list[str]:
    """SITES as given, each pattern (``sites/*/summary.json``) replaced by the files it
    matches, in order; a pattern that matches nothing stays, and is reported missing."""
    expanded = []
    for item in items:
        matches = sorted(glob.glob(item)) if any(c in item for c in "*?[") else []
        expanded.extend(matches or [item])
    return expanded


def main(argv: Sequence[str] | None = None) -> int:
    """Command line; exit status 1 with one ``error:`` line on bad input."""
    from helpers.pipeline.notebooks import skip_unused_format_checks

    skip_unused_format_checks()
    parser = argparse.ArgumentParser(prog="python -m helpers.pipeline.pool",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--sites", default=os.environ.get("POOL_SITES") or None,
                        help="the site summaries, separated by spaces (quote a path with "
                        "spaces; sites/*/summary.json patterns are expanded) (default: "
                        "$POOL_SITES)")
    parser.add_argument("--out", default=os.environ.get("POOL_OUT") or None,
                        help="output folder, created (default: $POOL_OUT)")
    parser.add_argument("--review", default=os.environ.get("POOL_REVIEW") or "no",
                        help="yes: join the sites to the paper's review (default: "
                        "$POOL_REVIEW, else no)")
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args(argv)
    if not args.sites or not args.out:
        print('error: usage: make pool SITES="a/summary.json b/summary.json" OUT=folder '
              "[REVIEW=yes]", file=sys.stderr)
        return 2
    review = args.review.strip().lower()
    if review not in ("yes", "no", "true", "false", "1", "0", ""):
        print(f"error: REVIEW must be yes or no, got {args.review!r}", file=sys.stderr)
        return 2
    try:
        sites = _expand(shlex.split(args.sites))
    except ValueError as error:
        print(f"error: SITES cannot be read ({error})", file=sys.stderr)
        return 2
    return finish_command(lambda: run_pool(sites, args.out,
                                           review=review in ("yes", "true", "1"),
                                           quiet=args.quiet), quiet=args.quiet)

if __name__ == "__main__":
    from helpers.pipeline import exit_without_teardown

    exit_without_teardown(main())
