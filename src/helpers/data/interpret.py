"""Stage 4 of reading a file: what its names, units and visits mean.

:func:`interpret` turns the long table of :mod:`helpers.data.shapes` (measure names and
visit labels as written) into the tidy table of
:data:`helpers.vocab.MEASUREMENT_COLUMNS`, still as text, plus one unit-conversion factor
per row. Every assumption that can change a number is either stated in the input or
refused with a line that says how to state it:

- **measures**: codes, labels and aliases of the codebook (``DAS28 (VES)`` is
  ``das28_esr``); a name close to a known one gets "did you mean"; an undeclared measure
  stops the run unless ``MEASURES=`` chose the ones to analyse;
- **units**: the unit a file states (a ``unit`` column, a column header such as
  ``CRP (mg/dL)``, or ``UNITS=crp=mg/dL``) is converted to the codebook's unit with the
  codebook's factors; a measure whose units differ by a factor (CRP in mg/L or mg/dL; a
  patient global on 0-100 mm or 0-10) must have its unit stated: it is never assumed;
- **visits**: the baseline's synonyms (``T0``, ``BL``, ``basale``, ``screening``),
  ``BASELINE=label`` for any other, a numbered visit (``V1``) when its month is 0;
  months from a month column, from visit dates (with the treatment start: a start
  column or ``START=``; else each patient's baseline date), or from the label itself
  (``M6``, ``6 mesi``, ``W24``).

Each decision is recorded for the run's summary (:attr:`Interpreted.notes`,
:attr:`Interpreted.units`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from helpers.data.distinct import DistinctCells
from helpers.data.names import (DAYS_PER_MONTH, MISSING_VALUES, PRE_BASELINE_NAMES,
                                MeasureIndex, Visit, parse_visit, visit_label)
from helpers.data.shapes import Long
from helpers.errors import quote_value
from helpers.vocab import BASELINE, MEASUREMENT_COLUMNS, name_key, name_tokens

__all__ = ["Interpreted", "interpret", "parse_dates", "parse_units"]


@dataclass
class Interpreted:
    """The tidy table as text, with what interpreting decided.

    Attributes
    ----------
    frame : DataFrame
        Columns :data:`~helpers.vocab.MEASUREMENT_COLUMNS`, text; ``unit`` the
        codebook's unit.
    factor : ndarray of float
        Per row, the factor that turns ``value`` into the codebook's unit.
    units : dict
        Measure code -> its unit, and how it was read (``"mg/L (x10 from mg/dL in the
        column names)"``).
    visits : dict
        Visit label as written -> timepoint.
    notes : list of str
    """

    frame: pd.DataFrame
    factor: np.ndarray
    units: dict = field(default_factory=dict)
    visits: dict = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def parse_units(text: str | None, index: MeasureIndex) -> dict[str, str]:
    """``UNITS=crp=mg/dL,pga=0-10`` as {measure code: unit}.

    Examples
    --------
    >>> from helpers.vocab import MEASURES
    >>> parse_units("CRP=mg/dL, VAS=0-10", MeasureIndex(MEASURES))
    {'crp': 'mg/dL', 'pga': '0-10'}
    """
    units = {}
    for part in filter(None, (p.strip() for p in (text or "").split(","))):
        name, sep, unit = part.partition("=")
        code = index.lookup(name)
        if not sep or not unit.strip():
            raise ValueError(f"UNITS must be measure=unit pairs separated by commas (such as "
                             f"crp=mg/dL,pga=0-10), got {part!r}")
        if code is None:
            raise ValueError(f"UNITS names {name.strip()!r}, which is not a measure of the "
                             "codebook")
        if index.measure(code).unit_factor(unit) is None:
            raise ValueError(f"UNITS gives {unit.strip()!r} for {code}, which the codebook "
                             f"cannot convert to {index.measure(code).unit} (it knows "
                             f"{_known_units(index.measure(code))})")
        units[code] = unit.strip()
    return units


def _known_units(measure) -> str:
    return ", ".join([measure.unit, *(u for u, _ in measure.conversions)])


def interpret(long: Long, index: MeasureIndex, *, units: Mapping[str, str] | None = None,
              baseline: str | None = None, start: str | None = None,
              measures: Sequence[str] | None = None) -> Interpreted:
    """Read measure names, units and visits of a long table.

    Parameters
    ----------
    long : Long
    index : MeasureIndex
    units : mapping, optional
        Measure code -> unit, for measures whose unit the file does not state
        (``UNITS=``; see :func:`parse_units`).
    baseline : str, optional
        The label of the baseline visit when it is none of the known synonyms
        (``BASELINE=``).
    start : str, optional
        The treatment start: an ISO date for every patient, or the name of a column
        (``START=``). Months are counted from it when visits are given as dates.
    measures : sequence of str, optional
        The measures chosen (``MEASURES=``): undeclared measures are then left out.

    Returns
    -------
    Interpreted

    Raises
    ------
    InputError
        Located at the first row concerned: an unknown measure, an unknown or unstated
        unit, no baseline or several, a visit without a month, a date that cannot be read.
    """
    frame, fail = long.frame, long.locator.error
    notes: list[str] = []
    _refuse_formulas(frame, fail)
    measure, names = _measures(frame, index, fail, measures, notes)
    keep = measure >= 0
    if not keep.all():
        frame, measure = frame[keep], measure[keep]
    if not len(frame):
        raise fail("has no values of a measure to analyse", row=0)
    factor, unit_notes = _units(frame, measure, names, index, dict(units or {}), fail,
                                long.unit_source)
    value = _missing_words(frame["value"], notes)
    timepoint, month, visit_notes, visits = _visits(frame, baseline, start, fail)
    kept = (timepoint != "").to_numpy()  # visits before a patient's baseline (dates only)
    if not kept.all():
        frame, measure, factor = frame[kept], measure[kept], factor[kept]
        timepoint, month, value = timepoint[kept], month[kept], value[kept]
    tidy = pd.DataFrame({
        "patient_id": frame["patient_id"],
        "measure": _expand(names, measure, frame.index),
        "timepoint": timepoint,
        "month": month,
        "value": value,
        "unit": _expand([index.measure(code).unit for code in names], measure, frame.index),
    }, index=frame.index)[MEASUREMENT_COLUMNS]
    return Interpreted(tidy, factor, unit_notes, visits, notes + visit_notes)


def _missing_words(values: pd.Series, notes: list[str]) -> pd.Series:
    """Values written as a word for "not measured" (NA, n.d., -) become empty cells."""
    cells = DistinctCells(values)
    missing = cells.rows(cells.values.str.strip().str.lower().isin(MISSING_VALUES))
    if not missing.any():
        return values
    seen = sorted(set(values[missing].str.strip()))[:4]
    notes.append(f"{int(missing.sum()):,} value{'s' if missing.sum() > 1 else ''} written "
                 f"{', '.join(map(quote_value, seen))} read as missing")
    return values.mask(missing, "")


def _factorized(cells: pd.Series) -> tuple[np.ndarray, list[str]]:
    """Stripped cells as integer codes and their distinct values: every decision is made
    once per distinct name, label or unit, never once per row."""
    distinct = DistinctCells(cells).strip()
    return distinct.codes.astype(np.int64, copy=False), [str(u) for u in distinct.values]


def _expand(uniques: list[str], codes: np.ndarray, index: pd.Index) -> pd.Series:
    """The text column whose row ``i`` is ``uniques[codes[i]]``, built in Arrow."""
    return pd.Series(pd.array(uniques, dtype="str").take(codes), index=index)


def _first_row(frame: pd.DataFrame, where: np.ndarray) -> int:
    return int(frame.index[int(np.flatnonzero(where)[0])])


def _refuse_formulas(frame: pd.DataFrame, fail) -> None:
    """A text cell a spreadsheet would execute is refused, not interpreted."""
    for column, shown in (("measure", "measure"), ("visit", "timepoint"), ("unit", "unit")):
        cells = DistinctCells(frame[column]).strip()
        row = cells.first(cells.values.str.startswith(("=", "@", "+"))
                          & (cells.values.str.len() > 1))
        if row is not None:
            raise fail(f"looks like a spreadsheet formula (got {quote_value(cells.at(row))})",
                       row=row, column=shown)


# --- measures ----------------------------------------------------------------------------


def _measures(frame: pd.DataFrame, index: MeasureIndex, fail, chosen, notes
              ) -> tuple[np.ndarray, list[str]]:
    """Every row's measure as a code into the measure codes returned; -1 for rows of
    measures left out."""
    name_of_row, written = _factorized(frame["measure"])
    codes, skipped, renamed = [], [], []
    for k, name in enumerate(written):
        code = index.lookup(name)
        if code is None:
            row = _first_row(frame, name_of_row == k)
            if name == "":
                raise fail("is empty: name the measure (such as das28)", row=row,
                           column="measure")
            near = index.suggest(name)
            if near is not None:
                raise fail(f"measure {quote_value(name)} is not in {index.codebook.source}; "
                           f"did you mean {near!r} ({index.measure(near).name})?", row=row,
                           column="measure")
            if not chosen:
                raise fail(f"measure {quote_value(name)} is not in {index.codebook.source}; "
                           "declare it in a codebook (CODEBOOK=codebook.csv), or choose the "
                           "measures to analyse with MEASURES=", row=row, column="measure")
            skipped.append(name)
        elif name != code:
            renamed.append(f"{quote_value(name)} = {code}")
        codes.append(code)
    if skipped:
        notes.append(f"measure{'s' if len(skipped) > 1 else ''} "
                     f"{', '.join(quote_value(s) for s in skipped[:5])} not in the codebook "
                     "and not chosen: left out")
    if renamed:
        renamed = sorted(set(renamed))
        notes.append("measures: " + ", ".join(renamed[:8]) + (" ..." if len(renamed) > 8 else ""))
    names = list(dict.fromkeys(code for code in codes if code is not None))
    position = np.array([names.index(code) if code is not None else -1 for code in codes],
                        dtype=np.int64)
    return position[name_of_row], names


# --- units --------------------------------------------------------------------------------


def _units(frame: pd.DataFrame, measure: np.ndarray, names: list[str], index: MeasureIndex,
           given: dict[str, str], fail, unit_source: str
           ) -> tuple[np.ndarray, dict[str, str]]:
    """Per row, the factor to the codebook's unit; per measure, how its unit was read."""
    unit_of_row, stated = _factorized(frame["unit"])
    pair = measure * len(stated) + unit_of_row
    factors = np.ones(len(names) * len(stated))
    described = {}
    present = np.unique(pair)
    for m, code in enumerate(names):
        units = [stated[p % len(stated)] for p in present if p // len(stated) == m]
        if not units:
            continue
        measure_spec = index.measure(code)
        for unit in units:
            p = m * len(stated) + stated.index(unit)
            first = _first_row(frame, pair == p)
            factors[p] = _unit_factor(measure_spec, code, unit, given, fail, first)
        described[code] = _unit_description(measure_spec, [u for u in units if u],
                                            given.get(code), unit_source)
    return factors[pair], described


def _unit_description(measure, from_file: list[str], given: str | None, source: str) -> str:
    """How a measure's unit was read: ``mg/L (x10 from mg/dL in the column names)``."""
    if not from_file:
        if given is None:
            return measure.unit
        from_file, source = [given], "UNITS"
    parts = []
    for unit in sorted({measure.unit_spelling(u) for u in from_file}):
        factor = measure.unit_factor(unit)
        parts.append(f"{source}" if unit == measure.unit else
                     f"{unit} in {source}" if factor == 1 else
                     f"x{factor:g} from {unit} in {source}")
    return f"{measure.unit} ({'; '.join(parts)})"


def _unit_factor(measure, code: str, unit: str, given: dict[str, str], fail,
                 first: int) -> float:
    """The factor of one measure's values stated in ``unit`` ("" when not stated)."""
    if unit:
        value = measure.unit_factor(unit)
        if value is None:
            raise fail(f"unit {quote_value(unit)} of {measure.name} is not "
                       f"{measure.unit!r} and the codebook has no conversion from it "
                       f"(it knows {_known_units(measure)}); convert the values, or "
                       "add the unit to the codebook's conversions", row=first,
                       column="unit")
        if code in given and measure.unit_factor(given[code]) != value:
            raise fail(f"UNITS gives {given[code]!r} for {code}, but the file states "
                       f"{quote_value(unit)}", row=first, column="unit")
        return value
    if code in given:
        return measure.unit_factor(given[code])
    if measure.needs_unit:
        other = [u for u, f in measure.conversions if f != 1]
        raise fail(f"the unit of {measure.name} is not stated, and its values could "
                   f"be {' or '.join([measure.unit, *other][:3])}; state it in the column "
                   f"name (such as {code}_{'_'.join(name_tokens(other[0]))}_m6, or "
                   f"'{measure.name} ({other[0]})'), in a unit column, or with "
                   f"UNITS={code}={measure.unit}", row=first, column="unit")
    return 1.0


# --- visits --------------------------------------------------------------------------------


def _visits(frame: pd.DataFrame, baseline: str | None, start: str | None, fail
            ) -> tuple[pd.Series, pd.Series, list[str], dict]:
    """Timepoint label and month (text) of every row."""
    notes: list[str] = []
    label_of_row, labels = _factorized(frame["visit"])
    month_text = frame["month"].str.strip()
    has_dates = bool((frame["date"].str.strip() != "").any())
    if start is not None and not has_dates:
        raise fail("START= is given, but the file has no visit dates to count months from "
                   "(a date column, or date_<visit> columns)", row=0)
    if labels == [""] and not has_dates:
        # Month only: month 0 is the baseline, every other month its own visit.
        return _visits_from_months(frame, month_text, fail)
    if labels == [""]:
        return _visits_from_dates(frame, start, fail, notes)
    if "" in labels:
        raise fail("is empty: every row needs its visit (such as baseline, T6, month 6)",
                   row=_first_row(frame, label_of_row == labels.index("")),
                   column="timepoint")
    parsed = {label: parse_visit(label) for label in labels}
    for k, label in enumerate(labels):
        if parsed[label] is None and not visit_label(label):
            raise fail(f"visit {quote_value(label)} is neither a known visit nor a name "
                       "(letters and digits)", row=_first_row(frame, label_of_row == k),
                       column="timepoint")
    first = _first_visit_label(frame, label_of_row, labels, fail) if has_dates else None
    base = _baseline_label(label_of_row, labels, month_text, parsed, baseline, fail, first)
    mapping = _visit_mapping(labels, parsed, base, notes)
    timepoint = _expand([mapping[label].timepoint for label in labels], label_of_row,
                        frame.index)
    if has_dates:
        month = pd.Series(_months_from_dates(frame, timepoint.to_numpy(dtype=object), start,
                                             fail, notes), index=frame.index, dtype="str")
    else:
        from_label = _expand(["0" if mapping[label].baseline or label == base else
                              "" if mapping[label].month is None else
                              _month_text(mapping[label].month) for label in labels],
                             label_of_row, frame.index)
        month = month_text.where(month_text != "", from_label)
        missing = ((month == "") & (timepoint != "")).to_numpy()
        if missing.any():
            at = int(np.flatnonzero(missing)[0])
            raise fail(f"visit {quote_value(labels[label_of_row[at]])} does not say its "
                       "month: add a month column (months since anifrolumab start), visit "
                       "dates with the start date (START=), or name the visits with their "
                       "month (M6, 6 mesi, W24)", row=int(frame.index[at]),
                       column="timepoint")
    return timepoint, month, notes, {k: v.timepoint for k, v in mapping.items()}


def _visit_mapping(labels: list[str], parsed: dict, base: str, notes: list[str]
                   ) -> dict[str, Visit]:
    """The visit each label stands for, given the baseline's label; a note of the labels
    read as something else than themselves."""
    # Another visit that reads as a baseline (screening beside baseline, or beside
    # BASELINE=) came before it: not a follow-up, so left out (timepoint "").
    before = [label for label in labels if label != base and parsed[label] is not None
              and parsed[label].baseline]
    if before:
        notes.append(f"visit{'s' if len(before) > 1 else ''} "
                     f"{', '.join(map(quote_value, before))} before the baseline "
                     f"{quote_value(base)} left out")
    mapping, described = {}, []
    for label in labels:
        visit = parsed[label]
        if label == base:
            visit = Visit(BASELINE, 0.0, True)
        elif label in before:
            visit = Visit("", None)
        elif visit is None:
            visit = Visit(visit_label(label), None)
        mapping[label] = visit
        if visit.timepoint not in (label, ""):
            shown = (f" (month {visit.month:.3g})" if visit.month is not None and
                     visit.timepoint[0] in "wd" else "")
            described.append(f"{quote_value(label)} = {visit.timepoint}{shown}")
    if described:
        notes.append("visits: " + ", ".join(described[:8]) +
                     (" ..." if len(described) > 8 else ""))
    return mapping


def _month_text(month: float) -> str:
    """A month as text: whole months as integers, others in full (``5.51962052609``)."""
    month = float(month)
    return str(int(month)) if month.is_integer() else repr(month)


def _baseline_label(label_of_row, labels, month_text, parsed, baseline, fail,
                    first: str | None = None) -> str:
    """The one label of the baseline visit (``first``: the label of every patient's
    earliest visit, when visits have dates)."""
    seen = ", ".join(quote_value(label) for label in labels[:8])
    if baseline is not None:
        matches = [label for label in labels if name_key(label) == name_key(baseline)]
        if not matches:
            raise fail(f"BASELINE={baseline!r} is not a visit of the file; its visits are "
                       f"{seen}", row=0, column="timepoint")
        return matches[0]
    synonyms = [label for label, visit in parsed.items() if visit is not None and visit.baseline]
    if len(synonyms) > 1:
        # A screening visit beside a baseline visit came before it.
        strong = [label for label in synonyms if name_key(label) not in PRE_BASELINE_NAMES]
        if len(strong) == 1:
            return strong[0]
        raise fail(f"{' and '.join(map(quote_value, synonyms[:2]))} both read as the baseline "
                   "visit; choose the one before anifrolumab with BASELINE=label", row=0,
                   column="timepoint")
    if synonyms:
        return synonyms[0]
    if first is not None:
        return first
    months = month_text.to_numpy(dtype=object)
    at_zero = [label for k, label in enumerate(labels)
               if all(_is_zero(m) for m in set(months[label_of_row == k]))]
    if len(at_zero) == 1:
        return at_zero[0]
    undated = [label for label in labels if parsed[label] is None or parsed[label].month is None]
    if undated and not (month_text != "").any():
        raise fail(f"visit {quote_value(undated[0])} does not say its month: add a month "
                   "column (months since anifrolumab start; the visit at month 0 is the "
                   "baseline), visit dates with the start date (START=), or name the visits "
                   "with their month (T0, M6, 6 mesi, W24)", row=0, column="timepoint")
    raise fail(f"no baseline visit: expected one labelled baseline (or T0, BL, M0, basale, "
               f"screening, or a visit at month 0); the visits are {seen}; name the visit "
               "before anifrolumab with BASELINE=label", row=0, column="timepoint")


def _first_visit_label(frame, label_of_row, labels, fail) -> str | None:
    """The label of every patient's earliest dated visit, if it is the same for all."""
    dates = _read_date_column(frame, "date", fail)
    order = pd.DataFrame({"id": frame["patient_id"].to_numpy(), "date": dates,
                          "label": label_of_row}).dropna(subset=["date"])
    firsts = order.sort_values("date", kind="stable").groupby("id")["label"].first()
    return labels[int(firsts.iloc[0])] if firsts.nunique() == 1 else None


def _is_zero(text: str) -> bool:
    try:
        return float(text) == 0
    except ValueError:
        return False


def _visits_from_months(frame, month_text: pd.Series, fail):
    if (month_text == "").any():
        raise fail("is empty: every row needs its month (0 at baseline)",
                   row=_first_row(frame, (month_text == "").to_numpy()), column="month")
    month_of_row, months = _factorized(month_text)
    timepoints = []
    for text in months:
        try:
            value = float(text)
        except ValueError:
            timepoints.append(visit_label(text) or "visit")  # validation names the cell
            continue
        timepoints.append(BASELINE if value == 0 else
                          f"m{_month_text(value)}".replace(".", "_"))
    return (_expand(timepoints, month_of_row, frame.index), month_text,
            ["visits from the month column (month 0 = baseline)"], {})


# --- dates -------------------------------------------------------------------------------

_ISO = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ][0-9:.]+)?")
_DMY = re.compile(r"(\d{1,2})([./-])(\d{1,2})\2(\d{4})")


def parse_dates(cells: pd.Series) -> tuple[np.ndarray, str | None]:
    """Dates as days since 1970, and what went wrong (None when all were read).

    ISO dates (``2023-01-15``, as spreadsheets store them) are always read. Day-first or
    month-first dates are read only when the column tells which: dots are day-first
    (``15.01.2023``); with slashes or dashes a first number above 12 makes the column
    day-first, a second above 12 month-first, and a column where every date could be
    either (``03/04/2023``) is refused, never guessed.

    Examples
    --------
    >>> days, problem = parse_dates(pd.Series(["2023-01-15", "15/02/2023", ""]))
    >>> days.tolist()[:2], problem
    ([19372.0, 19403.0], None)
    >>> parse_dates(pd.Series(["03/04/2023"]))[1]
    "'03/04/2023' could be 3 April or March 4: write dates as 2023-04-03"
    """
    text = cells.str.strip()
    days = np.full(len(text), np.nan)
    values = text.to_numpy(dtype=str)
    iso = text.str.fullmatch(_ISO.pattern).to_numpy()
    dmy = text.str.fullmatch(_DMY.pattern).to_numpy()
    bad = (values != "") & ~iso & ~dmy
    if bad.any():
        return days, (f"{quote_value(values[bad.argmax()])} is not a date: write dates as "
                      "2023-01-15, or as real dates in the spreadsheet")
    if iso.any():
        parts = text[iso].str.extract(_ISO.pattern).astype(int)
        days[iso] = _days(parts[0], parts[1], parts[2])
    if dmy.any():
        parts = text[dmy].str.extract(_DMY.pattern)
        first, second, year = parts[0].astype(int), parts[2].astype(int), parts[3].astype(int)
        dotted = (parts[1] == ".").all()
        day_first = dotted or (first > 12).any()
        month_first = (second > 12).any()
        if day_first and month_first:
            return days, ("the dates mix day-first and month-first (such as "
                          f"{quote_value(values[dmy][int((first > 12).to_numpy().argmax())])}):"
                          " write them as 2023-01-15")
        if not day_first and not month_first:
            example = values[dmy][0]
            a, b = int(first.iloc[0]), int(second.iloc[0])
            return days, (f"{quote_value(example)} could be {a} {_MONTHS[b - 1]} or "
                          f"{_MONTHS[a - 1]} {b}: write dates as "
                          f"{int(year.iloc[0])}-{b:02d}-{a:02d}")
        day, month = (first, second) if day_first else (second, first)
        days[dmy] = _days(year, month, day)
    if np.isnan(days[values != ""]).any():
        at = int(np.flatnonzero(np.isnan(days) & (values != ""))[0])
        return days, f"{quote_value(values[at])} is not a date of the calendar"
    return days, None


_MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December"]


def _days(year, month, day) -> np.ndarray:
    dates = pd.to_datetime(pd.DataFrame({"year": year, "month": month, "day": day}),
                           errors="coerce")
    return ((dates - pd.Timestamp("1970-01-01")).dt.days).to_numpy(dtype=float)


def _read_date_column(frame, column: str, fail) -> np.ndarray:
    days, problem = parse_dates(frame[column])
    if problem is not None:
        values = frame[column].str.strip()
        bad = values.index[((values != "") & np.isnan(days)).to_numpy()]
        row = int(bad[0]) if len(bad) else int(frame.index[0])
        raise fail(problem, row=row, column=column if column != "date" else "month")
    return days


def _start_days(frame, start: str | None, fail, notes) -> np.ndarray | None:
    """Each row's treatment start (days), from START= or a start column; None if neither."""
    if start is not None:
        days, problem = parse_dates(pd.Series([start]))
        if problem is None and not np.isnan(days[0]):
            notes.append(f"months counted from START={start}")
            return np.full(len(frame), days[0])
        raise fail(f"START={start!r} is not a date (write 2023-01-15); to give each patient's "
                   "start, put it in a column of the file (start_date)", row=0)
    if (frame["start"].str.strip() != "").any():
        days = _read_date_column(frame, "start", fail)
        notes.append("months counted from each patient's treatment start")
        return days
    return None


def _months_from_dates(frame, timepoint, start, fail, notes) -> np.ndarray:
    """Months since the start (or each patient's baseline visit), from visit dates."""
    dates = _read_date_column(frame, "date", fail)
    origin = _start_days(frame, start, fail, notes)
    ids = frame["patient_id"].str.strip().to_numpy(dtype=object)
    if origin is None:
        base = timepoint == BASELINE
        origin_of = pd.Series(dates[base], index=ids[base]).groupby(level=0).min()
        origin = pd.Series(ids).map(origin_of).to_numpy(dtype=float)
        notes.append("months counted from each patient's baseline visit date (no START=)")
    missing = np.isnan(dates) | np.isnan(origin)
    if missing.any():
        at = int(np.flatnonzero(missing)[0])
        what = "visit date" if np.isnan(dates[at]) else "start date (or baseline date)"
        raise fail(f"the {what} of this visit is missing: months are counted from dates",
                   row=int(frame.index[at]), column="month")
    months = (dates - origin) / DAYS_PER_MONTH
    base = timepoint == BASELINE
    early = base & (months < 0)
    if early.any():
        notes.append(_early_baselines(int(early.sum())))
        months = np.where(early, 0.0, months)
    before = ~base & (months < 0) & (timepoint != "")
    if before.any():
        at = int(np.flatnonzero(before)[0])
        raise fail(f"visit {quote_value(timepoint[at])} is dated before the treatment start",
                   row=int(frame.index[at]), column="month")
    # Dates give months to the day: two decimals (a third of a day) say all they know.
    return np.array([_month_text(m) for m in np.round(months, 2)], dtype=object)


def _early_baselines(count: int) -> str:
    return (f"{count:,} baseline visit{'s' if count > 1 else ''} dated before the start "
            f"count{'' if count > 1 else 's'} as month 0")


def _visits_from_dates(frame, start, fail, notes):
    """Visits given by date only: the baseline is each patient's last visit on or before
    the start (or the first visit, without a start); follow-ups are named by month."""
    dates = _read_date_column(frame, "date", fail)
    origin = _start_days(frame, start, fail, notes)
    ids = frame["patient_id"].str.strip().to_numpy(dtype=object)
    visits = pd.DataFrame({"id": ids, "date": dates}).drop_duplicates()
    if origin is not None:
        visits["origin"] = visits["id"].map(pd.Series(origin).groupby(ids).first())
        before = visits[visits["date"] <= visits["origin"]]
        base_date = before.groupby("id")["date"].max()
    else:
        base_date = visits.groupby("id")["date"].min()
        notes.append("the first visit of each patient is the baseline; months counted from "
                     "it (no START=)")
    base_of_row = pd.Series(ids).map(base_date).to_numpy(dtype=float)
    no_base = np.isnan(base_of_row)
    if no_base.any():
        at = int(np.flatnonzero(no_base)[0])
        raise fail(f"patient {quote_value(ids[at])} has no visit on or before the treatment "
                   "start: no baseline", row=int(frame.index[at]), column="month")
    ref = origin if origin is not None else base_of_row
    if origin is not None:
        early = (dates == base_of_row) & (dates < origin)
        patients_early = len(set(ids[early]))
        if patients_early:
            notes.append(_early_baselines(patients_early))
    pre = dates < base_of_row
    if pre.any():
        notes.append(f"{int(pre.sum()):,} values from visits before each patient's baseline "
                     "left out")
    months = np.maximum((dates - ref) / DAYS_PER_MONTH, 0.0)
    is_base = dates == base_of_row
    rounded = np.round(months).astype(int)
    timepoint = np.where(is_base, BASELINE, np.char.add("m", rounded.astype(str))).astype(object)
    timepoint[is_base] = BASELINE
    months = np.where(is_base, 0.0, months)
    timepoint[pre] = ""
    keys = pd.DataFrame({"id": ids, "tp": timepoint, "date": dates})[~pre]
    clash = keys.drop_duplicates(["id", "date"]).duplicated(["id", "tp"], keep=False)
    if clash.any():
        first = keys.drop_duplicates(["id", "date"])[clash].iloc[0]
        raise fail(f"patient {quote_value(first['id'])} has two visits that both fall in "
                   f"{first['tp']}: add a visit column to tell them apart",
                   row=int(frame.index[int(np.flatnonzero((ids == first['id']) & (timepoint == first['tp']))[0])]),
                   column="month")
    notes.append("visits from dates: follow-ups named by the nearest month")
    month = np.array([_month_text(m) for m in np.round(months, 2)], dtype=object)
    return (pd.Series(timepoint, index=frame.index, dtype="str"),
            pd.Series(month, index=frame.index, dtype="str"), notes, {})
