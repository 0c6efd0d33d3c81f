"""The README's promises: its commands exist, CI runs its test command, its numbers are current."""

from __future__ import annotations

import re
import struct
import subprocess

import pandas as pd

from helpers import paths
from scripts.screenshot import SCREEN

README = (paths.ROOT / "README.md").read_text(encoding="utf-8")


def test_ci_runs_the_readmes_test_command():
    assert "make test" in README
    script = (paths.ROOT / ".ci" / "run").read_text()
    commands = [line.strip() for line in script.splitlines()
                if line.strip() and not line.lstrip().startswith("#")]
    assert commands[-1] == "make test"


def test_every_make_target_in_the_readme_exists():
    help_text = subprocess.run(["make", "-s", "help"], cwd=paths.ROOT, capture_output=True,
                               text=True, check=True).stdout
    listed = set(re.findall(r"^\s+(?:\x1b\[1m)?([a-z]+)", help_text, re.M))
    mentioned = set(re.findall(r"`make ([a-z]+)", README))
    assert mentioned <= listed, mentioned - listed


def test_readme_summary_matches_the_tables():
    prepost = pd.read_csv(paths.TABLES / "prepost.csv").set_index("outcome")
    sledai, das28 = prepost.loc["sledai2k"], prepost.loc["das28"]
    assert f"SLEDAI-2K fell by {-sledai['change_mean']:.1f} points" in README
    assert f"p = {sledai['t_p_value']:.3f}" in README
    assert f"DAS28 by {-das28['change_mean']:.2f} (p = {das28['t_p_value']:.3f})" in README
    pooled = pd.read_csv(paths.TABLES / "meta_pooled.csv").set_index(
        ["analysis", "transform", "method", "test"])
    review = pooled.loc[("review", "logit", "REML", "knha")]
    assert (f"{100 * review['estimate']:.0f}% (95% CI {100 * review['ci_low']:.0f}–"
            f"{100 * review['ci_high']:.0f}%)") in README
    power = pd.read_csv(paths.TABLES / "power.csv")
    das28 = power[(power["measure"] == "das28") & (power["test"] == "wilcoxon")]
    needed = int(das28.loc[das28["power"] >= 0.8, "n"].min())
    assert f"would need {needed}\npatients for 80% power on DAS28" in README
    both = pooled.loc[("review+case_series", "logit", "REML", "knha")]
    assert (f"{100 * both['estimate']:.0f}% ({100 * both['ci_low']:.0f}–"
            f"{100 * both['ci_high']:.0f}%) with this series") in README
    bayes = pd.read_csv(paths.TABLES / "meta_bayes.csv").set_index(["analysis", "tau_scale"])
    narrow, wide = (bayes.loc[("review+case_series", scale)] for scale in (0.5, 1.0))
    assert (f"gives {100 * narrow['estimate']:.0f}% (95% credible\ninterval "
            f"{100 * narrow['ci_low']:.0f}–{100 * narrow['ci_high']:.0f}%) with scale 0.5 and "
            f"{100 * wide['estimate']:.0f}% ({100 * wide['ci_low']:.0f}–"
            f"{100 * wide['ci_high']:.0f}%) with scale 1") in README


def test_readme_shows_the_reports_first_screen():
    # Retaken by `make screenshot`; not compared byte for byte (font rendering differs
    # between machines), but it must be there and be the first screen.
    assert "](docs/report-screenshot.png)" in README
    png = (paths.ROOT / "docs" / "report-screenshot.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", png[16:24]) == (SCREEN["width"], SCREEN["height"])


def test_every_helpers_name_in_the_docs_resolves():
    """A dotted ``helpers....`` name in the README or docs/ names a module or an object of
    one: a renamed function cannot leave a stale name behind."""
    import importlib

    texts = [README] + [p.read_text(encoding="utf-8")
                        for p in sorted((paths.ROOT / "docs").glob("*.md"))]
    names = {name.rstrip(".") for text in texts
             for name in re.findall(r"\bhelpers(?:\.[A-Za-z_][A-Za-z0-9_]*)+", text)}
    assert len(names) > 30
    unresolved = []
    for name in sorted(names):
        parts = name.split(".")
        for cut in range(len(parts), 0, -1):
            try:
                target = importlib.import_module(".".join(parts[:cut]))
            except ModuleNotFoundError:
                continue
            try:
                for attribute in parts[cut:]:
                    target = getattr(target, attribute)
            except AttributeError:
                unresolved.append(name)
            break
        else:
            unresolved.append(name)
    assert not unresolved, unresolved


def test_no_doc_miscounts_the_notebooks():
    count = len(list((paths.ROOT / "notebooks").glob("0*.ipynb")))
    words = {4: "four", 5: "five", 6: "six"}
    for name in ("README.md", "docs/architecture.md", "Makefile"):
        text = (paths.ROOT / name).read_text(encoding="utf-8")
        for n, word in words.items():
            if n != count:
                assert f"{word} notebooks" not in text.lower(), (name, word)


def test_the_library_pages_examples_run_as_written():
    # docs/library.md: one worked example each for paired tests, scores, pooling and
    # figures, executed here as doctests (a changed output fails, naming the example).
    import doctest

    result = doctest.testfile(str(paths.ROOT / "docs" / "library.md"),
                              module_relative=False, optionflags=doctest.ELLIPSIS)
    assert result.attempted >= 20 and result.failed == 0, result
