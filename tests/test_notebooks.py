"""The papermill runner, and nbval on the committed notebooks."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import nbformat
import pytest

from conftest import committed_outputs
from helpers import paths
from helpers.pipeline.notebooks import (NotebookError, main, normalise, redirect_outputs,
                                        run_notebook, run_notebooks)

NOTEBOOKS = sorted(paths.NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))


def test_normalise_strips_run_specific_metadata():
    nb = nbformat.v4.new_notebook()
    nb.metadata = {"papermill": {"start_time": "2026-01-01T00:00:00", "duration": 1.2},
                   "language_info": {"name": "python", "version": "3.11.7"}}
    cell = nbformat.v4.new_code_cell("1 + 1")
    cell["id"] = "a1b2c3"
    cell.metadata = {"papermill": {"duration": 0.1}, "execution": {"iopub.status.busy": "t"},
                     "tags": ["parameters"]}
    nb.cells = [nbformat.v4.new_markdown_cell("# Title"), cell]
    normalise(nb, {"name": "anifrolumab-arthritis"})
    assert nb.metadata == {"kernelspec": {"name": "anifrolumab-arthritis"},
                           "language_info": {"name": "python"}}
    assert [c["id"] for c in nb.cells] == ["cell-00", "cell-01"]
    assert nb.cells[1].metadata == {"tags": ["parameters"]}


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.name)
def test_committed_notebooks_are_normalised(notebook):
    text = notebook.read_text(encoding="utf-8")
    for volatile in ["papermill", "start_time", "iopub.", str(paths.ROOT), "/home/", "/root/"]:
        assert volatile not in text, f"{notebook.name} carries {volatile!r}"
    nb = nbformat.read(notebook, as_version=4)
    nbformat.validate(nb)
    assert nb.metadata["kernelspec"]["name"] == "anifrolumab-arthritis"
    tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1, "papermill needs exactly one cell tagged 'parameters'"
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            assert output.get("name") != "stderr", f"{notebook.name} prints to stderr"
            assert output["output_type"] != "error"


def _project_copy(tmp_path):
    """A scratch copy of the project's inputs and committed outputs."""
    root = tmp_path / "project"
    for folder in ["data", "notebooks", "reports"]:
        if (paths.ROOT / folder).exists():
            shutil.copytree(paths.ROOT / folder, root / folder)
    return root


def _failing_notebook(folder):
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    parameters = nbformat.v4.new_code_cell("message = 'fine'")
    parameters.metadata["tags"] = ["parameters"]
    nb.cells = [parameters, nbformat.v4.new_code_cell(
        "from helpers.errors import InputError\n"
        "if message != 'fine':\n"
        "    raise InputError('data/x.csv', message, row=3, column='value')\n"
        "print(message)")]
    path = folder / "check.ipynb"
    nbformat.write(nb, path)
    return path


def test_runner_writes_normalised_output_and_reports_errors_in_one_line(tmp_path, capsys):
    notebook = _failing_notebook(tmp_path)
    out = run_notebook(notebook, output_dir=tmp_path / "out", quiet=True)
    executed = nbformat.read(out, as_version=4)
    assert executed.cells[1].outputs[0]["text"] == "fine\n"
    before = out.read_bytes()
    with pytest.raises(NotebookError) as error:
        run_notebook(notebook, output_dir=tmp_path / "out", parameters={"message": "bad"},
                     quiet=True)
    assert str(error.value).endswith("data/x.csv, row 3 (line 4), column 'value': bad")
    assert out.read_bytes() == before, "a failed run must leave the previous output intact"
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["check.ipynb"]
    # The command line turns the error into one line and exit status 1.
    status = main(["run", str(notebook), "--output-dir", str(tmp_path / "out"), "--quiet",
                   "-p", "message", "bad"])
    assert status == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("error: ") and err[-1].endswith("column 'value': bad")


def _notebook(folder, name, *sources):
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell(source) for source in sources]
    path = folder / f"{name}.ipynb"
    nbformat.write(nb, path)
    return path


def test_shared_kernel_gives_each_notebook_a_fresh_state_on_one_connection(tmp_path,
                                                                        monkeypatch):
    from jupyter_client.asynchronous.client import AsyncKernelClient

    connections = []
    start_channels = AsyncKernelClient.start_channels

    def counted(self, *args, **kwargs):
        connections.append(self)
        return start_channels(self, *args, **kwargs)

    # The shared kernel connects one client; nbclient on its own would add one a notebook.
    monkeypatch.setattr(AsyncKernelClient, "start_channels", counted)
    # The first notebook leaves a variable, garbage, changed plot settings and a figure
    # open, and ends with output still streaming; the second must see none of it.
    first = _notebook(tmp_path, "first",
                      "import matplotlib.pyplot as plt, warnings\n"
                      "leftover = [1]; leftover.append(leftover)\n"
                      "plt.rcParams['lines.linewidth'] = 9\n"
                      "warnings.simplefilter('ignore')\n"
                      "plt.figure()\n"
                      "for i in range(300): print('first', i)")
    checks = ("import gc, warnings, matplotlib.pyplot as plt\n"
              "print('leftover' in globals(), plt.rcParams['lines.linewidth'],\n"
              "      len(plt.get_fignums()), warnings.filters[0][0] == 'ignore')")
    second = _notebook(tmp_path, "second", checks)
    third = _notebook(tmp_path, "third", checks)
    executed = run_notebooks([first, second, third], output_dir=tmp_path / "out",
                             quiet=True)
    expected = "False 1.5 0 False\n"  # matplotlib's default line width is 1.5
    for path in executed[1:]:
        outputs = nbformat.read(path, as_version=4).cells[0].outputs
        assert [output.get("text") for output in outputs] == [expected], path.name
    first_text = "".join(output.get("text", "") for output in
                         nbformat.read(executed[0], as_version=4).cells[0].outputs)
    assert first_text.splitlines()[-1] == "first 299"
    assert len(connections) == 1, "every notebook connected its own kernel client"


@pytest.mark.slow
def test_nbval_strict_on_the_committed_notebooks(tmp_path):
    """Re-execute every committed notebook in a scratch copy and compare outputs exactly.

    A copy, so that the test never rewrites committed files; ANIFROLUMAB_ROOT points the
    helpers at it. PNG outputs are skipped by nbval; everything else must match.
    """
    root = _project_copy(tmp_path)
    # A history of its own (IPYTHONDIR): nbval's kernels would otherwise share the user's
    # SQLite history with every other kernel of the suite, and IPython prints its locking
    # errors into the cell that runs (helpers.pipeline.notebooks.KERNEL_ARGS).
    env = dict(os.environ, ANIFROLUMAB_ROOT=str(root), IPYTHONDIR=str(tmp_path / "ipython"),
               MPLBACKEND="module://matplotlib_inline.backend_inline")
    sanitize = paths.ROOT / "tests" / "nbval_sanitize.cfg"
    # -n 0: nbval's cells of one notebook share a kernel, so never split them (xdist).
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-n", "0",
               "--nbval",
               "--nbval-current-env", "--nbval-sanitize-with", str(sanitize),
               *[str(root / "notebooks" / p.name) for p in NOTEBOOKS]]
    result = subprocess.run(command, cwd=root, env=env, capture_output=True, text=True,
                            timeout=600)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]


def test_redirect_outputs_moves_output_folders_and_chains_inputs(tmp_path):
    # What papermill.inspect_notebook reports for 01_clean and 02_prepost (defaults are
    # the source text of the parameters cell).
    clean = {"raw_dir": {"default": '"data/raw"'},
             "processed_dir": {"default": '"data/processed"'}}
    prepost = {"measurements_path": {"default": '"data/processed/measurements.csv"'},
               "patients_path": {"default": '"data/processed/patients.csv"'},
               "alpha": {"default": "0.05"}, "tables_dir": {"default": '"reports/tables"'}}
    # Outside the project the paths are relative to the output folder, the kernel's
    # working folder there (run_folder): no folder of this machine is written down.
    written = {}
    first = redirect_outputs(clean, {}, tmp_path, written)
    assert first == {"processed_dir": "processed"}  # raw_dir is an input
    assert written == {paths.ROOT / "data" / "processed": tmp_path / "processed"}
    second = redirect_outputs(prepost, {"patients_path": None}, tmp_path, written)
    assert second == {"measurements_path": "processed/measurements.csv",
                      "patients_path": None,  # explicit values are never changed
                      "tables_dir": "tables"}
    # Alone (01 not in the run), 02 reads the committed processed data.
    assert redirect_outputs(prepost, {}, tmp_path, {}) == {"tables_dir": "tables"}
    # Inside the project the injected paths are relative to it: an executed notebook
    # names no folder of the machine it ran on.
    inside = paths.ROOT / "out" / "run90"
    assert redirect_outputs(prepost, {}, inside, {}) == {"tables_dir": "out/run90/tables"}
    chained = {}
    redirect_outputs(clean, {}, inside, chained)
    assert redirect_outputs(prepost, {}, inside, chained)["measurements_path"] == (
        "out/run90/processed/measurements.csv")


@pytest.mark.slow
def test_output_dir_runs_touch_no_committed_file(tmp_path):
    """``--output-dir`` puts every output under the folder and leaves the tree as it was.

    The run on the paper's data into a folder must also reproduce the committed outputs
    byte for byte: the same inputs, only the place differs.
    """
    before = committed_outputs()
    out = tmp_path / "run"
    status = main(["run", *map(str, NOTEBOOKS), "--output-dir", str(out), "--quiet",
                   "--report", "report.html"])
    assert status == 0
    assert committed_outputs() == before
    produced = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()}
    expected = {f"{folder}/{p.name}"
                for folder, source in [("processed", paths.DATA_PROCESSED),
                                       ("tables", paths.TABLES), ("figures", paths.FIGURES)]
                for p in source.iterdir()}
    assert produced == expected | {p.name for p in NOTEBOOKS} | {"report.html",
                                                                 "summary.json"}
    assert (out / "summary.json").read_bytes() == (paths.REPORTS / "summary.json").read_bytes()
    # Portable: nothing names the output folder, the project or the machine's temp folder.
    for path in out.rglob("*"):
        if path.suffix in {".ipynb", ".html", ".md", ".csv", ".svg"}:
            text = path.read_text(encoding="utf-8")
            for absolute in (str(out), str(paths.ROOT), str(tmp_path)):
                assert absolute not in text, f"{path.name} names {absolute}"
    for name in expected:
        committed = {"processed": paths.DATA_PROCESSED, "tables": paths.TABLES,
                     "figures": paths.FIGURES}[name.split("/")[0]] / name.split("/")[1]
        assert (out / name).read_bytes() == committed.read_bytes(), name


class _Contents:
    """What the save hooks use of a Jupyter server's contents manager."""

    def __init__(self, root):
        import logging

        self.root, self.log, self.warnings = root, logging.getLogger("test-contents"), []
        self.log.warning = lambda message, *args: self.warnings.append(message % args)

    def _get_os_path(self, path):
        return str(self.root / path)


def _saved(counts, tmp_path):
    """A notebook whose code cells ran with ``counts``, through the pre-save hook."""
    from helpers.pipeline.notebooks import pre_save_hook

    cells = [nbformat.v4.new_code_cell(f"x = {i}", execution_count=count,
                                       outputs=[nbformat.v4.new_output(
                                           "execute_result", {"text/plain": str(i)},
                                           execution_count=count)])
             for i, count in enumerate(counts)]
    model = {"type": "notebook", "content": nbformat.v4.new_notebook(cells=cells)}
    contents = _Contents(tmp_path)
    pre_save_hook(model, "n.ipynb", contents)
    saved = model["content"]
    return ([cell["execution_count"] for cell in saved["cells"]],
            [cell["outputs"][0]["execution_count"] for cell in saved["cells"]],
            contents.warnings)


def test_a_save_renumbers_a_notebook_that_ran_in_order(tmp_path):
    # Run top to bottom in a kernel that had run before (counts 12...): 1, 2, 3.
    assert _saved([12, 13, 15], tmp_path) == ([1, 2, 3], [1, 2, 3], [])
    assert _saved([None, None], tmp_path)[2] == []  # not run: nothing to say


def test_a_save_keeps_the_counts_of_cells_run_out_of_order(tmp_path):
    # The parameters cell re-run after the cells below it: kept as it ran, so that git
    # diff and nbval show it, and the server's log says why.
    counts, outputs, warnings = _saved([7, 5, 6], tmp_path)
    assert counts == [7, 5, 6] and outputs == [7, 5, 6]
    assert warnings == ["n.ipynb: cells ran out of order; execution counts kept as they ran "
                        "(run all from the top, then save, to normalise)"]


@pytest.mark.parametrize("shared_kernel", [True, False])
def test_batch_kernels_keep_no_history(tmp_path, shared_kernel):
    """Kernels of a batch run write no IPython history: kernels running at the same time
    contend for its one SQLite file, and IPython prints the failures into the notebook."""
    from helpers.pipeline.notebooks import run_notebooks

    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell("print(get_ipython().history_manager.enabled)")]
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                       "language": "python"}
    source = tmp_path / "history.ipynb"
    nbformat.write(notebook, source)
    [executed] = run_notebooks([source], output_dir=tmp_path / "out", quiet=True,
                               shared_kernel=shared_kernel)
    output = nbformat.read(executed, as_version=4).cells[0].outputs[0]
    assert output["text"].strip() == "False"
