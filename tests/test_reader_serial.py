"""The document reader's serial side over a pty (issue 26 item 1): both framings, noise, earlier scans dropped."""

from __future__ import annotations

import time

import pytest

from hal.errors import DeviceDisconnected
from hal.reader import ScanAssembler, open_reader
from sim.reader import VirtualReader, specimens

TD3 = specimens.ICAO_TD3
QR = specimens.booking_qr("3b6ad0d2-5d1d-4b3e-9d1f-0c1f5a0f2b11")


def read_one(reader, seconds=3.0):
    return reader.read(time.monotonic() + seconds)


@pytest.mark.parametrize("framing", ["cr", "stx"])
@pytest.mark.parametrize("config_framing", ["auto", "explicit"])
def test_a_zone_arrives_whole_in_either_framing(framing, config_framing):
    with VirtualReader(framing) as sim:
        reader = open_reader(sim.path, framing="auto" if config_framing == "auto" else framing, gap=0.2)
        try:
            reader.discard()
            sim.present(TD3)
            sim.present(specimens.ICAO_TD1)
            assert read_one(reader) == TD3  # the first zone ends at its shape, not merged with the next
            assert read_one(reader) == specimens.ICAO_TD1
        finally:
            reader.close()


def test_a_qr_code_ends_after_the_gap_and_noise_between_frames_is_ignored():
    with VirtualReader("stx") as sim:
        reader = open_reader(sim.path, framing="stx", gap=0.1)
        try:
            reader.discard()
            sim.send_raw(b"\x00garbage\r\n")
            sim.present(QR)
            assert read_one(reader) == QR
        finally:
            reader.close()
    with VirtualReader("cr") as sim:
        reader = open_reader(sim.path, framing="cr", gap=0.1)
        try:
            reader.discard()
            sim.send_raw(QR.encode())  # some readers send a code with no terminator at all
            assert read_one(reader) == QR
        finally:
            reader.close()


def test_a_scan_made_before_the_request_is_discarded():
    with VirtualReader("cr") as sim:
        reader = open_reader(sim.path, gap=0.1)
        try:
            reader.discard()
            sim.present(TD3)
            time.sleep(0.1)  # the scan is in the port's buffer when the request starts
            reader.discard()
            assert reader.read(time.monotonic() + 0.4) is None
        finally:
            reader.close()


def test_garbage_cannot_grow_a_scan_without_bound():
    asm = ScanAssembler("stx", gap=0.1)
    asm.feed(b"\x02" + b"A" * 100_000, 0.0)
    assert len(asm._buf) <= 4096
    assert asm.feed(b"\x03", 0.0) != []  # resynchronised: the frame ends
    assert asm.tick(10.0) == []


def test_an_absent_reader_is_a_device_error_naming_the_key(tmp_path):
    reader = open_reader(str(tmp_path / "ttyACM9"))
    with pytest.raises(DeviceDisconnected, match="reader.port"):
        reader.discard()
