"""Stage 5, pipeline: running the notebooks and assembling what people read.

- :mod:`helpers.pipeline.notebooks`: the papermill runner (``make``), and the Jupyter
  save hooks (``make lab``);
- :mod:`helpers.pipeline.report`: the self-contained HTML report;
- :mod:`helpers.pipeline.cohort`: a user's own cohort (``make analysis``).
"""
