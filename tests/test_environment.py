"""The environment: requirements.lock and environment.yml carry the same versions, and
what `make env` installs besides the packages (the project kernel, quiet JupyterLab)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import jsonschema
import nbformat
import pytest
from jupyter_client.kernelspec import KernelSpecManager

from helpers import paths
from scripts import compile_bytecode
from scripts.environment_yml import environment_pins, lock_pins, render_environment


def test_environment_yml_matches_the_lock():
    lock = lock_pins(paths.ROOT / "requirements.lock")
    environment = environment_pins(paths.ROOT / "environment.yml")
    assert lock, "no pins read from requirements.lock"
    missing = sorted(set(lock) - set(environment))
    extra = sorted(set(environment) - set(lock))
    differ = sorted(k for k in set(lock) & set(environment) if lock[k] != environment[k])
    assert not (missing or extra or differ), (
        f"environment.yml out of step with requirements.lock (run `make lock`): "
        f"missing {missing}, extra {extra}, different {differ}")


def test_environment_yml_is_what_make_lock_writes():
    text = (paths.ROOT / "environment.yml").read_text()
    assert text == render_environment(lock_pins(paths.ROOT / "requirements.lock"))


def test_the_lock_pins_the_core_toolchain_with_hashes():
    lock = lock_pins(paths.ROOT / "requirements.lock")
    for package in ["pandas", "scipy", "seaborn", "papermill", "nbval", "pytest", "jupyterlab",
                    "pandera", "statsmodels", "uv"]:
        assert package in lock, package
    assert "--hash=sha256:" in (paths.ROOT / "requirements.lock").read_text()


LAB = Path(sys.prefix) / "share" / "jupyter" / "lab"
QUIET = "@jupyterlab/apputils-extension:notification"


def test_make_env_keeps_jupyterlab_quiet():
    """No "get notified about Jupyter news?" prompt, no news feed, no update check.

    The keys are checked against the schema of the installed JupyterLab, so a renamed
    setting fails here rather than silently doing nothing.
    """
    installed = LAB / "settings" / "overrides.json"
    assert installed.is_file(), "run `make env`: it writes share/jupyter/lab/settings"
    overrides = json.loads(installed.read_text(encoding="utf-8"))
    committed = json.loads((paths.ROOT / "etc" / "jupyterlab" / "overrides.json").read_text())
    assert overrides == committed
    assert overrides[QUIET] == {"fetchNews": "false", "checkForUpdates": False}
    plugin, name = QUIET.split(":")
    schema = json.loads((LAB / "schemas" / plugin / f"{name}.json").read_text())
    jsonschema.validate(overrides[QUIET], schema)
    assert set(overrides[QUIET]) <= set(schema["properties"])


def test_notebooks_open_on_the_project_kernel_without_asking():
    specs = KernelSpecManager().find_kernel_specs()
    assert "anifrolumab-arthritis" in specs
    spec = KernelSpecManager().get_kernel_spec("anifrolumab-arthritis")
    # The same environment's interpreter (folders resolved: a scratch copy of the project,
    # as make bench makes, links .venv to the checkout's).
    assert Path(spec.argv[0]).parent.resolve() == Path(sys.executable).parent.resolve()
    for notebook in sorted(paths.NOTEBOOKS.glob("0*.ipynb")):
        kernelspec = nbformat.read(notebook, as_version=4).metadata["kernelspec"]
        assert kernelspec["name"] == "anifrolumab-arthritis", notebook.name


def test_set_up_bytecode_follows_runtime_requirements_and_their_extras_only():
    from packaging.utils import canonicalize_name

    names = {canonicalize_name(dist.metadata["Name"])
             for dist in compile_bytecode.runtime_closure()}
    # distributed comes through dask[distributed]; the project's own dev extra is not
    # followed, and the project itself is compiled as it is imported.
    assert {"pandas", "scipy", "papermill", "ipykernel", "distributed"} <= names
    assert not {"jupyterlab", "pytest", "playwright", "statsmodels", "helpers"} & names
    analysis = {canonicalize_name(dist.metadata["Name"])
                for dist in compile_bytecode.analysis_distributions()}
    assert names < analysis and "hypothesis" in analysis


def test_compile_files_counts_failures_and_skips_what_is_compiled(tmp_path):
    import importlib.util

    good, bad = tmp_path / "good.py", tmp_path / "bad.py"
    good.write_text("VALUE = 1\n")
    bad.write_text("def broken(:\n")
    assert compile_bytecode.compile_files([str(good), str(bad)]) == 1
    compiled = Path(importlib.util.cache_from_source(str(good)))
    assert compiled.is_file()
    before = compiled.stat().st_mtime_ns
    assert compile_bytecode.compile_files([str(good)]) == 0
    assert compiled.stat().st_mtime_ns == before, "up-to-date bytecode was rewritten"


# The runner, its shared kernel and the report, on every notebook, then a last notebook in
# the same kernel that lists what the kernel has imported; the runner lists its own.
_LIST_MODULES = ("import json, sys\n"
                 "print(json.dumps(sorted(str(getattr(module, '__file__', None))\n"
                 "                        for module in list(sys.modules.values()))))")
_RUN_AND_LIST = f"""
import sys
from helpers.pipeline.notebooks import main
status = main(["run", *sys.argv[2:], "--output-dir", sys.argv[1], "--quiet",
               "--report", "report.html"])
{_LIST_MODULES}
sys.exit(status)
"""
# Imported by a run but not worth compiling at set-up: seaborn checks whether statsmodels
# (a development tool here) is installed by importing its top (3 kB); compiling statsmodels
# would add 0.7 s to every set-up. setuptools' start-up hook exists only in environments
# created with pip (make env creates none; its pip fallback does).
_NOT_COMPILED_AT_SET_UP = {"statsmodels/__init__.py", "statsmodels/_version.py",
                           "_distutils_hack/__init__.py"}


@pytest.mark.slow
def test_set_up_compiles_every_module_a_run_imports(tmp_path):
    """`make env` compiles the bytecode of the analysis's packages only
    (scripts/compile_bytecode.py); a module a run imports from elsewhere would be compiled
    again on every run where PYTHONDONTWRITEBYTECODE is set."""
    probe = nbformat.v4.new_notebook()
    probe.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                    "language": "python"}
    probe.cells = [nbformat.v4.new_code_cell(_LIST_MODULES)]
    nbformat.write(probe, tmp_path / "zz_list_modules.ipynb")
    notebooks = sorted(str(path) for path in paths.NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
    result = subprocess.run(
        [sys.executable, "-c", _RUN_AND_LIST, str(tmp_path / "out"), *notebooks,
         str(tmp_path / "zz_list_modules.ipynb")],
        cwd=paths.ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    executed = nbformat.read(tmp_path / "out" / "zz_list_modules.ipynb", as_version=4)
    imported = set(json.loads(result.stdout)) | set(json.loads(executed.cells[0].outputs[0].text))

    site = {sysconfig.get_paths()[key] for key in ("purelib", "platlib")}
    from_packages = {os.path.relpath(os.path.realpath(file), os.path.realpath(folder))
                     for file in imported if file.endswith(".py")
                     for folder in site if os.path.realpath(file).startswith(
                         os.path.realpath(folder) + os.sep)}
    compiled = {os.path.relpath(os.path.realpath(file), os.path.realpath(folder))
                for file in compile_bytecode.source_files(
                    compile_bytecode.analysis_distributions())
                for folder in site if os.path.realpath(file).startswith(
                    os.path.realpath(folder) + os.sep)}
    assert len(from_packages) > 1000, "the probe saw too few modules to be a real run"
    missing = sorted(from_packages - compiled - _NOT_COMPILED_AT_SET_UP)
    assert not missing, (f"{len(missing)} modules a run imports are not compiled at set-up "
                         f"(add their package to OPTIONAL_IMPORTS): {missing[:10]}")
