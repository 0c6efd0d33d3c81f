"""Mutated measurement files: a located one-line error or a clean analysis, never a
traceback, and never a partial output folder.

Hypothesis mutates a valid cohort file (cells replaced by hostile or random text, bytes
inserted or deleted, lines dropped or repeated). Each mutant either fails validation,
in which case ``make analysis``'s command exits 1 with one ``error:`` line and creates
no output folder, or passes it, in which case the statistics the notebooks run
(``paired_tests``, the responder table, the direction counts) complete on it.
"""

from __future__ import annotations

import warnings

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from helpers.analysis.narrative import direction_counts
from helpers.data.reader import read_measurements
from helpers.errors import InputError
from helpers.paired import NormalApproximationWarning, paired_tests
from helpers.pipeline import cohort
from helpers.scores import responder_table

pytestmark = pytest.mark.slow

HEADER = "patient_id,measure,timepoint,month,value,unit"
ROWS = [
    "1,das28,baseline,0,5.2,points", "1,das28,last,6,2.1,points",
    "2,das28,baseline,0,4.4,points", "2,das28,last,9,3.9,points",
    "3,sledai2k,baseline,0,8,points", "3,sledai2k,last,12,2,points",
    "3,gc_mg_day,baseline,0,7.5,mg/day", "3,gc_mg_day,last,12,2.5,mg/day",
]
NASTY = ["", " ", "NaN", "inf", "-0", "1e309", "0x1F", "\u0663", "\uff11", "1,5", '"',
         "'", "=1+1", "@x", "\t", "\r", "\x00", "<script>", "baseline", "last", "-1",
         "99999", "1" * 500, "\u200b", "\ufeff", "das28", "gc_mg_day", "é", "😀"]

cells = st.one_of(st.sampled_from(NASTY), st.text(max_size=12))


@st.composite
def mutants(draw) -> bytes:
    lines = [HEADER, *ROWS]
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["cell", "cell", "line", "bytes"]))
        if kind == "cell":
            index = draw(st.integers(0, len(lines) - 1))
            fields = lines[index].split(",")
            fields[draw(st.integers(0, len(fields) - 1))] = draw(cells)
            lines[index] = ",".join(fields)
        elif kind == "line":
            index = draw(st.integers(1, len(lines) - 1))
            if draw(st.booleans()):
                del lines[index]
            else:
                lines.insert(index, lines[index])
        else:
            data = "\n".join(lines).encode("utf-8")
            at = draw(st.integers(0, len(data)))
            data = data[:at] + draw(st.binary(max_size=4)) + data[at + draw(st.integers(0, 3)):]
            return data
    return ("\n".join(lines) + "\n").encode("utf-8")


@settings(max_examples=300, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture,
                                 HealthCheck.too_slow])
@given(data=mutants())
def test_a_mutated_file_fails_cleanly_or_analyses_cleanly(data, tmp_path_factory, capsys):
    folder = tmp_path_factory.mktemp("fuzz")
    path = folder / "cohort.csv"
    path.write_bytes(data)
    try:
        frame = read_measurements(path)
    except InputError:
        status = cohort.main(["--data", str(path), "--out", str(folder / "out"), "--quiet"])
        err = capsys.readouterr().err.strip().splitlines()
        assert status == 1 and len(err) == 1 and err[0].startswith("error: "), err
        assert len(err[0]) < 400
        assert not (folder / "out").exists()
        assert sorted(p.name for p in folder.iterdir()) == ["cohort.csv"]
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NormalApproximationWarning)
        try:
            paired_tests(frame)
        except ValueError as error:  # a valid file with nothing to compare is said so
            assert "no follow-up rows" in str(error) or "no rows with timepoint" in str(error)
        responder_table(frame)
        direction_counts(frame)
