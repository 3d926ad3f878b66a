"""Kiosk outcomes counted in agent.db for the fleet metrics (kiosk_checkins_total{outcome})."""

import pytest

pytest.importorskip("prometheus_client")
from prometheus_client.parser import text_string_to_metric_families  # noqa: E402

from agent.fleet import metrics  # noqa: E402
from agent.kiosk.checkin import CheckIn  # noqa: E402
from tests.kiosk_harness import Rig, run  # noqa: E402


@pytest.fixture
def rig(tmp_path):
    r = Rig(tmp_path)
    yield r
    r.close()


def test_check_in_outcomes_reach_the_metrics_file(rig):
    from agent.kiosk.service import KioskService

    rig.ctx.count = KioskService(rig.cfg, rig.client, rig.jobs, store=rig.store).ctx.count  # the agent's wiring
    assert rig.ctx.count is not None
    s = CheckIn(rig.ctx)
    run(s, "find", number="1001", last_name="Walker")
    run(s, "confirm", email="alice.new@example.com")
    assert run(s, "keys", count=1)["screen"] == "done"
    assert run(CheckIn(rig.ctx), "find", number="9999", last_name="Walker")["screen"] == "refused"
    counters = rig.store.counters()
    assert counters.get("kiosk_checkin_checked_in") == 1 and counters.get("kiosk_checkin_refused") == 1
    text = metrics.render(metrics.read_snapshot(rig.cfg.state_dir, version="1", slot="")).decode()
    samples = {(s.name, tuple(sorted(s.labels.items()))): s.value
               for fam in text_string_to_metric_families(text) for s in fam.samples}
    assert samples[("kiosk_checkins_total", (("outcome", "checked_in"),))] == 1
    assert samples[("kiosk_checkins_total", (("outcome", "refused"),))] == 1


def test_a_count_that_fails_never_ends_the_guests_session(rig):
    def broken(name):
        raise OSError("disk full")

    rig.ctx.count = broken
    s = CheckIn(rig.ctx)
    assert run(s, "find", number="9999", last_name="Walker")["screen"] == "refused"
