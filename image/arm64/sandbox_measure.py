"""The PDF renderer's RLIMIT_AS, measured on the machine it runs on (make image-arm64-pytest).

    python image/arm64/sandbox_measure.py

hal/printer/sandbox.py limits a render child's address space (VmSize) to
MEMORY_LIMIT plus what its server preloaded; the child starts with the server's
whole VmSize, so the room a document has is that limit less the server's size,
which differs between architectures (page size, libraries, malloc). Prints one
JSON object: the server's VmSize as the sandbox counts it, the child's limit for
a PDF, the room left, and the smallest MEMORY_LIMIT (in 4 MiB steps) under which
the sample registration card still renders, with its peak RSS.
"""

from __future__ import annotations

import json
import platform
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
MiB = 1024 * 1024


def main() -> int:
    sys.path.insert(0, str(REPO))
    from hal.errors import InvalidInput
    from hal.printer import raster, sandbox, smallprint
    from PIL import Image  # noqa: F401

    # the server's own sums (sandbox._serve): Python + Pillow + raster, then pdfium, then fonts
    start = sandbox._address_space()
    import pypdfium2  # noqa: F401
    with_pdfium = sandbox._address_space()
    for cell in smallprint.CELLS:
        smallprint.font(cell)
    server = sandbox._address_space()
    pdf_limit = sandbox.MEMORY_LIMIT + (server - with_pdfium)
    import sim  # the installed agent has it too: the script also runs inside the booted image
    card = (Path(sim.__file__).parent / "printer" / "registration-card.pdf").read_bytes()

    def renders(limit: int) -> bool:
        sandbox.MEMORY_LIMIT = limit
        try:
            raster.rasterize("application/pdf", card, 576)
            return True
        except InvalidInput:
            return False

    configured = sandbox.MEMORY_LIMIT
    ok_at_configured = renders(configured)
    low, high = 0, configured  # smallest limit that renders, in 4 MiB steps
    while high - low > 4 * MiB:
        mid = (low + high) // 2 // (4 * MiB) * (4 * MiB)
        if renders(mid):
            high = mid
        else:
            low = mid
    sandbox.MEMORY_LIMIT = configured
    _, peak_rss_kb = sandbox.spent()
    sandbox.stop()
    print(json.dumps({
        "machine": platform.machine(), "python": platform.python_version(),
        "vmsize_base_mb": round(start / MiB, 1), "pdfium_mb": round((with_pdfium - start) / MiB, 1),
        "fonts_mb": round((server - with_pdfium) / MiB, 1), "server_vmsize_mb": round(server / MiB, 1),
        "memory_limit_mb": configured // MiB, "pdf_child_rlimit_as_mb": round(pdf_limit / MiB, 1),
        "room_for_the_document_mb": round((pdf_limit - server) / MiB, 1),
        "sample_card_renders": ok_at_configured, "smallest_memory_limit_mb": high // MiB,
        "peak_child_rss_mb": round(peak_rss_kb / 1024, 1)}))
    return 0 if ok_at_configured else 1


if __name__ == "__main__":
    sys.exit(main())
