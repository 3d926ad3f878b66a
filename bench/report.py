"""Print a benchmark table and record it as JSON in bench/results/."""

from __future__ import annotations

import json
import platform
import time
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


def table(name: str, columns: list[str], rows: list[list], notes: dict | None = None) -> Path:
    """Print ``rows`` under ``columns`` and write bench/results/<name>.json."""
    cells = [[str(c) for c in columns]] + [[_fmt(v) for v in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(columns))]
    print(f"\n== {name} ==")
    for i, row in enumerate(cells):
        print("  ".join(v.rjust(w) if i else v.ljust(w) for v, w in zip(row, widths)))
        if i == 0:
            print("  ".join("-" * w for w in widths))
    for k, v in (notes or {}).items():
        print(f"{k}: {_fmt(v)}")
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"{name}.json"
    out.write_text(json.dumps({
        "name": name, "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {"python": platform.python_version(), "machine": platform.machine(),
                    "processor": platform.processor()},
        "columns": columns, "rows": rows, "notes": notes or {},
    }, indent=1, default=str))
    return out


def _fmt(v) -> str:
    if isinstance(v, float):
        return f"{v:.3g}" if abs(v) < 1000 else f"{v:.0f}"
    return str(v)
