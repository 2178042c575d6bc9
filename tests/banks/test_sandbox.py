"""The sandbox bank: consent flow, expiry, deterministic history, and payments the matching engine can pair."""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from urllib.parse import parse_qs, parse_qsl, urlsplit

import pytest

from reconbot.core.banks.errors import ConsentExpiredError, ConsentRefusedError, ProviderError
from reconbot.core.banks.model import Consent, ConsentRequest, ConsentState, FeedTransactions, ProviderAccount
from reconbot.core.banks.provider import ProviderContext, build_provider
from reconbot.core.banks.sandbox import (
    AUTHORIZE_PATH,
    MAX_HISTORY_DAYS,
    SandboxProvider,
    approval_code,
    authorisation,
    consent_redirect,
)
from reconbot.core.domain import Direction, Invoice, InvoiceKind, InvoiceStatus, Transaction
from reconbot.core.matching.engine import reconcile
from reconbot.core.matching.model import MatchStatus
from reconbot.core.matching.payers import PartnerDirectory, PayerEvidence
from reconbot.core.matching.references import ReferenceIndex, reference_fields
from tests.fakes.clock import FakeClock

NOW = datetime(2025, 6, 18, 9, 30, tzinfo=UTC)  # a Wednesday
TODAY = NOW.date()
REDIRECT = "https://reconbot.example/bank/callback"


# (name, tax id, IBAN on the invoices, currency, a fixed monthly amount or None)
PARTNERS_HU = (
    ("Kovács és Társa Kft.", "12345676-2-42", "HU24109256507976355316112011", "HUF", None),
    ("Duna Építőipari Kft.", "23456787-2-13", "", "HUF", None),
    ("Nagy János", "", "", "HUF", None),
    ("Tisza-Mező Bt.", "28765439-1-07", "", "HUF", None),
    ("Alfa Informatikai Zrt.", "13579135-2-41", "HU52117540198880123796933171", "HUF", None),
    ("Balaton Vendéglátó Kft.", "24681357-2-19", "", "HUF", Decimal(127000)),
    ("Kiss Réka e.v.", "66778899-1-33", "", "HUF", None),
    ("Nordlicht Trading GmbH", "DE811223344", "", "EUR", None),
    ("Kárpát Logisztikai Kft.", "11223344-2-43", "", "EUR", None),
)
PARTNERS_PL = (
    ("Polmex Sp. z o.o.", "5260250274", "", "PLN", None),
    ("Jan Kowalski", "", "", "PLN", None),
    ("Agro-Tech sp.j.", "7740001454", "", "PLN", Decimal("1230.00")),
    ("Biuro Projektowe Lipowa", "8971761258", "", "PLN", None),
)


def make_invoices(
    partners: Sequence[tuple[str, str, str, str, Decimal | None]], first_issue: date, count: int, series: str
) -> list[Invoice]:
    """Return ``count`` issued invoices spread over 40 days from ``first_issue``, partners taking turns."""
    rng = random.Random(f"{series}{first_issue}")
    out = []
    for k in range(1, count + 1):
        name, tax_id, iban, currency, monthly = partners[k % len(partners)]
        if monthly is not None:
            gross = monthly
        elif currency == "HUF":
            gross = Decimal(rng.randint(12, 900) * 1000 + rng.choice((0, 0, 250, 635, 990)))
        else:
            gross = Decimal(rng.randint(8000, 950000)).scaleb(-2)
        number = f"{series}-{currency}/{k:04d}" if currency == "EUR" else f"{series}/{k:04d}"
        out.append(
            Invoice(
                id=f"{series}{k}",
                number=number,
                direction=Direction.ISSUED,
                kind=InvoiceKind.PROFORMA if k % 11 == 0 else InvoiceKind.INVOICE,
                gross=gross,
                currency=currency,
                partner_name=name,
                partner_tax_id=tax_id,
                partner_iban=iban,
                issue_date=first_issue + timedelta(days=k * 40 // count),
                due_date=first_issue + timedelta(days=k * 40 // count + 8),
            )
        )
    return out


def hu_invoices(first_issue: date = TODAY - timedelta(days=85), count: int = 60) -> list[Invoice]:
    return make_invoices(PARTNERS_HU, first_issue, count, "SZLA-2025")


def pl_invoices(first_issue: date = TODAY - timedelta(days=85), count: int = 30) -> list[Invoice]:
    return make_invoices(PARTNERS_PL, first_issue, count, "FV/2025")


def provider(clock: FakeClock, invoices: Sequence[Invoice] = ()) -> SandboxProvider:
    listed = list(invoices)
    return SandboxProvider(
        ProviderContext(public_url="https://reconbot.example", clock=clock, invoices_to_pay=lambda: listed)
    )


def request(institution: str = "SANDBOX_HU", days: int = 90, state: str = "st-123") -> ConsentRequest:
    return ConsentRequest(institution, institution[-2:], REDIRECT, state, NOW + timedelta(days=days), 90)


async def connect(p: SandboxProvider, institution: str = "SANDBOX_HU", days: int = 90) -> Consent:
    start = await p.start_connection(request(institution, days))
    return await p.finish_connection(start.reference, {"code": approval_code(start.reference), "state": "st-123"})


async def fetch(
    p: SandboxProvider, consent: Consent, account: ProviderAccount, first: date, last: date
) -> FeedTransactions:
    return await p.transactions(consent.reference, account.uid, first, last)


def iban_valid(iban: str) -> bool:
    """Return True when ``iban`` passes the ISO 13616 mod-97 check."""
    text = iban.replace(" ", "").upper()
    if len(text) < 15 or not text.isalnum():
        return False
    return int("".join(str(int(c, 36)) for c in text[4:] + text[:4])) % 97 == 1


def giro_valid(number: str) -> bool:
    """Return True when a Hungarian GIRO account number's two parts carry valid check digits."""

    def ok(part: str) -> bool:
        return sum(int(d) * (9, 7, 3, 1)[i % 4] for i, d in enumerate(part)) % 10 == 0

    return len(number) == 24 and ok(number[:8]) and ok(number[8:])


def pays(tx: Transaction) -> list[str]:
    assert tx.raw is not None
    found: list[str] = tx.raw["sandbox"]["pays"]
    return found


# -- connecting -----------------------------------------------------------------------------------


async def test_institutions_per_country_with_caps() -> None:
    p = provider(FakeClock(NOW))
    hu, pl = await p.institutions("HU"), await p.institutions("pl")
    assert [i.name for i in hu] == ["Sandbox Bank HU"] and [i.name for i in pl] == ["Sandbox Bank PL"]
    assert all(i.max_consent_days == 180 and i.max_history_days == 90 for i in hu + pl)
    assert await p.institutions("DE") == []


async def test_built_from_the_registry_without_credentials() -> None:
    p = build_provider("sandbox", {}, ProviderContext())
    assert isinstance(p, SandboxProvider) and SandboxProvider.credential_fields == ()


async def test_start_url_is_the_consent_page_with_state_and_redirect() -> None:
    p = SandboxProvider(ProviderContext(public_url="https://reconbot.example/", clock=FakeClock(NOW)))
    start = await p.start_connection(request(state="opaque state/+&"))
    url = urlsplit(start.url)
    assert f"{url.scheme}://{url.netloc}{url.path}" == f"https://reconbot.example{AUTHORIZE_PATH}"
    query = {k: v[0] for k, v in parse_qs(url.query).items()}
    assert query == {
        "reference": start.reference,
        "state": "opaque state/+&",
        "redirect_url": REDIRECT,
        "bank": "Sandbox Bank HU",
    }
    other = await p.start_connection(request())
    assert other.reference != start.reference  # a random id each time
    with pytest.raises(ProviderError) as err:
        await p.start_connection(request("NO_SUCH_BANK"))
    assert err.value.permanent


async def test_approved_code_gives_a_consent_for_the_days_asked() -> None:
    clock = FakeClock(NOW)
    p = provider(clock)
    start = await p.start_connection(request(days=30))
    clock.now += timedelta(minutes=3)  # the owner takes a while at the bank
    callback = dict(parse_qsl(urlsplit(consent_redirect(REDIRECT, "st-123", start.reference, True)).query))
    assert callback == {"code": approval_code(start.reference), "state": "st-123"}
    consent = await p.finish_connection(start.reference, callback)
    assert consent.reference.startswith("sbx-session-")
    assert consent.valid_until == clock.now + timedelta(days=30)
    assert [a.currency for a in consent.accounts] == ["HUF", "EUR"]
    assert all(iban_valid(a.iban) and a.iban.startswith("HU") and len(a.iban) == 28 for a in consent.accounts)
    assert all(giro_valid(a.iban[4:]) for a in consent.accounts)
    assert len({a.uid for a in consent.accounts}) == 2
    again = await p.finish_connection(start.reference, callback)
    assert again.accounts == consent.accounts  # uids and IBANs are stable from the reference
    assert authorisation(start.reference).accounts == consent.accounts  # what the consent page shows


async def test_consent_days_default_and_cap() -> None:
    p = provider(FakeClock(NOW))
    assert (await connect(p, days=90)).valid_until == NOW + timedelta(days=90)
    assert (await connect(p, days=400)).valid_until == NOW + timedelta(days=180)
    pl = await connect(p, "SANDBOX_PL")
    assert [(a.currency, a.iban[:2]) for a in pl.accounts] == [("PLN", "PL")]
    assert iban_valid(pl.accounts[0].iban)


async def test_forged_or_missing_code_is_refused_as_permanent() -> None:
    p = provider(FakeClock(NOW))
    start = await p.start_connection(request())
    other = await p.start_connection(request())
    for callback in ({"code": "0" * 32, "state": "st-123"}, {"code": approval_code(other.reference)}, {}):
        with pytest.raises(ProviderError) as err:
            await p.finish_connection(start.reference, callback)
        assert err.value.permanent and not isinstance(err.value, ConsentRefusedError)
    with pytest.raises(ProviderError):
        await p.finish_connection("sbx-auth-hu-90-nothex", {"code": approval_code("sbx-auth-hu-90-nothex")})


async def test_refusal_redirect_raises_consent_refused() -> None:
    p = provider(FakeClock(NOW))
    start = await p.start_connection(request())
    url = consent_redirect(REDIRECT + "?ws=7", "st-123", start.reference, False)
    assert url == f"{REDIRECT}?ws=7&error=access_denied&state=st-123"
    with pytest.raises(ConsentRefusedError):
        await p.finish_connection(start.reference, dict(parse_qsl(urlsplit(url).query)))


async def test_consent_expires_by_the_clock() -> None:
    clock = FakeClock(NOW)
    p = provider(clock, hu_invoices())
    start = await p.start_connection(request(days=10))
    assert (await p.consent_status(start.reference)).state is ConsentState.PENDING
    consent = await p.finish_connection(start.reference, {"code": approval_code(start.reference)})
    account = consent.accounts[0]
    status = await p.consent_status(consent.reference)
    assert status.state is ConsentState.VALID and status.valid_until == NOW + timedelta(days=10)
    clock.now = consent.valid_until - timedelta(seconds=1)
    assert (await p.consent_status(consent.reference)).state is ConsentState.VALID
    await p.transactions(consent.reference, account.uid, TODAY, TODAY)
    clock.now = consent.valid_until
    # Another process, knowing only the reference, sees the same.
    later = provider(clock)
    assert (await later.consent_status(consent.reference)).state is ConsentState.EXPIRED
    with pytest.raises(ConsentExpiredError):
        await later.transactions(consent.reference, account.uid, TODAY, TODAY)
    with pytest.raises(ConsentExpiredError):
        await later.balances(consent.reference, account.uid)


async def test_unknown_reference_or_account_is_a_permanent_error() -> None:
    p = provider(FakeClock(NOW))
    hu, pl = await connect(p), await connect(p, "SANDBOX_PL")
    for reference, uid in ((hu.reference, pl.accounts[0].uid), ("sbx-session-xx", hu.accounts[0].uid)):
        with pytest.raises(ProviderError) as err:
            await p.transactions(reference, uid, TODAY, TODAY)
        assert err.value.permanent
    with pytest.raises(ProviderError):
        await p.consent_status("nonsense")


# -- history --------------------------------------------------------------------------------------


async def test_overlapping_windows_agree_whatever_was_paid_since() -> None:
    invoices = hu_invoices()
    p = provider(FakeClock(NOW), invoices)
    consent = await connect(p)
    for account in consent.accounts:
        early = await fetch(p, consent, account, TODAY - timedelta(days=80), TODAY - timedelta(days=20))
        late = await fetch(p, consent, account, TODAY - timedelta(days=40), TODAY - timedelta(days=1))
        shared = [t for t in early.booked if t.booking_date >= TODAY - timedelta(days=40)]
        assert shared and shared == [t for t in late.booked if t.booking_date <= TODAY - timedelta(days=20)]
        assert [t.id for t in shared] == [t.bank_id for t in shared]

        # Later the invoices are paid (and listed in another order); a renewed consent in a new process
        # sees the same history under the same ids.
        paid = [dataclasses.replace(i, paid=i.gross, status=InvoiceStatus.PAID) for i in reversed(invoices)]
        renewed_provider = provider(FakeClock(NOW + timedelta(days=5)), paid)
        renewed = await connect(renewed_provider)
        same = next(a for a in renewed.accounts if a.currency == account.currency)
        assert same.iban == account.iban and same.uid != account.uid
        again = await fetch(renewed_provider, renewed, same, TODAY - timedelta(days=80), TODAY - timedelta(days=20))
        assert again.booked == early.booked
        assert [t.raw for t in again.booked] == [t.raw for t in early.booked]


async def test_every_invoice_gets_a_payment_a_matcher_can_use() -> None:
    invoices = hu_invoices() + pl_invoices()
    index = ReferenceIndex.of_numbers((i.number, i.order_number) for i in invoices)
    partners = PartnerDirectory(invoices)
    p = provider(FakeClock(NOW), invoices)
    txs: list[Transaction] = []
    for institution in ("SANDBOX_HU", "SANDBOX_PL"):
        consent = await connect(p, institution)
        for account in consent.accounts:
            txs += (await fetch(p, consent, account, TODAY - timedelta(days=90), TODAY)).booked
    by_number = {inv.number: k for k, inv in enumerate(invoices)}
    paid: dict[str, Decimal] = {}
    scenarios = set()
    for tx in txs:
        if not pays(tx):
            continue
        assert tx.raw is not None
        scenarios.add(tx.raw["sandbox"]["scenario"])
        meant = {by_number[n] for n in pays(tx)}
        assert all(invoices[k].currency == tx.currency for k in meant)
        assert tx.amount > 0 and tx.booking_date >= min(invoices[k].issue_date or TODAY for k in meant)
        named = {k for hit in index.find(reference_fields(tx.reference, tx.end_to_end_id, "")) for k in hit.invoices}
        if not meant <= named:
            # No number quoted: the payer's account or name and the exact amount must tell.
            (k,) = meant
            payer = partners.identify(tx.counterparty_iban, tx.counterparty_name)
            assert partners.of_invoice[k] in payer.partners and payer.evidence >= PayerEvidence.NAME, tx
            assert tx.amount == invoices[k].gross, tx
        if len(meant) > 1:
            assert tx.amount == sum((invoices[k].gross for k in meant), Decimal(0))
        for n in pays(tx):
            paid[n] = paid.get(n, Decimal(0)) + (tx.amount if len(meant) == 1 else invoices[by_number[n]].gross)
    assert set(paid) == {i.number for i in invoices}
    for inv in invoices:
        # Exactly, or a few units over (overpayment), or a bank fee short (EUR).
        assert inv.gross - Decimal(7) <= paid[inv.number] <= inv.gross + 500, inv.number
    assert {"exact", "sloppy", "amount_only", "partial", "pair", "overpaid", "on_behalf"} <= scenarios


async def test_pending_today_is_booked_tomorrow_under_another_id() -> None:
    clock = FakeClock(NOW)
    p = provider(clock, hu_invoices(TODAY - timedelta(days=30)))
    consent = await connect(p)
    account = consent.accounts[0]
    today = await fetch(p, consent, account, TODAY - timedelta(days=3), TODAY)
    assert today.pending and all(t.booking_date == TODAY for t in today.pending)
    assert all(t.booking_date < TODAY for t in today.booked)
    clock.now += timedelta(days=1)
    tomorrow = await fetch(p, consent, account, TODAY - timedelta(days=3), TODAY + timedelta(days=1))
    booked_today = [t for t in tomorrow.booked if t.booking_date == TODAY]
    assert len(booked_today) == len(today.pending)
    for pending, booked in zip(today.pending, booked_today, strict=True):
        assert pending.id == pending.bank_id != booked.id == booked.bank_id
        assert dataclasses.replace(pending, id=booked.id, bank_id=booked.bank_id) == booked
    assert [t for t in tomorrow.booked if t.booking_date < TODAY] == list(today.booked)


async def test_amounts_have_the_currency_precision_and_sign() -> None:
    p = provider(FakeClock(NOW), hu_invoices() + pl_invoices())
    seen = set()
    for institution in ("SANDBOX_HU", "SANDBOX_PL"):
        consent = await connect(p, institution)
        for account in consent.accounts:
            feed = await fetch(p, consent, account, TODAY - timedelta(days=90), TODAY)
            for tx in feed.booked + feed.pending:
                assert isinstance(tx.amount, Decimal) and tx.currency == account.currency
                assert tx.amount.as_tuple().exponent == (0 if tx.currency == "HUF" else -2), tx
                assert tx.account_iban == account.iban
                assert tx.raw is not None
                scenario = tx.raw["sandbox"]["scenario"]
                seen.add(scenario)
                if scenario in ("card_payment", "bank_fee", "salary", "tax", "utility"):
                    assert tx.amount < 0, tx
                else:
                    assert tx.amount > 0, tx
                if tx.counterparty_iban:
                    assert iban_valid(tx.counterparty_iban), tx
    assert {"card_payment", "bank_fee", "salary", "tax", "utility", "income_no_invoice"} <= seen


async def test_no_future_days_and_no_history_beyond_the_cap() -> None:
    p = provider(FakeClock(NOW), hu_invoices(TODAY - timedelta(days=10)))
    consent = await connect(p)
    feed = await fetch(p, consent, consent.accounts[0], TODAY - timedelta(days=400), TODAY + timedelta(days=60))
    days = [t.booking_date for t in feed.booked + feed.pending]
    assert max(days) <= TODAY and min(days) >= TODAY - timedelta(days=MAX_HISTORY_DAYS)
    assert all(t.booking_date.weekday() < 5 for t in feed.booked)
    empty = await fetch(p, consent, consent.accounts[0], TODAY + timedelta(days=1), TODAY + timedelta(days=9))
    assert empty.booked == () and empty.pending == ()


async def test_balances_are_deterministic_and_add_up() -> None:
    invoices = hu_invoices()
    p = provider(FakeClock(NOW), invoices)
    consent = await connect(p)
    account = consent.accounts[0]
    first = await p.balances(consent.reference, account.uid)
    assert first == await provider(FakeClock(NOW), invoices).balances(consent.reference, account.uid)
    closing, available = first
    assert (closing.kind, available.kind) == ("closingBooked", "interimAvailable")
    assert closing.reference_date == TODAY and closing.currency == "HUF"
    pending = (await fetch(p, consent, account, TODAY, TODAY)).pending
    assert available.amount - closing.amount == sum((t.amount for t in pending), Decimal(0))


# -- through the matching engine ------------------------------------------------------------------


@pytest.mark.parametrize("institution", ["SANDBOX_HU", "SANDBOX_PL"])
async def test_thirty_days_through_the_matching_engine(institution: str) -> None:
    first_issue = TODAY - timedelta(days=50)
    invoices = hu_invoices(first_issue, 90) if institution == "SANDBOX_HU" else pl_invoices(first_issue, 90)
    p = provider(FakeClock(NOW), invoices)
    consent = await connect(p, institution)
    account = consent.accounts[0]  # HUF or PLN
    feed = await fetch(p, consent, account, TODAY - timedelta(days=30), TODAY - timedelta(days=1))
    txs = list(feed.booked)
    results = {r.transaction_id: r for r in reconcile(txs, invoices)}
    meant = [t for t in txs if pays(t)]
    assert len(meant) >= 30 and len(txs) > len(meant)
    for tx in txs:
        # Nothing goes to an invoice the payment was not meant for; noise gets nothing at all.
        allocated = {a.invoice_number for a in results[tx.id].allocations}
        assert allocated <= set(pays(tx)), (tx, results[tx.id])
    automatic = [t for t in meant if results[t.id].status is MatchStatus.MATCHED]
    assert len(automatic) >= 0.8 * len(meant)
