"""Time statistics and figures on synthetic cohorts, with their peak memory.

``python benchmarks/probes/scale_worker.py SPEC`` with SPEC a JSON object:
``configs`` (a list of [patients, visits]), ``operations`` (names of :data:`OPERATIONS`),
``repeats``, and optionally ``dpi`` (300) and ``warm_up`` (true). Prints one JSON line:
a list of rows, one per configuration and operation (see :func:`measure`).

``figures`` draws what notebooks/03_figures.ipynb draws from a cohort, the same way:
the slope charts of every measure in one figure, the DAS28 waterfall of the responder
table, each saved as PNG and SVG through ``save_and_show`` and rendered once more as the
notebook displays it. The responder table is statistics (its own row, ``responders``):
it is computed before the timed call, and its time reported beside it.

Run in a fresh process, so that the peak memory is the operation's own and nothing is
cached from another size.
"""

from __future__ import annotations

import contextlib
import gc
import io
import json
import resource
import statistics
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Mapping
from pathlib import Path

from helpers.vocab import MEASURES


def _proc_status_kib(field: str) -> int | None:
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return None


def _reset_peak() -> bool:
    """Reset this process's peak resident set size (Linux >= 4.0); False if impossible."""
    try:
        with open("/proc/self/clear_refs", "w") as handle:
            handle.write("5")
        return _proc_status_kib("VmHWM") is not None
    except OSError:
        return False


# ---------------------------------------------------------------------------------------
# The operations: each takes (cohort, folder for files, dpi[, what PREPARE made]) and
# returns extra timings
# ---------------------------------------------------------------------------------------


def _op_paired(cohort, folder, dpi):
    from helpers.paired import paired_tests

    paired_tests(cohort)
    return {}


def _op_responders(cohort, folder, dpi):
    from helpers.scores import responder_table, summarise_responders

    summarise_responders(responder_table(cohort))
    return {}


def _show(fig, stem, dpi) -> float:
    """``save_and_show`` as the notebook calls it; returns the seconds spent in it.

    Outside a Jupyter kernel, IPython's ``display`` only prints the figure's repr, so the
    PNG the notebook's inline backend renders (at the figure's dpi, cropped tight) is
    rendered here first; everything printed is swallowed (stdout carries the JSON).
    """
    from helpers.figures import save_and_show

    started = time.perf_counter()
    fig.canvas.print_figure(io.BytesIO(), format="png", bbox_inches="tight")
    with contextlib.redirect_stdout(io.StringIO()):
        save_and_show(fig, stem, formats=("png", "svg"), dpi=dpi)
    return time.perf_counter() - started


def _prepare_figures(cohort):
    """The notebook's statistics and set-up before the figures: the responder table and
    the measures present (notebook 03's first cell)."""
    from helpers.scores import responder_table

    present = set(cohort["measure"].unique())
    return responder_table(cohort), [m for m in MEASURES if m in present]


def _op_figures(cohort, folder, dpi, prepared):
    import matplotlib.pyplot as plt

    from helpers.figures import figure_size, slope_chart, waterfall

    responders, measures = prepared
    saved = 0.0
    try:
        fig, axes = plt.subplots(1, len(measures),
                                 figsize=figure_size("double", aspect=0.36), squeeze=False)
        for ax, measure in zip(axes[0], measures, strict=False):
            slope_chart(cohort, measure=measure, ax=ax)
        saved += _show(fig, Path(folder) / "slopes", dpi)
        fig, ax = plt.subplots(figsize=figure_size("single", aspect=0.8))
        waterfall(responders, value="das28_change", hue="eular_response", ax=ax)
        saved += _show(fig, Path(folder) / "waterfall_das28", dpi)
    finally:
        plt.close("all")
    return {"save": saved}


OPERATIONS: dict[str, Callable] = {"paired_tests": _op_paired,
                                   "responders": _op_responders, "figures": _op_figures}
#: Untimed work an operation needs first (its result is passed as the fourth argument).
PREPARE: dict[str, Callable] = {"figures": _prepare_figures}


# ---------------------------------------------------------------------------------------
# Timing
# ---------------------------------------------------------------------------------------


def _warm_up(spec: Mapping, folder: str, dpi: int) -> None:
    """Run each operation once on a 20-patient cohort, untimed, so that lazy imports and
    matplotlib's font cache are not counted as work proportional to the cohort."""
    from helpers.synth import make_cohort

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # 20 patients draw per-patient figures, 1,000 the distributions of large cohorts.
        for visits in sorted({v for _, v in spec["configs"]}):
            for n in (20, 1_000):
                small = make_cohort(n, visits=int(visits), seed=1)
                for op in spec["operations"]:
                    prepared = [PREPARE[op](small)] if op in PREPARE else []
                    OPERATIONS[op](small, folder, dpi, *prepared)


def _call(op: str, cohort, folder: str, dpi: int, prepared=()) -> dict[str, object]:
    """One timed call, with the process's peak memory during it (VmHWM reset before)."""
    gc.collect()
    exact = _reset_peak()
    before = _proc_status_kib("VmRSS") or 0
    with warnings.catch_warnings(record=True) as records:
        warnings.simplefilter("always")
        started = time.perf_counter()
        extra = OPERATIONS[op](cohort, folder, dpi, *prepared)
        seconds = time.perf_counter() - started
    # Without clear_refs, the lifetime peak (ru_maxrss) is the best there is.
    peak = (_proc_status_kib("VmHWM") if exact
            else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
    return {"seconds": seconds, "extra": extra, "exact": exact, "peak": peak * 1024,
            "added": max(peak - before, 0) * 1024,
            "warnings": {f"{w.category.__name__}: {w.message}" for w in records}}


def measure(op: str, cohort, repeats: int, folder: str, dpi: int) -> dict[str, object]:
    """Time ``op`` on ``cohort`` ``repeats`` times (after its untimed preparation).

    Returns
    -------
    dict
        ``times`` and their median ``seconds``, the largest ``peak_bytes`` (whole process)
        and ``added_bytes`` (peak minus the resident size before the call), how the peak
        was measured (``peak_method``), the median ``save_seconds`` of figures, the
        ``prepare_seconds`` of the untimed preparation (None without one), and the
        distinct ``warnings`` raised.
    """
    prepare_seconds, prepared = None, ()
    if op in PREPARE:
        started = time.perf_counter()
        prepared = (PREPARE[op](cohort),)
        prepare_seconds = time.perf_counter() - started
    calls = [_call(op, cohort, folder, dpi, prepared) for _ in range(int(repeats))]
    times = [call["seconds"] for call in calls]
    saves = [call["extra"]["save"] for call in calls if call["extra"].get("save") is not None]
    return {"times": times, "seconds": statistics.median(times),
            "peak_bytes": max(call["peak"] for call in calls),
            "added_bytes": max(call["added"] for call in calls),
            "peak_method": "VmHWM" if calls[-1]["exact"] else "maxrss",
            "save_seconds": statistics.median(saves) if saves else None,
            "prepare_seconds": prepare_seconds,
            "warnings": sorted(set().union(*(call["warnings"] for call in calls)))}


def scale_worker(spec: Mapping) -> list[dict]:
    """For each (patients, visits) of ``spec``, make a cohort and measure each operation.

    Parameters
    ----------
    spec : mapping
        See the module's docstring.

    Returns
    -------
    list of dict
        One row per configuration and operation: ``operation``, ``patients``, ``visits``,
        ``rows``, ``cohort_seconds`` (making the cohort, not timed with the operation),
        ``dpi`` and what :func:`measure` returns.
    """
    import matplotlib

    matplotlib.use("Agg", force=True)
    from helpers.figures import set_theme
    from helpers.synth import make_cohort

    set_theme()
    results = []
    dpi = int(spec.get("dpi", 300))
    with tempfile.TemporaryDirectory(prefix="bench-figures-") as folder:
        if spec.get("warm_up", True):
            _warm_up(spec, folder, dpi)
        for n, visits in spec["configs"]:
            started = time.perf_counter()
            cohort = make_cohort(int(n), visits=int(visits), seed=0)
            made = time.perf_counter() - started
            for op in spec["operations"]:
                row = measure(op, cohort, spec["repeats"], folder, dpi)
                results.append({"operation": op, "patients": int(n), "visits": int(visits),
                                "rows": len(cohort), "cohort_seconds": made, **row,
                                "dpi": dpi})
            del cohort
            gc.collect()
    return results


if __name__ == "__main__":
    print(json.dumps(scale_worker(json.loads(sys.argv[1]))))
