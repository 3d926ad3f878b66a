"""MRZ parsing (issue 26 item 2): the ICAO 9303 specimens, made-up valid zones and hand-made invalid ones.

Specimens as published in ICAO Doc 9303 (8th ed., 2021): Part 4 Appendix A (TD3, "UTOPIA"
passport of Anna Maria Eriksson), Part 5 Appendix A (TD1), Part 6 Appendix A (TD2).
"""

from __future__ import annotations

import datetime as dt

import pytest

from agent.documents import mrz
from agent.documents.countries import alpha2
from sim.reader import specimens

TODAY = dt.date(2026, 12, 5)


def swap(zone: str, line: int, pos: int, ch: str) -> str:
    lines = zone.split("\n")
    lines[line] = lines[line][:pos] + ch + lines[line][pos + 1:]
    return "\n".join(lines)


def bump(zone: str, line: int, pos: int) -> str:
    """The zone with the digit at (line, pos) changed by one: a check digit that disagrees."""
    digit = zone.split("\n")[line][pos]
    return swap(zone, line, pos, str((int(digit) + 1) % 10))


@pytest.mark.parametrize("zone, fmt, kind", [(specimens.ICAO_TD3, "TD3", "Passport"),
                                             (specimens.ICAO_TD1, "TD1", "IdentityCard"),
                                             (specimens.ICAO_TD2, "TD2", "IdentityCard")])
def test_the_icao_specimens_read_as_published(zone, fmt, kind):
    doc = mrz.parse(zone, TODAY)
    assert (doc.format, doc.type, doc.surname, doc.given_names) == (fmt, kind, "ERIKSSON", "ANNA MARIA")
    assert doc.number == ("L898902C3" if fmt == "TD3" else "D23145890")
    assert (doc.birth_date, doc.expiry, doc.sex) == (dt.date(1974, 8, 12), dt.date(2012, 4, 15), "F")
    assert doc.issuing_code == doc.nationality_code == "UTO"
    assert doc.nationality is None and doc.issuing_country is None  # Utopia has no alpha-2 form
    assert doc.expired(TODAY)  # 2012, not 2112: an expired document stays expired
    if fmt == "TD3":
        assert doc.optional == "ZE184226B"


def test_a_zone_arrives_with_cr_lf_blanks_and_lower_case():
    zone = "  " + specimens.ICAO_TD3.lower().replace("\n", "\r\n") + "\r\n"
    assert mrz.parse(zone, TODAY).number == "L898902C3"


def test_a_german_passport_names_d_as_de_and_keeps_the_transliteration():
    doc = mrz.parse(specimens.passport("MUELLER", "ANNA LENA", country="D", expiry=dt.date(2030, 1, 31)), TODAY)
    assert (doc.issuing_code, doc.issuing_country, doc.nationality) == ("D", "DE", "DE")
    assert (doc.surname, doc.given_names, doc.expiry) == ("MUELLER", "ANNA LENA", dt.date(2030, 1, 31))
    assert not doc.expired(TODAY)


@pytest.mark.parametrize("code, expected", [("D", "DE"), ("DEU", "DE"), ("GBR", "GB"), ("GBD", "GB"),
                                            ("GBN", "GB"), ("GBO", "GB"), ("GBS", "GB"), ("GBP", "GB"),
                                            ("CZE", "CZ"), ("FRA", "FR"), ("UNO", None), ("UNA", None),
                                            ("UNK", None), ("XXA", None), ("XXB", None), ("XXC", None),
                                            ("XOM", None), ("UTO", None)])
def test_icao_codes_become_alpha2_or_nothing(code, expected):
    assert alpha2(code) == expected


def test_an_id_card_with_a_number_longer_than_nine_characters():
    # TD1 with a 12-character number: '<' in the check digit place, the rest + its digit in the optional field
    number = "D23145890123"
    head, tail = number[:9], number[9:]
    digit = str(mrz.check_digit(number))
    line1 = ("I<UTO" + head + "<" + tail + digit + "<" * 11)
    line2 = "7408122F1204159UTO<<<<<<<<<<<"
    line2 += str(mrz.check_digit(line1[5:30] + line2[0:7] + line2[8:15] + line2[18:29]))
    doc = mrz.parse("\n".join([line1, line2, "ERIKSSON<<ANNA<MARIA<<<<<<<<<<"]), TODAY)
    assert doc.number == number


TD3_DIGITS = {"document number": (1, 9), "birth date": (1, 19), "expiry date": (1, 27),
              "personal number": (1, 42), "composite": (1, 43)}
TD1_DIGITS = {"document number": (0, 14), "birth date": (1, 6), "expiry date": (1, 14), "composite": (1, 29)}
TD2_DIGITS = {"document number": (1, 9), "birth date": (1, 19), "expiry date": (1, 27), "composite": (1, 35)}


@pytest.mark.parametrize("zone, line, pos", [(specimens.ICAO_TD3, *p) for p in TD3_DIGITS.values()]
                         + [(specimens.ICAO_TD1, *p) for p in TD1_DIGITS.values()]
                         + [(specimens.ICAO_TD2, *p) for p in TD2_DIGITS.values()],
                         ids=[f"TD3 {k}" for k in TD3_DIGITS] + [f"TD1 {k}" for k in TD1_DIGITS]
                         + [f"TD2 {k}" for k in TD2_DIGITS])
def test_each_wrong_check_digit_is_unreadable(zone, line, pos):
    with pytest.raises(mrz.Unreadable, match="check digit"):
        mrz.parse(bump(zone, line, pos), TODAY)


@pytest.mark.parametrize("zone, line, pos, ch", [
    (specimens.ICAO_TD3, 1, 1, "7"),   # a data character changed: its check digit disagrees
    (specimens.ICAO_TD3, 1, 16, "4"),  # birth date 740812 -> 740412 (composite and birth digit disagree)
    (specimens.ICAO_TD1, 0, 6, "3"),
    (specimens.ICAO_TD2, 1, 24, "5"),
])
def test_a_changed_data_character_is_caught_by_its_check_digit(zone, line, pos, ch):
    with pytest.raises(mrz.Unreadable, match="check digit"):
        mrz.parse(swap(zone, line, pos, ch), TODAY)


def test_ocr_confusions_are_unreadable_not_guessed():
    # 'O' for '0' in a numeric field: not a date
    with pytest.raises(mrz.Unreadable, match="birth date is not numeric|check digit"):
        mrz.parse(swap(specimens.ICAO_TD3, 1, 17, "O").replace("\n", "\n"), TODAY)
    # '0' for 'O' in the name is harmless to the digits but 'O' for '0' in the number is not
    zone = specimens.passport(number="C01X00T47")
    with pytest.raises(mrz.Unreadable, match="check digit"):
        mrz.parse(swap(zone, 1, 2, "O"), TODAY)
    # '8' for 'B' in the personal number
    with pytest.raises(mrz.Unreadable, match="check digit"):
        mrz.parse(swap(specimens.ICAO_TD3, 1, 36, "8"), TODAY)


@pytest.mark.parametrize("text", [
    "", "\r\r", specimens.ICAO_TD3.split("\n")[0],  # one line
    specimens.ICAO_TD3[:-1],  # second line one short
    specimens.ICAO_TD1.rsplit("\n", 1)[0],  # TD1 without its name line
    specimens.ICAO_TD3.replace("<", "«", 1),  # a character no zone has
    specimens.ICAO_TD3 + "\n" + "<" * 44,  # a third line
])
def test_truncated_or_foreign_text_is_unreadable(text):
    with pytest.raises(mrz.Unreadable):
        mrz.parse(text, TODAY)


def test_two_digit_years_birth_in_the_past_expiry_nearest_today():
    today = dt.date(2026, 12, 5)
    assert mrz.resolve_birth("251201", today) == dt.date(2025, 12, 1)  # a baby's passport
    assert mrz.resolve_birth("270101", today) == dt.date(1927, 1, 1)  # tomorrow's birthday is a century ago
    assert mrz.resolve_birth("000229", today) == dt.date(2000, 2, 29)
    assert mrz.resolve_expiry("120415", today) == dt.date(2012, 4, 15)  # expired stays expired
    assert mrz.resolve_expiry("360101", today) == dt.date(2036, 1, 1)
    assert mrz.resolve_expiry("751231", today) == dt.date(2075, 12, 31)  # 49 years ahead beats 51 back
    assert mrz.resolve_expiry("781231", today) == dt.date(1978, 12, 31)
    with pytest.raises(mrz.Unreadable):
        mrz.resolve_expiry("991332", today)


def test_the_document_shows_no_personal_data_in_repr_or_logs():
    doc = mrz.parse(specimens.passport("MUELLER", "ANNA", number="C01X00T47"), TODAY)
    text = repr(doc) + str(doc) + f"{doc}"
    assert "C01X00T47" not in text and "MUELLER" not in text and "ANNA" not in text
    assert doc.masked_number == "••••••T47"


def test_unreadable_never_carries_the_zone():
    zone = bump(specimens.passport("MUELLER", "ANNA", number="C01X00T47"), 1, 9)
    with pytest.raises(mrz.Unreadable) as e:
        mrz.parse(zone, TODAY)
    assert "C01X00T47" not in str(e.value) and "MUELLER" not in str(e.value)


def test_any_bytes_from_a_reader_are_a_document_or_unreadable_never_a_crash():
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from agent.documents.booking import parse_booking_code
    from hal.reader.scans import ScanAssembler

    lines = st.sampled_from(specimens.ICAO_TD3.split("\n") + specimens.ICAO_TD1.split("\n") + ["", "<<<", "P<"])

    @settings(max_examples=100, deadline=None)
    @given(noise=st.binary(max_size=200), parts=st.lists(lines, max_size=4))
    def check(noise, parts):
        scans = ScanAssembler("auto", 0.1)
        texts = scans.feed(noise + "\r".join(parts).encode() + b"\r", 0.0) + scans.tick(1.0)
        for text in texts:
            parse_booking_code(text)
            try:
                mrz.parse(text, TODAY)
            except mrz.Unreadable:
                pass

    check()
