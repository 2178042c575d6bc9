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
a day gives the same transactions with the same ids. They are

* payments of the issued invoices ``ProviderContext.open_invoices()`` returns in the account's
  currency, planned from each invoice's number, partner, gross and issue date only (never its paid
  amount or status): paid on ``issue date + 0..20 days`` (moved off weekends), in a style seeded by
  the number (see ``_STYLES``); ``raw["sandbox"]["pays"]`` names the invoices a payment is meant for;
* noise seeded by (account IBAN, day): card payments, fees, salaries, taxes, utilities, money no
  invoice explains. The IBAN (unlike the uid) survives a renewed consent, so renewing does not
  change history.

Today's transactions (the clock's UTC date) are pending, with ids of their own; from the next day
on the same transactions are booked under their booked ids. Later days never appear, nor days
more than ``MAX_HISTORY_DAYS`` back.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
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
from reconbot.core.domain import Direction, Invoice, InvoiceKind, Transaction
from reconbot.core.parties import name_tokens, tax_key

MAX_CONSENT_DAYS = 180
MAX_HISTORY_DAYS = 90
DEFAULT_CONSENT_DAYS = 90
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
class _Session:
    bank: _Bank
    sid: str
    valid_until: datetime


def _session(reference: str) -> _Session:
    m = _SESSION.fullmatch(reference)
    if m is None or m["bank"] not in _BANKS:
        raise ProviderError("The sandbox bank does not know this consent; connect the account again.", permanent=True)
    return _Session(_BANKS[m["bank"]], m["sid"], datetime.fromtimestamp(int(m["until"]), UTC))


def _account(bank: _Bank, sid: str, currency: str) -> ProviderAccount:
    iban = data.iban_for(bank.institution.country, "own account", bank.code, currency)
    return ProviderAccount(f"sbx-{bank.code}-{sid}-{currency.lower()}", iban, currency, f"Sandbox {currency} account")


# -- amounts and days ---------------------------------------------------------------------------


def _exponent(currency: str) -> Decimal:
    return Decimal(1) if currency == "HUF" else Decimal("0.01")


def _money(amount: Decimal, currency: str) -> Decimal:
    """Return ``amount`` with the currency's precision (whole forints; cents otherwise)."""
    return amount.quantize(_exponent(currency), ROUND_HALF_UP)


def _units(dice: data.Dice, currency: str, low: int, high: int) -> Decimal:
    """Return a random amount between ``low`` and ``high`` whole units, with cents unless HUF."""
    if currency == "HUF":
        return Decimal(dice.between(low, high))
    return Decimal(dice.between(low * 100, high * 100)).scaleb(-2)


def _business_day(day: date) -> date:
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def _monthly_on(day: date, dom: int) -> bool:
    """Return True when a monthly event on day ``dom`` (≤ 28) is booked on ``day``, moved off weekends."""
    previous = (day.replace(day=1) - timedelta(days=1)).replace(day=dom)
    return _business_day(day.replace(day=dom)) == day or _business_day(previous) == day


def _last_month(day: date, language: str) -> str:
    return data.MONTHS[language][(day.month - 2) % 12]


# -- what happens on an account -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Entry:
    """A transaction before it gets its ids: ``key`` identifies it within the account for good."""

    key: str
    day: date  # booking date
    amount: Decimal  # signed, currency precision
    name: str = ""
    iban: str = ""
    reference: str = ""
    end_to_end_id: str = ""
    scenario: str = ""
    pays: tuple[str, ...] = ()
    value_day: date | None = None


# How invoices get paid, with the share of invoices each style gets.
_STYLES = (
    ("exact", 0.46),  # the exact amount, the number in the remittance
    ("sloppy", 0.12),  # the exact amount, the number typed carelessly
    ("amount_only", 0.09),  # the exact amount, no number: only the partner's name and account tell
    ("partial", 0.07),  # two instalments quoting the number
    ("pair", 0.08),  # two invoices of one partner in one transfer
    ("overpaid", 0.05),  # a little more than the gross, quoting the number
    ("on_behalf", 0.05),  # the partner's accountant pays, quoting the number
    ("end_to_end", 0.04),  # the number only in the end-to-end id
    ("special", 0.04),  # EUR: bank fee deducted; PLN: split payment title; HUF: exact
)
_MAX_DELAY_DAYS = 20


def _style(number: str) -> str:
    r = data.Dice("style", number).random()
    for style, share in _STYLES:
        r -= share
        if r < 0:
            return style
    return "exact"


def _partner_key(inv: Invoice) -> str:
    return tax_key(inv.partner_tax_id) or " ".join(sorted(name_tokens(inv.partner_name))) or inv.partner_name


class _Planner:
    """Plans the payments of one account's invoices (issued, positive, dated, in its currency)."""

    def __init__(self, account: ProviderAccount, bank: _Bank, invoices: Sequence[Invoice]) -> None:
        self.account = account
        self.bank = bank
        currency = account.currency
        eligible: dict[str, Invoice] = {}
        for inv in invoices:
            if (
                inv.direction is Direction.ISSUED
                and inv.kind is not InvoiceKind.CREDIT_NOTE
                and inv.currency == currency
                and inv.gross > 0
                and inv.issue_date is not None
                and inv.number.strip()
            ):
                eligible.setdefault(inv.number.strip(), inv)
        self.invoices = sorted(eligible.values(), key=lambda i: (i.issue_date or date.min, i.number))

    def payments(self) -> list[_Entry]:
        out: list[_Entry] = []
        claimed: set[str] = set()
        for k, inv in enumerate(self.invoices):
            if inv.number in claimed:
                continue
            out += self._pay(inv, k, claimed)
        return out

    # -- one invoice ----------------------------------------------------------------------------

    def _language(self, number: str) -> str:
        if self.account.currency == "EUR" and data.Dice("language", number).chance(0.5):
            return "EN"
        return self.bank.language

    def _payer(self, inv: Invoice) -> tuple[str, str]:
        key = _partner_key(inv)
        country = {"HUF": "HU", "PLN": "PL"}.get(inv.currency, self.bank.institution.country)
        iban = inv.partner_iban or data.iban_for(country, "partner", key)
        return data.printed_name(inv.partner_name, data.Dice("name", key)), iban

    def _pay(self, inv: Invoice, k: int, claimed: set[str]) -> list[_Entry]:
        assert inv.issue_date is not None
        dice = data.Dice("payment", inv.number)
        style = _style(inv.number)
        lang = self._language(inv.number)
        day = _business_day(inv.issue_date + timedelta(days=dice.below(_MAX_DELAY_DAYS + 1)))
        name, iban = self._payer(inv)
        currency = self.account.currency
        gross = _money(inv.gross, currency)
        number = inv.number.strip()

        def entry(amount: Decimal, reference: str, scenario: str = style, part: int = 1, e2e: str = "") -> _Entry:
            text = data.fill(reference, r=number, n=name)
            return _Entry(f"pay:{number}:{part}", day, amount, name, iban, text, e2e, scenario, (number,))

        if style == "sloppy":
            return [entry(gross, dice.pick(data.SINGLE[lang]).replace("{r}", data.sloppy_number(number, dice)))]
        if style == "amount_only" and name:
            return [entry(gross, dice.pick(data.NO_REF[lang]))]
        if style == "partial":
            first = _money(gross * Decimal(dice.between(30, 60)) / 100, currency)
            if currency == "HUF":  # people pay round forints on account
                first = first.quantize(Decimal("1E3"), ROUND_HALF_UP).quantize(Decimal(1))
            if 0 < first < gross:
                later = _business_day(day + timedelta(days=dice.between(7, 15)))
                return [
                    entry(first, dice.pick(data.PARTIAL[lang])),
                    replace(entry(gross - first, dice.pick(data.REST[lang]), part=2), day=later),
                ]
        if style == "pair" and (other := self._pair_for(inv, k, claimed)) is not None:
            claimed.add(other.number)
            assert other.issue_date is not None
            day = max(day, _business_day(other.issue_date + timedelta(days=dice.below(4))))
            numbers = (number, other.number.strip())
            listed = dice.pick(data.JOINERS[lang]).join(numbers)
            text = data.fill(dice.pick(data.MULTI[lang]), l=listed, n=name)
            amount = gross + _money(other.gross, currency)
            return [_Entry(f"pay:{'+'.join(numbers)}:1", day, amount, name, iban, text, scenario=style, pays=numbers)]
        if style == "overpaid":
            extra = Decimal(dice.between(1, 500)) if currency == "HUF" else Decimal(dice.between(1, 500)).scaleb(-2)
            return [entry(gross + extra, dice.pick(data.SINGLE[lang]))]
        if style == "on_behalf":
            who = dice.pick(data.ACCOUNTANTS[lang])
            text = data.fill(dice.pick(data.ON_BEHALF[lang]), r=number, p=inv.partner_name or "?")
            behalf = data.printed_name(who, dice)
            other_iban = data.iban_for(self.bank.institution.country, "accountant", who)
            return [_Entry(f"pay:{number}:1", day, gross, behalf, other_iban, text, scenario=style, pays=(number,))]
        if style == "end_to_end":
            return [entry(gross, dice.pick(data.E2E_TEXT[lang]), e2e=number.replace(" ", ""))]
        if style == "special" and currency == "EUR":
            fee = Decimal(dice.between(150, 700)).scaleb(-2)
            if fee < gross:
                return [entry(gross - fee, dice.pick(data.SINGLE[lang]), scenario="fee_deducted")]
        if style == "special" and currency == "PLN" and len(nip := tax_key(inv.partner_tax_id)) == 10:
            vat = format(_money(gross * 23 / 123, "PLN"), "f").replace(".", ",")
            title = f"/VAT/{vat}/IDC/{nip}/INV/{number}/TXT/{dice.pick(('Zapłata', 'Faktura', 'Przelew'))}"
            return [entry(gross, title, scenario="split_payment")]
        return [entry(gross, dice.pick(data.SINGLE[lang]), scenario="exact")]

    def _pair_for(self, inv: Invoice, k: int, claimed: set[str]) -> Invoice | None:
        """Return the partner's next invoice (issued within 20 days) to pay together with ``inv``, if any."""
        assert inv.issue_date is not None
        key = _partner_key(inv)
        for other in self.invoices[k + 1 :]:
            assert other.issue_date is not None
            if (other.issue_date - inv.issue_date).days > _MAX_DELAY_DAYS:
                return None
            if other.number not in claimed and _partner_key(other) == key and _style(other.number) != "pair":
                return other
        return None


def _noise(account: ProviderAccount, bank: _Bank, day: date) -> list[_Entry]:
    """Return the transactions that no issued invoice explains, booked on ``day`` (weekdays only)."""
    if day.weekday() >= 5:
        return []
    out: list[_Entry] = []
    currency, lang, country = account.currency, bank.language, bank.institution.country
    home = currency != "EUR"
    dice = data.Dice("day", account.iban, day.isoformat())

    def add(scenario: str, amount: Decimal, name: str = "", iban: str = "", text: str = "", value: date = day) -> None:
        key = f"{scenario}:{day.isoformat()}:{len(out)}"
        out.append(_Entry(key, day, amount, name, iban, text, scenario=scenario, value_day=value))

    for _ in range(dice.below(3) if home else int(dice.chance(0.2))):
        merchants = data.MERCHANTS[lang if home else "EN"]
        merchant = dice.pick(merchants)
        text = data.fill(dice.pick(data.CARD[lang if home else "EN"]), m=merchant, c=dice.pick(data.CITIES[lang]))
        low, high = {"HUF": (600, 45_000), "PLN": (8, 450)}.get(currency, (5, 300))
        bought = day - timedelta(days=dice.below(3 if day.weekday() == 0 else 2))
        add("card_payment", -_units(dice, currency, low, high), merchant, "", text, bought)
    if dice.chance(0.08 if home else 0.05):
        payer, text = dice.pick(data.STRAY_INCOME[lang if home else "EN"])
        low, high = {"HUF": (15_000, 400_000), "PLN": (150, 4_000)}.get(currency, (40, 900))
        amount = _units(dice, currency, low, high) + Decimal(dice.between(1, 9))
        add("income_no_invoice", amount, payer, data.iban_for(country, "stray", payer), text)

    last_month = _last_month(day, lang)

    def monthly(dom: int) -> data.Dice | None:
        """Return the dice of the month's event on day ``dom`` when it is booked today, else None."""
        return data.Dice("month", account.iban, day.year, day.month, dom) if _monthly_on(day, dom) else None

    if month := monthly(1):
        fee_low, fee_high = {"HUF": (1_500, 9_500), "PLN": (15, 60)}.get(currency, (4, 15))
        fee_text = month.pick(data.ACCOUNT_FEES[lang if home else "EN"])
        add("bank_fee", -_units(month, currency, fee_low, fee_high), data.BANK_NAME[lang], "", fee_text)
    if not home:
        return out
    if month := monthly(10):
        staff = data.Dice("staff", account.iban)
        for person in data.EMPLOYEES[lang][: staff.between(2, 4)]:
            low, high = (350_000, 950_000) if currency == "HUF" else (4_500, 14_000)
            text = data.fill(month.pick(data.SALARY[lang]), mon=last_month)
            add("salary", -_units(month, currency, low, high), person, data.iban_for(country, "employee", person), text)
    for dom, (payee, template, low, high) in zip((12, 20, 25), data.TAXES[lang], strict=False):
        if month := monthly(dom):
            text = data.fill(template, mon=last_month)
            add("tax", -_units(month, currency, low, high), payee, data.iban_for(country, "tax", payee), text)
    for dom, (payee, template, low, high) in zip((8, 18, 22, 5), data.UTILITIES[lang], strict=True):
        if month := monthly(dom):
            text = data.fill(template, mon=last_month)
            add("utility", -_units(month, currency, low, high), payee, data.iban_for(country, "utility", payee), text)
    return out


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
        session = _session(reference)
        state = ConsentState.VALID if self._now() < session.valid_until else ConsentState.EXPIRED
        return ConsentStatus(state, session.valid_until)

    def _open(self, reference: str, account_uid: str) -> tuple[_Bank, ProviderAccount]:
        session = _session(reference)
        if self._now() >= session.valid_until:
            raise ConsentExpiredError("The sandbox bank consent has expired; connect the account again.")
        m = _ACCOUNT.fullmatch(account_uid)
        if m is None or m["bank"] != session.bank.code or m["sid"] != session.sid:
            raise ProviderError("This consent does not cover that sandbox account.", permanent=True)
        currency = m["currency"].upper()
        if currency not in session.bank.currencies:
            raise ProviderError("This consent does not cover that sandbox account.", permanent=True)
        return session.bank, _account(session.bank, session.sid, currency)

    def _entries(self, bank: _Bank, account: ProviderAccount, first: date, last: date) -> list[_Entry]:
        """Return what is booked on the account from ``first`` to ``last`` (both included), in order."""
        if first > last:
            return []
        entries = [
            e for e in _Planner(account, bank, self.context.open_invoices()).payments() if first <= e.day <= last
        ]
        day = first
        while day <= last:
            entries += _noise(account, bank, day)
            day += timedelta(days=1)
        return sorted(entries, key=lambda e: (e.day, e.key))

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
        start = {"HUF": (18_000_000, 40_000_000), "PLN": (90_000, 250_000)}.get(account.currency, (15_000, 60_000))
        closing = _units(data.Dice("opening", account.iban), account.currency, *start)
        closing += sum((e.amount for e in entries if e.day < today), Decimal(0))
        available = closing + sum((e.amount for e in entries if e.day == today), Decimal(0))
        return [
            Balance(_money(closing, account.currency), account.currency, "closingBooked", today),
            Balance(_money(available, account.currency), account.currency, "interimAvailable", today),
        ]


def _transaction(account: ProviderAccount, e: _Entry, pending: bool) -> Transaction:
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
