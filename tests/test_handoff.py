"""Read once: the table make analysis checked is handed to the notebooks as Parquet.

The notebooks must compute from exactly what a person re-running them on
``OUT/data/measurements.csv`` would read; the hand-off must refuse a file that changed;
and the fast paths under it (Arrow's number parser, rounding and formatting once per
distinct value) must give what the per-cell paths they replaced gave, bit for bit.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from helpers.data.reader import (read_cohort, read_measurements, validated_table,
                                 write_validated)
from helpers.data.schema import _parsed_numbers
from helpers.errors import InputError
from helpers.formats import _round_one, format_float, round_significant
from helpers.io import write_csv
from helpers.synth import make_cohort


@pytest.fixture
def cohort(tmp_path):
    data = tmp_path / "cohort.csv"
    frame = make_cohort(300, visits=3, seed=11, missing_rate=0.05,
                        measures=["sledai2k", "gc_mg_day"])
    # DAS28 from its components gives values with many digits (ln and square roots).
    rng = np.random.default_rng(11)
    visits = frame.drop_duplicates(["patient_id", "timepoint"])[
        ["patient_id", "timepoint", "month"]]
    parts = [visits.assign(measure=code, value=draw(len(visits)), unit=unit)
             for code, unit, draw in [
                 ("tjc28", "joints", lambda k: rng.integers(0, 29, k).astype(float)),
                 ("sjc28", "joints", lambda k: rng.integers(0, 29, k).astype(float)),
                 ("esr", "mm/h", lambda k: rng.integers(2, 120, k).astype(float)),
                 ("pga", "mm", lambda k: rng.integers(0, 101, k).astype(float))]]
    write_csv(pd.concat([frame, *parts], ignore_index=True)[frame.columns], data)
    return data


def test_the_hand_off_is_what_the_csv_for_people_reads_back(cohort, tmp_path):
    from helpers.scores import derive_das28

    frame, _ = read_cohort(cohort)
    frame = validated_table(derive_das28(frame)[0])
    digest = write_validated(frame, tmp_path / "m.parquet")
    write_csv(frame, tmp_path / "m.csv")
    handed = read_measurements(tmp_path / "m.parquet", sha256=digest)
    again = read_measurements(tmp_path / "m.csv", measures=None)
    assert "das28_esr" in set(handed["measure"])
    pd.testing.assert_frame_equal(handed, again)  # values, dtypes, order: exact


def test_a_hand_off_that_changed_is_refused_in_one_line(cohort, tmp_path):
    frame, _ = read_cohort(cohort)
    path = tmp_path / "m.parquet"
    digest = write_validated(validated_table(frame), path)
    path.write_bytes(path.read_bytes() + b"\0")
    with pytest.raises(InputError, match=r"m\.parquet: changed since make analysis "
                                         r"validated it .*run make analysis again") as error:
        read_measurements(path, sha256=digest)
    assert "\n" not in str(error.value)
    with pytest.raises(InputError, match="cannot be read"):
        read_measurements(tmp_path / "absent.parquet", sha256=digest)


# Edge values: signed zeros, NaN, subnormals, huge and tiny, values that round at the
# 12th digit, and the same value many times (the distinct-value paths).
EDGES = np.array([0.0, -0.0, np.nan, 5e-324, 1.7976931348623157e308, 1e-20, 0.1, 2.0,
                  2.7499999999999996, 0.39451723305908454, -123456789012.5, 1e16, 3.25])


def _values(seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    noise = rng.normal(size=5000) * 10.0 ** rng.integers(-12, 12, size=5000)
    return np.concatenate([EDGES, noise, np.repeat(EDGES, 50), rng.integers(0, 30, 5000)
                           .astype(float)])


def test_rounding_once_per_distinct_value_is_rounding_each_value():
    values = _values(1)
    expected = np.array([_round_one(x) for x in values])
    got = round_significant(values)
    assert np.array_equal(got.view(np.int64)[~np.isnan(values)],
                          expected.view(np.int64)[~np.isnan(values)])
    assert np.isnan(got[np.isnan(values)]).all()
    series = round_significant(pd.Series(values, name="v"))
    assert np.array_equal(series.to_numpy(), got, equal_nan=True) and series.name == "v"


def test_write_csv_writes_the_bytes_pandas_float_format_wrote(tmp_path):
    values = _values(2)
    frame = pd.DataFrame({"id": np.arange(len(values)), "x": values,
                          "y": values[::-1].copy(), "label": "a"})
    write_csv(frame, tmp_path / "fast.csv")
    reference = frame.to_csv(index=False, lineterminator="\n", float_format=format_float)
    assert (tmp_path / "fast.csv").read_text() == reference


def test_arrows_number_parser_agrees_with_pandas_to_the_bit():
    rng = np.random.default_rng(3)
    x = rng.normal(size=20000) * 10.0 ** rng.integers(-300, 300, size=20000)
    texts = ([repr(float(v)) for v in x] + [f"{v:.25e}" for v in x] + [f"{v:.3f}" for v in x]
             + ["", "+.5", "-0", "1E5", "007", "9" * 40])
    cells = pd.Series(texts, dtype="str")
    got = _parsed_numbers(cells)
    expected = pd.to_numeric(cells.replace("", np.nan)).astype(float)
    assert np.array_equal(got.to_numpy(), expected.to_numpy(), equal_nan=True)
    # Text held as Python objects (not Arrow strings) takes pandas' own path.
    assert _parsed_numbers(pd.Series(["1.5", ""], dtype=object)).tolist()[0] == 1.5
