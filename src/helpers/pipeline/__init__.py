"""Stage 5, pipeline: running the notebooks and assembling what people read.

- :mod:`helpers.pipeline.notebooks`: the papermill runner (``make``), and the Jupyter
  save hooks (``make lab``);
- :mod:`helpers.pipeline.report`: the self-contained HTML report;
- :mod:`helpers.pipeline.cohort`: a user's own cohort (``make analysis``).
"""

from __future__ import annotations

import os
import sys
from typing import NoReturn


def exit_without_teardown(status: int | None) -> NoReturn:
    """End a command whose work is all written and closed, without the interpreter's
    teardown.

    Python frees every object and module one by one at exit: after ``make analysis`` on
    100,000 patients that is 0.37 s (measured with strace, from the last write to the
    process's end) in which nothing reaches a file. The standard streams are flushed,
    then the process ends with ``status`` (None is 0, as for :func:`sys.exit`). Only for
    a command's ``__main__``: its files are closed, its kernel shut down and its threads
    joined by then.
    """
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status or 0)
