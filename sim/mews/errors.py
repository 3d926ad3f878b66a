"""The simulator's API error: an HTTP status and a message, as the platform answers."""

from __future__ import annotations


class ApiError(ValueError):
    """A request the platform refuses: 400 client bug, 401 token, 403 business rule, 404, 429, 5xx."""

    def __init__(self, status: int, message: str, headers: dict | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


def bad_request(message: str) -> ApiError:
    return ApiError(400, message)


def forbidden(message: str) -> ApiError:
    return ApiError(403, message)
