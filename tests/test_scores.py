"""Tests of helpers.scores: formulas by hand, cut-offs at their boundaries, the EULAR
table cell by cell, and the responder table on the paper's data."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from helpers.scores import (
    DAS28_CATEGORIES,
    EULAR_RESPONSES,
    GC_TARGET_EULAR_2023,
    GC_TARGET_LLDAS,
    RESPONDER_COLUMNS,
    das28_category,
    das28_crp,
    das28_esr,
    eular_response,
    gc_at_or_below,
    gc_stopped,
    responder_table,
    sledai_reduction,
    summarise_responders,
)
from helpers.synth import make_cohort
from support.paper import TABLE2, table2_measurements


def paper_measurements() -> pd.DataFrame:
    """The paper's Table 2 in the tidy format (patient 1's baseline GC dose missing)."""
    return table2_measurements()

# --------------------------------------------------------------------------------------
# DAS28 formulas
# --------------------------------------------------------------------------------------


def test_das28_esr_by_hand():
    # Prevoo 1995: 0.56 sqrt(TJC28) + 0.28 sqrt(SJC28) + 0.70 ln(ESR) + 0.014 GH
    expected = 0.56 * math.sqrt(4) + 0.28 * math.sqrt(2) + 0.70 * math.log(30) + 0.014 * 50
    assert das28_esr(4, 2, 30, 50) == pytest.approx(expected, rel=1e-12)
    assert expected == pytest.approx(4.596817964627975, rel=1e-12)
    assert isinstance(das28_esr(4, 2, 30, 50), float)
    # no joints, ESR 1 mm/h, GH 0 -> 0
    assert das28_esr(0, 0, 1, 0) == 0.0


def test_das28_crp_by_hand():
    # 0.56 sqrt(TJC28) + 0.28 sqrt(SJC28) + 0.36 ln(CRP + 1) + 0.014 GH + 0.96
    expected = (0.56 * math.sqrt(10) + 0.28 * math.sqrt(6) + 0.36 * math.log(12 + 1)
                + 0.014 * 70 + 0.96)
    assert das28_crp(10, 6, 12, 70) == pytest.approx(expected, rel=1e-12)
    assert das28_crp(0, 0, 0, 0) == pytest.approx(0.96, rel=1e-12)


def test_das28_vectorised_keeps_series_index_and_missing():
    tjc = pd.Series([0, 4, 28], index=["a", "b", "c"])
    result = das28_esr(tjc, [0, 2, 28], [10, 30, np.nan], 50)
    assert list(result.index) == ["a", "b", "c"]
    assert result["b"] == pytest.approx(das28_esr(4, 2, 30, 50))
    assert np.isnan(result["c"])
    array = das28_crp(np.array([1, 2]), np.array([1, 2]), np.array([5.0, 5.0]), 20)
    assert isinstance(array, np.ndarray) and array.shape == (2,)


@pytest.mark.parametrize("function, args, name", [
    (das28_esr, (-1, 0, 10, 0), "tjc"),
    (das28_esr, (29, 0, 10, 0), "tjc"),
    (das28_esr, (0, 29, 10, 0), "sjc"),
    (das28_esr, (0, -2, 10, 0), "sjc"),
    (das28_esr, (1.5, 0, 10, 0), "tjc"),
    (das28_esr, (0, 0, 0, 0), "esr"),
    (das28_esr, (0, 0, -5, 0), "esr"),
    (das28_esr, (0, 0, 10, 101), "gh"),
    (das28_crp, (0, 0, -1, 0), "crp"),
    (das28_crp, ([0, 30], 0, 1, 0), "tjc"),
    (das28_esr, ("x", 0, 10, 0), "tjc"),
])
def test_das28_invalid_input_names_the_argument(function, args, name):
    with pytest.raises(ValueError, match=rf"^{name} must"):
        function(*args)


# --------------------------------------------------------------------------------------
# Categories and EULAR response
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("value, expected", [
    (0.0, "remission"),
    (np.nextafter(2.6, 0), "remission"),
    (2.6, "low"),                         # remission is < 2.6 (Fransen 2004)
    (3.2, "low"),                         # low is <= 3.2
    (np.nextafter(3.2, 10), "moderate"),
    (5.1, "moderate"),                    # moderate is <= 5.1
    (np.nextafter(5.1, 10), "high"),
    (9.4, "high"),
])
def test_das28_category_boundaries(value, expected):
    assert das28_category(value) == expected


def test_das28_category_vectorised_and_missing():
    result = das28_category([2.38, np.nan, 5.59])
    assert isinstance(result, pd.Categorical)
    assert list(result.categories) == list(DAS28_CATEGORIES) and result.ordered
    assert result[0] == "remission" and pd.isna(result[1]) and result[2] == "high"
    assert pd.isna(das28_category(np.nan))
    series = das28_category(pd.Series([3.0], index=[7]))
    assert series.index.tolist() == [7] and series.iloc[0] == "low"
    with pytest.raises(ValueError, match="das28 must be >= 0"):
        das28_category(-0.1)


# van Gestel et al. 1996: rows = DAS28 at follow-up, columns = improvement.
EULAR_TABLE = {
    # post:        >1.2        >0.6..<=1.2   <=0.6
    2.0: ("good", "moderate", "none"),
    3.2: ("good", "moderate", "none"),     # boundary: <= 3.2 belongs to the first row
    4.0: ("moderate", "moderate", "none"),
    5.1: ("moderate", "moderate", "none"),  # boundary: <= 5.1 belongs to the middle row
    6.0: ("moderate", "none", "none"),
}
# improvements representing each column, including both cut-offs exactly
IMPROVEMENTS = [(1.3, 0), (2.5, 0), (1.2, 1), (0.9, 1), (0.61, 1), (0.6, 2), (0.0, 2),
                (-1.0, 2)]


@pytest.mark.parametrize("post", sorted(EULAR_TABLE))
@pytest.mark.parametrize("improvement, column", IMPROVEMENTS)
def test_eular_table_cell_by_cell(post, improvement, column):
    pre = round(post + improvement, 2)  # e.g. 4.4 - 3.2 = 1.2000000000000002 in floats
    assert eular_response(pre, post) == EULAR_TABLE[post][column]


def test_eular_paper_patients():
    pre, post = TABLE2["das28"]
    result = eular_response(pre, post)
    assert list(result) == ["good", "good", "good", "none"]
    assert list(result.categories) == list(EULAR_RESPONSES)
    assert pd.isna(eular_response(np.nan, 2.0))
    assert pd.isna(eular_response([5.0], [np.nan])[0])


# --------------------------------------------------------------------------------------
# SLEDAI-2K and glucocorticoids
# --------------------------------------------------------------------------------------


def test_sledai_reduction():
    assert sledai_reduction(13, 2) is True
    assert sledai_reduction(6, 2) is True        # exactly 4 points
    assert sledai_reduction(6, 3) is False
    assert sledai_reduction(0, 0) is False
    assert sledai_reduction(np.nan, 0) is pd.NA
    assert sledai_reduction(10, 4, threshold=6) is True
    result = sledai_reduction([13, 6, 6, 0], [2, 1, 0, np.nan])
    assert result.dtype == "boolean"
    assert result.tolist() == [True, True, True, pd.NA]


@pytest.mark.parametrize("args, name", [((-1, 0), "pre"), ((10, 106), "post"),
                                        ((4.5, 0), "pre")])
def test_sledai_invalid(args, name):
    with pytest.raises(ValueError, match=rf"^{name} must"):
        sledai_reduction(*args)
    with pytest.raises(ValueError, match="threshold"):
        sledai_reduction(5, 0, threshold=0)


def test_gc_targets():
    assert GC_TARGET_EULAR_2023 == 5.0 and GC_TARGET_LLDAS == 7.5
    assert gc_at_or_below(5, GC_TARGET_EULAR_2023) is True
    assert gc_at_or_below(5.01, GC_TARGET_EULAR_2023) is False
    assert gc_at_or_below(7.5, GC_TARGET_LLDAS) is True
    assert gc_at_or_below(8, GC_TARGET_LLDAS) is False
    assert gc_at_or_below(np.nan, 5) is pd.NA
    assert gc_at_or_below([0, 4, 6], 5).tolist() == [True, True, False]
    with pytest.raises(ValueError, match="^dose must be >= 0"):
        gc_at_or_below(-1, 5)
    with pytest.raises(ValueError, match="target"):
        gc_at_or_below(1, -5)


def test_gc_stopped():
    assert gc_stopped(0) is True and gc_stopped(2.5) is False
    assert gc_stopped(0, 8) is True
    assert gc_stopped(0, 0) is False             # nothing to stop
    assert gc_stopped(0, np.nan) is True         # IV pulses at baseline (patient 1)
    assert gc_stopped(np.nan, 8) is pd.NA
    assert gc_stopped([0, 0, 4, 2], [np.nan, 8, 6, 8]).tolist() == [True, True, False,
                                                                   False]


# --------------------------------------------------------------------------------------
# Responder table
# --------------------------------------------------------------------------------------

PAPER_RESPONSE = {1: "Yes", 2: "Yes", 3: "Yes", 4: "Yes"}  # Table 2, "Response"


@pytest.fixture(scope="module")
def paper_table() -> pd.DataFrame:
    return responder_table(paper_measurements(), PAPER_RESPONSE)


def test_responder_table_on_paper(paper_table):
    table = paper_table
    assert list(table.columns) == RESPONDER_COLUMNS
    assert table["patient_id"].tolist() == [1, 2, 3, 4]
    assert table["eular_response"].tolist() == ["good", "good", "good", "none"]
    assert table["das28_change"].tolist() == [-5.04, -3.7, -2.26, 0.0]
    assert table["das28_category_pre"].tolist() == ["high", "high", "moderate",
                                                    "remission"]
    assert table["das28_category_post"].tolist() == ["remission"] * 4
    assert table["sledai_reduction_ge4"].tolist() == [True, True, True, False]
    assert table["gc_le_5"].tolist() == [True] * 4
    assert table["gc_le_7_5"].tolist() == [True] * 4
    assert table["gc_stopped"].tolist() == [True, True, False, False]
    assert np.isnan(table.loc[0, "gc_pre"])
    assert table["response_paper"].tolist() == [True] * 4
    assert table["differs_from_paper"].tolist()[:3] == ["", "", ""]
    text = table.loc[3, "differs_from_paper"]
    assert text.startswith("paper: response; EULAR none")
    assert "2.38 -> 2.38" in text and "<= 0.6" in text and "remission" in text


def test_summarise_responders_on_paper(paper_table):
    summary = summarise_responders(paper_table).set_index("criterion")
    good = summary.loc["eular_good"]
    assert (good["events"], good["n"]) == (3, 4)
    # R: binom.test(3, 4)$conf.int -> 0.19412044968324341 0.99369053679029018
    np.testing.assert_allclose([good["proportion"], good["ci_low"], good["ci_high"]],
                               [0.75, 0.19412044968324341, 0.99369053679029018],
                               rtol=1e-6)
    assert summary.loc["gc_stopped", "events"] == 2
    assert summary.loc["response_paper", "events"] == 4
    assert set(summary["method"]) == {"clopper-pearson"}
    wilson = summarise_responders(paper_table, method="wilson").set_index("criterion")
    # R: prop.test(3, 4, correct = FALSE)$conf.int -> 0.30064184258240201 0.95441273919029945
    np.testing.assert_allclose(wilson.loc["eular_good", ["ci_low", "ci_high"]].astype(float),
                               [0.30064184258240201, 0.95441273919029945], rtol=1e-6)
    with pytest.raises(ValueError, match="method must be one of"):
        summarise_responders(paper_table, method="wald")


@pytest.mark.parametrize("response", [
    pd.Series({1: True, 2: True, 3: True, 4: True}),
    pd.DataFrame({"patient_id": [1, 2, 3, 4], "response_paper": ["Yes"] * 4}),
    {1: 1, 2: 1, 3: 1, 4: 1},
])
def test_response_paper_forms(response):
    table = responder_table(paper_measurements(), response)
    assert table["response_paper"].tolist() == [True] * 4


def test_response_paper_errors_and_absence():
    with pytest.raises(ValueError, match="not in measurements"):
        responder_table(paper_measurements(), {9: "Yes"})
    with pytest.raises(ValueError, match="yes/no"):
        responder_table(paper_measurements(), {1: "maybe"})
    table = responder_table(paper_measurements())
    assert table["response_paper"].isna().all()
    assert (table["differs_from_paper"] == "").all()


def test_followup_choice():
    measurements = paper_measurements()
    extra = measurements[measurements["timepoint"] == "last"].assign(
        timepoint="m1", month=1, value=9.0)
    extra = extra[extra["measure"] == "das28"]
    frame = pd.concat([measurements, extra])
    # default: the latest visit by month -> "last"
    assert responder_table(frame)["das28_post"].tolist() == [2.18, 1.89, 2.31, 2.38]
    assert responder_table(frame, followup="m1")["das28_post"].tolist() == [9.0] * 4
    # a missing latest value falls back to the latest non-missing one
    frame.loc[(frame["timepoint"] == "last") & (frame["measure"] == "das28")
              & (frame["patient_id"] == 1), "value"] = np.nan
    assert responder_table(frame)["das28_post"].tolist()[0] == 9.0
    with pytest.raises(ValueError, match="followup 'm7'"):
        responder_table(frame, followup="m7")


def test_responder_table_vectorised_smoke():
    cohort = make_cohort(10_000, seed=5, missing_rate=0.05)
    table = responder_table(cohort)
    assert len(table) == 10_000
    summary = summarise_responders(table)
    assert (summary.loc[:7, "n"] < 10_000).all()
    assert summary.loc[8, "n"] == 0 and np.isnan(summary.loc[8, "proportion"])


# --- DAS28 from its components ----------------------------------------------------------


def _components(rows):
    return pd.DataFrame(
        [(pid, measure, tp, month, value, "")
         for pid, tp, month, values in rows for measure, value in values.items()],
        columns=["patient_id", "measure", "timepoint", "month", "value", "unit"])


def test_derive_das28_from_components_by_hand():
    from helpers.scores import derive_das28

    data = _components([
        (1, "baseline", 0.0, {"tjc28": 9, "sjc28": 4, "pga": 70, "esr": 40, "crp": 24}),
        (1, "m6", 6.0, {"tjc28": 1, "sjc28": 0, "pga": 20, "esr": 12, "crp": 3}),
        # ESR 0: ln(0) undefined, DAS28-ESR stays missing; DAS28-CRP is computable.
        (2, "baseline", 0.0, {"tjc28": 4, "sjc28": 2, "pga": 50, "esr": 0, "crp": 0}),
    ])
    table, counts = derive_das28(data)
    assert counts == {"das28_esr": 2, "das28_crp": 3}
    got = table[table["measure"].str.startswith("das28")].set_index(
        ["measure", "patient_id", "timepoint"])["value"]
    # Prevoo 1995: 0.56 sqrt(TJC) + 0.28 sqrt(SJC) + 0.70 ln(ESR) + 0.014 PGA, by hand:
    # sqrt(9) = 3, sqrt(4) = 2, ln(40) = 3.6888794541139363:
    # 1.68 + 0.56 + 2.5822156178797554 + 0.98 = 5.802215617879755
    assert got["das28_esr", 1, "baseline"] == pytest.approx(5.802215617879755, rel=1e-12)
    # 0.56 + 0 + 0.70 ln(12) (= 0.70 * 2.4849066497880004 = 1.7394346548516003) + 0.28
    assert got["das28_esr", 1, "m6"] == pytest.approx(2.5794346548516003, rel=1e-12)
    assert np.isnan(got["das28_esr", 2, "baseline"])
    # DAS28-CRP (Wells 2009): 0.56 sqrt(TJC) + 0.28 sqrt(SJC) + 0.36 ln(CRP + 1) + 0.014 PGA
    # + 0.96; patient 1 at baseline: 1.68 + 0.56 + 0.36 ln(25) (= 1.1587989...) + 0.98 + 0.96
    assert got["das28_crp", 1, "baseline"] == pytest.approx(
        1.68 + 0.56 + 0.36 * 3.2188758248682006 + 0.98 + 0.96, rel=1e-12)
    # patient 2: 0.56*2 + 0.28*sqrt(2) + 0 + 0.7 + 0.96 = 3.1759797974644665
    assert got["das28_crp", 2, "baseline"] == pytest.approx(3.1759797974644665, rel=1e-12)
    assert set(table.loc[table["measure"] == "das28_esr", "unit"]) == {"points"}
    assert table.loc[table["measure"] == "das28_esr", "month"].tolist() == [0.0, 6.0, 0.0]


def test_given_das28_wins_and_without_components_nothing_is_added():
    from helpers.scores import derive_das28

    data = _components([
        (1, "baseline", 0.0, {"tjc28": 9, "sjc28": 4, "pga": 70, "esr": 40,
                              "das28_esr": 6.0}),
        (1, "m6", 6.0, {"tjc28": 1, "sjc28": 0, "pga": 20, "esr": 12}),
    ])
    table, counts = derive_das28(data)
    assert counts == {"das28_esr": 1}
    esr = table[table["measure"] == "das28_esr"].set_index("timepoint")["value"]
    assert esr["baseline"] == 6.0  # the clinic's own value, not recomputed
    assert esr["m6"] == pytest.approx(2.5794346548516003, rel=1e-12)
    only_counts = data[data["measure"] != "pga"]
    same, none = derive_das28(only_counts)
    assert none == {} and same is only_counts


def test_eular_response_from_das28_esr_when_das28_is_absent():
    from helpers.scores import derive_das28

    data, _ = derive_das28(_components([
        (1, "baseline", 0.0, {"tjc28": 9, "sjc28": 4, "pga": 70, "esr": 40}),
        (1, "m6", 6.0, {"tjc28": 1, "sjc28": 0, "pga": 20, "esr": 12}),
    ]))
    table = responder_table(data)
    # 5.80 -> 2.58: improvement 3.22 > 1.2 and follow-up <= 3.2: good (van Gestel 1996).
    assert table.loc[0, "das28_pre"] == pytest.approx(5.802215617879755, rel=1e-12)
    assert table.loc[0, "eular_response"] == "good"
    with pytest.raises(ValueError, match="das28 must be one of"):
        responder_table(data, das28="sledai2k")


def test_scores_pair_series_by_index_or_say_why_not():
    tjc = pd.Series([4, 2], index=["a", "b"])
    with pytest.raises(ValueError, match="tjc and sjc are indexed differently"):
        das28_esr(tjc, pd.Series([2, 1], index=["b", "c"]), 30, 50)
    with pytest.raises(ValueError, match="tjc has 3 values but sjc has 2"):
        das28_esr([4, 2, 1], [2, 1], 30, 50)
    with pytest.raises(ValueError, match="pre must be numbers, not text"):
        sledai_reduction("13", 2)
    # Same index: the result keeps it (Prevoo's formula by hand for patient a:
    # 0.56*2 + 0.28*2 + 0.70*ln(30) + 0.014*50 = 4.760838...).
    assert das28_esr(tjc, tjc, 30, 50)["a"] == pytest.approx(4.760838, abs=1e-6)
