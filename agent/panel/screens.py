"""Status screens: pure functions from the health snapshot to a 128x64 1-bit image.

Each screen function returns a ``Screen`` (a small comparable description made
of rows); ``choose`` picks the one to show and ``render`` draws it. Comparing
``Screen`` values is how the front panel knows something changed.
Text uses Pillow's built-in bitmap font (6x11 cells, Latin-1); titles are the
same glyphs doubled, so the panel stays crisp and needs no font files.
"""

from __future__ import annotations

import math
import textwrap
import unicodedata
from dataclasses import dataclass
from datetime import datetime, tzinfo

from agent import __version__
from agent.runtime.health import (
    BOOTING,
    BUSY,
    CONFIG_ERROR,
    CONNECTING,
    DISPLACED,
    FAULT,
    OFFLINE,
    ONLINE,
    TOKEN_REJECTED,
    WAITING,
    DeviceHealth,
    Health,
)

WIDTH, HEIGHT = 128, 64
MARGIN = 2  # room for the burn-in shift on every side
INNER_W, INNER_H = WIDTH - 2 * MARGIN, HEIGHT - 2 * MARGIN
CELL_W, CELL_H = 6, 11  # the bitmap font's glyph cell
CHARS = INNER_W // CELL_W  # 20 characters per text row
ELLIPSIS = "\u2026"  # not in the font: drawn as three dots in one cell
CENTER = (MARGIN, MARGIN)


@dataclass(frozen=True)
class Row:
    kind: str  # "text" | "big" | "bar" | "gap"
    text: str = ""
    value: float = 0.0  # bar fraction, or gap height
    scale: int = 2  # glyph scale of a "big" row
    center: bool = False

    @property
    def height(self) -> int:
        if self.kind == "text":
            return CELL_H
        if self.kind == "big":
            return 8 * self.scale  # capitals and digits sit in rows 2-9 of the cell
        if self.kind == "bar":
            return 7
        return int(self.value)


@dataclass(frozen=True)
class Screen:
    name: str
    rows: tuple[Row, ...]

    @property
    def text(self) -> str:
        """Every row's text, one per line (logs, tests)."""
        return "\n".join(r.text for r in self.rows if r.text)

    @property
    def height(self) -> int:
        return sum(r.height for r in self.rows)


def text(s: str, center: bool = False) -> Row:
    return Row("text", fit(s, CHARS), center=center)


def big(s: str, scale: int = 2) -> Row:
    return Row("big", fit(s, INNER_W // (CELL_W * scale)), scale=scale, center=True)


def bar(fraction: float) -> Row:
    return Row("bar", value=max(0.0, min(1.0, fraction)))


def gap(px: int = 3) -> Row:
    return Row("gap", value=px)


# ---- text shaping -------------------------------------------------------------

def clean(s: str) -> str:
    """Only what the Latin-1 bitmap font can draw: accents folded, controls to spaces."""
    out = []
    for ch in str(s):
        if ch == ELLIPSIS or (" " <= ch <= "~") or ("\xa0" <= ch <= "\xff"):
            out.append(ch)
        elif unicodedata.category(ch).startswith("C") or ch.isspace():
            out.append(" ")
        else:
            folded = "".join(c for c in unicodedata.normalize("NFKD", ch)
                             if ord(c) < 256 and not unicodedata.combining(c))
            out.append(folded or "?")
    return " ".join("".join(out).split())


def fit(s: str, chars: int = CHARS) -> str:
    """``s`` cleaned and cut to ``chars`` characters, ending in an ellipsis when cut."""
    s = clean(s)
    if len(s) <= chars:
        return s
    return s[:max(0, chars - 1)].rstrip() + ELLIPSIS


def wrap(s: str, lines: int, chars: int = CHARS) -> list[Row]:
    """``s`` over at most ``lines`` text rows, the last ellipsised when it does not fit."""
    parts = textwrap.wrap(clean(s), chars) or [""]
    if len(parts) > lines:
        parts = parts[:lines - 1] + [fit(" ".join(parts[lines - 1:]), chars)]
    return [text(p) for p in parts]


def compact(n: int | float) -> str:
    """12 -> "12", 12345 -> "12.3k", 1234567 -> "1.2M": fits a narrow panel."""
    n = int(n)
    if abs(n) < 1000:
        return str(n)
    value = float(abs(n))
    for unit in ("k", "M", "G", "T"):
        value /= 1000
        if round(value, 1) < 100:
            shown = f"{value:.1f}".removesuffix(".0")
        elif round(value) < 1000:
            shown = f"{value:.0f}"
        else:
            continue
        return ("-" if n < 0 else "") + shown + unit
    return ("-" if n < 0 else "") + f"{value:.0f}T"


def duration(seconds: float) -> str:
    """45 -> "45s", 750 -> "12m", 7500 -> "2h05m", 270000 -> "3d03h"."""
    s = max(0, int(seconds))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m"
    if s < 86400:
        return f"{s // 3600}h{s % 3600 // 60:02d}m"
    return f"{s // 86400}d{s % 86400 // 3600:02d}h"


def countdown(deadline: float | None, now: float) -> str:
    """Seconds left as m:ss; "0:00" once expired."""
    left = 0 if deadline is None else max(0, math.ceil(deadline - now))
    return f"{left // 60}:{left % 60:02d}"


def _clock(ts: float, now: float, tz: tzinfo | None) -> str:
    when, today = datetime.fromtimestamp(ts, tz), datetime.fromtimestamp(now, tz)
    return when.strftime("%H:%M") if when.date() == today.date() else when.strftime("%d %b %H:%M")


def _ip(health: Health) -> str:
    return f"IP {health.ip_address}" if health.ip_address else "no IP address"


def _queue(health: Health) -> str:
    line = f"queue {compact(health.outbox_depth)}"
    return line + (f" \xb7 dead {compact(health.dead_letters)}" if health.dead_letters else "")


# ---- screens ------------------------------------------------------------------

def booting(health: Health) -> Screen:
    if health.connection == CONNECTING:
        return Screen("connecting", (big("CONNECTING"), gap(), text("to Mews"), text(_ip(health))))
    return Screen("booting", (big("STARTING"), gap(), text(f"kiosk-agent {__version__}"), text(_ip(health))))


def online(health: Health) -> Screen:
    second = health.message or health.enterprise or "(no enterprise)"
    return Screen("online", (big("ONLINE"), gap(), text(second), text(_ip(health)), text(_queue(health))))


def offline(health: Health, now: float, tz: tzinfo | None = None) -> Screen:
    if health.offline_since:
        since = f"since {_clock(health.offline_since, now, tz)} ({duration(now - health.offline_since)})"
    else:
        since = "since start-up"
    queued = f"{compact(health.outbox_depth)} report{'' if health.outbox_depth == 1 else 's'} queued"
    return Screen("offline", (big("OFFLINE"), gap(), text(since), text(queued), text(_ip(health))))


def _step(device: DeviceHealth) -> str:
    """ "k of N" for the copy or key in hand."""
    k = min(device.done + 1, device.total) if device.total else device.done + 1
    return f"{compact(k)} of {compact(device.total)}" if device.total else compact(k)


def printing(device: DeviceHealth) -> Screen:
    rows = [big("PRINTING"), gap(), text(f"copy {_step(device)}")]
    if device.total:
        rows += [gap(3), bar(device.done / device.total)]
    return Screen("printing", tuple(rows))


def encoding(device: DeviceHealth) -> Screen:
    rows = [big("ENCODING"), gap(), text(f"key {_step(device)}")]
    if device.total:
        rows += [gap(3), bar(device.done / device.total)]
    return Screen("encoding", tuple(rows))


def present_card(device: DeviceHealth, now: float) -> Screen:
    expired = device.deadline is not None and now >= device.deadline
    rows = [text(f"Present card {_step(device)}", center=True), gap(2)]
    rows.append(big(countdown(device.deadline, now), scale=3) if device.deadline is not None else big("CARD", 3))
    rows += [gap(3), text("time is up" if expired else "on the key encoder", center=True)]
    return Screen("present_card", tuple(rows))


def busy(device: DeviceHealth, now: float) -> Screen:
    """Any other device at work or waiting."""
    rows = [big(device.name.upper()), gap(), *wrap(device.activity or device.state, 2)]
    if device.deadline is not None:
        rows.append(text(f"{countdown(device.deadline, now)} left"))
    return Screen(f"busy_{device.name}", tuple(rows))


FAULT_PAGE_LINES = 3
FAULT_PAGE_SECONDS = 3.0


def device_fault(device: DeviceHealth, now: float = 0.0) -> Screen:
    fault = clean(device.fault or device.activity or "fault")
    if len(fault) * CELL_W * 2 <= INNER_W:  # "PAPER OUT", "COVER OPEN" fit as the title
        rows = [big(fault.upper()), gap(), text(device.name), text("needs a person")]
        return Screen("fault", tuple(rows))
    # the whole instruction, a page at a time (issue 13 item 7): never cut off with an ellipsis
    lines = textwrap.wrap(f"{device.name}: {fault}", CHARS) or [""]
    pages = [lines[i:i + FAULT_PAGE_LINES] for i in range(0, len(lines), FAULT_PAGE_LINES)]
    page = pages[int(now / FAULT_PAGE_SECONDS) % len(pages)]
    title = "ATTENTION" if len(pages) == 1 else f"ATTN {pages.index(page) + 1}/{len(pages)}"
    return Screen("fault", (big(title), gap(), *(text(line) for line in page)))


def displaced(health: Health) -> Screen:
    return Screen("displaced", (big("DISPLACED"), gap(),
                                *wrap("Another device signed in with this connector token.", 3)))


def token_rejected(health: Health) -> Screen:
    # the refusal names the [mews] keys of the platform generation in use (agent.mews.errors.TokenRejected);
    # four rows of 128 px hold the key names, not the whole sentence
    keys = [k for k in ("access_token", "client_token", "connector_token") if f"mews.{k}" in health.message]
    said = f"Mews refused: check [mews] {', '.join(keys)}" if keys else "Mews refused the token: check [mews]"
    return Screen("token_rejected", (big("BAD TOKEN"), gap(), *wrap(said, 4)))


def storage_fault(health: Health) -> Screen:
    return Screen("storage", (big("STORAGE"), gap(), *wrap(f"{health.storage}: the unit keeps retrying", 3)))


def service_fault(health: Health) -> Screen:
    """A kiosk or POS service that is not serving (e.g. another program holds the kiosk's port)."""
    name, _, fault = health.service_faults()[0].partition(": ")
    return Screen("service", (big(f"{name.upper()} DOWN"), gap(), *wrap(fault, 3)))


def config_error(health: Health) -> Screen:
    return Screen("config_error", (big("BAD CONFIG"), gap(), *wrap(health.message or "see the agent log", 3)))


def status_page(health: Health, now: float, tz: tzinfo | None = None) -> Screen:
    """Button A: everything a technician asks first."""
    last = "clock NOT synced" if not health.clock_ok else (health.last_command or "no command yet")
    return Screen("status", (text(f"{health.connection} \xb7 v{__version__}"), text(_ip(health)),
                             text(health.enterprise or "(no enterprise)"), text(_queue(health)), text(last)))


def notice(title: str, *lines: str) -> Screen:
    """Short-lived feedback to a button press."""
    return Screen("notice", (big(title), gap(), *(r for line in lines for r in wrap(line, 2))))


def _paper_warning(health: Health) -> Screen | None:
    """Paper low or out while idle: staff should see it before a guest does."""
    for _, device in sorted(health.devices.items()):
        if device.paper in ("low", "out"):
            title = "PAPER LOW" if device.paper == "low" else "PAPER OUT"
            return Screen("paper", (big(title), gap(), text(f"{device.name}: new roll"),
                                    text(health.connection), text(_queue(health))))
    return None


def _devices(health: Health, state: str) -> list[DeviceHealth]:
    return [d for _, d in sorted(health.devices.items()) if d.state == state]


def choose(health: Health, now: float, *, tz: tzinfo | None = None,
           status: bool = False, note: Screen | None = None) -> Screen:
    """The screen for this moment, most urgent first."""
    if note is not None:
        return note
    if status:
        return status_page(health, now, tz)
    if health.connection == CONFIG_ERROR:
        return config_error(health)
    if health.connection == DISPLACED:
        return displaced(health)
    if health.connection == TOKEN_REJECTED:
        return token_rejected(health)
    if getattr(health, "storage", "ok") != "ok":
        return storage_fault(health)
    faults, waiting, working = (_devices(health, state) for state in (FAULT, WAITING, BUSY))
    if faults:
        return device_fault(faults[0], now)
    if health.service_faults():
        return service_fault(health)
    if waiting:
        return _device_screen(waiting[0], "waiting_screen", now)
    if working:
        return _device_screen(working[0], "working_screen", now)
    if health.connection in (BOOTING, CONNECTING):
        return booting(health)
    if health.connection == OFFLINE:
        return offline(health, now, tz)
    if (paper := _paper_warning(health)) is not None:
        return paper
    if health.connection == ONLINE:
        return online(health)
    return Screen("unknown", (big(health.connection.upper() or "?"),))



def _device_screen(device, which: str, now: float) -> Screen:
    """The screen its device kind declares for a device waiting or working (``busy`` when none)."""
    from agent.devices import kind_of_label

    kind = kind_of_label(device.name)
    name = getattr(kind, which) if kind is not None else "busy"
    draw = {"present_card": present_card, "encoding": lambda d, _now: encoding(d),
            "printing": lambda d, _now: printing(d)}.get(name, busy)
    return draw(device, now)

# ---- drawing -------------------------------------------------------------------

_font = None


def font():
    """Pillow's built-in 6x11 bitmap font."""
    global _font
    if _font is None:
        from PIL import ImageFont

        loader = getattr(ImageFont, "load_default_imagefont", None)  # Pillow >= 10.1
        _font = loader() if loader else ImageFont.load_default()
    return _font


def _draw_line(draw, x: int, y: int, s: str) -> None:
    for i, part in enumerate(s.split(ELLIPSIS)):
        if i:
            for dx in (0, 2, 4):
                draw.point((x + dx, y + 8), fill=1)
            x += CELL_W
        if part:
            draw.text((x, y), part, font=font(), fill=1)
            x += CELL_W * len(part)


def _big(s: str, scale: int):
    from PIL import Image, ImageDraw

    cell = Image.new("1", (max(1, CELL_W * len(s)), CELL_H))
    _draw_line(ImageDraw.Draw(cell), 0, 0, s)
    cell = cell.crop((0, 2, cell.width, 10))
    return cell.resize((cell.width * scale, cell.height * scale), Image.Resampling.NEAREST)


def render(screen: Screen, shift: tuple[int, int] = CENTER):
    """Draw ``screen``; ``shift`` (0-4, 0-4) moves the content to spare the pixels."""
    from PIL import Image, ImageDraw

    content = Image.new("1", (INNER_W, INNER_H))
    draw = ImageDraw.Draw(content)
    y = 0
    for row in screen.rows:
        if row.kind == "text":
            x = (INNER_W - CELL_W * len(row.text)) // 2 if row.center else 0
            _draw_line(draw, x, y, row.text)
        elif row.kind == "big":
            glyphs = _big(row.text, row.scale)
            content.paste(glyphs, ((INNER_W - glyphs.width) // 2 if row.center else 0, y))
        elif row.kind == "bar":
            draw.rectangle((0, y, INNER_W - 1, y + 6), outline=1)
            filled = round((INNER_W - 4) * row.value)
            if filled:
                draw.rectangle((2, y + 2, 1 + filled, y + 4), fill=1)
        y += row.height
    image = Image.new("1", (WIDTH, HEIGHT))
    dx, dy = (max(0, min(2 * MARGIN, v)) for v in shift)
    image.paste(content, (dx, dy))
    return image


def render_health(health: Health, now: float, **kw):
    """choose + render in one call."""
    return render(choose(health, now, **kw))
