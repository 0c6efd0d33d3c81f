"""Atomic writes, checksums and strict CSV reading."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from helpers import io as io_module, paths
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


#: Text a CSV writer can get wrong: separators, quotes, line breaks (a carriage return
#: alone is not quoted by Python's csv module with a "\n" terminator), spaces, formulas,
#: non-ASCII, empty and missing cells.
_AWKWARD_TEXT = ["x\ry", "a,b", 'q"q', "p\nq", " s ", "", None, "é", "\t", "=cmd", "-1",
                 "plain", '"', ",", "'quoted'", "line\r\n"]


def _awkward_table(rows: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    text = np.array(_AWKWARD_TEXT, dtype=object)
    counts = pd.array(rng.integers(0, 3, rows), dtype="Int64")
    counts[::7] = pd.NA
    return pd.DataFrame({
        "text": rng.choice(text, rows),
        "number": rng.normal(size=rows) * 10.0 ** rng.integers(-8, 8, rows),
        "count": rng.integers(-5, 5, rows),
        "flag": rng.random(rows) > 0.5,
        "nullable": counts,
        "sparse": np.where(rng.random(rows) > 0.5, np.nan, rng.random(rows) * 1e-7),
        "label": pd.Series(rng.choice(text, rows), dtype="str"),
        "nothing": pd.Series([None] * rows, dtype=object),
        "signed_zero": rng.choice([0.0, -0.0, 1.5], rows),
        "category": pd.Categorical(rng.choice(np.array(["good", "a,b", 'q"q', None],
                                                       dtype=object), rows),
                                   categories=["good", "a,b", 'q"q', "unused"]),
        "maybe": pd.array(np.where(rng.random(rows) > 0.7, None, rng.random(rows) > 0.5),
                          dtype="boolean")})


def _written(frame, path, monkeypatch, fast_from):
    monkeypatch.setattr(io_module, "FAST_CSV_ROWS", fast_from)
    return write_csv(frame, path).read_bytes()


@pytest.mark.parametrize(("seed", "block_rows"), [(0, 10**6), (1, 333), (2, 1)])
def test_the_arrow_writer_writes_the_bytes_pandas_writes(tmp_path, monkeypatch, seed,
                                                         block_rows):
    """Large tables are built column-wise in Arrow, in blocks of rows: the same bytes as
    pandas' to_csv path (the reference here), cell for cell, on text and numbers that
    are easy to get wrong, and the caller's table unchanged."""
    monkeypatch.setattr(io_module, "CSV_BLOCK_ROWS", block_rows)
    frame = _awkward_table(2_000, seed)
    before = frame.copy()
    by_pandas = _written(frame, tmp_path / "pandas.csv", monkeypatch, 10**12)
    by_arrow = _written(frame, tmp_path / "arrow.csv", monkeypatch, 0)
    assert by_arrow == by_pandas
    pd.testing.assert_frame_equal(frame, before)
    # Spot checks written out by hand (Python's csv module, QUOTE_MINIMAL).
    lines = by_arrow.decode()
    assert ',"a,b",' in lines or '"a,b",' in lines
    assert '"q""q"' in lines and "'=cmd" in lines and "'-1" in lines


@pytest.mark.parametrize("name", ["measurements.csv", "patients.csv", "studies.csv",
                                  "therapies.csv"])
def test_the_arrow_writer_rewrites_the_processed_tables_byte_for_byte(
        tmp_path, monkeypatch, name):
    committed = paths.DATA_PROCESSED / name
    frame = pd.read_csv(committed, keep_default_na=False, na_values=[""])
    assert _written(frame, tmp_path / name, monkeypatch, 0) == committed.read_bytes()


def test_tables_the_arrow_writer_does_not_cover_are_left_to_pandas(tmp_path, monkeypatch):
    one_column = pd.DataFrame({"x": ["", "a", None]})  # an empty row is written ""
    mixed = pd.DataFrame({"x": [1.5, "a", 2], "y": [1, 2, 3]})  # numbers inside text
    dates = pd.DataFrame({"d": pd.to_datetime(["2024-01-02", None]), "y": [1, 2]})
    numbered = pd.DataFrame({"c": pd.Categorical([1, 2]), "y": [1, 2]})  # not text
    for frame in (one_column, mixed, dates, numbered):
        assert (_written(frame, tmp_path / "arrow.csv", monkeypatch, 0)
                == _written(frame, tmp_path / "pandas.csv", monkeypatch, 10**12))
    assert _written(one_column, tmp_path / "one.csv", monkeypatch, 0) == b'x\n""\na\n""\n'


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
