"""The environment: requirements.lock and environment.yml carry the same versions, and
what `make env` installs besides the packages (the project kernel, quiet JupyterLab)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import jsonschema
import nbformat
from jupyter_client.kernelspec import KernelSpecManager

from helpers import paths
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
