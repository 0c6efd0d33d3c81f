"""Descriptive cohort summary: the paper's "Summary of Clinical Data" as a table.

One row per characteristic, with a count or a median (range), the way case series
report them. Works on the tidy ``patients.csv`` and ``therapies.csv``.
"""

from __future__ import annotations

import pandas as pd

from helpers.vocab import AUTOANTIBODY_COLUMNS, ORGAN_DOMAINS

AUTOANTIBODY_LABELS = {
    "anti_dsdna": "anti-dsDNA", "anti_sm": "anti-Sm", "anti_ssa_ro": "anti-SSA/Ro",
    "anti_ssb_la": "anti-SSB/La", "anti_u1rnp": "anti-U1RNP", "anti_rnp70": "anti-RNP70",
    "rheumatoid_factor": "rheumatoid factor", "anti_ccp": "anti-CCP",
}


def _count(k: int, n: int) -> str:
    return f"{k}/{n} ({100 * k / n:.0f}%)"


def _median_range(values: pd.Series, unit: str) -> str:
    values = values.dropna()
    return (f"{values.median():g} ({values.min():g}–{values.max():g}) {unit}"
            if len(values) else "not reported")


def cohort_summary(patients: pd.DataFrame, therapies: pd.DataFrame | None = None
                   ) -> pd.DataFrame:
    """Summarise the cohort, one row per characteristic.

    Parameters
    ----------
    patients : DataFrame
        ``patients.csv``: ``patient_id`` and any of the columns of
        :data:`helpers.data.patients.PATIENT_COLUMNS` (a row appears for each column
        present).
    therapies : DataFrame, optional
        ``therapies.csv``; adds previous, intolerant and concomitant drugs.

    Returns
    -------
    DataFrame
        Columns ``section, characteristic, n, value``: ``n`` is the number of patients
        with the characteristic (or with data, for medians), ``value`` the printed summary,
        e.g. ``"4/4 (100%)"`` or ``"49.5 (38–56) years"``. Missing values are excluded
        from denominators and said so.
    """
    n = len(patients)
    rows = []

    def add(section, characteristic, k, value):
        rows.append({"section": section, "characteristic": characteristic, "n": k,
                     "value": value})

    def has(column):  # every column but patient_id is optional
        return column in patients.columns

    add("demographics", "patients", n, str(n))
    for column, label in [("sex", "sex"), ("ethnicity", "ethnicity")]:
        if has(column):
            for value, k in patients[column].value_counts().sort_index().items():
                add("demographics", f"{label}: {value}", int(k), _count(int(k), n))
    for column, label, unit in [("age_years", "age", "years"),
                                ("disease_duration_months", "disease duration", "months"),
                                ("anifrolumab_months", "anifrolumab duration", "months")]:
        if has(column):
            add("demographics", f"{label}, median (range)",
                int(patients[column].notna().sum()), _median_range(patients[column], unit))
    for column, label in [("erosive", "erosive arthritis"), ("rhupus", "rhupus")]:
        if has(column):
            k = int(patients[column].fillna(False).astype(bool).sum())
            add("arthritis", label, k, _count(k, n))
    if has("arthritis_pattern"):
        for pattern, k in patients["arthritis_pattern"].value_counts().sort_index().items():
            add("arthritis", f"pattern: {pattern}", int(k), _count(int(k), n))
    for column in AUTOANTIBODY_COLUMNS:
        k = int(patients[column].fillna(False).astype(bool).sum()) if has(column) else 0
        if k:
            add("autoantibodies (reported positive)", AUTOANTIBODY_LABELS[column], k,
                _count(k, n))
    for domain in ORGAN_DOMAINS:
        if not has(f"organ_{domain}"):
            continue
        known = patients[f"organ_{domain}"].dropna()
        k = int(known.astype(bool).sum())
        note = "" if len(known) == n else f"; not reported for {n - len(known)}"
        add("other organ involvement", domain, k,
            (_count(k, len(known)) if len(known) else "not reported") + note)
    if therapies is not None:
        for role, section in [("previous", "previous therapies"),
                              ("intolerant", "treatment intolerance"),
                              ("concomitant", "concomitant therapy at anifrolumab start")]:
            mine = therapies[therapies["role"] == role]
            by_drug = mine.groupby("drug")["patient_id"].nunique()
            for drug, k in by_drug.sort_values(ascending=False, kind="stable").items():
                add(section, drug, int(k), _count(int(k), n))
            if role == "previous":
                biologic = mine.loc[mine["drug_class"].isin(["biologic", "JAK inhibitor"]),
                                    "patient_id"].nunique()
                add(section, "any biologic or JAK inhibitor", int(biologic),
                    _count(int(biologic), n))
    if has("side_effects"):
        side = patients["side_effects"].astype("string").str.lower()
        k = int((side.notna() & (side != "none")).sum())
        add("safety", "side effects on anifrolumab", k, _count(k, n))
    return pd.DataFrame(rows)


def _flags(values: pd.Series) -> pd.Series:
    """Yes/no values as bool, or as nullable booleans where some are missing."""
    return values.astype(bool) if values.notna().all() else values.astype("boolean")


def patient_features(patients: pd.DataFrame, therapies: pd.DataFrame | None = None
                     ) -> tuple[pd.DataFrame, dict[str, list[str]]]:
    """Wide patients x features table for :func:`helpers.figures.profile_heatmap`.

    Parameters
    ----------
    patients, therapies : DataFrame
        ``patients.csv`` and (optionally) ``therapies.csv``.

    Returns
    -------
    features : DataFrame
        One row per patient (``patient_id`` column), one boolean column per feature,
        missing where the paper does not report it (organ involvement of patient 2).
    groups : dict
        Feature group name -> its columns, in display order.
    """
    features = patients[["patient_id"]].copy()
    groups: dict[str, list[str]] = {}
    antibodies = [c for c in AUTOANTIBODY_COLUMNS
                  if c in patients.columns and patients[c].fillna(False).astype(bool).any()]
    for column in antibodies:
        features[AUTOANTIBODY_LABELS[column]] = _flags(patients[column])
    groups["Autoantibodies"] = [AUTOANTIBODY_LABELS[c] for c in antibodies]
    arthritis = {label: column for label, column in
                 {"Erosive": "erosive", "Rhupus": "rhupus"}.items() if column in patients}
    for label, column in arthritis.items():
        features[label] = _flags(patients[column])
    groups["Arthritis"] = list(arthritis)
    domains = [d for d in ORGAN_DOMAINS if f"organ_{d}" in patients.columns]
    for domain in domains:
        features[domain.capitalize()] = patients[f"organ_{domain}"].astype("boolean")
    groups["Other organs"] = [d.capitalize() for d in domains]
    if therapies is not None:
        for role, title in [("previous", "Previous therapy"), ("intolerant", "Intolerance")]:
            mine = therapies[therapies["role"] == role]
            drugs = mine["abbreviation"].value_counts().sort_index().index.tolist()
            columns = []
            for drug in sorted(drugs, key=lambda d: -mine.loc[mine["abbreviation"] == d,
                                                              "patient_id"].nunique()):
                name = f"{drug} ({'prev.' if role == 'previous' else 'intol.'})"
                taken = set(mine.loc[mine["abbreviation"] == drug, "patient_id"])
                features[name] = features["patient_id"].isin(taken)
                columns.append(name)
            groups[title] = columns
    return features, groups
