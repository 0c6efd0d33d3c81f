"""Real clinic exports: each is read exactly as it was written, or stops with one line.

The corpus (:mod:`support.exports`) writes 40+ files from known cohorts the way hospital
systems, Excel in Italian and German locales, REDCap and lab systems write them. An
export that runs must give every value of the cohort it was written from (compared in the
codebook's units, to a relative 1e-12: conversions such as mg/dL x 10 round in the last
bit); one that must stop must raise one line naming the input, and run nothing. No export
may run with a wrong number.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from support.exports import DAYS_PER_MONTH, KINDS, Export, corpus, sort, write_xlsx

from helpers import paths
from helpers.data.patients import read_patients
from helpers.data.reader import read_cohort
from helpers.errors import InputError
from helpers.pipeline import cohort
from helpers.scores import derive_das28

EXPORTS = corpus()


def _read(export: Export, path):
    return read_cohort(path, argument="DATA", **export.options)


def test_the_corpus_covers_every_kind_locale_size_and_format(tmp_path):
    assert len(EXPORTS) >= 40
    # The README says how many there are.
    readme = (paths.ROOT / "README.md").read_text(encoding="utf-8")
    assert f"`tests/support/exports.py`, {len(EXPORTS)} files written" in readme
    assert len({e.name for e in EXPORTS}) == len(EXPORTS)
    covered = {kind for e in EXPORTS for kind in e.kinds}
    assert covered == set(KINDS)
    for kind in KINDS:  # every kind has an export that runs
        assert any(kind in e.kinds and e.truth is not None for e in EXPORTS), kind
    assert {e.locale for e in EXPORTS} >= {"en", "it", "de", "es", "fr"}
    sizes = [e.patients for e in EXPORTS if e.truth is not None]
    assert min(sizes) == 3 and max(sizes) == 5000
    suffixes = {e.write(tmp_path / e.name if (tmp_path / e.name).mkdir() is None else None
                        ).suffix for e in EXPORTS if e.patients < 1000}
    assert {".csv", ".xlsx", ".txt"} <= suffixes
    assert any(e.name.endswith("_parquet") for e in EXPORTS)
    assert sum(e.error is not None for e in EXPORTS) >= 12


@pytest.mark.parametrize("export", EXPORTS, ids=lambda e: e.name)
def test_an_export_is_read_exactly_or_stops_with_one_line(export, tmp_path):
    path = export.write(tmp_path)
    if export.error is not None:
        with pytest.raises(InputError) as error:
            _read(export, path)
        message = str(error.value)
        assert export.error in message, message
        assert "\n" not in message and message.startswith("DATA ")
        return
    frame, reading = _read(export, path)
    got, expected = sort(frame), export.truth.tidy()
    assert got[["patient_id", "measure", "timepoint", "unit"]].equals(
        expected[["patient_id", "measure", "timepoint", "unit"]]), (
        got.compare(expected) if len(got) == len(expected) else (len(got), len(expected)))
    np.testing.assert_allclose(got["month"], expected["month"], rtol=0, atol=1e-9)
    np.testing.assert_allclose(got["value"], expected["value"], rtol=1e-12, atol=0)
    summary = reading.summary()
    for note in export.notes:
        assert any(note in line for line in summary), (note, summary)


def test_weeks_are_months_at_seven_days_over_an_average_month():
    # 24 weeks = 168 days; an average Gregorian month is 365.2425 / 12 = 30.436875 days;
    # 168 / 30.436875 = 5.519620526088831 (by hand, long division to 15 digits).
    assert 24 * 7 / DAYS_PER_MONTH == pytest.approx(5.519620526088831, abs=1e-12)


def test_das28_is_derived_from_the_components_of_a_clinic_export(tmp_path):
    export = next(e for e in EXPORTS if e.name == "wide_das28_components_only")
    frame, _ = _read(export, export.write(tmp_path))
    derived, counts = derive_das28(frame)
    truth = export.truth
    assert counts == {"das28_esr": len(truth.ids) * len(truth.visits)}
    got = derived[derived["measure"] == "das28_esr"].set_index(["patient_id", "timepoint"])
    for i, patient in enumerate(truth.ids):
        for j, visit in enumerate(truth.visits):
            tjc, sjc, pga, esr = (truth.values[m][i, j] for m in ("tjc28", "sjc28", "pga",
                                                                  "esr"))
            # Prevoo 1995, written out: 0.56 sqrt(TJC28) + 0.28 sqrt(SJC28) + 0.70 ln(ESR)
            # + 0.014 PGA (mm).
            by_hand = 0.56 * np.sqrt(tjc) + 0.28 * np.sqrt(sjc) + 0.70 * np.log(esr) \
                + 0.014 * pga
            assert got.loc[(patient, visit), "value"] == pytest.approx(by_hand, rel=1e-12)


def test_a_table_read_from_a_clinic_export_is_the_one_written(tmp_path):
    """The comparison itself can fail: one changed value is caught."""
    export = next(e for e in EXPORTS if e.name == "wide_italian_excel_csv")
    frame, _ = _read(export, export.write(tmp_path))
    got = sort(frame)
    expected = export.truth.tidy()
    expected.loc[expected["value"].first_valid_index(), "value"] += 0.01
    with pytest.raises(AssertionError):
        np.testing.assert_allclose(got["value"], expected["value"], rtol=1e-12, atol=0)


# --- end to end: make analysis's command on clinic exports --------------------------------

#: Exports run through ``make analysis``'s command: a sample of shapes and locales.
END_TO_END = ["wide_italian_excel_csv", "redcap_label_export", "lab_export_dates_and_units",
              "wide_german_merged_header_xlsx"]


def _arguments(export: Export, path, out) -> list[str]:
    options = export.options
    arguments = ["--data", str(path), "--out", str(out)]
    if "units" in options:
        arguments += ["--units", ",".join(f"{k}={v}" for k, v in options["units"].items())]
    for key in ("baseline", "sheet", "start"):
        if key in options:
            arguments += [f"--{key}", options[key]]
    if "chosen" in options:
        arguments += ["--measures", ",".join(options["chosen"])]
    return arguments


def _complete_pairs(truth, measure: str, visit: str) -> tuple[np.ndarray, np.ndarray]:
    pre = truth.values[measure][:, 0]
    post = truth.values[measure][:, truth.visits.index(visit)]
    both = ~np.isnan(pre) & ~np.isnan(post)
    return pre[both], post[both]


@pytest.mark.slow
@pytest.mark.parametrize("name", END_TO_END)
def test_make_analysis_gives_the_numbers_of_the_cohort_written(name, tmp_path, capsys):
    export = next(e for e in EXPORTS if e.name == name)
    path = export.write(tmp_path)
    out = tmp_path / "out"
    assert cohort.main(_arguments(export, path, out)) == 0
    err = capsys.readouterr().err
    assert f"{len(export.truth.ids):,} patients" in err
    assert "  read as " in err
    prepost = pd.read_csv(out / "tables" / "prepost.csv")
    truth = export.truth
    for row in prepost.itertuples():
        visit = row.comparison.split(" vs ")[0]
        pre, post = _complete_pairs(truth, row.outcome, visit)
        # The mean change and n, computed here from the cohort written, not from the file.
        assert row.n == len(pre)
        assert row.change_mean == pytest.approx(np.mean(post - pre), rel=1e-10, abs=1e-12)
    measured = {m for m in truth.values}
    assert set(prepost["outcome"]) - {"das28_esr", "das28_crp"} <= measured
    html = (out / "report.html").read_text()
    assert "How the data were read" in html


@pytest.mark.slow
def test_a_clinic_register_as_patients(tmp_path, capsys):
    """PATIENTS as a clinic keeps it: its own column names, ids as text, only some of
    Table 1's columns; the analyses that need the others are skipped with a note."""
    export = next(e for e in EXPORTS if e.name == "visit_rows_italian_xlsx")
    data = export.write(tmp_path)
    truth = export.truth
    register = tmp_path / "registro.xlsx"
    rows = [["Registro pazienti"], [],
            ["Paziente", "Sesso", "Età", "Anno diagnosi", "Reparto"]]
    rows += [[patient, "F" if i % 4 else "M", 30 + i, 2010 + i % 10, "<b>Reuma</b>"]
             for i, patient in enumerate(truth.ids)]
    rows.append(["PT-999", "F", 50, 2019, "no visits"])  # no measurements: left out
    write_xlsx(register, {"Pazienti": rows})
    out = tmp_path / "out"
    assert cohort.main(["--data", str(data), "--out", str(out), "--patients",
                        str(register)]) == 0
    err = capsys.readouterr().err
    assert "1 patient(s) of PATIENTS have no measurements and are left out (first: PT-999)" \
        in err
    summary = pd.read_csv(out / "tables" / "cohort_summary.csv")
    n_female = sum(1 for i in range(len(truth.ids)) if i % 4)
    assert summary.set_index("characteristic").loc["sex: F", "n"] == n_female
    ages = 30 + np.arange(len(truth.ids))
    assert summary.set_index("characteristic").loc["age, median (range)", "value"] == (
        f"{np.median(ages):g} ({ages.min()}–{ages.max()}) years")
    patients = pd.read_csv(out / "data" / "patients.csv", dtype={"patient_id": str})
    assert patients["patient_id"].tolist() == truth.ids
    assert not (out / "figures" / "swimmer.png").exists()  # no treatment durations
    figures = (out / "notebooks" / "03_figures.ipynb").read_text()
    assert "Skipped: the swimmer plot (PATIENTS has no" in figures


@pytest.mark.slow
def test_a_refused_export_stops_make_analysis_with_one_line(tmp_path, capsys):
    export = next(e for e in EXPORTS if e.name == "wide_crp_unit_not_stated")
    path = export.write(tmp_path)
    out = tmp_path / "out"
    assert cohort.main(_arguments(export, path, out)) == 1
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: DATA ")
    assert "UNITS=crp=mg/L" in lines[0]  # says how to state it
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]


def test_patients_that_are_measurements_or_have_many_problems_stop(tmp_path):
    export = next(e for e in EXPORTS if e.name == "wide_readme_csv")
    data = export.write(tmp_path)
    with pytest.raises(InputError, match=r"^PATIENTS .*cohort.csv, row 0 \(line 1\): looks "
                                         r"like a measurements file .*: give it as DATA"):
        read_patients(data)
    bad = tmp_path / "patients.csv"
    bad.write_text("ID;Sesso;Età;erosive\n1;femmina;45;sì\n2;?;45,5;no\n2;M;abc;forse\n",
                   encoding="utf-8")
    with pytest.raises(InputError) as error:
        read_patients(bad)
    message = str(error.value)
    assert message.startswith("PATIENTS ") and "\n" not in message
    # Every problem, in the order of the file ('sì' is yes, 45,5 a decimal comma).
    assert message.endswith(
        "4 problems: row 2 (line 3), column 'Sesso': must be F or M (female/male, "
        "femmina/maschio) (got '?'); row 3 (line 4), column 'ID': patient '2' has a second "
        "row; row 3 (line 4), column 'Età': is not a number (got 'abc'); row 3 (line 4), "
        "column 'erosive': must be yes or no (got 'forse')")


# --- every combination: layouts x presentations, drawn at random -----------------------

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from support.exports import cohort as cohort_of, wide_rows, write_csv_rows  # noqa: E402

_VISIT_STYLES = {
    "code": {"baseline": "baseline", "m3": "m3", "m6": "m6", "m12": "m12"},
    "T": {"baseline": "T0", "m3": "T3", "m6": "T6", "m12": "T12"},
    "mesi": {"baseline": "basale", "m3": "3 mesi", "m6": "6 mesi", "m12": "12 mesi"},
    "month": {"baseline": "Baseline", "m3": "Month 3", "m6": "Month 6", "m12": "Month 12"},
}
_MEASURE_STYLES = {
    "code": {"das28": "das28", "sledai2k": "sledai2k", "gc_mg_day": "gc_mg_day",
             "crp": "crp"},
    "clinic": {"das28": "DAS28", "sledai2k": "SLEDAI-2K", "gc_mg_day": "Prednisone",
               "crp": "PCR"},
}


@st.composite
def presentations(draw):
    measures = draw(st.lists(st.sampled_from(["das28", "sledai2k", "gc_mg_day", "crp"]),
                             min_size=1, max_size=4, unique=True))
    visits = ["baseline"] + draw(st.lists(st.sampled_from(["m3", "m6", "m12"]), min_size=1,
                                          max_size=3, unique=True))
    visits = sorted(visits, key=lambda v: 0 if v == "baseline" else int(v[1:]))
    return dict(
        truth=cohort_of(draw(st.integers(3, 12)), measures=measures, visits=visits,
                     seed=draw(st.integers(0, 10_000)), missing=0.1),
        layout=draw(st.sampled_from(["wide", "visit rows"])),
        visit_style=draw(st.sampled_from(sorted(_VISIT_STYLES))),
        measure_style=draw(st.sampled_from(sorted(_MEASURE_STYLES))),
        crp_unit=draw(st.sampled_from(["mg/L", "mg/dL"])),
        separator=draw(st.sampled_from([",", ";", "\t"])),
        decimal_comma=draw(st.booleans()),
        encoding=draw(st.sampled_from(["utf-8", "utf-8-sig", "cp1252"])),
        titles=draw(st.integers(0, 2)),
        summaries=draw(st.integers(0, 2)),
    )


def _write_presentation(folder, p) -> object:
    truth, visits = p["truth"], _VISIT_STYLES[p["visit_style"]]
    names = dict(_MEASURE_STYLES[p["measure_style"]])
    names["crp"] = f"{names['crp']} ({p['crp_unit']})"
    scale = {"crp": 10 if p["crp_unit"] == "mg/dL" else 1}
    decimal = "," if p["decimal_comma"] and p["separator"] != "," else "."
    if p["layout"] == "wide":
        rows = wide_rows(truth, lambda m, v: f"{names[m]} {visits[v]}", decimal=decimal,
                         scale=scale, id_name="Patient")
    else:
        rows = [["Patient", "Visit"] + [names[m] for m in truth.values]]
        for i, patient in enumerate(truth.ids):
            for j, visit in enumerate(truth.visits):
                rows.append([patient, visits[visit]] + [
                    _number(truth.values[m][i, j] / scale.get(m, 1), decimal)
                    for m in truth.values])
    width = len(rows[0])
    titles = [["Registro anifrolumab"] + [""] * (width - 1), ["Export 2025"] + [""] * (
        width - 1)][:p["titles"]]
    summaries = [["Media"] + ["1"] * (width - 1), ["DS"] + ["0"] * (width - 1)][
        :p["summaries"]]
    return write_csv_rows(folder / "export.csv", titles + rows + summaries,
                          separator=p["separator"], encoding=p["encoding"])


def _number(value, decimal):
    from support.exports import _number as number

    return number(round(value, 10), decimal)


@settings(max_examples=120, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(p=presentations())
def test_any_layout_and_presentation_reads_the_cohort_written(p, tmp_path_factory):
    """Wide or one row per visit; codes or clinic names; four ways of naming visits; CRP
    in either unit; three separators, decimal commas, three encodings; title rows and
    summary rows: read back value for value, or never."""
    folder = tmp_path_factory.mktemp("presentation")
    frame, _ = read_cohort(_write_presentation(folder, p))
    got, expected = sort(frame), p["truth"].tidy()
    assert got[["patient_id", "measure", "timepoint", "unit"]].equals(
        expected[["patient_id", "measure", "timepoint", "unit"]])
    np.testing.assert_allclose(got["month"], expected["month"], rtol=0, atol=1e-9)
    np.testing.assert_allclose(got["value"], expected["value"], rtol=1e-12, atol=0)
