"""Keys under way, on disk: a crash while the kiosk cuts keys still reaches staff.

The guest is already checked in when the keys are cut. If the guest walks away before
choosing the keys, or the unit dies meanwhile, the session that would have raised the
staff task is gone, and the journal (which ends an interrupted key job without cutting
more) has no one to tell. So once the stay is started the kiosk writes a mark naming
the reservation and room (never the guest) and removes it once the keys have an
outcome that reached staff; a mark whose session is gone means a guest without keys.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from common.atomic import write_atomically

log = logging.getLogger(__name__)


class KeyMarks:
    def __init__(self, folder: Path | str | None):
        self.folder = Path(folder) if folder else None

    def mark(self, reservation: str, room: str, keys: int) -> Path | None:
        if self.folder is None:
            return None
        path = self.folder / self._name(reservation)
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            write_atomically(path, json.dumps({"reservation": reservation, "room": room, "keys": keys}).encode(),
                             durable=True)
        except OSError as e:  # the storage fault shows elsewhere; the guest still gets the keys
            log.warning("kiosk: cannot note the keys under way: %s", e)
            return None
        return path

    @staticmethod
    def clear(path: Path | None) -> None:
        if path is not None:
            path.unlink(missing_ok=True)

    def clear_reservation(self, reservation: str) -> None:
        if self.folder is not None:
            (self.folder / self._name(reservation)).unlink(missing_ok=True)

    def pending(self) -> list[dict]:
        """Marks on disk: guests checked in here whose keys are not all confirmed."""
        if self.folder is None or not self.folder.is_dir():
            return []
        found = []
        for path in sorted(self.folder.glob("*.json")):
            try:
                found.append(json.loads(path.read_text()))
            except (OSError, ValueError):  # half-written by a power cut: still a guest without keys
                found.append({"reservation": path.stem, "room": "?", "keys": 0})
        return found

    @staticmethod
    def _name(reservation: str) -> str:
        return f"{''.join(ch for ch in reservation if ch.isalnum()) or 'unknown'}.json"
