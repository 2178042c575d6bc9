"""What happens on a sandbox account: customers paying the workspace's invoices, and everyday noise.

Pure and deterministic: the same account, invoices and days always give the same entries, whichever
window is asked and whenever. The protocol around it (consents, ids, pending and booked) is
``reconbot.core.banks.sandbox``; names, texts and IBANs come from ``sandbox_payers``.

* **Payments** of the issued invoices in the account's currency, planned from each invoice's number,
  partner, gross and issue date only (never its paid amount or status): paid on ``issue date +
  0..20 days`` (moved off weekends), in a style seeded by the number (see ``_STYLES``); an entry's
  ``pays`` names the invoices a payment is meant for.
* **Noise** seeded by (account IBAN, day): card payments, fees, salaries, taxes, utilities, money no
  invoice explains. The IBAN (unlike the provider's account uid) survives a renewed consent, so
  renewing does not change history.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache

from reconbot.core.banks import sandbox_payers as data
from reconbot.core.domain import Direction, Invoice, InvoiceKind
from reconbot.core.parties import name_tokens, tax_key


@dataclass(frozen=True, slots=True)
class SimulatedAccount:
    """The account whose activity is simulated, and the bank's country and language of its texts."""

    iban: str
    currency: str
    country: str  # "HU", "PL"
    language: str  # "HU", "PL"


# -- amounts and days ---------------------------------------------------------------------------


def _exponent(currency: str) -> Decimal:
    return Decimal(1) if currency == "HUF" else Decimal("0.01")


def money(amount: Decimal, currency: str) -> Decimal:
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
class Entry:
    """A transaction before the bank gives it ids: ``key`` identifies it within the account for good."""

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

    def __init__(self, account: SimulatedAccount, invoices: Sequence[Invoice]) -> None:
        self.account = account
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

    def payments(self) -> list[Entry]:
        out: list[Entry] = []
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
        return self.account.language

    def _payer(self, inv: Invoice) -> tuple[str, str]:
        key = _partner_key(inv)
        country = {"HUF": "HU", "PLN": "PL"}.get(inv.currency, self.account.country)
        iban = inv.partner_iban or data.iban_for(country, "partner", key)
        return data.printed_name(inv.partner_name, data.Dice("name", key)), iban

    def _pay(self, inv: Invoice, k: int, claimed: set[str]) -> list[Entry]:
        assert inv.issue_date is not None
        dice = data.Dice("payment", inv.number)
        style = _style(inv.number)
        lang = self._language(inv.number)
        day = _business_day(inv.issue_date + timedelta(days=dice.below(_MAX_DELAY_DAYS + 1)))
        name, iban = self._payer(inv)
        currency = self.account.currency
        gross = money(inv.gross, currency)
        number = inv.number.strip()

        def entry(amount: Decimal, reference: str, scenario: str = style, part: int = 1, e2e: str = "") -> Entry:
            text = data.fill(reference, r=number, n=name)
            return Entry(f"pay:{number}:{part}", day, amount, name, iban, text, e2e, scenario, (number,))

        if style == "sloppy":
            return [entry(gross, dice.pick(data.SINGLE[lang]).replace("{r}", data.sloppy_number(number, dice)))]
        if style == "amount_only" and name:
            return [entry(gross, dice.pick(data.NO_REF[lang]))]
        if style == "partial":
            first = money(gross * Decimal(dice.between(30, 60)) / 100, currency)
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
            amount = gross + money(other.gross, currency)
            return [Entry(f"pay:{'+'.join(numbers)}:1", day, amount, name, iban, text, scenario=style, pays=numbers)]
        if style == "overpaid":
            extra = Decimal(dice.between(1, 500)) if currency == "HUF" else Decimal(dice.between(1, 500)).scaleb(-2)
            return [entry(gross + extra, dice.pick(data.SINGLE[lang]))]
        if style == "on_behalf":
            who = dice.pick(data.ACCOUNTANTS[lang])
            text = data.fill(dice.pick(data.ON_BEHALF[lang]), r=number, p=inv.partner_name or "?")
            behalf = data.printed_name(who, dice)
            other_iban = data.iban_for(self.account.country, "accountant", who)
            return [Entry(f"pay:{number}:1", day, gross, behalf, other_iban, text, scenario=style, pays=(number,))]
        if style == "end_to_end":
            return [entry(gross, dice.pick(data.E2E_TEXT[lang]), e2e=number.replace(" ", ""))]
        if style == "special" and currency == "EUR":
            fee = Decimal(dice.between(150, 700)).scaleb(-2)
            if fee < gross:
                return [entry(gross - fee, dice.pick(data.SINGLE[lang]), scenario="fee_deducted")]
        if style == "special" and currency == "PLN" and len(nip := tax_key(inv.partner_tax_id)) == 10:
            vat = format(money(gross * 23 / 123, "PLN"), "f").replace(".", ",")
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


# Each sync asks for the balance, which sums 90 days of noise; a day's noise never changes, so it is worked
# out once per account and day (a few hundred entries in memory).
@lru_cache(maxsize=8192)
def _noise(account: SimulatedAccount, day: date) -> tuple[Entry, ...]:
    """Return the transactions that no issued invoice explains, booked on ``day`` (weekdays only)."""
    return tuple(_day_noise(account, day))


def _day_noise(account: SimulatedAccount, day: date) -> list[Entry]:
    if day.weekday() >= 5:
        return []
    out: list[Entry] = []
    currency, lang, country = account.currency, account.language, account.country
    home = currency != "EUR"
    dice = data.Dice("day", account.iban, day.isoformat())

    def add(scenario: str, amount: Decimal, name: str = "", iban: str = "", text: str = "", value: date = day) -> None:
        key = f"{scenario}:{day.isoformat()}:{len(out)}"
        out.append(Entry(key, day, amount, name, iban, text, scenario=scenario, value_day=value))

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


def account_activity(account: SimulatedAccount, invoices: Sequence[Invoice], first: date, last: date) -> list[Entry]:
    """Return what is booked on ``account`` from ``first`` to ``last`` (both included), in booking order:
    the payments of ``invoices`` (only issued ones in the account's currency are paid) and each day's noise."""
    if first > last:
        return []
    entries = [e for e in _Planner(account, invoices).payments() if first <= e.day <= last]
    day = first
    while day <= last:
        entries += _noise(account, day)
        day += timedelta(days=1)
    return sorted(entries, key=lambda e: (e.day, e.key))


def opening_balance(account: SimulatedAccount) -> Decimal:
    """Return the account's balance before any simulated day (the same amount for the IBAN, always)."""
    start = {"HUF": (18_000_000, 40_000_000), "PLN": (90_000, 250_000)}.get(account.currency, (15_000, 60_000))
    return _units(data.Dice("opening", account.iban), account.currency, *start)
