"""The report in a real browser: the system's Chromium, driven by Playwright.

``make screenshot`` (``python scripts/screenshot.py reports/report.html
docs/report-screenshot.png``) writes the picture of the report's first screen that the
README shows; ``tests/test_browser.py`` opens the report the same way to check how it
lays out. Chromium is Debian's ``chromium`` package (``apt-get install -y chromium``):
Playwright never downloads a browser here, and every request that is not a local file or
an inline image is refused, so what loads is what the report carries.

The screenshot is not part of the byte-for-byte reproducibility promise: fonts and their
rendering differ between machines and Chromium versions (on one machine, the same report
gives the same picture).
"""

from __future__ import annotations

import argparse
import shutil
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

#: The first screen the README shows, in CSS pixels.
SCREEN = {"width": 1280, "height": 800}
# Rendering switches that make a picture the same from run to run on one machine.
ARGS = ["--force-color-profile=srgb", "--font-render-hinting=none", "--hide-scrollbars",
        "--disable-gpu", "--disable-lcd-text"]


def chromium_path() -> str | None:
    """The system's Chromium, or None."""
    return shutil.which("chromium")


@contextmanager
def browser() -> Iterator[object]:
    """A headless Chromium (Playwright ``Browser``), closed afterwards."""
    from playwright.sync_api import sync_playwright

    executable = chromium_path()
    if executable is None:
        raise RuntimeError("chromium not found: install it (apt-get install -y chromium)")
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=executable, args=ARGS)
        try:
            yield instance
        finally:
            instance.close()


def open_page(instance, path: str | Path, width: int, height: int = 900):
    """The report at ``width`` CSS pixels; returns ``(page, requests)``.

    ``requests`` lists every URL the page asked for; any that is not ``file:`` or
    ``data:`` is aborted (it would leave the machine).
    """
    context = instance.new_context(viewport={"width": width, "height": height},
                                   device_scale_factor=1, reduced_motion="reduce")
    requests: list[str] = []

    def route(route_):
        if route_.request.url.startswith(("file:", "data:")):
            route_.continue_()
        else:
            route_.abort()

    context.route("**/*", route)
    context.on("request", lambda request: requests.append(request.url))
    page = context.new_page()
    page.goto(Path(path).resolve().as_uri(), wait_until="load")
    page.evaluate("document.fonts.ready")
    return page, requests


def screenshot(report: str | Path, output: str | Path) -> Path:
    """Write the report's first screen (:data:`SCREEN`) as a PNG."""
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    with browser() as instance:
        page, _ = open_page(instance, report, SCREEN["width"], SCREEN["height"])
        page.screenshot(path=str(output), animations="disabled", caret="hide")
    return output


def main(argv: Sequence[str] | None = None) -> int:
    """``python scripts/screenshot.py REPORT OUTPUT``."""
    parser = argparse.ArgumentParser(description="Screenshot of the report's first screen.")
    parser.add_argument("report")
    parser.add_argument("output")
    args = parser.parse_args(argv)
    try:
        written = screenshot(args.report, args.output)
    except RuntimeError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(f"wrote {written}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
