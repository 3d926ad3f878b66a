"""Hostile documents (sim.printer.hostile) end in InvalidInput before the expensive step."""

import time

import pytest

from hal.errors import InvalidInput
from hal.printer.raster import MAX_FILEDATA_CHARS, decode_base64, rasterize
from sim.printer.hostile import fill_bomb, form_bomb, png_header


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


# -- the renderer server: one warm process, a fresh forked child per document ----------------

def _server_pid():
    from hal.printer import sandbox
    proc = sandbox._server._proc
    return None if proc is None or proc.poll() is not None else proc.pid


def test_documents_share_one_renderer_and_a_killed_renderer_is_replaced():
    import os
    import signal
    from sim.printer.sample import registration_card_pdf
    card = registration_card_pdf()
    first = rasterize("application/pdf", card, 384)
    pid = _server_pid()
    assert pid is not None
    assert rasterize("application/pdf", card, 384).tobytes() == first.tobytes()
    assert _server_pid() == pid  # forked a child; no second Python start
    os.kill(pid, signal.SIGKILL)
    again = rasterize("application/pdf", card, 384)  # the dead one is noticed and replaced
    assert again.tobytes() == first.tobytes() and _server_pid() not in (None, pid)


def test_a_refused_document_leaves_the_renderer_serving(monkeypatch):
    from hal.printer import sandbox
    monkeypatch.setattr(sandbox, "CPU_LIMIT", 1)
    monkeypatch.setattr(sandbox, "MEMORY_LIMIT", 384 * 1024 * 1024)
    rasterize("text/plain", b"warm", 384)
    rasterize("image/png", _tiny_png(), 384)
    pid = _server_pid()
    with pytest.raises(InvalidInput, match="more than 1 s of processing"):
        rasterize("application/pdf", fill_bomb(200_000), 384)
    assert _server_pid() == pid  # the child died of its limit, the server did not
    assert rasterize("image/png", _tiny_png(), 384).width == 384


def test_a_render_past_the_wall_limit_is_stopped(monkeypatch):
    from hal.printer import sandbox
    monkeypatch.setattr(sandbox, "WALL_LIMIT", 0.3)
    monkeypatch.setattr(sandbox, "MEMORY_LIMIT", 384 * 1024 * 1024)
    with pytest.raises(InvalidInput, match="took over 0.3 s to render"):
        rasterize("application/pdf", fill_bomb(200_000), 384)
    monkeypatch.setattr(sandbox, "WALL_LIMIT", 120)
    assert rasterize("image/png", _tiny_png(), 384).width == 384


def test_the_renderer_is_recycled_after_a_large_document(monkeypatch):
    from hal.printer import sandbox
    rasterize("image/png", _tiny_png(), 384)
    pid = _server_pid()
    monkeypatch.setattr(sandbox, "RECYCLE_BYTES", 1)  # the parent's side: every document is large
    rasterize("image/png", _tiny_png(), 384)
    assert _server_pid() is None  # stopped after it; the next document starts a new one
    monkeypatch.setattr(sandbox, "RECYCLE_BYTES", 4 * 1024 * 1024)
    rasterize("image/png", _tiny_png(), 384)
    assert _server_pid() not in (None, pid)


def _tiny_png() -> bytes:
    import io
    from PIL import Image
    buf = io.BytesIO()
    Image.new("L", (200, 100), 0).save(buf, "PNG")
    return buf.getvalue()
