"""Hostile documents end in InvalidInput before the expensive step (generated here, never checked in)."""

import struct
import time
import zlib

import pytest

from hal.errors import InvalidInput
from hal.printer.raster import MAX_FILEDATA_CHARS, decode_base64, rasterize


def png_header(width: int, height: int, depth: int, color: int) -> bytes:
    """A PNG whose header promises width x height; no pixel data (decoding it would fail)."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    ihdr = struct.pack(">IIBBBBB", width, height, depth, color, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IEND", b"")


def test_oversized_filedata_is_refused_on_its_encoded_length():
    text = "A" * (MAX_FILEDATA_CHARS + 4)
    start = time.process_time()
    with pytest.raises(InvalidInput, match="FileData is 20.0 MB of base64; the limit is 20 MB"):
        decode_base64(text)
    assert time.process_time() - start < 5  # generous: refused without decoding


@pytest.mark.parametrize("depth, color, what", [(8, 6, "RGBA"), (16, 0, "I;16"), (8, 2, "RGB")])
def test_decoded_size_counts_the_pixel_mode(depth, color, what):
    # 25 MP is under the 40 MP pixel limit, but decoded it costs 50-100 MB
    with pytest.raises(InvalidInput, match=r"MB to decode; the limit is 24 MB") as e:
        rasterize("image/png", png_header(5000, 5000, depth, color), 384)
    assert what in str(e.value)


def test_a_huge_text_is_refused_before_any_work():
    with pytest.raises(InvalidInput, match="the limit is 1,000,000"):
        rasterize("text/plain", b"x" * 20_000_000, 384)


def test_tabs_count_expanded():
    with pytest.raises(InvalidInput, match="line 2 of the text is over 100,000 characters"):
        rasterize("text/plain", b"ok\n" + b"\t" * 20_000, 384)


def test_a_long_line_wraps_in_one_pass_and_meets_the_paper_limit():
    line = ("w" * 90_000).encode()  # no space to break at
    with pytest.raises(InvalidInput, match="paper limit"):
        rasterize("text/plain", line, 384)


def test_wrapping_keeps_words_and_breaks_long_ones():
    from hal.printer.text import wrap_line
    assert wrap_line("the quick brown fox", 9, 10) == ["the quick", "brown fox"]
    assert wrap_line("abcdefghij", 4, 10) == ["abcd", "efgh", "ij"]
    assert wrap_line("a" * 100, 4, 3) == ["aaaa"] * 3


# -- the bounded child ----------------------------------------------------------------------

def fill_bomb(fills: int) -> bytes:
    """One page that paints ``fills`` tiny rectangles (cheap to write, costly to render)."""
    from sim.printer.sample import pdf_file
    ops = b"0 g\n" + b"0 0 200 200 re f\n" * fills  # each fill covers the page
    return pdf_file([b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
                     b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] /Contents 4 0 R >>",
                     b"<< /Length %d >>\nstream\n" % len(ops) + ops + b"\nendstream"])


def form_bomb(depth: int, fan: int = 10) -> bytes:
    """Nested forms: each draws the one below ``fan`` times, so a few KB paint fan**depth fills."""
    from sim.printer.sample import pdf_file
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] /Resources << /XObject << /X 5 0 R >> >> "
               b"/Contents 4 0 R >>", b"<< /Length 8 >>\nstream\n/X Do   \nendstream"]
    for level in range(depth):
        n = len(objects) + 1  # this form's object number; the next one is n + 1
        if level == depth - 1:
            ops, res = b"0 g 1 1 0.5 0.5 re f", b""
        else:
            ops, res = b"/Y Do " * fan, b"/Resources << /XObject << /Y %d 0 R >> >> " % (n + 1)
        objects.append(b"<< /Type /XObject /Subtype /Form /BBox [0 0 200 200] " + res
                       + b"/Length %d >>\nstream\n" % len(ops) + ops + b"\nendstream")
    return pdf_file(objects)


def test_a_pdf_bomb_is_stopped_by_the_cpu_limit_and_the_agent_lives(monkeypatch):
    from hal.printer import sandbox
    monkeypatch.setattr(sandbox, "CPU_LIMIT", 1)
    monkeypatch.setattr(sandbox, "MEMORY_LIMIT", 384 * 1024 * 1024)  # so the CPU bound is what stops it
    with pytest.raises(InvalidInput, match="more than 1 s of processing"):
        rasterize("application/pdf", fill_bomb(200_000), 384)


def test_a_render_over_the_memory_limit_is_refused(monkeypatch):
    from PIL import Image
    import io
    from hal.printer import sandbox
    monkeypatch.setattr(sandbox, "MEMORY_LIMIT", 72 * 1024 * 1024)
    buf = io.BytesIO()
    Image.new("L", (4500, 5000), 0).save(buf, "PNG")  # 30 MB decoded, more in copies: over the limit
    with pytest.raises(InvalidInput, match="memory|renderer stopped"):
        rasterize("image/png", buf.getvalue(), 384)


def test_nested_forms_are_refused_within_the_default_bounds():
    with pytest.raises(InvalidInput, match="refused"):
        rasterize("application/pdf", form_bomb(8), 384)
    assert rasterize("text/plain", b"still printing", 384).width == 384  # this process is unharmed
