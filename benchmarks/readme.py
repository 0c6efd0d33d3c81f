"""The README's measured numbers, rewritten by ``make bench`` from what it measured.

README.md holds its benchmark numbers between markers, ``<!-- make bench: NAME -->`` and
``<!-- /make bench: NAME -->`` (invisible on GitHub), so that no number there outlives
the run it came from:

- ``make``: a fresh clone's first ``make``, ``make`` from clean outputs against its floor,
  ``make`` with nothing to do;
- ``limits``: ``make analysis`` on synthetic cohorts of 10^4 to 10^6 patients, against
  its floor, with the growth exponent, the peak memory and the cohort figures' time;
- ``power``: the power grid on 2 worker processes against one process.

A block whose numbers a run did not measure is left as it was; a README without the
markers is an error (the numbers would silently go stale).
"""

from __future__ import annotations

import re
import statistics
from collections.abc import Callable, Mapping

from benchmarks import markdown as md
from benchmarks.harness import BenchError
from benchmarks.power_grid import speedups
from benchmarks.render import paired_ratio
from benchmarks.scaling import growth


def make_text(results: Mapping) -> str | None:
    """The ``make`` block: a fresh clone, ``make`` against its floor, nothing to do."""
    pipeline, first_run = results.get("pipeline"), results.get("first_run")
    if not pipeline or not first_run or not pipeline.get("make"):
        return None
    first, setup = statistics.median(first_run["runs"]), statistics.median(first_run["env_part"])
    return (f"Measured on 2 cores (`make bench`, `docs/benchmarks.md`, {results['date']}; "
            "this shared host drifts by tens of percent within minutes): a fresh clone's "
            f"first `make` takes {md.seconds(first)} (the environment {md.seconds(setup)} with "
            f"uv's cache warm, then the analysis {md.seconds(first - setup)}). `make` from "
            f"clean outputs takes {md.seconds(statistics.median(pipeline['make']))} against "
            f"{md.seconds(statistics.median(pipeline['floor']))} for the same code run as one "
            f"plain Python script: {paired_ratio(pipeline):.2f} times (the median of "
            f"{len(pipeline['make'])} alternating pairs), `make` also printing `report.pdf`, "
            "which the script does not. `make` with nothing to do takes "
            f"{md.seconds(statistics.median(pipeline['stale']))}")


def limits_text(results: Mapping) -> str | None:
    """The ``limits`` block: make analysis at each size, against its floor."""
    rows = {row["patients"]: row for row in results.get("analysis") or []}
    if not {10_000, 100_000, 1_000_000} <= set(rows):
        return None
    small, middle, large = rows[10_000], rows[100_000], rows[1_000_000]
    exponent = next(row["exponent"] for row in growth(list(rows.values()))
                    if row["patients"] == 1_000_000)
    text = (f"(`make bench`, `docs/benchmarks.md`, {results['date']}; 2 cores): "
            f"`make analysis` on a CSV of 10^4 patients x 3 visits x 3 measures takes "
            f"{md.seconds(small['seconds'])}, 10^5 patients {md.seconds(middle['seconds'])} "
            f"({middle['seconds'] / middle['floor_seconds']:.1f} times its floor: the same "
            "file read by pandas, `paired_tests` and the table written in one plain process, "
            f"{md.seconds(middle['floor_seconds'])}; peak {md.gib(middle['peak_bytes'])}), 10^6 "
            f"patients (9 million rows) {md.seconds(large['seconds'])} "
            f"({large['seconds'] / large['floor_seconds']:.1f} times its floor) with a peak "
            f"of {md.gib(large['peak_bytes'])} in the largest process; time grows "
            f"{'less than linearly' if exponent < 1 else 'about linearly'} from 10^5 to 10^6 "
            f"(b = {exponent:.2f}).")
    figures = [row for row in results.get("scaling") or [] if row["operation"] == "figures"
               and row["patients"] == 1_000_000 and row["visits"] == 3]
    if figures:
        text += (f" The cohort figures alone at 10^6 patients take "
                 f"{md.seconds(figures[0]['seconds'])}.")
    return text


def power_text(results: Mapping) -> str | None:
    """The ``power`` block: the speed-up of 2 worker processes over one process."""
    power = results.get("power")
    if not power or power.get("reps", 0) < 1000:  # a smoke run measures nothing
        return None
    speedup = speedups(power)
    others = ", ".join(f"{workers} worker{'s' if workers > 1 else ''} {ratio:.2f} times"
                       for workers, ratio in speedup.items() if workers != 2)
    return (f"2 worker processes run it {speedup[2]:.2f} times as fast as one process in "
            f"the latest `make bench` ({results['date']}; the median of "
            f"{len(power['clusters'][0]['runs'])} alternating pairs; {others} on these "
            "2 cores)")


#: Each block of README.md and what writes it.
BLOCKS: dict[str, Callable[[Mapping], str | None]] = {
    "make": make_text, "limits": limits_text, "power": power_text}


def update(readme: str, results: Mapping) -> str:
    """``readme`` with every block rewritten from ``results`` (unmeasured ones kept)."""
    for name, build in BLOCKS.items():
        pattern = re.compile(rf"(<!-- make bench: {name} -->)(.*?)(<!-- /make bench: {name} -->)",
                             re.S)
        if not pattern.search(readme):
            raise BenchError(f"README.md has no '<!-- make bench: {name} -->' block to "
                             "write the measured numbers into")
        text = build(results)
        if text is not None:
            readme = pattern.sub(lambda match, text=text: match.group(1) + text
                                 + match.group(3), readme)
    return readme
