"""`kiosk-agent sim reader`: the pty path on the first stdout line, stdin lines present documents (item 6)."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

from agent.documents.booking import parse_booking_code
from agent.documents.mrz import parse
from hal.reader import open_reader


def test_sim_reader_presents_a_passport_and_a_qr_code_on_its_pty():
    proc = subprocess.Popen([sys.executable, "-m", "agent", "sim", "reader", "--framing", "stx"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        path = proc.stdout.readline().strip()
        assert path.startswith("/dev/"), path
        reader = open_reader(path, framing="stx")
        try:
            reader.discard()
            proc.stdin.write("passport SMITH JOHN\nqr 3b6ad0d2-5d1d-4b3e-9d1f-0c1f5a0f2b11\n")
            proc.stdin.flush()
            doc = parse(reader.read(time.monotonic() + 5))
            assert (doc.surname, doc.given_names) == ("SMITH", "JOHN")
            code = parse_booking_code(reader.read(time.monotonic() + 5))
            assert code.reservation_id == "3b6ad0d2-5d1d-4b3e-9d1f-0c1f5a0f2b11"
        finally:
            reader.close()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
