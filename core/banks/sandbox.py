"""The sandbox bank: a simulated bank for newcomers and tests, with no credentials and no network.

It is stateless. Everything a later call needs is in the references it hands out:

* ``ConsentStart.reference`` = ``sbx-auth-<bank>-<consent days>-<16 hex nonce>``;
* ``Consent.reference`` = ``sbx-session-<bank>-<session id>-<valid until, unix seconds>``, the
  session id being a digest of the start reference;
* account uids = ``sbx-<bank>-<session id>-<currency>``.

**The consent page** is served by the web layer at ``{public_url}/sandbox-bank/authorize`` with the
query parameters ``reference``, ``state``, ``redirect_url`` and ``bank`` (the bank's name). It may call
``authorisation(reference)`` to show the bank and accounts, and must redirect the browser to
``consent_redirect(redirect_url, state, reference, approved)``, that is

* approve: ``<redirect_url>?code=<approval_code(reference)>&state=<state>``;
* refuse:  ``<redirect_url>?error=access_denied&state=<state>``

(added to any query ``redirect_url`` already has). ``finish_connection`` accepts only codes
``approval_code`` issued: the sandbox is no security boundary, but a made-up code must fail.

**Transactions are a pure function of (account, day)**: whichever window is asked and whenever,
a day gives the same transactions with the same ids. What happens on an account (customers paying
the invoices ``ProviderContext.invoices_to_pay()`` returns, and everyday noise) is simulated by
``reconbot.core.banks.sandbox_activity``; ``raw["sandbox"]["pays"]`` names the invoices a payment
is meant for.

Today's transactions (the clock's UTC date) are pending, with ids of their own; from the next day
on the same transactions are booked under their booked ids. Later days never appear, nor days
more than ``MAX_HISTORY_DAYS`` back.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from reconbot.core.banks import sandbox_payers as data
from reconbot.core.banks.errors import ConsentExpiredError, ConsentRefusedError, ProviderError
from reconbot.core.banks.model import (
    Balance,
    Consent,
    ConsentRequest,
    ConsentStart,
    ConsentState,
    ConsentStatus,
    FeedTransactions,
    Institution,
    ProviderAccount,
)
from reconbot.core.banks.provider import BankProvider, ProviderContext
from reconbot.core.banks.sandbox_activity import Entry, SimulatedAccount, account_activity, money, opening_balance
from reconbot.core.domain import Transaction

MAX_CONSENT_DAYS = 180
MAX_HISTORY_DAYS = 90
AUTHORIZE_PATH = "/sandbox-bank/authorize"
# Keys the approval codes. Not a secret (this is a simulated bank): it only tells issued codes from made-up ones.
_CODE_KEY = b"reconbot sandbox bank approval codes"


@dataclass(frozen=True, slots=True)
class _Bank:
    code: str  # in references: "hu", "pl"
    institution: Institution
    currencies: tuple[str, ...]
    language: str  # of the texts: "HU" or "PL"


_BANKS = {
    bank.code: bank
    for bank in (
        _Bank(
            "hu",
            Institution("SANDBOX_HU", "Sandbox Bank HU", "HU", "SBXBHUHB", MAX_CONSENT_DAYS, MAX_HISTORY_DAYS),
            ("HUF", "EUR"),
            "HU",
        ),
        _Bank(
            "pl",
            Institution("SANDBOX_PL", "Sandbox Bank PL", "PL", "SBXBPLPW", MAX_CONSENT_DAYS, MAX_HISTORY_DAYS),
            ("PLN",),
            "PL",
        ),
    )
}
_BY_INSTITUTION = {bank.institution.id: bank for bank in _BANKS.values()}

_START = re.compile(r"sbx-auth-(?P<bank>[a-z]{2})-(?P<days>\d{1,3})-(?P<nonce>[0-9a-f]{16})")
_SESSION = re.compile(r"sbx-session-(?P<bank>[a-z]{2})-(?P<sid>[0-9a-f]{16})-(?P<until>\d{1,11})")
_ACCOUNT = re.compile(r"sbx-(?P<bank>[a-z]{2})-(?P<sid>[0-9a-f]{16})-(?P<currency>[a-z]{3})")


# -- references and the consent page ------------------------------------------------------------


def approval_code(reference: str) -> str:
    """Return the code the consent page puts on the redirect when the owner approves ``reference``."""
    return hmac.new(_CODE_KEY, reference.encode(), hashlib.sha256).hexdigest()[:32]


def consent_redirect(redirect_url: str, state: str, reference: str, approved: bool) -> str:
    """Return where the consent page sends the browser: ``redirect_url`` plus ``code``/``error`` and ``state``."""
    added = {"code": approval_code(reference)} if approved else {"error": "access_denied"}
    parts = urlsplit(redirect_url)
    query = [*parse_qsl(parts.query, keep_blank_values=True), *added.items(), ("state", state)]
    return urlunsplit(parts._replace(query=urlencode(query)))


@dataclass(frozen=True, slots=True)
class Authorisation:
    """What a pending sandbox consent is for, for the consent page to show."""

    institution: Institution
    accounts: tuple[ProviderAccount, ...]
    consent_days: int


def authorisation(reference: str) -> Authorisation:
    """Return the bank, accounts and duration of the pending consent ``reference`` (a start reference).

    Raises ``ProviderError`` (permanent) when ``reference`` is not one the sandbox hands out.
    """
    m = _START.fullmatch(reference)
    if m is None or m["bank"] not in _BANKS:
        raise ProviderError("This is not a sandbox bank authorisation; start connecting again.", permanent=True)
    bank = _BANKS[m["bank"]]
    sid = _session_id(reference)
    return Authorisation(bank.institution, tuple(_account(bank, sid, c) for c in bank.currencies), int(m["days"]))


def _session_id(start_reference: str) -> str:
    return hashlib.sha256(b"session\x1f" + start_reference.encode()).hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class _GrantedConsent:
    """A consent the sandbox granted, as its reference (``sbx-session-…``) spells it."""

    bank: _Bank
    sid: str
    valid_until: datetime


def _granted_consent(reference: str) -> _GrantedConsent:
    m = _SESSION.fullmatch(reference)
    if m is None or m["bank"] not in _BANKS:
        raise ProviderError("The sandbox bank does not know this consent; connect the account again.", permanent=True)
    return _GrantedConsent(_BANKS[m["bank"]], m["sid"], datetime.fromtimestamp(int(m["until"]), UTC))


def _account(bank: _Bank, sid: str, currency: str) -> ProviderAccount:
    iban = data.iban_for(bank.institution.country, "own account", bank.code, currency)
    return ProviderAccount(f"sbx-{bank.code}-{sid}-{currency.lower()}", iban, currency, f"Sandbox {currency} account")


# -- the provider -----------------------------------------------------------------------------------


class SandboxProvider(BankProvider):
    """A built-in simulated bank: ``reconbot bank connect sandbox`` works without credentials or network."""

    name = "sandbox"
    daily_call_limit = None  # a simulated bank has no allowance to protect
    credential_fields = ()

    def __init__(self, context: ProviderContext | None = None) -> None:
        self.context = context or ProviderContext()

    @classmethod
    def from_credentials(cls, credentials: Mapping[str, str], context: ProviderContext) -> SandboxProvider:
        """Return the sandbox; it needs no credentials and ignores any given."""
        return cls(context)

    def _now(self) -> datetime:
        return self.context.clock().astimezone(UTC)

    async def institutions(self, country: str) -> list[Institution]:
        """Return the sandbox banks of ``country`` (HU and PL have one each)."""
        return [bank.institution for bank in _BANKS.values() if bank.institution.country == country.upper()]

    async def start_connection(self, request: ConsentRequest) -> ConsentStart:
        """Return the sandbox consent page of reconbot's web layer, for a fresh random reference."""
        bank = _BY_INSTITUTION.get(request.institution_id)
        if bank is None:
            raise ProviderError(f"The sandbox has no bank {request.institution_id!r}.", permanent=True)
        seconds = (request.valid_until - self._now()).total_seconds()
        days = min(max(round(seconds / 86400), 1), MAX_CONSENT_DAYS)
        reference = f"sbx-auth-{bank.code}-{days}-{secrets.token_hex(8)}"
        query = {
            "reference": reference,
            "state": request.state,
            "redirect_url": request.redirect_url,
            "bank": bank.institution.name,
        }
        return ConsentStart(f"{self.context.public_url.rstrip('/')}{AUTHORIZE_PATH}?{urlencode(query)}", reference)

    async def finish_connection(self, start_reference: str, callback: Mapping[str, str]) -> Consent:
        """Return the consent the owner approved on the sandbox page; valid from now for the days asked."""
        pending = authorisation(start_reference)
        if callback.get("error"):
            raise ConsentRefusedError(f"The consent was refused at the sandbox bank ({callback['error']}).")
        code = callback.get("code", "")
        if not hmac.compare_digest(code.encode(), approval_code(start_reference).encode()):
            raise ProviderError("The sandbox bank did not issue this approval code; connect again.", permanent=True)
        until = int((self._now() + timedelta(days=pending.consent_days)).timestamp())
        bank = _BY_INSTITUTION[pending.institution.id]
        return Consent(
            f"sbx-session-{bank.code}-{_session_id(start_reference)}-{until}",
            datetime.fromtimestamp(until, UTC),
            pending.accounts,
        )

    async def consent_status(self, reference: str) -> ConsentStatus:
        """Return PENDING for a start reference, else VALID until the consent's end, then EXPIRED."""
        if _START.fullmatch(reference):
            return ConsentStatus(ConsentState.PENDING)
        granted = _granted_consent(reference)
        state = ConsentState.VALID if self._now() < granted.valid_until else ConsentState.EXPIRED
        return ConsentStatus(state, granted.valid_until)

    def _open(self, reference: str, account_uid: str) -> tuple[_Bank, ProviderAccount]:
        granted = _granted_consent(reference)
        if self._now() >= granted.valid_until:
            raise ConsentExpiredError("The sandbox bank consent has expired; connect the account again.")
        m = _ACCOUNT.fullmatch(account_uid)
        if m is None or m["bank"] != granted.bank.code or m["sid"] != granted.sid:
            raise ProviderError("This consent does not cover that sandbox account.", permanent=True)
        currency = m["currency"].upper()
        if currency not in granted.bank.currencies:
            raise ProviderError("This consent does not cover that sandbox account.", permanent=True)
        return granted.bank, _account(granted.bank, granted.sid, currency)

    def _entries(self, bank: _Bank, account: ProviderAccount, first: date, last: date) -> list[Entry]:
        """Return what is booked on the account from ``first`` to ``last`` (both included), in order."""
        return account_activity(_simulated(bank, account), self.context.invoices_to_pay(), first, last)

    def _window(self, date_from: date, date_to: date) -> tuple[date, date, date]:
        today = self._now().date()
        return max(date_from, today - timedelta(days=MAX_HISTORY_DAYS)), min(date_to, today), today

    async def transactions(self, reference: str, account_uid: str, date_from: date, date_to: date) -> FeedTransactions:
        """Return the account's transactions booked in ``[date_from, date_to]``; today's are pending."""
        bank, account = self._open(reference, account_uid)
        first, last, today = self._window(date_from, date_to)
        booked: list[Transaction] = []
        pending: list[Transaction] = []
        for e in self._entries(bank, account, first, last):
            is_pending = e.day == today
            (pending if is_pending else booked).append(_transaction(account, e, is_pending))
        return FeedTransactions(tuple(booked), tuple(pending))

    async def balances(self, reference: str, account_uid: str) -> list[Balance]:
        """Return the closing booked balance (everything before today) and the available one (with today's)."""
        bank, account = self._open(reference, account_uid)
        first, _, today = self._window(date.min, date.max)
        entries = self._entries(bank, account, first, today)
        closing = opening_balance(_simulated(bank, account))
        closing += sum((e.amount for e in entries if e.day < today), Decimal(0))
        available = closing + sum((e.amount for e in entries if e.day == today), Decimal(0))
        return [
            Balance(money(closing, account.currency), account.currency, "closingBooked", today),
            Balance(money(available, account.currency), account.currency, "interimAvailable", today),
        ]


def _simulated(bank: _Bank, account: ProviderAccount) -> SimulatedAccount:
    return SimulatedAccount(account.iban, account.currency, bank.institution.country, bank.language)


def _transaction(account: ProviderAccount, e: Entry, pending: bool) -> Transaction:
    status = "pending" if pending else "booked"
    digest = hashlib.sha256(f"{account.iban}\x1f{e.key}\x1f{status}".encode()).hexdigest()[:20].upper()
    bank_id = f"SBX{'P' if pending else 'B'}{digest}"
    return Transaction(
        id=bank_id,
        booking_date=e.day,
        amount=e.amount,
        currency=account.currency,
        value_date=e.value_day or e.day,
        counterparty_name=e.name,
        counterparty_iban=e.iban,
        reference=e.reference,
        end_to_end_id=e.end_to_end_id,
        bank_id=bank_id,
        account_iban=account.iban,
        raw={"sandbox": {"status": status, "scenario": e.scenario, "pays": list(e.pays)}},
    )
