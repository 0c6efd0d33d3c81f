"""Arrow's CSV reader (the fast path of large files) reads every cell as pandas did.

``helpers.data.decode`` reads a plain CSV (no quotes) with Arrow when every line has as
many fields as the first, and with pandas' parser otherwise. Both must give the same
grid of text cells, line numbers and widths, or the fast path must decline: a cell read
differently would be a silent misreading. The texts here are the awkward ones.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from helpers import paths
from helpers.data import decode
from helpers.errors import InputError

TEXTS = {
    "plain": "patient_id,measure,value\n1,das28,5.2\n2,das28,4.1\n",
    "no final newline": "a,b\n1,2\n3,4",
    "blank lines": "a,b\n\n1,2\n\n\n3,4\n\n",
    "empty cells": "a,b,c\n1,,3\n,,\n4,5,\n",
    "words pandas or Arrow could take as missing": "a,b\nNA,null\nNaN,None\n#N/A,-nan\n",
    "spaces kept": "a,b\n 1 , x \n2,  \n",
    "non-ASCII": "paziente,misura\n1,attività\n2,età 45\n3,ß→✓\n",
    "semicolons and decimal commas": "id;valore\n1;4,5\n2;3,25\n",
    "tabs": "id\tvalue\n1\t2.5\n",
    "one column": "value\n1\n2\n\n3\n",
    "trailing separator": "a,b,\n1,2,\n3,4,\n",
    "ragged (declined)": "a,b,c\n1,2\n3,4,5\n",
    "a line of spaces (declined)": "a,b\n1,2\n   \n3,4\n",
    "leading blank line (declined)": "\na,b\n1,2\n",
    "formula-looking": "a,b\n=1+1,@x\n-2,+3\n",
    "hash and backslash": "a,b\n#1,c:\\\\x\n2,\\\\n\n",
}


def _plain_without_arrow(text: str, separator: str, monkeypatch) -> decode.Grid | None:
    with monkeypatch.context() as patch:
        patch.setattr(decode, "_rectangular_grid", lambda *args: None)
        return decode._plain_grid(text, separator)


@pytest.mark.parametrize("name", list(TEXTS))
def test_arrow_reads_what_pandas_read_or_declines(name, monkeypatch):
    text = TEXTS[name]
    separator = decode.sniff_separator(text) or ","
    fast = decode._rectangular_grid(text.encode("utf-8"), separator)
    if "declined" in name:
        assert fast is None
        return
    assert fast is not None, "a rectangular plain file takes the fast path"
    slow = _plain_without_arrow(text, separator, monkeypatch)
    assert slow is not None
    pd.testing.assert_frame_equal(fast.cells, slow.cells)
    assert np.array_equal(fast.lines, slow.lines)
    assert np.array_equal(fast.widths, slow.widths)


def test_windows_line_ends_take_the_fast_path_too(monkeypatch):
    text = "a,b\r\n1,2\r\n\r\n3,4\r\n"
    grid = decode._plain_grid(text, ",")
    assert grid.cells.values.tolist() == [["a", "b"], ["1", "2"], ["3", "4"]]
    assert grid.lines.tolist() == [1, 2, 4]


def _repository_csvs():
    root = paths.ROOT
    return sorted({*root.glob("tests/**/*.csv"), *root.glob("data/**/*.csv")})


def test_every_csv_of_the_repository_reads_the_same_on_both_paths(monkeypatch):
    # The bad-input corpus, the clinic exports and the paper's tables: wherever the fast
    # path takes a file, it reads the cells pandas' parser read.
    taken = 0
    for path in _repository_csvs():
        try:
            text = decode._text(path, decode._read_bytes(path), strict=False, notes=[])
            separator = decode.sniff_separator(text) or ","
        except (InputError, ValueError):
            continue  # refused before any grid is read
        if '"' in text or text.count("\r") != text.count("\r\n"):
            continue  # the csv module's path
        fast = decode._rectangular_grid(text.replace("\r\n", "\n").encode("utf-8"), separator)
        if fast is None:
            continue
        taken += 1
        slow = _plain_without_arrow(text, separator, monkeypatch)
        pd.testing.assert_frame_equal(fast.cells, slow.cells, obj=str(path))
        assert np.array_equal(fast.lines, slow.lines), path
        assert np.array_equal(fast.widths, slow.widths), path
    assert taken >= 20  # the corpus exercises the fast path
