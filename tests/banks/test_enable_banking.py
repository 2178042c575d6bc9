"""EnableBankingProvider against FakeEnableBanking served on a local port (real HTTP, real JWT checks)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from reconbot.core.banks.enable_banking import EnableBankingProvider
from reconbot.core.banks.errors import ConsentExpiredError, ConsentRefusedError, ProviderError, RateLimitedError
from reconbot.core.banks.model import ConsentRequest, ConsentState
from reconbot.core.banks.provider import ProviderContext
from tests.fakes.clock import FakeClock, RecordingSleep
from tests.fakes.enable_banking import (
    APPLICATION_ID,
    BankAccount,
    FakeEnableBanking,
    make_balance,
    make_keypair,
    make_transaction,
)
from tests.fakes.server import serve

START = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)
MAY_1, MAY_31 = date(2024, 5, 1), date(2024, 5, 31)


@dataclass
class Env:
    fake: FakeEnableBanking
    clock: FakeClock
    base_url: str
    private_pem: str
    sleeps: RecordingSleep
    provider: EnableBankingProvider = field(init=False)

    def provider_with(self, **credentials: str) -> EnableBankingProvider:
        given = {"application_id": APPLICATION_ID, "private_key": self.private_pem, "base_url": self.base_url}
        return EnableBankingProvider.from_credentials(
            {**given, **credentials}, ProviderContext(clock=self.clock, sleep=self.sleeps)
        )


@pytest.fixture
def clock() -> FakeClock:
    """The suite's clock, started at ``START``."""
    return FakeClock(START)


@pytest.fixture(scope="module")
def keys() -> tuple[str, str]:
    return make_keypair()


@pytest.fixture
async def env(keys: tuple[str, str], clock: FakeClock, sleeps: RecordingSleep) -> AsyncIterator[Env]:
    fake = FakeEnableBanking(keys[1], clock=clock, page_size=2)
    async with serve(fake.app) as base_url:
        holder = Env(fake, clock, base_url, keys[0], sleeps)
        holder.provider = holder.provider_with()
        yield holder
        await holder.provider.aclose()


def session_with_account(fake: FakeEnableBanking) -> tuple[str, str]:
    session_id = fake.create_session([BankAccount("FI2112345600000785", "EUR", "Main")])
    return session_id, fake.account_uids(session_id)[0]


def six_transactions() -> list[dict[str, Any]]:
    """Five that count (four booked, one pending) and one rejected, so three pages of two."""
    other_account = make_transaction(
        "99.99", "DBIT", None, value_date="2024-05-10", creditor_name="Landlord", entry_reference="E4"
    )
    other_account["creditor_account"] = {"other": {"identification": "12345678", "scheme_name": "BBAN"}}
    return [
        make_transaction(
            "1500.00",
            "CRDT",
            "2024-05-02",
            debtor_name="Acme Kft",
            debtor_iban="HU42117730161111101800000000",
            remittance=["INV-2024-", "0042 thanks"],
            entry_reference="E1",
            reference_number="RF18539007547034",
            value_date="2024-05-03",
        ),
        make_transaction(
            "23.45",
            "DBIT",
            "2024-05-04",
            creditor_name="Office Supplies",
            creditor_iban="DE89370400440532013000",
            remittance=["Order 7"],
            entry_reference="E2",
            transaction_id="volatile-2",  # entry_reference wins: transaction_id may change between fetches
        ),
        make_transaction("0.10", "CRDT", "2024-05-05", status="PDNG", debtor_name="Tiny", transaction_id="T3"),
        other_account,
        make_transaction("5.00", "DBIT", "2024-05-11", status="RJCT", entry_reference="E5"),
        make_transaction("1000000.01", "CRDT", "2024-05-12", entry_reference="E6"),
    ]


def rsa_key(private_pem: str) -> rsa.RSAPrivateKey:
    key = serialization.load_pem_private_key(private_pem.encode(), None)
    assert isinstance(key, rsa.RSAPrivateKey)
    return key


def sign_token(private_pem: str, *, kid: str = APPLICATION_ID, now: datetime = START, **overrides: Any) -> str:
    claims = {
        "iss": "enablebanking.com",
        "aud": "api.enablebanking.com",
        "iat": int(now.timestamp()),
        "exp": int(now.timestamp()) + 3600,
        **overrides,
    }
    return jwt.encode(
        claims,
        rsa_key(private_pem),
        algorithm="RS256",
        headers={"kid": kid},
    )


# --- authentication ------------------------------------------------------------------------------


async def test_every_request_carries_a_jwt_with_the_documented_header_and_claims(env: Env) -> None:
    await env.provider.institutions("FI")
    [request] = env.fake.requests
    assert request.status == 200
    assert request.jwt_header is not None and request.jwt_claims is not None
    assert request.jwt_header["kid"] == APPLICATION_ID and request.jwt_header["alg"] == "RS256"
    assert request.jwt_claims["iss"] == "enablebanking.com" and request.jwt_claims["aud"] == "api.enablebanking.com"
    assert request.jwt_claims["iat"] == int(START.timestamp())  # the context clock, not the wall clock
    assert request.jwt_claims["exp"] - request.jwt_claims["iat"] == 3600


async def test_the_token_is_reused_until_five_minutes_before_it_expires(env: Env) -> None:
    await env.provider.institutions("FI")
    env.clock.now = START + timedelta(minutes=54)
    await env.provider.institutions("FI")
    env.clock.now = START + timedelta(minutes=56)
    await env.provider.institutions("FI")
    issued = [request.jwt_claims["iat"] for request in env.fake.requests if request.jwt_claims]
    assert issued == [int(START.timestamp())] * 2 + [int(env.clock.now.timestamp())]


async def test_a_wrong_key_is_a_permanent_credentials_error_not_an_expired_consent(env: Env) -> None:
    other_private, _ = make_keypair()
    provider = env.provider_with(private_key=other_private)
    with pytest.raises(ProviderError) as caught:
        await provider.institutions("FI")
    await provider.aclose()
    assert not isinstance(caught.value, ConsentExpiredError)
    assert caught.value.permanent and caught.value.status == 401
    assert "private key" in str(caught.value) and "UNAUTHORIZED_ACCESS" in str(caught.value)
    assert env.fake.requests[-1].status == 401 and env.fake.requests[-1].jwt_claims is None


@pytest.mark.parametrize(
    "make_header",
    [
        pytest.param(lambda pem, other: "", id="no header"),
        pytest.param(lambda pem, other: f"Bearer {sign_token(other)}", id="signed by another key"),
        pytest.param(lambda pem, other: f"Bearer {sign_token(pem, kid='someone-else')}", id="wrong kid"),
        pytest.param(lambda pem, other: f"Bearer {sign_token(pem, aud='api.tilisy.com')}", id="wrong aud"),
        pytest.param(lambda pem, other: f"Bearer {sign_token(pem, iss='example.com')}", id="wrong iss"),
        pytest.param(lambda pem, other: f"Bearer {sign_token(pem, now=START - timedelta(hours=2))}", id="expired"),
        pytest.param(
            lambda pem, other: f"Bearer {sign_token(pem, exp=int(START.timestamp()) + 90000)}", id="lives over 24 h"
        ),
        pytest.param(
            lambda pem, other: (
                "Bearer "
                + jwt.encode(
                    {
                        "iss": "enablebanking.com",
                        "aud": "api.enablebanking.com",
                        "iat": int(START.timestamp()),
                        "exp": int(START.timestamp()) + 60,
                    },
                    "x" * 32,
                    algorithm="HS256",
                    headers={"kid": APPLICATION_ID},
                )
            ),
            id="HS256",
        ),
    ],
)
async def test_the_fake_really_verifies_tokens(env: Env, make_header: Callable[[str, str], str]) -> None:
    other_private, _ = make_keypair()
    async with httpx.AsyncClient(base_url=env.base_url) as client:
        good = await client.get("/aspsps", headers={"Authorization": f"Bearer {sign_token(env.private_pem)}"})
        header = make_header(env.private_pem, other_private)
        bad = await client.get("/aspsps", headers={"Authorization": header} if header else {})
    assert good.status_code == 200
    assert bad.status_code == 401
    assert bad.json()["error"] in {"UNAUTHORIZED_ACCESS", "AUTHORIZATION_NOT_PROVIDED"}


# --- credentials ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("credentials", "missing"),
    [
        ({}, "application_id, private_key"),
        ({"application_id": "app"}, "private_key"),
        ({"application_id": " ", "private_key": "x"}, "application_id"),
    ],
)
def test_missing_credentials_are_named(credentials: dict[str, str], missing: str) -> None:
    with pytest.raises(ProviderError) as caught:
        EnableBankingProvider.from_credentials(credentials, ProviderContext())
    assert caught.value.permanent
    assert str(caught.value) == f"enable-banking: missing credential(s): {missing}"


def ec_key_pem() -> str:
    key = ec.generate_private_key(ec.SECP256R1())
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def encrypted_rsa_pem() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.BestAvailableEncryption(b"secret")
    ).decode()


@pytest.mark.parametrize(
    "make_key", [lambda: "not a key", ec_key_pem, encrypted_rsa_pem], ids=["junk", "ec", "encrypted"]
)
def test_a_key_that_is_not_an_rsa_private_key_pem_is_refused(make_key: Callable[[], str]) -> None:
    pem = make_key()
    with pytest.raises(ProviderError) as caught:
        EnableBankingProvider.from_credentials({"application_id": "app", "private_key": pem}, ProviderContext())
    assert caught.value.permanent
    assert "private_key is not an unencrypted RSA private key" in str(caught.value)
    assert pem.splitlines()[min(1, len(pem.splitlines()) - 1)] not in str(caught.value)
    assert caught.value.__cause__ is None and caught.value.__suppress_context__


def test_a_key_pasted_with_literal_backslash_n_is_accepted(keys: tuple[str, str]) -> None:
    one_line = keys[0].strip().replace("\n", "\\n")
    provider = EnableBankingProvider.from_credentials(
        {"application_id": "app", "private_key": one_line}, ProviderContext()
    )
    assert "app" in repr(provider) and "PRIVATE" not in repr(provider)


async def test_the_private_key_and_token_never_reach_messages_or_logs(
    env: Env, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    key_lines = [line for line in env.private_pem.splitlines() if "PRIVATE KEY" not in line]
    messages: list[str] = []
    broken = env.private_pem.replace(key_lines[3], key_lines[3][::-1])
    for credentials in ({"private_key": broken}, {"private_key": env.private_pem[:-40]}):
        with pytest.raises(ProviderError) as caught:
            env.provider_with(**credentials)
        messages.append(str(caught.value))
    provider = env.provider_with(private_key=make_keypair()[0])
    with pytest.raises(ProviderError) as caught:
        await provider.institutions("FI")
    await provider.aclose()
    messages.append(str(caught.value))
    session_id, uid = session_with_account(env.fake)
    env.fake.expire_session(session_id)
    with pytest.raises(ConsentExpiredError) as expired:
        await env.provider.transactions(session_id, uid, MAY_1, MAY_31)
    messages.append(str(expired.value))
    assert len(messages) == 4 and caplog.records, "the flows above must have produced messages and logs"
    tokens = [r.jwt_header for r in env.fake.requests]  # tokens were sent …
    assert any(tokens)
    for text in [*messages, caplog.text]:
        assert not any(line in text for line in key_lines)
        assert "Bearer" not in text and "eyJ" not in text  # … but no JWT (base64 of '{"') is ever shown


# --- institutions and the consent flow -----------------------------------------------------------


async def test_institutions_map_the_aspsp_list(env: Env) -> None:
    found = await env.provider.institutions("fi")
    assert env.fake.requests[0].query == {"country": "FI"}
    assert [(i.id, i.name, i.country, i.bic, i.max_consent_days, i.max_history_days) for i in found] == [
        ("Nordea", "Nordea", "FI", "NDEAFIHH", 180, 730),
        ("Mock ASPSP", "Mock ASPSP", "FI", "", 90, None),
    ]


def consent_request(**changes: Any) -> ConsentRequest:
    given: dict[str, Any] = dict(
        institution_id="Nordea",
        country="fi",
        redirect_url="https://reconbot.example/cb?x=1",
        state="state-123",
        valid_until=START + timedelta(days=90),
        history_days=90,
        language="fi",
        psu_type="business",
    )
    return ConsentRequest(**{**given, **changes})


async def test_the_full_connect_flow_gives_a_consent_with_accounts(env: Env) -> None:
    env.fake.bank_accounts = [BankAccount("FI2112345600000785", "EUR", "Main"), BankAccount("FI55", "USD", "")]
    start = await env.provider.start_connection(consent_request())
    assert env.fake.auth_requests[start.reference] == {
        "access": {"valid_until": "2024-08-30T12:00:00+00:00"},
        "aspsp": {"name": "Nordea", "country": "FI"},
        "state": "state-123",
        "redirect_url": "https://reconbot.example/cb?x=1",
        "psu_type": "business",
        "language": "fi",
    }
    assert start.url == f"{env.base_url}/bank/{start.reference}"
    async with httpx.AsyncClient() as browser:  # the owner approves on the bank's page
        assert "Approve" in (await browser.get(start.url)).text
        redirect = await browser.get(start.url, params={"decision": "approve"})
    assert redirect.status_code == 302
    location = urlsplit(redirect.headers["Location"])
    assert location.netloc == "reconbot.example"
    callback = dict(parse_qsl(location.query))
    assert callback["state"] == "state-123" and callback["code"]

    consent = await env.provider.finish_connection(start.reference, callback)
    assert consent.valid_until == START + timedelta(days=90)
    assert env.fake.account_uids(consent.reference) == [account.uid for account in consent.accounts]
    assert [(a.iban, a.currency, a.name) for a in consent.accounts] == [
        ("FI2112345600000785", "EUR", "Main"),
        ("FI55", "USD", ""),
    ]
    status = await env.provider.consent_status(consent.reference)
    assert status.state is ConsentState.VALID and status.valid_until == consent.valid_until

    with pytest.raises(ProviderError) as reused:  # a code works once
        await env.provider.finish_connection(start.reference, callback)
    assert reused.value.permanent and reused.value.status == 422
    assert "Wrong authorization code provided [WRONG_AUTHORIZATION_CODE]" in str(reused.value)
    assert len(env.fake.requests_to("/sessions")) == 2  # POST is never retried


async def test_a_refused_consent_raises_with_the_bank_error(env: Env) -> None:
    start = await env.provider.start_connection(consent_request())
    callback = env.fake.deny(start.reference)
    with pytest.raises(ConsentRefusedError) as caught:
        await env.provider.finish_connection(start.reference, callback)
    assert "access_denied" in str(caught.value) and "User cancelled the authorisation" in str(caught.value)
    assert env.fake.requests_to("/sessions") == []


async def test_a_consent_longer_than_the_bank_allows_is_refused_with_the_api_message(env: Env) -> None:
    with pytest.raises(ProviderError) as caught:
        await env.provider.start_connection(
            consent_request(institution_id="OTP Bank", country="HU", valid_until=START + timedelta(days=91))
        )
    assert caught.value.permanent and caught.value.status == 422
    assert "outside the ASPSP's consent validity" in str(caught.value)


# --- transactions --------------------------------------------------------------------------------


async def test_transactions_across_three_pages(env: Env) -> None:
    session_id, uid = session_with_account(env.fake)
    for tx in [*six_transactions(), make_transaction("7.00", "CRDT", "2024-04-30", entry_reference="OLD")]:
        env.fake.add_transaction(uid, tx)

    feed = await env.provider.transactions(session_id, uid, MAY_1, MAY_31)

    calls = env.fake.requests_to("/transactions")
    assert [c.query.get("continuation_key") is not None for c in calls] == [False, True, True]
    assert all(c.query["date_from"] == "2024-05-01" and c.query["date_to"] == "2024-05-31" for c in calls)
    assert [(t.bank_id, t.amount) for t in feed.booked] == [
        ("E1", Decimal("1500.00")),
        ("E2", Decimal("-23.45")),
        ("E4", Decimal("-99.99")),
        ("E6", Decimal("1000000.01")),
    ]
    assert all(type(t.amount) is Decimal for t in (*feed.booked, *feed.pending))
    assert str(feed.booked[0].amount) == "1500.00"  # exact text, no float round trip
    assert [(t.bank_id, t.id, t.amount, t.counterparty_name) for t in feed.pending] == [
        ("T3", "T3", Decimal("0.10"), "Tiny")
    ]
    incoming, outgoing, no_booking_date = feed.booked[0], feed.booked[1], feed.booked[2]
    assert incoming.reference == "INV-2024-\n0042 thanks"
    assert (incoming.counterparty_name, incoming.counterparty_iban) == ("Acme Kft", "HU42117730161111101800000000")
    assert incoming.structured_reference == "RF18539007547034" and incoming.currency == "EUR"
    assert (incoming.booking_date, incoming.value_date) == (date(2024, 5, 2), date(2024, 5, 3))
    assert incoming.raw is not None and incoming.raw["entry_reference"] == "E1"
    assert (outgoing.counterparty_name, outgoing.counterparty_iban) == ("Office Supplies", "DE89370400440532013000")
    assert no_booking_date.booking_date == date(2024, 5, 10) and no_booking_date.counterparty_iban == "12345678"


async def test_a_page_failing_once_is_retried_and_nothing_is_doubled(env: Env) -> None:
    session_id, uid = session_with_account(env.fake)
    for n in range(6):
        env.fake.add_transaction(uid, make_transaction(f"{n}.50", "CRDT", f"2024-05-1{n}", entry_reference=f"R{n}"))
    env.fake.fail_page(uid, 1, status=500, times=1)

    feed = await env.provider.transactions(session_id, uid, MAY_1, MAY_31)

    assert [t.bank_id for t in feed.booked] == [f"R{n}" for n in range(6)]
    calls = env.fake.requests_to("/transactions")
    assert [c.status for c in calls] == [200, 500, 200, 200]
    assert calls[1].query == calls[2].query  # the same page asked again
    assert env.sleeps.waits == [1.0]


async def test_a_429_waits_exactly_what_retry_after_says(env: Env) -> None:
    session_id, uid = session_with_account(env.fake)
    env.fake.add_transaction(uid, make_transaction("1.00", entry_reference="A"))
    env.fake.rate_limit(times=1, retry_after=7)

    feed = await env.provider.transactions(session_id, uid, MAY_1, MAY_31)

    assert [t.bank_id for t in feed.booked] == ["A"]
    assert env.sleeps.waits == [7.0]
    assert [c.status for c in env.fake.requests_to("/transactions")] == [429, 200]


async def test_a_429_asking_for_longer_than_we_wait_raises_rate_limited(env: Env) -> None:
    session_id, uid = session_with_account(env.fake)
    env.fake.rate_limit(times=1, retry_after=3600)
    with pytest.raises(RateLimitedError) as caught:
        await env.provider.transactions(session_id, uid, MAY_1, MAY_31)
    assert caught.value.retry_after == 3600 and env.sleeps.waits == []


async def test_the_banks_daily_allowance_is_a_daily_rate_limit(env: Env) -> None:
    session_id, uid = session_with_account(env.fake)
    env.fake.inject_error("GET", f"/accounts/{uid}/transactions", 400, "ASPSP_RATE_LIMIT_EXCEEDED", "ASPSP limit")
    with pytest.raises(RateLimitedError) as caught:
        await env.provider.transactions(session_id, uid, MAY_1, MAY_31)
    assert caught.value.daily


async def test_a_session_expiring_mid_sync_raises_consent_expired(env: Env) -> None:
    session_id, uid = session_with_account(env.fake)
    for tx in six_transactions():
        env.fake.add_transaction(uid, tx)
    env.fake.expire_session(session_id, after_pages=1)

    with pytest.raises(ConsentExpiredError) as caught:
        await env.provider.transactions(session_id, uid, MAY_1, MAY_31)

    assert caught.value.permanent and caught.value.status == 401
    assert "expired" in str(caught.value) and "EXPIRED_SESSION" in str(caught.value)
    assert [c.status for c in env.fake.requests_to("/transactions")] == [200, 401]  # not retried


async def test_an_invalid_request_is_a_permanent_error_with_the_api_message(env: Env) -> None:
    session_id, uid = session_with_account(env.fake)
    with pytest.raises(ProviderError) as caught:
        await env.provider.transactions(session_id, uid, MAY_31, MAY_1)
    assert caught.value.permanent and caught.value.status == 422
    assert "date_from should be less than or equal date_to [WRONG_DATE_INTERVAL]" in str(caught.value)


async def test_signed_and_numeric_amounts_are_read_defensively(env: Env, caplog: pytest.LogCaptureFixture) -> None:
    session_id, uid = session_with_account(env.fake)
    numeric = make_transaction("0", "CRDT", entry_reference="NUM")
    numeric["transaction_amount"]["amount"] = 0.1  # a JSON number, which float parsing would blur
    no_indicator = make_transaction("-5.00", "", creditor_name="Shop", debtor_name="Us", entry_reference="NOIND")
    for tx in (
        make_transaction("-12.30", "DBIT", entry_reference="DBL"),
        no_indicator,
        numeric,
        make_transaction("-7.00", "CRDT", entry_reference="CONFLICT"),
    ):
        env.fake.add_transaction(uid, tx)

    feed = await env.provider.transactions(session_id, uid, MAY_1, MAY_31)

    amounts = {t.bank_id: t.amount for t in feed.booked}
    assert amounts == {
        "DBL": Decimal("-12.30"),
        "NOIND": Decimal("-5.00"),
        "NUM": Decimal("0.1"),
        "CONFLICT": Decimal("7.00"),
    }
    assert next(t for t in feed.booked if t.bank_id == "NOIND").counterparty_name == "Shop"
    assert "CONFLICT" in caplog.text and "CRDT with a negative amount" in caplog.text


# --- status and balances -------------------------------------------------------------------------


async def test_consent_status_follows_the_session(env: Env) -> None:
    valid_until = START + timedelta(days=30)
    ids = [env.fake.create_session(valid_until=valid_until) for _ in range(3)]
    env.fake.expire_session(ids[1])
    env.fake.revoke_session(ids[2])

    states = [(await env.provider.consent_status(session_id)).state for session_id in [*ids, "no-such-session"]]
    assert states == [ConsentState.VALID, ConsentState.EXPIRED, ConsentState.REVOKED, ConsentState.EXPIRED]
    assert (await env.provider.consent_status(ids[0])).valid_until == valid_until

    env.clock.now = valid_until + timedelta(seconds=1)  # ran out by the clock
    assert (await env.provider.consent_status(ids[0])).state is ConsentState.EXPIRED


async def test_balances_are_signed_decimals(env: Env) -> None:
    session_id, uid = session_with_account(env.fake)
    env.fake.set_balances(uid, [make_balance("-12.50", "EUR", "ITAV", "2024-05-31"), make_balance("1000.00")])
    balances = await env.provider.balances(session_id, uid)
    assert [(b.amount, b.currency, b.kind, b.reference_date) for b in balances] == [
        (Decimal("-12.50"), "EUR", "ITAV", date(2024, 5, 31)),
        (Decimal("1000.00"), "EUR", "CLBD", None),
    ]
