"""PDF and image rendering in a child process, bounded by RLIMIT_AS and RLIMIT_CPU.

A decompression or PDF bomb (nested forms, millions of fills) can then exhaust
only the child: the agent, and a key job running on the encoder, never share its
fate. The child takes the request as a JSON argument and the document on stdin,
and writes a JSON line, then the 1-bit image's packed rows.
"""

from __future__ import annotations

import json
import os
import resource
import signal
import subprocess
import sys

from hal.errors import InvalidInput

MEMORY_LIMIT = 104 * 1024 * 1024  # address space of the child (RLIMIT_AS), bytes
CPU_LIMIT = 25  # CPU seconds of the child (RLIMIT_CPU); its parent's share stays well below 5 s
WALL_LIMIT = 120  # seconds: a child that is starved of CPU still ends
_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def render(kind: str, data: bytes, width_dots: int, max_pages: int, max_length_mm: float):
    """The document as a 1-bit PIL image, rendered by a bounded child; InvalidInput when refused."""
    from PIL import Image

    request = json.dumps({"kind": kind, "width": width_dots, "max_pages": max_pages, "max_length_mm": max_length_mm,
                          "memory": MEMORY_LIMIT, "cpu": CPU_LIMIT})
    env = dict(os.environ, MALLOC_ARENA_MAX="2",
               PYTHONPATH=os.pathsep.join(p for p in (_ROOT, os.environ.get("PYTHONPATH")) if p))
    try:
        # the request in argv, the document alone on stdin: no second copy of it in the agent
        done = subprocess.run([sys.executable, "-m", "hal.printer.sandbox", request], input=data,
                              capture_output=True, timeout=WALL_LIMIT, env=env, close_fds=True)
    except subprocess.TimeoutExpired:
        raise InvalidInput(f"the document took over {WALL_LIMIT} s to render: refused") from None
    head, _, body = done.stdout.partition(b"\n")
    if done.returncode != 0 or not head:
        raise InvalidInput(_death(done.returncode))
    answer = json.loads(head)
    if "error" in answer:
        raise InvalidInput(answer["error"])
    size = (answer["width"], answer["height"])
    return Image.frombytes("1", size, body)


def _death(code: int) -> str:
    if code in (-signal.SIGXCPU, -signal.SIGKILL):
        return f"the document needs more than {CPU_LIMIT} s of processing to print: refused"
    if code in (3, -signal.SIGABRT):  # MemoryError, or pdfium's failed allocation
        return f"the document needs more than {MEMORY_LIMIT >> 20} MB of memory to print: refused"
    return f"the document could not be rendered (the renderer stopped, code {code}): it may be damaged"


def _child() -> int:
    stdin = sys.stdin.buffer
    request = json.loads(sys.argv[1])
    resource.setrlimit(resource.RLIMIT_AS, (request["memory"], request["memory"]))
    resource.setrlimit(resource.RLIMIT_CPU, (request["cpu"], request["cpu"] + 5))
    data = stdin.read()
    from hal.printer.raster import render_here

    try:
        img = render_here(request["kind"], data, request["width"], request["max_pages"], request["max_length_mm"])
    except InvalidInput as e:
        out = json.dumps({"error": str(e)}).encode() + b"\n"
    except MemoryError:
        return 3
    else:
        img = img.convert("1") if img.mode != "1" else img
        out = json.dumps({"width": img.width, "height": img.height}).encode() + b"\n" + img.tobytes()
    sys.stdout.buffer.write(out)
    sys.stdout.buffer.flush()
    return 0


if __name__ == "__main__":
    sys.exit(_child())
