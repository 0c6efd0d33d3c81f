"""Test support: the paper's values typed by hand, shared by the test modules."""
