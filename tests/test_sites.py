"""Many centres (issue 29): site summaries, their checks, and pooling them.

Reference values: the paper's Table 2 by hand, and metafor 4.x (R) on the summaries'
numbers, with the R calls written beside them. metafor's REML stops at a change of 1e-5
by default; ``control = list(threshold = 1e-12)`` runs it to the maximum this project
reports.
"""

from __future__ import annotations

import copy
import json
import math
import re

import numpy as np
import pandas as pd
import pytest

from helpers import paths
from helpers.analysis import sites as network
from helpers.data.codebook import load_codebook
from helpers.errors import InputError
from helpers.io import sha256, write_csv
from helpers.synth import make_cohort

PAPER_SUMMARY = paths.REPORTS / "summary.json"


def _paper() -> dict:
    return network.read_summary(PAPER_SUMMARY)


def _row(summary: dict, outcome: str, comparison: str = "last vs baseline") -> dict:
    return next(row for row in summary["outcomes"]
                if row["outcome"] == outcome and row["comparison"] == comparison)


def test_the_papers_summary_against_table_2_by_hand():
    summary = _paper()
    assert summary["site"] == "Cassone 2025 case series"
    assert summary["input"]["sha256"] == sha256(paths.DATA_PROCESSED / paths.MEASUREMENTS)
    das28 = _row(summary, "das28")
    # Table 2, DAS28 7.22->2.18, 5.59->1.89, 4.57->2.31, 2.38->2.38: changes -5.04, -3.7,
    # -2.26, 0; mean -2.75; deviations -2.29, -0.95, 0.49, 2.75, whose squares sum to
    # 13.9492, so SD = sqrt(13.9492 / 3).
    assert das28["n"] == 4
    assert das28["change_mean"] == pytest.approx(-2.75, abs=1e-12)
    assert das28["change_sd"] == pytest.approx(math.sqrt(13.9492 / 3), rel=1e-11)
    assert das28["pre_mean"] == pytest.approx((7.22 + 5.59 + 4.57 + 2.38) / 4, rel=1e-12)
    assert das28["post_mean"] == pytest.approx((2.18 + 1.89 + 2.31 + 2.38) / 4, rel=1e-12)
    # Four pairs: quartiles of four values would give them back; not shared.
    assert das28["change_median"] is None and das28["change_q1"] is None
    counts = {(r["criterion"], r["comparison"]): (r["events"], r["n"])
              for r in summary["responders"]}
    # EULAR good for patients 1-3 (improvement > 1.2 and DAS28 <= 3.2), none for 4.
    assert counts[("eular_good", "last vs baseline")] == (3, 4)
    assert ("response_paper", "last vs baseline") not in counts  # the paper's own yes/no
    assert {entry["code"]: entry["unit"] for entry in summary["codebook"]} == {
        "sledai2k": "points", "das28": "points", "gc_mg_day": "mg/day"}


def _write(tmp_path, name: str, content) -> str:
    path = tmp_path / name
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    return str(path)


def test_a_file_that_is_not_a_summary_is_refused_in_one_line(tmp_path):
    paper = _paper()
    other_version = {**paper, "schema_version": 2}
    negative = copy.deepcopy(paper)
    negative["outcomes"][0]["n"] = -1
    with_ids = copy.deepcopy(paper)
    with_ids["outcomes"][0]["patient_ids"] = [1, 2, 3, 4]
    cases = [
        ("notes.json", "not json {", "is not a site summary (not JSON"),
        ("table.json", {"a": 1}, "is not a site summary (no schema_version"),
        ("v2.json", other_version, "schema version 2; this version reads version 1"),
        ("neg.json", negative, "at outcomes/0/n, -1 is less than the minimum of 0"),
        ("ids.json", with_ids, "at outcomes/0, Additional properties are not allowed"),
    ]
    for name, content, message in cases:
        path = _write(tmp_path, name, content)
        with pytest.raises(InputError) as error:
            network.read_summary(path)
        text = str(error.value)
        assert message in text and "\n" not in text and name in text, text
    with pytest.raises(InputError, match="at outcomes/0/n"):
        network.write_summary(negative, tmp_path / "out.json")
    assert not (tmp_path / "out.json").exists()


def _variant(site: str, digest: str, **changes) -> dict:
    summary = copy.deepcopy(_paper())
    summary["site"], summary["input"]["sha256"] = site, digest
    for code, fields in changes.items():
        entry = next(e for e in summary["codebook"] if e["code"] == code)
        entry.update(fields)
    return summary


@pytest.mark.parametrize(("second", "message"), [
    (_variant("Cassone 2025 case series", "1" * 64), "names site 'Cassone 2025 case series'"),
    (_variant("B", None), "summarises the same input file as"),
    (_variant("B", "1" * 64, gc_mg_day={"unit": "mg/week"}),
     "measures gc_mg_day in 'mg/week', a.json in 'mg/day'"),
    (_variant("B", "1" * 64, das28={"max": 9.4}), "defines das28 differently from a.json (max"),
])
def test_summaries_that_cannot_be_pooled_together_are_refused(second, message, tmp_path):
    first = _paper()
    if second["input"]["sha256"] is None:
        second["input"]["sha256"] = first["input"]["sha256"]
    a = _write(tmp_path, "a.json", first)
    b = _write(tmp_path, "b.json", second)
    with pytest.raises(InputError) as error:
        network.check_sites([(pathlike, network.read_summary(pathlike))
                             for pathlike in (a, b)])
    assert message in str(error.value).replace(str(tmp_path) + "/", "")
    # make pool refuses before anything is written: OUT does not even exist.
    from helpers.pipeline.pool import run_pool

    with pytest.raises(InputError):
        run_pool([a, b], tmp_path / "out", quiet=True)
    assert not (tmp_path / "out").exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_one_site_is_not_a_pooling(tmp_path):
    from helpers.pipeline.pool import run_pool

    with pytest.raises(InputError) as error:
        run_pool([str(PAPER_SUMMARY)], tmp_path / "out", quiet=True)
    assert str(error.value) == ("SITES reports/summary.json: pooling needs at least two "
                                "site summaries (got 1)")
    assert not (tmp_path / "out").exists()


def _cohort(n: int, seed: int) -> pd.DataFrame:
    cohort = make_cohort(n, visits=("baseline", "m6", "m12"), seed=seed, missing_rate=0.05)
    # Hospital record numbers as ids: none of them may reach the summary.
    return cohort.assign(patient_id=[f"MRN-{700000 + 37 * int(i)}"
                                     for i in cohort["patient_id"]])


def test_a_summary_holds_no_patient_id_and_no_individual_value():
    book = load_codebook()
    rng = np.random.default_rng(7)
    for n in (12, 400):
        cohort = _cohort(n, seed=n)
        # Continuous values with a random last digit each, so that a statistic equals a
        # patient's value only if it is that value (integer scores such as SLEDAI-2K
        # have means that coincide with some patient's score by arithmetic).
        continuous = cohort["measure"] != "sledai2k"
        cohort.loc[continuous, "value"] += rng.uniform(0, 1e-4, int(continuous.sum()))
        summary = network.site_summary(cohort, site="X", input_sha256="0" * 64,
                                       codebook=book)
        text = json.dumps(summary)
        assert not any(pid in text for pid in cohort["patient_id"].unique())
        assert "MRN" not in text
        # Its size does not grow with the patients: a row per outcome and visit.
        assert len(summary["outcomes"]) == 3 * 2
        # No number shared is a patient's value or change, but for quartiles of groups
        # of MIN_QUANTILE_N or more (order statistics, or between two of them).
        mine = cohort[continuous]
        wide = mine.pivot_table(index=["patient_id", "measure"], columns="timepoint",
                                values="value")
        individual = set(mine["value"].dropna().round(9))
        for visit in ("m6", "m12"):
            individual |= set((wide[visit] - wide["baseline"]).dropna().round(9))
        shared = {round(row[key], 9) for row in summary["outcomes"] for key in row
                  if row["outcome"] != "sledai2k" and row[key] is not None
                  and key not in ("outcome", "comparison", "n", "change_median",
                                  "change_q1", "change_q3")}
        assert shared and shared.isdisjoint(individual), shared & individual
        quartiles = [row["change_median"] for row in summary["outcomes"]]
        assert all(q is None for q in quartiles) == (n < network.MIN_QUANTILE_N)


def test_two_hundred_sites_pool(tmp_path):
    """A network of 200 sites: every outcome and criterion pooled over all of them; the
    forest plots show the pooled rows only (a row per site would be unreadable)."""
    rng = np.random.default_rng(29)
    base = _paper()
    summaries = []
    for k in range(200):
        summary = copy.deepcopy(base)
        summary["site"], summary["input"]["sha256"] = f"Site {k:03d}", f"{k:064x}"
        for row in summary["outcomes"]:
            row["change_mean"] = float(np.round(row["change_mean"] + rng.normal(0, 0.5), 6))
        summaries.append(summary)
    network.check_sites([(f"s{k}.json", s) for k, s in enumerate(summaries)])
    changes = network.pooled_changes(summaries)
    assert set(changes["k"]) == {200} and len(changes) == 3 * 2 * 2
    responders = network.pooled_responders(summaries)
    assert set(responders["k"]) == {200}
    studies, pooled = network.change_forest(summaries, "das28", "last vs baseline")
    assert studies.empty and pooled["label"].str.startswith("200 sites").all()


def _three_sites(folder):
    """Three synthetic site cohorts, each analysed by make analysis' runner."""
    from helpers.pipeline.cohort import run_cohort

    out = []
    for name, n, seed in (("Site A", 40, 11), ("Site B", 60, 12), ("Site C", 25, 13)):
        data = write_csv(make_cohort(n, visits=("baseline", "m6", "m12"), seed=seed,
                                     missing_rate=0.05), folder / f"{seed}.csv")
        run_cohort(data, folder / name.replace(" ", "_"), site=name, quiet=True)
        out.append(folder / name.replace(" ", "_") / "summary.json")
    return folder, out


@pytest.mark.slow
def test_sites_made_by_make_analysis_pool_end_to_end(tmp_path):
    """One test, so that the three site runs are made once (a fixture would be made
    again on each test worker)."""
    sites = _three_sites(tmp_path)
    _three_sites_pool_as_metafor_does(sites)
    _the_papers_summary_pools_with_two_sites_and_updates_the_review(sites)


# metafor, on the three sites' DAS28 at month 12 (n, mean change and SD of the change as
# their summary.json files hold them):
#   n  <- c(38, 57, 23)
#   yi <- c(-1.65, -1.48877192982, -2.07608695652)
#   sd <- c(1.10803941778, 0.855369740804, 1.05001185764)
#   r <- rma(yi, sei = sd / sqrt(n), method = m, test = t,
#            control = list(threshold = 1e-12)); p <- predict(r)
#   c(p$pred, p$ci.lb, p$ci.ub, p$pi.lb, p$pi.ub, r$tau2, r$I2, r$QE)
METAFOR_DAS28_M12 = {
    ("DL", "knha"): (-1.69733568071, -2.42470619793, -0.969965163487, -2.9139341323,
                     -0.480737229118, 0.0513721786711, 64.9646895039, 5.70852654559),
    ("DL", "z"): (-1.69733568071, -2.01699573703, -1.37767562438, -2.24462596977,
                  -1.15004539164, 0.0513721786711, 64.9646895039, 5.70852654559),
    ("REML", "knha"): (-1.69866252172, -2.42709752115, -0.970227522287, -2.93642846225,
                       -0.460896581184, 0.0540947812061, 66.1307970447, 5.70852654559),
    ("REML", "z"): (-1.69866252172, -2.02390201724, -1.37342302619, -2.25864788212,
                    -1.13867716131, 0.0540947812061, 66.1307970447, 5.70852654559),
}
# EULAR good or moderate response at month 12, 30/38, 49/57, 22/23:
#   r <- rma(measure = "PLO", xi = c(30, 49, 22), ni = c(38, 57, 23), method = "REML",
#            test = "knha", control = list(threshold = 1e-12))
#   p <- predict(r, transf = transf.ilogit)
METAFOR_EULAR_M12 = (0.842881062058, 0.57879940029, 0.954427133495, 0.57879940029,
                     0.954427133495)


def _three_sites_pool_as_metafor_does(three_sites):
    from helpers.pipeline.pool import run_pool

    folder, summaries = three_sites
    report = run_pool(summaries, folder / "pool", quiet=True)
    changes = pd.read_csv(folder / "pool" / "tables" / "pooled_changes.csv")
    assert list(changes.columns) == list(network.CHANGE_COLUMNS)
    das28 = changes[(changes["outcome"] == "das28") & (changes["comparison"] == "m12 vs baseline")]
    assert len(das28) == 4
    for row in das28.itertuples(index=False):
        expected = METAFOR_DAS28_M12[(row.method, row.test)]
        got = (row.estimate, row.ci_low, row.ci_high, row.pi_low, row.pi_high, row.tau2,
               row.i2, row.q)
        np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-9,
                                   err_msg=f"{row.method} {row.test}")
        assert (row.k, row.n) == (3, 38 + 57 + 23)
    responders = pd.read_csv(folder / "pool" / "tables" / "pooled_responders.csv")
    assert list(responders.columns) == list(network.RESPONDER_COLUMNS)
    eular = responders[(responders["criterion"] == "eular_good_or_moderate")
                       & (responders["comparison"] == "m12 vs baseline")].iloc[0]
    np.testing.assert_allclose(eular[["estimate", "ci_low", "ci_high", "pi_low", "pi_high"]]
                               .to_numpy(dtype=float), METAFOR_EULAR_M12, rtol=1e-6)
    assert (eular["events"], eular["n"]) == (101, 118)
    figures = {p.name for p in (folder / "pool" / "figures").iterdir()}
    assert {"pooled_change_das28.svg", "pooled_eular_good_or_moderate.svg"} <= figures
    html = report.read_text()
    assert "heterogeneity between sites" in html and "Site C" in html
    # Each site's own report names its input by role and file name, not by its folder.
    site_report = (summaries[0].parent / "report.html").read_text()
    assert "DATA 11.csv" in site_report and str(folder) not in site_report


def _the_papers_summary_pools_with_two_sites_and_updates_the_review(three_sites):
    """make pool with the paper's summary and two synthetic sites, REVIEW=yes: the
    review's three studies plus each site's articular response, pooled and left out in
    turn; every file of OUT names no folder of this machine."""
    import subprocess

    folder, summaries = three_sites
    out = folder / "with_paper"
    sites = " ".join([str(PAPER_SUMMARY), str(summaries[0]), str(summaries[1])])
    result = subprocess.run(["make", "pool", f"SITES={sites}", f"OUT={out}", "REVIEW=yes"],
                            cwd=paths.ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    assert f"wrote {out / 'report.html'}" in result.stderr
    studies = pd.read_csv(paths.DATA_PROCESSED / paths.STUDIES)
    pooled = pd.read_csv(out / "tables" / "review_pooled.csv")
    joined = pooled[pooled["analysis"] == "review+case_series"]
    assert set(joined["k"]) == {len(studies) + 3}
    assert set(pooled.loc[pooled["analysis"] == "review", "k"]) == {len(studies)}
    leave1out = pd.read_csv(out / "tables" / "review_leave1out.csv")
    assert "Cassone 2025 case series" in set(leave1out["omitted"])
    assert (out / "figures" / "review_forest.png").is_file()
    for path in out.rglob("*"):
        if path.suffix in {".ipynb", ".html", ".csv", ".md", ".json"}:
            text = path.read_text()
            assert str(folder) not in text and str(paths.ROOT) not in text, path.name
    # The site copies in OUT are the summaries pooled, byte for byte.
    copies = sorted((out / "sites").iterdir())
    assert [p.read_bytes() for p in copies] == [PAPER_SUMMARY.read_bytes(),
                                                summaries[0].read_bytes(),
                                                summaries[1].read_bytes()]
    assert re.search(r"Pooled analysis of 3 sites", (out / "report.html").read_text())


# metafor, on three made-up estimates:
#   yi <- c(-1.2, -0.8, -1.6); sei <- c(0.2, 0.25, 0.3)
#   r <- rma(yi, sei = sei, method = m, test = t, control = list(threshold = 1e-12))
#   p <- predict(r); c(p$pred, p$ci.lb, p$ci.ub, p$pi.lb, p$pi.ub, r$tau2, r$I2)
METAFOR_SMALL = {
    ("DL", "z"): (-1.1771882630, -1.5852020169, -0.7691745090, -1.8339882438,
                  -0.5203882822, 0.0689610390, 53.1000000000),
    ("DL", "knha"): (-1.1771882630, -2.1190846810, -0.2352918450, -2.6481852714,
                     0.2938087455, 0.0689610390, 53.1000000000),
}


@pytest.mark.parametrize(("method", "test"), list(METAFOR_SMALL))
def test_pool_estimates_matches_metafor(method, test):
    from helpers.meta import pool_estimates

    row = pool_estimates([-1.2, -0.8, -1.6], [0.2, 0.25, 0.3], method=method,
                         test=test).pooled.iloc[0]
    got = row[["estimate", "ci_low", "ci_high", "pi_low", "pi_high", "tau2", "i2"]]
    np.testing.assert_allclose(got.to_numpy(dtype=float), METAFOR_SMALL[(method, test)],
                               rtol=1e-9)


def test_pool_estimates_refuses_what_is_not_an_estimate():
    from helpers.meta import pool_estimates

    for args, message in ((([-1.0, "2"], [0.1, 0.2]), "yi must be numbers, not text"),
                          (([-1.0, 2.0], [0.1, 0.0]), "sei must be positive"),
                          (([-1.0, 2.0], [0.1]), "equal length"),
                          (([-1.0, np.nan], [0.1, 0.2]), "must be finite")):
        with pytest.raises(ValueError, match=message):
            pool_estimates(*args)


def test_a_pool_of_estimates_draws_as_a_forest_of_differences():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from helpers.figures import forest_plot
    from helpers.meta import pool_estimates

    result = pool_estimates([-1.65, -1.49, -2.08], [0.18, 0.11, 0.22],
                            labels=["Site A", "Site B", "Site C"])
    fig, ax = plt.subplots(figsize=(7, 3))
    forest_plot(result, ax=ax)
    texts = {text.get_text() for text in ax.texts}
    rows = {label.get_text() for label in ax.get_yticklabels()}
    plt.close(fig)
    assert {"Site A", "Site C"} <= rows and {"31.8%", "Weight"} <= texts
    assert not any("/" in text for text in texts)  # no events/n column
    low, high = ax.get_xlim()
    assert low < -2.9 and high > -0.46  # the prediction interval fits


def test_make_pool_expands_patterns_and_says_what_is_wrong_in_one_line(tmp_path, capsys):
    from helpers.pipeline.pool import main

    for centre in ("genoa", "milan"):
        (tmp_path / centre).mkdir()
        (tmp_path / centre / "summary.json").write_bytes(PAPER_SUMMARY.read_bytes())
    status = main(["--sites", str(tmp_path / "*" / "summary.json"), "--out",
                   str(tmp_path / "out")])
    err = capsys.readouterr().err.strip()
    # Both files were read (the pattern matched two): they name the same site.
    assert status == 1 and err.count("\n") == 0
    assert "milan/summary.json" in err and "names site 'Cassone 2025 case series'" in err
    assert not (tmp_path / "out").exists()
    assert main(["--sites", "a.json", "--out", str(tmp_path / "o"), "--review", "maybe"]) == 2
    assert "REVIEW must be yes or no" in capsys.readouterr().err


def test_the_pooling_notebook_is_committed_as_a_save_in_lab_leaves_it():
    """Committed without outputs and normalised: opening and saving it in Lab (which adds
    language_info) changes no byte."""
    import nbformat

    from helpers.pipeline.notebooks import normalise

    path = paths.NOTEBOOKS / "pooling" / "06_pool.ipynb"
    nb = nbformat.read(path, as_version=4)
    assert all(cell.get("outputs", []) == [] for cell in nb.cells)
    nb.metadata["language_info"] = {"name": "python", "version": "3.11"}
    assert nbformat.writes(normalise(nb, nb.metadata.get("kernelspec"))) + "\n" == (
        path.read_text(encoding="utf-8"))


@pytest.mark.slow
def test_make_pool_into_a_folder_inside_the_project(tmp_path):
    """OUT inside the project (out/<name>, which git ignores): the notebook's kernel works
    in the folder being built, so every output lands in OUT and none beside the project's
    own reports."""
    import shutil
    import uuid

    from conftest import committed_outputs
    from helpers.pipeline.pool import run_pool

    other = _variant("Another centre", "7" * 64)
    second = _write(tmp_path, "b.json", other)
    out = paths.ROOT / "out" / f"test-pool-{uuid.uuid4().hex[:8]}"
    before = committed_outputs()
    try:
        run_pool([str(PAPER_SUMMARY), second], out, quiet=True)
        assert (out / "tables" / "pooled_changes.csv").is_file()
        assert (out / "figures" / "pooled_change_das28.svg").is_file()
        assert not (paths.ROOT / "tables").exists() and not (paths.ROOT / "figures").exists()
        assert committed_outputs() == before
    finally:
        shutil.rmtree(out, ignore_errors=True)
