"""data/processed holds exactly the values printed in the paper's Table 2.

Independent source: Cassone et al., J. Pers. Med. 2025, 15, 546, Table 2, typed by hand
in tests/support/paper.py (not read from data/raw), compared with the committed
data/processed/measurements.csv.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from helpers import paths

from support.paper import LAST_MONTH, TABLE2


@pytest.fixture(scope="module")
def measurements():
    return pd.read_csv(paths.DATA_PROCESSED / paths.MEASUREMENTS)


@pytest.mark.parametrize("measure", sorted(TABLE2))
def test_values_equal_table2(measurements, measure):
    wide = (measurements[measurements["measure"] == measure]
            .pivot(index="patient_id", columns="timepoint", values="value"))
    got = wide[["baseline", "last"]].to_numpy()
    want = np.array(TABLE2[measure], dtype=float).T  # patients 1..4 x (baseline, last)
    # Printed to two decimals; stored exactly as printed.
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-12, equal_nan=True)


def test_months(measurements):
    last = measurements[measurements["timepoint"] == "last"].groupby("patient_id")["month"]
    assert last.unique().map(list).to_dict() == {p + 1: [m] for p, m in enumerate(LAST_MONTH)}
    assert (measurements.loc[measurements["timepoint"] == "baseline", "month"] == 0).all()


def test_contract_columns(measurements):
    assert measurements.columns.tolist() == ["patient_id", "measure", "timepoint", "month",
                                             "value", "unit"]
    assert len(measurements) == 4 * 3 * 2
