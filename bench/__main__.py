"""`make bench`: run every bench/bench_*.py module's main(), or those named on the command line."""

import importlib
import pkgutil
import sys
from pathlib import Path


def main(argv):
    here = Path(__file__).resolve().parent
    names = argv or sorted(m.name for m in pkgutil.iter_modules([str(here)]) if m.name.startswith("bench_"))
    failed = 0
    for name in names:
        print(f"\n### {name}", flush=True)
        try:
            importlib.import_module(f"bench.{name}").main()
        except Exception as e:  # one broken benchmark must not hide the others
            failed += 1
            print(f"{name} failed: {e!r}", file=sys.stderr)
    return 1 if failed else 0


raise SystemExit(main(sys.argv[1:]))
