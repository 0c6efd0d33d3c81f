"""`make lab`: opening and saving a notebook in JupyterLab changes no byte, and whatever a
run in Lab leaves, `make` returns to the committed state (issue 25).

The server is started exactly as a user starts it (``make lab``, here as root when the
tests run as root, which needs ``--allow-root``), with jupyter_server's own
``JUPYTER_PORT`` and ``JUPYTER_TOKEN``. Each notebook is fetched through the contents API,
given the ``language_info`` an IPython kernel reports (what Lab adds when a notebook is
opened on a kernel), and saved back. The tree must stay clean, and the notebooks keep
their modification times (``make`` compares them with the outputs'). The notebooks' kernels
are driven as Lab drives them (a session, then the kernel's websocket): an edited run
closed without saving, and an out-of-order run saved, each followed by ``make``.
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


class _Kernel:
    """A notebook's kernel, opened as Lab opens it (a session on the notebook's path, so
    the kernel starts in its folder), driven over the kernel's websocket."""

    def __init__(self, server: _Lab, path: str):
        import websocket

        self.server = server
        session = server.request("POST", "sessions", {
            "path": path, "type": "notebook", "name": path.rsplit("/", 1)[-1],
            "kernel": {"name": "anifrolumab-arthritis"}})
        self.session_id = session["id"]
        kernel_id = session["kernel"]["id"]
        url = server.base.replace("http://", "ws://") + f"/kernels/{kernel_id}/channels"
        self.socket = websocket.create_connection(
            url, header=[f"Authorization: token {server.token}"], timeout=180)

    def execute(self, code: str) -> int:
        """Run ``code``; return its execution count (raise on an error in the cell)."""
        msg_id = secrets.token_hex(8)
        self.socket.send(json.dumps({
            "header": {"msg_id": msg_id, "username": "test", "session": self.session_id,
                       "msg_type": "execute_request", "version": "5.3"},
            "parent_header": {}, "metadata": {}, "channel": "shell", "buffers": [],
            "content": {"code": code, "silent": False, "store_history": True,
                        "user_expressions": {}, "allow_stdin": False,
                        "stop_on_error": True}}))
        while True:
            message = json.loads(self.socket.recv())
            if (message.get("msg_type") == "execute_reply"
                    and message["parent_header"].get("msg_id") == msg_id):
                content = message["content"]
                assert content["status"] == "ok", content.get("evalue")
                return content["execution_count"]

    def close(self) -> None:
        self.socket.close()
        self.server.request("DELETE", f"sessions/{self.session_id}")


def _code_cells(server: _Lab, path: str) -> tuple[dict, list[dict]]:
    content = server.request("GET", f"contents/{path}?content=1")["content"]
    return content, [cell for cell in content["cells"] if cell["cell_type"] == "code"]


def _make(clone) -> subprocess.CompletedProcess:
    result = subprocess.run(["make"], cwd=clone, capture_output=True, text=True, timeout=600,
                            env=dict(os.environ, ANIFROLUMAB_ROOT=str(clone)))
    assert result.returncode == 0, result.stderr[-2000:]
    return result


def _parameters(cell: dict) -> bool:
    return "parameters" in cell["metadata"].get("tags", [])


def test_an_edited_run_in_lab_then_make_returns_to_the_committed_state(lab):
    """Run 02 in Lab with ci_level = 0.90 and close without saving: the project's tables
    hold 90% intervals; ``make`` then rebuilds exactly those and the tree is clean."""
    clone, server = lab
    _make(clone)  # a fresh clone's file dates are arbitrary: settle them first
    assert git_status(clone) == []
    path = "notebooks/02_prepost.ipynb"
    _, cells = _code_cells(server, path)
    kernel = _Kernel(server, path)
    try:
        for cell in cells:
            source = "".join(cell["source"])
            if _parameters(cell):
                assert "ci_level = 0.95" in source
                source = source.replace("ci_level = 0.95", "ci_level = 0.90")
            kernel.execute(source)
    finally:
        kernel.close()
    changed = [line for line in git_status(clone) if "reports/tables" in line]
    assert changed, "the edited run wrote its 90% tables into the project"
    result = _make(clone)
    assert "outputs changed since make wrote them" in result.stderr
    assert git_status(clone) == []


def test_an_out_of_order_run_saved_in_lab_keeps_its_real_counts(lab):
    """Run 02 top to bottom, then its parameters cell again with another level, and save:
    the saved notebook keeps the kernel's real counts (the diff shows the parameters cell
    ran last); ``make`` reruns it and the tree is clean again."""
    clone, server = lab
    path = "notebooks/02_prepost.ipynb"
    content, cells = _code_cells(server, path)
    kernel = _Kernel(server, path)
    try:
        for cell in cells:
            cell["execution_count"] = kernel.execute("".join(cell["source"]))
        parameters = next(cell for cell in cells if _parameters(cell))
        parameters["execution_count"] = kernel.execute(
            "".join(parameters["source"]).replace("ci_level = 0.95", "ci_level = 0.90"))
    finally:
        kernel.close()
    real = [cell["execution_count"] for cell in cells]
    assert real != sorted(real), "the parameters cell ran last"
    server.request("PUT", f"contents/{path}",
                   {"type": "notebook", "format": "json", "content": content})
    saved = json.loads((clone / path).read_text())
    assert [cell["execution_count"] for cell in saved["cells"]
            if cell["cell_type"] == "code"] == real, "the save renumbered the cells"
    assert " M notebooks/02_prepost.ipynb" in git_status(clone)
    _make(clone)
    assert git_status(clone) == []
