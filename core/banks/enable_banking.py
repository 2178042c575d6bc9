"""Enable Banking (api.enablebanking.com): account information over PSD2 for banks across Europe.

Every call carries a self-signed RS256 JWT (header ``kid`` = application id). A consent is an
Enable Banking *session*: ``POST /auth`` gives the bank page and an authorization id, the bank
redirects back with ``?code=``, and ``POST /sessions`` turns the code into a session whose
accounts are read by ``uid``. All HTTP goes through ``IntegrationHttp`` (retries, Retry-After).

Error codes are the ``error`` field of the API's error bodies (``{"message", "code", "error",
"detail"}``); the list is taken from a public client of the API reference, but *which HTTP status*
each code arrives with is unverified, so the mapping below keys on the code, not the status.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any, ClassVar
from urllib.parse import quote

import httpx
import jwt
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from reconbot.core.banks.errors import ConsentExpiredError, ConsentRefusedError, ProviderError, RateLimitedError
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
from reconbot.core.domain import Transaction
from reconbot.core.http_client import IntegrationHttp

log = logging.getLogger(__name__)

NAME = "enable-banking"
DEFAULT_BASE_URL = "https://api.enablebanking.com"
JWT_ISSUER = "enablebanking.com"
JWT_AUDIENCE = "api.enablebanking.com"
TOKEN_LIFETIME = timedelta(hours=1)
TOKEN_RENEW_BEFORE = timedelta(minutes=5)
MAX_PAGES = 1000  # a runaway continuation chain ends in an error, never an endless loop

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


class EnableBankingProvider(BankProvider):
    """Enable Banking's account-information API; see the module docstring for the flow."""

    name: ClassVar[str] = NAME
    credential_fields: ClassVar[tuple[str, ...]] = ("application_id", "private_key")

    def __init__(
        self,
        application_id: str,
        private_key: rsa.RSAPrivateKey,
        context: ProviderContext,
        base_url: str = DEFAULT_BASE_URL,
    ) -> None:
        self._application_id = application_id
        self._key = private_key
        self._context = context
        self._token: tuple[str, datetime] | None = None  # (jwt, expiry)
        self._http = IntegrationHttp(
            NAME, base_url, timeout=context.timeout_seconds, sleep=context.sleep, response_hooks=[_stop_on_daily_limit]
        )

    def __repr__(self) -> str:
        return f"EnableBankingProvider(application_id={self._application_id!r})"

    @classmethod
    def from_credentials(cls, credentials: Mapping[str, str], context: ProviderContext) -> EnableBankingProvider:
        """Return a provider for ``application_id`` and the RSA ``private_key`` (PEM); optional ``base_url``.

        Raises ``ProviderError`` (permanent) naming the missing field, or saying the key is not an
        unencrypted RSA private key in PEM form (the key itself is never part of a message).
        """
        missing = [field for field in cls.credential_fields if not (credentials.get(field) or "").strip()]
        if missing:
            raise ProviderError(f"{NAME}: missing credential(s): {', '.join(missing)}", permanent=True)
        pem = credentials["private_key"].strip()
        if "\\n" in pem and "\n" not in pem:  # pasted into a one-line field
            pem = pem.replace("\\n", "\n")
        try:
            key = serialization.load_pem_private_key(pem.encode(), password=None)
        except (ValueError, TypeError, UnsupportedAlgorithm):
            key = None
        if not isinstance(key, rsa.RSAPrivateKey):
            raise ProviderError(
                f"{NAME}: private_key is not an unencrypted RSA private key in PEM form", permanent=True
            ) from None
        base_url = (credentials.get("base_url") or "").strip().rstrip("/") or DEFAULT_BASE_URL
        return cls(credentials["application_id"].strip(), key, context, base_url)

    # --- the API calls -------------------------------------------------------------------------

    async def institutions(self, country: str) -> list[Institution]:
        """Return the banks (ASPSPs) of ``country``; ``id`` is the ASPSP name, which ``POST /auth`` takes."""
        country = country.upper()
        body = await self._call("GET", "/aspsps", "bank list", params={"country": country})
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

    async def start_connection(self, request: ConsentRequest) -> ConsentStart:
        """Start an authorisation; return the bank page and the authorization id.

        ``valid_until`` must not exceed now + the bank's ``maximum_consent_validity`` (the caller caps
        it with ``Institution.max_consent_days``); Enable Banking refuses longer ones.
        """
        body: dict[str, Any] = {
            "access": {"valid_until": _aware(request.valid_until).isoformat()},
            "aspsp": {"name": request.institution_id, "country": request.country.upper()},
            "state": request.state,
            "redirect_url": request.redirect_url,
            "psu_type": request.psu_type,
        }
        if request.language:
            body["language"] = request.language
        answer = await self._call("POST", "/auth", "start consent", json_body=body, idempotent=False)
        url, reference = answer.get("url"), answer.get("authorization_id")
        if not isinstance(url, str) or not url or not isinstance(reference, str) or not reference:
            raise ProviderError(f"{NAME}: start consent: answer lacks url or authorization_id")
        return ConsentStart(url=url, reference=reference)

    async def finish_connection(self, start_reference: str, callback: Mapping[str, str]) -> Consent:
        """Exchange the callback's ``code`` for a session; return it with its accounts.

        Raises ``ConsentRefusedError`` when the callback carries ``error`` (the owner refused or the
        bank failed), ``ProviderError`` (permanent) when the code is missing, unknown or used.
        ``start_reference`` is not needed: the code alone names the authorisation.
        """
        if callback.get("error"):
            detail = callback.get("error_description") or ""
            raise ConsentRefusedError(
                _one_line(f"{NAME}: consent not granted: {callback['error']}" + (f": {detail}" if detail else ""))
            )
        code = callback.get("code") or ""
        if not code:
            raise ProviderError(f"{NAME}: the bank's callback carries neither code nor error", permanent=True)
        answer = await self._call("POST", "/sessions", "finish consent", json_body={"code": code}, idempotent=False)
        session_id = answer.get("session_id")
        if not isinstance(session_id, str) or not session_id:
            raise ProviderError(f"{NAME}: finish consent: answer lacks session_id")
        accounts = []
        for account in _list(answer, "accounts"):
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
        valid_until = _datetime(_dict(answer, "access").get("valid_until"))
        if valid_until is None:
            raise ProviderError(f"{NAME}: finish consent: answer lacks access.valid_until")
        return Consent(reference=session_id, valid_until=valid_until, accounts=tuple(accounts))

    async def consent_status(self, reference: str) -> ConsentStatus:
        """Return the session's state (an AUTHORIZED session past ``valid_until`` counts as expired)."""
        response = await self._send("GET", f"/sessions/{_segment(reference)}")
        if not response.is_success:
            code = _error_code(response)
            if code == "REVOKED_SESSION":
                return ConsentStatus(ConsentState.REVOKED)
            if code in SESSION_ENDED:
                return ConsentStatus(ConsentState.EXPIRED)
            raise _error(response, "consent status")
        answer = _json(response, "consent status")
        valid_until = _datetime(_dict(answer, "access").get("valid_until"))
        status = str(answer.get("status") or "")
        state = SESSION_STATES.get(status)
        if state is None:
            log.warning("%s: unknown session status %r, taken as expired", NAME, status)
            state = ConsentState.EXPIRED
        if state is ConsentState.VALID and valid_until is not None and valid_until <= self._context.clock():
            state = ConsentState.EXPIRED
        return ConsentStatus(state, valid_until)

    async def transactions(self, reference: str, account_uid: str, date_from: date, date_to: date) -> FeedTransactions:
        """Return the account's booked and pending transactions in ``[date_from, date_to]``, following
        ``continuation_key`` until it is absent. Cancelled and rejected ones are left out.

        Raises ``ConsentExpiredError`` when the session has ended (also mid-way), ``RateLimitedError``
        when rate limited, ``ProviderError`` otherwise. ``reference`` (the session) is implied by the uid.
        """
        path = f"/accounts/{_segment(account_uid)}/transactions"
        window = {"date_from": date_from.isoformat(), "date_to": date_to.isoformat()}
        booked: list[Transaction] = []
        pending: list[Transaction] = []
        seen_ids: set[tuple[bool, str]] = set()
        params, seen_keys = dict(window), set[str]()
        for _ in range(MAX_PAGES):
            page = await self._call("GET", path, "transactions", params=params)
            for item in _list(page, "transactions"):
                mapped = _transaction(item)
                if mapped is None:
                    continue
                is_booked, tx = mapped
                if tx.bank_id and (is_booked, tx.bank_id) in seen_ids:
                    continue  # a bank repeating an entry across pages: entry_reference is unique per account
                seen_ids.add((is_booked, tx.bank_id))
                (booked if is_booked else pending).append(tx)
            key = page.get("continuation_key")
            if not key:
                return FeedTransactions(booked=tuple(booked), pending=tuple(pending))
            if key in seen_keys:
                raise ProviderError(f"{NAME}: transactions: the API repeated a continuation key")
            seen_keys.add(str(key))
            params = {**window, "continuation_key": str(key)}
        raise ProviderError(f"{NAME}: transactions: more than {MAX_PAGES} pages")

    async def balances(self, reference: str, account_uid: str) -> list[Balance]:
        """Return the account's balances (signed amounts; ``kind`` is the ISO type, e.g. CLBD, ITAV)."""
        body = await self._call("GET", f"/accounts/{_segment(account_uid)}/balances", "balances")
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

    async def aclose(self) -> None:
        """Close the HTTP client."""
        await self._http.aclose()

    # --- plumbing ------------------------------------------------------------------------------

    def _bearer(self) -> str:
        """Return a JWT, reusing the cached one until five minutes before it expires."""
        now = self._context.clock()
        if self._token is None or now >= self._token[1] - TOKEN_RENEW_BEFORE:
            issued = int(now.timestamp())
            expires = issued + int(TOKEN_LIFETIME.total_seconds())
            claims = {"iss": JWT_ISSUER, "aud": JWT_AUDIENCE, "iat": issued, "exp": expires}
            token = jwt.encode(claims, self._key, algorithm="RS256", headers={"kid": self._application_id})
            self._token = (token, datetime.fromtimestamp(expires, UTC))
        return self._token[0]

    async def _send(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        json_body: Any = None,
        idempotent: bool = True,
    ) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self._bearer()}", "Accept": "application/json"}
        return await self._http.request(
            method, path, params=params, json=json_body, headers=headers, idempotent=idempotent
        )

    async def _call(
        self,
        method: str,
        path: str,
        what: str,
        *,
        params: Mapping[str, str] | None = None,
        json_body: Any = None,
        idempotent: bool = True,
    ) -> dict[str, Any]:
        response = await self._send(method, path, params=params, json_body=json_body, idempotent=idempotent)
        if not response.is_success:
            raise _error(response, what)
        return _json(response, what)


def _error(response: httpx.Response, what: str) -> ProviderError:
    """Return the error a failed answer means (its code decides; then its status)."""
    status = response.status_code
    code = _error_code(response)
    body = _error_body(response)
    message = _one_line(str(body.get("message") or response.reason_phrase or "error"))
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


async def _stop_on_daily_limit(response: httpx.Response) -> None:
    """Raise at once for a 429 that says the bank's daily allowance is used up: retrying cannot help today."""
    if response.status_code == 429:
        await response.aread()
        if _error_code(response) in DAILY_LIMIT_CODES:
            raise _error(response, "reading the account")


def _error_body(response: httpx.Response) -> dict[str, Any]:
    try:
        body = json.loads(response.content)
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _error_code(response: httpx.Response) -> str:
    return str(_error_body(response).get("error") or "")


def _json(response: httpx.Response, what: str) -> dict[str, Any]:
    """Return the JSON object of a 2xx answer; numbers with a fraction stay their exact text (never floats),
    so amounts convert to Decimal exactly and the raw objects stay JSON-serialisable."""
    try:
        body = json.loads(response.content, parse_float=str)
    except ValueError:
        raise ProviderError(f"{NAME}: {what}: the answer is not JSON", status=response.status_code) from None
    if not isinstance(body, dict):
        raise ProviderError(f"{NAME}: {what}: the answer is not a JSON object", status=response.status_code)
    return body


def _transaction(item: Any) -> tuple[bool, Transaction] | None:
    """Return (booked?, the transaction) for one API transaction, or None for one to leave out."""
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
        raw=item,
    )


def _decimal(value: Any, what: str) -> Decimal:
    if isinstance(value, bool | float) or value is None:  # floats never arrive from _json; refuse them anyway
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


def _dict(body: Mapping[str, Any], key: str) -> dict[str, Any]:
    value = body.get(key)
    return value if isinstance(value, dict) else {}


def _list(body: Mapping[str, Any], key: str) -> list[dict[str, Any]]:
    value = body.get(key)
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _segment(value: str) -> str:
    return quote(value, safe="")


def _one_line(text: str, limit: int = 300) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
