"""Mews PassportScanner commands end to end (issue 26 item 3): sim Mews (both generations) + the virtual reader.

The agent runs the real loop; the document reaches the platform through the outbox: today through
customers/update + identityDocuments/*, the seed through customers/update Passport.
"""

from __future__ import annotations

from agent.runtime.jobs import Job
import datetime as dt
import logging
import time

import pytest

from agent.panel import screens
from tests.agent_harness import AgentThread, final_state, states, wait_until, write_config

import sim.mews as sim_mews  # noqa: E402
from sim.reader import VirtualReader, specimens  # noqa: E402

NUMBER = "C01X00T47"


def holding(folder, marker: str) -> list[str]:
    return sorted(str(p) for p in folder.rglob("*") if p.is_file() and marker.encode() in p.read_bytes())


def run_command(tmp_path, generation, present, *, timeout=3.0, customer=None, while_running=lambda agent: None):
    """Start the agent with a reader, create a PassportScanner command, call ``present(reader)`` once the
    unit asks for the document; returns (sim, command, customer before, customer after, agent cfg)."""
    reader = VirtualReader("cr").start()
    try:
        with sim_mews.MewsSimulator(rate_limit=False, generation=generation) as sim:
            extra = f'\n[reader]\nport = "{reader.path}"\ntimeout = {timeout}\ngap = 0.1\n'
            with AgentThread(write_config(tmp_path, sim, log_types=(), extra=extra)) as agent:
                wait_until(lambda: agent.listener.connected)
                cid = sim.add_passport_scanner_command(customer_id=customer)
                customer_id = sim.command(cid)["Data"]["CustomerId"]
                before = dict(sim.enterprise.customers[customer_id])
                wait_until(lambda: "Processing" in states(sim, cid), what="the unit asks for the document")
                asked = screens.choose(agent.health, time.time())  # what the OLED shows meanwhile
                present(reader)
                wait_until(lambda: final_state(sim, cid), timeout=15)
                wait_until(lambda: agent.store.outbox.depth() == (0, 0), what="the outbox is empty")
                after = dict(sim.enterprise.customers[customer_id])
                while_running(agent)
                agent.asked = asked
                return sim, sim.command(cid), before, after, agent
    finally:
        reader.stop()


@pytest.mark.parametrize("generation", ["current", "seed"])
def test_a_passport_reaches_the_customer_and_the_command_ends_processed(tmp_path, generation, caplog):
    caplog.set_level(logging.DEBUG)
    zone = specimens.passport("MUELLER", "ANNA", number=NUMBER, country="D", birth=dt.date(1985, 3, 14),
                              expiry=dt.date(2031, 5, 20))
    def no_file_holds_it(agent):  # while the agent runs: closing the database would wipe it anyway
        wait_until(lambda: not holding(tmp_path / "state", NUMBER), timeout=10, what="no file holds the number")
    sim, cmd, before, after, agent = run_command(tmp_path, generation, lambda r: r.present(zone),
                                                 while_running=no_file_holds_it)
    assert cmd["State"] == "Processed", cmd["History"][-1]
    assert "passport read (DE)" in cmd["Notes"] and NUMBER not in cmd["Notes"]
    assert agent.asked.name == "busy_reader" and "present the document" in agent.asked.text
    assert " left" in agent.asked.text  # with the countdown to reader.timeout
    assert after["NationalityCode"] == "DE"
    if generation == "current":
        assert after["BirthDate"] == "1985-03-14"
        docs = [d for d in after["Documents"] if d["Type"] == "Passport"]
        assert [(d["Number"], d["ExpirationDate"]) for d in docs] == [(NUMBER, "2031-05-20")]
    else:
        assert after["BirthDateUtc"].startswith("1985-03-14")
        assert after["Passport"]["Number"] == NUMBER and after["Passport"]["ExpirationUtc"].startswith("2031-05-20")
        assert after["LastName"] == before["LastName"] and after.get("Phone") == before.get("Phone")  # none cleared
    assert NUMBER not in caplog.text and "MUELLER" not in caplog.text  # never in logs, at any level


def test_an_expired_document_sends_nothing_and_says_why(tmp_path):
    sim, cmd, before, after, _ = run_command(tmp_path, "current", lambda r: r.present(specimens.ICAO_TD3))
    assert cmd["State"] == "Error"
    assert "expired" in cmd["Notes"] and "nothing was sent" in cmd["Notes"]
    assert after.get("NationalityCode") == before.get("NationalityCode")
    assert after.get("BirthDate") == before.get("BirthDate") and after.get("Documents") == before.get("Documents")


def test_a_bad_read_is_discarded_and_the_guest_presents_the_document_again(tmp_path):
    zone = specimens.passport(number=NUMBER, country="FRA", expiry=dt.date(2030, 1, 1))
    lines = zone.split("\n")
    bad = lines[0] + "\n" + lines[1][:9] + str((int(lines[1][9]) + 1) % 10) + lines[1][10:]

    def present(reader):
        reader.present(bad)
        reader.present(zone)
    sim, cmd, _, after, _ = run_command(tmp_path, "current", present)
    assert cmd["State"] == "Processed", cmd["History"][-1]
    assert after["NationalityCode"] == "FR"


def test_no_document_within_the_timeout_and_a_scan_between_commands_does_not_count(tmp_path):
    zone = specimens.passport(number=NUMBER)
    reader = VirtualReader("cr").start()
    try:
        with sim_mews.MewsSimulator(rate_limit=False) as sim:
            extra = f'\n[reader]\nport = "{reader.path}"\ntimeout = 1.0\ngap = 0.1\n'
            with AgentThread(write_config(tmp_path, sim, log_types=(), extra=extra)) as agent:
                wait_until(lambda: agent.listener.connected)
                first = sim.add_passport_scanner_command()  # nobody comes: the reader's port is open afterwards
                wait_until(lambda: final_state(sim, first), timeout=15)
                assert sim.command(first)["Notes"] == "reader: no document was presented within 1 s"
                reader.present(zone)  # between commands: a guest fiddling with the reader
                time.sleep(0.2)
                second = sim.add_passport_scanner_command()
                wait_until(lambda: final_state(sim, second), timeout=15)
                assert (sim.command(second)["State"], sim.command(second)["Notes"]) == (
                    "Error", "reader: no document was presented within 1 s")
                # the platform has the final state; the outbox deletes its row once the answer is back
                wait_until(lambda: agent.store.outbox.depth() == (0, 0), what="the outbox empty")
    finally:
        reader.stop()


def test_an_unreadable_document_ends_in_error_with_a_note_for_reception(tmp_path):
    zone = specimens.passport(number=NUMBER)
    bad = zone[:-1] + str((int(zone[-1]) + 1) % 10)
    sim, cmd, _, _, _ = run_command(tmp_path, "current", lambda r: r.present(bad), timeout=1.0)
    assert cmd["State"] == "Error"
    assert "could not be read (1 try" in cmd["Notes"] and NUMBER not in cmd["Notes"]


def test_a_nationality_with_no_iso_code_is_not_sent_and_the_note_says_so(tmp_path):
    zone = specimens.passport("ERIKSSON", "ANNA", number=NUMBER, country="UNO", nationality="XXA",
                              expiry=dt.date(2030, 1, 1))
    sim, cmd, before, after, _ = run_command(tmp_path, "current", lambda r: r.present(zone))
    assert cmd["State"] == "Processed", cmd["History"][-1]
    assert "no ISO country" in cmd["Notes"] and "nationality has no ISO code and was not sent" in cmd["Notes"]
    assert after.get("NationalityCode") == before.get("NationalityCode")
    assert [d["Number"] for d in after["Documents"] if d["Number"] == NUMBER] == [NUMBER]


def test_a_command_without_a_usable_customer_is_rejected_before_the_guest_is_asked(tmp_path):
    from agent.devices.reader.config import ReaderConfig
    from agent.devices.reader.handler import ReaderHandler
    from agent.mews.models import Command, Device
    from agent.runtime.handler import CommandRejected, NullProgress

    with VirtualReader() as sim_reader:
        handler = ReaderHandler(ReaderConfig(port=sim_reader.path, timeout=1.0))
        try:
            for data in ({}, {"CustomerId": None}, {"CustomerId": "x y"}, {"CustomerId": 42}, "garbage"):
                command = Command(id="c1", state="Pending", created_utc="", data=data,
                                  device=Device(id="d", name="Scanner", type="PassportScanner"))
                progress = NullProgress()
                with pytest.raises(CommandRejected, match="CustomerId"):
                    handler.run(Job.of_command(command), progress)
                assert progress.activities == []  # nobody was asked for a document
        finally:
            handler.close()
