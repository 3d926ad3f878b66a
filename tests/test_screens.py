from datetime import datetime
from itertools import combinations
from zoneinfo import ZoneInfo

import pytest
from PIL import Image, ImageDraw, ImageFont

from agent.panel import screens
from agent.runtime.health import (BOOTING, BUSY, CONFIG_ERROR, CONNECTING, DISPLACED, FAULT, IDLE, OFFLINE,
                                  ONLINE, TOKEN_REJECTED, WAITING, DeviceHealth, Health)

NOW = 1_700_000_000.0
LONG_NAME = "Hôtel Überfluß Grand Palace & Spa Prague Old Town"
FONT = ImageFont.load_default_imagefont()


def glyphs(text: str, scale: int = 1) -> Image.Image:
    """``text`` drawn on its own with Pillow's bitmap font, cropped to its ink (the expected pixels)."""
    im = Image.new("1", (6 * len(text) + 2, 11))
    ImageDraw.Draw(im).text((0, 0), text, font=FONT, fill=1)
    im = im.crop(im.getbbox())
    return im.resize((im.width * scale, im.height * scale), Image.NEAREST) if scale > 1 else im


def shows(image: Image.Image, text: str, scale: int = 1) -> bool:
    """Whether ``text`` appears pixel for pixel somewhere on ``image``."""
    tpl = glyphs(text, scale)
    want = tpl.tobytes()
    for y in range(image.height - tpl.height + 1):
        for x in range(image.width - tpl.width + 1):
            if image.crop((x, y, x + tpl.width, y + tpl.height)).tobytes() == want:
                return True
    return False


def printer(state=BUSY, done=0, total=2, fault=""):
    return {"printer": DeviceHealth("printer", state, done=done, total=total, fault=fault)}


def encoder(state=WAITING, done=0, total=2, deadline=NOW + 27.2):
    return {"encoder": DeviceHealth("encoder", state, done=done, total=total, deadline=deadline)}


STATES = {
    "booting": Health(),
    "connecting": Health(connection=CONNECTING, ip_address="10.0.0.7"),
    "online": Health(connection=ONLINE, enterprise="Demo Hotel", ip_address="192.168.1.20"),
    "offline": Health(connection=OFFLINE, offline_since=NOW - 7530, outbox_depth=4),
    "printing": Health(connection=ONLINE, devices=printer(done=1, total=2)),
    "encoding": Health(connection=ONLINE, devices=encoder(BUSY, deadline=None)),
    "present_card": Health(connection=ONLINE, devices=encoder()),
    "fault": Health(connection=ONLINE, devices=printer(FAULT, fault="paper out")),
    "displaced": Health(connection=DISPLACED),
    "config_error": Health(connection=CONFIG_ERROR, message="config.toml: mews.mode: expected websocket"),
}

EDGES = [
    Health(connection=ONLINE, enterprise=LONG_NAME, ip_address="255.255.255.255", outbox_depth=10**12,
           dead_letters=123_456),
    Health(connection=ONLINE, enterprise="", ip_address="", outbox_depth=0),
    Health(connection=ONLINE, enterprise="東京ステーションホテル", message="\n\tline\x00break"),
    Health(connection=OFFLINE, offline_since=None, outbox_depth=10**9),
    Health(connection=OFFLINE, offline_since=NOW - 40 * 86400, outbox_depth=1),
    Health(connection=ONLINE, devices=printer(done=0, total=0)),
    Health(connection=ONLINE, devices=printer(done=10**6, total=10**6)),
    Health(connection=ONLINE, devices=encoder(deadline=NOW - 3600)),
    Health(connection=ONLINE, devices=encoder(deadline=NOW + 10**7)),
    Health(connection=ONLINE, devices=printer(FAULT, fault="x" * 300)),
    Health(connection=ONLINE, devices=printer(FAULT, fault="")),
    Health(connection=CONFIG_ERROR, message=""),
    Health(connection=CONFIG_ERROR, message="w" * 500),
    Health(connection=ONLINE, devices={"pos": DeviceHealth("pos", BUSY, activity="payment " * 20)}),
    Health(connection="bogus"),
]


def check_frame(screen: screens.Screen) -> Image.Image:
    assert screen.height <= screens.INNER_H, f"{screen.name} does not fit: {screen.height}px"
    assert all(len(r.text) <= screens.CHARS for r in screen.rows)
    image = screens.render(screen)
    assert image.size == (128, 64) and image.mode == "1"
    box = image.getbbox()
    assert box is not None, f"{screen.name} is blank"
    # Nothing in the margins that the burn-in shift needs.
    assert box[0] >= 2 and box[1] >= 2 and box[2] <= 126 and box[3] <= 62
    return image


@pytest.mark.parametrize("name", list(STATES))
def test_each_state_has_its_screen(name):
    screen = screens.choose(STATES[name], NOW)
    assert screen.name == name
    check_frame(screen)


@pytest.mark.parametrize("health", EDGES, ids=range(len(EDGES)))
def test_edge_values_render(health):
    check_frame(screens.choose(health, NOW))
    check_frame(screens.status_page(health, NOW))


def test_states_look_different():
    images = {name: screens.render(screens.choose(h, NOW)).tobytes() for name, h in STATES.items()}
    for a, b in combinations(images, 2):
        assert images[a] != images[b], f"{a} and {b} render the same"


def test_online_shows_name_ip_and_queue():
    health = Health(connection=ONLINE, enterprise="Demo Hotel", ip_address="192.168.1.20", outbox_depth=3)
    image = screens.render(screens.online(health))
    assert shows(image, "ONLINE", scale=2)
    assert shows(image, "Demo Hotel") and shows(image, "IP 192.168.1.20") and shows(image, "queue 3")
    assert not shows(image, "OFFLINE", scale=2)


def test_long_enterprise_name_is_ellipsised():
    screen = screens.online(Health(connection=ONLINE, enterprise=LONG_NAME))
    name_row = screen.rows[2].text
    assert len(name_row) == screens.CHARS and name_row.endswith(screens.ELLIPSIS)
    assert LONG_NAME.startswith(name_row[:-1])
    image = screens.render(screen)
    assert shows(image, name_row[:-1])
    assert not shows(image, LONG_NAME[:screens.CHARS])  # the cut is real, not overdrawn


def test_queue_zero_and_huge():
    zero = screens.render(screens.online(Health(connection=ONLINE, outbox_depth=0)))
    huge = screens.render(screens.online(Health(connection=ONLINE, outbox_depth=12_345, dead_letters=2)))
    assert shows(zero, "queue 0")
    assert shows(huge, "queue 12.3k") and shows(huge, "dead 2")


def test_non_latin_names_are_drawable():
    assert screens.clean("Škoda Hôtel") == "Skoda Hôtel"
    assert screens.clean("a\nb\tc\x00d") == "a b c d"
    assert set(screens.clean("東京")) == {"?"}
    assert screens.fit("abcdef", 4) == "abc" + screens.ELLIPSIS


@pytest.mark.parametrize("n, shown", [
    (0, "0"), (999, "999"), (1000, "1k"), (1050, "1.1k"), (12_345, "12.3k"), (99_949, "99.9k"),
    (99_950, "100k"), (999_499, "999k"), (999_500, "1M"), (1_234_567, "1.2M"), (10**9, "1G"), (-1500, "-1.5k"),
])
def test_compact_numbers(n, shown):
    assert screens.compact(n) == shown


@pytest.mark.parametrize("seconds, shown", [(0, "0s"), (59, "59s"), (750, "12m"), (7530, "2h05m"),
                                            (270000, "3d03h"), (-5, "0s")])
def test_durations(seconds, shown):
    assert screens.duration(seconds) == shown


def _bar_fill(image: Image.Image) -> int:
    """Lit pixels on the middle line of the progress bar (found by its 124-pixel top edge)."""
    for y in range(image.height - 6):
        if sum(image.getpixel((x, y)) for x in range(image.width)) >= 124:
            return sum(1 for x in range(image.width) if image.getpixel((x, y + 3)))
    raise AssertionError("no progress bar")


def test_printing_progress_zero_part_and_full():
    images = {done: screens.render(screens.printing(DeviceHealth("printer", BUSY, done=done, total=3)))
              for done in (0, 1, 3)}
    fills = {done: _bar_fill(im) for done, im in images.items()}
    assert fills[0] == 2  # only the outline's sides
    assert fills[0] < fills[1] < fills[3]
    assert fills[3] == 122  # filled edge to edge inside the outline
    assert shows(images[0], "copy 1 of 3") and shows(images[3], "copy 3 of 3")
    assert shows(images[0], "PRINTING", scale=2)


def test_present_card_countdown_and_expiry():
    live = screens.render(screens.present_card(encoder()["encoder"], NOW))
    assert shows(live, "Present card 1 of 2") and shows(live, "0:28", scale=3)
    assert shows(live, "on the key encoder")
    late = screens.render(screens.present_card(encoder(done=1, deadline=NOW - 5)["encoder"], NOW))
    assert shows(late, "Present card 2 of 2") and shows(late, "0:00", scale=3) and shows(late, "time is up")
    assert screens.countdown(NOW + 125, NOW) == "2:05"


def test_fault_screens():
    short = screens.render(screens.choose(Health(devices=printer(FAULT, fault="cover open")), NOW))
    assert shows(short, "COVER OPEN", scale=2) and shows(short, "printer")
    long_text = "the print head is too hot, let it cool down before printing again"
    pages = [screens.choose(Health(devices=printer(FAULT, fault=long_text)), NOW + k * screens.FAULT_PAGE_SECONDS)
             for k in range(2)]
    assert [p.rows[0].text for p in pages] == ["ATTN 1/2", "ATTN 2/2"]
    # the whole instruction over the pages, nothing cut off (old code: "...before printing…")
    shown = " ".join(r.text for p in pages for r in p.rows[2:])
    assert shown == f"printer: {long_text}" and screens.ELLIPSIS not in shown


def test_offline_since_local_time():
    london = ZoneInfo("Europe/London")
    since = datetime(2024, 7, 1, 14, 2, tzinfo=london).timestamp()
    health = Health(connection=OFFLINE, offline_since=since, outbox_depth=12)
    image = screens.render(screens.offline(health, since + 3600 + 300, london))
    assert shows(image, "since 14:02 (1h05m)") and shows(image, "12 reports queued")
    earlier = screens.offline(health, since + 2 * 86400, london)
    assert "01 Jul 14:02" in earlier.text


def test_priority_most_urgent_first():
    everything = Health(connection=CONFIG_ERROR, devices={**printer(FAULT, fault="paper out"), **encoder()})
    assert screens.choose(everything, NOW).name == "config_error"
    everything.connection = DISPLACED
    assert screens.choose(everything, NOW).name == "displaced"
    everything.connection = OFFLINE
    assert screens.choose(everything, NOW).name == "fault"
    everything.devices["printer"].state = BUSY
    assert screens.choose(everything, NOW).name == "present_card"
    everything.devices["encoder"].state = IDLE
    assert screens.choose(everything, NOW).name == "printing"
    everything.devices["printer"].state = IDLE
    assert screens.choose(everything, NOW).name == "offline"
    assert screens.choose(everything, NOW, status=True).name == "status"
    note = screens.notice("CLEAR", "3 dead letters removed")
    assert screens.choose(everything, NOW, status=True, note=note) is note


def test_status_page_has_the_facts():
    health = Health(connection=ONLINE, enterprise="Demo Hotel", ip_address="10.1.2.3", outbox_depth=5,
                    dead_letters=1, last_command="Printer 1a2b Processed")
    image = screens.render(screens.status_page(health, NOW))
    for line in ("IP 10.1.2.3", "Demo Hotel", "queue 5", "dead 1", "Printer 1a2b Proce"):  # cut at 20
        assert shows(image, line), line
    health.clock_ok = False
    assert shows(screens.render(screens.status_page(health, NOW)), "clock NOT synced")


def test_shift_moves_content_without_clipping():
    screen = screens.choose(STATES["online"], NOW)
    boxes = [screens.render(screen, shift).getbbox() for shift in ((0, 0), (4, 4))]
    assert boxes[1] == tuple(v + 4 for v in boxes[0])
    assert screens.render(screen, (9, -9)).getbbox()  # out-of-range shifts are clamped, not lost


def test_screens_compare_by_value():
    assert screens.choose(STATES["online"], NOW) == screens.choose(STATES["online"], NOW + 60)
    card = STATES["present_card"]
    assert screens.choose(card, NOW) != screens.choose(card, NOW + 1)  # the countdown ticks
    assert screens.choose(STATES["booting"], NOW).name == "booting" and BOOTING == "booting"


def test_readme_screenshots_are_scaled_frames(tmp_path):
    from sim.screenshots import readme_screenshots

    paths = readme_screenshots(str(tmp_path), scale=3)
    assert [p.rsplit("/", 1)[1] for p in paths] == ["oled-online.png", "oled-printing.png", "oled-present-card.png"]
    for path in paths:
        with Image.open(path) as im:
            assert im.size == (384, 192)
            small = im.resize((128, 64), Image.NEAREST).convert("1")
            assert small.getbbox()
            # nearest neighbour: every 3x3 block is one OLED pixel, nothing blurred
            assert small.convert("L").resize((384, 192), Image.NEAREST).tobytes() == im.convert("L").tobytes()
    with Image.open(paths[2]) as card:
        assert shows(card.resize((128, 64), Image.NEAREST).convert("1"), "Present card 1 of 2")


def test_a_refused_token_names_the_keys_of_the_platform_generation_in_use():
    """Today's platform takes an access and a client token: the OLED must not send the technician to a seed key."""
    from agent.mews.errors import TokenRejected

    for message, keys in ((TokenRejected.CURRENT, ("access_token", "client_token")),
                          (TokenRejected.DEFAULT, ("connector_token",))):
        screen = screens.choose(Health(connection=TOKEN_REJECTED, message=message), 0.0)
        assert screen.name == "token_rejected" and "…" not in screen.text, screen.text  # nothing cut off
        assert all(key in screen.text for key in keys), screen.text
