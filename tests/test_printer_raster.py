"""Rasterizer: every supported file type, scaling/cropping/dithering, and each bad-input limit."""

from __future__ import annotations

import base64
import io
import struct
import zlib

import pytest
from PIL import Image, ImageDraw

from hal.errors import InvalidInput
from hal.printer import raster
from hal.printer.text import printable
from sim.printer.sample import pdf_file, registration_card_pdf


def _png(img) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def _encode(img, fmt: str) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt)
    return buf.getvalue()


def line_art(size=(300, 200)):
    """Black shapes on white, with a white margin all round."""
    img = Image.new("RGB", size, "white")
    d = ImageDraw.Draw(img)
    d.rectangle((30, 20, size[0] - 31, 60), fill="black")
    d.ellipse((60, 80, 140, 170), outline="black", width=6)
    return img


def photo(size=(480, 360)):
    """A deterministic 'photo': smooth mid-tones everywhere."""
    g = Image.linear_gradient("L").resize(size)
    m = Image.effect_mandelbrot(size, (-2.0, -1.2, 1.0, 1.2), 60)
    return Image.blend(g, m, 0.35).convert("RGB")


def black_share(img) -> float:
    hist = img.convert("L").histogram()
    return hist[0] / (img.width * img.height)


def _pdf_pages(sizes, ink=True, draw=None) -> bytes:
    """A PDF with one page per (w, h) in points, each with a black bar when ``ink``
    (or what ``draw(w, h)`` returns: PDF path operators)."""
    objs = [b"<< /Type /Catalog /Pages 2 0 R >>", None]
    kids = []
    for w, h in sizes:
        content = f"0 g {w * 0.1:.1f} {h * 0.4:.1f} {w * 0.8:.1f} {h * 0.2:.1f} re f".encode() if ink else b""
        if draw is not None:
            content = draw(w, h).encode()
        objs.append(b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream")
        objs.append(f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {w} {h}] /Contents {len(objs)} 0 R >>".encode())
        kids.append(f"{len(objs)} 0 R")
    objs[1] = f"<< /Type /Pages /Kids [{' '.join(kids)}] /Count {len(kids)} >>".encode()
    return pdf_file(objs)


# -- supported types ------------------------------------------------------------

@pytest.mark.parametrize("width", [384, 576])
def test_pdf_registration_card_fills_the_paper_width(width):
    img = raster.rasterize("application/pdf", registration_card_pdf(), width)
    assert img.mode == "1" and img.width == width
    # margins cropped: ink reaches both edges' neighbourhood, and the top row
    box = img.convert("L").point(lambda v: 255 - v).getbbox()
    assert box[0] <= 2 and box[2] >= width - 2 and box[1] <= 2
    # an A5 card keeps its aspect ratio (content is ~340 x 500 pt)
    assert 1.2 < img.height / img.width < 1.8
    assert 0.02 < black_share(img) < 0.3


def test_pdf_every_page_is_printed_with_a_gap():
    one = raster.rasterize("application/pdf", _pdf_pages([(200, 200)]), 384)
    three = raster.rasterize("application/pdf", _pdf_pages([(200, 200)] * 3), 384)
    assert three.height == 3 * one.height + 2 * raster.PAGE_GAP_ROWS
    assert black_share(three) == pytest.approx(black_share(one) * 3 * one.height / three.height, rel=0.02)


def _table(w, h):
    """A page-filling frame (a wide table) with a solid block in its top-left corner."""
    return (f"0 g 4 w 20 20 {w - 40} {h - 40} re S "
            f"20 {h - 120} 100 100 re f")


def _dark_quadrant(img) -> tuple[int, int]:
    gray = img.convert("L")
    w, h = gray.size
    quads = {(qx, qy): gray.crop((qx * w // 2, qy * h // 2, (qx + 1) * w // 2, (qy + 1) * h // 2)).histogram()[0]
             for qx in (0, 1) for qy in (0, 1)}
    return max(quads, key=quads.get)


@pytest.mark.parametrize("width", [384, 576])
def test_landscape_pdf_page_prints_turned_at_portrait_scale(width):
    portrait = raster.rasterize("application/pdf", _pdf_pages([(595, 842)], draw=_table), width)
    landscape = raster.rasterize("application/pdf", _pdf_pages([(842, 595)], draw=_table), width)
    assert landscape.width == portrait.width == width
    # turned a quarter: as long as the A4 portrait page, not a third of it
    assert landscape.height == pytest.approx(portrait.height, rel=0.02)
    assert landscape.height > 1.3 * width
    # clockwise: the page's top-left corner comes out first, on the right
    assert _dark_quadrant(portrait) == (0, 0)
    assert _dark_quadrant(landscape) == (1, 0)


def test_landscape_page_with_a_narrow_column_is_not_turned():
    column = raster.rasterize("application/pdf", _pdf_pages([(842, 595)], draw=lambda w, h: "0 g 400 50 60 500 re f"), 384)
    assert column.height > column.width  # tall content stays upright at full width
    assert _dark_quadrant(column) in ((0, 0), (1, 0))
    line = raster.rasterize("application/pdf", _pdf_pages([(595, 842)], draw=lambda w, h: "0 g 50 700 500 40 re f"), 384)
    assert line.height < line.width  # a portrait page is never turned, however wide its content


def test_pdf_blank_pages_are_skipped_and_an_all_blank_pdf_is_refused():
    with pytest.raises(InvalidInput, match="blank"):
        raster.rasterize("application/pdf", _pdf_pages([(200, 200)], ink=False), 384)


@pytest.mark.parametrize("fmt,mime,slack", [("PNG", "image/png", 2), ("JPEG", "image/jpeg", 10),
                                            ("BMP", "image/bmp", 2)])
def test_images_scale_to_width_keep_aspect_and_crop_margins(fmt, mime, slack):
    src = line_art((300, 200))  # ink box 240 x 151 inside white margins (JPEG adds ringing around it)
    img = raster.rasterize(mime, _encode(src, fmt), 384)
    assert img.width == 384
    assert img.height == pytest.approx(151 * 384 / 240, abs=slack)
    box = img.convert("L").point(lambda v: 255 - v).getbbox()
    assert box[0] == 0 and box[1] == 0 and box[2] == 384


def test_line_art_is_thresholded_and_photos_are_dithered():
    grey = Image.new("L", (200, 100), 128)
    grey.paste(0, (0, 0, 200, 2))  # a black edge so nothing is cropped as margin... and keep it grey
    dithered = raster.rasterize("image/png", _png(grey), 384)
    # a flat 50 % grey comes out as roughly half the dots black, not all black or all white
    assert 0.35 < black_share(dithered) < 0.65
    assert raster.is_photo(photo().convert("L"))
    assert not raster.is_photo(line_art().convert("L"))
    sharp = raster.rasterize("image/png", _png(line_art()), 384)
    # thresholded: the filled bar is solid black, no dither holes
    bar = sharp.crop((10, 5, 370, 60)).convert("L")
    assert bar.histogram()[255] == 0


def test_photo_jpeg_prints_with_midtones_dithered():
    img = raster.rasterize("image/jpeg", _encode(photo(), "JPEG"), 384)
    assert img.size == (384, 288)
    assert 0.2 < black_share(img) < 0.8


def test_transparent_png_prints_on_white():
    src = Image.new("RGBA", (100, 100), (0, 0, 0, 0))
    ImageDraw.Draw(src).rectangle((40, 40, 59, 59), fill=(0, 0, 0, 255))
    img = raster.rasterize("image/png", _png(src), 384)
    assert img.size == (384, 384) and black_share(img) > 0.95  # only the square remains after cropping


def test_text_plain_wraps_to_the_paper_and_prints_accents_and_currency():
    text = "Zoë Müller paid €125.00 for room 12. " * 4
    img = raster.rasterize("text/plain; charset=utf-8", text.encode(), 384)
    assert img.width == 384 and img.height == 30 * 5  # 148 chars at 32 per line, word-wrapped
    plain = raster.rasterize("text/plain", b"e", 384)
    accented = raster.rasterize("text/plain", "é".encode(), 384)
    euro = raster.rasterize("text/plain", "€".encode(), 384)
    unassigned = raster.rasterize("text/plain", "e\u0378".encode(), 384)  # stripped: prints like "e"
    assert plain.tobytes() != accented.tobytes()
    assert black_share(euro) > 0
    assert unassigned.tobytes() == plain.tobytes()


def test_text_control_bytes_are_stripped():
    assert printable("a\x1bp\x00\x19\xfab\x1dV\x00c\u202e\r\nd\te") == "ap\u00fabVc\nd       e"


def test_text_576_dots_has_48_columns():
    img = raster.rasterize("text/plain", ("x" * 48).encode(), 576)
    assert img.height == 30
    assert raster.rasterize("text/plain", ("x" * 49).encode(), 576).height == 60


# -- bad input --------------------------------------------------------------------

def test_unsupported_type_names_the_supported_ones():
    with pytest.raises(InvalidInput) as e:
        raster.rasterize("image/tiff", b"II*\x00", 384)
    assert str(e.value) == ("unsupported file type image/tiff; supported: application/pdf, image/png, "
                            "image/jpeg, image/bmp, text/plain")


@pytest.mark.parametrize("text", ["not base64!!", "", "   ", None, 42, "QUJD$RA=="])
def test_invalid_base64(text):
    with pytest.raises(InvalidInput, match="FileData"):
        raster.decode_base64(text)


def test_base64_with_line_breaks_and_missing_padding_is_accepted():
    data = base64.b64encode(b"hello world!!").decode()
    assert raster.decode_base64(data[:8] + "\n" + data[8:].rstrip("=")) == b"hello world!!"


@pytest.mark.parametrize("data,reason", [
    (b"%PDF-1.4\n" + bytes(range(256)) * 4, "damaged"),
    (registration_card_pdf()[:900], "damaged"),
    (b"GIF89a not a pdf", "not a PDF"),
])
def test_corrupt_pdf(data, reason):
    with pytest.raises(InvalidInput, match=reason):
        raster.rasterize("application/pdf", data, 384)


def test_encrypted_pdf():
    card = registration_card_pdf()
    encrypted = card.replace(b"/Root 1 0 R >>", b"/Root 1 0 R /Encrypt << /Filter /Standard /V 1 /R 2 /O <"
                             + b"11" * 32 + b"> /U <" + b"22" * 32 + b"> /P -4 >> /ID [<00112233445566778899aabb"
                             b"ccddeeff> <00112233445566778899aabbccddeeff>] >>")
    assert encrypted != card
    with pytest.raises(InvalidInput, match="password"):
        raster.rasterize("application/pdf", encrypted, 384)


def test_too_many_pages():
    with pytest.raises(InvalidInput, match="21 pages; at most 20"):
        raster.rasterize("application/pdf", _pdf_pages([(100, 100)] * 21), 384, max_pages=20)


def test_too_long_paper():
    with pytest.raises(InvalidInput, match="paper limit"):
        raster.rasterize("application/pdf", registration_card_pdf(), 384, max_length_mm=40)
    with pytest.raises(InvalidInput, match="paper limit"):
        raster.rasterize("text/plain", b"line\n" * 500, 384, max_length_mm=1000)
    with pytest.raises(InvalidInput, match="paper limit"):
        raster.rasterize("image/png", _png(Image.new("L", (10, 4000), 0)), 384, max_length_mm=2000)


def test_absurd_pdf_page_is_refused_before_rendering():
    # 2 pt wide, 14400 pt tall: at the paper width that is ~2.8 million dot rows
    with pytest.raises(InvalidInput, match="paper limit"):
        raster.rasterize("application/pdf", _pdf_pages([(2, 14400)]), 384)


def _png_header_only(width: int, height: int) -> bytes:
    """A PNG whose header claims width x height with a few bytes of data: a decompression bomb's shape."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) \
        + chunk(b"IEND", b"")


@pytest.mark.parametrize("size", [(50_000, 50_000), (10_000, 5_000)])
def test_decompression_bomb_is_refused_before_decoding(size):
    with pytest.raises(InvalidInput, match="pixels"):
        raster.rasterize("image/png", _png_header_only(*size), 384)


def test_pillow_limit_is_set():
    raster.render_here("image/png", _png(line_art()), 384, 20, 2000.0)
    assert Image.MAX_IMAGE_PIXELS == raster.MAX_SOURCE_PIXELS


@pytest.mark.parametrize("mime,data", [
    ("image/png", b"\x89PNG\r\n\x1a\n garbage"),
    ("image/jpeg", b"\xff\xd8\xff\xe0 truncated"),
    ("image/bmp", b"BM" + b"\0" * 10),
    ("image/png", _encode(line_art(), "PNG")[:300]),
])
def test_corrupt_images(mime, data):
    with pytest.raises(InvalidInput, match="damaged|not a PNG"):
        raster.rasterize(mime, data, 384)


@pytest.mark.parametrize("mime,data,reason", [
    ("image/png", _encode(Image.new("L", (50, 50), 255), "PNG"), "blank"),
    ("text/plain", b"\n\n  \n", "empty"),
    ("text/plain", b"caf\xe9", "UTF-8"),
])
def test_nothing_to_print_or_undecodable(mime, data, reason):
    with pytest.raises(InvalidInput, match=reason):
        raster.rasterize(mime, data, 384)


# -- hostile input never crashes ----------------------------------------------------

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_SAMPLES = {
    "application/pdf": registration_card_pdf(),
    "image/png": _encode(line_art((160, 180)), "PNG"),
    "image/jpeg": _encode(photo((64, 48)), "JPEG"),
    "image/bmp": _encode(line_art((160, 180)), "BMP"),
    "text/plain": "Zoë €5\n".encode(),
}


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mime=st.sampled_from(sorted(_SAMPLES)), cuts=st.lists(st.tuples(st.integers(0, 10**6), st.binary(max_size=8)),
                                                              max_size=4), truncate=st.integers(0, 10**6))
def test_mutated_files_print_or_are_refused_cleanly(mime, cuts, truncate):
    data = bytearray(_SAMPLES[mime])
    for pos, junk in cuts:
        pos %= len(data)
        data[pos:pos + len(junk)] = junk
    data = bytes(data[: max(1, truncate % (len(data) + 1))])
    try:
        img = raster.rasterize(mime, data, 384, max_length_mm=500)
    except InvalidInput as e:
        assert str(e)
    else:
        assert img.mode == "1" and img.width == 384 and 0 < img.height <= 500 * 8
