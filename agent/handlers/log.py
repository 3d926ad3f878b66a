"""The ``log`` handler: a device that only writes down what it was asked to do.

Used by the demo and the tests in place of real hardware: it reports progress
per copy/key like a real device and appends one line per execution to
``state_dir/log-handler.jsonl`` (command id and type only: never the payload,
which may hold key-cutter passwords).
"""

from __future__ import annotations

import json
import logging
import os
import time
from pathlib import Path

from agent.devices import card_device_types, job_of_device_type
from agent.runtime.handler import serves_job
from agent.runtime.jobs import Job, Outcome

log = logging.getLogger(__name__)


class LogHandler:
    name = "log"
    device = ""

    def __init__(self, device_type: str, state_dir: Path, *, step_delay: float = 0.0):
        self.device_types = (device_type,)
        self.kinds = frozenset({job_of_device_type(device_type)})
        self.name = f"log-{device_type}"
        # Like a key encoder, a stand-in for a card-writing device is never repeated after a crash.
        self.retry_after_crash = device_type not in card_device_types()
        self.path = Path(state_dir) / "log-handler.jsonl"
        self.step_delay = step_delay

    def serves(self, job: Job) -> bool:
        return serves_job(self, job)

    def run(self, job: Job, progress) -> Outcome:
        data = job.data if isinstance(job.data, dict) else {}
        count = data.get("CopyCount", data.get("KeyCount", 1))
        if not isinstance(count, int) or isinstance(count, bool) or not 1 <= count <= 100:
            count = 1
        device_type = job.device_type or self.device_types[0]
        self._record(job.id, device_type)
        log.info("log device: %s job %s, %d step(s)", device_type, job.id, count)
        for k in range(1, count + 1):
            if self.step_delay:
                time.sleep(self.step_delay)
            if device_type in card_device_types():
                progress.key_made(k, count)
            progress.step(k, count, f"step {k} of {count}")
        return Outcome.done(f"logged {count} step(s)")

    def _record(self, job_id: str, device_type: str) -> None:
        line = json.dumps({"id": job_id, "type": device_type, "at": time.time()}) + "\n"
        with open(self.path, "a", encoding="utf-8") as f:
            f.write(line)
            f.flush()
            os.fsync(f.fileno())

    def close(self) -> None:
        pass


def from_config(cfg) -> list[LogHandler]:
    return [LogHandler(t, cfg.state_dir, step_delay=cfg.agent.log_step_delay) for t in cfg.agent.log_device_types]
