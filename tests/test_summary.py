"""Cohort summary against counts made by hand from the paper's Tables 1 and 2."""

from __future__ import annotations

import pandas as pd
import pytest

from helpers import paths
from helpers.data.paper_tables import clean_tables
from helpers.analysis.summary import cohort_summary


@pytest.fixture(scope="module")
def summary():
    tables = clean_tables(paths.DATA_RAW)
    frame = cohort_summary(tables[paths.PATIENTS], tables[paths.THERAPIES])
    return frame.set_index(["section", "characteristic"])


def test_demographics(summary):
    # Ages 49, 38, 56, 50 -> median (49 + 50) / 2 = 49.5, range 38-56.
    assert summary.loc[("demographics", "age, median (range)"), "value"] == "49.5 (38–56) years"
    # Durations 15, 60, 192, 168 months -> median (60 + 168) / 2 = 114.
    assert summary.loc[("demographics", "disease duration, median (range)"),
                       "value"] == "114 (15–192) months"
    # Anifrolumab 12, 9, 14, 4 months -> median (9 + 12) / 2 = 10.5.
    assert summary.loc[("demographics", "anifrolumab duration, median (range)"),
                       "value"] == "10.5 (4–14) months"
    assert summary.loc[("demographics", "sex: F"), "value"] == "4/4 (100%)"
    assert summary.loc[("demographics", "ethnicity: Caucasian"), "n"] == 2


def test_therapies_and_antibodies(summary):
    # Table 1: anti-dsDNA in patients 1, 2, 4; anti-SSA(/Ro) in 1, 2, 3.
    assert summary.loc[("autoantibodies (reported positive)", "anti-dsDNA"), "n"] == 3
    assert summary.loc[("autoantibodies (reported positive)", "anti-SSA/Ro"), "n"] == 3
    # Every patient had glucocorticoids and hydroxychloroquine before; RTX in 3 and 4.
    assert summary.loc[("previous therapies", "hydroxychloroquine"), "n"] == 4
    assert summary.loc[("previous therapies", "rituximab"), "n"] == 2
    assert summary.loc[("previous therapies", "any biologic or JAK inhibitor"), "n"] == 2
    # HCQ intolerance in patients 1 and 2.
    assert summary.loc[("treatment intolerance", "hydroxychloroquine"), "n"] == 2
    # Concomitant MTX in patients 2 and 3.
    assert summary.loc[("concomitant therapy at anifrolumab start", "methotrexate"), "n"] == 2


def test_missing_organ_involvement_is_excluded_from_the_denominator(summary):
    assert summary.loc[("other organ involvement", "cutaneous"), "value"] == (
        "3/3 (100%); not reported for 1")


def test_without_therapies():
    patients = pd.read_csv(paths.DATA_PROCESSED / paths.PATIENTS)
    frame = cohort_summary(patients)
    assert "previous therapies" not in set(frame["section"])
