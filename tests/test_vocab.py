"""The one vocabulary: yes/no answers, measures, and that nothing redefines them."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from helpers import paths
from helpers.vocab import BASELINE, MEASURE_CODES, MEASURES, measure_name, parse_yes_no


@pytest.mark.parametrize(("value", "expected"), [
    ("Yes", True), ("no", False), (" Y ", True), ("n", False), ("TRUE", True), ("false", False),
    (1, True), (0, False), ("1.0", True), (True, True), (np.bool_(False), False),
    (None, None), (np.nan, None), (pd.NA, None), ("", None), ("NA", None), ("none", None),
])
def test_lenient_yes_no(value, expected):
    assert parse_yes_no(value) is expected


def test_strict_yes_no_reads_only_what_the_paper_prints():
    assert parse_yes_no(" Yes", strict=True) is True
    assert parse_yes_no("No", strict=True) is False
    for value in ["yes", "Y", "", None, "NA", 1]:
        with pytest.raises(ValueError, match="expected 'Yes' or 'No'"):
            parse_yes_no(value, strict=True)


def test_unknown_answer_names_the_field():
    with pytest.raises(ValueError, match="response_paper must be yes/no"):
        parse_yes_no("maybe", "response_paper")


def test_measures():
    assert MEASURE_CODES == ("sledai2k", "das28", "gc_mg_day")
    assert BASELINE == "baseline"
    assert measure_name("das28") == "DAS28" and measure_name("crp") == "CRP"
    assert measure_name("not_a_measure") == "not_a_measure"
    # SLEDAI-2K is an integer 0-105 (Gladman 2002); DAS28 0-10; GC >= 0 mg/day.
    sledai = MEASURES["sledai2k"]
    assert (sledai.low, sledai.high, sledai.integer) == (0, 105, True)
    assert MEASURES["gc_mg_day"].unit == "mg/day"


def test_no_module_redefines_the_vocabulary():
    """The measure list, the baseline label and yes/no parsing live only in vocab."""
    package = paths.ROOT / "src" / "helpers"
    patterns = {
        "a measure list": re.compile(r"\(\s*\"sledai2k\",\s*\"das28\",\s*\"gc_mg_day\"\s*\)"),
        "the baseline label": re.compile(r"=\s*\"baseline\""),
        "yes/no parsing": re.compile(r"def parse_yes_no"),
        "a unit table": re.compile(r"\"gc_mg_day\":\s*\"mg/day\""),
    }
    for module in sorted(package.rglob("*.py")):
        if module.name == "vocab.py":
            continue
        text = module.read_text(encoding="utf-8")
        for what, pattern in patterns.items():
            assert not pattern.search(text), f"{module.relative_to(package)} defines {what}"
