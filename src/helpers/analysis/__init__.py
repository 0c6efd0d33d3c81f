"""Stage 3, analysis: result tables and the text around them.

- :mod:`helpers.analysis.summary`: the cohort's characteristics (Table 1);
- :mod:`helpers.analysis.review`: the literature review and its meta-analyses;
- :mod:`helpers.analysis.narrative`: results sentences with the numbers filled in.
"""
