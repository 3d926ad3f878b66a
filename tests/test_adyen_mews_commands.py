"""Mews PaymentTerminal commands served on the kiosk's terminal (the Node @adyen/api-library simulator)."""

import uuid

import pytest

from agent.config import parse
from agent.mews.models import Command, Device
from agent.runtime.handler import CommandRejected, DeviceError, NullProgress
from agent.runtime.jobs import Job, OutcomeState
from hal.payment.adyen import AdyenTerminal, NexoKey
from tests.adyen_harness import KEY, POI_ID

DEVICE = "Kiosk terminal"


@pytest.fixture
def pki(adyen_pki):
    return adyen_pki


@pytest.fixture
def sim(adyen_sim):
    return adyen_sim


@pytest.fixture
def handler(sim, pki):
    from agent.devices.payment.handler import PaymentTerminalHandler

    terminal = AdyenTerminal(sim.address, POI_ID, NexoKey(KEY["identifier"], 1, KEY["passphrase"]), pki["ca"],
                             timeout=3.0, status_timeout=2.0, settle_time=3.0, poll=0.05)
    return PaymentTerminalHandler(terminal, device=DEVICE)


def command(value=25.0, currency="EUR", *, preauth=False, device=DEVICE, **data) -> Command:
    body = {"PaymentTerminalId": "kiosk-1", "AccountId": str(uuid.uuid4()), "CustomerId": str(uuid.uuid4()),
            "Amount": {"Currency": currency, "GrossValue": value, "NetValue": value, "TaxValues": [],
                       "Breakdown": {"Items": []}},
            "AccountData": {"Discriminator": "Customer", "Customer": {"FullName": "Gustav Frontdesk"}},
            "FullName": "Gustav Frontdesk", ("PreauthorizationId" if preauth else "PaymentId"): str(uuid.uuid4())}
    body.update(data)
    return Command(id=str(uuid.uuid4()), state="Pending", created_utc="2026-12-05T10:00:00Z",
                   device=Device(id=str(uuid.uuid4()), name=device, type="PaymentTerminal"), data=body)


def run(handler, cmd):
    return handler.run(Job.of_command(cmd), NullProgress())


def charged(sim, cmd):
    return sim.state()["charges"].get(f"M{cmd.id}", [])


def test_approved_payment_is_processed_with_what_staff_need(handler, sim):
    cmd = command(25.0)
    outcome = run(handler, cmd)
    assert outcome.state is OutcomeState.DONE
    assert "25.00 EUR" in outcome.note and "411111******1111" in outcome.note
    assert "Frontdesk" not in outcome.note and "CARDHOLDER" not in outcome.note
    assert [c["amount"] for c in charged(sim, cmd)] == [25]


def test_a_preauthorization_command_holds_the_amount(handler, sim):
    cmd = command(80.0, preauth=True)
    outcome = run(handler, cmd)
    assert outcome.state is OutcomeState.DONE and "pre-authorised" in outcome.note
    assert charged(sim, cmd)[0]["kind"] == "preauth"


@pytest.mark.parametrize("mode, words", [("decline", "declined"), ("busy", "busy"), ("timeout", "cancelled")])
def test_not_charged_ends_in_error_with_a_note_for_reception(handler, sim, mode, words):
    cmd = command(30.0)
    sim.set_mode(mode)
    with pytest.raises(DeviceError) as e:
        run(handler, cmd)
    assert not e.value.retryable
    assert words in str(e.value) and "nothing was charged" in str(e.value)
    assert charged(sim, cmd) == []


def test_a_lost_answer_is_settled_and_processed(handler, sim):
    cmd = command(31.0)
    sim.set_mode("lose")
    assert run(handler, cmd).state is OutcomeState.DONE
    assert len(charged(sim, cmd)) == 1


def test_a_part_approval_is_cancelled_on_the_terminal_and_ends_in_error(handler, sim):
    cmd = command(25.0)
    sim.set_mode("partial", partial_amount=10)
    with pytest.raises(DeviceError) as e:
        run(handler, cmd)
    assert "10.00 EUR" in str(e.value) and "25.00 EUR" in str(e.value) and "nothing was charged" in str(e.value)
    assert charged(sim, cmd)[0]["reversed"] is True


def test_a_command_run_again_after_a_crash_is_never_charged_twice(handler, sim):
    cmd = command(32.0)
    run(handler, cmd)
    again = run(handler, cmd)  # recovery retries an interrupted command once
    assert again.state is OutcomeState.DONE and "32.00 EUR" in again.note
    assert len(charged(sim, cmd)) == 1


def test_unusable_data_is_rejected_without_touching_the_terminal(handler, sim):
    before = sim.state()["requests"]
    for bad in ({"Amount": None}, {"Amount": {"Currency": "EUR", "GrossValue": -5}},
                {"Amount": {"Currency": "E", "GrossValue": 5}}, {"Amount": {"Currency": "EUR", "GrossValue": "x"}}):
        with pytest.raises(CommandRejected):
            run(handler, _with(command(), bad))
    assert sim.state()["requests"] == before


def _with(cmd, data):
    cmd.data.update(data)
    return cmd


def test_served_only_for_the_named_device(handler, tmp_path):
    from agent.devices.payment import handler as payment

    assert handler.serves(Job.of_command(command()))
    assert not handler.serves(Job.of_command(command(device="Front desk terminal")))
    cfg = parse('[mews]\nplatform_address = "http://x"\nclient_token = "c"\naccess_token = "a"\n'
                '[payment]\ndriver = "sim"\n')
    assert payment.from_config(cfg) is None  # no mews_device named: the unit serves no PaymentTerminal command


def test_outcome_unknown_tells_reception_what_to_check(sim, pki):
    from agent.devices.payment.handler import PaymentTerminalHandler

    # gives up on the answer before the guest finishes, and on the status at once
    impatient = AdyenTerminal(sim.address, POI_ID, NexoKey(KEY["identifier"], 1, KEY["passphrase"]), pki["ca"],
                              timeout=0.2, status_timeout=2.0, settle_time=0.0, poll=0.05)
    cmd = command(33.0)
    sim.set_mode("slow")
    with pytest.raises(DeviceError) as e:
        run(PaymentTerminalHandler(impatient, device=DEVICE), cmd)
    assert "outcome unknown" in str(e.value) and f"M{cmd.id}" in str(e.value) and not e.value.retryable


class CancelledAtTheDesk(NullProgress):
    """Progress whose command the receptionist cancels in Mews once the guest is at the terminal."""

    def activity(self, text, deadline=None):
        super().activity(text, deadline)
        if len(self.activities) > 2:
            from agent.runtime.handler import CommandCancelled

            raise CommandCancelled("cancelled in Mews")


@pytest.mark.parametrize("mode", ["slow", "late"])
def test_a_command_cancelled_in_mews_aborts_the_terminal_and_charges_nothing(handler, sim, mode):
    from agent.runtime.handler import CommandCancelled

    cmd = command(34.0)
    sim.set_mode(mode)  # late: the card was tapped before the abort arrived, so it approves anyway
    aborts = sim.state()["aborts"]
    with pytest.raises(CommandCancelled):
        handler.run(Job.of_command(cmd), CancelledAtTheDesk())
    assert sim.state()["aborts"] > aborts
    assert all(c["reversed"] for c in charged(sim, cmd))  # an approval that raced the cancel is reversed
