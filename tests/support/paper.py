"""The paper's Table 2, typed by hand from the article: the independent source.

Cassone et al., J. Pers. Med. 2025, 15, 546, Table 2, patients 1 to 4. Typed here, not
read from ``data/raw`` (which the cleaning code parses), so that a test comparing the
pipeline's output with these values compares two independent transcriptions.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

#: measure: (baseline, last) for patients 1..4. Columns "SLEDAI before ANI" / "SLEDAI Last
#: Clinical Evaluation", "DAS28 before ANI" / "DAS28 Last Clinical Evaluation"; the
#: glucocorticoid dose at baseline from "Concomitant Therapy *" ("GCs (8 mg)") and at the
#: last visit from "GCs Last Clinical Evaluation". Patient 1 had 40 mg IV monthly pulses,
#: so no daily dose at baseline: missing.
TABLE2 = {
    "sledai2k": ([13, 6, 6, 0], [2, 1, 0, 0]),
    "das28": ([7.22, 5.59, 4.57, 2.38], [2.18, 1.89, 2.31, 2.38]),
    "gc_mg_day": ([np.nan, 8, 6, 8], [0, 0, 4, 2]),
}
#: "Duration of ANI Therapy (Months)": the month of the last clinical evaluation.
LAST_MONTH = [12, 9, 14, 4]
UNITS = {"sledai2k": "points", "das28": "points", "gc_mg_day": "mg/day"}


def table2_measurements() -> pd.DataFrame:
    """Table 2 in the tidy format of ``data/processed/measurements.csv``."""
    rows = []
    for measure, (pre, post) in TABLE2.items():
        for i in range(4):
            rows.append((i + 1, measure, "baseline", 0, float(pre[i]), UNITS[measure]))
            rows.append((i + 1, measure, "last", LAST_MONTH[i], float(post[i]),
                         UNITS[measure]))
    return pd.DataFrame(rows, columns=["patient_id", "measure", "timepoint", "month",
                                       "value", "unit"])


def figure_patients() -> pd.DataFrame:
    """One row per patient, as the swimmer plot and the waterfall take them: disease
    duration (Table 1), months on anifrolumab, the paper's response, the DAS28 change and
    its EULAR response (patient 4: 2.38 -> 2.38, none)."""
    return pd.DataFrame({
        "patient_id": [1, 2, 3, 4],
        "disease_duration_months": [15, 60, 192, 168],
        "anifrolumab_months": LAST_MONTH,
        "response_paper": [True, True, True, True],
        "das28_change": np.subtract(TABLE2["das28"][1], TABLE2["das28"][0]),
        "eular_response": ["good", "good", "good", "none"],
    })


def figure_profile() -> pd.DataFrame:
    """A made-up patients x features table for the profile heatmap: yes/no answers
    written as booleans, words and 1/0, and features not reported (NaN)."""
    return pd.DataFrame({
        "patient_id": [1, 2, 3, 4],
        "anti-dsDNA": [True, True, False, True],
        "anti-SSA/Ro": ["yes", "yes", "yes", "no"],
        "anti-CCP": [np.nan, 1, np.nan, np.nan],
        "HCQ intolerance": [1, 1, 0, 0],
    })
