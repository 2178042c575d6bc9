"""GoCardless Bank Account Data's wire format: its JSON answers to ``reconbot.core.banks.model`` values,
its error bodies, and the rate-limit headers.

Pure functions of what the API sent (bodies as ``reconbot.core.exact_json`` parses them, so amounts
arrive as text or Decimal, never float). Transactions are Berlin Group shaped (``transactionAmount``,
``bookingDate``, ``remittanceInformationUnstructured``…). Banks may allow only a few successful account
calls a day per endpoint; GoCardless reports that budget in ``HTTP_X_RATELIMIT_ACCOUNT_SUCCESS_*``
headers and answers 429 once it is spent.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx

from reconbot.core.banks.errors import ProviderError
from reconbot.core.banks.model import Balance, CallBudget, ConsentRequest, Institution, ProviderAccount
from reconbot.core.domain import Transaction
from reconbot.core.exact_json import decimals_as_text
from reconbot.core.http_client import error_json, retry_after_seconds
from reconbot.core.money import parse_dot_amount

NAME = "gocardless"
CONSENT_ENDED = frozenset({"AccessExpiredError", "AccountInactiveError"})
_TRY_AGAIN = re.compile(r"try again in (\d+) seconds", re.IGNORECASE)
_DAILY = re.compile(r"\bdaily\b|/\s*day\b|\bper day\b", re.IGNORECASE)


# --- requests -----------------------------------------------------------------------------------------------


def agreement_body(institution_id: str, history_days: int, access_days: int) -> dict[str, Any]:
    """Return the ``POST /agreements/enduser/`` body: the history and access days, and the full scope."""
    return {
        "institution_id": institution_id,
        "max_historical_days": history_days,
        "access_valid_for_days": access_days,
        "access_scope": ["balances", "details", "transactions"],
    }


def requisition_body(request: ConsentRequest, agreement_id: str) -> dict[str, Any]:
    """Return the ``POST /requisitions/`` body: our callback and state, the agreement, the owner's language."""
    language = request.language[:2].upper() if request.language[:2].isalpha() else "EN"
    return {
        "redirect": request.redirect_url,
        "institution_id": request.institution_id,
        "reference": request.state,
        "agreement": agreement_id,
        "user_language": language,
    }


# --- answers ------------------------------------------------------------------------------------------------


def institution(item: dict[str, Any], country: str) -> Institution:
    """Return one bank of ``GET /institutions/`` with its caps; ``country`` "" takes the bank's first one."""
    countries = _list(item.get("countries")) or [country]
    return Institution(
        id=text(item, "id"),
        name=text(item, "name"),
        country=(country or str(countries[0])).upper(),
        bic=text(item, "bic"),
        max_consent_days=integer(item.get("max_access_valid_for_days")),
        max_history_days=integer(item.get("transaction_total_days")),
    )


def institutions(body: Any, country: str) -> list[Institution]:
    """Return the banks of a ``GET /institutions/?country=`` answer (a JSON list)."""
    return [institution(item, country) for item in _list(body) if isinstance(item, dict)]


def account(uid: str, body: Any) -> ProviderAccount:
    """Return account ``uid`` from its ``GET /accounts/{uid}/details/`` answer (``{"account": {…}}``)."""
    details = _dict(body, "account")
    name = text(details, "name") or text(details, "ownerName") or text(details, "product")
    return ProviderAccount(uid, text(details, "iban"), text(details, "currency"), name)


def agreement_end(body: Any) -> datetime | None:
    """Return when an end-user agreement ends: accepted (else created) + its access days; None if unknown."""
    start = _datetime(_obj(body).get("accepted")) or _datetime(_obj(body).get("created"))
    days = integer(_obj(body).get("access_valid_for_days"))
    return start + timedelta(days=days) if start and days is not None else None


def transactions(body: Any) -> tuple[tuple[Transaction, ...], tuple[Transaction, ...]]:
    """Return the (booked, pending) transactions of a ``GET /accounts/{uid}/transactions/`` answer.

    Raises ``ProviderError`` for a booked transaction without amount or date (see ``transaction``).
    """
    found = _dict(body, "transactions")
    booked = tuple(t for item in _list(found.get("booked")) if (t := transaction(item, booked=True)))
    pending = tuple(t for item in _list(found.get("pending")) if (t := transaction(item, booked=False)))
    return booked, pending


def transaction(item: Any, *, booked: bool) -> Transaction | None:
    """Map one Berlin Group transaction; None for a pending one without amount or date (it is shown again
    once booked). Raises ``ProviderError`` for such a booked one: dropping it would lose money silently."""
    entry = _obj(item)
    money = _dict(entry, "transactionAmount")
    booking = _date(entry.get("bookingDate")) or _date(entry.get("valueDate")) or _date(entry.get("bookingDateTime"))
    try:
        amount = _amount(money.get("amount"))
    except ProviderError:
        if booked:
            raise
        return None
    if booking is None:
        if booked:
            raise ProviderError(f"{NAME}: a booked transaction has no booking or value date")
        return None
    incoming = amount > 0
    name = text(entry, "debtorName" if incoming else "creditorName")
    iban = text(_dict(entry, "debtorAccount" if incoming else "creditorAccount"), "iban")
    lines = [str(line) for line in _list(entry.get("remittanceInformationUnstructuredArray")) if str(line).strip()]
    reference = text(entry, "remittanceInformationUnstructured") or "\n".join(lines)
    end_to_end = text(entry, "endToEndId")
    # Pending transactions often carry no id at all (and some banks give a new one once booked); "" tells
    # the caller to fall back to a content key, as for statements without bank ids.
    bank_id = text(entry, "transactionId") or text(entry, "internalTransactionId")
    return Transaction(
        id=bank_id,
        booking_date=booking,
        amount=amount,
        currency=text(money, "currency"),
        value_date=_date(entry.get("valueDate")),
        counterparty_name=name,
        counterparty_iban=iban,
        reference=reference or text(entry, "additionalInformation"),
        end_to_end_id="" if end_to_end.upper() == "NOTPROVIDED" else end_to_end,
        structured_reference=text(entry, "remittanceInformationStructured"),
        bank_id=bank_id,
        raw=decimals_as_text(entry),  # stored in a JSON column, which refuses Decimal
    )


def balances(body: Any) -> list[Balance]:
    """Return the balances of a ``GET /accounts/{uid}/balances/`` answer (signed amounts); raises
    ``ProviderError`` for an amount that is not a number."""
    found = []
    for item in _list(_obj(body).get("balances")):
        amount = _dict(item, "balanceAmount")
        found.append(
            Balance(
                amount=_amount(amount.get("amount")),
                currency=text(amount, "currency"),
                kind=text(item, "balanceType"),
                reference_date=_date(_obj(item).get("referenceDate")),
            )
        )
    return found


# --- errors and limits --------------------------------------------------------------------------------------


def problem(response: httpx.Response) -> tuple[str, str, str]:
    """Return (summary, detail, type) of a GoCardless error body; field errors are nested one level down."""
    body = error_json(response)
    if not isinstance(body, dict):
        return "", "", ""
    if not (body.get("summary") or body.get("detail")):
        # e.g. {"max_historical_days": {"summary": ..., "detail": ...}, "status_code": 400}
        nested = [(k, v) for k, v in body.items() if isinstance(v, dict) and (v.get("summary") or v.get("detail"))]
        if nested:
            field, found = nested[0]
            return f"{field}: {text(found, 'summary')}", text(found, "detail"), text(body, "type")
    return text(body, "summary"), text(body, "detail"), text(body, "type")


def consent_ended(found: tuple[str, str, str]) -> bool:
    """Return True when a ``problem`` says the owner's access ended (expired, or the account inactive)."""
    summary, _, kind = found
    return kind in CONSENT_ENDED or summary in CONSENT_ENDED


def budget(headers: httpx.Headers) -> CallBudget | None:
    """Return the bank's daily budget for this account and endpoint, None when the headers are absent."""
    limit = integer(_header(headers, "X_RATELIMIT_ACCOUNT_SUCCESS_LIMIT"))
    remaining = integer(_header(headers, "X_RATELIMIT_ACCOUNT_SUCCESS_REMAINING"))
    if limit is None or remaining is None:
        return None
    return CallBudget(limit, remaining, integer(_header(headers, "X_RATELIMIT_ACCOUNT_SUCCESS_RESET")))


def is_daily(response: httpx.Response, found: tuple[str, str, str]) -> bool:
    """Tell the bank's daily allowance from GoCardless' per-minute limit: the account budget header says 0
    left, or the body names a per-day limit ("4/day", "Daily request limit …", type RateLimitError)."""
    summary, detail, kind = found
    left = budget(response.headers)
    if left is not None and left.remaining <= 0:
        return True
    return kind == "RateLimitError" or bool(_DAILY.search(f"{summary} {detail}"))


def wait_seconds(response: httpx.Response, found: tuple[str, str, str]) -> float | None:
    """Return how long a 429 asks to wait: the budget's reset header, "try again in N seconds", or
    ``Retry-After``; None when none says."""
    summary, detail, _ = found
    reset = integer(_header(response.headers, "X_RATELIMIT_ACCOUNT_SUCCESS_RESET"))
    if reset is not None:
        return float(reset)
    if matched := _TRY_AGAIN.search(f"{summary} {detail}"):
        return float(matched.group(1))
    return retry_after_seconds(response.headers.get("Retry-After"))


def _header(headers: httpx.Headers, name: str) -> str | None:
    """Return header ``X_RATELIMIT_…`` whether sent as ``HTTP_X_RATELIMIT_…``, ``x-ratelimit-…`` or any case."""
    for key, value in headers.items():
        if key.upper().replace("-", "_").removeprefix("HTTP_") == name:
            return value
    return None


# --- values -------------------------------------------------------------------------------------------------


def text(obj: Any, key: str) -> str:
    """Return ``obj[key]`` as stripped text; "" when ``obj`` is no object or lacks it."""
    value = obj.get(key) if isinstance(obj, dict) else None
    return str(value).strip() if value is not None else ""


def integer(value: Any) -> int | None:
    """Return ``value`` (an int or its text) as int; None when absent or not a whole number."""
    try:
        return int(str(value).strip()) if value is not None else None
    except ValueError:
        return None


def _amount(value: Any) -> Decimal:
    if isinstance(value, Decimal | int) and not isinstance(value, bool):
        return Decimal(value)
    try:
        return parse_dot_amount(str(value or ""))
    except ValueError:
        raise ProviderError(f"{NAME}: unreadable amount {str(value)[:20]!r}") from None


def _obj(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _dict(obj: Any, key: str) -> dict[str, Any]:
    return _obj(obj.get(key) if isinstance(obj, dict) else None)


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _date(value: Any) -> date | None:
    try:
        return date.fromisoformat(str(value)[:10]) if value else None
    except ValueError:
        return None


def _datetime(value: Any) -> datetime | None:
    """Return an aware datetime from GoCardless' ISO timestamps ("2024-05-01T10:00:00.123456Z"); naive = UTC."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
