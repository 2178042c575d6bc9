"""Enable Banking's wire format: its JSON answers to ``reconbot.core.banks.model`` values, and its errors.

Pure functions of what the API sent (bodies as ``reconbot.core.exact_json`` parses them, so amounts
arrive as text or Decimal, never float). Error codes are the ``error`` field of the API's error
bodies (``{"message", "code", "error", "detail"}``); the list is taken from a public client of the
API reference, but *which HTTP status* each code arrives with is unverified, so the mapping keys on
the code, not the status.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import httpx

from reconbot.core.banks.errors import ConsentExpiredError, ProviderError, RateLimitedError
from reconbot.core.banks.model import (
    Balance,
    Consent,
    ConsentRequest,
    ConsentStart,
    ConsentState,
    ConsentStatus,
    Institution,
    ProviderAccount,
)
from reconbot.core.domain import Transaction
from reconbot.core.exact_json import decimals_as_text
from reconbot.core.http_client import error_json

log = logging.getLogger(__name__)

NAME = "enable-banking"

# Error codes saying the session (our consent) is over: only the owner re-consenting helps.
# ASPSP_PSU_ACTION_REQUIRED means the bank wants the owner back (e.g. renewed SCA); WRONG_SESSION_STATUS
# is what a data call on a non-AUTHORIZED session is expected to get (unverified).
SESSION_ENDED = {
    "EXPIRED_SESSION": "the consent has expired",
    "CLOSED_SESSION": "the consent was closed",
    "REVOKED_SESSION": "the consent was revoked",
    "SESSION_DOES_NOT_EXIST": "the consent no longer exists",
    "WRONG_SESSION_STATUS": "the consent is not authorised",
    "ASPSP_PSU_ACTION_REQUIRED": "the bank asks the owner to authorise again",
}
# The bank's own (typically daily) allowance of unattended reads is used up.
DAILY_LIMIT_CODES = {"ASPSP_RATE_LIMIT_EXCEEDED"}

SESSION_STATES = {
    "AUTHORIZED": ConsentState.VALID,
    "PENDING_AUTHORIZATION": ConsentState.PENDING,
    "RETURNED_FROM_BANK": ConsentState.PENDING,  # owner is back, code not yet exchanged
    "EXPIRED": ConsentState.EXPIRED,
    "CLOSED": ConsentState.EXPIRED,  # ended through the API (by us)
    "REVOKED": ConsentState.REVOKED,
    "CANCELLED": ConsentState.REJECTED,  # owner cancelled at the bank
    "INVALID": ConsentState.REJECTED,  # authorisation failed
}
BOOKED_STATUSES = {"BOOK"}
# Not final yet (pending, account hold, scheduled, other): may still change or vanish.
PENDING_STATUSES = {"PDNG", "HOLD", "SCHD", "OTHR"}
# Cancelled and rejected transactions moved no money; they are dropped.


# --- requests -----------------------------------------------------------------------------------------------


def auth_body(request: ConsentRequest) -> dict[str, Any]:
    """Return the ``POST /auth`` body asking for the consent ``request`` describes."""
    body: dict[str, Any] = {
        "access": {"valid_until": _aware(request.valid_until).isoformat()},
        "aspsp": {"name": request.institution_id, "country": request.country.upper()},
        "state": request.state,
        "redirect_url": request.redirect_url,
        "psu_type": request.psu_type,
    }
    if request.language:
        body["language"] = request.language
    return body


# --- answers ------------------------------------------------------------------------------------------------


def answer_object(body: Any, what: str) -> dict[str, Any]:
    """Return ``body`` when it is a JSON object, as every answer of the API is; raises ``ProviderError``."""
    if not isinstance(body, dict):
        raise ProviderError(f"{NAME}: {what}: the answer is not a JSON object")
    return body


def institutions(body: Mapping[str, Any], country: str) -> list[Institution]:
    """Return the banks (ASPSPs) of a ``GET /aspsps`` answer; ``id`` is the ASPSP name, which ``POST /auth``
    takes. Entries without a name are left out."""
    found = []
    for aspsp in _list(body, "aspsps"):
        validity = _int(aspsp.get("maximum_consent_validity"))
        history = _int(aspsp.get("transaction_total_days"))
        found.append(
            Institution(
                id=str(aspsp.get("name") or ""),
                name=str(aspsp.get("name") or ""),
                country=country,
                bic=str(aspsp.get("bic") or ""),
                max_consent_days=validity // 86400 if validity else None,
                max_history_days=history,
            )
        )
    return [institution for institution in found if institution.id]


def consent_start(body: Mapping[str, Any]) -> ConsentStart:
    """Return the bank page and authorization id of a ``POST /auth`` answer; raises ``ProviderError`` when
    either is missing."""
    url, reference = body.get("url"), body.get("authorization_id")
    if not isinstance(url, str) or not url or not isinstance(reference, str) or not reference:
        raise ProviderError(f"{NAME}: start consent: answer lacks url or authorization_id")
    return ConsentStart(url=url, reference=reference)


def consent(body: Mapping[str, Any]) -> Consent:
    """Return the session of a ``POST /sessions`` answer with its readable accounts (those without ``uid``,
    which Enable Banking cannot read, are skipped); raises ``ProviderError`` when the session id or its
    ``access.valid_until`` is missing."""
    session_id = body.get("session_id")
    if not isinstance(session_id, str) or not session_id:
        raise ProviderError(f"{NAME}: finish consent: answer lacks session_id")
    accounts = []
    for account in _list(body, "accounts"):
        uid = account.get("uid")
        if not uid:  # Enable Banking leaves uid out for accounts it cannot read (blocked, closed)
            log.warning("%s: session %s: an account without uid is skipped", NAME, session_id)
            continue
        ids = _dict(account, "account_id")
        accounts.append(
            ProviderAccount(
                uid=str(uid),
                iban=str(ids.get("iban") or ""),
                currency=str(account.get("currency") or ""),
                name=str(account.get("name") or account.get("details") or account.get("product") or ""),
            )
        )
    valid_until = _datetime(_dict(body, "access").get("valid_until"))
    if valid_until is None:
        raise ProviderError(f"{NAME}: finish consent: answer lacks access.valid_until")
    return Consent(reference=session_id, valid_until=valid_until, accounts=tuple(accounts))


def session_status(body: Mapping[str, Any], now: datetime) -> ConsentStatus:
    """Return the state of a ``GET /sessions/{id}`` answer; an AUTHORIZED session past ``valid_until`` (by
    ``now``) counts as expired, and so does a status this module does not know (logged)."""
    valid_until = _datetime(_dict(body, "access").get("valid_until"))
    status = str(body.get("status") or "")
    state = SESSION_STATES.get(status)
    if state is None:
        log.warning("%s: unknown session status %r, taken as expired", NAME, status)
        state = ConsentState.EXPIRED
    if state is ConsentState.VALID and valid_until is not None and valid_until <= now:
        state = ConsentState.EXPIRED
    return ConsentStatus(state, valid_until)


def transaction_page(body: Mapping[str, Any]) -> tuple[list[tuple[bool, Transaction]], str]:
    """Return one ``GET /accounts/{uid}/transactions`` page as (booked?, transaction) pairs, and its
    ``continuation_key`` ("" on the last page). Cancelled, rejected and undated ones are left out."""
    mapped = [found for item in _list(body, "transactions") if (found := transaction(item)) is not None]
    return mapped, str(body.get("continuation_key") or "")


def transaction(item: Any) -> tuple[bool, Transaction] | None:
    """Return (booked?, the transaction) for one API transaction, or None for one to leave out.

    Raises ``ProviderError`` when its amount is missing or not a number.
    """
    if not isinstance(item, dict):
        return None
    status = str(item.get("status") or "")
    if status and status not in BOOKED_STATUSES | PENDING_STATUSES:
        return None  # CNCL, RJCT
    # entry_reference is documented as unique and immutable for the account, across sessions;
    # transaction_id only fetches details and "may change if the list is retrieved again".
    bank_id = str(item.get("entry_reference") or item.get("transaction_id") or "")
    booking_date = _date(item.get("booking_date")) or _date(item.get("value_date"))
    booking_date = booking_date or _date(item.get("transaction_date"))
    if booking_date is None:
        log.warning("%s: transaction %r has no date and is skipped", NAME, bank_id)
        return None
    money = _dict(item, "transaction_amount")
    raw_amount = _decimal(money.get("amount"), f"transaction {bank_id!r}")
    indicator = str(item.get("credit_debit_indicator") or "").upper()
    # The API sends the amount unsigned and the direction in credit_debit_indicator. Some banks pass a
    # minus sign through anyway: with DBIT it is the same fact said twice (not a double negative), without an
    # indicator it is the only direction we have. CRDT with a minus contradicts itself; the indicator is the
    # field the API defines as the direction, so it wins, and the conflict is logged.
    if indicator == "CRDT":
        if raw_amount < 0:
            log.warning("%s: transaction %r is CRDT with a negative amount; taken as money in", NAME, bank_id)
        amount = abs(raw_amount)
    elif indicator == "DBIT":
        amount = -abs(raw_amount)
    else:
        amount = raw_amount
    party, account = ("debtor", "debtor_account") if amount >= 0 else ("creditor", "creditor_account")
    counter_account = _dict(item, account)
    remittance = item.get("remittance_information") or []
    lines = [remittance] if isinstance(remittance, str) else [str(line) for line in remittance if line]
    booked = status in BOOKED_STATUSES or (not status and item.get("booking_date") is not None)
    return booked, Transaction(
        id=bank_id,
        booking_date=booking_date,
        amount=amount,
        currency=str(money.get("currency") or ""),
        value_date=_date(item.get("value_date")),
        counterparty_name=str(_dict(item, party).get("name") or ""),
        counterparty_iban=str(
            counter_account.get("iban") or _dict(counter_account, "other").get("identification") or ""
        ),
        reference="\n".join(lines),
        end_to_end_id=str(item.get("end_to_end_id") or ""),
        structured_reference=str(item.get("reference_number") or ""),
        bank_id=bank_id,
        raw=decimals_as_text(item),  # stored in a JSON column, which refuses Decimal
    )


def balances(body: Mapping[str, Any]) -> list[Balance]:
    """Return the balances of a ``GET /accounts/{uid}/balances`` answer (signed amounts; ``kind`` is the ISO
    type, e.g. CLBD, ITAV); raises ``ProviderError`` for an amount that is not a number."""
    found = []
    for item in _list(body, "balances"):
        amount = _dict(item, "balance_amount")
        found.append(
            Balance(
                amount=_decimal(amount.get("amount"), "balance"),
                currency=str(amount.get("currency") or ""),
                kind=str(item.get("balance_type") or ""),
                reference_date=_date(item.get("reference_date")),
            )
        )
    return found


# --- errors -------------------------------------------------------------------------------------------------


def error_code(response: httpx.Response) -> str:
    """Return the ``error`` code of a failed answer ("" when its body has none)."""
    return str(_error_body(response).get("error") or "")


def error_for(response: httpx.Response, what: str) -> ProviderError:
    """Return the error a failed answer means: its code decides (an ended session, the bank's daily
    allowance), then its status (401/403: the application's credentials, 5xx and 408: temporary)."""
    status = response.status_code
    code = error_code(response)
    message = one_line(str(_error_body(response).get("message") or response.reason_phrase or "error"))
    if code in SESSION_ENDED:
        return ConsentExpiredError(
            f"{NAME}: {what}: {SESSION_ENDED[code]}; connect the account again [{code}]", status=status
        )
    if code in DAILY_LIMIT_CODES:
        return RateLimitedError(f"{NAME}: {what}: the bank's allowance of reads is used up [{code}]", daily=True)
    text = f"{NAME}: {what}: {message}" + (f" [{code}]" if code else "") + f" (HTTP {status})"
    if status in (401, 403):
        # Enable Banking refused the application itself (JWT, key, application not active): not the consent.
        return ProviderError(f"{text}; check the application id and private key", permanent=True, status=status)
    return ProviderError(text, permanent=status < 500 and status != 408, status=status)


def one_line(text: str, limit: int = 300) -> str:
    """Return ``text`` on one line, cut to ``limit`` characters (for messages that quote the API or a bank)."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


# --- values -------------------------------------------------------------------------------------------------


def _decimal(value: Any, what: str) -> Decimal:
    if isinstance(value, bool | float) or value is None:  # floats never come from exact_json; refuse them anyway
        raise ProviderError(f"{NAME}: {what}: amount missing or not exact: {value!r}")
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        amount = Decimal("NaN")
    if not amount.is_finite():
        raise ProviderError(f"{NAME}: {what}: amount {str(value)[:40]!r} is not a number")
    return amount


def _date(value: Any) -> date | None:
    if not isinstance(value, str) or len(value) < 10:
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None


def _datetime(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return _aware(datetime.fromisoformat(value))
    except ValueError:
        return None


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _int(value: Any) -> int | None:
    try:
        return int(value) if value is not None and not isinstance(value, bool) else None
    except (TypeError, ValueError):
        return None


def _error_body(response: httpx.Response) -> dict[str, Any]:
    body = error_json(response)
    return body if isinstance(body, dict) else {}


def _dict(body: Mapping[str, Any], key: str) -> dict[str, Any]:
    value = body.get(key)
    return value if isinstance(value, dict) else {}


def _list(body: Mapping[str, Any], key: str) -> list[dict[str, Any]]:
    value = body.get(key)
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []
