"""requirements.lock and environment.yml carry the same versions."""

from __future__ import annotations

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
