"""Print how long importing the modules named on the command line takes, in seconds.

``python benchmarks/probes/import_seconds.py MODULE...``: one fresh interpreter, so the
time is that of a cold import (after the interpreter's own start-up, which is not counted).
"""

import sys
import time

if __name__ == "__main__":
    started = time.perf_counter()
    for module in sys.argv[1:]:
        __import__(module)  # what an import statement does
        if module == "helpers.pipeline.notebooks":
            # As the runner's command line does before it imports papermill.
            sys.modules[module].skip_unused_format_checks()
    print(time.perf_counter() - started)
