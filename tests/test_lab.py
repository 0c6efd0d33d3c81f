"""`make lab`: opening and saving a notebook in JupyterLab changes no byte.

The server is started exactly as a user starts it (``make lab``, here as root when the
tests run as root, which needs ``--allow-root``), with jupyter_server's own
``JUPYTER_PORT`` and ``JUPYTER_TOKEN``. Each notebook is fetched through the contents API,
given the ``language_info`` an IPython kernel reports (what Lab adds when a notebook is
opened on a kernel), and saved back. The tree must stay clean, and the notebooks keep
their modification times (``make`` compares them with the outputs').
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request

import pytest
from ipykernel.ipkernel import IPythonKernel

from conftest import git_status, make_clone

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class _Lab:
    def __init__(self, port: int, token: str):
        self.base = f"http://127.0.0.1:{port}/api"
        self.token = token

    def request(self, method: str, path: str, body: dict | None = None, *,
                base: str | None = None) -> dict:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            f"{base or self.base}/{path}", data=data, method=method,
            headers={"Authorization": f"token {self.token}",
                     "Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read() or b"null")


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """`make lab` in a clone, on a free port with a random token; stopped afterwards."""
    clone = make_clone(tmp_path_factory.mktemp("lab") / "clone")
    port, token = _free_port(), secrets.token_hex(16)
    env = dict(os.environ, ANIFROLUMAB_ROOT=str(clone), JUPYTER_PORT=str(port),
               JUPYTER_TOKEN=token)
    process = subprocess.Popen(["make", "lab", "LAB_OPTIONS=--no-browser"], cwd=clone,
                               env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                               text=True, start_new_session=True)
    server = _Lab(port, token)
    deadline = time.monotonic() + 90
    try:
        while True:
            try:
                server.request("GET", "status")
                break
            except (urllib.error.URLError, ConnectionError):
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"make lab did not start: {process.stderr.read()[-2000:]}")
                time.sleep(0.3)
        yield clone, server
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)


def test_open_and_save_in_lab_leaves_the_tree_clean(lab):
    clone, server = lab
    # The token is required: the server is not open to anyone on the machine.
    with pytest.raises(urllib.error.HTTPError):
        urllib.request.urlopen(f"{server.base}/contents/notebooks", timeout=30)
    listing = server.request("GET", "contents/notebooks")
    notebooks = sorted(item["path"] for item in listing["content"]
                       if item["path"].endswith(".ipynb"))
    assert len(notebooks) == 5
    mtimes = {path: (clone / path).stat().st_mtime_ns for path in notebooks}
    language_info = dict(IPythonKernel.language_info)
    assert "codemirror_mode" in language_info and "version" in language_info
    for path in notebooks:
        model = server.request("GET", f"contents/{path}?content=1")
        content = model["content"]
        content["metadata"]["language_info"] = language_info
        for cell in content["cells"]:  # what Lab records while cells run
            cell["metadata"]["execution"] = {"iopub.status.busy": "2026-01-01T00:00:00Z"}
        server.request("PUT", f"contents/{path}",
                       {"type": "notebook", "format": "json", "content": content})
    assert git_status(clone) == []
    # The saves kept their modification times, so make sees nothing new either.
    assert {path: (clone / path).stat().st_mtime_ns for path in notebooks} == mtimes


def test_an_edit_in_lab_shows_as_a_change(lab):
    clone, server = lab
    model = server.request("GET", "contents/notebooks/02_prepost.ipynb?content=1")
    model["content"]["cells"][0]["source"] += "\nAn edit."
    server.request("PUT", "contents/notebooks/02_prepost.ipynb",
                   {"type": "notebook", "format": "json", "content": model["content"]})
    assert git_status(clone) == [" M notebooks/02_prepost.ipynb"]
    subprocess.run(["git", "checkout", "--", "notebooks"], cwd=clone, check=True)


def test_lab_opens_quiet_on_the_project_kernel(lab):
    """The settings `make env` writes reach the running server: no news prompt, and the
    notebooks' kernel is there (so Lab opens them without asking for one)."""
    _, server = lab
    settings = server.request("GET", "settings/@jupyterlab/apputils-extension:notification",
                              base=server.base.removesuffix("/api") + "/lab/api")
    defaults = {key: value["default"] for key, value in settings["schema"]["properties"].items()}
    assert defaults["fetchNews"] == "false" and defaults["checkForUpdates"] is False
    assert "anifrolumab-arthritis" in server.request("GET", "kernelspecs")["kernelspecs"]
