"""Sign-in sessions: at most one valid AccessToken, the one of the client that signed in last."""

from __future__ import annotations

import secrets
import threading
from typing import Callable

from sim.mews.errors import ApiError


def new_token() -> str:
    """A token shaped like the platform's (32 hex, dash, 31 hex)."""
    return f"{secrets.token_hex(16).upper()}-{secrets.token_hex(16).upper()[:31]}"


class Sessions:
    """The connector token is always accepted directly; signIn issues a token that displaces the previous one."""

    def __init__(self, connector_token: str, on_displaced: Callable[[str], None]):
        self.connector_token = connector_token
        self.current: str | None = None
        self.clients: list[dict] = []  # who signed in, most recent last (ClientToken, Client)
        self._on_displaced = on_displaced
        self._lock = threading.Lock()

    def valid(self, token: object) -> bool:
        if not isinstance(token, str) or not token:
            return False
        with self._lock:
            return token == self.connector_token or token == self.current

    def check_connector_token(self, connector_token: object) -> None:
        """Raise 401 unless this is the integration's connector token."""
        if not isinstance(connector_token, str) or not connector_token:
            raise ApiError(401, "Missing ConnectorToken.")
        if connector_token != self.connector_token:
            raise ApiError(401, "Invalid ConnectorToken: the integration is unknown or disabled.")

    def sign_in(self, connector_token: object, client_token: object = None, client: object = None) -> str:
        self.check_connector_token(connector_token)
        token = new_token()
        with self._lock:
            previous, self.current = self.current, token
            self.clients.append({"ClientToken": client_token, "Client": client})
            del self.clients[:-20]
        if previous is not None:
            self._on_displaced(previous)
        return token

    def displace(self) -> None:
        """Another client signs in: the current session ends (fault injection)."""
        self.sign_in(self.connector_token, client="Another Connector 1.0")
