"""The exceptions domain functions raise; routes turn them into pages."""

from __future__ import annotations


class DomainError(Exception):
    """Base of every error a domain function raises on purpose."""


class Invalid(DomainError):
    """Input was wrong; carries every field's message at once."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


class Forbidden(DomainError):
    """The actor may not do this."""

    def __init__(self, message: str = "You do not have permission to do that."):
        super().__init__(message)
        self.message = message


class NotFound(DomainError):
    """No such thing, or the actor may not know it exists."""

    def __init__(self, message: str = "Page not found"):
        super().__init__(message)
        self.message = message


class Conflict(DomainError):
    """The action does not fit the current state (e.g. a rule locked once a round opened)."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class RateLimited(DomainError):
    """Too many attempts; the message says when to try again."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message
