"""The Printer command handler end to end against the virtual printer."""

from __future__ import annotations

import base64
import io

import pytest
from PIL import Image

from agent.devices.printer.config import PrinterConfig
from agent.runtime.jobs import Job, JobKind, Source
from agent.devices.printer.handler import PrinterHandler, from_config, print_document
from agent.mews.models import Command
from agent.runtime.handler import CommandCancelled, CommandRejected, InvalidInput, NullProgress
from hal.errors import DeviceError
from hal.printer import raster
from sim.printer.sample import registration_card_pdf
from sim.printer.virtual import VirtualPrinter


def command(data: bytes | None = None, file_type="application/pdf", copies=1, cid="c0ffee00-0000-4000-8000-000000000001",
            **extra):
    d = {"CopyCount": copies, "FileType": file_type, "PrinterName": "Printer", "PrinterDriverName": "",
         "PrinterPortName": ""}
    if data is not None:
        d["FileData"] = base64.b64encode(data).decode()
    d.update(extra)
    return Command.from_json({"Id": cid, "State": "Pending", "CreatedUtc": "2024-05-10T12:00:00Z",
                              "Device": {"Id": "d1", "Name": "Front desk", "Type": "Printer"}, "Data": d})


@pytest.fixture
def vp():
    with VirtualPrinter() as v:
        yield v


@pytest.fixture
def cfg(vp):
    return PrinterConfig(port=vp.url, baudrate=921600, row_time_ms=0.0, device="Front desk")


@pytest.fixture(scope="module")
def card_pdf():
    return registration_card_pdf()


@pytest.fixture(scope="module")
def card(card_pdf):
    return raster.rasterize("application/pdf", card_pdf, 384)


def test_from_config_and_identity(cfg):
    class C:
        printer = None
    assert from_config(C()) is None
    C.printer = cfg
    h = from_config(C())
    assert isinstance(h, PrinterHandler)
    assert (h.device_types, h.name, h.retry_after_crash, h.device) == (("Printer",), "printer", True, "Front desk")


def test_pdf_command_prints_every_copy_with_progress(vp, cfg, card_pdf, card):
    h = PrinterHandler(cfg)
    progress = NullProgress()
    note = h.run(Job.of_command(command(card_pdf, copies=2)), progress).note
    mm = round(2 * card.height * 25.4 / 203)
    assert note == f"printed 2 copies, {mm} mm"
    assert progress.steps == [(0, 2, "printing copy 1 of 2"), (1, 2, "printing copy 2 of 2")]
    assert vp.wait_receipts(2)
    assert all(r.tobytes() == card.tobytes() for r in vp.receipts)


@pytest.mark.parametrize("mime,fmt", [("image/png", "PNG"), ("image/jpeg", "JPEG"), ("image/bmp", "BMP")])
def test_image_commands(vp, cfg, mime, fmt):
    src = Image.new("RGB", (200, 120), "white")
    src.paste((0, 0, 0), (20, 20, 180, 100))
    buf = io.BytesIO()
    src.save(buf, fmt)
    note = PrinterHandler(cfg).run(Job.of_command(command(buf.getvalue(), mime)), NullProgress()).note
    assert note.startswith("printed 1 copy, ")
    assert vp.wait_receipts(1)
    assert vp.receipts[0].tobytes() == raster.rasterize(mime, buf.getvalue(), 384).tobytes()


def test_escpos_injection_in_text_prints_as_text(vp, cfg):
    evil = "Guest: Eve\x1bp\x00\x19\xfa\x1dV\x00\x10\x14\x01\x00\x05 end\n"
    PrinterHandler(cfg).run(Job.of_command(command(evil.encode(), "text/plain")), NullProgress()).note
    assert vp.wait_receipts(1)
    assert vp.drawer_kicks == 0 and vp.mechanism.cuts == 1 and vp.unknown_commands == []
    expected = raster.rasterize("text/plain", "Guest: Evep\u00faV end".encode(), 384)
    assert vp.receipts[0].tobytes() == expected.tobytes()


@pytest.mark.parametrize("data,kw,error,match", [
    (None, {"FileData": "not base64!!"}, InvalidInput, "base64"),
    (None, {}, InvalidInput, "FileData"),
    (b"x", {"file_type": "image/tiff"}, InvalidInput, "unsupported file type image/tiff; supported: "),
    (b"x", {"file_type": ""}, CommandRejected, "FileType"),
    (b"%PDF-1.4 broken", {}, InvalidInput, "damaged"),
    (b"x", {"copies": 0}, CommandRejected, "CopyCount"),
    (b"x", {"copies": 1.5}, CommandRejected, "CopyCount"),
    (b"x", {"copies": "2"}, CommandRejected, "CopyCount"),
    (b"x", {"copies": 500}, CommandRejected, "CopyCount"),
])
def test_bad_commands_are_rejected_without_printing(vp, cfg, data, kw, error, match):
    with pytest.raises(error, match=match):
        PrinterHandler(cfg).run(Job.of_command(command(data, **kw)), NullProgress()).note
    assert vp.bytes_received == 0


def test_paper_out_mid_job_waits_then_prints_only_the_missing_copies(vp, cfg, card_pdf, card):
    h = PrinterHandler(cfg)
    cmd = command(card_pdf, copies=3)
    vp.set_state(paper_rows=card.height + 100)  # copy 2 runs out
    first = NullProgress()
    with pytest.raises(DeviceError) as e:
        h.run(Job.of_command(cmd), first).note
    assert e.value.retryable and "paper" in str(e.value)
    assert len(vp.receipts) == 1 and first.steps[-1][0] == 1
    with pytest.raises(DeviceError, match="paper"):  # still out: checked before printing anything
        h.run(Job.of_command(cmd), NullProgress()).note
    vp.set_state(paper_out=False, paper_rows=None)  # new roll; the stub of copy 2 is torn off
    again = NullProgress()
    note = h.run(Job.of_command(cmd), again).note
    assert note.startswith("printed 3 copies")
    assert [s[0] for s in again.steps] == [1, 2]  # resumed at copy 2
    assert len(vp.receipts) == 3 and vp.mechanism.torn_off == 1
    assert all(r.tobytes() == card.tobytes() for r in vp.receipts)


def test_cancel_between_copies_stops_printing(vp, cfg, card_pdf):
    class Cancelling(NullProgress):
        def step(self, done, total, activity=""):
            super().step(done, total, activity)
            if done == 1:
                raise CommandCancelled("cancelled")
    with pytest.raises(CommandCancelled):
        PrinterHandler(cfg).run(Job.of_command(command(card_pdf, copies=3)), Cancelling()).note
    assert vp.wait_receipts(1) and len(vp.receipts) == 1


def test_reprint_last(vp, cfg, card_pdf, card):
    h = PrinterHandler(cfg)
    assert JobKind.REPRINT_LAST in h.kinds  # the capability, discovered through the protocol
    with pytest.raises(DeviceError, match="nothing printed"):
        h.reprint_last()
    h.run(Job.of_command(command(card_pdf)), NullProgress()).note
    assert h.run(Job(kind=JobKind.REPRINT_LAST, data={}, source=Source.PANEL), NullProgress()).note == "reprinted"
    assert vp.wait_receipts(2)
    assert vp.receipts[1].tobytes() == card.tobytes()
    with pytest.raises(DeviceError, match="nothing printed"):
        PrinterHandler(cfg).reprint_last()  # the last document lives in its handler, not in a global


def test_print_document_for_pos_receipts(vp, cfg):
    text = "Coffee        2.50\nCake €        3.90\n"
    assert print_document(cfg, "text/plain", text.encode()) == f"printed 1 copy, {round(2 * 30 * 25.4 / 203)} mm"
    assert vp.wait_receipts(1)
    assert vp.receipts[0].tobytes() == raster.rasterize("text/plain", text.encode(), 384).tobytes()
    with pytest.raises(InvalidInput):
        print_document(cfg, "text/csv", b"a,b")


def test_disconnected_printer_is_a_retryable_error(tmp_path):
    cfg = PrinterConfig(port=str(tmp_path / "gone"))
    with pytest.raises(DeviceError) as e:
        PrinterHandler(cfg).run(Job.of_command(command(b"hello", "text/plain")), NullProgress()).note
    assert e.value.retryable
