"""PosService: license once, UUID heartbeat, updatepos refresh, broadcasts, failover (gateway simulator)."""

import time

import pytest

from agent.config import parse
from agent.pos.sale import SaleLine
from agent.pos.service import UUID_FILE, PosService, device_uuid
from agent.runtime.health import FAULT, IDLE, Health
from tests.pos.pos_harness import config_text, make_client, start_sim

WINDOW = 3.0  # registerdevice +10: ten pings per window


def wait_for(cond, timeout=8.0, step=0.02):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(step)
    return cond()


@pytest.fixture
def sim():
    s = start_sim(window=WINDOW)
    yield s
    s.stop()


def service(sim, tmp_path, **kw):
    cfg = parse(config_text(sim, tmp_path / "state", extra_pos=kw.pop("extra_pos", "")), str(tmp_path / "c.toml"))
    health = Health()
    client = make_client(sim, tmp_path / "state", window=WINDOW, api_key=cfg.pos.api_key,
                         timeout=1.0, backoff=(0.05, 0.2))
    kw.setdefault("heartbeat_interval", 0.4)
    svc = PosService(cfg, health, client=client, **kw)
    return svc, health


def test_from_config_without_pos_table(tmp_path):
    cfg = parse('[mews]\nplatform_address = "http://x"\ngeneration = "seed"\nconnector_token = "t"\n', str(tmp_path / "c.toml"))
    assert PosService.from_config(cfg, Health()) is None


def test_device_uuid_is_generated_once(tmp_path):
    first = device_uuid(tmp_path)
    assert device_uuid(tmp_path) == first and (tmp_path / UUID_FILE).read_text().strip() == first
    (tmp_path / UUID_FILE).write_text("garbage")
    assert device_uuid(tmp_path) != first  # unreadable: a new one, kept from then on


def test_license_once_heartbeat_and_caches(sim, tmp_path):
    svc, health = service(sim, tmp_path)
    svc.start()
    try:
        assert wait_for(lambda: sim.devices.get(svc.uuid, {}).get("pings", 0) >= 3)
        assert svc.license is not None and svc.license.active
        assert {3, 5, 7, 9} <= set(svc.products) and svc.methods[2].name == "Card" and svc.deposit.price == 1
        assert health.devices["pos"].state == IDLE and "shard" in health.devices["pos"].activity
    finally:
        svc.stop()
    assert sim.requests("getlicense") == 1
    assert sim.ratelimit_answers == 0
    again, _ = service(sim, tmp_path)
    assert again.uuid == svc.uuid  # kept in state_dir


def test_updatepos_refreshes_the_caches(sim, tmp_path):
    svc, health = service(sim, tmp_path, refresh_debounce=0.2)
    svc.start()
    try:
        assert wait_for(lambda: svc.refreshes >= 1)
        sim.set_products(1, [{"ID": 42, "ProductName": "Festival shirt", "Price": 25, "Deposit": False}])
        sim.set_payment_methods(1, [{"ID": 3, "Payment": "Voucher", "color": "#f0f"}])
        sim.set_deposit(2.0)
        assert 42 not in svc.products
        sim.broadcast_updatepos()
        assert wait_for(lambda: 42 in svc.products)
        assert set(svc.products) == {42} and set(svc.methods) == {3} and svc.deposit.price == 2
        before = svc.refreshes
        for _ in range(5):  # a burst of broadcasts costs one or two refreshes, not five
            sim.broadcast_updatepos()
        assert wait_for(lambda: svc.refreshes > before)
        time.sleep(0.5)
        assert svc.refreshes - before <= 2
        assert health.message == ""  # updatepos is handled, not shown
    finally:
        svc.stop()
    assert sim.ratelimit_answers == 0


def test_other_broadcasts_reach_the_display(sim, tmp_path):
    svc, health = service(sim, tmp_path)
    svc.start()
    try:
        assert wait_for(lambda: svc.client.connection is not None and svc.refreshes >= 1)
        sim.broadcast("Kasse schließt um 22 Uhr")
        assert wait_for(lambda: "Kasse schließt um 22 Uhr" in health.message)
        assert health.message.startswith("ConcertPOS")
    finally:
        svc.stop()


def test_service_fails_over_and_keeps_the_license(sim, tmp_path):
    svc, health = service(sim, tmp_path)
    svc.start()
    try:
        assert wait_for(lambda: svc.refreshes >= 1 and svc.heartbeats >= 1)
        first = svc.client.shard
        sim.kill_shard(sim.shards.index(first))
        assert wait_for(lambda: svc.client.connects >= 2 and svc.refreshes >= 2)  # missed events: refresh
        assert svc.client.shard != first
        pings = sim.devices[svc.uuid]["pings"]
        assert wait_for(lambda: sim.devices[svc.uuid]["pings"] > pings)
        assert health.devices["pos"].state == IDLE
    finally:
        svc.stop()
    assert sim.requests("getlicense") == 1


def test_configuration_error_is_a_fault_and_stop_is_prompt(sim, tmp_path):
    svc, health = service(sim, tmp_path)
    svc.client.cfg = svc.client.cfg.__class__(**{**svc.client.cfg.__dict__, "api_key": "not-the-key"})
    svc.start()
    try:
        assert wait_for(lambda: health.devices["pos"].state == FAULT)
        assert "pos.api_key" in health.devices["pos"].fault
    finally:
        started = time.monotonic()
        svc.stop()
        assert not svc._thread.is_alive() and time.monotonic() - started < 5


def test_sale_through_the_service(sim, tmp_path):
    svc, health = service(sim, tmp_path)
    svc.start()
    try:
        assert wait_for(lambda: svc.refreshes >= 1)
        result = svc.sell(2, [SaleLine(3, 1), SaleLine(7, 2)])
        assert result.booked and len(result.transactions) == 2
        assert "Paid by Card" in svc.last_receipt and "Parking day ticket" in svc.last_receipt
        assert "Kiosk" in svc.last_receipt.splitlines()[1] and "POS 1" not in svc.last_receipt  # listpos name
    finally:
        svc.stop()
    assert len(sim.transactions) == 2


def test_a_sale_while_the_gateway_is_down_does_not_hang(sim, tmp_path):
    import threading

    svc, health = service(sim, tmp_path)
    for i in range(3):
        sim.kill_shard(i)
    svc.start()  # the service thread now retries forever
    results = []
    try:
        assert wait_for(lambda: health.devices["pos"].state != IDLE)
        seller = threading.Thread(target=lambda: results.append(svc.sell(1, [SaleLine(7, 1)])))
        seller.start()
        seller.join(30)  # bounded by the sale's own connect deadline, not the service's endless retry
        assert not seller.is_alive()
        assert results[0].result == "not booked" and "nothing was sent" in results[0].reason
    finally:
        svc.stop()
    assert sim.transactions == []


def test_a_sales_receipt_is_a_printer_job_queued_behind_the_printers_work(sim, tmp_path):
    """In the running agent the printer has one owner, its worker: the receipt is a print job (source POS)."""
    import base64

    from agent.runtime.jobs import Job, JobHandle, JobKind, Outcome, Source

    class Jobs:  # the dispatcher's side of the contract: record the job, finish it as the worker would
        def __init__(self):
            self.submitted: list[Job] = []

        def submit(self, job: Job) -> JobHandle:
            self.submitted.append(job)
            handle = JobHandle(job)
            handle.finish(Outcome.done("1 copy printed"))
            return handle

        def serves(self, kind, device=""):
            return kind is JobKind.PRINT_DOCUMENT

    jobs = Jobs()
    cfg = parse(config_text(sim, tmp_path / "state", printer='port = "/dev/kiosk-no-such-printer"'), str(tmp_path / "c.toml"))
    client = make_client(sim, tmp_path / "state", window=WINDOW, api_key=cfg.pos.api_key, timeout=1.0,
                         backoff=(0.05, 0.2))
    svc = PosService(cfg, Health(), client=client, heartbeat_interval=0.4, jobs=jobs)
    svc.start()
    try:
        assert wait_for(lambda: svc.refreshes >= 1)
        result = svc.sell(2, [SaleLine(3, 1)])
    finally:
        svc.stop()
    assert result.booked and not result.warnings, result.warnings  # nothing opened the (absent) printer port
    [job] = jobs.submitted
    assert job.kind is JobKind.PRINT_DOCUMENT and job.source is Source.POS
    assert job.data["FileType"] == "text/plain" and job.data["CopyCount"] == 1
    assert base64.b64decode(job.data["FileData"]).decode() == svc.last_receipt
