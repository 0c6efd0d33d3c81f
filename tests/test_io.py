"""Atomic writes, checksums and strict CSV reading."""

from __future__ import annotations

import pandas as pd
import pytest

from helpers import paths
from helpers.errors import InputError
from helpers.io import (atomic_write, neutralise_formulas, read_csv_text, sha256,
                        verify_checksums, write_csv)


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
        "ok,0.30000000000000004",     # shortest round-trip repr of the float
        "'-x,2.0",
        "'@SUM(1),1e-20",
    ]
    assert neutralise_formulas(pd.DataFrame({"n": [-1, 2]}))["n"].tolist() == [-1, 2]


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
     "row 1 (line 2), column 'unit': not valid UTF-8 (byte 0xe9)"),
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
