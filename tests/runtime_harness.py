"""Shared test plumbing for the runtime: a scripted handler, Mews commands and key orders, the outbox history."""

from __future__ import annotations

import json
import threading
import time

from agent.config import parse
from agent.mews.models import Command
from agent.runtime.handler import serves_job
from agent.runtime.jobs import Outcome
from agent.devices import job_of_device_type


class FakeHandler:
    def __init__(self, types=("Printer",), name="printer", retry_after_crash=True, steps=1, script=None):
        self.device_types, self.name, self.device = types, name, ""
        self.kinds = frozenset(job_of_device_type(t) for t in types)
        self.retry_after_crash = retry_after_crash
        self.steps = steps
        self.script = list(script or [])  # exceptions to raise on successive attempts
        self.executed = []
        self.gate = None

    def serves(self, job):
        return serves_job(self, job)

    def run(self, job, progress):
        self.executed.append(job.id)
        if self.script:
            exc = self.script.pop(0)
            if exc:
                raise exc
        for k in range(1, self.steps + 1):
            if isinstance(self.gate, threading.Event):
                self.gate.wait(5)
            elif self.gate is not None:
                self.gate.acquire(timeout=5)
            progress.step(k, self.steps, f"copy {k}")
        return Outcome.done(f"done {job.id}")

    def close(self):
        pass


def cmd(cid, dtype="Printer", created="2026-01-01T00:00:00Z", state="Pending", data=None):
    return Command.from_json({"Id": cid, "State": state, "CreatedUtc": created,
                              "Device": {"Id": "d1", "Name": "Front desk", "Type": dtype}, "Data": data or {}})


def history(store):
    return [(r.command_id, r.state, r.payload.get("Notes")) for r in store.outbox.next_reports("command", 1000)]


def wait_until(pred, timeout=10):
    end = time.time() + timeout
    while time.time() < end:
        if pred():
            return True
        time.sleep(0.01)
    raise AssertionError("condition not reached")


def final_of(store, cid):
    return [s for c, s, _ in history(store) if c == cid and s in ("Processed", "Error", "Cancelled")]


SECRETS = {"Password": "pw-Zq81-secret", "UserName": "visi-admin-9917", "ApiUrl": "https://visi.example/api-77x",
           "KeyCutterData": '{"Token":"kcd-token-5521"}'}


def visi(**over):
    data = {"KeyCutterId": "kc1", "LockIds": ["101"], "ValidityStartUtc": "2024-05-01T13:00:00Z",
            "ValidityEndUtc": "2024-05-03T10:00:00Z", "KeyCount": 2,
            "Reservation": {"Number": "4711", "Customer": {"FirstName": "José", "LastName": "Müller"}}, **SECRETS}
    data.update(over)
    return {k: v for k, v in data.items() if v is not None}


def command(data, type_="VisiOnlineKeyCutter", cid="cmd-1"):
    return Command.from_json({"Id": cid, "State": "Pending", "CreatedUtc": "2024-05-01T12:00:00Z",
                              "Device": {"Id": "dev-enc", "Name": "Front desk encoder", "Type": type_},
                              "Data": data})


def config(port, **extra):
    lines = "".join(f"{k} = {json.dumps(v)}\n" for k, v in extra.items())
    return parse('[mews]\nplatform_address = "http://127.0.0.1:1"\ngeneration = "seed"\nconnector_token = "t"\n'
                 '[agent]\ntimezone = "Europe/London"\n'
                 f'[encoder]\nport = "{port}"\nencoder_id = "Desk 2"\noperator = "Night Auditor"\n'
                 f'reply_timeout = 3.0\n{lines}')
