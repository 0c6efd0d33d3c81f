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

FOUNDATION = {"helpers", "helpers.vocab", "helpers.paths", "helpers.io", "helpers.formats",
              "helpers.tables", "helpers.displays", "helpers.errors"}
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


@pytest.mark.parametrize(("module", "path"), list(_modules()), ids=lambda v: str(v))
def test_no_module_imports_the_private_names_of_another(module, path):
    # What modules share is public (helpers.figures.parts holds the figures' pieces); a
    # private name is free to change without looking elsewhere.
    tree = ast.parse(path.read_text(encoding="utf-8"))
    private = [f"{node.module}.{alias.name}" for node in ast.walk(tree)
               if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("helpers")
               for alias in node.names if alias.name.startswith("_")]
    assert not private, f"{module} imports {private}"


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


# --- one source for each clinical number ----------------------------------------------

def _clinical_numbers() -> tuple[set[float], set[float]]:
    """(every cut-off, range end and MCID of the built-in codebook; the distinctive ones).

    The distinctive ones are forbidden anywhere outside helpers.vocab. The others (0.6,
    1.2, 4, 5, 10, 100, ...) are also ordinary line widths, margins, counts and
    percentages, so they are forbidden where a literal means a cut-off: a float in a
    comparison, and a number after a comparison sign in text ("<= 3.2", "\u2264 5 mg").
    """
    from helpers.vocab import MEASURES
    numbers = set()
    for measure in MEASURES.values():
        numbers.update(measure.thresholds, measure.change_thresholds, (measure.high,))
        numbers.update(() if measure.mcid is None else (measure.mcid,))
    common = {0, 0.6, 1, 1.2, 2, 3, 4, 5, 10, 70, 100, 200, 1000, 2000}
    return numbers, numbers - common


#: Literals allowed, with why: (file, value).
CLINICAL_LITERALS_ALLOWED = {
    # Tablet strengths of prednisone-equivalent doses the synthetic cohorts draw from.
    ("synth.py", 7.5),
}


def _docstrings(tree: ast.AST) -> set[int]:
    return {id(node.body[0].value) for node in ast.walk(tree)
            if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef,
                                 ast.AsyncFunctionDef))
            and node.body and isinstance(node.body[0], ast.Expr)
            and isinstance(node.body[0].value, ast.Constant)}


def _clinical_literals(path, numbers, distinctive) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = _docstrings(tree)
    compared = {id(operand) for node in ast.walk(tree) if isinstance(node, ast.Compare)
                for operand in (node.left, *node.comparators)}
    written = "|".join(re.escape(f"{n:g}") for n in sorted(numbers, reverse=True))
    in_text = re.compile(rf"(<=?|>=?|\u2264|\u2265)\s*({written})(?![\w.])")
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Constant) or id(node) in docstrings:
            continue
        value = node.value
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            if (path.name, value) in CLINICAL_LITERALS_ALLOWED:
                continue
            if value in distinctive or (isinstance(value, float) and value in numbers
                                        and id(node) in compared):
                found.append(f"{path.relative_to(PACKAGE)}:{node.lineno}: {value!r}")
        elif isinstance(value, str) and in_text.search(value):
            found.append(f"{path.relative_to(PACKAGE)}:{node.lineno}: {value[:60]!r}")
    return found


def test_clinical_numbers_are_written_only_in_the_codebook_module():
    # Cut-offs, ranges and MCIDs are defined once, with their sources, in helpers.vocab;
    # every other module reads them from there (comments and docstrings may cite them).
    numbers, distinctive = _clinical_numbers()
    assert {2.6, 3.2, 5.1, 7.5, 28, 105} <= distinctive  # what the rule is about
    found = [hit for path in sorted(PACKAGE.rglob("*.py")) if path.name != "vocab.py"
             for hit in _clinical_literals(path, numbers, distinctive)]
    assert not found, "clinical numbers outside helpers.vocab:\n" + "\n".join(found)


def test_the_clinical_literal_check_catches_what_it_is_for(tmp_path):
    numbers, distinctive = _clinical_numbers()
    sample = PACKAGE / "_sample_for_the_check.py"
    try:
        sample.write_text('"""Remission below 2.6 (a docstring may cite it)."""\n'
                          "def f(x, n):\n    return x < 2.6, x - 1.2 > 0.6, n == 4, "
                          "'Target \u2264 5 mg', '4 mg'\n"
                          "WIDTH = 0.6\n", encoding="utf-8")
        found = _clinical_literals(sample, numbers, distinctive)
    finally:
        sample.unlink()
    assert {hit.split(": ", 1)[1] for hit in found} == {"2.6", "0.6", "'Target \u2264 5 mg'"}
