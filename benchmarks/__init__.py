"""Benchmarks of the analysis (``make bench``): tooling that measures the product.

Not part of the installed ``helpers`` package and never a prerequisite of the analysis.
``python -m benchmarks.bench`` (:mod:`benchmarks.bench`, run from the project's root) runs
everything and writes docs/benchmarks.md. By concern:

- :mod:`benchmarks.harness`: running commands with timing, scratch copies, the machine;
- :mod:`benchmarks.pipeline`: ``make`` against its plain-script floor, ``make`` with
  nothing stale, their timelines;
- :mod:`benchmarks.startup`: start-up and import costs in isolation;
- :mod:`benchmarks.scaling`: statistics and figures on synthetic cohorts;
- :mod:`benchmarks.environment`: ``make env`` and ``make test``;
- :mod:`benchmarks.render`, :mod:`benchmarks.render_profile`, :mod:`benchmarks.markdown`:
  the report;
- ``benchmarks/probes/``: the programs run in fresh processes, by path.
"""
