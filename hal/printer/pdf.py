"""PDF pages to greyscale images at the paper width, white margins cropped (pypdfium2).

Sizes are checked before anything is rendered, so a page of absurd
proportions cannot make pdfium allocate a huge bitmap.
"""

from __future__ import annotations

import threading

from hal.errors import InvalidInput
from hal.printer.smallprint import SmallPrint

# pdfium is not thread-safe; a POS receipt and a Mews job may render at once.
_pdfium_lock = threading.Lock()
# A first, coarse render only finds the content's bounding box.
PROBE_FACTOR = 0.5
# Cropping a nearly empty page must not blow a corner stamp up to the paper width.
MAX_ZOOM = 4.0
INK = 250  # a pixel darker than this is content, for cropping
# Small print: the page is rendered SUPERSAMPLE times finer than the paper and each
# SUPERSAMPLE x SUPERSAMPLE block becomes one dot by its ink coverage (a box filter),
# so a stroke thinner than a dot still darkens the dot it crosses (raster.PDF_THRESHOLD
# prints it). A long page gets a smaller factor: the finer render stays under
# MAX_FINE_PIXELS (1 byte each, a few copies) inside the sandbox's memory bound.
SUPERSAMPLE = 4
MAX_FINE_PIXELS = 12_000_000


class Pages:
    """An open PDF; use as a context manager. Raises InvalidInput for corrupt or locked files."""

    def __init__(self, data: bytes, max_pages: int):
        import pypdfium2 as pdfium

        if not data.lstrip()[:5].startswith(b"%PDF"):
            raise InvalidInput("the file is not a PDF (no %PDF header)")
        self._lock: threading.Lock | None = _pdfium_lock
        self._lock.acquire()
        try:
            try:
                self.doc = pdfium.PdfDocument(data)
            except pdfium.PdfiumError as e:
                if "password" in str(e).lower():
                    raise InvalidInput("the PDF is password-protected (encrypted): cannot print it") from None
                raise InvalidInput(f"the PDF is damaged or unreadable ({e})") from None
            count = len(self.doc)
            if count < 1:
                raise InvalidInput("the PDF has no pages")
            if count > max_pages:
                raise InvalidInput(f"the PDF has {count} pages; at most {max_pages} are printed per command")
        except BaseException:
            self.close()
            raise

    def __len__(self) -> int:
        return len(self.doc)

    def close(self) -> None:
        doc = getattr(self, "doc", None)
        if doc is not None:
            self.doc = None
            doc.close()
        if self._lock is not None:
            self._lock.release()
            self._lock = None

    def __enter__(self) -> Pages:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def render(self, index: int, width_dots: int, max_rows: int):
        """Page ``index`` as an "L" image ``width_dots`` wide, margins cropped; None when blank."""
        from PIL import Image

        page = self.doc[index]
        try:
            width_pt, height_pt = page.get_size()
            if not (width_pt >= 1 and height_pt >= 1):
                raise InvalidInput(f"PDF page {index + 1} has no size")
            # Probe: coarse, and never taller than the paper limit allows.
            probe_scale = min(width_dots * PROBE_FACTOR / width_pt, max_rows / height_pt)
            probe = _render(page, probe_scale, (0, 0, 0, 0))
            box = _ink_box(probe)
            if box is None:
                return None
            x0, y0, x1, y1 = box
            # One probe pixel of slack on each side, in points, clamped to the page.
            pad = 1 / probe_scale
            left = max(0.0, x0 / probe_scale - pad)
            top = max(0.0, y0 / probe_scale - pad)
            right = min(width_pt, x1 / probe_scale + pad)
            bottom = min(height_pt, y1 / probe_scale + pad)
            # A landscape page with landscape content (a wide table) prints turned a quarter,
            # so it comes out at the scale of a portrait page (A4: 1.41x larger than upright).
            turn = width_pt > height_pt and right - left > bottom - top
            # Text too small for an outline font at this width: lifted off the page, drawn after.
            small = SmallPrint(page) if not turn else None
            img, scale = self._render_box(page, index, (left, top, right, bottom), width_dots, max_rows, turn, small)
            # The probe is coarse: crop once more at the final resolution so the
            # margins are gone to the dot, then render that box.
            box = _ink_box(img)
            if box is not None and (box[0] > 1 or box[1] > 1 or img.width - box[2] > 1 or img.height - box[3] > 1):
                left, top, right, bottom = (left + box[0] / scale, top + box[1] / scale,
                                            left + box[2] / scale, top + box[3] / scale)
                img, scale = self._render_box(page, index, (left, top, right, bottom), width_dots, max_rows, turn,
                                              small)
        finally:
            page.close()
        if turn:
            # clockwise: the start of each line comes out of the printer first
            img = img.transpose(Image.Transpose.ROTATE_270)
        if img.width != width_dots:
            # Rounding leaves the render a dot or two off; zoom capping leaves it narrower: centre it.
            if img.width > width_dots:
                img = img.crop((0, 0, width_dots, img.height))
            else:
                canvas = Image.new("L", (width_dots, img.height), 255)
                canvas.paste(img, ((width_dots - img.width) // 2, 0))
                img = canvas
        return img

    @staticmethod
    def _render_box(page, index: int, box, width_dots: int, max_rows: int, turn: bool = False,
                    small: SmallPrint | None = None):
        """Render the (left, top, right, bottom) box in points so that its width (its height when it
        will be ``turn``ed) fills the paper; checks the paper length first. Not turned here.
        ``small`` print is lifted off the page before and drawn on the render after."""
        left, top, right, bottom = box
        width_pt, height_pt = page.get_size()
        across, along, page_across = (bottom - top, right - left, height_pt) if turn else \
            (right - left, bottom - top, width_pt)
        scale = min(width_dots / across, MAX_ZOOM * width_dots / page_across)
        rows = round(along * scale)
        if rows > max_rows:
            raise InvalidInput(f"PDF page {index + 1} would be {rows / (203 / 25.4):.0f} mm long, "
                               f"over the {max_rows / (203 / 25.4):.0f} mm paper limit")
        crop = (left, height_pt - bottom, width_pt - right, top)
        fine = supersample_factor(round(across * scale), rows)
        if small is not None:
            small.lift(scale, right)
        img = _render(page, scale * fine, crop)
        if fine > 1:
            img = img.reduce(fine)  # box filter: each dot is the mean of its fine pixels
        if small is not None:
            small.draw(img, scale, left, top)
        return img, scale


def supersample_factor(width: int, rows: int) -> int:
    """How much finer than the paper a width x rows render may be drawn (1 = at paper resolution)."""
    for factor in range(SUPERSAMPLE, 1, -1):
        if width * rows * factor * factor <= MAX_FINE_PIXELS:
            return factor
    return 1


def _render(page, scale: float, crop):
    import pypdfium2 as pdfium

    try:
        bitmap = page.render(scale=scale, crop=crop, grayscale=True, fill_color=(255, 255, 255, 255),
                             may_draw_forms=True)
    except pdfium.PdfiumError as e:
        raise InvalidInput(f"a PDF page cannot be rendered ({e})") from None
    try:
        img = bitmap.to_pil()
        return img.convert("L") if img.mode != "L" else img.copy()
    finally:
        bitmap.close()


def _ink_box(img):
    """Bounding box of non-white pixels, or None for a blank image."""
    return img.point(lambda v: 255 if v < INK else 0).getbbox()
