"""The report as a reader sees it, in a real browser (headless Chromium) on a desktop and
on a phone.

At 1400 and 390 CSS pixels: no table is wider than the text column on the desktop; on the
phone every table wider than the screen scrolls inside a box of its own that shows a cue
(a shadow on the side that hides columns), and the transposed tables (patients, outcomes)
become cards that fit; the page itself never scrolls sideways; every image loads and has
a text alternative in words; no request leaves ``file://``. The screenshots (first screen
and whole page, at both widths) are saved in the test's temporary folder for a person to
look at.

Chromium is the system's (Debian's ``chromium`` package, which ``.ci/run`` installs); the
test is skipped where it is missing. Playwright never downloads a browser here.
"""

from __future__ import annotations

import pytest

from helpers import paths
from helpers.pipeline.report import build_report
from scripts.screenshot import browser, chromium_path, open_page

if chromium_path() is None:
    pytest.skip("chromium not installed (apt-get install -y chromium): report not opened in "
                "a browser", allow_module_level=True)

NOTEBOOKS = sorted(paths.NOTEBOOKS.glob("0*.ipynb"))
DESKTOP, PHONE = 1400, 390

# Everything measured in one pass over the page (CSS pixels).
MEASURE = """() => {
  const box = (el) => {
    for (let p = el.parentElement; p; p = p.parentElement) {
      const overflow = getComputedStyle(p).overflowX;
      if (overflow === 'auto' || overflow === 'scroll') return p;
    }
    return null;
  };
  const body = getComputedStyle(document.body);
  const column = document.body.clientWidth - parseFloat(body.paddingLeft)
                 - parseFloat(body.paddingRight);
  const tables = [...document.querySelectorAll('table')].map((t) => {
    const b = box(t);
    return {
      text: t.innerText.slice(0, 60).replace(/\\s+/g, ' '),
      width: t.getBoundingClientRect().width,
      cards: t.classList.contains('cards'),
      display: getComputedStyle(t).display,
      box: b && {cls: b.className, width: b.clientWidth, scroll: b.scrollWidth,
                 right: b.getBoundingClientRect().right,
                 cue: getComputedStyle(b).backgroundImage},
    };
  });
  const images = [...document.images].map((i) => ({
    alt: i.getAttribute('alt'), loaded: i.complete && i.naturalWidth > 0,
    width: i.getBoundingClientRect().width}));
  window.scrollTo(10000, 0);
  const sideways = window.scrollX;
  window.scrollTo(0, 0);
  return {column, tables, images, sideways, page: document.documentElement.scrollWidth,
          viewport: window.innerWidth};
}"""


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    out = tmp_path_factory.mktemp("browser") / "report.html"
    build_report(NOTEBOOKS, out)
    return out


@pytest.fixture(scope="module")
def seen(report):
    """The report measured and photographed at both widths."""
    results = {}
    with browser() as instance:
        for width in (DESKTOP, PHONE):
            page, requests = open_page(instance, report, width)
            page.screenshot(path=str(report.parent / f"first-screen-{width}.png"))
            page.screenshot(path=str(report.parent / f"page-{width}.png"), full_page=True)
            results[width] = {**page.evaluate(MEASURE), "requests": requests}
            page.context.close()
    return results


def test_no_table_is_wider_than_the_column_on_a_desktop(seen):
    view = seen[DESKTOP]
    assert len(view["tables"]) >= 13
    for table in view["tables"]:
        assert table["width"] <= view["column"] + 0.5, table["text"]
        assert table["box"] is not None, table["text"]
        assert table["box"]["scroll"] <= table["box"]["width"], table["text"]  # no scrolling


def test_on_a_phone_wide_tables_scroll_in_their_own_box_and_records_become_cards(seen):
    view = seen[PHONE]
    wide = 0
    for table in view["tables"]:
        box = table["box"]
        assert box is not None and "table-scroll" in box["cls"], table["text"]
        assert box["right"] <= view["viewport"], table["text"]
        if table["width"] > box["width"] + 0.5:
            wide += 1
            assert "gradient" in box["cue"], table["text"]  # the shadow cue
        if table["cards"]:
            assert table["display"] == "flex", table["text"]
            assert table["width"] <= box["width"] + 0.5, table["text"]
    assert wide >= 1
    assert sum(t["cards"] for t in view["tables"]) == 3  # patients, outcomes, responders


@pytest.mark.parametrize("width", [DESKTOP, PHONE])
def test_the_page_never_scrolls_sideways(seen, width):
    view = seen[width]
    assert view["page"] <= view["viewport"] and view["sideways"] == 0


@pytest.mark.parametrize("width", [DESKTOP, PHONE])
def test_every_image_loads_and_says_what_it_shows(seen, width):
    images = seen[width]["images"]
    assert len(images) == 8
    for image in images:
        assert image["loaded"], image["alt"]
        assert image["alt"] and len(image["alt"]) > 40, image["alt"]
        assert "Figure size" not in image["alt"] and "matplotlib" not in image["alt"]


@pytest.mark.parametrize("width", [DESKTOP, PHONE])
def test_no_request_leaves_the_file(seen, width):
    requests = seen[width]["requests"]
    assert requests and all(url.startswith(("file:", "data:")) for url in requests), requests

