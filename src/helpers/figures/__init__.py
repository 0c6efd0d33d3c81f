"""Figures for the anifrolumab-arthritis analysis, in one theme.

Modules: :mod:`~helpers.figures.style` (theme, sizes, labels, saving),
:mod:`~helpers.figures.parts` (the small pieces every figure shares),
:mod:`~helpers.figures.patients` (the patients' course),
:mod:`~helpers.figures.distributions` (large cohorts: distributions instead of one mark
per patient), :mod:`~helpers.figures.forest` (the literature review) and
:mod:`~helpers.figures.power`. The functions notebooks use are imported here, so
``from helpers.figures import slope_chart`` works.

Every plotting helper follows seaborn's calling convention: the data first, then
keyword-only options, ``ax=None`` (draw on the current axes when not given) and
``**kwargs`` for the main artists; it draws and returns the :class:`~matplotlib.axes.Axes`.
Saving is the caller's business, through :func:`save_figure`, which writes byte-identical
files from run to run.

- the theme (:mod:`helpers.figures.style`): one look for every figure (Okabe-Ito
  colour-blind-safe palette, fonts legible at journal column width, 3.5 in / 8.5 cm);
- :func:`slope_chart`: baseline vs follow-up per patient (the paper's Table 2); for more
  patients or several visits, faded individual trajectories with median and IQR; above
  :data:`~helpers.figures.style.MAX_INDIVIDUAL_PATIENTS` (300) patients, the median
  trajectory over months with ribbons of the 25th-75th and 10th-90th percentiles;
- :func:`waterfall`: DAS28 change per patient, coloured by EULAR response; above 300
  patients, a histogram of the change stacked by EULAR response;
- :func:`change_distribution`: the change from baseline at each follow-up visit, one
  ECDF per visit, with the measure's improvement thresholds (EULAR 0.6 / 1.2 for DAS28,
  the SRI-4's 4 points for SLEDAI-2K);
- :func:`swimmer`: disease duration before and months on anifrolumab, with response;
- :func:`profile_heatmap`: patients x features (autoantibodies, organs, therapies);
- :func:`forest_plot`: the literature review, studies and pooled estimates;
- :func:`posterior_densities`: the Bayesian analysis' posteriors under each prior;
- :func:`power_curves`: simulated power of the next study (with seaborn);
- :func:`save_figure`: deterministic, atomic PNG/SVG/PDF output.

Artists that tests (and users) may want to find carry a ``gid``: ``patient-<id>`` for the
per-patient lines of :func:`slope_chart`, ``median`` and ``percentiles-<low>-<high>`` for
its summaries, ``band-<name>`` for the activity bands a codebook names (DAS28's),
``target`` for the reference lines at its other cut-offs (the glucocorticoid targets), ``threshold-<value>`` for the reference lines of :func:`waterfall` and
:func:`change_distribution` (``zero`` for no change), ``ecdf-<timepoint>`` for the
latter's curves and ``pooled-<i>`` for the forest plot diamonds.
"""

from helpers.figures.distributions import change_distribution
from helpers.figures.forest import forest_plot, posterior_densities
from helpers.figures.patients import profile_heatmap, slope_chart, swimmer, waterfall
from helpers.figures.power import power_curves
from helpers.figures.style import (figure_size, measure_label, patient_label, save_and_show,
                                   save_figure, set_theme, theme, theme_rc, timepoint_label)

__all__ = [
    "change_distribution", "figure_size", "forest_plot", "measure_label", "patient_label",
    "posterior_densities", "power_curves", "profile_heatmap",
    "save_and_show", "save_figure", "set_theme", "slope_chart", "swimmer", "theme",
    "theme_rc", "timepoint_label", "waterfall",
]
