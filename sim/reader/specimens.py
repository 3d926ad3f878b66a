"""Documents for the virtual reader: the ICAO 9303 specimens as published, and made-up valid ones.

The specimens (ICAO Doc 9303, 8th edition 2021): Part 4 Appendix A (TD3 passport of
"UTOPIA", Anna Maria Eriksson), Part 5 Appendix A (TD1 identity card), Part 6
Appendix A (TD2). They expired in 2012, so they stand for an expired document;
``passport()`` / ``id_card()`` make valid ones with every check digit right.
"""

from __future__ import annotations

import datetime as dt
import json

from agent.documents.mrz import check_digit

ICAO_TD3 = ("P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\n"
            "L898902C36UTO7408122F1204159ZE184226B<<<<<10")
ICAO_TD1 = ("I<UTOD231458907<<<<<<<<<<<<<<<\n"
            "7408122F1204159UTO<<<<<<<<<<<6\n"
            "ERIKSSON<<ANNA<MARIA<<<<<<<<<<")
ICAO_TD2 = ("I<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<\n"
            "D231458907UTO7408122F1204159<<<<<<<6")


def _pad(text: str, n: int) -> str:
    return (text + "<" * n)[:n]


def _name(surname: str, given: str, n: int) -> str:
    return _pad(surname.upper().replace(" ", "<") + "<<" + given.upper().replace(" ", "<"), n)


def _yymmdd(day: dt.date) -> str:
    return day.strftime("%y%m%d")


def passport(surname: str = "MUELLER", given: str = "ANNA", *, number: str = "C01X00T47", country: str = "D",
             nationality: str | None = None, birth: dt.date = dt.date(1985, 3, 14), sex: str = "F",
             expiry: dt.date | None = None, personal: str = "") -> str:
    """A TD3 passport zone (two lines of 44) with every check digit right."""
    expiry = expiry or dt.date.today() + dt.timedelta(days=3 * 365)
    issuing = _pad(country, 3)
    nat = _pad(nationality or country, 3)
    number = _pad(number, 9)
    optional = _pad(personal, 14)
    opt_digit = str(check_digit(optional)) if personal else "<"
    line2 = (number + str(check_digit(number)) + nat + _yymmdd(birth) + str(check_digit(_yymmdd(birth))) + sex
             + _yymmdd(expiry) + str(check_digit(_yymmdd(expiry))) + optional + opt_digit)
    composite = line2[0:10] + line2[13:20] + line2[21:43]
    line2 += str(check_digit(composite))
    return "P<" + issuing + _name(surname, given, 39) + "\n" + line2


def id_card(surname: str = "MARTIN", given: str = "CLAIRE", *, number: str = "X4RTBPFW4", country: str = "FRA",
            birth: dt.date = dt.date(1990, 7, 1), sex: str = "F", expiry: dt.date | None = None) -> str:
    """A TD1 identity card zone (three lines of 30) with every check digit right."""
    expiry = expiry or dt.date.today() + dt.timedelta(days=5 * 365)
    number = _pad(number, 9)
    line1 = "ID" + _pad(country, 3) + number + str(check_digit(number)) + "<" * 15
    line2 = (_yymmdd(birth) + str(check_digit(_yymmdd(birth))) + sex + _yymmdd(expiry)
             + str(check_digit(_yymmdd(expiry))) + _pad(country, 3) + "<" * 11)
    line2 += str(check_digit(line1[5:30] + line2[0:7] + line2[8:15] + line2[18:29]))
    return line1 + "\n" + line2 + "\n" + _name(surname, given, 30)


def booking_qr(reservation_id: str, *, group_id: str = "", customer_id: str = "") -> str:
    """The booking code a confirmation e-mail carries (Mews' QrCodeData ids, as JSON)."""
    data = {"ReservationId": reservation_id}
    if group_id:
        data["GroupId"] = group_id
    if customer_id:
        data["CustomerId"] = customer_id
    return json.dumps(data, separators=(",", ":"))
