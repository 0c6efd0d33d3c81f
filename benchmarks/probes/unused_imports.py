"""Which of the shared kernel's warm imports no notebook needs, and what they cost.

``python benchmarks/probes/unused_imports.py SPEC`` with SPEC a JSON object
``{"imports": [statement, ...], "warm": [module, ...]}``: runs the notebooks' import
statements, then imports the warm modules that are still not loaded. Prints one JSON line:
``{"floor": s, "unused": [module, ...], "unused_seconds": s}``, ``floor`` being the time of
the notebooks' own imports.
"""

import json
import sys
import time


def main(imports: list[str], warm: list[str]) -> dict[str, object]:
    """Time ``imports`` (statements), then the modules of ``warm`` they did not load."""
    started = time.perf_counter()
    # The statements exactly as the notebooks write them: `from a import b` may import
    # a submodule, which a list of module names would miss.
    exec("\n".join(imports), {})  # noqa: S102
    floor = time.perf_counter() - started
    unused = [m for m in warm if m not in sys.modules]
    started = time.perf_counter()
    for module in unused:
        __import__(module)
    return {"floor": floor, "unused": unused, "unused_seconds": time.perf_counter() - started}


if __name__ == "__main__":
    spec = json.loads(sys.argv[1])
    print(json.dumps(main(spec["imports"], spec["warm"])))
