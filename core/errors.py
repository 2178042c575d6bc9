"""Errors that reach the user as one clear line instead of a traceback."""

from __future__ import annotations


class InputError(Exception):
    """Bad input from the user: what was wrong, where, and why.

    ``source`` names the file (or other input), ``location`` the line, row or
    element inside it, ``reason`` what is wrong there. ``str()`` joins them
    into the single line the CLI prints.
    """

    def __init__(self, source: str, location: str, reason: str) -> None:
        self.source = source
        self.location = location
        self.reason = reason
        super().__init__(str(self))

    def __str__(self) -> str:
        parts = [p for p in (self.source, self.location, self.reason) if p]
        return ": ".join(parts)


class ReconciliationError(Exception):
    """A requested operation (pair, unpair, …) would break an invariant.

    The message says which one, in words a user can act on.
    """


class SecretKeyError(Exception):
    """The encryption key of stored secrets is missing, malformed, or not the one they were stored with."""


class ProviderError(Exception):
    """An integration (bank feed, invoicing system) failed; the message is one line a user can act on
    and never holds a secret.

    ``permanent`` means retrying the same call will not help (bad credentials, unknown
    account or invoice); otherwise a later attempt may succeed (timeouts, 5xx)."""

    def __init__(self, message: str, *, permanent: bool = False, status: int | None = None) -> None:
        super().__init__(message)
        self.permanent = permanent
        self.status = status


class RateLimitedError(ProviderError):
    """Too many calls. ``retry_after`` is seconds until a call may succeed (None: unknown);
    ``daily`` means a bank's per-day allowance for the account is used up."""

    def __init__(self, message: str, *, retry_after: float | None = None, daily: bool = False) -> None:
        super().__init__(message, permanent=False, status=429)
        self.retry_after = retry_after
        self.daily = daily


class SetupError(Exception):
    """A setup request (a member, a role, a chat bot or channel, a link code) cannot be done; the message says
    why, in words the person can act on."""
