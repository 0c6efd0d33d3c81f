"""Stage 1, data: the paper's printed tables parsed into tidy tables, their schemas, and the
one layer that validates a tidy measurements table and pairs its visits.

- :mod:`helpers.data.paper_tables`: parsers for the paper's Tables 1, 2 and the review table;
- :mod:`helpers.data.schema`: pandera schemas, strict reading of a measurements file;
- :mod:`helpers.data.tidy`: validated, paired arrays for the statistics and figures.
"""
