"""The report's profile: where ``make`` from clean outputs spends the time its floor does not.

The parts come from the timelines of the median run of each (so they add up to its
total), refined by the start-up costs measured in isolation (:mod:`benchmarks.startup`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from benchmarks import markdown as md
from benchmarks.harness import median
from benchmarks.pipeline import median_run

# What each part of the gap holds, for each side.
_PART_LABELS = {
    "ready": "until the notebooks' work can start (make: make, the runner's start and "
             "imports, the kernel's launch and warm imports, overlapping: the start-up "
             "until the first notebook plus that notebook's time minus its own work, "
             "re-timed in a warm kernel; floor: interpreter and the notebooks' imports)",
    "work": "the notebooks' work (make: the first notebook's re-timed work plus the other "
            "notebooks as timed; floor: their code in plain Python)",
    "startup": "start-up until the first notebook starts (make: make, interpreter, the "
               "runner's imports, kernel launch; floor: interpreter)",
    "imports+code": "imports and the notebooks (make: in the kernel, the first notebook "
                    "waiting for its start and warm imports; floor: plain Python)",
    "report": "kernel shutdown + HTML report",
    "exit": "process exit (and make's own end)",
}
# The runner's steps whose times add up to a notebook's (``cells`` is part of ``execute``).
_STEP_PARTS = ("inspect", "reset", "execute", "write")


def _step_total(step: Mapping) -> float:
    return sum(step[key] for key in _STEP_PARTS)


def _step_sums(steps: Sequence[Mapping]) -> dict[str, float]:
    return {k: sum(step[k] for step in steps)
            for k in ("inspect", "reset", "execute", "cells", "write")}


def _optional_sum(a: float | None, b: float | None) -> float | None:
    """``a + b``, ``b`` counting as 0 when missing; ``None`` when ``a`` is."""
    return None if a is None else a + (b or 0.0)


def profile_parts(make_t: Mapping, floor_t: Mapping, startup: Mapping) -> dict:
    """Split the gap between ``make`` and its floor into parts, in time order.

    With the runner's steps re-timed in a warm kernel, the first notebook's time splits
    into its own work (re-timed) and waiting for the kernel, whatever the runner overlaps
    with what; without them (``--smoke``), imports and notebooks stay together.

    Parameters
    ----------
    make_t, floor_t : mapping
        Timelines of a ``make`` run and of a floor run.
    startup : mapping
        The start-up costs (``notebook_steps`` is used if present).

    Returns
    -------
    dict
        ``parts``, a list of (key of :data:`_PART_LABELS`, make seconds, floor seconds),
        and ``first``, the first notebook's own work (``None`` without the steps).
    """
    make_nb = [s for _, s in make_t.get("notebooks", [])]
    floor_nb = [s for _, s in floor_t.get("notebooks", [])]
    nb_floor = sum(floor_nb) if floor_nb else None
    steps = startup.get("notebook_steps") or []
    first = min(_step_total(steps[0]), make_nb[0]) if steps and make_nb else None
    floor_start, floor_imports = floor_t.get("startup"), floor_t.get("imports")
    if first is not None and make_t.get("startup") is not None:
        parts = [("ready", make_t["startup"] + make_nb[0] - first,
                  _optional_sum(floor_start, floor_imports)),
                 ("work", first + sum(make_nb[1:]), nb_floor)]
    else:
        parts = [("startup", make_t.get("startup"), floor_start),
                 ("imports+code", sum(make_nb) if make_nb else None,
                  _optional_sum(nb_floor, floor_imports))]
    report = make_t.get("report")
    parts += [("report", report, 0.0 if report is not None else None),
              ("exit", make_t.get("exit"), floor_t.get("exit"))]
    return {"parts": parts, "first": first}


# ---------------------------------------------------------------------------------------
# The tables
# ---------------------------------------------------------------------------------------


def _parts_table(profile: Mapping, make: float | None, floor: float | None) -> str:
    parts = profile["parts"]
    rows = [[_PART_LABELS[key], md.seconds(a), "—" if key == "report" else md.seconds(b),
             md.difference(a, b)] for key, a, b in parts]
    sum_make = sum(a for _, a, _ in parts if a is not None)
    sum_floor = sum(b for _, _, b in parts if b is not None)
    rows.append(["**sum of the parts**", f"**{md.seconds(sum_make)}**",
                 f"**{md.seconds(sum_floor)}**", f"**{sum_make - sum_floor:+.2f} s**"])
    rows.append(["measured total (median)", md.seconds(make), md.seconds(floor),
                 md.difference(make, floor)])
    return md.table(["part", "`make` from clean", "floor", "difference"], rows, "lrrr")


def _per_notebook_table(make_nb: Mapping, floor_nb: Mapping, first: float | None) -> str:
    """Each notebook in both; the first one's difference compares its own work."""
    rows = []
    for i, name in enumerate(list(make_nb) or list(floor_nb)):
        made = make_nb.get(name)
        shown = md.seconds(made)
        if i == 0 and first is not None and made is not None:
            shown += f" (its own work ≈ {md.seconds(first)}, re-timed in a warm kernel)"
            made = first
        rows.append([f"`{name}`", shown, md.seconds(floor_nb.get(name)),
                     md.difference(made, floor_nb.get(name))])
    return md.table(["notebook", "`make` from clean", "floor", "difference"], rows, "lrrr")


def _steps_table(steps: Sequence[Mapping], floor_nb: Mapping) -> str:
    rows = [[f"`{step['notebook']}`", md.seconds(step["inspect"]), md.seconds(step["reset"]),
             md.seconds(step["cells"]), md.seconds(step["execute"] - step["cells"]),
             md.seconds(step["write"]), md.seconds(_step_total(step)),
             md.seconds(floor_nb.get(step["notebook"]))] for step in steps]
    sums = _step_sums(steps)
    rows.append(["**all**", md.seconds(sums["inspect"]), md.seconds(sums["reset"]),
                 md.seconds(sums["cells"]), md.seconds(sums["execute"] - sums["cells"]),
                 md.seconds(sums["write"]),
                 md.seconds(sums["inspect"] + sums["reset"] + sums["execute"] + sums["write"]),
                 md.seconds(sum(floor_nb.get(step["notebook"], 0.0) for step in steps)
                            if floor_nb else None)])
    return md.table(["notebook", "inspect + read", "`kernel.reset()`", "cells in the kernel",
                     "papermill around the cells", "read, normalise, write", "total",
                     "floor: code"], rows)


def _startup_table(startup: Mapping) -> str:
    unused = startup.get("warm_unused") or []

    def isolated(key: str) -> str:
        if startup.get(key) is None:
            return "n/a (skipped in --smoke)"
        return md.seconds(startup[key])

    warm = ", ".join(f"`{m}`" for m in startup.get("warm_modules", [])) or "the list"
    unused_text = (", ".join(f"`{m}`" for m in unused)
                   or ("none" if "warm_unused" in startup else "n/a"))
    rows = [
        ["interpreter start (`python -c pass`)", isolated("interpreter")],
        ["the runner's imports (`import helpers.pipeline.notebooks, papermill`)",
         isolated("runner_imports")],
        ["kernel: `SharedKernel()` returns (process launched)", isolated("kernel_launch")],
        ["kernel: from `SharedKernel()` until its warm imports are done (`.wait()`)",
         isolated("kernel_ready")],
        [f"the kernel's warm imports in a plain interpreter ({warm})",
         isolated("science_imports")],
        [f"warm imports that no notebook needs: {unused_text}",
         md.seconds(startup.get("warm_unused_seconds")) if unused else "—"],
    ]
    return md.table(["component", "time"], rows)


def _import_top_table(top: Sequence[Mapping]) -> str:
    return md.table(["module", "self", "cumulative"],
                    [[f"`{r['module']}`", md.seconds(r["self"]), md.seconds(r["cumulative"])]
                     for r in top])


def profile_md(pipeline: Mapping, startup: Mapping) -> str:
    """Write the profile section's body (after its heading and introduction).

    Parameters
    ----------
    pipeline : mapping
        What :func:`benchmarks.pipeline.measure_pipeline` returned.
    startup : mapping
        What :func:`benchmarks.startup.measure_startup` returned (and, in a smoke run,
        the steps of the first notebook).

    Returns
    -------
    str
        Markdown: the parts, per notebook, the runner's steps (if measured), the start-up
        costs, the largest imports (if measured), and a sentence on what is left.
    """
    make_t = median_run(pipeline["make"], pipeline["make_timelines"])
    floor_t = median_run(pipeline["floor"], pipeline["floor_timelines"])
    make, floor = median(pipeline["make"]), median(pipeline["floor"])
    profile = profile_parts(make_t, floor_t, startup)
    make_nb = dict(make_t.get("notebooks", []))
    floor_nb = dict(floor_t.get("notebooks", []))
    text = [_parts_table(profile, make, floor)]
    text += ["", ("Per notebook (floor: its code only, the imports being up front; for the "
                  "first notebook, the difference compares its own work, leaving out the wait "
                  "for the kernel):"), "",
             _per_notebook_table(make_nb, floor_nb, profile["first"])]
    steps = startup.get("notebook_steps") or []
    if steps:
        text += ["", ("Inside the notebooks' time: the runner's steps for each notebook "
                      "re-timed one by one in a warm shared kernel (a separate run, fresh "
                      "processes, medians); *cells in the kernel* sums nbclient's per-cell "
                      "timestamps (`iopub.execute_input` to `shell.execute_reply`, which "
                      "includes formatting the rich outputs), *around the cells* is the rest "
                      "of `papermill.execute_notebook`:"), "", _steps_table(steps, floor_nb)]
    text += ["", "Start-up costs in isolation (fresh processes, medians):", "",
             _startup_table(startup)]
    top = startup.get("runner_import_top") or []
    if top:
        text += ["", ("Largest own import times in the runner process (`python -X importtime "
                      "-c 'import helpers.pipeline.notebooks, papermill'`):"), "",
                 _import_top_table(top)]
    notebooks = len(make_nb) or len(floor_nb)
    text += ["", gap_sentence(profile, make, floor, notebooks, startup)]
    return "\n".join(text)


# ---------------------------------------------------------------------------------------
# What is left, in words
# ---------------------------------------------------------------------------------------


def _ready_text(parts: Mapping, extra: Mapping, startup: Mapping) -> str:
    runner, ready = startup.get("runner_imports"), startup.get("kernel_ready")
    science = startup.get("science_imports")
    top = (startup.get("runner_import_top") or [None])[0]
    text = (f"{extra['ready']:.2f} s before the notebooks' work can start: "
            f"{parts['ready'][0]:.2f} s for make, the runner and the kernel against "
            f"{parts['ready'][1]:.2f} s for the floor's interpreter and imports")
    if ready is None or runner is None or science is None:
        return text
    overlap = ready + runner - parts["ready"][0]
    return text + (
        f". In isolation the kernel is ready with its warm imports {ready:.2f} s "
        f"after `SharedKernel()`, {ready - science:.2f} s more than the same "
        f"imports take in a plain interpreter ({science:.2f} s; the difference is "
        "the Jupyter kernel's own start-up), and the runner's own imports take "
        f"{runner:.2f} s"
        + (f" (the largest single one `{top['module']}`, {top['self']:.2f} s)"
           if top else "")
        + (f"; the two together would take {ready + runner:.2f} s, so about "
           f"{overlap:.2f} s of them overlap" if overlap > 0.3 else
           "; the two do not overlap"))


def _work_text(parts: Mapping, extra: Mapping, notebooks: int, steps: Sequence[Mapping]
               ) -> str:
    text = (f"{extra['work']:.2f} s in the notebooks' work, about "
            f"{extra['work'] / max(notebooks, 1):.2f} s per notebook")
    if len(steps) != notebooks:
        return text
    sums = _step_sums(steps)
    return text + (
        f" (re-timed step by step: {sums['reset']:.2f} s in `kernel.reset()` "
        f"before each notebook, {sums['execute'] - sums['cells']:.2f} s in "
        f"papermill around the cells, {sums['inspect'] + sums['write']:.2f} s "
        f"inspecting, reading and writing notebooks, and the cells themselves "
        f"{sums['cells']:.2f} s in the kernel against {parts['work'][1]:.2f} s in "
        "plain Python: formatting the rich outputs, the inline PNG of every "
        "figure and the HTML tables, which the floor does not produce)")


def gap_sentence(profile: Mapping, make: float | None, floor: float | None, notebooks: int,
                 startup: Mapping) -> str:
    """Say what the gap between ``make`` and its floor is made of, largest part first.

    Parameters
    ----------
    profile : mapping
        What :func:`profile_parts` returned.
    make, floor : float or None
        The median totals.
    notebooks : int
        How many notebooks ran.
    startup : mapping
        The start-up costs measured in isolation.

    Returns
    -------
    str
        A paragraph starting "**What is left.**", or a note that the profile is missing.
    """
    parts = {key: (a, b) for key, a, b in profile["parts"]}
    if not make or not floor or any(a is None or b is None for a, b in parts.values()):
        return "(The profile needs both timelines; not available in this run.)"
    extra = {key: a - b for key, (a, b) in parts.items()}
    text = {}
    if "ready" in parts:
        text["ready"] = _ready_text(parts, extra, startup)
        text["work"] = _work_text(parts, extra, notebooks,
                                  startup.get("notebook_steps") or [])
    else:
        text["startup"] = f"{extra['startup']:.2f} s before the first notebook starts"
        text["imports+code"] = (f"{extra['imports+code']:.2f} s in the kernel's start, "
                                "the imports and the notebooks")
    text["report"] = f"{extra['report']:.2f} s for the kernel shutdown and the HTML report"
    text["exit"] = f"{extra['exit']:+.2f} s at exit"
    ordered = sorted(text, key=lambda key: -extra[key])
    return (f"**What is left.** `make` from clean outputs takes {make:.2f} s, the floor "
            f"{floor:.2f} s: {make - floor:.2f} s more (ratio {make / floor:.2f}). "
            "Largest first: " + "; ".join(text[key] for key in ordered) + ".")
