"""Documents (PDF, PNG, JPEG, BMP, plain text) to one 1-bit image at the paper width.

Every limit is checked before the expensive step it protects: pixel counts
before decoding, page sizes before rendering, line counts before drawing.
Bad input raises ``InvalidInput`` with a reason staff can act on.
"""

from __future__ import annotations

import base64
import binascii
import io
import warnings

from hal.errors import InvalidInput

SUPPORTED = ("application/pdf", "image/png", "image/jpeg", "image/bmp", "text/plain")
ALIASES = {"image/jpg": "image/jpeg", "image/pjpeg": "image/jpeg", "image/x-ms-bmp": "image/bmp",
           "image/x-bmp": "image/bmp", "application/x-pdf": "application/pdf"}
DOTS_PER_MM = 203 / 25.4
# Source images above this many pixels are refused before decoding (a 40 MP
# photo decodes to 120 MB of RGB; a Pi Zero has 512 MB in all).
MAX_SOURCE_PIXELS = 40_000_000
# What the decoded image costs in memory (Pillow keeps RGB/RGBA/LA at 4 bytes a pixel,
# 16-bit at 2): checked before decoding, whatever the header's mode.
MAX_DECODED_BYTES = 24_000_000
MAX_FILEDATA_CHARS = 20_000_000  # base64 FileData, checked before decoding it
PAGE_GAP_ROWS = 40  # 5 mm of paper between PDF pages
THRESHOLD = 160  # text: slightly bolder than 50 % grey reads better on thermal paper
# PDF pages arrive box-filtered from a finer render (hal.printer.pdf): a dot prints when
# about a third of it is ink, so a thin stroke keeps a dot instead of vanishing.
PDF_THRESHOLD = 176
# An image with more than this share of mid-grey pixels is a photo and is
# dithered; text and line art (mostly white, black and a few antialiased
# edge pixels) is thresholded so edges stay sharp.
PHOTO_GREY_SHARE = 0.2
GREY_LOW, GREY_HIGH = 48, 208
INK = 245  # darker than this is content when cropping white margins (JPEG noise stays white)


def normalize_type(file_type: str) -> str:
    """``"Image/JPG; q=1"`` -> ``"image/jpeg"``; InvalidInput when unsupported."""
    base = (file_type or "").split(";", 1)[0].strip().lower()
    base = ALIASES.get(base, base)
    if base not in SUPPORTED:
        shown = "".join(ch for ch in (file_type or "(none)") if ch.isprintable())[:60]
        raise InvalidInput(f"unsupported file type {shown}; supported: {', '.join(SUPPORTED)}")
    return base


def decode_base64(text) -> bytes:
    """Decode a command's ``FileData``; whitespace and missing padding tolerated."""
    if not isinstance(text, str) or not text.strip():
        raise InvalidInput("FileData is missing or empty")
    if len(text) > MAX_FILEDATA_CHARS:
        raise InvalidInput(f"FileData is {len(text) / 1e6:.1f} MB of base64; the limit is "
                           f"{MAX_FILEDATA_CHARS // 1_000_000} MB")
    compact = "".join(text.split())
    compact += "=" * (-len(compact) % 4)
    try:
        data = base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidInput("FileData is not valid base64") from None
    if not data:
        raise InvalidInput("FileData is empty")
    return data


def max_rows(max_length_mm: float) -> int:
    return int(max_length_mm * DOTS_PER_MM)


def rasterize(file_type: str, data: bytes, width_dots: int = 384, *, max_pages: int = 20,
              max_length_mm: float = 2000.0):
    """Render a document as a 1-bit PIL image exactly ``width_dots`` wide.

    Text renders here (its limits make it cheap); PDFs and images in a bounded child
    process (hal.printer.sandbox).
    """
    kind = normalize_type(file_type)
    if kind == "text/plain":
        return render_here(kind, data, width_dots, max_pages, max_length_mm)
    from hal.printer.sandbox import render
    return render(kind, data, width_dots, max_pages, max_length_mm)


def render_here(kind: str, data: bytes, width_dots: int, max_pages: int, max_length_mm: float):
    """``rasterize`` in this process (the sandbox child runs this)."""
    limit = max_rows(max_length_mm)
    if kind == "text/plain":
        from hal.printer.text import decode, render_text
        return render_text(decode(data), width_dots, limit)
    if kind == "application/pdf":
        return _pdf(data, width_dots, max_pages, limit)
    gray, photo = _image(data, width_dots, limit)
    return to_bitmap(gray, photo)


def is_photo(gray) -> bool:
    """True when the greyscale image is mostly mid-tones (dither it) rather than text or line art."""
    hist = gray.histogram()
    total = gray.width * gray.height
    return total > 0 and sum(hist[GREY_LOW:GREY_HIGH]) > PHOTO_GREY_SHARE * total


def to_bitmap(gray, photo: bool | None = None, threshold: int = THRESHOLD):
    """1 bit per dot: Floyd-Steinberg for photos, a sharp threshold for everything else."""
    if photo is None:
        photo = is_photo(gray)
    if photo:
        return gray.convert("1")  # Pillow dithers with Floyd-Steinberg by default
    table = [255 if v >= threshold else 0 for v in range(256)]
    return gray.point(table, "1")


def _pdf(data: bytes, width_dots: int, max_pages: int, limit: int):
    from PIL import Image

    from hal.printer.pdf import Pages

    parts: list[Image.Image] = []
    used = 0
    with Pages(data, max_pages) as pages:
        for index in range(len(pages)):
            remaining = limit - used - (PAGE_GAP_ROWS if parts else 0)
            if remaining <= 0:
                raise InvalidInput(f"the PDF is longer than the {limit / DOTS_PER_MM:.0f} mm paper limit")
            gray = pages.render(index, width_dots, remaining)
            if gray is None:
                continue  # blank page: nothing to print
            if parts:
                used += PAGE_GAP_ROWS
            parts.append(to_bitmap(gray, threshold=PDF_THRESHOLD))
            used += gray.height
    if not parts:
        raise InvalidInput("the PDF has nothing to print (every page is blank)")
    if len(parts) == 1:
        return parts[0]
    out = Image.new("1", (width_dots, used), 1)
    y = 0
    for part in parts:
        out.paste(part, (0, y))
        y += part.height + PAGE_GAP_ROWS
    return out


def _image(data: bytes, width_dots: int, limit: int):
    """PNG/JPEG/BMP to (greyscale image ``width_dots`` wide, margins cropped; is it a photo)."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    Image.MAX_IMAGE_PIXELS = MAX_SOURCE_PIXELS
    try:
        with warnings.catch_warnings():
            # Pillow only warns between 1x and 2x its limit: over the limit is refused here.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img: Image.Image = Image.open(io.BytesIO(data), formats=["PNG", "JPEG", "BMP"])
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise InvalidInput(f"the image has too many pixels (limit {MAX_SOURCE_PIXELS // 1_000_000} MP)") from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        raise InvalidInput("the image is damaged or not a PNG, JPEG or BMP file") from None
    width, height = img.size
    if width < 1 or height < 1 or width * height > MAX_SOURCE_PIXELS:
        raise InvalidInput(f"the image is {width}x{height} pixels; the limit is "
                           f"{MAX_SOURCE_PIXELS // 1_000_000} megapixels")
    if img.format == "JPEG":
        # Let libjpeg decode at 1/2..1/8 scale when the photo is far wider than the paper.
        img.draft("L", (width_dots * 2, max(1, height * width_dots * 2 // width)))
    cost = decoded_bytes(img.mode, *img.size)
    if cost > MAX_DECODED_BYTES:
        raise InvalidInput(f"the image is {width}x{height} pixels ({img.mode}) and would take "
                           f"{cost // 1_000_000} MB to decode; the limit is {MAX_DECODED_BYTES // 1_000_000} MB")
    try:
        img.load()
        img = ImageOps.exif_transpose(img)
        gray = _flatten(img)
    except MemoryError:
        raise  # the sandbox's memory limit, not damage
    except Exception as e:  # decoders raise many types on hostile input; all mean "damaged"
        raise InvalidInput(f"the image is damaged ({str(e)[:80] or type(e).__name__})") from None
    box = _ink_box(gray, INK)
    if box is None:
        raise InvalidInput("the image is blank: nothing to print")
    photo = is_photo(gray.crop(box))
    if not photo:
        # Only what the threshold will print counts: faint JPEG ringing is margin too.
        box = _ink_box(gray, THRESHOLD)
        if box is None:
            raise InvalidInput("the image is too faint to print")
    gray = gray.crop(box)
    rows = max(1, round(gray.height * width_dots / gray.width))
    if rows > limit:
        raise InvalidInput(f"the image would be {rows / DOTS_PER_MM:.0f} mm long, "
                           f"over the {limit / DOTS_PER_MM:.0f} mm paper limit")
    return gray.resize((width_dots, rows), Image.Resampling.LANCZOS, reducing_gap=3.0), photo


def decoded_bytes(mode: str, width: int, height: int) -> int:
    """Bytes Pillow needs for a decoded image of this mode and size."""
    per_pixel = 1 if mode in ("1", "L", "P") else 2 if mode.startswith("I;16") else 4
    return width * height * per_pixel


def _ink_box(gray, level: int):
    """Bounding box of pixels darker than ``level``, or None."""
    return gray.point([255 if v < level else 0 for v in range(256)]).getbbox()


def _flatten(img):
    """Any mode to "L", transparent areas white (paper)."""
    from PIL import Image

    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        rgba = img.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, rgba).convert("L")
    if img.mode in ("I", "I;16", "I;16B", "I;16L", "F"):
        img = img.convert("I").point(lambda v: v / 256).convert("L") if img.mode != "F" else img.convert("L")
    return img.convert("L")
