"""GoCardlessProvider against the fake GoCardless API served on a local port (no mocked HTTP)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from urllib.parse import parse_qsl, urlsplit

import pytest

from reconbot.core.banks.errors import (
    ConsentExpiredError,
    ConsentRefusedError,
    ProviderError,
    RateLimitedError,
)
from reconbot.core.banks.gocardless import GoCardlessProvider
from reconbot.core.banks.model import CallBudget, Consent, ConsentRequest, ConsentStart, ConsentState
from reconbot.core.banks.provider import ProviderContext, build_provider
from tests.fakes.clock import FakeClock, RecordingSleep
from tests.fakes.gocardless import FakeGoCardless
from tests.fakes.server import serve

SECRET_ID = "sid-4d1f0c9e-6a0b-4f6e-9d1e"
SECRET_KEY = "skey-6c3b1e8f0e9a4c7b9d2f1a0e5b7c3d9f"
BANK = "OTP_OTPVHUHB"
START = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> FakeClock:
    """The suite's clock, started at ``START``."""
    return FakeClock(START)


@pytest.fixture
def fake(clock: FakeClock) -> FakeGoCardless:
    fake = FakeGoCardless(secret_id=SECRET_ID, secret_key=SECRET_KEY, clock=clock)
    fake.add_institution(BANK, "OTP Bank", bic="OTPVHUHB", transaction_total_days=730, max_access_valid_for_days=180)
    fake.add_account("acc-1", "HU42117730161111101800000000", currency="HUF", name="Business", owner="Kovács Kft.")
    fake.add_account("acc-2", "HU93116000060000000012345676", currency="EUR", owner="Kovács Kft.")
    return fake


@pytest.fixture
async def base_url(fake: FakeGoCardless) -> AsyncIterator[str]:
    async with serve(fake.app) as url:
        yield url + "/api/v2"


def make(base_url: str, clock: FakeClock, sleeps: RecordingSleep, **credentials: str) -> GoCardlessProvider:
    given = {"secret_id": SECRET_ID, "secret_key": SECRET_KEY, "base_url": base_url, **credentials}
    provider = build_provider("gocardless", given, ProviderContext(clock=clock, sleep=sleeps))
    assert isinstance(provider, GoCardlessProvider)
    return provider


@pytest.fixture
async def provider(base_url: str, clock: FakeClock, sleeps: RecordingSleep) -> AsyncIterator[GoCardlessProvider]:
    provider = make(base_url, clock, sleeps)
    yield provider
    await provider.aclose()


def consent_request(clock: FakeClock, *, days: int = 90, history: int = 365, bank: str = BANK) -> ConsentRequest:
    return ConsentRequest(
        institution_id=bank,
        country="HU",
        redirect_url="https://reconbot.example/bank/callback",
        state="st-1",
        valid_until=clock() + timedelta(days=days),
        history_days=history,
        language="hu",
    )


def callback_of(url: str) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(url).query))


async def connect(provider: GoCardlessProvider, fake: FakeGoCardless, clock: FakeClock) -> Consent:
    start = await provider.start_connection(consent_request(clock))
    return await provider.finish_connection(start.reference, callback_of(fake.link(start.reference, ["acc-1"])))


# --- credentials and tokens ------------------------------------------------------------------------------------


@pytest.mark.parametrize("missing", ["secret_id", "secret_key"])
def test_missing_credential_is_a_permanent_error_naming_the_field(missing: str) -> None:
    given = {"secret_id": SECRET_ID, "secret_key": SECRET_KEY, missing: " "}
    with pytest.raises(ProviderError) as caught:
        GoCardlessProvider.from_credentials(given, ProviderContext())
    assert caught.value.permanent
    assert missing in str(caught.value)
    assert SECRET_KEY not in str(caught.value)


async def test_token_is_obtained_once_and_reused(fake: FakeGoCardless, provider: GoCardlessProvider) -> None:
    await provider.institutions("hu")
    await provider.institutions("hu")
    assert fake.count("/token/new/") == 1
    assert fake.count("/token/refresh/") == 0
    calls = [r for r in fake.requests if r.path == "/institutions/"]
    assert len(calls) == 2
    assert calls[0].authorization == calls[1].authorization == f"Bearer {fake.issued_tokens[0]}"
    assert fake.requests[0].body == {"secret_id": SECRET_ID, "secret_key": SECRET_KEY}


async def test_access_token_is_refreshed_when_it_is_about_to_expire(
    fake: FakeGoCardless, provider: GoCardlessProvider, clock: FakeClock
) -> None:
    await provider.institutions("hu")
    clock.advance(seconds=fake.access_expires - 30)  # inside the safety margin: refresh before it is refused
    await provider.institutions("hu")
    assert fake.count("/token/new/") == 1
    assert fake.count("/token/refresh/") == 1
    refresh = next(r for r in fake.requests if r.path == "/token/refresh/")
    assert refresh.body == {"refresh": fake.issued_tokens[1]}
    assert fake.requests[-1].authorization == f"Bearer {fake.issued_tokens[2]}"
    assert all(r.status == 200 for r in fake.requests)

    clock.advance(days=31)  # the refresh token has ended too: back to secret id/key
    await provider.institutions("hu")
    assert fake.count("/token/new/") == 2


async def test_a_refused_access_token_is_renewed_once(fake: FakeGoCardless, provider: GoCardlessProvider) -> None:
    await provider.institutions("hu")
    fake.expire_access_tokens()
    banks = await provider.institutions("hu")
    assert BANK in {b.id for b in banks}
    assert [r.status for r in fake.requests if r.path == "/institutions/"] == [200, 401, 200]

    fake.fail_next("/institutions/", status=401, times=2)  # refused even with a fresh token: no loop
    with pytest.raises(ProviderError) as caught:
        await provider.institutions("hu")
    assert caught.value.status == 401
    assert [r.status for r in fake.requests if r.path == "/institutions/"][-2:] == [401, 401]


async def test_wrong_secret_is_permanent_and_not_echoed(
    base_url: str, clock: FakeClock, sleeps: RecordingSleep, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    provider = make(base_url, clock, sleeps, secret_key="wrong-key-0123456789")
    try:
        with pytest.raises(ProviderError) as caught:
            await provider.institutions("hu")
    finally:
        await provider.aclose()
    assert caught.value.permanent
    assert "refused" in str(caught.value)
    assert "wrong-key-0123456789" not in str(caught.value) + caplog.text
    assert SECRET_ID not in str(caught.value) + caplog.text


# --- institutions and the connect flow -------------------------------------------------------------------------


async def test_institutions_carry_the_banks_caps(provider: GoCardlessProvider) -> None:
    banks = {b.id: b for b in await provider.institutions("hu")}
    assert set(banks) == {BANK}
    otp = banks[BANK]
    assert (otp.name, otp.country, otp.bic) == ("OTP Bank", "HU", "OTPVHUHB")
    assert (otp.max_history_days, otp.max_consent_days) == (730, 180)


async def test_full_connect_flow(fake: FakeGoCardless, provider: GoCardlessProvider, clock: FakeClock) -> None:
    fake.add_institution("SMALL_BANK", "Small Bank", transaction_total_days=90, max_access_valid_for_days=90)
    start = await provider.start_connection(consent_request(clock, days=400, history=365, bank="SMALL_BANK"))
    assert isinstance(start, ConsentStart)
    requisition = fake.requisitions[start.reference]
    assert start.url == requisition["link"]
    assert start.url.endswith(f"/fake-bank/{start.reference}")
    agreement_body = next(r.body for r in fake.requests if r.path == "/agreements/enduser/" and r.method == "POST")
    assert agreement_body == {
        "institution_id": "SMALL_BANK",
        "max_historical_days": 90,  # capped by the bank
        "access_valid_for_days": 90,
        "access_scope": ["balances", "details", "transactions"],
    }
    assert (requisition["reference"], requisition["user_language"]) == ("st-1", "HU")
    assert requisition["redirect"] == "https://reconbot.example/bank/callback"

    with pytest.raises(ProviderError) as pending:
        await provider.finish_connection(start.reference, {"ref": "st-1"})
    assert not pending.value.permanent
    assert "not finished" in str(pending.value)

    clock.advance(minutes=5)
    callback = callback_of(fake.link(start.reference, ["acc-1", "acc-2"]))
    assert callback == {"ref": "st-1"}
    consent = await provider.finish_connection(start.reference, callback)
    assert consent.reference == start.reference
    assert consent.valid_until == START + timedelta(minutes=5, days=90)
    assert [(a.uid, a.iban, a.currency, a.name) for a in consent.accounts] == [
        ("acc-1", "HU42117730161111101800000000", "HUF", "Business"),
        ("acc-2", "HU93116000060000000012345676", "EUR", "Kovács Kft."),
    ]


async def test_access_days_follow_the_requested_end(
    fake: FakeGoCardless, provider: GoCardlessProvider, clock: FakeClock
) -> None:
    await provider.start_connection(consent_request(clock, days=30, history=30))
    body = next(r.body for r in fake.requests if r.path == "/agreements/enduser/")
    assert (body["access_valid_for_days"], body["max_historical_days"]) == (30, 30)


async def test_refusal_raises_consent_refused(
    fake: FakeGoCardless, provider: GoCardlessProvider, clock: FakeClock
) -> None:
    start = await provider.start_connection(consent_request(clock))
    url = fake.reject(start.reference)
    with pytest.raises(ConsentRefusedError, match="UserCancelledSession"):
        await provider.finish_connection(start.reference, callback_of(url))
    with pytest.raises(ConsentRefusedError, match="refused"):  # the requisition's own status, without error params
        await provider.finish_connection(start.reference, {"ref": "st-1"})


async def test_callback_of_another_attempt_is_rejected(
    fake: FakeGoCardless, provider: GoCardlessProvider, clock: FakeClock
) -> None:
    start = await provider.start_connection(consent_request(clock))
    fake.link(start.reference, ["acc-1"])
    with pytest.raises(ProviderError, match="another connection attempt"):
        await provider.finish_connection(start.reference, {"ref": "someone-elses-state"})


async def test_unknown_institution_is_permanent_with_gocardless_summary(
    provider: GoCardlessProvider, clock: FakeClock
) -> None:
    with pytest.raises(ProviderError) as caught:
        await provider.start_connection(consent_request(clock, bank="NOPE"))
    assert caught.value.permanent
    assert caught.value.status == 404
    assert "Not found" in str(caught.value)


@pytest.mark.parametrize(
    ("status", "state"),
    [
        ("CR", ConsentState.PENDING),
        ("UA", ConsentState.PENDING),
        ("GA", ConsentState.PENDING),
        ("LN", ConsentState.VALID),
        ("EX", ConsentState.EXPIRED),
        ("SU", ConsentState.EXPIRED),
        ("RJ", ConsentState.REJECTED),
    ],
)
async def test_consent_status_mapping(
    fake: FakeGoCardless, provider: GoCardlessProvider, clock: FakeClock, status: str, state: ConsentState
) -> None:
    start = await provider.start_connection(consent_request(clock))
    fake.link(start.reference, ["acc-1"])
    fake.set_status(start.reference, status)
    found = await provider.consent_status(start.reference)
    assert found.state is state
    assert found.valid_until == (START + timedelta(days=90) if status == "LN" else None)


async def test_linked_consent_past_its_end_is_expired(
    fake: FakeGoCardless, provider: GoCardlessProvider, clock: FakeClock
) -> None:
    consent = await connect(provider, fake, clock)
    clock.advance(days=91)
    assert (await provider.consent_status(consent.reference)).state is ConsentState.EXPIRED


# --- transactions, balances, limits ----------------------------------------------------------------------------


async def test_transactions_are_mapped_with_signed_decimals(
    fake: FakeGoCardless, provider: GoCardlessProvider, clock: FakeClock
) -> None:
    consent = await connect(provider, fake, clock)
    fake.add_transaction(
        "acc-1", "125000.10", currency="HUF", transactionId="T-1", bookingDate="2025-03-01", valueDate="2025-02-28",
        debtorName="Alfa Bt.", debtorAccount={"iban": "HU11111111111111111111111111"},
        creditorName="Kovács Kft.", creditorAccount={"iban": "HU42117730161111101800000000"},
        remittanceInformationUnstructured="INV-2025-0042", endToEndId="E2E-9",
        remittanceInformationStructured="RF18539007547034",
    )  # fmt: skip
    fake.add_transaction(
        "acc-1", "-9990.00", currency="HUF", internalTransactionId="int-7", bookingDateTime="2025-03-02T10:11:12Z",
        debtorName="Kovács Kft.", creditorName="Telekom Nyrt.",
        creditorAccount={"iban": "HU22222222222222222222222222"},
        remittanceInformationUnstructuredArray=["Invoice INV-", "2025-0043"], endToEndId="NOTPROVIDED",
        additionalInformation="card payment",
    )  # fmt: skip
    fake.add_transaction("acc-1", "-1.5", currency="HUF", bookingDate="2025-03-02", additionalInformation="Fee")
    fake.add_transaction("acc-1", "5", currency="HUF", bookingDate="2024-12-31", transactionId="OLD")  # outside
    fake.add_transaction(
        "acc-1", "300.00", currency="HUF", booked=False, valueDate="2025-03-03", debtorName="Béta Zrt."
    )

    feed = await provider.transactions(consent.reference, "acc-1", date(2025, 3, 1), date(2025, 3, 3))

    query = next(r.query for r in fake.requests if r.path == "/accounts/acc-1/transactions/")
    assert query == {"date_from": "2025-03-01", "date_to": "2025-03-03"}
    assert [t.bank_id for t in feed.booked] == ["T-1", "int-7", ""]
    incoming, outgoing, fee = feed.booked
    assert incoming.amount == Decimal("125000.10") and type(incoming.amount) is Decimal
    assert str(incoming.amount) == "125000.10"  # no float on the way
    assert (incoming.counterparty_name, incoming.counterparty_iban) == ("Alfa Bt.", "HU11111111111111111111111111")
    assert (incoming.booking_date, incoming.value_date) == (date(2025, 3, 1), date(2025, 2, 28))
    assert (incoming.reference, incoming.end_to_end_id) == ("INV-2025-0042", "E2E-9")
    assert incoming.structured_reference == "RF18539007547034"
    assert incoming.id == "T-1" and incoming.raw is not None and incoming.raw["transactionId"] == "T-1"
    assert outgoing.amount == Decimal("-9990.00")
    assert (outgoing.counterparty_name, outgoing.counterparty_iban) == ("Telekom Nyrt.", "HU22222222222222222222222222")
    assert outgoing.reference == "Invoice INV-\n2025-0043"  # array kept line by line; additionalInformation unused
    assert outgoing.end_to_end_id == ""
    assert outgoing.booking_date == date(2025, 3, 2)
    assert (fee.amount, fee.reference) == (Decimal("-1.5"), "Fee")
    assert len(feed.pending) == 1
    pending = feed.pending[0]
    assert (pending.amount, pending.counterparty_name, pending.bank_id) == (Decimal("300.00"), "Béta Zrt.", "")
    assert pending.booking_date == date(2025, 3, 3)
    assert all(t.currency == "HUF" for t in (*feed.booked, *feed.pending))


async def test_daily_budget_is_reported_and_the_fifth_call_is_refused(
    fake: FakeGoCardless, provider: GoCardlessProvider, clock: FakeClock, sleeps: RecordingSleep
) -> None:
    consent = await connect(provider, fake, clock)
    budgets = []
    for _ in range(4):
        feed = await provider.transactions(consent.reference, "acc-1", date(2025, 3, 1), date(2025, 3, 3))
        budgets.append(feed.budget)
    assert budgets[0] == CallBudget(limit=4, remaining=3, reset_seconds=86400)
    assert [b.remaining for b in budgets if b] == [3, 2, 1, 0]

    clock.advance(hours=1)
    with pytest.raises(RateLimitedError) as caught:
        await provider.transactions(consent.reference, "acc-1", date(2025, 3, 1), date(2025, 3, 3))
    assert caught.value.daily
    assert caught.value.retry_after == 86400 - 3600
    assert sleeps.waits == []  # not retried: it cannot succeed before the reset
    assert [r.status for r in fake.requests if r.path.endswith("/transactions/")] == [200, 200, 200, 200, 429]

    # Each endpoint has its own allowance; the next day it is back.
    assert (await provider.balances(consent.reference, "acc-1")) == []
    clock.advance(hours=23)
    feed = await provider.transactions(consent.reference, "acc-1", date(2025, 3, 1), date(2025, 3, 3))
    assert feed.budget == CallBudget(limit=4, remaining=3, reset_seconds=86400)


async def test_daily_limit_is_recognised_from_the_body_alone(
    fake: FakeGoCardless, provider: GoCardlessProvider, clock: FakeClock, sleeps: RecordingSleep
) -> None:
    fake.daily_limit_headers_on_429 = False  # the budget headers are documented for successful calls only
    fake.daily_limit = 1
    consent = await connect(provider, fake, clock)  # spends the one "details" call
    await provider.transactions(consent.reference, "acc-1", date(2025, 3, 1), date(2025, 3, 3))
    with pytest.raises(RateLimitedError) as caught:
        await provider.transactions(consent.reference, "acc-1", date(2025, 3, 1), date(2025, 3, 3))
    assert caught.value.daily
    assert caught.value.retry_after == 86400  # from "Please try again in N seconds"
    assert sleeps.waits == []


async def test_access_expired_mid_sync(fake: FakeGoCardless, provider: GoCardlessProvider, clock: FakeClock) -> None:
    consent = await connect(provider, fake, clock)
    fake.add_transaction("acc-1", "10.00", bookingDate="2025-03-01", transactionId="A")
    feed = await provider.transactions(consent.reference, "acc-1", date(2025, 3, 1), date(2025, 3, 3))
    assert len(feed.booked) == 1
    fake.expire(consent.reference)
    with pytest.raises(ConsentExpiredError) as caught:
        await provider.transactions(consent.reference, "acc-1", date(2025, 3, 1), date(2025, 3, 3))
    assert caught.value.permanent and caught.value.status == 401
    assert "reconnect" in str(caught.value)
    assert fake.count("/token/") == 1  # AccessExpiredError is about the consent: no token renewal
    assert (await provider.consent_status(consent.reference)).state is ConsentState.EXPIRED


async def test_suspended_account_is_expired_consent(
    fake: FakeGoCardless, provider: GoCardlessProvider, clock: FakeClock
) -> None:
    consent = await connect(provider, fake, clock)
    fake.suspend(consent.reference)
    with pytest.raises(ConsentExpiredError, match="suspended") as caught:
        await provider.balances(consent.reference, "acc-1")
    assert caught.value.status == 409


async def test_503_once_is_retried_after_backoff(
    fake: FakeGoCardless, provider: GoCardlessProvider, clock: FakeClock, sleeps: RecordingSleep
) -> None:
    consent = await connect(provider, fake, clock)
    fake.add_transaction("acc-1", "10.00", bookingDate="2025-03-01", transactionId="A")
    fake.fail_next("/transactions/", status=503)
    feed = await provider.transactions(consent.reference, "acc-1", date(2025, 3, 1), date(2025, 3, 3))
    assert [t.bank_id for t in feed.booked] == ["A"]
    assert sleeps.waits == [1.0]
    assert [r.status for r in fake.requests if r.path.endswith("/transactions/")] == [503, 200]
    assert feed.budget is not None and feed.budget.remaining == 3  # the failed call cost nothing


async def test_general_429_waits_as_retry_after_says(
    fake: FakeGoCardless, provider: GoCardlessProvider, clock: FakeClock, sleeps: RecordingSleep
) -> None:
    consent = await connect(provider, fake, clock)
    fake.rate_limit_next(1, retry_after=7)
    feed = await provider.transactions(consent.reference, "acc-1", date(2025, 3, 1), date(2025, 3, 3))
    assert feed.booked == ()
    assert sleeps.waits == [7.0]

    fake.rate_limit_next(1, retry_after=600)  # longer than we sit out: give up, but not as the daily limit
    with pytest.raises(RateLimitedError) as caught:
        await provider.institutions("hu")
    assert not caught.value.daily
    assert caught.value.retry_after == 600
    assert sleeps.waits == [7.0]


async def test_balances(fake: FakeGoCardless, provider: GoCardlessProvider, clock: FakeClock) -> None:
    consent = await connect(provider, fake, clock)
    fake.add_balance("acc-1", "-1520.35", "interimAvailable", currency="HUF", on="2025-03-02")
    fake.add_balance("acc-1", "880", "closingBooked", currency="HUF")
    found = await provider.balances(consent.reference, "acc-1")
    assert [(b.amount, b.currency, b.kind, b.reference_date) for b in found] == [
        (Decimal("-1520.35"), "HUF", "interimAvailable", date(2025, 3, 2)),
        (Decimal("880"), "HUF", "closingBooked", None),
    ]


async def test_unknown_account_is_permanent(
    fake: FakeGoCardless, provider: GoCardlessProvider, clock: FakeClock
) -> None:
    consent = await connect(provider, fake, clock)
    with pytest.raises(ProviderError) as caught:
        await provider.balances(consent.reference, "acc-404")
    assert caught.value.permanent and caught.value.status == 404
    assert not isinstance(caught.value, ConsentExpiredError)


async def test_secrets_and_tokens_never_reach_messages_or_logs(
    fake: FakeGoCardless,
    provider: GoCardlessProvider,
    clock: FakeClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    messages = []
    consent = await connect(provider, fake, clock)
    clock.advance(seconds=fake.access_expires)  # forces a refresh, so refresh and second access token exist
    fake.fail_next("/balances/", status=503, times=10)
    fake.expire_access_tokens()
    for failing in (
        provider.balances(consent.reference, "acc-1"),
        provider.transactions(consent.reference, "acc-404", date(2025, 3, 1), date(2025, 3, 3)),
        provider.finish_connection("nope", {}),
    ):
        with pytest.raises(ProviderError) as caught:
            await failing
        messages.append(str(caught.value))
    fake.expire(consent.reference)
    with pytest.raises(ConsentExpiredError) as expired:
        await provider.transactions(consent.reference, "acc-1", date(2025, 3, 1), date(2025, 3, 3))
    messages.append(str(expired.value))
    assert len(fake.issued_tokens) >= 3
    assert caplog.text  # the HTTP client did log; none of it may carry a secret
    for secret in (SECRET_ID, SECRET_KEY, *fake.issued_tokens):
        assert secret not in caplog.text
        assert all(secret not in m for m in messages)
