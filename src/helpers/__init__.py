"""Helpers for the anifrolumab-arthritis analysis.

Reproduces and extends Cassone et al., "Real-World Use of Anifrolumab for Articular
Involvement in Systemic Lupus Erythematosus", J. Pers. Med. 2025, 15, 546
(doi:10.3390/jpm15110546). The package is laid out by stage (docs/architecture.md):

Foundation, imported by everything else:

- :mod:`helpers.vocab`: the one vocabulary (measures, visits, clinical cut-offs, yes/no);
- :mod:`helpers.paths`: every path the project uses;
- :mod:`helpers.io`: atomic writes, safe CSV, checksums;
- :mod:`helpers.formats`: how numbers are written (the output precision policy, and the
  one style of percentages, p-values and counts in tables, prose and figures);
- :mod:`helpers.tables`: the one look of every table a reader sees (Markdown, notebooks,
  the report);
- :mod:`helpers.errors`: the one error type of bad input (file, row, column), and the
  one check of levels and proportions.

1. Data, :mod:`helpers.data`: the paper's printed tables parsed
   (:mod:`~helpers.data.paper_tables`); a clinic's file read in stages
   (:mod:`~helpers.data.reader`: decode, locate, shapes, interpret, then the schemas of
   :mod:`~helpers.data.schema`), its patients table (:mod:`~helpers.data.patients`) and
   codebook (:mod:`~helpers.data.codebook`); and the one layer that validates and pairs a
   tidy table (:mod:`~helpers.data.tidy`).
2. Statistics, the public API that outside code calls by name:
   :mod:`helpers.paired` (pre/post tests), :mod:`helpers.scores` (clinical scores and
   response criteria), :mod:`helpers.proportions` (confidence intervals),
   :mod:`helpers.meta` (meta-analysis of proportions, with :mod:`helpers.bayes` for the
   Bayesian model), :mod:`helpers.synth` (synthetic cohorts), :mod:`helpers.power`
   (power by simulation).
3. Analysis, :mod:`helpers.analysis`: the cohort summary, the review, the narrative and
   the power planning.
4. Figures, :mod:`helpers.figures`: one theme, the patients' course, the forest plot.
5. Pipeline, :mod:`helpers.pipeline`: the notebook runner, the HTML report, a user's own
   cohort.
"""

__version__ = "0.1.0"
