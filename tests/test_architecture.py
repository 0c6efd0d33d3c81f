"""The layout's rules (docs/architecture.md), checked on the source.

- Stages import only from their own stage or the ones below: foundation < data <
  statistics < analysis, figures < pipeline. The statistics never import the tables or
  figures built on them, and nothing in the package imports the tooling beside it
  (benchmarks/, scripts/, tests/).
- Nothing in the repository refers to files outside it: a clone has only itself.
"""

from __future__ import annotations

import ast
import re
import subprocess

import pytest

from helpers import paths

PACKAGE = paths.ROOT / "src" / "helpers"

FOUNDATION = {"helpers", "helpers.vocab", "helpers.paths", "helpers.io", "helpers.tables",
              "helpers.errors"}
STATISTICS = {"helpers.paired", "helpers.scores", "helpers.proportions", "helpers.meta",
              "helpers.bayes", "helpers.synth", "helpers.power"}
STAGES = {"data": 1, "analysis": 3, "figures": 3, "pipeline": 4}


def _stage(module: str) -> int:
    if module in FOUNDATION:
        return 0
    if module in STATISTICS:
        return 2
    parts = module.split(".")
    if len(parts) > 1 and parts[1] in STAGES:
        return STAGES[parts[1]]
    raise AssertionError(f"{module} has no stage in docs/architecture.md")


def _modules():
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        yield name, path


def _imports(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):  # function-level imports count too
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module
            # "from helpers.data import tidy" imports helpers.data.tidy
            yield from (f"{node.module}.{alias.name}" for alias in node.names
                        if (PACKAGE.parent / node.module.replace(".", "/")
                            / f"{alias.name}.py").exists())


@pytest.mark.parametrize(("module", "path"), list(_modules()), ids=lambda v: str(v))
def test_a_stage_imports_only_its_own_or_lower_stages(module, path):
    own = _stage(module)
    for imported in _imports(path):
        top = imported.split(".")[0]
        assert top not in {"benchmarks", "scripts", "tests", "conftest"}, (
            f"{module} imports the tooling module {imported}")
        if top != "helpers":
            continue
        assert _stage(imported) <= own, (
            f"{module} (stage {own}) imports {imported} (stage {_stage(imported)})")


def test_nothing_refers_to_files_outside_the_repository():
    """No relative path leaves the repository, and every Markdown file named exists in it.

    A clone has only itself: a path starting with ``../`` or a document that is not
    tracked here would be a dead reference in every clone.
    """
    tracked = subprocess.run(["git", "ls-files"], cwd=paths.ROOT, capture_output=True,
                             text=True, check=True).stdout.split()
    documents = {name.rsplit("/", 1)[-1] for name in tracked if name.endswith(".md")}
    texts = [p for p in tracked if p.endswith((".py", ".md", ".ipynb", ".toml", ".yml",
                                                ".cfg", ".json", "Makefile", "run"))]
    assert texts and "architecture.md" in documents
    for name in texts:
        text = (paths.ROOT / name).read_text(encoding="utf-8")
        leaving = re.findall(r"(?<![\w.])\.\./[\w./-]+", text)
        assert not leaving, f"{name} refers outside the repository: {leaving[:3]}"
        if name.startswith("tests/"):
            continue  # tests write Markdown files of their own (a.md, ...)
        named = set(re.findall(r"\b[\w-]+\.md\b", text)) - documents
        assert not named, f"{name} names documents the repository does not have: {named}"
