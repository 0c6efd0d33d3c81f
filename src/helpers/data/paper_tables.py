"""Parsers that turn the paper's printed tables into tidy tables.

Every parser takes one printed string and returns typed values, raising ``ValueError``
with the offending text on anything it does not recognise. :func:`clean_tables` applies
them to the raw CSV files and re-raises parse failures as :class:`~helpers.errors.InputError`
naming the file, row and column.

The printed strings come from Cassone et al., J. Pers. Med. 2025, 15, 546, Tables 1-2
and the review table (transcribed in ``data/raw``; see its README).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from helpers import paths
from helpers.errors import InputError
from helpers.data.decode import read_csv_text
from helpers.vocab import (AUTOANTIBODIES, AUTOANTIBODY_COLUMNS, BASELINE, LAST, MEASURES,
                           ORGAN_DOMAINS, parse_yes_no)

# Abbreviations used in the paper, mapped to generic names and a drug class. Classes
# follow the EULAR 2023 SLE recommendations' vocabulary (Fanouriakis et al., ARD 2024).
DRUGS: dict[str, tuple[str, str]] = {
    "GCs": ("glucocorticoids", "glucocorticoid"),
    "PDN": ("prednisone", "glucocorticoid"),
    "HCQ": ("hydroxychloroquine", "antimalarial"),
    "MMF": ("mycophenolate mofetil", "immunosuppressant"),
    "AZA": ("azathioprine", "immunosuppressant"),
    "MTX": ("methotrexate", "immunosuppressant"),
    "LEF": ("leflunomide", "immunosuppressant"),
    "SLZ": ("sulfasalazine", "immunosuppressant"),
    "CIC": ("ciclosporin", "calcineurin inhibitor"),
    "CFX": ("cyclophosphamide", "alkylating agent"),
    "RTX": ("rituximab", "biologic"),
    "TOCI": ("tocilizumab", "biologic"),
    "BELI": ("belimumab", "biologic"),
    "BARI": ("baricitinib", "JAK inhibitor"),
}

TABLE1_COLUMNS = [
    "Patient", "Gender, Ethnicity", "Age", "Diagnosis", "Autoimmunity", "Comorbidities",
    "Organ Involvement at Diagnosis", "Previous Therapies", "Treatment Intolerance", "Outcome",
]
TABLE2_COLUMNS = [
    "Patient", "Disease Duration (Months) *", "Arthritis (Characteristics)",
    "Erosive Arthritis", "Other Organ Involvement *", "Concomitant Therapy *",
    "Duration of ANI Therapy (Months)", "SLEDAI before ANI", "SLEDAI Last Clinical Evaluation",
    "DAS28 before ANI", "DAS28 Last Clinical Evaluation", "GCs Last Clinical Evaluation",
    "Side Effects", "Response",
]
REVIEW_COLUMNS = [
    "Author, Year", "Type of Article", "Number of SLE Patients", "Ultrasound-Proven",
    "Outcome", "Concomitant Treatment",
]


@dataclass(frozen=True)
class Dose:
    """A glucocorticoid dose as printed, parsed.

    Attributes
    ----------
    mg_day : float
        Daily dose in mg (prednisone equivalent as the paper reports it); ``nan`` when
        the printed schedule has no daily oral equivalent (e.g. monthly IV pulses).
    route : str or None
        ``"oral"``, ``"iv"``, or ``None`` for a zero dose.
    schedule : str or None
        Free text kept from the paper for non-daily schedules.
    """

    mg_day: float
    route: str | None
    schedule: str | None = None


_NUMBER = r"(\d+(?:\.\d+)?)"


def parse_dose(text: str) -> Dose:
    """Parse a glucocorticoid dose string from Table 2.

    Parameters
    ----------
    text : str
        ``"0"``, ``"4 mg"``, ``"GCs (8 mg)"`` or
        ``"GCs (40 mg IV monthly during the first two infusions)"``.

    Returns
    -------
    Dose

    Raises
    ------
    ValueError
        On anything else (negative, other units, free text).

    Notes
    -----
    A plain "N mg" is read as a daily oral dose: the paper reports daily glucocorticoid
    doses without naming the route. An IV pulse schedule has no daily oral equivalent that
    the paper states, so ``mg_day`` is missing rather than invented (patient 1).

    Examples
    --------
    >>> parse_dose("GCs (8 mg)")
    Dose(mg_day=8.0, route='oral', schedule=None)
    >>> parse_dose("0")
    Dose(mg_day=0.0, route=None, schedule=None)
    """
    raw = text
    text = " ".join(str(text).split())
    wrapped = re.fullmatch(r"(?:GCs|PDN) \((.+)\)", text)
    if wrapped:
        text = wrapped.group(1)
    if re.fullmatch(r"0+(?:\.0+)?(?: mg)?", text):
        return Dose(0.0, None)
    match = re.fullmatch(_NUMBER + r" ?mg(?:/day| daily|/daily)?", text)
    if match:
        return Dose(float(match.group(1)), "oral")
    match = re.fullmatch(_NUMBER + r" ?mg IV (.+)", text)
    if match:
        return Dose(float("nan"), "iv", f"{match.group(1)} mg IV {match.group(2)}")
    raise ValueError(f"unrecognised glucocorticoid dose {raw!r}; expected e.g. '4 mg', "
                     "'GCs (8 mg)' or '0'")


def split_list(text: str) -> list[str]:
    """Split a printed list on commas, semicolons and a final "and"; drop empties."""
    parts = re.split(r"[;,]\s*|\s+and\s+", str(text))
    return [p.strip() for p in parts if p.strip() and p.strip().lower() != "and"]


def parse_drugs(text: str) -> list[str]:
    """Parse a list of drug abbreviations, e.g. ``"GCs, HCQ, MTX; RTX, BELI"``.

    Doses in brackets are ignored here (see :func:`parse_dose`); ``"None"`` and
    ``"None; poor compliance"`` give an empty list.

    Raises
    ------
    ValueError
        On an abbreviation not in :data:`DRUGS`.
    """
    drugs = []
    for item in split_list(re.sub(r"\([^)]*\)", "", str(text))):
        if item.lower() in {"none", "poor compliance"}:
            continue
        if item not in DRUGS:
            raise ValueError(f"unknown drug abbreviation {item!r}; known: {', '.join(DRUGS)}")
        drugs.append(item)
    return drugs


def parse_sex_ethnicity(text: str) -> tuple[str, str]:
    """Parse ``"F, Cuban"`` into ``("F", "Cuban")``."""
    match = re.fullmatch(r"\s*([FM])\s*,\s*([A-Za-z][A-Za-z \-]*?)\s*", str(text))
    if not match:
        raise ValueError(f"expected 'F|M, Ethnicity', got {text!r}")
    return match.group(1), match.group(2)


def parse_erosive(text: str) -> tuple[bool, bool]:
    """Parse the "Erosive Arthritis" cell into ``(erosive, rhupus)``.

    ``"No (Rhupus)"`` means non-erosive arthritis in a patient with rhupus (SLE and
    rheumatoid arthritis overlap), as the paper prints it for patient 2.
    """
    match = re.fullmatch(r"\s*(Yes|No)\s*(\(Rhupus\))?\s*", str(text))
    if not match:
        raise ValueError(f"expected 'Yes', 'No' or 'No (Rhupus)', got {text!r}")
    return match.group(1) == "Yes", match.group(2) is not None


def _yes_no_as_printed(text: str) -> bool:
    """Parse ``"Yes"``/``"No"`` exactly as the paper prints them (:func:`parse_yes_no`)."""
    return parse_yes_no(text, strict=True)


def parse_patient_count(text: str) -> int:
    """Parse ``"25 patients"`` into 25."""
    match = re.fullmatch(r"\s*(\d+)\s+patients?\s*", str(text))
    if not match or int(match.group(1)) == 0:
        raise ValueError(f"expected 'N patients' with N >= 1, got {text!r}")
    return int(match.group(1))


def parse_patient_label(text: str) -> int:
    """Parse ``"Pt. 3"`` into 3."""
    match = re.fullmatch(r"\s*Pt\.\s*(\d+)\s*", str(text))
    if not match:
        raise ValueError(f"expected 'Pt. N', got {text!r}")
    return int(match.group(1))


def parse_int(text: str, minimum: int = 0) -> int:
    """Parse a non-negative integer cell."""
    value = str(text).strip()
    if not re.fullmatch(r"\d+", value) or int(value) < minimum:
        raise ValueError(f"expected an integer >= {minimum}, got {text!r}")
    return int(value)


def parse_float(text: str) -> float:
    """Parse a finite decimal number cell (``"7.22"``)."""
    value = str(text).strip()
    if not re.fullmatch(r"-?\d+(?:\.\d+)?", value):
        raise ValueError(f"expected a number, got {text!r}")
    return float(value)


def parse_study(text: str) -> tuple[str, int, int]:
    """Parse ``"Tani, 2024 [10]"`` into ``("Tani", 2024, 10)`` (author, year, reference)."""
    match = re.fullmatch(r"\s*([^,\[\]]+?),\s*(\d{4})\s*\[(\d+)\]\s*", str(text))
    if not match:
        raise ValueError(f"expected 'Author, YYYY [ref]', got {text!r}")
    return match.group(1), int(match.group(2)), int(match.group(3))


def parse_outcome(text: str, n: int) -> tuple[int, str]:
    """Parse a review outcome into ``(events, definition)``.

    Parameters
    ----------
    text : str
        ``"Resolution of arthritis in 13 patients; ..."`` or
        ``"Reduction in DAS 28, ... in all patients"``.
    n : int
        Number of patients in the study, for "all patients".

    Returns
    -------
    events : int
        Patients with the outcome.
    definition : {"resolution", "improvement"}
        "resolution" when arthritis resolved; "improvement" when a score fell.

    Raises
    ------
    ValueError
        If no count can be read, or the count exceeds ``n``.
    """
    text = " ".join(str(text).split())
    first = text.split(";")[0]
    if re.match(r"Resolution of arthritis", first, re.IGNORECASE):
        definition = "resolution"
    elif re.match(r"(Reduction|Improvement)\b", first, re.IGNORECASE):
        definition = "improvement"
    else:
        raise ValueError(f"unrecognised outcome {text!r}; expected 'Resolution of arthritis "
                         "in N patients' or 'Reduction in ... in all patients'")
    if re.search(r"\bin all patients\b", first):
        events = n
    else:
        match = re.search(r"\bin (\d+) patients?\b", first)
        if not match:
            raise ValueError(f"no patient count in outcome {text!r}")
        events = int(match.group(1))
    if events > n:
        raise ValueError(f"outcome {text!r} counts {events} patients out of {n}")
    return events, definition


def _cell(source: Path, frame: pd.DataFrame, row: int, column: str, parser, *args):
    """Apply ``parser`` to one cell, turning ValueError into a located InputError."""
    try:
        return parser(frame.at[row, column], *args)
    except ValueError as error:
        raise InputError(source, str(error), row=row, column=column) from None


def _patient_ids(source: Path, frame: pd.DataFrame) -> list[int]:
    ids = [_cell(source, frame, r, "Patient", parse_patient_label) for r in frame.index]
    seen = set()
    for row, pid in zip(frame.index, ids, strict=True):
        if pid in seen:
            raise InputError(source, f"duplicate patient {pid}", row=row, column="Patient")
        seen.add(pid)
    return ids


def _text(value: str) -> object:
    """Printed free text, with an empty cell as missing."""
    value = " ".join(str(value).split())
    return value if value else pd.NA


def clean_patients(table1: pd.DataFrame, table2: pd.DataFrame, *, source1: Path,
                   source2: Path) -> pd.DataFrame:
    """Build ``patients.csv``: one row per patient from Tables 1 and 2."""
    ids1 = _patient_ids(source1, table1)
    ids2 = _patient_ids(source2, table2)
    if sorted(ids1) != sorted(ids2):
        raise InputError(source2, f"patients {sorted(ids2)} differ from Table 1's "
                         f"{sorted(ids1)}", column="Patient")
    rows = []
    t2_row = dict(zip(ids2, table2.index, strict=True))
    for row, pid in zip(table1.index, ids1, strict=True):
        r2 = t2_row[pid]
        sex, ethnicity = _cell(source1, table1, row, "Gender, Ethnicity", parse_sex_ethnicity)
        antibodies = {name: False for name in AUTOANTIBODY_COLUMNS}
        for item in split_list(table1.at[row, "Autoimmunity"]):
            key = re.sub(r"\s*\(.*\)$", "", item)  # "anti-dsDNA (ELISA)": method noted
            if key not in AUTOANTIBODIES:
                raise InputError(source1, f"unknown autoantibody {item!r}", row=row,
                                 column="Autoimmunity")
            antibodies[AUTOANTIBODIES[key]] = True
        erosive, rhupus = _cell(source2, table2, r2, "Erosive Arthritis", parse_erosive)
        other = _text(table2.at[r2, "Other Organ Involvement *"])
        organs = {}
        for domain in ORGAN_DOMAINS:
            # Missing stays missing: patient 2's cell is empty in the paper.
            organs[f"organ_{domain}"] = (pd.NA if other is pd.NA
                                         else domain in str(other).lower())
        comorbidities = _text(table1.at[row, "Comorbidities"])
        rows.append({
            "patient_id": pid,
            "sex": sex,
            "ethnicity": ethnicity,
            "age_years": _cell(source1, table1, row, "Age", parse_int, 1),
            "diagnosis_year": _cell(source1, table1, row, "Diagnosis", parse_int, 1900),
            "disease_duration_months": _cell(source2, table2, r2,
                                             "Disease Duration (Months) *", parse_int),
            "anifrolumab_months": _cell(source2, table2, r2,
                                        "Duration of ANI Therapy (Months)", parse_int),
            "arthritis_pattern": _text(table2.at[r2, "Arthritis (Characteristics)"]),
            "erosive": erosive,
            "rhupus": rhupus,
            **antibodies,
            "comorbidities": pd.NA if comorbidities == "None" else comorbidities,
            "organ_involvement_at_diagnosis": _text(table1.at[row,
                                                              "Organ Involvement at Diagnosis"]),
            "other_organ_involvement": other,
            **organs,
            "treatment_intolerance": _text(table1.at[row, "Treatment Intolerance"]),
            "status_before_anifrolumab": _text(table1.at[row, "Outcome"]),
            # "None" printed = none reported; lower-cased so that pandas' default NA
            # parsing of processed files does not turn it into a missing value.
            "side_effects": ("none" if _text(table2.at[r2, "Side Effects"]) == "None"
                             else _text(table2.at[r2, "Side Effects"])),
            "response_paper": _cell(source2, table2, r2, "Response", _yes_no_as_printed),
        })
    patients = pd.DataFrame(rows).sort_values("patient_id", kind="stable")
    for column in [f"organ_{d}" for d in ORGAN_DOMAINS]:
        patients[column] = patients[column].astype("boolean")
    return patients.reset_index(drop=True)


def _concomitant_gc(source: Path, table2: pd.DataFrame, row: int) -> Dose:
    """The glucocorticoid part of "Concomitant Therapy *" ("MTX, GCs (8 mg)")."""
    column = "Concomitant Therapy *"
    text = str(table2.at[row, column])
    match = re.search(r"(?:GCs|PDN) \([^)]*\)", text)
    if match is None:
        if re.search(r"\bGCs\b", text):
            raise InputError(source, f"glucocorticoids without a dose in {text!r}", row=row,
                             column=column)
        return Dose(0.0, None)
    return _cell(source, pd.DataFrame({column: [match.group(0)]}, index=[row]), row, column,
                 parse_dose)


def clean_measurements(table2: pd.DataFrame, *, source: Path) -> pd.DataFrame:
    """Build ``measurements.csv``: the tidy long table of docs/architecture.md.

    Baseline is the start of anifrolumab (month 0); "last" is the last clinical
    evaluation, at ``Duration of ANI Therapy (Months)``.
    """
    rows = []
    for row, pid in zip(table2.index, _patient_ids(source, table2), strict=True):
        month_last = _cell(source, table2, row, "Duration of ANI Therapy (Months)", parse_int)
        baseline_gc = _concomitant_gc(source, table2, row)
        last_gc = _cell(source, table2, row, "GCs Last Clinical Evaluation", parse_dose)
        values = {
            ("sledai2k", BASELINE): _cell(source, table2, row, "SLEDAI before ANI", parse_int),
            ("sledai2k", LAST): _cell(source, table2, row, "SLEDAI Last Clinical Evaluation",
                                        parse_int),
            ("das28", BASELINE): _cell(source, table2, row, "DAS28 before ANI", parse_float),
            ("das28", LAST): _cell(source, table2, row, "DAS28 Last Clinical Evaluation",
                                     parse_float),
            ("gc_mg_day", BASELINE): baseline_gc.mg_day,
            ("gc_mg_day", LAST): last_gc.mg_day,
        }
        for (measure, timepoint), value in values.items():
            rows.append({
                "patient_id": pid,
                "measure": measure,
                "timepoint": timepoint,
                "month": 0 if timepoint == BASELINE else month_last,
                "value": float(value),
                "unit": MEASURES[measure].unit,
            })
    order = {m: i for i, m in enumerate(MEASURES)}
    frame = pd.DataFrame(rows)
    frame = frame.sort_values(["measure", "patient_id", "month"],
                              key=lambda s: s.map(order) if s.name == "measure" else s,
                              kind="stable")
    return frame.reset_index(drop=True)


def clean_therapies(table1: pd.DataFrame, table2: pd.DataFrame, *, source1: Path,
                    source2: Path) -> pd.DataFrame:
    """Build ``therapies.csv``: one row per patient, role and drug."""
    rows = []
    columns = [("previous", source1, table1, "Previous Therapies"),
               ("intolerant", source1, table1, "Treatment Intolerance"),
               ("concomitant", source2, table2, "Concomitant Therapy *")]
    for role, source, table, column in columns:
        for row, pid in zip(table.index, _patient_ids(source, table), strict=True):
            printed = str(table.at[row, column])
            drugs = _cell(source, table, row, column, parse_drugs)
            for abbreviation in drugs:
                dose = Dose(np.nan, None)
                if role == "concomitant" and DRUGS[abbreviation][1] == "glucocorticoid":
                    dose = _concomitant_gc(source, table, row)
                rows.append({
                    "patient_id": pid,
                    "role": role,
                    "abbreviation": abbreviation,
                    "drug": DRUGS[abbreviation][0],
                    "drug_class": DRUGS[abbreviation][1],
                    "dose_mg_day": dose.mg_day,
                    "route": dose.route if dose.route else pd.NA,
                    "dose_schedule": dose.schedule if dose.schedule else pd.NA,
                    "as_printed": printed,
                })
    frame = pd.DataFrame(rows)
    role_order = {"previous": 0, "intolerant": 1, "concomitant": 2}
    frame = frame.sort_values(["patient_id", "role"], key=lambda s: s.map(role_order)
                              if s.name == "role" else s, kind="stable")
    return frame.reset_index(drop=True)


def clean_studies(review: pd.DataFrame, *, source: Path) -> pd.DataFrame:
    """Build ``studies.csv`` from the review table."""
    rows = []
    for row in review.index:
        author, year, reference = _cell(source, review, row, "Author, Year", parse_study)
        n = _cell(source, review, row, "Number of SLE Patients", parse_patient_count)
        events, definition = _cell(source, review, row, "Outcome", parse_outcome, n)
        concomitant = _text(review.at[row, "Concomitant Treatment"])
        rows.append({
            "study": f"{author} {year}",
            "author": author,
            "year": year,
            "reference": reference,
            "design": _text(review.at[row, "Type of Article"]),
            "n": n,
            "events": events,
            "ultrasound_proven": _cell(source, review, row, "Ultrasound-Proven",
                                       _yes_no_as_printed),
            "outcome_definition": definition,
            "outcome": _text(review.at[row, "Outcome"]),
            # "NA" and "Not specified" both mean the paper does not say.
            "concomitant_treatment": (pd.NA if concomitant in {"NA", "Not specified"}
                                      else concomitant),
        })
    return pd.DataFrame(rows)


def clean_tables(raw_dir: str | Path) -> dict[str, pd.DataFrame]:
    """Read the three raw tables and return the four tidy tables.

    Parameters
    ----------
    raw_dir : str or Path
        Folder with the raw CSV files (checksums are verified by the caller).

    Returns
    -------
    dict
        ``{"patients.csv": ..., "measurements.csv": ..., "therapies.csv": ...,
        "studies.csv": ...}``, validated against :mod:`helpers.data.schema`.
    """
    from helpers.data.schema import validate_tables

    raw_dir = Path(raw_dir)
    source1, source2 = raw_dir / paths.RAW_TABLE1, raw_dir / paths.RAW_TABLE2
    source_review = raw_dir / paths.RAW_REVIEW
    table1 = read_csv_text(source1, TABLE1_COLUMNS)
    table2 = read_csv_text(source2, TABLE2_COLUMNS)
    review = read_csv_text(source_review, REVIEW_COLUMNS)
    tables = {
        paths.PATIENTS: clean_patients(table1, table2, source1=source1, source2=source2),
        paths.MEASUREMENTS: clean_measurements(table2, source=source2),
        paths.THERAPIES: clean_therapies(table1, table2, source1=source1, source2=source2),
        paths.STUDIES: clean_studies(review, source=source_review),
    }
    return validate_tables(tables, source=raw_dir)


def main(argv: list[str] | None = None) -> int:
    """``python -m helpers.data.paper_tables RAW_DIR``: verify and parse, write nothing.

    Exit status 0 when the folder would clean, else 1 with one ``error:`` line naming the
    file, row and column.
    """
    import argparse
    import sys

    from helpers.io import verify_checksums

    parser = argparse.ArgumentParser(prog="python -m helpers.data.paper_tables",
                                     description="Check a raw-data folder without writing.")
    parser.add_argument("raw_dir", nargs="?", default=str(paths.DATA_RAW))
    args = parser.parse_args(argv)
    try:
        verify_checksums(paths.resolve(args.raw_dir))
        tables = clean_tables(paths.resolve(args.raw_dir))
    except InputError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(", ".join(f"{name}: {len(frame)} rows" for name, frame in tables.items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
