"""Atomic writes, checksums and strict CSV reading."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from helpers import paths
from helpers.errors import InputError
from helpers.data.decode import read_csv_text
from helpers.io import (atomic_write, neutralise_formulas, sha256, verify_checksums,
                        write_csv)
from helpers.formats import SIGNIFICANT_DIGITS, format_float, round_significant


def test_atomic_write_keeps_previous_file_on_error(tmp_path):
    target = tmp_path / "out.csv"
    target.write_text("previous\n")
    with pytest.raises(RuntimeError):
        with atomic_write(target) as handle:
            handle.write("half")
            raise RuntimeError("interrupted")
    assert target.read_text() == "previous\n"
    assert list(tmp_path.iterdir()) == [target]  # no temporary file left behind


def test_write_csv_is_deterministic_and_neutralises_formulas(tmp_path):
    frame = pd.DataFrame({"text": ["=cmd|' /C calc'!A0", "ok", "-x", "@SUM(1)"],
                          "number": [-1.5, 0.1 + 0.2, 2.0, 1e-20]})
    first = write_csv(frame, tmp_path / "a.csv").read_bytes()
    second = write_csv(frame, tmp_path / "b.csv").read_bytes()
    assert first == second
    assert first.decode().splitlines() == [
        "text,number",
        "'=cmd|' /C calc'!A0,-1.5",  # neutralised text; negative number untouched
        "ok,0.3",                     # 0.30000000000000004 at 12 significant digits
        "'-x,2.0",
        "'@SUM(1),1e-20",
    ]
    assert neutralise_formulas(pd.DataFrame({"n": [-1, 2]}))["n"].tolist() == [-1, 2]


def _ulps(values, k):
    """``values`` moved by ``k`` units in the last place (k may be negative).

    Exact zeros stay zero: the ulps of 0 are subnormal numbers, not the relative noise of
    a computation (which is what differs between CPUs).
    """
    values = np.asarray(values, dtype=float)
    out = values.copy()
    target = np.inf if k > 0 else -np.inf
    for _ in range(abs(k)):
        out = np.nextafter(out, target)
    return np.where(values == 0, values, out)


def test_format_float_by_hand():
    # Twelve significant digits, then the shortest form that reads back (by hand).
    assert SIGNIFICANT_DIGITS == 12
    assert format_float(0.39451723305908454) == "0.394517233059"
    assert format_float(1 / 3) == "0.333333333333"
    assert format_float(123456789012345.0) == "123456789012000.0"
    assert format_float(-2.7499999999999996) == "-2.75"
    assert format_float(2.0) == "2.0"
    assert format_float(1.5e-300) == "1.5e-300"
    assert format_float(float("inf")) == "inf"


def test_written_bytes_ignore_last_bit_noise(tmp_path):
    # The cross-machine difference reported for meta_pooled.csv (REML row, AMD EPYC vs
    # the committing machine) and a few values of each kind, moved by 1 to 4 ulps.
    values = np.array([0.3945172330590846, 0.3201936993539803, 4.9399999999999995,
                       2.1900000000000004, 0.30000000000000004, -5.333333333333333, 0.125])
    assert format_float(0.39451723305908454) == format_float(0.3945172330590846)
    reference = write_csv(pd.DataFrame({"x": values}), tmp_path / "ref.csv").read_bytes()
    for k in (-4, -1, 1, 4):
        moved = write_csv(pd.DataFrame({"x": _ulps(values, k)}), tmp_path / f"{k}.csv")
        assert moved.read_bytes() == reference, k


def _committed_tables():
    return sorted([*paths.TABLES.glob("*.csv"), *paths.DATA_PROCESSED.glob("*.csv")])


@pytest.mark.parametrize("table", _committed_tables(), ids=lambda p: p.name)
def test_every_committed_number_is_robust_to_last_bit_noise(table, tmp_path):
    """Each committed CSV, written again from its values moved by 1-4 ulps, is unchanged.

    A value within a few ulps of a rounding boundary at 12 digits would make the file
    depend on the CPU; none of the committed values is.
    """
    frame = pd.read_csv(table, keep_default_na=False, na_values=[""])
    floats = [c for c in frame.columns if pd.api.types.is_float_dtype(frame[c])]
    reference = write_csv(frame, tmp_path / "ref.csv").read_bytes()
    assert reference == table.read_bytes()  # the writer reproduces the committed file
    for k in (-4, -2, -1, 1, 2, 4):
        moved = frame.copy()
        for column in floats:
            moved[column] = _ulps(frame[column], k)
        assert write_csv(moved, tmp_path / "moved.csv").read_bytes() == reference, (table, k)


def test_round_significant_keeps_types_and_text():
    frame = pd.DataFrame({"f": [1 / 3, np.nan], "i": [1, 2], "s": ["a", "b"],
                          "o": pd.Series([2.7499999999999996, "text"], dtype=object)})
    out = round_significant(frame)
    assert out["f"].tolist()[0] == 0.333333333333 and np.isnan(out["f"].tolist()[1])
    assert out["i"].dtype == frame["i"].dtype and out["s"].tolist() == ["a", "b"]
    assert out["o"].tolist() == [2.75, "text"]
    assert round_significant(np.array([1 / 3])).tolist() == [0.333333333333]
    assert round_significant(7) == 7


def test_verify_checksums_of_the_committed_raw_data():
    digests = verify_checksums(paths.DATA_RAW)
    assert set(digests) == {paths.RAW_TABLE1, paths.RAW_TABLE2, paths.RAW_REVIEW}
    assert digests[paths.RAW_TABLE2] == sha256(paths.DATA_RAW / paths.RAW_TABLE2)


def test_verify_checksums_detects_a_changed_raw_file(raw_copy):
    with open(raw_copy / paths.RAW_TABLE2, "a") as handle:
        handle.write("\n")
    with pytest.raises(InputError, match="table2_disease_course.csv: checksum mismatch"):
        verify_checksums(raw_copy)


def test_verify_checksums_detects_a_missing_file(raw_copy):
    (raw_copy / paths.RAW_REVIEW).unlink()
    with pytest.raises(InputError, match="listed in SHA256SUMS but missing"):
        verify_checksums(raw_copy)


HEADER = "patient_id,measure,timepoint,month,value,unit\n"
COLUMNS = ["patient_id", "measure", "timepoint", "month", "value", "unit"]


@pytest.mark.parametrize(("content", "message"), [
    (b"", "file is empty"),
    (HEADER.encode(), "has a header but no data rows"),
    (b"\xef\xbb\xbf" + HEADER.encode() + b"1,das28,baseline,0,2.1,points\n",
     "row 0 (line 1): starts with a byte-order mark"),
    (HEADER.encode() + b"1,das28,baseline,0,2.1,p\xe9\n",
     "row 1 (line 2), column 'unit': is not valid UTF-8 (byte 0xe9)"),
    (HEADER.replace(",", ";").encode() + b"1;das28;baseline;0;2.1;points\n",
     "is not comma-separated"),
    (HEADER.encode() + b"1,das28,baseline,0,2.1\n", "row 1 (line 2): has 5 fields where"),
    (HEADER.encode() + b'1,das28,baseline,0,2.1,"po\nints"\n',
     "row 1 (line 2), column 'unit': cell contains a line break"),
    (HEADER.replace("value", "score").encode() + b"1,das28,baseline,0,2.1,points\n",
     "column 'value': required column is missing (found unexpected 'score')"),
    (HEADER.replace("\n", ",extra\n").encode() + b"1,das28,baseline,0,2.1,points,x\n",
     "column 'extra': unexpected column"),
])
def test_read_csv_text_errors(tmp_path, content, message):
    path = tmp_path / "m.csv"
    path.write_bytes(content)
    with pytest.raises(InputError) as error:
        read_csv_text(path, COLUMNS)
    assert message in str(error.value)
    assert str(error.value).startswith(str(path))


def test_read_csv_text_keeps_words_that_look_like_missing(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("a,b\nNone,NA\n")
    frame = read_csv_text(path, ["a", "b"])
    assert frame.loc[1].tolist() == ["None", "NA"]
    with pytest.raises(InputError, match="file not found"):
        read_csv_text(tmp_path / "missing.csv")
