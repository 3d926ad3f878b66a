"""PDF and image rendering in a child process, bounded by RLIMIT_AS and RLIMIT_CPU.

A decompression or PDF bomb (nested forms, millions of fills) can then exhaust
only the child: the agent, and a key job running on the encoder, never share its
fate.

One warm renderer process (the server: Python, Pillow, pdfium and the small-print
fonts already loaded) forks a fresh child per document, so a document costs a
fork, not a Python start (~80 ms of CPU, more than a registration card's wire time
at 115200 baud). The child sets its limits, renders and exits; nothing it did
outlives it. The server reads requests on stdin (a JSON line, then the document)
and answers on stdout (a JSON line with the child's exit code and CPU, then the
child's output: a JSON line and the 1-bit image's packed rows). It exits when its
stdin closes (the agent stopped or died) and after a large document (its heap
would be the next child's starting size); the next render starts a new one.
"""

from __future__ import annotations

import json
import os
import resource
import select
import signal
import subprocess
import sys
import threading
import time
from typing import IO

from hal.errors import InvalidInput

MEMORY_LIMIT = 104 * 1024 * 1024  # address space of the child (RLIMIT_AS), bytes, beyond the server's preloads
CPU_LIMIT = 25  # CPU seconds of the child (RLIMIT_CPU); its parent's share stays well below 5 s
WALL_LIMIT = 120  # seconds: a child that is starved of CPU still ends
RECYCLE_BYTES = 4 * 1024 * 1024  # the server exits after a document this large
_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


class _Server:
    """The parent's handle on the renderer process; one document at a time."""

    def __init__(self):
        self._lock = threading.Lock()
        self._proc: subprocess.Popen | None = None
        self.cpu_s = 0.0  # CPU of every render child and the server's share, as reported
        self.peak_rss_kb = 0

    def render(self, request: dict, data: bytes) -> tuple[int, bytes]:
        """(the child's exit code, its output); restarts a server that died between documents."""
        with self._lock:
            for _attempt in (1, 2):
                proc = self._running()
                try:
                    stdin = _pipe(proc.stdin).fileno()
                    _write_all(stdin, json.dumps({**request, "size": len(data)}).encode() + b"\n")
                    _write_all(stdin, data)
                    answer = self._answer(proc, len(data), request["wall"])
                except OSError:
                    answer = None
                if answer is not None:
                    return answer
                # it had exited (recycled, killed) or died on the way: a new one takes the document once
                self._stop()
            raise InvalidInput("the document could not be rendered (the renderer stopped twice): it may be damaged")

    def _answer(self, proc, size: int, wall: float) -> tuple[int, bytes] | None:
        reader = _Reader(proc.stdout.fileno(), time.monotonic() + wall + 15)
        head = reader.line()
        answer = json.loads(head) if head.endswith(b"\n") else None
        body = reader.exact(answer["size"]) if answer else b""
        if answer is None or len(body) != answer["size"]:
            return None
        self.cpu_s += answer["cpu_s"]
        self.peak_rss_kb = max(self.peak_rss_kb, answer["rss_kb"])
        if size >= RECYCLE_BYTES:
            self._stop()
        if answer["timeout"]:
            raise InvalidInput(f"the document took over {wall:g} s to render: refused")
        return answer["code"], body

    def _running(self) -> subprocess.Popen[bytes]:
        if self._proc is None or self._proc.poll() is not None:
            env = dict(os.environ, MALLOC_ARENA_MAX="2",
                       PYTHONPATH=os.pathsep.join(p for p in (_ROOT, os.environ.get("PYTHONPATH")) if p))
            self._proc = subprocess.Popen([sys.executable, "-m", "hal.printer.sandbox"], stdin=subprocess.PIPE,
                                          stdout=subprocess.PIPE, env=env, close_fds=True, bufsize=0)
        return self._proc

    def _stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        try:
            _pipe(proc.stdin).close()
        except OSError:
            pass
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        _pipe(proc.stdout).close()

    def stop(self) -> None:
        with self._lock:
            self._stop()


_server = _Server()


def render(kind: str, data: bytes, width_dots: int, max_pages: int, max_length_mm: float):
    """The document as a 1-bit PIL image, rendered by a bounded child; InvalidInput when refused."""
    from PIL import Image

    request = {"kind": kind, "width": width_dots, "max_pages": max_pages, "max_length_mm": max_length_mm,
               "memory": MEMORY_LIMIT, "cpu": CPU_LIMIT, "wall": WALL_LIMIT}
    code, out = _server.render(request, data)
    head, _, body = out.partition(b"\n")
    if code != 0 or not head:
        raise InvalidInput(_death(code))
    answer = json.loads(head)
    if "error" in answer:
        raise InvalidInput(answer["error"])
    return Image.frombytes("1", (answer["width"], answer["height"]), body)


def spent() -> tuple[float, int]:
    """CPU seconds and peak RSS (KiB) of the render children so far (benchmarks add them)."""
    return _server.cpu_s, _server.peak_rss_kb


def stop() -> None:
    """End the renderer process (a new one starts with the next document)."""
    _server.stop()


def _death(code: int) -> str:
    if code in (-signal.SIGXCPU, -signal.SIGKILL):
        return f"the document needs more than {CPU_LIMIT} s of processing to print: refused"
    if code in (3, -signal.SIGABRT):  # MemoryError, or pdfium's failed allocation
        return f"the document needs more than {MEMORY_LIMIT >> 20} MB of memory to print: refused"
    return f"the document could not be rendered (the renderer stopped, code {code}): it may be damaged"


def _pipe(stream: IO[bytes] | None) -> IO[bytes]:
    """One of the server's pipes (it is started with stdin and stdout PIPE, so never None)."""
    if stream is None:
        raise OSError("the render server has no pipe")
    return stream


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


class _Reader:
    """Reads a pipe until a deadline; b"" or a short read when it passes (``expired``) or the
    pipe closes."""

    def __init__(self, fd: int, deadline: float):
        self.fd, self.deadline, self.buf, self.expired = fd, deadline, bytearray(), False

    def _fill(self) -> bool:
        left = self.deadline - time.monotonic()
        if left <= 0 or not select.select([self.fd], [], [], left)[0]:
            self.expired = True
            return False
        chunk = os.read(self.fd, 1 << 16)
        self.buf += chunk
        return bool(chunk)

    def line(self) -> bytes:
        while b"\n" not in self.buf and self._fill():
            pass
        end = self.buf.find(b"\n") + 1 or len(self.buf)
        out, self.buf = bytes(self.buf[:end]), self.buf[end:]
        return out

    def exact(self, size: int) -> bytes:
        while len(self.buf) < size and self._fill():
            pass
        out, self.buf = bytes(self.buf[:size]), self.buf[size:]
        return out

    def rest(self) -> bytes:
        """Everything until the pipe closes (or the deadline: see ``expired``)."""
        while self._fill():
            pass
        out, self.buf = bytes(self.buf), bytearray()
        return out


# -- the server process ---------------------------------------------------------------------

def _serve() -> int:
    from PIL import Image  # noqa: F401

    from hal.printer import raster, smallprint  # noqa: F401  (loaded once, shared by every child)

    # The limit is charged as if each child loaded what its document needs: Python and
    # Pillow always, pdfium for a PDF. What the server preloads besides (pdfium for an
    # image, the small-print fonts) is added to the child's RLIMIT_AS.
    start = _address_space()
    import pypdfium2  # noqa: F401
    with_pdfium = _address_space()
    for cell in smallprint.CELLS:
        smallprint.font(cell)
    fonts = max(0, _address_space() - with_pdfium)
    preloaded = {"application/pdf": fonts, None: fonts + max(0, with_pdfium - start)}
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    while True:
        line = stdin.readline()
        if not line:
            return 0
        request = json.loads(line)
        data = stdin.read(request["size"])
        if len(data) != request["size"]:
            return 0
        before = resource.getrusage(resource.RUSAGE_SELF)
        extra = preloaded.get(request["kind"], preloaded[None])
        code, out, timeout, child = _fork_child({**request, "memory": request["memory"] + extra}, data)
        after = resource.getrusage(resource.RUSAGE_SELF)
        own = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        cpu = own + child.ru_utime + child.ru_stime
        stdout.write(json.dumps({"code": code, "size": len(out), "timeout": timeout, "cpu_s": cpu,
                                 "rss_kb": child.ru_maxrss}).encode() + b"\n" + out)
        stdout.flush()
        del data, out
        if request["size"] >= RECYCLE_BYTES:
            return 0


def _address_space() -> int:
    """This process's VmSize in bytes."""
    with open("/proc/self/status") as f:
        return next((int(line.split()[1]) * 1024 for line in f if line.startswith("VmSize:")), 0)


def _fork_child(request: dict, data: bytes):
    """Render in a forked child; (exit code, its output, timed out, its rusage)."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns
        code = 1
        try:
            os.close(read_end)
            devnull = os.open(os.devnull, os.O_RDWR)
            os.dup2(devnull, 0)  # the server's pipes are not the child's: a dead server is seen at once
            os.dup2(devnull, 1)
            code = _child(request, data, write_end)
        finally:
            os._exit(code)
    os.close(write_end)
    reader = _Reader(read_end, time.monotonic() + request["wall"])
    try:
        out = reader.rest()
    finally:
        os.close(read_end)
    if reader.expired:
        os.kill(pid, signal.SIGKILL)
    _, status, usage = os.wait4(pid, 0)
    code = os.waitstatus_to_exitcode(status)
    return code, (b"" if reader.expired else out), reader.expired, usage


def _child(request: dict, data: bytes, fd: int) -> int:
    resource.setrlimit(resource.RLIMIT_AS, (request["memory"], request["memory"]))
    resource.setrlimit(resource.RLIMIT_CPU, (request["cpu"], request["cpu"] + 5))
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
    with os.fdopen(fd, "wb") as pipe:
        pipe.write(out)
    return 0


if __name__ == "__main__":
    sys.exit(_serve())
