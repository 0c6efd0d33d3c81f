"""A clinician's own cohort through the pre/post and figures notebooks, end to end."""

from __future__ import annotations

import pandas as pd
import pytest
from conftest import committed_outputs

from helpers import paths
from helpers.pipeline import cohort
from helpers.errors import InputError
from helpers.io import write_csv
from helpers.paired import paired_tests
from helpers.data.schema import read_measurements
from helpers.synth import make_cohort


@pytest.mark.slow
def test_two_visit_cohort_end_to_end(tmp_path):
    data = tmp_path / "my_cohort.csv"
    write_csv(make_cohort(120, visits=2, seed=11), data)
    before = committed_outputs()
    report = cohort.run_cohort(data, tmp_path / "out", quiet=True)
    out = tmp_path / "out"
    assert report == out / "report.html"
    assert sorted(p.name for p in (out / "notebooks").iterdir()) == [
        "02_prepost.ipynb", "03_figures.ipynb"]
    prepost = pd.read_csv(out / "tables" / "prepost.csv")
    assert prepost["outcome"].tolist() == ["sledai2k", "das28", "gc_mg_day"]
    assert prepost["comparison"].nunique() == 1  # one follow-up visit
    # The notebook's table is what paired_tests gives on the same file.
    expected = paired_tests(read_measurements(data))
    pd.testing.assert_series_equal(prepost["t_p_value"], expected["t_p_value"],
                                   check_names=False, rtol=1e-12)
    assert (out / "figures" / "slopes.png").is_file()
    assert not (out / "figures" / "swimmer.png").exists()  # needs a patients table
    assert "my_cohort.csv" in report.read_text()
    assert committed_outputs() == before


def test_output_folder_inside_the_project_is_refused():
    for folder in ["reports", "reports/tables/mine", "data", "notebooks/x", "."]:
        with pytest.raises(InputError, match="output folder overlaps"):
            cohort.check_output_folder(folder)
    assert cohort.check_output_folder("out/mine") == paths.ROOT / "out" / "mine"
