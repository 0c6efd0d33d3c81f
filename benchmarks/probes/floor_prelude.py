# The floor of `make`: the code cells of the notebooks, in order, as one plain script.
import sys as _bench_sys


def _bench_mark(label):
    print("@bench " + label, file=_bench_sys.stderr, flush=True)


def display(*args, **kwargs):
    """Show nothing: plain Python has no rich display."""


_bench_mark("start")
