"""The kiosk rig with a document reader on a pty (kiosk and Chromium document tests)."""

from __future__ import annotations

from agent.devices.reader.config import ReaderConfig
from agent.devices.reader.handler import ReaderHandler
from agent.runtime.dispatcher import Dispatcher
from agent.runtime.health import Health
from sim.reader import VirtualReader
from tests.agent_harness import wait_until
from tests.kiosk_harness import Rig

NUMBER = "C4K10SK77"


class ReaderRig(Rig):
    """The kiosk rig plus a document reader on a pty, served by the runtime's dispatcher like the others."""

    def __init__(self, tmp_path, *, documents="all", hotel_country="", reader=True, version="2023-06-06"):
        extra = f'documents = "{documents}"\nhotel_country = "{hotel_country}"\n'
        super().__init__(tmp_path, kiosk_extra=extra, payment=False, version=version)
        self.reader = VirtualReader("stx").start()
        if reader:
            self.jobs.stop()
            handler = ReaderHandler(ReaderConfig(port=self.reader.path, timeout=5.0, gap=0.1))
            self.handlers.append(handler)
            self.jobs = Dispatcher(self.store, self.handlers, Health(), device_timeout=5.0)
            self.jobs.start()
            self.ctx.jobs = self.jobs
        self.customer("1001").update(LastName="Müller", FirstName="Dieter", NationalityCode="DE")

    def present_when_asked(self, session, text):
        """The guest lays the document once the reader waits for it (an earlier scan would not count)."""
        wait_until(lambda: (session.screen().get("progress") or {}).get("deadline"), timeout=10,
                   what="the reader waits")
        self.reader.present(text)
        return session.wait_idle(30)

    def customer(self, number):
        return self.ent.customers[self.reservation(number)["CustomerId"]]

    def close(self):
        super().close()
        self.reader.stop()
