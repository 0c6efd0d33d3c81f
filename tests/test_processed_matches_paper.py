"""data/processed holds exactly the values printed in the paper's Table 2.

Independent source: Cassone et al., J. Pers. Med. 2025, 15, 546, Table 2, typed here by
hand (not read from data/raw), compared with the committed data/processed/measurements.csv.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from helpers import paths

# patient: (baseline, last); Table 2 columns "... before ANI" and "... Last Clinical Evaluation".
SLEDAI = {1: (13, 2), 2: (6, 1), 3: (6, 0), 4: (0, 0)}
DAS28 = {1: (7.22, 2.18), 2: (5.59, 1.89), 3: (4.57, 2.31), 4: (2.38, 2.38)}
# Baseline from "Concomitant Therapy *" ("GCs (8 mg)"); patient 1 had 40 mg IV monthly
# pulses, so no daily dose: missing. Last from "GCs Last Clinical Evaluation".
GC = {1: (np.nan, 0), 2: (8, 0), 3: (6, 4), 4: (8, 2)}
MONTHS_LAST = {1: 12, 2: 9, 3: 14, 4: 4}  # "Duration of ANI Therapy (Months)"


@pytest.fixture(scope="module")
def measurements():
    return pd.read_csv(paths.DATA_PROCESSED / paths.MEASUREMENTS)


@pytest.mark.parametrize(("measure", "expected"), [
    ("sledai2k", SLEDAI), ("das28", DAS28), ("gc_mg_day", GC)])
def test_values_equal_table2(measurements, measure, expected):
    wide = (measurements[measurements["measure"] == measure]
            .pivot(index="patient_id", columns="timepoint", values="value"))
    got = wide[["baseline", "last"]].to_numpy()
    want = np.array([expected[p] for p in sorted(expected)], dtype=float)
    # Printed to two decimals; stored exactly as printed.
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-12, equal_nan=True)


def test_months(measurements):
    last = measurements[measurements["timepoint"] == "last"].groupby("patient_id")["month"]
    assert last.unique().map(list).to_dict() == {p: [m] for p, m in MONTHS_LAST.items()}
    assert (measurements.loc[measurements["timepoint"] == "baseline", "month"] == 0).all()


def test_contract_columns(measurements):
    assert measurements.columns.tolist() == ["patient_id", "measure", "timepoint", "month",
                                             "value", "unit"]
    assert len(measurements) == 4 * 3 * 2
