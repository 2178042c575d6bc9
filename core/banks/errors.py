"""What a bank-feed provider raises; every message is one line a user can act on, and never holds a secret."""

from __future__ import annotations


class ProviderError(Exception):
    """The provider failed. ``permanent`` means retrying the same call will not help (bad credentials,
    unknown account); otherwise a later attempt may succeed (timeouts, 5xx)."""

    def __init__(self, message: str, *, permanent: bool = False, status: int | None = None) -> None:
        super().__init__(message)
        self.permanent = permanent
        self.status = status


class ConsentExpiredError(ProviderError):
    """The consent ended (ran out, revoked, suspended): only the owner re-consenting helps."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message, permanent=True, status=status)


class RateLimitedError(ProviderError):
    """Too many calls. ``retry_after`` is seconds until a call may succeed (None: unknown);
    ``daily`` means the bank's per-day allowance for the account is used up."""

    def __init__(self, message: str, *, retry_after: float | None = None, daily: bool = False) -> None:
        super().__init__(message, permanent=False, status=429)
        self.retry_after = retry_after
        self.daily = daily


class ConsentRefusedError(ProviderError):
    """The owner did not grant the consent (refused at the bank, or the callback carries an error)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, permanent=True)
