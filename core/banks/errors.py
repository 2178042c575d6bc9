"""What a bank-feed provider raises; every message is one line a user can act on, and never holds a secret."""

from __future__ import annotations

from reconbot.core.errors import ProviderError, RateLimitedError

__all__ = ["ConsentExpiredError", "ConsentRefusedError", "ProviderError", "RateLimitedError"]


class ConsentExpiredError(ProviderError):
    """The consent ended (ran out, revoked, suspended): only the owner re-consenting helps."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message, permanent=True, status=status)


class ConsentRefusedError(ProviderError):
    """The owner did not grant the consent (refused at the bank, or the callback carries an error)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, permanent=True)
