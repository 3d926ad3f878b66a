"""After a crash or a stop: what the journal says was under way, brought to a final state or resumed.

- A key job records each key as it is made: every key made ends ``Processed``;
  some made ends ``Error`` "k of N keys made" and no more are cut; none
  recorded ends ``Error`` (the encoder may have written a card: never repeated).
- A print (a handler with ``retry_after_crash``) is retried once from its
  spooled copy; twice interrupted ends ``Error``.
- A job parked by a stop (it waited for its device) resumes.
- A local job (kiosk, panel) has no one left to tell: its entry is closed, logged.
"""

from __future__ import annotations

import json
import logging

from agent.devices import job_of_device_type
from agent.mews.models import Command
from agent.runtime.jobs import Job, Source
from agent.runtime.runner import Recovering
from agent.runtime.worker import Work

log = logging.getLogger(__name__)


def _probe(command_id: str, device_type: str | None) -> Job:
    kind = job_of_device_type(device_type or "")
    return Job(kind=kind, data={}, source=Source.MEWS, id=command_id, device_type=device_type or "")


def _command(d: Recovering, command_id: str, payload: str | None) -> Command | None:
    data = d.spool.load(command_id)
    try:
        if data is None and payload:
            data = json.loads(payload)
        elif not (data or payload):
            return None
        return Command.from_json(data) if data is not None else None
    except Exception:
        return None


def _keys_note(made: int, total: int) -> tuple[str, str]:
    if made >= total:
        return "Processed", f"{total} key{'s' if total != 1 else ''} encoded (confirmed from the journal after a restart)"
    return "Error", (f"{made} of {total} keys made; the unit restarted, so no more were cut: "
                     "please issue the missing keys again")


def recover(d: Recovering) -> None:
    store = d.store
    live: set[str] = set()
    for command_id, device_type, runs, payload in store.journal.interrupted():
        if device_type and device_type.startswith("local:"):
            log.warning("local %s job %s was interrupted by a restart; its caller is gone",
                        device_type[6:], command_id[:8])
            store.journal.finish(command_id, device_type)
            continue
        handler = d.handler_for(_probe(command_id, device_type))
        keys = store.journal.keys(command_id)
        if keys is not None and keys[0] > 0:
            state, note = _keys_note(*keys)
            log.warning("command %s ends %s after a restart: %s", command_id[:8], state, note)
            d.report(command_id, state, notes=note, journal_done=device_type or "")
            continue
        command = _command(d, command_id, payload)
        if handler is not None and handler.retry_after_crash and runs < 2 and command is not None:
            log.warning("command %s was interrupted by a restart; retrying it once", command_id[:8])
            store.journal.mark_retry(command_id)
            d.requeue(handler, Work(Job.of_command(command)))
            live.add(command_id)
            continue
        if handler is not None and not handler.retry_after_crash:
            note = (f"the unit restarted during {handler.name} work; no result was confirmed, "
                    "so it is not repeated automatically: please issue the command again")
        elif runs >= 2:
            note = "interrupted by a restart twice; not retried again: please issue the command again"
        else:
            note = "interrupted by a restart; please issue the command again"
        log.warning("command %s: %s", command_id[:8], note)
        d.report(command_id, "Error", notes=note, journal_done=device_type or "")
    for command_id, device_type in store.journal.parked():
        command = _command(d, command_id, None)
        handler = d.handler_for(Job.of_command(command)) if command is not None else None
        if command is None or handler is None:
            note = "the unit stopped while this command waited, and cannot resume it: please issue it again"
            log.warning("command %s: %s", command_id[:8], note)
            d.report(command_id, "Error", notes=note, journal_done=device_type or "")
            continue
        log.info("command %s resumes: it waited for the %s when the unit stopped", command_id[:8], handler.name)
        d.requeue(handler, Work(Job.of_command(command)))
        live.add(command_id)
    d.spool.keep_only(live)
    store.journal.prune_keys()
