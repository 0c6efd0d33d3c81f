"""What `make` last wrote, by content: reports/outputs.sha256, and the check against it.

make judges files by their dates, and an interactive run can rewrite an output without
touching anything make looks at: a notebook run in JupyterLab with ``ci_level = 0.90``
and closed without saving leaves 90% intervals in ``reports/tables``, the notebook still
saying 95%, and make would call everything up to date. So make records the SHA-256 of
every output it writes (``--write``, after the notebooks ran), and before it decides
what to rebuild (``--check``, at every ``make``) removes each output whose content is no
longer what it wrote: make then sees it missing and reruns the notebooks, which write it
back. ``git status`` is clean again.

    python3 -I scripts/outputs.py --write MANIFEST FILE...
    python3 -I scripts/outputs.py --check MANIFEST

Standard library only, and run with ``-I``: a check costs a few hundredths of a second,
before the environment even exists (a fresh clone's outputs match their manifest). The
manifest is committed with the outputs; ``tests/test_outputs.py`` checks that every
committed output matches it, naming the ones that do not.
"""

from __future__ import annotations

import hashlib
import os
import sys
from pathlib import Path

#: The manifest's first line.
HEADER = "# SHA-256 of every output make wrote (scripts/outputs.py); sha256sum -c reads it"


def digest(path: Path) -> str:
    """The SHA-256 of a file's bytes."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def read_manifest(manifest: Path) -> dict[str, str]:
    """Path (as make names it) -> SHA-256; empty when there is no manifest."""
    try:
        lines = manifest.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return {}
    entries = {}
    for line in lines:
        if line and not line.startswith("#"):
            value, name = line.split("  ", 1)
            entries[name] = value
    return entries


def write_manifest(manifest: Path, files: list[str]) -> None:
    """Record the SHA-256 of ``files`` (sorted, one per line, ``sha256sum`` format)."""
    lines = [HEADER] + [f"{digest(Path(name))}  {name}" for name in sorted(set(files))]
    temporary = manifest.with_name(f".{manifest.name}.tmp")
    temporary.write_text("\n".join(lines) + "\n", encoding="utf-8")
    os.replace(temporary, manifest)


def changed(manifest: Path) -> list[str]:
    """The outputs whose content is not what make wrote (missing ones are make's to see).

    make writes the manifest after the outputs: only an output dated after it can have
    been rewritten since, and only those are read (`make` with nothing to do stays
    instant; in a fresh clone, whose dates are those of the checkout, some are read).
    """
    try:
        written = manifest.stat().st_mtime_ns
    except FileNotFoundError:
        return []
    stale = []
    for name, value in read_manifest(manifest).items():
        path = Path(name)
        try:
            newer = path.stat().st_mtime_ns > written
        except FileNotFoundError:
            continue
        if newer and digest(path) != value:
            stale.append(name)
    return stale


def main(argv: list[str]) -> int:
    if len(argv) >= 2 and argv[0] == "--write":
        write_manifest(Path(argv[1]), argv[2:])
        return 0
    if len(argv) == 2 and argv[0] == "--check":
        stale = changed(Path(argv[1]))
        for name in stale:
            os.remove(name)
        if stale:
            # On stderr: make's $(shell ...) passes it through to the terminal.
            print(f"outputs changed since make wrote them (an interactive run?), rebuilt: "
                  f"{', '.join(stale)}", file=sys.stderr)
        return 0
    print(__doc__.split("\n\n")[2], file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
