"""The root slot this system booted from, as RAUC names it.

RAUC learns the booted slot from the kernel command line (``rauc.slot=A``, which
the boot files of each slot set) and that is all we read here: cheap enough for
every metrics write, and no ``rauc`` process needed.
"""

from __future__ import annotations

from pathlib import Path

CMDLINE = Path("/proc/cmdline")


def booted_slot(cmdline: Path | str = CMDLINE) -> str:
    """The ``rauc.slot=`` value of the kernel command line; "" when absent (no A/B image)."""
    try:
        words = Path(cmdline).read_text(errors="replace").split()
    except OSError:
        return ""
    for word in words:
        if word.startswith("rauc.slot="):
            return word.split("=", 1)[1]
    return ""
