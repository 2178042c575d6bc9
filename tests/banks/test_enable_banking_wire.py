"""Enable Banking's wire format, on payloads shaped as its API reference documents them (no HTTP)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import httpx
import pytest

from reconbot.core.banks import enable_banking_wire as wire
from reconbot.core.banks.errors import ConsentExpiredError, ProviderError, RateLimitedError
from reconbot.core.banks.model import ConsentRequest, ConsentState, ProviderAccount
from reconbot.core.exact_json import read_json

NOW = datetime(2025, 6, 18, 9, 30, tzinfo=UTC)


def failed(status: int, body: object) -> httpx.Response:
    request = httpx.Request("GET", "https://api.enablebanking.com/accounts/u1/transactions")
    return httpx.Response(status, content=json.dumps(body).encode(), request=request)


def test_the_auth_body_asks_for_the_consent_described() -> None:
    request = ConsentRequest("Nordea", "fi", "https://r.example/cb", "st-1", datetime(2025, 9, 1, 12), 90, "fi")
    assert wire.auth_body(request) == {
        "access": {"valid_until": "2025-09-01T12:00:00+00:00"},
        "aspsp": {"name": "Nordea", "country": "FI"},
        "state": "st-1",
        "redirect_url": "https://r.example/cb",
        "psu_type": "business",
        "language": "fi",
    }


def test_aspsps_become_institutions_with_their_caps() -> None:
    body = read_json(
        b'{"aspsps": [{"name": "Nordea", "country": "FI", "bic": "NDEAFIHH", "maximum_consent_validity": 15552000,'
        b' "transaction_total_days": "730"}, {"country": "FI"}, {"name": "S-Pankki"}]}'
    )
    nordea, spankki = wire.institutions(body, "FI")
    assert (nordea.id, nordea.bic, nordea.max_consent_days, nordea.max_history_days) == ("Nordea", "NDEAFIHH", 180, 730)
    assert (spankki.id, spankki.max_consent_days, spankki.max_history_days) == ("S-Pankki", None, None)


def test_a_session_answer_becomes_a_consent_and_unreadable_accounts_are_skipped() -> None:
    body = read_json(
        b'{"session_id": "s-1", "access": {"valid_until": "2025-12-15T10:00:00.000000+00:00"},'
        b' "accounts": [{"uid": "u1", "account_id": {"iban": "FI2112345600000785"}, "currency": "EUR",'
        b' "name": "Business"}, {"account_id": {"iban": "FI5542345670000081"}, "currency": "EUR"}]}'
    )
    consent = wire.consent(body)
    assert consent.reference == "s-1" and consent.valid_until == datetime(2025, 12, 15, 10, tzinfo=UTC)
    assert consent.accounts == (ProviderAccount("u1", "FI2112345600000785", "EUR", "Business"),)
    with pytest.raises(ProviderError, match=r"lacks access\.valid_until"):
        wire.consent({"session_id": "s-1", "accounts": []})


@pytest.mark.parametrize(
    ("status", "valid_until", "state"),
    [
        ("AUTHORIZED", NOW + timedelta(days=1), ConsentState.VALID),
        ("AUTHORIZED", NOW, ConsentState.EXPIRED),
        ("RETURNED_FROM_BANK", None, ConsentState.PENDING),
        ("CANCELLED", None, ConsentState.REJECTED),
        ("REVOKED", None, ConsentState.REVOKED),
        ("SOMETHING_NEW", None, ConsentState.EXPIRED),
    ],
)
def test_session_states(status: str, valid_until: datetime | None, state: ConsentState) -> None:
    access = {"valid_until": valid_until.isoformat()} if valid_until else {}
    assert wire.session_status({"status": status, "access": access}, NOW).state is state


def test_a_page_maps_direction_dates_and_ids_and_drops_cancelled_ones() -> None:
    body = read_json(
        b'{"continuation_key": "k2", "transactions": ['
        b'{"entry_reference": "E1", "transaction_amount": {"currency": "EUR", "amount": "120.10"},'
        b' "credit_debit_indicator": "CRDT", "status": "BOOK", "booking_date": "2025-06-02",'
        b' "value_date": "2025-06-03", "debtor": {"name": "Acme Oy"}, "debtor_account": {"iban": "FI2112345600000785"},'
        b' "remittance_information": ["INV-7", "thanks"], "reference_number": "RF18539007547034",'
        b' "end_to_end_id": "E2E-1"},'
        b'{"transaction_id": "T2", "transaction_amount": {"currency": "EUR", "amount": 9.90},'
        b' "credit_debit_indicator": "DBIT", "status": "PDNG", "transaction_date": "2025-06-04",'
        b' "creditor": {"name": "Shop"}, "creditor_account": {"other": {"identification": "12345"}}},'
        b'{"entry_reference": "E3", "transaction_amount": {"currency": "EUR", "amount": "5"},'
        b' "credit_debit_indicator": "DBIT", "status": "CNCL", "booking_date": "2025-06-02"}]}'
    )
    found, key = wire.transaction_page(body)
    assert key == "k2" and len(found) == 2
    (booked, incoming), (is_booked, outgoing) = found
    assert booked and not is_booked
    assert (incoming.id, incoming.amount, incoming.booking_date, incoming.value_date) == (
        "E1", Decimal("120.10"), date(2025, 6, 2), date(2025, 6, 3),
    )  # fmt: skip
    assert (incoming.counterparty_name, incoming.counterparty_iban) == ("Acme Oy", "FI2112345600000785")
    assert (incoming.reference, incoming.structured_reference, incoming.end_to_end_id) == (
        "INV-7\nthanks", "RF18539007547034", "E2E-1",
    )  # fmt: skip
    assert (outgoing.id, outgoing.amount, outgoing.booking_date) == ("T2", Decimal("-9.90"), date(2025, 6, 4))
    assert (outgoing.counterparty_name, outgoing.counterparty_iban) == ("Shop", "12345")
    # A JSON number arrives as an exact Decimal; what is kept raw is storable in a JSON column.
    assert outgoing.raw is not None and outgoing.raw["transaction_amount"]["amount"] == "9.90"
    json.dumps(outgoing.raw)
    assert wire.transaction_page({"transactions": []}) == ([], "")


def test_an_amount_that_is_no_number_is_an_error_not_a_zero() -> None:
    item = {"entry_reference": "E9", "booking_date": "2025-06-02", "transaction_amount": {"amount": "abc"}}
    with pytest.raises(ProviderError, match="is not a number"):
        wire.transaction(item)
    with pytest.raises(ProviderError, match="not exact"):
        wire.transaction({**item, "transaction_amount": {"amount": 1.5}})


def test_balances_are_signed_decimals() -> None:
    body = read_json(
        b'{"balances": [{"name": "x", "balance_amount": {"currency": "EUR", "amount": "-12.5"},'
        b' "balance_type": "CLBD", "reference_date": "2025-06-17"}]}'
    )
    (balance,) = wire.balances(body)
    assert (balance.amount, balance.kind, balance.reference_date) == (Decimal("-12.5"), "CLBD", date(2025, 6, 17))


def test_error_codes_decide_before_statuses() -> None:
    ended = wire.error_for(failed(401, {"message": "Session expired", "error": "EXPIRED_SESSION"}), "transactions")
    assert isinstance(ended, ConsentExpiredError) and "[EXPIRED_SESSION]" in str(ended)
    daily = wire.error_for(failed(429, {"message": "Limit", "error": "ASPSP_RATE_LIMIT_EXCEEDED"}), "transactions")
    assert isinstance(daily, RateLimitedError) and daily.daily
    refused = wire.error_for(failed(401, {"message": "Bad JWT", "error": "UNAUTHORIZED_ACCESS"}), "bank list")
    assert refused.permanent and "check the application id and private key" in str(refused)
    down = wire.error_for(failed(503, "<html>"), "bank list")
    assert not down.permanent and str(down).endswith("(HTTP 503)")
    assert wire.error_code(failed(500, ["not an object"])) == ""
