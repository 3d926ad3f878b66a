"""Kiosk check-in takes a pre-authorisation for incidentals on the Adyen terminal when configured."""

import pytest

from agent.kiosk.checkin import CheckIn
from hal.payment.adyen import AdyenTerminal, NexoKey
from tests.adyen_harness import KEY, POI_ID, AdyenSim, node_modules
from tests.kiosk_harness import Rig, run


@pytest.fixture
def pki(adyen_pki):
    return adyen_pki


@pytest.fixture
def adyen(adyen_sim):
    return adyen_sim


def rig_with(tmp_path, adyen, pki, extra):
    rig = Rig(tmp_path, kiosk_extra=extra)
    rig.ctx.terminal = AdyenTerminal(adyen.address, POI_ID, NexoKey(KEY["identifier"], 1, KEY["passphrase"]),
                                     pki["ca"], timeout=3.0, status_timeout=2.0, settle_time=3.0, poll=0.05)
    return rig


def nights(rig, stay):
    return (rig.ctx.local(stay.end_utc).date() - rig.ctx.local(stay.start_utc).date()).days


def test_per_night_preauthorisation_is_held_once_and_recorded_for_staff(tmp_path, adyen, pki):
    rig = rig_with(tmp_path, adyen, pki, 'preauthorization = "per_night"\npreauthorization_amount = 50.0')
    try:
        s = CheckIn(rig.ctx)
        run(s, "find", number="1001", last_name="Walker")
        screen = run(s, "confirm")
        assert screen["screen"] == "keys", screen
        (held,) = adyen.state()["charges"]["P1001"]
        assert held["kind"] == "preauth" and held["amount"] == 50.0 * max(1, nights(rig, s.stay))
        assert any("pre-authorisation" in t for t in rig.ctx.tasks.raised)
        assert not any("CARDHOLDER" in t for t in rig.ctx.tasks.raised)
        # the guest starts over (a second session): the hold is found on the terminal, never taken twice
        from agent.kiosk import preauth
        assert preauth.hold(rig.ctx, s.stay, "GBP") is not None
        assert len(adyen.state()["charges"]["P1001"]) == 1
    finally:
        rig.close()


def test_a_declined_preauthorisation_sends_the_guest_to_reception_unstarted(tmp_path, pki, adyen):
    adyen = AdyenSim(node_modules()[0], pki, hold=1.0)  # its own terminal: no hold of an earlier test
    rig = rig_with(tmp_path, adyen, pki, 'preauthorization = "per_stay"\npreauthorization_amount = 150.0')
    try:
        adyen.set_mode("decline")
        s = CheckIn(rig.ctx)
        run(s, "find", number="1001", last_name="Walker")
        screen = run(s, "confirm")
        assert screen["screen"] == "refused", screen
        assert rig.reservation("1001")["State"] == "Confirmed"
        assert adyen.state()["charges"] == {}
    finally:
        rig.close()
        adyen.stop()


def test_off_by_default(tmp_path, adyen, pki):
    rig = rig_with(tmp_path, adyen, pki, "")
    try:
        before = adyen.state()["requests"]
        s = CheckIn(rig.ctx)
        run(s, "find", number="1001", last_name="Walker")
        assert run(s, "confirm")["screen"] == "keys"
        assert adyen.state()["requests"] == before
    finally:
        rig.close()
