"""Figures for the anifrolumab-arthritis analysis, in one theme.

Three modules: :mod:`~helpers.figures.style` (theme, sizes, labels, saving),
:mod:`~helpers.figures.patients` (the patients' course) and
:mod:`~helpers.figures.forest` (the literature review). The functions notebooks use are
imported here, so ``from helpers.figures import slope_chart`` works.

Every plotting helper follows seaborn's calling convention: the data first, then
keyword-only options, ``ax=None`` (draw on the current axes when not given) and
``**kwargs`` for the main artists; it draws and returns the :class:`~matplotlib.axes.Axes`.
Saving is the caller's business, through :func:`save_figure`, which writes byte-identical
files from run to run.

- the theme (:mod:`helpers.figures.style`): one look for every figure (Okabe-Ito
  colour-blind-safe palette, fonts legible at journal column width, 3.5 in / 8.5 cm);
- :func:`slope_chart`: baseline vs follow-up per patient (the paper's Table 2), or, for
  large cohorts and several visits, faded individual trajectories with median and IQR;
- :func:`waterfall`: DAS28 change per patient, coloured by EULAR response;
- :func:`swimmer`: disease duration before and months on anifrolumab, with response;
- :func:`profile_heatmap`: patients x features (autoantibodies, organs, therapies);
- :func:`forest_plot`: the literature review, studies and pooled estimates;
- :func:`power_curves`: simulated power of the next study (with seaborn);
- :func:`save_figure`: deterministic, atomic PNG/SVG/PDF output.

Artists that tests (and users) may want to find carry a ``gid``: ``patient-<id>`` for the
per-patient lines of :func:`slope_chart`, ``band-<name>`` for the DAS28 bands, ``target``
for the glucocorticoid target line, ``threshold-<value>`` for the waterfall reference
lines and ``pooled-<i>`` for the forest plot diamonds.
"""

from helpers.figures.forest import forest_plot
from helpers.figures.patients import profile_heatmap, slope_chart, swimmer, waterfall
from helpers.figures.power import power_curves
from helpers.figures.style import (figure_size, measure_label, patient_label, save_and_show,
                                   save_figure, set_theme, theme, theme_rc, timepoint_label)

__all__ = [
    "figure_size", "forest_plot", "measure_label", "patient_label", "power_curves",
    "profile_heatmap",
    "save_and_show", "save_figure", "set_theme", "slope_chart", "swimmer", "theme",
    "theme_rc", "timepoint_label", "waterfall",
]
