"""Every confidence level named in text, tables and figures comes from the parameters."""

from __future__ import annotations

import json
import re

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from helpers import paths  # noqa: E402
from helpers.analysis.review import forest_panel, meta_analyses, analysis_sets  # noqa: E402
from helpers.figures import forest_plot  # noqa: E402
from helpers.pipeline.notebooks import run_notebooks  # noqa: E402


def _text_outputs(notebook) -> str:
    cells = json.loads(notebook.read_text())["cells"]
    return "\n".join("".join(output.get("data", {}).get("text/markdown", ""))
                     + "".join(output.get("text", ""))
                     for cell in cells for output in cell.get("outputs", []))


@pytest.mark.slow
def test_level_090_is_named_everywhere(tmp_path):
    executed = run_notebooks([paths.NOTEBOOKS / "02_prepost.ipynb",
                              paths.NOTEBOOKS / "04_review.ipynb"], output_dir=tmp_path,
                             parameters={"ci_level": 0.9, "level": 0.9}, quiet=True)
    for notebook in executed:
        text = _text_outputs(notebook)
        assert "90% CI" in text, notebook.name
        assert not re.search(r"95(\.0)?% (CI|prediction)", text), notebook.name
    summary = pd.read_csv(tmp_path / "tables" / "responders_summary.csv")
    assert set(summary["ci_level"]) == {0.9}


def test_forest_plot_labels_follow_level():
    studies = pd.read_csv(paths.DATA_PROCESSED / paths.STUDIES)
    pooled = meta_analyses(analysis_sets(studies, None), level=0.9)
    rows, diamonds = forest_panel(studies, None, pooled, transform="logit", method="REML",
                                  test="knha", level=0.9)
    fig, ax = plt.subplots(figsize=(7, 3))
    try:
        forest_plot(rows, diamonds, ax=ax, level=0.9)
        texts = [t.get_text() for t in ax.texts]
        assert ax.get_xlabel() == "Proportion (90% CI)"
        assert "Estimate [90% CI]" in texts
        assert [t.get_text() for t in ax.get_legend().get_texts()] == [
            "90% prediction interval"]
        assert not any("95%" in t for t in texts + [ax.get_xlabel()])
    finally:
        plt.close(fig)
