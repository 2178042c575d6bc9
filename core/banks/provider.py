"""The interface every account-information provider implements, and the registry that builds them.

A provider is a thin client: it turns the provider's HTTP API into the values of
``reconbot.core.banks.model`` and its failures into ``reconbot.core.banks.errors``. It stores
nothing; the services in ``reconbot.core.services.banks`` decide what to keep.
"""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import ClassVar

from reconbot.core.banks.model import (
    Balance,
    Consent,
    ConsentRequest,
    ConsentStart,
    ConsentStatus,
    FeedTransactions,
    Institution,
)
from reconbot.core.domain import Invoice
from reconbot.core.registry import Registry


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class ProviderContext:
    """What a provider may need from its surroundings, so tests can replace each piece.

    ``public_url`` is reconbot's own base URL (the sandbox bank's consent page lives
    there); ``clock`` gives aware UTC now; ``sleep`` is what retries wait with;
    ``invoices_to_pay`` gives the workspace's issued invoices, which the sandbox bank's simulated
    customers pay (read by ``reconbot.core.services.banks.sandbox``, only when the sandbox asks).
    """

    public_url: str = "http://127.0.0.1:8000"
    clock: Callable[[], datetime] = _utcnow
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    invoices_to_pay: Callable[[], Sequence[Invoice]] = field(default=lambda: ())
    timeout_seconds: float = 30.0


class BankProvider(ABC):
    """One account-information provider. Every method may raise ``reconbot.core.banks.errors.ProviderError``.

    ``reference`` arguments are the ids the provider handed out: ``ConsentStart.reference``
    for a pending authorisation, ``Consent.reference`` for a granted consent.
    """

    #: the name users type (``reconbot bank connect enable-banking``) and that is stored with a connection
    name: ClassVar[str]
    #: the credential fields ``reconbot bank setup`` asks for; secret ones are stored encrypted
    credential_fields: ClassVar[tuple[str, ...]] = ()
    #: syncs a day the bank allows per account unless it tells otherwise; PSD2 banks allow 4 unattended
    #: accesses a day (Berlin Group ``frequencyPerDay``), None for no limit
    daily_call_limit: ClassVar[int | None] = 4

    @classmethod
    @abstractmethod
    def from_credentials(cls, credentials: Mapping[str, str], context: ProviderContext) -> BankProvider:
        """Return a provider built from its decrypted credentials (``credential_fields``, plus an optional
        ``base_url`` overriding the provider's API address); raises ``ProviderError`` (permanent) when
        one is missing or malformed."""

    @abstractmethod
    async def institutions(self, country: str) -> list[Institution]:
        """Return the banks of ``country`` (ISO alpha-2) this provider can connect."""

    @abstractmethod
    async def start_connection(self, request: ConsentRequest) -> ConsentStart:
        """Ask for a consent; return the bank page to send the owner to."""

    @abstractmethod
    async def finish_connection(self, start_reference: str, callback: Mapping[str, str]) -> Consent:
        """Complete a consent from the query parameters of the bank's redirect back to us.

        Raises ``ConsentRefusedError`` when the owner did not grant it.
        """

    @abstractmethod
    async def consent_status(self, reference: str) -> ConsentStatus:
        """Return whether the consent is still valid, as the provider sees it."""

    @abstractmethod
    async def transactions(self, reference: str, account_uid: str, date_from: date, date_to: date) -> FeedTransactions:
        """Return the account's booked and pending transactions booked in ``[date_from, date_to]``, every page.

        Raises ``ConsentExpiredError`` when the consent has ended, ``RateLimitedError``
        when the bank's allowance is used up.
        """

    @abstractmethod
    async def balances(self, reference: str, account_uid: str) -> list[Balance]:
        """Return the account's current balances."""

    async def aclose(self) -> None:  # noqa: B027 - optional hook, most providers hold one HTTP client
        """Release the provider's HTTP connections."""


# Imported on first use, so a CLI command pays only for the provider it uses.
PROVIDERS: Registry[BankProvider] = Registry(
    "bank provider",
    BankProvider,
    {
        "sandbox": "reconbot.core.banks.sandbox:SandboxProvider",
        "enable-banking": "reconbot.core.banks.enable_banking:EnableBankingProvider",
        "gocardless": "reconbot.core.banks.gocardless:GoCardlessProvider",
    },
)


def provider_class(name: str) -> type[BankProvider]:
    """Return the provider class registered as ``name``; raises ``ProviderError`` (permanent) naming the
    providers for an unknown name."""
    return PROVIDERS.load(name)


def build_provider(name: str, credentials: Mapping[str, str], context: ProviderContext) -> BankProvider:
    """Return a ready provider ``name`` built from its (decrypted) credentials; raises ``ProviderError``
    (permanent) for an unknown name and for missing or malformed credentials."""
    return PROVIDERS.load(name).from_credentials(credentials, context)
