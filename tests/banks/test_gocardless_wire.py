"""GoCardless' wire format, on payloads shaped as its API documentation shows them (no HTTP)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal

import httpx
import pytest

from reconbot.core.banks import gocardless_wire as wire
from reconbot.core.banks.errors import ProviderError
from reconbot.core.banks.model import CallBudget, ConsentRequest, ProviderAccount
from reconbot.core.exact_json import read_json


def answer(status: int, body: object, headers: dict[str, str] | None = None) -> httpx.Response:
    request = httpx.Request("GET", "https://bankaccountdata.gocardless.com/api/v2/accounts/a1/transactions/")
    return httpx.Response(status, content=json.dumps(body).encode(), headers=headers, request=request)


def test_the_request_bodies() -> None:
    assert wire.agreement_body("REVOLUT_REVOGB21", 365, 90) == {
        "institution_id": "REVOLUT_REVOGB21",
        "max_historical_days": 365,
        "access_valid_for_days": 90,
        "access_scope": ["balances", "details", "transactions"],
    }
    request = ConsentRequest(
        "REVOLUT_REVOGB21", "GB", "https://r.example/cb", "st-1", datetime(2025, 9, 1), 90, "hu-HU"
    )
    body = wire.requisition_body(request, "ag-1")
    assert (body["reference"], body["agreement"], body["user_language"]) == ("st-1", "ag-1", "HU")


def test_institutions_carry_their_caps() -> None:
    body = read_json(
        b'[{"id": "OTP_OTPVHUHB", "name": "OTP Bank", "bic": "OTPVHUHB", "transaction_total_days": "730",'
        b' "max_access_valid_for_days": "180", "countries": ["HU"], "logo": "https://x"}]'
    )
    (otp,) = wire.institutions(body, "hu")
    assert (otp.id, otp.country, otp.max_history_days, otp.max_consent_days) == ("OTP_OTPVHUHB", "HU", 730, 180)
    assert wire.institution(body[0], "").country == "HU" and wire.institutions({"detail": "x"}, "HU") == []


def test_account_details_and_the_agreement_end() -> None:
    details = read_json(b'{"account": {"iban": "HU42117730161111101800000000", "currency": "HUF", "ownerName": "Kft"}}')
    assert wire.account("a1", details) == ProviderAccount("a1", "HU42117730161111101800000000", "HUF", "Kft")
    agreement = {
        "created": "2025-06-01T10:00:00.123456Z",
        "accepted": "2025-06-02T08:00:00Z",
        "access_valid_for_days": 90,
    }
    assert wire.agreement_end(agreement) == datetime(2025, 8, 31, 8, tzinfo=UTC)
    assert wire.agreement_end({"created": "2025-06-01T10:00:00Z"}) is None


def test_berlin_group_transactions_are_mapped_with_signed_exact_amounts() -> None:
    body = read_json(
        b'{"transactions": {"booked": [{"transactionId": "T-1", "bookingDate": "2025-06-02", "valueDate": "2025-06-03",'
        b' "transactionAmount": {"amount": "45000", "currency": "HUF"}, "debtorName": "Kovacs Kft",'
        b' "debtorAccount": {"iban": "HU42117730161111101800000000"}, "remittanceInformationUnstructured": "SZLA-7",'
        b' "endToEndId": "NOTPROVIDED"}, {"internalTransactionId": "I-2", "bookingDate": "2025-06-04",'
        b' "transactionAmount": {"amount": -12.30, "currency": "EUR"}, "creditorName": "Shop",'
        b' "remittanceInformationUnstructuredArray": ["card", " ", "4411"]}],'
        b' "pending": [{"valueDate": "2025-06-05", "transactionAmount": {"amount": "1.00", "currency": "EUR"}},'
        b' {"transactionAmount": {"currency": "EUR"}}]}}'
    )
    booked, pending = wire.transactions(body)
    incoming, outgoing = booked
    assert (incoming.id, incoming.amount, incoming.value_date, incoming.counterparty_name) == (
        "T-1", Decimal(45000), date(2025, 6, 3), "Kovacs Kft",
    )  # fmt: skip
    assert (incoming.reference, incoming.end_to_end_id) == ("SZLA-7", "")
    assert (outgoing.id, outgoing.amount, outgoing.counterparty_name, outgoing.reference) == (
        "I-2", Decimal("-12.30"), "Shop", "card\n4411",
    )  # fmt: skip
    assert outgoing.raw is not None and outgoing.raw["transactionAmount"]["amount"] == "-12.30"
    json.dumps(outgoing.raw)
    (waiting,) = pending  # the one without amount or date is left for when it is booked
    assert (waiting.id, waiting.booking_date, waiting.amount) == ("", date(2025, 6, 5), Decimal("1.00"))


def test_a_booked_transaction_without_amount_or_date_is_an_error() -> None:
    with pytest.raises(ProviderError, match="unreadable amount"):
        wire.transaction({"bookingDate": "2025-06-02", "transactionAmount": {"amount": "12,3.4"}}, booked=True)
    with pytest.raises(ProviderError, match="no booking or value date"):
        wire.transaction({"transactionAmount": {"amount": "1"}}, booked=True)


def test_balances() -> None:
    body = read_json(
        b'{"balances": [{"balanceAmount": {"amount": "657.49", "currency": "EUR"}, "balanceType": "interimAvailable",'
        b' "referenceDate": "2025-06-17"}]}'
    )
    (balance,) = wire.balances(body)
    assert (balance.amount, balance.kind, balance.reference_date) == (
        Decimal("657.49"),
        "interimAvailable",
        date(2025, 6, 17),
    )


def test_error_bodies_top_level_and_nested_by_field() -> None:
    top = answer(401, {"summary": "AccessExpiredError", "detail": "Access has expired", "status_code": 401})
    assert wire.problem(top) == ("AccessExpiredError", "Access has expired", "") and wire.consent_ended(
        wire.problem(top)
    )
    nested = answer(400, {"max_historical_days": {"summary": "Too long", "detail": "At most 540"}, "status_code": 400})
    assert wire.problem(nested) == ("max_historical_days: Too long", "At most 540", "")
    assert wire.problem(answer(502, "Bad Gateway")) == ("", "", "")


def test_the_daily_budget_headers_in_any_spelling() -> None:
    headers = {
        "HTTP_X_RATELIMIT_ACCOUNT_SUCCESS_LIMIT": "4",
        "http_x_ratelimit_account_success_remaining": "0",
        "X-RateLimit-Account-Success-Reset": "3600",
    }
    spent = answer(429, {"summary": "Rate limit exceeded", "detail": "Please try again in 3600 seconds"}, headers)
    assert wire.budget(spent.headers) == CallBudget(4, 0, 3600)
    assert wire.is_daily(spent, wire.problem(spent)) and wire.wait_seconds(spent, wire.problem(spent)) == 3600
    minute = answer(429, {"summary": "Rate limit exceeded", "detail": "Please try again in 12 seconds"})
    assert wire.budget(minute.headers) is None and not wire.is_daily(minute, wire.problem(minute))
    assert wire.wait_seconds(minute, wire.problem(minute)) == 12
    daily = answer(429, {"summary": "Rate limit exceeded", "detail": "Daily request limit set by the bank: 4/day"})
    assert wire.is_daily(daily, wire.problem(daily))
