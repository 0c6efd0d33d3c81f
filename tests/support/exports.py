"""A corpus of clinic exports, written the way hospital systems, Excel and REDCap write them.

Each :class:`Export` writes one file from a known cohort (:class:`Truth`, values in the
codebook's units, drawn with a seed) in one clinic's layout: Italian Excel with ``;`` and
decimal commas in Windows-1252, a German workbook with a merged two-row header, REDCap's
raw and label exports, a lab system's long table with dates, summary rows under the data,
a legend sheet before the data, units in the headers (CRP in mg/dL, a 0-10 patient global),
visits as ``T0``/``T6``, ``W24``, ``V1``-``V3`` with months, or dates...

An export either *runs*: reading it must give exactly :meth:`Truth.tidy` (the test
compares every value); or it must *stop* with one line containing :attr:`Export.error`.
The truth is never read back from a file: it is the table the writer started from, so the
comparison is independent of the reader.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd

#: Days in an average Gregorian month, written out (365.2425 days a year): the months
#: the truth gives a visit stated in weeks or dates.
DAYS_PER_MONTH = 365.2425 / 12
UNITS = {"sledai2k": "points", "das28": "points", "das28_esr": "points", "gc_mg_day": "mg/day",
         "crp": "mg/L", "esr": "mm/h", "tjc28": "joints", "sjc28": "joints", "pga": "mm"}


@dataclass
class Truth:
    """A cohort as it really is: ids, visits (label -> month) and values per measure.

    ``values[measure]`` is a patients x visits array in the codebook's unit (NaN for a
    missing value). ``months`` may be a patients x visits array where visits fall on
    different days for each patient (dates).
    """

    ids: list[str]
    visits: list[str]
    months: np.ndarray
    values: dict[str, np.ndarray]

    def tidy(self) -> pd.DataFrame:
        """The tidy table a correct reading gives, sorted."""
        rows = []
        for measure, table in self.values.items():
            for i, patient in enumerate(self.ids):
                for j, visit in enumerate(self.visits):
                    rows.append((patient, measure, visit, float(self.months[i, j]),
                                 float(table[i, j]), UNITS[measure]))
        frame = pd.DataFrame(rows, columns=["patient_id", "measure", "timepoint", "month",
                                            "value", "unit"])
        return sort(frame)

    def subset(self, measures) -> Truth:
        return Truth(self.ids, self.visits, self.months,
                     {m: v for m, v in self.values.items() if m in measures})


def sort(frame: pd.DataFrame) -> pd.DataFrame:
    """A tidy table in a fixed order, ids as text, for comparison."""
    frame = frame.assign(patient_id=frame["patient_id"].astype(str))
    frame = frame.astype({"measure": object, "timepoint": object, "unit": object})
    return frame.sort_values(["patient_id", "measure", "month", "timepoint"],
                             kind="stable").reset_index(drop=True)


def cohort(n: int, *, measures=("das28", "sledai2k", "gc_mg_day"), visits=("baseline", "m6"),
           months=None, seed: int = 0, missing: float = 0.05, prefix: str = "PT-",
           width: int = 3) -> Truth:
    """Draw a cohort with realistic values, rounded as clinics record them."""
    rng = np.random.default_rng(seed)
    ids = [f"{prefix}{i:0{width}d}" for i in range(1, n + 1)]
    if months is None:
        months = [0.0 if v == "baseline" else float(re.sub(r"\D", "", v)) for v in visits]
    month_table = np.tile(np.asarray(months, dtype=float), (n, 1))
    k = len(visits)
    values = {}
    for measure in measures:
        improvement = np.linspace(0, 1, k)[None, :] * rng.uniform(0.1, 0.7, (n, 1))
        if measure in ("das28", "das28_esr"):
            base = np.clip(rng.normal(5.0, 1.0, (n, 1)), 1.5, 8.5)
            table = np.round(np.clip(base * (1 - improvement), 0.5, 9.5), 2)
        elif measure == "sledai2k":
            base = rng.integers(4, 20, (n, 1))
            table = np.round(base * (1 - improvement)).astype(float)
        elif measure == "gc_mg_day":
            doses = np.array([0, 2.5, 5, 7.5, 10, 12.5, 25])
            table = np.sort(rng.choice(doses, (n, k)), axis=1)[:, ::-1].astype(float)
        elif measure == "crp":
            base = np.round(rng.lognormal(2.0, 0.8, (n, 1)), 1)
            table = np.round(np.clip(base * (1 - improvement), 0.1, 900), 1)
        elif measure == "esr":
            base = rng.integers(8, 80, (n, 1))
            table = np.round(np.clip(base * (1 - improvement), 2, 150)).astype(float)
        elif measure in ("tjc28", "sjc28"):
            base = rng.integers(2, 20, (n, 1))
            table = np.round(base * (1 - improvement)).astype(float)
        elif measure == "pga":
            base = rng.integers(30, 90, (n, 1))
            table = np.round(base * (1 - improvement)).astype(float)
        else:
            raise ValueError(measure)
        table = np.array(table, dtype=float)
        table[rng.random((n, k)) < missing] = np.nan
        values[measure] = table
    return Truth(ids, list(visits), month_table, values)


@dataclass
class Export:
    """One clinic export and what reading it must give.

    Attributes
    ----------
    name : str
    write : callable
        ``write(folder) -> path``: writes the file.
    truth : Truth or None
        What a correct reading gives, for an export that runs.
    error : str or None
        A fragment of the one-line message, for an export that must stop.
    options : dict
        Keyword arguments of :func:`helpers.data.reader.read_cohort` (the user's
        ``SHEET=``, ``UNITS=``, ``BASELINE=``, ``START=``, ``MEASURES=``).
    kinds : tuple of str
        The kinds of the issue it covers (for the corpus's completeness check).
    locale : str
    patients : int
    notes : tuple of str
        Fragments that the reading's notes must contain (what it decided).
    """

    name: str
    write: Callable[[Path], Path]
    truth: Truth | None = None
    error: str | None = None
    options: dict = field(default_factory=dict)
    kinds: tuple[str, ...] = ()
    locale: str = "en"
    notes: tuple[str, ...] = ()

    @property
    def patients(self) -> int:
        return len(self.truth.ids) if self.truth is not None else 0


# --- writers ---------------------------------------------------------------------------


def _number(value: float, decimal: str = ".") -> str:
    if np.isnan(value):
        return ""
    text = repr(float(value))
    text = text[:-2] if text.endswith(".0") else text
    return text.replace(".", decimal)


def wide_rows(truth: Truth, column: Callable[[str, str], str], *, decimal: str = ".",
              scale: dict | None = None, id_name: str = "patient_id", extra=None,
              as_numbers: bool = False) -> list[list]:
    """Header and rows of a wide table; ``column(measure, visit)`` names each column and
    ``scale[measure]`` divides the values (a unit other than the codebook's)."""
    scale = scale or {}
    header = [id_name] + [column(m, v) for m in truth.values for v in truth.visits]
    if extra:
        header += list(extra)
    rows = [header]
    for i, patient in enumerate(truth.ids):
        row = [patient]
        for measure, table in truth.values.items():
            for j in range(len(truth.visits)):
                value = table[i, j] / scale.get(measure, 1)
                if as_numbers:
                    row.append(None if np.isnan(value) else float(round(value, 10)))
                else:
                    row.append(_number(round(value, 10), decimal))
        if extra:
            row += [extra[name](i) for name in extra]
        rows.append(row)
    return rows


def write_csv_rows(path: Path, rows: list[list], *, separator: str = ",",
                   encoding: str = "utf-8", newline: str = "\n") -> Path:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=separator, lineterminator=newline)
    for row in rows:
        writer.writerow(["" if c is None else c for c in row])
    path.write_bytes(buffer.getvalue().encode(encoding))
    return path


def write_xlsx(path: Path, sheets: dict[str, list[list]], merges: dict | None = None) -> Path:
    book = openpyxl.Workbook()
    book.remove(book.active)
    for name, rows in sheets.items():
        sheet = book.create_sheet(name)
        for row in rows:
            sheet.append(row)
        for cells in (merges or {}).get(name, []):
            sheet.merge_cells(cells)
    book.save(path)
    return path


def cache_formula_values(path: Path, values: dict[str, float]) -> Path:
    """Give formula cells the saved value a spreadsheet program would have stored.

    openpyxl writes formulas without values, like any script; Excel and LibreOffice save
    both. ``values`` maps a cell reference (``D2``) to its value.
    """
    with zipfile.ZipFile(path) as archive:
        parts = {name: archive.read(name) for name in archive.namelist()}
    name = "xl/worksheets/sheet1.xml"
    xml = parts[name].decode()
    for reference, value in values.items():
        xml = re.sub(rf'(<c r="{reference}"[^>]*>)(<f>[^<]*</f>)(<v\s*/>|<v></v>)?',
                     rf"\g<1>\g<2><v>{value!r}</v>", xml)
    parts[name] = xml.encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for part, data in parts.items():
            archive.writestr(part, data)
    return path


def long_rows(truth: Truth, *, visit=None, month=None, unit=None, decimal=".",
              scale: dict | None = None, measure_name=None) -> list[dict]:
    """One dict per patient, measure and visit (for tidy and lab exports)."""
    scale = scale or {}
    rows = []
    for measure, table in truth.values.items():
        for i, patient in enumerate(truth.ids):
            for j, label in enumerate(truth.visits):
                value = table[i, j] / scale.get(measure, 1)
                row = {"patient": patient,
                       "measure": measure_name(measure) if measure_name else measure,
                       "value": _number(round(value, 10), decimal)}
                if visit is not None:
                    row["visit"] = visit(label)
                if month is not None:
                    row["month"] = month(i, j)
                if unit is not None:
                    row["unit"] = unit(measure)
                rows.append(row)
    return rows


# --- the corpus ------------------------------------------------------------------------

#: The kinds of export the issue names; every one is covered by several exports.
KINDS = ("units", "summary rows", "formulas", "visit labels", "visit dates", "layout",
         "european csv", "excel encodings", "redcap", "visit rows", "clinic names",
         "tidy", "large")

_LEGEND = "Legenda: VES = velocità di eritrosedimentazione; PCR = proteina C reattiva"


def _visit_label(style: dict) -> Callable[[str], str]:
    return lambda visit: style[visit]


def corpus() -> list[Export]:
    """Every export of the corpus (at least 40), each from its own seeded cohort."""
    exports: list[Export] = []
    add = exports.append
    t0t6 = {"baseline": "T0", "m3": "T3", "m6": "T6", "m12": "T12"}

    # 1. The README's own wide format.
    truth = cohort(40, visits=("baseline", "m6", "m12"), seed=1)
    add(Export("wide_readme_csv", lambda d, t=truth: write_csv_rows(
        d / "cohort.csv", wide_rows(t, lambda m, v: f"{m}_{v}")), truth,
        kinds=("tidy",)))

    # 2. Italian Excel "CSV (delimitato dal separatore di elenco)": ';', decimal commas,
    # Windows-1252, clinic names, an extra column with an accented name.
    truth = cohort(25, measures=("das28_esr", "sledai2k", "gc_mg_day"),
                   visits=("baseline", "m6"), seed=2)
    names = {"das28_esr": "DAS28 (VES)", "sledai2k": "SLEDAI-2K",
             "gc_mg_day": "Prednisone mg/die"}
    add(Export("wide_italian_excel_csv", lambda d, t=truth: write_csv_rows(
        d / "coorte.csv", wide_rows(t, lambda m, v: f"{names[m]} {t0t6[v]}", decimal=",",
                                    id_name="Codice paziente",
                                    extra={"Età": lambda i: str(40 + i % 30)}),
        separator=";", encoding="cp1252", newline="\r\n"), truth,
        kinds=("european csv", "excel encodings", "clinic names", "visit labels"),
        locale="it", notes=("separator ';'", "encoding Windows-1252", "decimal commas")))

    # 3. Title rows above the header, summary and legend rows under the data (xlsx).
    truth = cohort(30, visits=("baseline", "m6"), seed=3)

    def titled(folder, t=truth):
        rows = wide_rows(t, lambda m, v: f"{m}_{t0t6[v]}", id_name="ID", as_numbers=True)
        means = ["Media"] + [float(np.nanmean(t.values[m][:, j])) for m in t.values
                             for j in range(len(t.visits))]
        sds = ["DS"] + [float(np.nanstd(t.values[m][:, j])) for m in t.values
                        for j in range(len(t.visits))]
        sheet = [["Registro anifrolumab - Reumatologia"], ["Estrazione del 12/03/2025"], [],
                 *rows, [], means, sds, [_LEGEND]]
        return write_xlsx(folder / "registro.xlsx", {"Dati": sheet})
    add(Export("wide_title_rows_and_summaries_xlsx", titled, truth,
               kinds=("layout", "summary rows"), locale="it",
               notes=("2 title rows above the header skipped",
                      "below the data left out as summaries or notes")))

    # 4. A German workbook with a two-row (merged) header; CRP in mg/dL in the header.
    truth = cohort(20, measures=("das28_esr", "crp"), visits=("baseline", "m6"), seed=4)

    def merged(folder, t=truth):
        top = ["Patient", "DAS28-BSG", None, "CRP (mg/dl)", None]
        bottom = [None, "Baseline", "Monat 6", "Baseline", "Monat 6"]
        body = wide_rows(t, lambda m, v: "", scale={"crp": 10}, as_numbers=True)[1:]
        return write_xlsx(folder / "kohorte.xlsx", {"Daten": [top, bottom, *body]},
                          merges={"Daten": ["B1:C1", "D1:E1", "A1:A2"]})
    add(Export("wide_german_merged_header_xlsx", merged, truth,
               kinds=("layout", "units", "clinic names"), locale="de",
               notes=("two-row header joined", "crp mg/L (x10 from mg/dL in column names)")))

    # 5. Visits on the top row, measures below (CSV with the merged cells left empty).
    truth = cohort(12, measures=("das28", "sledai2k"), visits=("baseline", "m6"), seed=5)

    def visits_on_top(folder, t=truth):
        top = ["", "Basale", "", "Mese 6", ""]
        bottom = ["ID", "DAS28", "SLEDAI 2K", "DAS28", "SLEDAI 2K"]
        rows = [top, bottom]
        for i, patient in enumerate(t.ids):
            rows.append([patient] + [_number(t.values[m][i, j], ",") for j in range(2)
                                     for m in ("das28", "sledai2k")])
        return write_csv_rows(folder / "visite.csv", rows, separator=";")
    add(Export("wide_visits_on_top_csv", visits_on_top, truth,
               kinds=("layout", "visit labels", "european csv"), locale="it"))

    # 6-8. CRP in mg/dL: stated in the header (converted), not stated (refused), stated
    # with UNITS= (converted).
    truth = cohort(35, measures=("das28", "crp"), visits=("baseline", "m6"), seed=6)
    add(Export("wide_crp_mg_dl_in_header", lambda d, t=truth: write_csv_rows(
        d / "crp.csv", wide_rows(t, lambda m, v: f"{m}_mg_dl_{v}" if m == "crp" else
                                 f"{m}_{v}", scale={"crp": 10})), truth, kinds=("units",),
        notes=("crp mg/L (x10 from mg/dL in column names)",)))
    add(Export("wide_crp_unit_not_stated", lambda d, t=truth: write_csv_rows(
        d / "crp.csv", wide_rows(t, lambda m, v: f"{m}_{v}", scale={"crp": 10})),
        error="the unit of CRP is not stated, and its values could be mg/L or mg/dL",
        kinds=("units",)))
    add(Export("wide_crp_unit_given_as_option", lambda d, t=truth: write_csv_rows(
        d / "crp.csv", wide_rows(t, lambda m, v: f"{m}_{v}", scale={"crp": 10})), truth,
        options={"units": {"crp": "mg/dL"}}, kinds=("units",),
        notes=("crp mg/L (x10 from mg/dL in UNITS)",)))

    # 9-10. A patient global on a 0-10 scale: stated (converted to mm), not stated
    # (refused: a physician's 0-3 global would otherwise pass as millimetres).
    truth = cohort(18, measures=("pga", "tjc28", "sjc28", "esr"), visits=("baseline", "m6"),
                   seed=7)
    labels = {"pga": "VAS global (0-10)", "tjc28": "TJC", "sjc28": "SJC", "esr": "ESR mm/h"}
    add(Export("wide_vas_0_10_in_header", lambda d, t=truth: write_csv_rows(
        d / "vas.csv", wide_rows(t, lambda m, v: f"{labels[m]} {t0t6[v]}",
                                 scale={"pga": 10})), truth,
        kinds=("units", "clinic names"), notes=("pga mm (x10 from 0-10 in column names)",)))
    add(Export("wide_vas_unit_not_stated", lambda d, t=truth: write_csv_rows(
        d / "vas.csv", wide_rows(t, lambda m, v: f"{m.upper()} {t0t6[v]}",
                                 scale={"pga": 10})),
        error="the unit of Patient global assessment is not stated", kinds=("units",)))

    # 11-13. A legend on the first sheet; tables on two sheets (refused; chosen).
    truth = cohort(22, visits=("baseline", "m6"), seed=8)

    def legend_first(folder, t=truth):
        rows = wide_rows(t, lambda m, v: f"{m}_{v}", as_numbers=True)
        return write_xlsx(folder / "export.xlsx", {
            "Legenda": [["Variabile", "Significato"], ["das28", "DAS28 (score)"],
                        ["gc_mg_day", "prednisone equivalente, mg/die"]],
            "Dati": rows})
    add(Export("wide_legend_sheet_first_xlsx", legend_first, truth, kinds=("layout",),
               locale="it", notes=("sheet 'Dati' (no table of measurements in 'Legenda')",)))

    def two_tables(folder, t=truth):
        rows = wide_rows(t, lambda m, v: f"{m}_{v}", as_numbers=True)
        return write_xlsx(folder / "export.xlsx", {"Centro A": rows, "Centro B": rows[:5]})
    add(Export("wide_two_sheets_with_tables_xlsx", two_tables,
               error="several sheets hold tables of measurements ('Centro A', 'Centro B'); "
                     "choose one with SHEET=", kinds=("layout",)))
    add(Export("wide_two_sheets_sheet_chosen_xlsx", two_tables, truth,
               options={"sheet": "Centro A"}, kinds=("layout",)))

    # 14-15. DAS28 as a formula: never opened (no saved values: refused); saved by a
    # spreadsheet program (read).
    truth = cohort(10, measures=("das28", "sledai2k"), visits=("baseline", "m6"), seed=9,
                   missing=0)

    def formulas(folder, t=truth, cached=False):
        rows = wide_rows(t, lambda m, v: f"{m}_{v}", as_numbers=True)
        values = {}
        for r in range(1, len(rows)):
            # das28_m6 written as a formula of das28_baseline: = baseline - difference.
            base, post = rows[r][1], rows[r][2]
            difference = round(base - post, 2)
            rows[r][2] = f"=B{r + 1}-{difference!r}"
            values[f"C{r + 1}"] = round(base - difference, 10)
        path = write_xlsx(folder / "formule.xlsx", {"Foglio1": rows})
        return cache_formula_values(path, values) if cached else path
    cached_truth = Truth(truth.ids, truth.visits, truth.months, {
        "das28": np.column_stack([truth.values["das28"][:, 0], np.round(
            truth.values["das28"][:, 0] - np.round(truth.values["das28"][:, 0]
                                                   - truth.values["das28"][:, 1], 2), 10)]),
        "sledai2k": truth.values["sledai2k"]})
    add(Export("wide_formulas_never_saved_xlsx", formulas,
               error="cell C2 holds a formula without a saved value", kinds=("formulas",)))
    add(Export("wide_formulas_saved_xlsx", lambda d: formulas(d, cached=True), cached_truth,
               kinds=("formulas",)))

    # 16-17. Numbers typed as text with decimal commas (read); "1,234" (refused: a
    # decimal comma or a thousands separator?).
    truth = cohort(15, measures=("das28", "crp"), visits=("baseline", "m6"), seed=10)

    def text_commas(folder, t=truth, ambiguous=False):
        rows = wide_rows(t, lambda m, v: f"{m}_mg_l_{v}" if m == "crp" else f"{m}_{v}",
                         decimal=",")
        if ambiguous:
            rows[3][3] = "1,234"
        return write_xlsx(folder / "testo.xlsx", {"Sheet1": rows})
    add(Export("wide_decimal_commas_in_text_cells_xlsx", text_commas, truth,
               kinds=("european csv",), locale="it",
               notes=("decimal commas in", "text cells read as numbers")))
    add(Export("wide_thousands_or_decimal_xlsx", lambda d: text_commas(d, ambiguous=True),
               error="(got '1,234'); a decimal comma or a thousands separator?",
               kinds=("european csv",)))

    # 18-19. A near-miss column (refused with a suggestion); codes in capitals (read).
    truth = cohort(14, measures=("das28", "sledai2k"), visits=("baseline", "m6"), seed=11)
    add(Export("wide_near_miss_column", lambda d, t=truth: write_csv_rows(
        d / "typo.csv", wide_rows(t, lambda m, v: f"{'sledaii' if m == 'sledai2k' else m}_{v}")),
        error="'sledaii' is not a measure of the codebook; did you mean 'sledai2k'",
        kinds=("clinic names",)))
    add(Export("wide_codes_in_capitals", lambda d, t=truth: write_csv_rows(
        d / "caps.csv", wide_rows(t, lambda m, v: f"{m.upper()}_{v.upper()}",
                                  id_name="PATIENT_ID")), truth, kinds=("clinic names",)))

    # 20. Weeks: W0, W24, W52 (months at 7/30.436875 weeks).
    truth = cohort(16, measures=("das28",), visits=("baseline", "w24", "w52"),
                   months=(0, 24 * 7 / DAYS_PER_MONTH, 52 * 7 / DAYS_PER_MONTH), seed=12)
    add(Export("wide_weeks", lambda d, t=truth: write_csv_rows(
        d / "weeks.csv", wide_rows(t, lambda m, v: f"DAS28 {'W0' if v == 'baseline' else v.upper()}")),
        truth, kinds=("visit labels",)))

    # 21. A summary row among the patients: refused, never analysed.
    truth = cohort(12, visits=("baseline", "m6"), seed=13)

    def summary_inside(folder, t=truth):
        rows = wide_rows(t, lambda m, v: f"{m}_{v}")
        rows.insert(7, ["Media"] + ["5"] * (len(rows[0]) - 1))
        return write_csv_rows(folder / "media.csv", rows)
    add(Export("wide_summary_row_among_patients", summary_inside,
               error="'Media' is a summary row, not a patient", kinds=("summary rows",)))

    # 22-23. An undeclared measure (C3): refused; with MEASURES= chosen, left out.
    truth = cohort(20, measures=("das28", "sledai2k"), visits=("baseline", "m6"), seed=14)

    def with_c3(folder, t=truth):
        rows = wide_rows(t, lambda m, v: f"{m}_{v}",
                         extra={"c3_baseline": lambda i: "90", "c3_m6": lambda i: "95"})
        return write_csv_rows(folder / "c3.csv", rows)
    add(Export("wide_undeclared_measure", with_c3,
               error="measure 'c3' is not in the built-in codebook", kinds=("clinic names",)))
    add(Export("wide_undeclared_measure_measures_chosen", with_c3, truth,
               options={"chosen": ["das28", "sledai2k"]}, kinds=("clinic names",),
               notes=("columns 'c3_baseline', 'c3_m6' not analysed",)))

    # 24-25. Excel's "CSV UTF-8" (byte-order mark) and "Unicode text" (UTF-16, tabs).
    truth = cohort(9, visits=("baseline", "m6"), seed=15)
    add(Export("wide_csv_utf8_with_bom", lambda d, t=truth: write_csv_rows(
        d / "bom.csv", wide_rows(t, lambda m, v: f"{m}_{v}", id_name="Patient ID"),
        encoding="utf-8-sig", newline="\r\n"), truth, kinds=("excel encodings",)))
    add(Export("wide_unicode_text_utf16_tabs", lambda d, t=truth: write_csv_rows(
        d / "unicode.txt", wide_rows(t, lambda m, v: f"{m}_{v}"), separator="\t",
        encoding="utf-16", newline="\r\n"), truth, kinds=("excel encodings",),
        notes=("encoding UTF-16",)))

    # 26. Ids with leading zeros stay text.
    truth = cohort(11, visits=("baseline", "m6"), seed=16, prefix="", width=3)
    add(Export("wide_ids_with_leading_zeros", lambda d, t=truth: write_csv_rows(
        d / "ids.csv", wide_rows(t, lambda m, v: f"{m}_{v}")), truth, kinds=("tidy",)))

    # 27. 5,000 patients, Parquet.
    truth = cohort(5000, measures=("das28", "sledai2k", "gc_mg_day", "crp"),
                   visits=("baseline", "m3", "m6"), seed=17)

    def parquet(folder, t=truth):
        rows = wide_rows(t, lambda m, v: f"{m}_mg_l_{v}" if m == "crp" else f"{m}_{v}",
                         as_numbers=True)
        frame = pd.DataFrame(rows[1:], columns=rows[0])
        frame.to_parquet(folder / "registry.parquet")
        return folder / "registry.parquet"
    add(Export("wide_registry_5000_parquet", parquet, truth, kinds=("large",)))

    # 28. The DAS28 components only (DAS28-ESR is derived in the pipeline's last stage).
    truth = cohort(25, measures=("tjc28", "sjc28", "pga", "esr"), visits=("baseline", "m6"),
                   seed=18, missing=0)
    add(Export("wide_das28_components_only", lambda d, t=truth: write_csv_rows(
        d / "components.csv", wide_rows(t, lambda m, v: f"{m}_mm_{v}" if m == "pga" else
                                        f"{m}_{v}")), truth, kinds=("units",)))

    # 29-30. A ';' file mixing decimal marks; a separator that cannot be told.
    truth = cohort(8, measures=("das28",), visits=("baseline", "m6"), seed=19, missing=0)

    def mixed_marks(folder, t=truth):
        rows = wide_rows(t, lambda m, v: f"{m}_{v}", decimal=",")
        rows[2][1] = rows[2][1].replace(",", ".") if "," in rows[2][1] else rows[2][1] + ".5"
        return write_csv_rows(folder / "misto.csv", rows, separator=";")
    add(Export("wide_mixed_decimal_marks", mixed_marks,
               error="the file has both decimal commas and decimal points",
               kinds=("european csv",)))
    add(Export("ambiguous_separator", lambda d: (d / "amb.csv").write_text(
        "patient_id;das28,baseline\n1;2,3\n2;4,5\n") and d / "amb.csv",
        error="the separator cannot be told", kinds=("european csv",)))

    # --- tidy (long) exports ----------------------------------------------------------
    # 31. The project's own format, three patients.
    truth = cohort(3, visits=("baseline", "m6"), seed=20, missing=0)
    add(Export("tidy_three_patients", lambda d, t=truth: _tidy_csv(d / "tidy.csv", t),
               truth, kinds=("tidy",)))

    # 32. A lab system's export: Italian column names, test names, units per row
    # (CRP in mg/dL), dates of the samples and of the treatment start.
    truth = cohort(30, measures=("crp", "esr"), visits=("baseline", "m3", "m6"), seed=21)
    add(Export("lab_export_dates_and_units", lambda d, t=truth: _lab_export(d, t), _dated(truth),
               kinds=("visit dates", "units", "clinic names"), locale="it",
               notes=("months counted from each patient's treatment start",)))

    # 33-34. Units per row, mixed (each converted); a unit no codebook knows (refused).
    truth = cohort(20, measures=("crp",), visits=("baseline", "m6"), seed=22)
    add(Export("tidy_units_per_row_mixed", lambda d, t=truth: _tidy_csv(
        d / "units.csv", t, unit=lambda i: "mg/dL" if i % 2 else "mg/L"), truth,
        kinds=("units",)))
    add(Export("tidy_unit_unknown", lambda d, t=truth: _tidy_csv(
        d / "units.csv", t, unit=lambda i: "g/L"),
        error="unit 'g/L' of CRP is not 'mg/L' and the codebook has no conversion from it",
        kinds=("units",)))

    # 35-37. Visits as T0/T3/T6 without months; V1-V3 without months (refused); with a
    # month column (V1 at month 0 is the baseline).
    truth = cohort(24, measures=("das28", "sledai2k"), visits=("baseline", "m3", "m6"),
                   seed=23)
    add(Export("tidy_t_labels_no_month", lambda d, t=truth: _tidy_csv(
        d / "t.csv", t, label=lambda v: t0t6[v], month=False), truth,
        kinds=("visit labels",), notes=("'T0' = baseline",)))
    vnum = {"baseline": "V1", "m3": "V2", "m6": "V3"}
    add(Export("tidy_numbered_visits_no_month", lambda d, t=truth: _tidy_csv(
        d / "v.csv", t, label=lambda v: vnum[v], month=False),
        error="visit 'V1' does not say its month", kinds=("visit labels",)))
    numbered = Truth(truth.ids, ["baseline", "v2", "v3"], truth.months, truth.values)
    add(Export("tidy_numbered_visits_with_month", lambda d, t=truth: _tidy_csv(
        d / "v.csv", t, label=lambda v: vnum[v]), numbered, kinds=("visit labels",)))

    # 38-39. Screening and baseline both present: the screening visit came before the
    # baseline and is left out (said so); or BASELINE= chooses.
    truth = cohort(10, measures=("das28",), visits=("baseline", "m6"), seed=24)

    def screening(folder, t=truth):
        path = _tidy_csv(folder / "s.csv", t)
        lines = path.read_text().splitlines()
        extra = [line.replace(",baseline,0,", ",screening,0,") for line in lines[1:]
                 if ",baseline," in line]
        path.write_text("\n".join(lines + extra) + "\n")
        return path
    add(Export("tidy_screening_and_baseline", screening, truth, kinds=("visit labels",),
               notes=("visit 'screening' before the baseline 'baseline' left out",)))
    add(Export("tidy_screening_and_baseline_chosen", screening, truth,
               options={"baseline": "baseline"}, kinds=("visit labels",),
               notes=("visit 'screening' before the baseline 'baseline' left out",)))

    # 40. A baseline label no one would guess, given with BASELINE=.
    truth = cohort(10, measures=("das28",), visits=("baseline", "m6"), seed=25)
    add(Export("tidy_custom_baseline_label", lambda d, t=truth: _tidy_csv(
        d / "c.csv", t, label=lambda v: "Pre-ANI" if v == "baseline" else "6 mesi",
        month=False), truth, options={"baseline": "Pre-ANI"}, kinds=("visit labels",)))

    # --- one row per visit ------------------------------------------------------------
    # 41. An Italian workbook: Visita = Basale / 3 mesi / 6 mesi.
    truth = cohort(28, measures=("das28", "sledai2k", "gc_mg_day"),
                   visits=("baseline", "m3", "m6"), seed=26)
    italian = {"baseline": "Basale", "m3": "3 mesi", "m6": "6 mesi"}
    add(Export("visit_rows_italian_xlsx", lambda d, t=truth: _visit_rows(
        d / "visite.xlsx", t, {"das28": "DAS28", "sledai2k": "SLEDAI 2K",
                               "gc_mg_day": "PDN (mg/die)"}, italian, id_name="Paziente",
        visit_name="Visita"), truth, kinds=("visit rows", "clinic names"), locale="it"))

    # 42-43. Visit dates and a start column, day-first dates; dates that could be either
    # (refused).
    truth = cohort(15, measures=("das28",), visits=("baseline", "m3", "m6"), seed=27)
    add(Export("visit_rows_dates_day_first", lambda d, t=truth: _dated_rows(d, t), _dated(truth),
               kinds=("visit dates", "visit rows"),
               notes=("months counted from each patient's treatment start",)))
    add(Export("visit_rows_dates_either_way", lambda d, t=truth: _dated_rows(d, t, ambiguous=True),
               error="could be", kinds=("visit dates",)))

    # 44. A month column only (month 0 is the baseline).
    truth = cohort(12, measures=("das28", "crp"), visits=("baseline", "m6", "m12"), seed=28)
    add(Export("visit_rows_month_column", lambda d, t=truth: _visit_rows(
        d / "mesi.csv", t, {"das28": "das28", "crp": "crp (mg/L)"}, None, month=True),
        truth, kinds=("visit rows",)))

    # --- REDCap --------------------------------------------------------------------------
    # 45-46. Raw export (field names, event names, a repeating instrument); label export.
    truth = cohort(26, measures=("das28_esr", "sledai2k", "gc_mg_day"),
                   visits=("baseline", "m3", "m6"), seed=29)
    add(Export("redcap_raw_export", lambda d, t=truth: _redcap(d, t, labels=False), truth,
               kinds=("redcap",), notes=("rows of repeating instruments",)))
    add(Export("redcap_label_export", lambda d, t=truth: _redcap(d, t, labels=True), truth,
               kinds=("redcap", "clinic names")))

    # --- more of what clinics write ------------------------------------------------------
    # 47-48. Words for "not measured" (read as missing); "none" for a dose (refused: zero
    # or not recorded?).
    truth = cohort(14, visits=("baseline", "m6"), seed=30, missing=0.15)

    def with_words(folder, t=truth, word="n.d."):
        rows = wide_rows(t, lambda m, v: f"{m}_{v}")
        for row in rows[1:]:
            row[:] = [row[0]] + [c if c != "" else word for c in row[1:]]
        return write_csv_rows(folder / "words.csv", rows)
    add(Export("wide_not_measured_written_as_words", with_words, truth,
               kinds=("summary rows",), locale="it", notes=("read as missing",)))
    dose_truth = cohort(6, measures=("gc_mg_day",), visits=("baseline", "m6"), seed=31,
                        missing=0)

    def dose_none(folder, t=dose_truth):
        rows = wide_rows(t, lambda m, v: f"{m}_{v}")
        rows[2][2] = "none"
        return write_csv_rows(folder / "none.csv", rows)
    add(Export("wide_dose_written_none", dose_none,
               error="(got 'none'); it could mean 0 or not recorded", kinds=("units",)))

    # 49-50. A German file with decimal commas and a 1.000 mg pulse (one thousand: the
    # point separates thousands there); a ';' file of whole numbers where 1.000 could be
    # one or a thousand (refused).
    pulse_truth = Truth(dose_truth.ids, dose_truth.visits, dose_truth.months, {
        "gc_mg_day": np.vstack([[1000.0, dose_truth.values["gc_mg_day"][0, 1]],
                                dose_truth.values["gc_mg_day"][1:]])})

    def pulse(folder, t=dose_truth):
        rows = wide_rows(t, lambda m, v: f"{m}_{v}", decimal=",", id_name="Patient")
        rows[1][1] = "1.000"
        return write_csv_rows(folder / "puls.csv", rows, separator=";")
    add(Export("wide_german_thousands_point", pulse, pulse_truth,
               kinds=("european csv",), locale="de",
               notes=("thousands separators (points) removed from 1 number",)))
    whole = cohort(6, measures=("sledai2k",), visits=("baseline", "m6"), seed=34, missing=0)

    def whole_numbers(folder, t=whole):
        rows = wide_rows(t, lambda m, v: f"{m}_{v}")
        rows[1][1] = "1.000"
        return write_csv_rows(folder / "punto.csv", rows, separator=";")
    add(Export("wide_thousands_point_or_decimal", whole_numbers,
               error="could be a decimal or a number with a thousands separator",
               kinds=("european csv",), locale="de"))

    # 50-51. Units on a row of their own under the header; the unit after the visit.
    truth = cohort(10, measures=("das28", "crp"), visits=("baseline", "m6"), seed=32)

    def unit_row(folder, t=truth):
        rows = wide_rows(t, lambda m, v: f"{m.upper()} {t0t6[v]}", scale={"crp": 10})
        units = [""] + ["" if m == "das28" else "mg/dL" for m in t.values
                        for _ in t.visits]
        units[1] = "score"
        return write_csv_rows(folder / "units.csv", [rows[0], units, *rows[1:]])
    add(Export("wide_units_on_their_own_row", unit_row, truth, kinds=("layout", "units"),
               notes=("two-row header joined", "crp mg/L (x10 from mg/dL in column names)")))
    add(Export("wide_unit_after_the_visit", lambda d, t=truth: write_csv_rows(
        d / "after.csv", wide_rows(t, lambda m, v: f"CRP {t0t6[v]} (mg/dL)" if m == "crp"
                                   else f"DAS28 {t0t6[v]}", scale={"crp": 10})), truth,
        kinds=("units",)))

    # 52. One date column per visit, and the treatment start.
    truth = cohort(16, measures=("das28",), visits=("baseline", "m3", "m6"), seed=33)

    def wide_dates(folder, t=truth):
        _, start, table = _dates(t)
        rows = wide_rows(t, lambda m, v: f"{m}_{t0t6[v]}", id_name="ID",
                         extra={**{f"data {t0t6[v]}": (lambda i, j=j: table[i][j].strftime(
                             "%d.%m.%Y")) for j, v in enumerate(t.visits)},
                                "data inizio": lambda i: start.strftime("%d.%m.%Y")})
        return write_csv_rows(folder / "date.csv", rows, separator=";")
    add(Export("wide_visit_dates_and_start", wide_dates, _dated(truth),
               kinds=("visit dates", "layout"), locale="it",
               notes=("months counted from each patient's treatment start",)))

    # 53. The paper's own Table 2, laid out as a clinic would type it: "before ANI" and
    # "last clinical evaluation" columns, and each patient's months on anifrolumab. The
    # truth is the table typed by hand from the article (tests/support/paper.py).
    from support.paper import LAST_MONTH, TABLE2

    paper = Truth([str(i) for i in range(1, 5)], ["baseline", "last"],
                  np.column_stack([np.zeros(4), LAST_MONTH]).astype(float),
                  {m: np.column_stack([np.asarray(pre, float), np.asarray(post, float)])
                   for m, (pre, post) in TABLE2.items() if m != "gc_mg_day"})

    def table2(folder, t=paper):
        rows = [["Patient", "SLEDAI before ANI", "SLEDAI Last Clinical Evaluation",
                 "DAS28 before ANI", "DAS28 Last Clinical Evaluation",
                 "Duration of ANI Therapy (Months)"]]
        for i, patient in enumerate(t.ids):
            rows.append([patient] + [_number(t.values[m][i, j]) for m in ("sledai2k", "das28")
                                     for j in range(2)] + [str(LAST_MONTH[i])])
        return write_csv_rows(folder / "table2.csv", rows)
    add(Export("wide_the_papers_table2", table2, paper, kinds=("visit labels", "clinic names"),
               notes=("months of the follow-up visit from column 'Duration of ANI Therapy "
                      "(Months)'",)))

    # 54. A Spanish workbook: "ID paciente", "Mes 6", VSG and PCR in mg/dL, and the means
    # and standard deviations ("Media", "DE") under the data.
    truth = cohort(17, measures=("esr", "crp"), visits=("baseline", "m6"), seed=35)

    def spanish(folder, t=truth):
        names = {"esr": "VSG (mm/h)", "crp": "PCR (mg/dL)"}
        visits = {"baseline": "Basal", "m6": "Mes 6"}
        rows = wide_rows(t, lambda m, v: f"{names[m]} {visits[v]}", id_name="ID paciente",
                         scale={"crp": 10}, as_numbers=True)
        rows.append(["Media"] + [1.0] * (len(rows[0]) - 1))
        rows.append(["DE"] + [0.5] * (len(rows[0]) - 1))
        return write_xlsx(folder / "cohorte.xlsx", {"Hoja1": rows})
    add(Export("wide_spanish_with_summaries_xlsx", spanish, truth,
               kinds=("summary rows", "clinic names", "units"), locale="es",
               notes=("left out as summaries or notes, not patients ('Media', 'DE')",)))

    # 55. A French export, one row per visit: "Numéro patient", "Mois 6", VS, and the
    # "Moyenne" and "Écart-type" rows at the end.
    truth = cohort(13, measures=("esr", "das28_esr"), visits=("baseline", "m3", "m6"),
                   seed=36)
    french = {"baseline": "Inclusion", "m3": "Mois 3", "m6": "Mois 6"}

    def french_rows(folder, t=truth):
        path = _visit_rows(folder / "suivi.csv", t, {"esr": "VS (mm/h)",
                                                     "das28_esr": "DAS28-VS"}, french,
                           id_name="Numéro patient", visit_name="Visite")
        lines = path.read_text().splitlines()
        lines = [line.replace(",", ";") for line in lines]
        lines += ["Moyenne;;30;4", "Écart-type;;10;1"]
        path.write_bytes(("\r\n".join(lines) + "\r\n").encode("cp1252"))
        return path
    add(Export("visit_rows_french_csv", french_rows, truth,
               kinds=("visit rows", "summary rows", "european csv"), locale="fr"))

    # 56. pandas' and R's CSV writers add a column of row numbers without a name; R writes
    # NA for a missing value and quotes every text cell.
    truth = cohort(21, visits=("baseline", "m6"), seed=37)

    def with_row_numbers(folder, t=truth):
        rows = wide_rows(t, lambda m, v: f"{m}_{v}")
        rows = [[""] + rows[0]] + [[str(i)] + [c if c != "" else "NA" for c in row]
                                   for i, row in enumerate(rows[1:], 1)]
        buffer = io.StringIO()
        csv.writer(buffer, quoting=csv.QUOTE_NONNUMERIC, lineterminator="\n").writerows(rows)
        (folder / "from_r.csv").write_text(buffer.getvalue())
        return folder / "from_r.csv"
    add(Export("wide_written_by_r_with_row_names", with_row_numbers, truth, kinds=("tidy",),
               notes=("row numbers left out", "read as missing")))
    return exports


def _tidy_csv(path: Path, truth: Truth, *, label=None, month=True, unit=None) -> Path:
    rows = [["patient_id", "measure", "timepoint"] + (["month"] if month else [])
            + ["value", "unit"]]
    scale = {"mg/dL": 10}
    k = 0
    for measure, table in truth.values.items():
        for i, patient in enumerate(truth.ids):
            for j, visit in enumerate(truth.visits):
                stated = unit(k) if unit else UNITS[measure]
                k += 1
                value = table[i, j] / scale.get(stated, 1)
                rows.append([patient, measure, label(visit) if label else visit]
                            + ([_number(truth.months[i, j])] if month else [])
                            + [_number(round(value, 10)), stated])
    return write_csv_rows(path, rows)


def _dated(truth: Truth, start="2023-01-01") -> Truth:
    """The truth of an export whose visits are dates: months from day counts, rounded
    to 2 decimals, and each follow-up named by its nearest month."""
    days = {"baseline": -3, "m3": 92, "m6": 183, "m12": 366}
    offsets = np.array([[days[v] + (i % 5) for v in truth.visits]
                        for i in range(len(truth.ids))], dtype=float)
    offsets[:, 0] = days["baseline"]
    months = np.round(offsets / DAYS_PER_MONTH, 2)
    months[:, 0] = 0.0  # a baseline dated before the start counts as month 0
    return Truth(truth.ids, truth.visits, months, truth.values)


def _dates(truth: Truth, ambiguous=False):
    """Visit dates per patient and visit, and each patient's start, as datetimes."""
    dated = _dated(truth)
    start = pd.Timestamp("2023-01-13") if not ambiguous else pd.Timestamp("2023-01-05")
    days = {"baseline": -3, "m3": 92, "m6": 183, "m12": 366}
    table = [[start + pd.Timedelta(days=days[v] + (0 if v == "baseline" else i % 5))
              for v in truth.visits] for i in range(len(truth.ids))]
    if ambiguous:  # every day and month below 13: 03/04/2023 could be either
        table = [[pd.Timestamp(2023, 1 + 3 * j, 1 + i % 12) for j, _ in enumerate(truth.visits)]
                 for i in range(len(truth.ids))]
    return dated, start, table


def _dated_rows(folder: Path, truth: Truth, ambiguous=False) -> Path:
    _, start, table = _dates(truth, ambiguous)
    rows = [["patient", "visit_date", "start_date", "das28"]]
    for i, patient in enumerate(truth.ids):
        for j in range(len(truth.visits)):
            rows.append([patient, table[i][j].strftime("%d/%m/%Y"),
                         start.strftime("%d/%m/%Y"), _number(truth.values["das28"][i, j])])
    return write_csv_rows(folder / "date.csv", rows)


def _lab_export(folder: Path, truth: Truth) -> Path:
    _, start, table = _dates(truth)
    rows = [["Paziente", "Data prelievo", "Data inizio anifrolumab", "Esame", "Risultato",
             "Unità"]]
    names = {"crp": "PCR", "esr": "VES"}
    units = {"crp": "mg/dL", "esr": "mm/h"}
    scale = {"crp": 10, "esr": 1}
    for measure, values in truth.values.items():
        for i, patient in enumerate(truth.ids):
            for j in range(len(truth.visits)):
                rows.append([patient, table[i][j].date().isoformat(), start.date().isoformat(),
                             names[measure],
                             _number(round(values[i, j] / scale[measure], 10), ","),
                             units[measure]])
    return write_csv_rows(folder / "laboratorio.csv", rows, separator=";", encoding="cp1252")


def _visit_rows(path: Path, truth: Truth, names: dict, labels: dict | None, *,
                id_name="patient_id", visit_name="visit", month=False) -> Path:
    header = [id_name] + ([visit_name] if labels else []) + (["month"] if month else []) \
        + [names[m] for m in truth.values]
    rows = [header]
    for i, patient in enumerate(truth.ids):
        for j, visit in enumerate(truth.visits):
            row = [patient] + ([labels[visit]] if labels else []) + (
                [_number(truth.months[i, j])] if month else [])
            for measure, values in truth.values.items():
                value = values[i, j]
                row.append(None if np.isnan(value) else float(value))
            rows.append(row)
    if path.suffix == ".xlsx":
        return write_xlsx(path, {"Visite": rows})
    return write_csv_rows(path, [[_number(c) if isinstance(c, float) else c for c in r]
                                 for r in rows])


def _redcap(folder: Path, truth: Truth, *, labels: bool) -> Path:
    events = {"baseline": "baseline_arm_1", "m3": "month_3_arm_1", "m6": "month_6_arm_1"}
    event_labels = {"baseline": "Baseline (Arm 1: Anifrolumab)",
                    "m3": "Month 3 (Arm 1: Anifrolumab)", "m6": "Month 6 (Arm 1: Anifrolumab)"}
    if labels:
        header = ["Record ID", "Event Name", "Repeat Instrument", "Repeat Instance",
                  "DAS28-ESR", "SLEDAI-2K", "Prednisone dose (mg/day)", "Complete?"]
    else:
        header = ["record_id", "redcap_event_name", "redcap_repeat_instrument",
                  "redcap_repeat_instance", "das28esr", "sledai_2k", "pred_dose",
                  "clinical_visit_complete"]
    rows = [header]
    for i, patient in enumerate(truth.ids):
        for j, visit in enumerate(truth.visits):
            rows.append([patient, event_labels[visit] if labels else events[visit], "", ""]
                        + [_number(truth.values[m][i, j]) for m in truth.values]
                        + ["Complete" if labels else "2"])
        if i % 7 == 0:  # an adverse event recorded on a repeating form
            rows.append([patient, event_labels["m3"] if labels else events["m3"],
                         "Adverse Events" if labels else "adverse_events", "1", "", "", "",
                         "Complete" if labels else "2"])
    return write_csv_rows(folder / ("labels.csv" if labels else "raw.csv"), rows)
