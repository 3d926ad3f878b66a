"""ESC/POS encoding (bands, feeds, equivalence), status bytes, pacing and port errors."""

from __future__ import annotations

import random

import pytest
import serial
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image, ImageDraw

from hal.errors import DeviceDisconnected, DeviceError
from hal.printer import escpos
from hal.printer.port import Pacer, PrinterPort
from hal.printer.status import PrinterStatus, well_formed
from sim.printer.mechanism import Mechanism


def printed(data: bytes, width: int = 384) -> list:
    """What the virtual printer's mechanism puts on paper for these bytes (one receipt per cut)."""
    out = []
    mech = Mechanism(width, on_receipt=out.append)
    mech.feed_bytes(data)
    mech.flush()
    return out


def gappy_image(width=384, height=300):
    """Text-like: short ink blocks separated by blank runs, some longer than 255 rows."""
    img = Image.new("1", (width, height), 1)
    d = ImageDraw.Draw(img)
    d.rectangle((0, 0, width - 1, 9), fill=0)
    d.rectangle((5, 40, 100, 70), fill=0)  # narrow: right-trimmed band
    d.text((10, 100), "Hello", fill=0)
    d.rectangle((0, height - 3, 30, height - 1), fill=0)
    return img


# -- encoding ---------------------------------------------------------------------

def test_bands_never_exceed_the_band_height_and_blank_runs_are_feeds():
    img = Image.new("1", (384, 700), 1)
    ImageDraw.Draw(img).rectangle((0, 0, 383, 99), fill=0)  # 100 ink rows, then 600 blank
    job = escpos.encode_raster(img, band_height=24)
    bands = [c for c in job.chunks if c.data[:3] == b"\x1dv0"]
    feeds = [c for c in job.chunks if c.data[:2] == b"\x1bJ"]
    assert [c.rows for c in bands] == [24, 24, 24, 24, 4]
    assert all(len(c.data) == 8 + 48 * c.rows for c in bands)
    assert sum(c.rows for c in feeds) == 600
    assert feeds[0].data == b"\x1bJ\xff\x1bJ\xff\x1bJ\x5a"  # 255 + 255 + 90
    assert job.rows == 700 and job.nbytes == 100 * 48 + 5 * 8 + 9


def test_header_bytes_are_gs_v_0_little_endian():
    assert escpos.raster_header(48, 300) == bytes([0x1D, 0x76, 0x30, 0, 48, 0, 44, 1])


def test_right_trim_sends_only_the_ink_width():
    img = Image.new("1", (384, 24), 1)
    ImageDraw.Draw(img).rectangle((0, 0, 20, 23), fill=0)  # 21 dots -> 3 bytes
    (chunk,) = escpos.encode_raster(img).chunks
    assert chunk.data[:8] == escpos.raster_header(3, 24) and len(chunk.data) == 8 + 3 * 24


@pytest.mark.parametrize("optimised", [True, False])
def test_printed_image_is_pixel_identical(optimised):
    img = gappy_image()
    job = escpos.encode_raster(img, feed_blank=optimised, trim_right=optimised)
    (paper,) = printed(job.to_bytes())
    assert paper.size == img.size and paper.tobytes() == img.tobytes()


def test_feed_optimisation_is_equivalent_and_smaller():
    img = gappy_image()
    fast = escpos.encode_raster(img)
    plain = escpos.encode_raster(img, feed_blank=False, trim_right=False)
    assert printed(fast.to_bytes())[0].tobytes() == printed(plain.to_bytes())[0].tobytes()
    assert fast.nbytes < plain.nbytes / 3
    assert not any(c.data[:2] == b"\x1bJ" for c in plain.chunks)


@settings(max_examples=40, deadline=None)
@given(width=st.sampled_from([8, 13, 64, 384]), seed=st.integers(0, 2**32 - 1),
       band=st.integers(1, 40), blank_share=st.floats(0, 1))
def test_any_image_round_trips(width, seed, band, blank_share):
    rnd = random.Random(seed)
    height = rnd.randint(1, 120)
    img = Image.new("1", (width, height), 1)
    px = img.load()
    for y in range(height):
        if rnd.random() < blank_share:
            continue
        for x in range(width):
            if rnd.random() < 0.3:
                px[x, y] = 0
    job = escpos.encode_raster(img, band_height=band)
    (paper,) = printed(job.to_bytes(), width=width)
    assert paper.tobytes() == img.tobytes()


def test_odd_width_padding_never_prints():
    img = Image.new("1", (13, 4), 0)  # all black, 13 dots: 3 padding bits per row
    job = escpos.encode_raster(img)
    data = job.chunks[0].data[8:]
    assert all(data[i] == 0xF8 for i in range(1, len(data), 2))


def test_heat_and_status_commands():
    assert escpos.heat(0, 0, 0) == b""
    assert escpos.heat(11, 120, 40) == b"\x1b7\x0b\x78\x28"
    assert escpos.heat(300, -1, 5) == b"\x1b7\xff\x00\x05"
    assert escpos.status_request(2) == b"\x10\x04\x02"


# -- status -----------------------------------------------------------------------

@pytest.mark.parametrize("raw,ready,field,word", [
    ((0x12, 0x12, 0x12), True, None, ""),
    ((0x1A, 0x32, 0x7E), False, "paper_out", "paper"),  # FIELD-NOTES: out of paper
    ((0x1A, 0x16, 0x12), False, "cover_open", "cover"),
    ((0x1A, 0x52, 0x12), False, "error", "error"),
    ((0x1A, 0x12, 0x12), False, None, "offline"),
    ((0x12, 0x12, 0x1E), True, "paper_near_end", ""),
])
def test_status_vectors(raw, ready, field, word):
    status = PrinterStatus.from_bytes(*raw)
    assert status.ready is ready
    assert status.raw == raw
    if field:
        assert getattr(status, field) is True
    for other in ("paper_out", "cover_open", "error", "paper_near_end"):
        if other != field and not (field == "paper_out" and other == "paper_near_end"):
            assert getattr(status, other) is False
    assert word in status.problem
    if ready:
        status.raise_unless_ready()
    else:
        with pytest.raises(DeviceError) as e:
            status.raise_unless_ready()
        assert e.value.retryable and word in str(e.value)


def test_out_of_paper_reads_as_paper_out_not_just_offline():
    status = PrinterStatus.from_bytes(0x1A, 0x32, 0x7E)
    assert not status.online and status.paper_out and status.paper_near_end
    assert status.problem.startswith("printer out of paper")


def test_status_byte_shape():
    assert all(well_formed(b) for b in (0x12, 0x16, 0x1A, 0x32, 0x7E))
    assert not any(well_formed(b) for b in (0x00, 0xFF, 0x13, 0x92))


def test_mechanism_answers_the_field_vectors():
    mech = Mechanism()
    mech.set_state(paper_out=True)
    assert mech.feed_bytes(b"\x10\x04\x01\x10\x04\x02\x10\x04\x04") == b"\x1a\x32\x7e"
    mech.set_state(paper_out=False, cover_open=True)
    assert PrinterStatus.from_bytes(*mech.feed_bytes(b"\x10\x04\x01\x10\x04\x02\x10\x04\x04")).cover_open


# -- pacing -----------------------------------------------------------------------

class FakeTime:
    def __init__(self):
        self.now = 1000.0

    def clock(self):
        return self.now

    def sleep(self, seconds):
        assert seconds >= 0
        self.now += seconds


class RecordingLoop:
    """A pyserial loop:// port that notes the fake time of every write."""

    def __init__(self, fake: FakeTime):
        self.fake, self.writes = fake, []

    def __call__(self, url, **kwargs):
        port = serial.serial_for_url("loop://", **kwargs)
        real_write = port.write

        def write(data):
            self.writes.append((self.fake.now, len(data)))
            return real_write(data)
        port.write = write
        return port


@pytest.mark.parametrize("baud,row_ms", [(19200, 2.5), (115200, 0.0), (9600, 10.0)])
def test_pacing_keeps_within_the_configured_rate(baud, row_ms):
    fake = FakeTime()
    loop = RecordingLoop(fake)
    printer = escpos.EscPosPrinter("/dev/fake", baudrate=baud, row_time_ms=row_ms, status_query=False,
                                   opener=loop, clock=fake.clock, sleep=fake.sleep)
    job = printer.encode(gappy_image(height=600))
    start = fake.now
    printer.print_job(job, 2)
    writes = loop.writes
    assert len(writes) > 10
    # rows per write, in order: setup, then the job's chunks and the cut per copy
    rows = [0] + ([c.rows for c in job.chunks] + [escpos.CUT_FEED_ROWS]) * 2
    sizes = [n for _, n in writes]
    assert sizes == [2] + ([len(c.data) for c in job.chunks] + [4]) * 2
    byte_time, row_time = 10 / baud, row_ms / 1000
    needed = 0.0
    for (t, n), r in zip(writes, rows):
        # every write starts only when the printer has received and printed all before it
        assert t - start >= needed - 1e-9
        needed += n * byte_time + r * row_time
    # and no slower than that: the last write goes out as soon as allowed
    last_t, last_n = writes[-1]
    assert last_t - start == pytest.approx(needed - last_n * byte_time - rows[-1] * row_time)
    # bytes vs elapsed: never more than one chunk ahead of the wire rate
    for i, (t, _) in enumerate(writes):
        assert sum(sizes[:i]) * byte_time <= t - start + 1e-9


def test_no_pacing_with_flow_control_or_on_a_network_printer():
    for flow, url in [("rtscts", "/dev/fake"), ("none", "socket://printer:9100")]:
        fake = FakeTime()
        printer = escpos.EscPosPrinter(url, baudrate=9600, flow_control=flow, status_query=False,
                                       opener=RecordingLoop(fake), clock=fake.clock, sleep=fake.sleep)
        printer.print_job(printer.encode(gappy_image()), 1)
        assert fake.now == 1000.0


def test_pacer_cost_model():
    p = Pacer(19200, 0.0025)
    assert p.cost(1920, 24) == pytest.approx(1.0 + 0.06)


# -- port errors ------------------------------------------------------------------

def test_missing_device_is_disconnected_and_retryable(tmp_path):
    printer = escpos.EscPosPrinter(str(tmp_path / "ttyUSB9"))
    with pytest.raises(DeviceDisconnected) as e:
        printer.status()
    assert e.value.retryable and "not connected" in str(e.value)


def test_bad_port_url_is_a_permanent_error():
    with pytest.raises(DeviceError) as e:
        escpos.EscPosPrinter("bogus://x").status()
    assert not e.value.retryable and "not usable" in str(e.value)


def test_silent_port_is_reported_disconnected():
    # loop:// echoes the query back: the answer 10 is not status-shaped, so it asks again, then gives up
    printer = escpos.EscPosPrinter("loop://", status_timeout=0.05)
    with pytest.raises(DeviceError, match="unreadable"):
        printer.status()


def test_no_answer_at_all(tmp_path):
    import os
    master, slave = os.openpty()  # nobody reads or answers on the other side
    try:
        printer = escpos.EscPosPrinter(os.ttyname(slave), status_timeout=0.1)
        with pytest.raises(DeviceDisconnected, match="does not answer"):
            printer.status()
    finally:
        os.close(master)
        os.close(slave)


def test_port_rejects_unknown_flow_control():
    with pytest.raises(ValueError):
        PrinterPort("loop://", flow_control="dtrdsr")


@settings(max_examples=60, deadline=None)
@given(cuts=st.lists(st.integers(1, 400), max_size=30), noise=st.binary(max_size=300))
def test_mechanism_parses_any_split_and_survives_noise(cuts, noise):
    img = gappy_image(height=120)
    data = escpos.encode_raster(img, band_height=16).to_bytes() + b"\x1dVB\x00"
    receipts = []
    mech = Mechanism(384, on_receipt=receipts.append)
    pos = 0
    for n in cuts:
        mech.feed_bytes(data[pos:pos + n])
        pos += n
    mech.feed_bytes(data[pos:])
    assert len(receipts) == 1 and receipts[0].tobytes() == img.tobytes()
    mech.feed_bytes(noise)  # garbage must never crash the simulator
    mech.flush()
