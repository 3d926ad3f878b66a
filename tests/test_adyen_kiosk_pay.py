"""A kiosk balance paid on the Adyen terminal: recorded once in Mews, with what the terminal approved."""

import pytest

from agent.kiosk.checkin import CheckIn
from hal.payment.adyen import AdyenTerminal, NexoKey
from tests.adyen_harness import KEY, POI_ID
from tests.kiosk_harness import Rig, run


@pytest.mark.parametrize("mode", ["lose"])  # its answer lost: settled by TransactionStatus
def test_balance_paid_on_the_adyen_terminal_is_recorded_once(tmp_path, adyen_sim, adyen_pki, mode):
    rig = Rig(tmp_path)
    rig.ctx.terminal = AdyenTerminal(adyen_sim.address, POI_ID, NexoKey(KEY["identifier"], 1, KEY["passphrase"]),
                                     adyen_pki["ca"], timeout=3.0, status_timeout=2.0, settle_time=3.0, poll=0.05)
    try:
        s = CheckIn(rig.ctx)
        run(s, "find", number="1002", last_name="Fernandez")
        assert run(s, "confirm")["screen"] == "payment"
        adyen_sim.set_mode(mode, holder="Rosa Holdername")
        screen = run(s, "pay")
        assert screen["screen"] == "keys", screen
        (payment,) = rig.ent.payments
        (charge,) = [c for ref, cs in adyen_sim.state()["charges"].items() for c in cs
                     if c["poiTransactionId"] == payment["ExternalIdentifier"]]
        assert (charge["amount"], charge["currency"]) == (360, "GBP")
        assert "411111******1111" in payment["Notes"] and "Holdername" not in payment["Notes"]
        assert rig.ent.balance(rig.reservation("1002")["CustomerId"]) == 0.0
    finally:
        rig.close()
