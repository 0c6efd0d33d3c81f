"""The Dask dashboard the README promises (issue 27): `dask scheduler` from the environment
serves http://HOST:8787/status (bokeh is in the lock, through dask's diagnostics extra),
while the embedded cluster of `make` runs without one.
"""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from helpers import paths

DASK = Path(sys.executable).parent / "dask"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as error:
        return error.code, ""


def test_the_scheduler_serves_its_dashboard(tmp_path):
    port, dashboard = _free_port(), _free_port()
    log = tmp_path / "scheduler.log"
    with log.open("w") as output:
        scheduler = subprocess.Popen(
            [str(DASK), "scheduler", "--host", "127.0.0.1", "--port", str(port),
             "--dashboard-address", f"127.0.0.1:{dashboard}", "--no-jupyter"],
            stdout=output, stderr=subprocess.STDOUT, cwd=tmp_path)
    try:
        status, body, deadline = None, "", time.monotonic() + 60
        while time.monotonic() < deadline and scheduler.poll() is None:
            try:
                status, body = _get(f"http://127.0.0.1:{dashboard}/status")
                break
            except OSError:  # not listening yet
                time.sleep(0.2)
        assert status == 200, log.read_text()
        assert "Dask" in body or "bokeh" in body.lower()
        assert "needs bokeh" not in log.read_text()
    finally:
        scheduler.send_signal(signal.SIGINT)
        started = time.monotonic()
        try:
            scheduler.wait(timeout=10)
        except subprocess.TimeoutExpired:
            scheduler.kill()
            scheduler.wait()
            raise AssertionError("the scheduler did not stop within 10 s of Ctrl-C") from None
    assert time.monotonic() - started < 10


_EMBEDDED = """
import json, sys, urllib.error, urllib.request
from helpers.analysis.planning import dask_client
with dask_client() as client:
    port = client.scheduler_info()["services"].get("dashboard")
    status = None
    if port:  # Dask's own HTTP routes (/health, /metrics) listen even without a dashboard
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/status", timeout=5)
            status = 200
        except urllib.error.HTTPError as error:
            status = error.code
print(json.dumps({"status": status, "bokeh": "bokeh" in sys.modules}))
"""


def test_the_embedded_cluster_of_make_has_no_dashboard():
    """No dashboard page, and bokeh not even imported: nothing of a dashboard can reach
    the committed notebook, and `make` does not pay for its import."""
    result = subprocess.run([sys.executable, "-c", _EMBEDDED], cwd=paths.ROOT,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    assert seen["status"] in (None, 404) and seen["bokeh"] is False, seen
