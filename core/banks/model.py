"""The values a bank-feed provider speaks in: institutions, consents, accounts, balances, fetched transactions."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from reconbot.core.domain import Transaction


@dataclass(frozen=True, slots=True)
class Institution:
    """A bank the provider can connect to.

    ``max_consent_days`` and ``max_history_days`` are the bank's caps when the
    provider tells them (None when it does not).
    """

    id: str  # what ``ConsentRequest.institution_id`` takes
    name: str
    country: str  # ISO 3166-1 alpha-2
    bic: str = ""
    max_consent_days: int | None = None
    max_history_days: int | None = None


@dataclass(frozen=True, slots=True)
class ConsentRequest:
    """What we ask the bank for when the owner connects (or renews) an account."""

    institution_id: str
    country: str
    redirect_url: str  # where the bank sends the owner back (our callback)
    state: str  # opaque, unguessable; comes back on the callback and names the pending consent
    valid_until: datetime  # aware; the bank may shorten it
    history_days: int  # how far back the first fetch may go
    language: str = "en"
    psu_type: str = "business"  # Enable Banking: "business" or "personal"


@dataclass(frozen=True, slots=True)
class ConsentStart:
    """The bank's consent page to send the owner to, and the provider's id of this pending authorisation."""

    url: str
    reference: str  # Enable Banking authorization id, GoCardless requisition id, sandbox id


@dataclass(frozen=True, slots=True)
class ProviderAccount:
    """One account a consent covers; ``uid`` is the provider's id for it (not the IBAN)."""

    uid: str
    iban: str
    currency: str
    name: str = ""


@dataclass(frozen=True, slots=True)
class Consent:
    """A granted consent: the provider's id for it (Enable Banking session, GoCardless requisition),
    when it ends, and the accounts it covers."""

    reference: str
    valid_until: datetime  # aware
    accounts: tuple[ProviderAccount, ...]


class ConsentState(StrEnum):
    PENDING = "pending"  # the owner has not finished at the bank
    VALID = "valid"
    EXPIRED = "expired"  # ran out, or the bank/provider ended it
    REVOKED = "revoked"  # the owner withdrew it
    REJECTED = "rejected"  # the owner refused at the bank


@dataclass(frozen=True, slots=True)
class ConsentStatus:
    state: ConsentState
    valid_until: datetime | None = None


@dataclass(frozen=True, slots=True)
class Balance:
    """One balance of an account; ``kind`` is the provider's type (closingBooked, interimAvailable, CLBD, …)."""

    amount: Decimal  # signed
    currency: str
    kind: str
    reference_date: date | None = None


@dataclass(frozen=True, slots=True)
class CallBudget:
    """What the bank still allows today for one account and endpoint (GoCardless tells it in headers)."""

    limit: int
    remaining: int
    reset_seconds: int | None = None


@dataclass(frozen=True, slots=True)
class FeedTransactions:
    """Transactions of one account in a date window: booked ones, and pending ones (which may still change).

    Amounts are signed (+ came in), as everywhere in reconbot. ``bank_id`` is the
    provider's most stable id for the transaction ("" when it gives none).
    """

    booked: tuple[Transaction, ...] = ()
    pending: tuple[Transaction, ...] = ()
    budget: CallBudget | None = field(default=None)
