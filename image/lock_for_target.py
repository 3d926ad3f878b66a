"""The lock's requirements for one target: markers evaluated for that machine and Python.

    python3 image/lock_for_target.py --machine aarch64 --python 3.13 requirements/runtime.lock

requirements/runtime.lock holds every platform's pins (uv's universal resolution),
some with markers (``lgpio ... ; platform_machine == 'aarch64'``). ``pip download
--platform`` evaluates markers for the host it runs on, not the target, so the
wheelhouse of an aarch64 image is downloaded from this file's output instead:
the same pins and hashes, the markers already decided. Prints pip requirement
lines (``name==version --hash=sha256:...``) on stdout.
"""

from __future__ import annotations

import argparse
import sys

try:
    from packaging.markers import Marker
except ImportError:  # a bare host Python: pip carries its own copy
    from pip._vendor.packaging.markers import Marker


def requirements(text: str) -> list[str]:
    """The lock's requirement entries, each joined from its continuation lines, comments dropped."""
    entries, current = [], ""
    for raw in text.splitlines():
        line = raw.split(" #", 1)[0].strip() if not raw.lstrip().startswith("#") else ""
        if not line:
            continue
        continued = line.endswith("\\")
        current += " " + line.rstrip("\\").strip()
        if not continued:
            entries.append(current.strip())
            current = ""
    if current.strip():
        entries.append(current.strip())
    return entries


def for_target(text: str, machine: str, python: str) -> list[str]:
    env = {"platform_machine": machine, "python_version": python, "python_full_version": python + ".0",
           "sys_platform": "linux", "platform_system": "Linux", "os_name": "posix",
           "implementation_name": "cpython", "platform_python_implementation": "CPython"}
    out = []
    for entry in requirements(text):
        words = entry.split()
        hashes = [w for w in words if w.startswith("--hash=")]
        spec = " ".join(w for w in words if not w.startswith("--hash="))
        pin, _, marker = spec.partition(";")
        if marker.strip() and not Marker(marker.strip()).evaluate(env):
            continue
        if "==" not in pin or not hashes:
            raise SystemExit(f"lock_for_target: not a pinned, hashed requirement: {entry[:80]}")
        out.append(" ".join([pin.strip(), *hashes]))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--machine", required=True, help="platform_machine of the target (aarch64, x86_64)")
    parser.add_argument("--python", required=True, help="the target's Python, major.minor (3.13)")
    parser.add_argument("lock")
    args = parser.parse_args(argv)
    with open(args.lock, encoding="utf-8") as f:
        lines = for_target(f.read(), args.machine, args.python)
    sys.stdout.write("".join(line + "\n" for line in lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
