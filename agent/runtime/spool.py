"""What a resumable job needs after a restart, kept beside (not inside) ``agent.db``.

A print command's document can be megabytes: the journal holds none of it
(issue 11 item 10). The command's JSON goes to ``state_dir/spool/<id>.json``,
written atomically before the device is touched and removed when the job ends.
Key-cutter secrets of another lock system (``ApiUrl``, ``UserName``,
``Password``, ``KeyCutterData``) are never written: no handler reads them.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from common.atomic import write_atomically

log = logging.getLogger(__name__)

SECRET_FIELDS = ("ApiUrl", "UserName", "Password", "KeyCutterData")


class Spool:
    def __init__(self, state_dir: Path | str):
        self.folder = Path(state_dir) / "spool"

    def _path(self, job_id: str) -> Path:
        return self.folder / f"{''.join(c for c in job_id if c.isalnum() or c in '-_')[:80]}.json"

    def save(self, command_json: dict) -> None:
        """Keep a command for its resumption (OSError when the state folder cannot be written)."""
        data = command_json.get("Data")
        if isinstance(data, dict):
            command_json = dict(command_json, Data={k: v for k, v in data.items() if k not in SECRET_FIELDS})
        self.folder.mkdir(parents=True, exist_ok=True)
        write_atomically(self._path(str(command_json.get("Id", ""))), json.dumps(command_json).encode())

    def load(self, job_id: str) -> dict | None:
        try:
            return json.loads(self._path(job_id).read_text())
        except (OSError, ValueError):
            return None

    def discard(self, job_id: str) -> None:
        try:
            self._path(job_id).unlink()
        except FileNotFoundError:
            pass
        except OSError as e:
            log.warning("cannot remove the spooled copy of %s: %s", job_id[:8], e)

    def keep_only(self, job_ids: set[str]) -> None:
        """Remove what no unfinished job needs any more (at start)."""
        if not self.folder.is_dir():
            return
        keep = {self._path(i).name for i in job_ids}
        for path in self.folder.glob("*.json"):
            if path.name not in keep:
                path.unlink(missing_ok=True)
