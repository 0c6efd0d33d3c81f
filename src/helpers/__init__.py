"""Helpers for the anifrolumab-arthritis analysis.

Reproduces and extends Cassone et al., "Real-World Use of Anifrolumab for Articular
Involvement in Systemic Lupus Erythematosus", J. Pers. Med. 2025, 15, 546
(doi:10.3390/jpm15110546). Modules are grouped by purpose:

- :mod:`helpers.paths`: every path the project uses;
- :mod:`helpers.io`: atomic writes, checksums, strict CSV reading;
- :mod:`helpers.data.paper_tables`: parsers for the paper's printed tables;
- :mod:`helpers.data.schema`: pandera schemas of the tidy tables;
- :mod:`helpers.pipeline.notebooks`: the papermill runner that executes notebooks reproducibly.
"""

__version__ = "0.1.0"
