"""The interface every invoicing system implements, and the registry that builds them.

A source is a thin client over one system's API: it turns the wire format into the
values of ``reconbot.core.invoicing.model`` and failures into ``reconbot.core.errors.ProviderError``
(``permanent`` when retrying cannot help). It stores nothing; the services in
``reconbot.core.services.invoicing`` decide what to keep, and they call each operation at
most once per attempt.

Every write is idempotent by reconbot's key: called again with ``maybe_done=True``
(an earlier attempt may have reached the system, say it timed out after the system
had acted) a source first looks for what that attempt made, and returns it instead
of making a second one.
"""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import ClassVar

from reconbot.core.errors import ProviderError
from reconbot.core.invoicing.model import (
    DocumentRef,
    InvoiceOrder,
    InvoicePage,
    PaymentEntry,
    PaymentResult,
    SourceInvoice,
)
from reconbot.core.registry import Registry

PDF_MAGIC = b"%PDF-"  # how every PDF file starts


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class SourceContext:
    """What a source may need from its surroundings, so tests can replace each piece.

    ``first_sync_days`` is how far back the first pull (no cursor yet) reaches.
    """

    clock: Callable[[], datetime] = _utcnow
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    timeout_seconds: float = 30.0
    first_sync_days: int = 90


class InvoiceSource(ABC):
    """One invoicing system. Every method may raise ``reconbot.core.errors.ProviderError``."""

    #: the name users type (``reconbot invoicing setup billingo``) and that is stored with each invoice
    name: ClassVar[str]
    #: what people call it
    label: ClassVar[str]
    #: the credential fields setup asks for (stored encrypted); ``optional_fields`` may be left empty
    credential_fields: ClassVar[tuple[str, ...]] = ()
    optional_fields: ClassVar[tuple[str, ...]] = ()
    #: False for a system with no list call (Számlázz.hu): its invoices arrive by push, file or lookup
    lists_invoices: ClassVar[bool] = True
    #: how often the write-back queue may send one operation in all before it asks a person
    max_attempts: ClassVar[int] = 8

    @classmethod
    @abstractmethod
    def from_credentials(cls, credentials: Mapping[str, str], context: SourceContext) -> InvoiceSource:
        """Return a source built from its decrypted credentials (plus an optional ``base_url`` overriding the
        system's API address); raises ``ProviderError`` (permanent) when one is missing or malformed."""

    @abstractmethod
    async def check(self) -> str:
        """Make one cheap authenticated call; return a short description of what answered (for "test connection").

        Raises ``ProviderError`` (permanent for rejected credentials).
        """

    @abstractmethod
    async def changed_invoices(self, cursor: str | None) -> InvoicePage:
        """Return the issued and received invoices changed since ``cursor`` (every page), and the next cursor.

        ``None`` starts from ``context.first_sync_days`` ago. A system that cannot list
        raises ``ProviderError`` (permanent).
        """

    @abstractmethod
    async def invoice_by_number(self, number: str) -> SourceInvoice | None:
        """Return the invoice numbered ``number`` (exactly), or None when the system has none."""

    @abstractmethod
    async def register_payment(
        self, document: DocumentRef, payment: PaymentEntry, *, maybe_done: bool
    ) -> PaymentResult:
        """Add ``payment`` to the invoice, unless a payment carrying ``payment.key`` is there already."""

    @abstractmethod
    async def remove_payment(
        self, document: DocumentRef, payment: PaymentEntry, *, provider_id: str, maybe_done: bool
    ) -> PaymentResult:
        """Remove the payment carrying ``payment.key`` (``provider_id`` is what registering it returned);
        a payment that is gone already is no error (``already=True``)."""

    @abstractmethod
    async def final_from_proforma(self, proforma: DocumentRef, external_key: str, *, maybe_done: bool) -> SourceInvoice:
        """Issue the final invoice of a paid proforma, marked paid, and return it.

        With ``maybe_done`` it first looks for a final invoice an earlier attempt made.
        """

    @abstractmethod
    async def issue_invoice(self, order: InvoiceOrder, *, maybe_done: bool) -> SourceInvoice:
        """Issue the invoice ``order`` describes and return it.

        With ``maybe_done`` it first looks the document up by ``order.external_key``.
        """

    @abstractmethod
    async def fetch_pdf(self, document: DocumentRef) -> bytes:
        """Return the document's PDF as the system renders it (bytes starting ``%PDF-``).

        Billingo and Fakturownia find it by ``document.external_id``, Számlázz.hu by ``document.number``.
        Raises ``ProviderError``: permanent when the system has no such document (or refuses the
        credentials); not permanent when the PDF is not rendered yet (Billingo's 202), the system fails
        (5xx, timeouts) or answers something that is no PDF: a later attempt may succeed.
        """

    async def aclose(self) -> None:  # noqa: B027 - optional hook, most sources hold one HTTP client
        """Release the source's HTTP connections."""


def require_pdf(system: str, content: bytes, doing: str) -> bytes:
    """Return ``content`` when it is a PDF (starts ``%PDF-``); raises a temporary ``ProviderError`` otherwise
    (a system that answers an error page with 200 may answer the PDF next time)."""
    if not content.startswith(PDF_MAGIC):
        raise ProviderError(f"{system}: {doing}: the answer is no PDF ({len(content)} bytes)")
    return content


# Imported on first use, so a command pays only for the system it uses.
SOURCES: Registry[InvoiceSource] = Registry(
    "invoicing system",
    InvoiceSource,
    {
        "billingo": "reconbot.core.invoicing.billingo:BillingoSource",
        "fakturownia": "reconbot.core.invoicing.fakturownia:FakturowniaSource",
        "szamlazz": "reconbot.core.invoicing.szamlazz:SzamlazzSource",
    },
)


def source_class(name: str) -> type[InvoiceSource]:
    """Return the source class registered as ``name``; raises ``ProviderError`` (permanent) naming the
    systems for an unknown name."""
    return SOURCES.load(name)


def build_source(name: str, credentials: Mapping[str, str], context: SourceContext) -> InvoiceSource:
    """Return a ready source ``name`` built from its (decrypted) credentials; raises ``ProviderError``
    (permanent) for an unknown name and for missing or malformed credentials."""
    return SOURCES.load(name).from_credentials(credentials, context)
