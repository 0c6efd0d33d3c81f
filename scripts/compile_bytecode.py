"""Compile the environment's bytecode once, in parallel, before anything imports it.

Where ``PYTHONDONTWRITEBYTECODE=1`` is set (many containers and CI images), Python
compiles every module it imports on every run unless the environment holds compiled
bytecode: ``import pandas, scipy.stats, matplotlib.pyplot`` alone then takes about three
times as long (docs/benchmarks.md measures it, and ``make``, both ways). Compiling all
~9,400 files of the environment takes 15-18 s on two cores, most of it for
code that ``make`` never imports (JupyterLab, the test tools, and the test suites that
packages ship), so the work is split by what needs it::

    python scripts/compile_bytecode.py        the analysis: the project's runtime
                                              dependencies and theirs (make env)
    python scripts/compile_bytecode.py --dev  everything installed (before make test, lab)

Folders named ``tests`` or ``test`` are left out: nothing imports a package's own test
suite. A file whose bytecode is up to date is skipped, so ``--dev`` after the default
compiles only the rest. The project's own sources (``src/``, installed editable) are not
compiled here: they change, and Python compiles them as they are imported. Run by the
environment's own interpreter (``.venv/bin/python``), whose packages it compiles.
"""

from __future__ import annotations

import argparse
import compileall
import contextlib
import os
import py_compile
import sys
import time
from collections.abc import Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from importlib import metadata

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

#: The distribution whose runtime dependencies the analysis needs (pyproject's name).
PROJECT = "helpers"
#: Folders of package test suites: never imported, a third of the environment's source.
TEST_FOLDERS = frozenset({"tests", "test"})
#: Imported by the analysis whenever installed, though nothing it needs requires them
#: (optional imports; here they come with the development tools): pandera imports
#: hypothesis for its data synthesis, Dask's scheduler prometheus_client for its metrics,
#: and jsonschema (nbformat's validation) its format checkers; make prints the report
#: to PDF with playwright (helpers.pipeline.printing) where it is installed.
#: tests/test_environment.py checks a real run against this list.
OPTIONAL_IMPORTS = ("hypothesis", "prometheus-client", "arrow", "fqdn", "isoduration",
                    "jsonpointer", "rfc3339-validator", "rfc3986-validator", "six",
                    "uri-template", "webcolors", "playwright")


def runtime_closure(root: str = PROJECT) -> list[metadata.Distribution]:
    """The installed distributions ``root`` needs at run time: its requirements, theirs, ...

    Requirements are followed with the extras they name (``dask[distributed]`` brings
    ``distributed``) and with their environment markers evaluated here; a project's own
    optional extras (``helpers[dev]``) are not followed. A requirement that is not
    installed (a marker for another platform) is skipped.
    """
    found: dict[str, metadata.Distribution] = {}
    followed: set[tuple[str, frozenset[str]]] = set()
    pending = [(root, frozenset())]
    while pending:
        name, extras = pending.pop()
        key = canonicalize_name(name)
        if (key, extras) in followed:
            continue
        followed.add((key, extras))
        try:
            dist = found.get(key) or metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue
        found[key] = dist
        for text in dist.requires or ():
            requirement = Requirement(text)
            # Base requirements hold with no extra; the others only for an extra asked for.
            if requirement.marker is None or any(
                    requirement.marker.evaluate({"extra": extra}) for extra in {"", *extras}):
                pending.append((requirement.name, frozenset(requirement.extras)))
    found.pop(canonicalize_name(root), None)
    return [found[key] for key in sorted(found)]


def analysis_distributions() -> list[metadata.Distribution]:
    """What ``make`` imports from: :func:`runtime_closure` and the installed
    :data:`OPTIONAL_IMPORTS` (with their own requirements)."""
    found = {canonicalize_name(dist.metadata["Name"]): dist for dist in runtime_closure()}
    for name in OPTIONAL_IMPORTS:
        for dist in runtime_closure(name):
            found.setdefault(canonicalize_name(dist.metadata["Name"]), dist)
        with contextlib.suppress(metadata.PackageNotFoundError):
            found.setdefault(canonicalize_name(name), metadata.distribution(name))
    return [found[key] for key in sorted(found)]


def source_files(distributions: Iterable[metadata.Distribution]) -> Iterator[str]:
    """The ``.py`` files the distributions installed, test folders left out."""
    for dist in distributions:
        for file in dist.files or ():
            if file.suffix == ".py" and not TEST_FOLDERS.intersection(file.parts[:-1]):
                yield str(dist.locate_file(file))


def _compile(path: str) -> bool:
    # Timestamp-checked bytecode, what `pip install` writes (py_compile would switch to
    # hash-checked bytecode, slower to import, wherever SOURCE_DATE_EPOCH is set).
    return compileall.compile_file(
        path, quiet=2, invalidation_mode=py_compile.PycInvalidationMode.TIMESTAMP)


def compile_files(paths: list[str], workers: int | None = None) -> int:
    """Compile ``paths`` on every core; return how many could not be compiled.

    Files whose bytecode is up to date are skipped. A file Python cannot compile (a
    template or an example shipped as ``.py``) is counted, not raised: its package works
    the way it did before.
    """
    workers = workers or os.cpu_count() or 1
    if workers == 1 or len(paths) < 100:
        return sum(not _compile(path) for path in paths)
    with ProcessPoolExecutor(max_workers=workers) as pool:
        return sum(not ok for ok in pool.map(_compile, paths, chunksize=64))


def main(argv: list[str] | None = None) -> int:
    """Command line; see the module's documentation."""
    parser = argparse.ArgumentParser(
        prog="compile_bytecode.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--dev", action="store_true",
                        help="every installed package, not only what the analysis needs")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    if args.dev:
        distributions = [dist for dist in metadata.distributions()
                         if canonicalize_name(dist.metadata["Name"]) != PROJECT]
        what = "every installed package"
    else:
        distributions = analysis_distributions()
        what = "the analysis's packages"
    paths = sorted(set(source_files(distributions)))
    failed = compile_files(paths)
    note = f", {failed} not compilable (left as source)" if failed else ""
    print(f"bytecode: {what} ({len(distributions)} distributions, {len(paths):,} files"
          f"{note}) in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
