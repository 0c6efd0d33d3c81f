"""Benchmarks of the analysis (``make bench``): tooling that measures the product.

Not part of the installed ``helpers`` package and never a prerequisite of the analysis.
"""
