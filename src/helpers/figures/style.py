"""The one look of every figure, and deterministic saving.

- :func:`set_theme` / :func:`theme` / :func:`theme_rc`: the Okabe-Ito colour-blind-safe
  palette and fonts legible at journal column width (3.5 in / 8.5 cm);
- :func:`figure_size`: single- and double-column sizes;
- labels for patients, measures and visits, and the small pieces every figure shares;
- :func:`save_figure` / :func:`save_and_show`: atomic PNG/SVG/PDF output, byte-identical
  from run to run (no dates or version stamps, a fixed SVG hash salt, a frozen layout);
- :func:`describe` / :func:`figure_description`: what a figure shows, in one sentence
  built from its data, for the text alternative of the displayed figure.
"""

from __future__ import annotations

import base64
import contextlib
import re
import weakref
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
from cycler import cycler

from helpers.io import atomic_write
from helpers.paths import display_path
from helpers.vocab import MEASURES, TIMEPOINT_LABELS, Measure

# ---------------------------------------------------------------------------------------
# Theme
# ---------------------------------------------------------------------------------------

#: Journal single-column and double-column widths in inches (8.5 cm and 17.8 cm).
COLUMN_WIDTH_IN = 3.5
DOUBLE_COLUMN_WIDTH_IN = 7.0

#: Okabe & Ito (2008) colour-blind-safe palette, "Color Universal Design".
OKABE_ITO = {
    "black": "#000000",
    "orange": "#E69F00",
    "sky_blue": "#56B4E9",
    "bluish_green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "reddish_purple": "#CC79A7",
}
#: Order of the colour cycle: yellow last, it is hard to see on white.
PALETTE = tuple(
    OKABE_ITO[name]
    for name in ("blue", "orange", "bluish_green", "vermillion", "reddish_purple", "sky_blue",
                 "black", "yellow")
)
GREY = "#6E6E6E"
LIGHT_GREY = "#D9D9D9"

#: Fixed salt for SVG element ids, so SVG output is byte-stable (matplotlib docs, rcParams).
SVG_HASHSALT = "anifrolumab-arthritis"

#: Fixed EULAR response colours: the same category always has the same colour. Blues
#: in three lightnesses, the better the response the darker: a dark shade of Okabe-Ito
#: blue (good), Okabe-Ito blue (moderate) and Okabe-Ito sky blue (none), at CIE L* 22, 46
#: and 70 (from the Rec. 709 / sRGB luminance). 24 L* a step apart in lightness alone,
#: they stay distinct in greyscale print, for every kind of colour blindness, and in bars
#: a pixel or two wide, where hue no longer reads; the lightest still stands out from
#: white and from the light grey of "not assessable" (L* 87). The Okabe-Ito green, orange
#: and vermillion used before were L* 58, 71 and 54: in greyscale "good" and "no response"
#: were the same grey.
EULAR_COLORS = {
    "good": "#00385A",
    "moderate": OKABE_ITO["blue"],
    "none": OKABE_ITO["sky_blue"],
}
EULAR_LABELS = {"good": "Good", "moderate": "Moderate", "none": "No response"}
MISSING_COLOR = LIGHT_GREY

#: Axis labels, with units, for the measures of the tidy measurement table, and for
#: their per-patient changes (the ``<measure>_change`` columns :func:`waterfall` draws).
VALUE_LABELS = {f"{code}_change": m.change_label for code, m in MEASURES.items()}


# Above this many patients, or with more than one follow-up visit, slope_chart switches
# from labelled per-patient lines to faded lines with median and IQR.
MAX_LABELLED_PATIENTS = 30

#: Above this many patients the patient figures draw distributions instead of one mark
#: per patient: slope_chart a median trajectory with percentile ribbons, waterfall a
#: histogram of change. At column width a plot is about 700 pixels wide at 300 dpi, so
#: 300 bars are two pixels each, and 300 faded lines already merge into one grey band;
#: beyond that, per-patient marks only cost time and file size (linearly in patients).
MAX_INDIVIDUAL_PATIENTS = 300


# seaborn's "ticks" style, written out: importing seaborn (and with it scipy.stats)
# would cost about 1.5 s per process for twelve settings.
_TICKS_STYLE = {
    "axes.axisbelow": True,
    "axes.edgecolor": ".15",
    "axes.facecolor": "white",
    "axes.grid": False,
    "axes.labelcolor": ".15",
    "figure.facecolor": "white",
    "grid.color": ".8",
    "grid.linestyle": "-",
    "lines.solid_capstyle": "round",
    "patch.edgecolor": "w",
    "patch.force_edgecolor": True,
    "text.color": ".15",
    "xtick.bottom": True,
    "xtick.top": False,
    "xtick.color": ".15",
    "xtick.direction": "out",
    "ytick.left": True,
    "ytick.right": False,
    "ytick.color": ".15",
    "ytick.direction": "out",
}

# Everything of the theme but the font sizes: thin lines, no top or right spine, the
# palette, constrained layout, and the saving settings that keep files byte-identical.
_LOOK = {
    "legend.frameon": False,
    "legend.handlelength": 1.4,
    "legend.borderaxespad": 0.3,
    "axes.linewidth": 0.8,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.prop_cycle": cycler(color=list(PALETTE)),
    "axes.unicode_minus": True,
    "axes.labelpad": 3.0,
    "xtick.major.size": 3.0,
    "ytick.major.size": 3.0,
    "xtick.major.width": 0.8,
    "ytick.major.width": 0.8,
    "lines.linewidth": 1.4,
    "lines.markersize": 4.5,
    "patch.linewidth": 0.6,
    "hatch.linewidth": 0.6,
    "image.cmap": "cividis",
    "figure.figsize": (COLUMN_WIDTH_IN, COLUMN_WIDTH_IN * 0.75),
    "figure.dpi": 150,
    "figure.constrained_layout.use": True,
    "savefig.dpi": 300,
    "savefig.facecolor": "white",
    "svg.fonttype": "path",
    "svg.hashsalt": SVG_HASHSALT,
    "pdf.fonttype": 42,
}


def theme_rc(font_scale: float = 1.0) -> dict:
    """Return the rcParams of the project theme.

    Parameters
    ----------
    font_scale : float, default 1.0
        Multiplies every font size (1.0 is sized for a 3.5 in / 8.5 cm column).

    Returns
    -------
    dict
        rcParams, usable with :func:`matplotlib.rc_context` or ``rcParams.update``.

    Notes
    -----
    Fonts are pinned to DejaVu Sans, which ships with matplotlib, so a figure renders the
    same bytes on every machine (a locally installed Arial would otherwise win).
    Text in SVG is stored as paths (``svg.fonttype="path"``) for the same reason; PDF embeds
    TrueType fonts (``pdf.fonttype=42``) so journals can edit the text.
    """
    size = 8.0 * font_scale
    fonts = {
        "font.family": "sans-serif",
        "font.sans-serif": ["DejaVu Sans"],
        "font.size": size,
        "axes.labelsize": size,
        "axes.titlesize": size + 0.5 * font_scale,
        "axes.titleweight": "bold",
        "xtick.labelsize": size - 1 * font_scale,
        "ytick.labelsize": size - 1 * font_scale,
        "legend.fontsize": size - 1 * font_scale,
        "legend.title_fontsize": size - 0.5 * font_scale,
    }
    return {**_TICKS_STYLE, **fonts, **_LOOK}


def set_theme(font_scale: float = 1.0) -> None:
    """Apply the project theme globally (in the manner of :func:`seaborn.set_theme`).

    Parameters
    ----------
    font_scale : float, default 1.0
        See :func:`theme_rc`.

    See Also
    --------
    theme : the same settings, only inside a ``with`` block.
    """
    mpl.rcParams.update(theme_rc(font_scale))


@contextlib.contextmanager
def theme(font_scale: float = 1.0) -> Iterator[None]:
    """Apply the project theme inside a ``with`` block, then restore the previous one.

    Examples
    --------
    >>> with theme():
    ...     fig, ax = plt.subplots(figsize=figure_size())
    """
    with mpl.rc_context(theme_rc(font_scale)):
        yield


def figure_size(width: str | float = "single", aspect: float = 0.75) -> tuple[float, float]:
    """Return ``(width, height)`` in inches for a journal figure.

    Parameters
    ----------
    width : {"single", "double"} or float, default "single"
        One column (3.5 in), two columns (7 in) or a width in inches.
    aspect : float, default 0.75
        Height divided by width.
    """
    if width == "single":
        inches = COLUMN_WIDTH_IN
    elif width == "double":
        inches = DOUBLE_COLUMN_WIDTH_IN
    elif isinstance(width, (int, float)) and width > 0:
        inches = float(width)
    else:
        raise ValueError(f"width must be 'single', 'double' or a positive number, got {width!r}")
    return (inches, inches * aspect)


# ---------------------------------------------------------------------------------------
# Small shared pieces
# ---------------------------------------------------------------------------------------


def patient_label(patient_id) -> str:
    r"""Return the display label of a patient: ``"Pt 3"`` for id 3, the id itself otherwise.

    An id is text as written (``001`` stays ``Pt 001``), and a ``$`` in it is shown, not
    read by matplotlib as the start of a formula.

    Examples
    --------
    >>> patient_label(3), patient_label("001"), patient_label("PT-7"), patient_label("$x$")
    ('Pt 3', 'Pt 001', 'PT-7', '\\$x\\$')
    """
    if isinstance(patient_id, (int, np.integer)) and not isinstance(patient_id, bool):
        return f"Pt {int(patient_id)}"
    if isinstance(patient_id, (float, np.floating)) and float(patient_id).is_integer():
        return f"Pt {int(patient_id)}"
    text = str(patient_id).replace("$", "\\$")
    return f"Pt {text}" if text.isdigit() else text


def timepoint_label(timepoint: str) -> str:
    """Return the axis label of a timepoint.

    Examples
    --------
    >>> timepoint_label("m6"), timepoint_label("w24"), timepoint_label("v2")
    ('Month 6', 'Week 24', 'Visit 2')
    """
    if timepoint in TIMEPOINT_LABELS:
        return TIMEPOINT_LABELS[timepoint]
    match = re.fullmatch(r"([mwdv])(\d+)", str(timepoint))
    if match is None:
        return str(timepoint).replace("$", "\\$")
    word = {"m": "Month", "w": "Week", "d": "Day", "v": "Visit"}[match.group(1)]
    return f"{word} {match.group(2)}"


def measure_label(measure: str, unit: str | None = None,
                  codebook: Mapping[str, Measure] = MEASURES) -> str:
    """Return the axis label of a measure, with its unit when known.

    Examples
    --------
    >>> measure_label("das28"), measure_label("crp"), measure_label("haq", "points")
    ('DAS28 (score)', 'CRP (mg/L)', 'haq (points)')
    """
    if measure in codebook:
        return codebook[measure].axis_label
    if unit and str(unit) not in {"score", "nan", ""}:
        return f"{measure} ({unit})"
    return str(measure)


def change_label(measure: str) -> str:
    """Return the axis label of a measure's change from baseline at any visit."""
    if measure in MEASURES:
        # The vocabulary's label names the last visit; per visit it is any follow-up.
        return MEASURES[measure].change_label.replace("last visit", "visit")
    return f"{measure} change\n(visit \u2212 baseline)"


# ---------------------------------------------------------------------------------------
# Saving
# ---------------------------------------------------------------------------------------

#: Metadata that keeps files byte-identical: no dates, no software-version stamps.
_SAVE_METADATA = {
    "png": {"Software": None},
    "svg": {"Date": None, "Creator": None},
    "pdf": {"CreationDate": None, "ModDate": None, "Producer": None, "Creator": None},
}


@contextlib.contextmanager
def _frozen_layout(fig, dpi: float, max_rounds: int = 25) -> Iterator[None]:
    """Run the figure's layout engine to its fixed point, then hold it while saving.

    Constrained layout iterates: an artist placed in axes coordinates outside the axes (a
    tick label near the top, say) moves when the axes shrink, so every draw nudges the
    layout by a little less (1e-6, then 1e-12...). Saving twice would then give different
    bytes. Here the layout is drawn (at the output dpi) until positions stop moving,
    snapped to a 1e-6 grid of the figure (a thousandth of a pixel) and frozen for all
    formats, so a figure saves identically however often, and whether or not it was
    displayed first. The figure's own layout engine is restored afterwards.
    """
    engine = fig.get_layout_engine()
    if engine is None or not hasattr(engine, "execute"):
        yield
        return
    original_dpi = fig.dpi
    fig.dpi = dpi
    try:
        previous = None
        for _ in range(max_rounds):
            fig.draw_without_rendering()
            current = np.array([ax.get_position().bounds for ax in fig.axes])
            if previous is not None and current.shape == previous.shape and (
                    current.size == 0 or np.abs(current - previous).max() < 1e-9):
                break
            previous = current
        for ax in fig.axes:
            ax.set_position(np.round(ax.get_position().bounds, 6).tolist())
        fig.set_layout_engine("none")
    finally:
        fig.dpi = original_dpi
    try:
        yield
    finally:
        fig.set_layout_engine(engine)


def save_figure(fig, path_stem: str | Path, *, formats: Sequence[str] | None = None,
                dpi: int = 300, **kwargs) -> list[Path]:
    """Save a figure deterministically and atomically in one or more formats.

    Parameters
    ----------
    fig : matplotlib Figure
    path_stem : str or Path
        Destination without extension; ``".<format>"`` is appended
        (``reports/figures/slope_das28`` gives ``slope_das28.png`` ...). A path that ends
        in ``.png``, ``.svg`` or ``.pdf`` is that one file (``x.png``, never
        ``x.png.png``). Folders are created.
    formats : sequence of {"png", "svg", "pdf"}, default ("png", "svg")
        With a path ending in a format's extension: that format (or left out).
    dpi : int, default 300
        Resolution of PNG output (and of rasterised artists in vector output).
    **kwargs
        Passed to :meth:`~matplotlib.figure.Figure.savefig` (not ``metadata``/``format``).

    Returns
    -------
    list of Path
        The files written, in the order of ``formats``.

    Notes
    -----
    Byte-identical output, run after run and process after process: PNG drops its
    ``Software`` stamp, SVG its date and creator (matplotlib version) and uses a fixed
    ``svg.hashsalt`` for element ids, PDF drops its dates, producer and creator. Fonts are
    those of the theme (DejaVu Sans, shipped with matplotlib). Each file is written to a
    temporary file in the destination folder and renamed into place, so an error never
    leaves a half-written figure (nor clobbers the previous one).
    """
    stem = str(path_stem)
    extension = Path(stem).suffix.lower().lstrip(".")
    if extension in _SAVE_METADATA:
        if formats is not None and tuple(formats) != (extension,):
            raise ValueError(f"path_stem {stem!r} names a .{extension} file but formats is "
                             f"{list(formats)}: give a path without extension for several")
        formats, stem = (extension,), stem[: -len(extension) - 1]
    formats = ("png", "svg") if formats is None else tuple(formats)
    unknown = [f for f in formats if f not in _SAVE_METADATA]
    if unknown or not formats:
        raise ValueError(f"formats must be among {sorted(_SAVE_METADATA)}, got {list(formats)}")
    forbidden = {"metadata", "format", "fname"} & set(kwargs)
    if forbidden:
        raise TypeError(f"save_figure sets {sorted(forbidden)} itself")
    paths = []
    with mpl.rc_context({"svg.hashsalt": SVG_HASHSALT}), _frozen_layout(fig, dpi):
        for fmt in formats:
            path = Path(f"{stem}.{fmt}")
            with atomic_write(path, "wb") as handle:
                fig.savefig(handle, format=fmt, dpi=dpi, metadata=_SAVE_METADATA[fmt],
                            **kwargs)
            paths.append(path)
    return paths


# ---------------------------------------------------------------------------------------
# Text alternatives
# ---------------------------------------------------------------------------------------

# What each Axes shows, in words. Kept beside the Axes (weakly: a closed figure takes its
# descriptions with it), since matplotlib has no place for an accessible description.
_DESCRIPTIONS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def describe(ax, subject: str, detail: str) -> None:
    """Record what ``ax`` shows, for the figure's text alternative.

    Parameters
    ----------
    ax : matplotlib Axes
    subject : str
        The kind of chart, shared by panels that draw the same thing
        (``"Forest plot"``).
    detail : str
        What this panel's data show, in words with numbers (no final full stop).
    """
    _DESCRIPTIONS[ax] = (subject, detail)


def figure_description(fig) -> str:
    """One sentence saying what ``fig`` shows, from its panels' :func:`describe`.

    Panels with the same subject share it: ``"Slope chart: SLEDAI-2K ...; DAS28 ..."``.
    Returns ``""`` when no panel was described.
    """
    groups: list[tuple[str, list[str]]] = []
    for ax in fig.axes:
        if ax not in _DESCRIPTIONS:
            continue
        subject, detail = _DESCRIPTIONS[ax]
        if groups and groups[-1][0] == subject:
            groups[-1][1].append(detail)
        else:
            groups.append((subject, [detail]))
    return "; ".join(f"{subject}: {'; '.join(details)}" for subject, details in groups) + (
        "." if groups else "")


def save_and_show(fig, path_stem: str | Path, *, formats: Sequence[str] | None = None,
                  dpi: int = 300, alt: str | None = None) -> None:
    """For notebooks: save a figure (:func:`save_figure`), display it once, close it and
    list the files written (relative to the project root).

    The figure is displayed as the SVG just written (sharp at any size; the PNG when no
    SVG was asked for), with ``alt`` as its text: by default
    :func:`figure_description`, one sentence built from the data the helpers drew. The
    display's metadata names the files, so the HTML report can caption the figure.

    Displaying explicitly and closing means the figure appears exactly once whether the
    kernel is fresh or shared with other notebooks (matplotlib-inline only auto-displays
    figures it saw being created in the current kernel session). Nothing is returned, so
    a cell that ends with this call shows no result line; :func:`save_figure` returns the
    paths.
    """
    written = save_figure(fig, path_stem, formats=formats, dpi=dpi)
    text = alt or figure_description(fig) or f"Figure {Path(str(path_stem)).name}."
    files = [display_path(p) for p in written]
    try:
        from IPython.display import display

        svg = next((p for p in written if p.suffix == ".svg"), None)
        if svg is not None:
            data = {"image/svg+xml": svg.read_text(encoding="utf-8"), "text/plain": text}
        else:
            from IPython.core.pylabtools import print_figure

            png = print_figure(fig, "png")
            data = {"image/png": base64.b64encode(png).decode("ascii"), "text/plain": text}
        display(data, raw=True, metadata={"files": files})
    finally:
        plt.close(fig)
    print("\n".join(files))
