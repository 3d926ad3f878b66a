"""The ENQ/ACK/NAK link against a scripted encoder on a real pty, byte for byte."""

import os
import socket
import time

import pytest

from hal.encoder import (EncoderNotReady, GarbledReply, KeyEncoder, ReplyTimeout, RequestNotAccepted)
from hal.encoder.frame import ACK, ENQ, NAK, encode_frame
from hal.errors import DeviceDisconnected, InvalidInput
from tests.encoder_harness import ScriptedEncoder

# CO 0 101 with its hand-computed LRC (see test_encoder_frame.py)
CO_101 = bytes([0x02, 0xB3, 0x43, 0x4F, 0xB3, 0x30, 0xB3, 0x31, 0x30, 0x31, 0xB3, 0x03, 0x0F])


@pytest.fixture
def peer():
    peers = []

    def make(script):
        p = ScriptedEncoder(script)
        peers.append(p)
        return p

    yield make
    for p in peers:
        p.close()


def encoder(url, **kw):
    kw.setdefault("reply_timeout", 2.0)
    kw.setdefault("ack_timeout", 0.3)
    return KeyEncoder(url, **kw)


def co_ok(p, frame=CO_101):
    p.expect("frame", frame)
    p.send([ACK])
    p.send(encode_frame(["CO", "0", "101"]))
    p.expect("control", ACK)


def test_happy_path_bytes_on_the_wire(peer):
    def script(p):
        p.expect("control", ENQ)
        p.send([ACK])
        co_ok(p)
        p.quiet()
    p = peer(script)
    with encoder(p.path) as enc:
        enc.check_out("101")
    p.join()


def test_nak_to_enq_then_ack(peer):
    def script(p):
        p.expect("control", ENQ)
        p.send([NAK])
        p.expect("control", ENQ)
        p.send([ACK])
        co_ok(p)
    p = peer(script)
    with encoder(p.path) as enc:
        enc.check_out("101")
    p.join()


def test_nak_to_every_enq_is_retryable_not_ready(peer):
    def script(p):
        for _ in range(3):
            p.expect("control", ENQ)
            p.send([NAK])
        p.quiet()
    p = peer(script)
    with encoder(p.path) as enc, pytest.raises(EncoderNotReady) as e:
        enc.check_out("101")
    assert e.value.retryable
    p.join()


def test_frame_nak_resends_same_frame(peer):
    def script(p):
        p.expect("control", ENQ)
        p.send([ACK])
        for _ in range(2):
            p.expect("frame", CO_101)
            p.send([NAK])
        co_ok(p)
    p = peer(script)
    with encoder(p.path) as enc:
        enc.check_out("101")
    p.join()


def test_frame_nak_three_times_gives_up(peer):
    def script(p):
        p.expect("control", ENQ)
        p.send([ACK])
        for _ in range(3):
            p.expect("frame", CO_101)
            p.send([NAK])
        p.quiet()
    p = peer(script)
    with encoder(p.path) as enc, pytest.raises(RequestNotAccepted) as e:
        enc.check_out("101")
    assert e.value.retryable
    p.join()


def test_corrupted_reply_lrc_is_nakked_and_resent(peer):
    good = encode_frame(["CO", "0", "101"])
    bad = good[:-1] + bytes([good[-1] ^ 0x40])

    def script(p):
        p.expect("control", ENQ)
        p.send([ACK])
        p.expect("frame", CO_101)
        p.send([ACK])
        p.send(bad)
        p.expect("control", NAK)
        p.send(good)
        p.expect("control", ACK)
    p = peer(script)
    with encoder(p.path) as enc:
        enc.check_out("101")
    p.join()


def test_reply_corrupted_three_times_is_garbled_and_final(peer):
    good = encode_frame(["CO", "0", "101"])
    bad = good[:4] + b"X" + good[5:]

    def script(p):
        p.expect("control", ENQ)
        p.send([ACK])
        p.expect("frame", CO_101)
        p.send([ACK])
        p.send(bad)
        for _ in range(2):
            p.expect("control", NAK)
            p.send(bad)
        p.quiet()
    p = peer(script)
    with encoder(p.path) as enc, pytest.raises(GarbledReply) as e:
        enc.check_out("101")
    assert not e.value.retryable
    p.join()


def test_reply_with_lrc_0x0d_is_taken_unchecked(peer):
    def script(p):
        p.expect("control", ENQ)
        p.send([ACK])
        p.expect("frame", CO_101)
        p.send([ACK])
        p.send(encode_frame(["CO", "0", "101"])[:-1] + b"\x0d")
        p.expect("control", ACK)
    p = peer(script)
    with encoder(p.path) as enc:
        enc.check_out("101")
    p.join()


def test_reply_without_ack_is_taken(peer):
    def script(p):
        p.expect("control", ENQ)
        p.send([ACK])
        p.expect("frame", CO_101)
        p.send(encode_frame(["CO", "0", "101"]))
        p.expect("control", ACK)
    p = peer(script)
    with encoder(p.path) as enc:
        enc.check_out("101")
    p.join()


def test_line_noise_before_reply_is_ignored(peer):
    def script(p):
        p.expect("control", ENQ)
        p.send([ACK])
        p.expect("frame", CO_101)
        p.send([ACK])
        p.send(b"\x00\xff\x11")
        p.send(encode_frame(["CO", "0", "101"]))
        p.expect("control", ACK)
    p = peer(script)
    with encoder(p.path) as enc:
        enc.check_out("101")
    p.join()


def test_reply_cut_short_is_nakked_and_resent(peer):
    good = encode_frame(["CO", "0", "101"])

    def script(p):
        p.expect("control", ENQ)
        p.send([ACK])
        p.expect("frame", CO_101)
        p.send([ACK])
        p.send(good[:6])  # then the line goes quiet
        p.expect("control", NAK)
        p.send(good)
        p.expect("control", ACK)
    p = peer(script)
    with encoder(p.path) as enc:
        enc.check_out("101")
    p.join()


def test_no_reply_times_out_retryable(peer):
    def script(p):
        p.expect("control", ENQ)
        p.send([ACK])
        p.expect("frame", CO_101)
        p.send([ACK])
        p.quiet(1.0)
    p = peer(script)
    with encoder(p.path, reply_timeout=0.4) as enc, pytest.raises(ReplyTimeout) as e:
        enc.check_out("101")
    assert e.value.retryable
    assert "0.4 s" in str(e.value)
    p.join()


def test_silent_encoder_is_disconnected_after_three_enq(peer):
    def script(p):
        for _ in range(3):
            p.expect("control", ENQ)
        p.quiet()
    p = peer(script)
    with encoder(p.path) as enc, pytest.raises(DeviceDisconnected) as e:
        enc.check_out("101")
    assert e.value.retryable
    p.join()


def test_no_ack_to_frame_is_not_resent(peer):
    def script(p):
        p.expect("control", ENQ)
        p.send([ACK])
        p.expect("frame", CO_101)
        p.quiet(0.6)  # a resend could run the command twice
    p = peer(script)
    with encoder(p.path) as enc, pytest.raises(DeviceDisconnected):
        enc.check_out("101")
    p.join()


def test_port_vanishing_mid_wait_is_disconnected_not_a_hang(peer):
    def script(p):
        p.expect("control", ENQ)
        p.send([ACK])
        p.expect("frame", CO_101)
        p.send([ACK])
        time.sleep(0.2)
        os.close(p.master)  # the USB adapter is pulled
        os.close(p.slave)
    p = peer(script)
    enc = encoder(p.path, reply_timeout=30.0)
    with pytest.raises(DeviceDisconnected):
        enc.check_out("101")
    enc.close()
    p.join()


def test_missing_device_and_refused_socket_are_disconnected(tmp_path):
    with pytest.raises(DeviceDisconnected, match="not connected"):
        encoder(str(tmp_path / "ttyUSB9")).check_out("101")
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    with pytest.raises(DeviceDisconnected):
        encoder(f"socket://127.0.0.1:{port}").check_out("101")


def test_bad_field_is_refused_before_any_byte_is_sent(peer):
    p = peer(lambda p: p.quiet(0.5))
    with encoder(p.path) as enc, pytest.raises(InvalidInput):
        enc.check_out("10\x031")
    p.join()
