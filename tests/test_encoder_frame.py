"""Industry Standard frames: hand-computed vectors, field validation, round trip, corruption detection."""

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from hal.encoder.frame import FrameError, FrameReader, check_fields, decode_frame, encode_frame, lrc
from hal.errors import InvalidInput

# Vectors computed by hand: LRC = XOR of the bytes after STX through ETX.
# CO 0 101: B3^43^4F^B3^30^B3^31^30^31^B3^03 = 0F
CO_101 = bytes([0x02, 0xB3, 0x43, 0x4F, 0xB3, 0x30, 0xB3, 0x31, 0x30, 0x31, 0xB3, 0x03, 0x0F])
# LT é (Latin-1 0xE9): B3^4C^54^B3^E9^B3^03 = 41
LT_E_ACUTE = bytes([0x02, 0xB3, 0x4C, 0x54, 0xB3, 0xE9, 0xB3, 0x03, 0x41])
# EP: B3^45^50^B3^03 = 16
EP = bytes([0x02, 0xB3, 0x45, 0x50, 0xB3, 0x03, 0x16])
# one empty field: B3^B3^03 = 03
EMPTY_FIELD = bytes([0x02, 0xB3, 0xB3, 0x03, 0x03])


@pytest.mark.parametrize("fields, frame", [
    (["CO", "0", "101"], CO_101),
    (["LT", "é"], LT_E_ACUTE),
    (["EP"], EP),
    ([""], EMPTY_FIELD),
])
def test_vectors_encode_and_decode(fields, frame):
    assert encode_frame(fields) == frame
    assert decode_frame(frame) == fields


def test_lrc_is_xor():
    assert lrc(bytes([0xB3, 0x45, 0x50, 0xB3, 0x03])) == 0x16
    assert lrc(b"") == 0


def test_lrc_0x0d_means_do_not_check():
    assert decode_frame(EP[:-1] + bytes([0x0D])) == ["EP"]


def test_wrong_lrc_rejected():
    with pytest.raises(FrameError, match="bad LRC"):
        decode_frame(EP[:-1] + bytes([0x17]))


@pytest.mark.parametrize("bad", [
    "a\xb3b",  # the separator byte (superscript three in Latin-1)
    "\x02", "\x03", "x\x05", "\x06", "\x15", "line\nbreak", "\x7f", "\x85",  # C0, DEL, C1
    "€", "山田",  # not Latin-1
])
def test_forbidden_fields_rejected_before_sending(bad):
    with pytest.raises(InvalidInput):
        encode_frame(["CN", bad])


def test_non_text_and_empty_rejected():
    with pytest.raises(InvalidInput):
        encode_frame(["CN", 5])
    with pytest.raises(InvalidInput):
        encode_frame([])


@pytest.mark.parametrize("raw", [
    b"", bytes([0x02, 0xB3, 0x03]),  # too short
    EP[1:] + b"\x00",  # no STX
    bytes([0x02, 0xB3, 0x45, 0x03, 0x50, 0xB3, 0x03, 0x16]),  # ETX inside
    bytes([0x02, 0x45, 0x50, 0x03]) + bytes([0x45 ^ 0x50 ^ 0x03]),  # no separators
])
def test_malformed_frames_rejected(raw):
    with pytest.raises(FrameError):
        decode_frame(raw)


def test_reader_splits_stream_with_noise_and_fragments():
    reader = FrameReader()
    stream = b"\x06\xff" + CO_101 + b"\x15" + EP
    events = []
    for i in range(0, len(stream), 3):
        events += list(reader.feed(stream[i:i + 3]))
    assert events == [("control", 0x06), ("control", 0xFF), ("frame", CO_101), ("control", 0x15), ("frame", EP)]
    assert not reader.in_frame


def test_reader_restarts_on_new_stx():
    reader = FrameReader()
    events = list(reader.feed(CO_101[:5] + EP))
    assert events == [("frame", CO_101[:5]), ("frame", EP)]


field_text = st.text(alphabet=st.characters(max_codepoint=0x2FF), max_size=30)


@settings(deadline=None)  # no timing in tests: a loaded CI box must not flake
@given(st.lists(field_text, min_size=1, max_size=17))
def test_valid_fields_round_trip_and_invalid_ones_are_refused(fields):
    try:
        check_fields(fields)
    except InvalidInput:
        bad = [f for f in fields if any(ord(c) > 0xFF or ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F or c == "\xb3"
                                        for c in f)]
        assert bad, "a clean field list was refused"
        return
    assert decode_frame(encode_frame(fields)) == fields


@settings(deadline=None)  # no timing in tests: a loaded CI box must not flake
@given(st.lists(st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0xFF).filter(
    lambda c: not 0x7F <= ord(c) <= 0x9F and c != "\xb3"), max_size=12), min_size=1, max_size=8),
    st.data())
def test_any_corrupted_byte_is_detected(fields, data):
    frame = encode_frame(fields)
    i = data.draw(st.integers(0, len(frame) - 1), label="index")
    new = data.draw(st.integers(0, 255).filter(lambda b: b != frame[i]), label="byte")
    # The protocol's own escape: an LRC byte of 0x0D is never checked.
    assume(frame[-1] != 0x0D and not (i == len(frame) - 1 and new == 0x0D))
    corrupted = frame[:i] + bytes([new]) + frame[i + 1:]
    with pytest.raises(FrameError):
        decode_frame(corrupted)
