"""GoCardless Bank Account Data (formerly Nordigen): institutions, agreements, requisitions, accounts.

Flow: a token pair from the secret id/key; an end-user agreement (history and access days, scope);
a requisition that yields the bank link; once the owner has linked (status LN) the requisition's
accounts can be read. The requisition id is both ``ConsentStart.reference`` and ``Consent.reference``.

Banks may allow only a few successful account calls a day per endpoint; GoCardless reports that
budget in ``HTTP_X_RATELIMIT_ACCOUNT_SUCCESS_*`` headers and answers 429 once it is spent.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any, NoReturn

import httpx

from reconbot.core.banks.errors import ConsentExpiredError, ConsentRefusedError, ProviderError, RateLimitedError
from reconbot.core.banks.model import (
    Balance,
    CallBudget,
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
from reconbot.core.http_client import IntegrationHttp, retry_after_seconds
from reconbot.core.money import parse_dot_amount

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://bankaccountdata.gocardless.com/api/v2"
NAME = "gocardless"
TOKEN_MARGIN = timedelta(seconds=60)  # renew a token this long before GoCardless says it ends
DEFAULT_ACCESS_DAYS = 90  # GoCardless' default, and what every bank accepts when it states no cap
CONSENT_ENDED = frozenset({"AccessExpiredError", "AccountInactiveError"})
PENDING_STATUSES = frozenset({"CR", "GC", "UA", "SA", "GA"})
_TRY_AGAIN = re.compile(r"try again in (\d+) seconds", re.IGNORECASE)
_DAILY = re.compile(r"\bdaily\b|/\s*day\b|\bper day\b", re.IGNORECASE)


@dataclass
class _Tokens:
    access: str
    access_until: datetime
    refresh: str
    refresh_until: datetime


class GoCardlessProvider(BankProvider):
    """GoCardless Bank Account Data client; every method raises ``ProviderError`` (or a subclass) on failure."""

    name = NAME
    credential_fields = ("secret_id", "secret_key")

    def __init__(
        self, secret_id: str, secret_key: str, context: ProviderContext, base_url: str = DEFAULT_BASE_URL
    ) -> None:
        self._secret_id = secret_id
        self._secret_key = secret_key
        self._context = context
        self._tokens: _Tokens | None = None
        self._token_lock = asyncio.Lock()
        # The hook sees each response before the retry policy: the bank's daily-limit 429 (pointless to retry)
        # must be told from GoCardless' per-minute one, which only its body and headers say.
        self._http = IntegrationHttp(
            NAME,
            base_url,
            timeout=context.timeout_seconds,
            sleep=context.sleep,
            response_hooks=[self._stop_on_daily_limit],
        )

    @classmethod
    def from_credentials(cls, credentials: Mapping[str, str], context: ProviderContext) -> GoCardlessProvider:
        """Return a provider for ``secret_id``/``secret_key`` (and optional ``base_url``); raises a permanent
        ``ProviderError`` naming the missing or malformed field (never its value)."""
        for field in cls.credential_fields:
            if not str(credentials.get(field) or "").strip():
                raise ProviderError(
                    f"{NAME}: credential {field!r} is missing; run `reconbot bank setup`", permanent=True
                )
        base_url = str(credentials.get("base_url") or DEFAULT_BASE_URL).strip().rstrip("/")
        if not base_url.startswith(("https://", "http://")):
            raise ProviderError(f"{NAME}: base_url must start with https://", permanent=True)
        return cls(credentials["secret_id"].strip(), credentials["secret_key"].strip(), context, base_url)

    # --- institutions and consents -------------------------------------------------------------------------

    async def institutions(self, country: str) -> list[Institution]:
        """Return the banks GoCardless connects in ``country`` with their history/access caps."""
        found = await self._get_json("/institutions/", "listing banks", params={"country": country.lower()})
        return [_institution(item, country) for item in _list(found) if isinstance(item, dict)]

    async def start_connection(self, request: ConsentRequest) -> ConsentStart:
        """Create an end-user agreement and a requisition; return its bank link and the requisition id.

        History and access days are capped by the bank's own limits. Raises a permanent
        ``ProviderError`` for an unknown institution or a request GoCardless rejects.
        """
        found = await self._get_json(f"/institutions/{request.institution_id}/", "reading the bank")
        bank = _institution(_obj(found), "")
        history = max(1, min(request.history_days, bank.max_history_days or request.history_days))
        wanted = math.ceil((request.valid_until - self._context.clock()).total_seconds() / 86400)
        access_days = max(1, min(wanted, bank.max_consent_days or DEFAULT_ACCESS_DAYS))
        agreement = await self._post_json(
            "/agreements/enduser/",
            "creating the agreement",
            {
                "institution_id": request.institution_id,
                "max_historical_days": history,
                "access_valid_for_days": access_days,
                "access_scope": ["balances", "details", "transactions"],
            },
        )
        language = request.language[:2].upper() if request.language[:2].isalpha() else "EN"
        requisition = await self._post_json(
            "/requisitions/",
            "creating the requisition",
            {
                "redirect": request.redirect_url,
                "institution_id": request.institution_id,
                "reference": request.state,
                "agreement": _str(agreement, "id"),
                "user_language": language,
            },
        )
        return ConsentStart(url=_str(requisition, "link"), reference=_str(requisition, "id"))

    async def finish_connection(self, start_reference: str, callback: Mapping[str, str]) -> Consent:
        """Return the consent of a linked requisition with each account's IBAN and currency.

        GoCardless redirects back with ``?ref=<our reference>`` and adds ``error``/``details`` when the
        bank flow failed. Raises ``ConsentRefusedError`` for those and for status RJ, ``ConsentExpiredError``
        for EX/SU, and a temporary ``ProviderError`` while the owner has not finished (CR, GC, UA, SA, GA).
        """
        if callback.get("error"):
            detail = " ".join(f"{callback['error']}: {callback.get('details', '')}".split())[:200]
            raise ConsentRefusedError(f"{NAME}: the bank did not grant access ({detail})")
        requisition = await self._get_json(f"/requisitions/{start_reference}/", "reading the requisition")
        if callback.get("ref") and callback["ref"] != _str(requisition, "reference"):
            raise ProviderError(f"{NAME}: the callback belongs to another connection attempt", permanent=True)
        status = _str(requisition, "status")
        if status == "RJ":
            raise ConsentRefusedError(f"{NAME}: the owner refused access at the bank")
        if status in ("EX", "SU"):
            raise ConsentExpiredError(f"{NAME}: the connection expired before it was finished; start again")
        if status != "LN":
            raise ProviderError(f"{NAME}: the owner has not finished at the bank yet (status {status})")
        accounts = []
        for uid in requisition.get("accounts") or ():
            details = _dict(await self._get_json(f"/accounts/{uid}/details/", "reading account details"), "account")
            name = _str(details, "name") or _str(details, "ownerName") or _str(details, "product")
            accounts.append(ProviderAccount(str(uid), _str(details, "iban"), _str(details, "currency"), name))
        valid_until = await self._valid_until(requisition)
        return Consent(start_reference, valid_until or self._context.clock(), tuple(accounts))

    async def consent_status(self, reference: str) -> ConsentStatus:
        """Return the requisition's state: LN valid (with its end), EX/SU expired, RJ rejected, else pending."""
        requisition = await self._get_json(f"/requisitions/{reference}/", "reading the requisition")
        status = _str(requisition, "status")
        if status == "LN":
            valid_until = await self._valid_until(requisition)
            if valid_until is not None and valid_until <= self._context.clock():
                return ConsentStatus(ConsentState.EXPIRED, valid_until)
            return ConsentStatus(ConsentState.VALID, valid_until)
        if status in ("EX", "SU"):
            return ConsentStatus(ConsentState.EXPIRED)
        if status == "RJ":
            return ConsentStatus(ConsentState.REJECTED)
        return ConsentStatus(ConsentState.PENDING)

    async def _valid_until(self, requisition: Mapping[str, Any]) -> datetime | None:
        """Return when the requisition's agreement ends: accepted (else created) + access days; None if unknown."""
        agreement_id = _str(requisition, "agreement")
        if not agreement_id:
            return None
        agreement = await self._get_json(f"/agreements/enduser/{agreement_id}/", "reading the agreement")
        start = _datetime(agreement.get("accepted")) or _datetime(agreement.get("created"))
        days = _int(agreement.get("access_valid_for_days"))
        return start + timedelta(days=days) if start and days is not None else None

    # --- account data --------------------------------------------------------------------------------------

    async def transactions(self, reference: str, account_uid: str, date_from: date, date_to: date) -> FeedTransactions:
        """Return booked and pending transactions of ``[date_from, date_to]`` and today's remaining call budget.

        ``account_iban`` is left empty (the caller knows the account). Raises ``ConsentExpiredError`` when
        access ended, ``RateLimitedError(daily=True)`` when the bank's daily allowance is spent.
        """
        params = {"date_from": date_from.isoformat(), "date_to": date_to.isoformat()}
        response = await self._send("GET", f"/accounts/{account_uid}/transactions/", params=params)
        body = self._checked(response, "reading transactions")
        found = _dict(body, "transactions")
        booked = tuple(t for item in _list(found.get("booked")) if (t := _transaction(item, booked=True)))
        pending = tuple(t for item in _list(found.get("pending")) if (t := _transaction(item, booked=False)))
        return FeedTransactions(booked=booked, pending=pending, budget=_budget(response.headers))

    async def balances(self, reference: str, account_uid: str) -> list[Balance]:
        """Return the account's balances (signed amounts); raises like ``transactions``."""
        body = await self._get_json(f"/accounts/{account_uid}/balances/", "reading balances")
        result = []
        for item in _list(body.get("balances")):
            amount = _dict(item, "balanceAmount")
            result.append(
                Balance(
                    amount=_amount(amount.get("amount")),
                    currency=_str(amount, "currency"),
                    kind=_str(item, "balanceType"),
                    reference_date=_date(item.get("referenceDate")),
                )
            )
        return result

    async def aclose(self) -> None:
        """Close the HTTP connections."""
        await self._http.aclose()

    # --- HTTP, tokens and errors ---------------------------------------------------------------------------

    async def _get_json(self, path: str, doing: str, params: Mapping[str, str] | None = None) -> Any:
        return self._checked(await self._send("GET", path, params=params), doing)

    async def _post_json(self, path: str, doing: str, body: Mapping[str, Any]) -> Any:
        # Creating twice would leave a stray agreement/requisition, so a POST is retried only when it surely
        # did not arrive (IntegrationHttp's idempotent=False); 401 means it was not performed either.
        return self._checked(await self._send("POST", path, json=body, idempotent=False), doing)

    async def _send(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        json: Any = None,
        idempotent: bool = True,
    ) -> httpx.Response:
        """Send an authorised request; on a 401 about the token (not about the consent) renew it once."""
        for attempt in (1, 2):
            token = await self._access_token(renew=attempt == 2)
            response = await self._http.request(
                method, path, params=params, json=json, idempotent=idempotent,
                headers={"Authorization": f"Bearer {token}"},
            )  # fmt: skip
            if response.status_code != 401 or _consent_ended(_problem(response)):
                break
        return response

    async def _access_token(self, *, renew: bool = False) -> str:
        """Return a usable access token: the cached one, else refreshed, else new (``renew`` skips the cache)."""
        async with self._token_lock:
            now = self._context.clock()
            tokens = self._tokens
            if tokens and not renew and now < tokens.access_until - TOKEN_MARGIN:
                return tokens.access
            if tokens and now < tokens.refresh_until - TOKEN_MARGIN:
                response = await self._http.request("POST", "/token/refresh/", json={"refresh": tokens.refresh})
                body = _json(response) if response.status_code == 200 else None
                if access := _str(body, "access"):  # else (refresh refused) fall back to a new pair
                    tokens.access = access
                    tokens.access_until = now + timedelta(seconds=_int(_obj(body).get("access_expires")) or 0)
                    return access
            response = await self._http.request(
                "POST", "/token/new/", json={"secret_id": self._secret_id, "secret_key": self._secret_key}
            )
            if response.status_code in (401, 403):
                summary, detail, _ = _problem(response)
                raise ProviderError(
                    f"{NAME}: the secret id/key were refused ({self._scrub(detail or summary)}); check them in "
                    "the GoCardless portal and run `reconbot bank setup`",
                    permanent=True,
                    status=response.status_code,
                )
            body = self._checked(response, "getting an access token")
            if not _str(body, "access"):
                raise ProviderError(f"{NAME}: the token answer holds no access token")
            self._tokens = _Tokens(
                access=_str(body, "access"),
                access_until=now + timedelta(seconds=_int(body.get("access_expires")) or 0),
                refresh=_str(body, "refresh"),
                refresh_until=now + timedelta(seconds=_int(body.get("refresh_expires")) or 0),
            )
            return self._tokens.access

    def _checked(self, response: httpx.Response, doing: str) -> Any:
        """Return the JSON body of a 2xx response; raise the matching error otherwise."""
        if response.is_success:
            return _json(response)
        self._raise_for(response, doing)

    def _raise_for(self, response: httpx.Response, doing: str) -> NoReturn:
        status = response.status_code
        summary, detail, kind = _problem(response)
        text = summary if not detail or detail == summary else f"{summary}: {detail}"
        message = self._scrub(f"{NAME}: {doing}: {text or f'HTTP {status}'}")
        suspended = status == 409 and "/accounts/" in response.request.url.path  # "Account suspended"
        if _consent_ended((summary, detail, kind)) or suspended:
            raise ConsentExpiredError(message + "; the owner must reconnect the account", status=status)
        if status == 429:
            daily = _is_daily(response, summary, detail, kind)
            raise RateLimitedError(message, retry_after=_wait(response, summary, detail), daily=daily)
        raise ProviderError(message, permanent=400 <= status < 500, status=status)

    async def _stop_on_daily_limit(self, response: httpx.Response) -> None:
        """httpx response hook: raise ``RateLimitedError(daily=True)`` for the bank's daily-limit 429 so that
        IntegrationHttp does not retry it (a retry cannot succeed before the reset, and failures count
        towards the bank suspending the account)."""
        if response.status_code != 429 or "/accounts/" not in response.request.url.path:
            return
        await response.aread()
        summary, detail, kind = _problem(response)
        if _is_daily(response, summary, detail, kind):
            path = response.request.url.path
            log.info("%s: daily limit reached for %s", NAME, path)
            self._raise_for(response, f"reading {path.rstrip('/').rsplit('/', 1)[-1]}")

    def _scrub(self, text: str) -> str:
        """Return ``text`` with any credential or token blanked out (defence in depth for echoed values)."""
        secrets = [self._secret_id, self._secret_key]
        if self._tokens:
            secrets += [self._tokens.access, self._tokens.refresh]
        for secret in secrets:
            if secret:
                text = text.replace(secret, "***")
        return " ".join(text.split())


# --- wire format -----------------------------------------------------------------------------------------------


def _json(response: httpx.Response) -> Any:
    """Return the body with decimals as ``Decimal`` (never float); raise ``ProviderError`` if it is not JSON."""
    try:
        return json.loads(response.content, parse_float=Decimal)
    except ValueError:
        raise ProviderError(
            f"{NAME}: {response.request.url.path}: expected JSON (HTTP {response.status_code})",
            status=response.status_code,
        ) from None


def _problem(response: httpx.Response) -> tuple[str, str, str]:
    """Return (summary, detail, type) of a GoCardless error body; field errors are nested one level down."""
    try:
        body = json.loads(response.content)
    except ValueError:
        return "", "", ""
    if not isinstance(body, dict):
        return "", "", ""
    if not (body.get("summary") or body.get("detail")):
        # e.g. {"max_historical_days": {"summary": ..., "detail": ...}, "status_code": 400}
        nested = [(k, v) for k, v in body.items() if isinstance(v, dict) and (v.get("summary") or v.get("detail"))]
        if nested:
            field, problem = nested[0]
            return f"{field}: {_str(problem, 'summary')}", _str(problem, "detail"), _str(body, "type")
    return _str(body, "summary"), _str(body, "detail"), _str(body, "type")


def _consent_ended(problem: tuple[str, str, str]) -> bool:
    summary, _, kind = problem
    return kind in CONSENT_ENDED or summary in CONSENT_ENDED


def _header(headers: httpx.Headers, name: str) -> str | None:
    """Return header ``X_RATELIMIT_…`` whether sent as ``HTTP_X_RATELIMIT_…``, ``x-ratelimit-…`` or any case."""
    for key, value in headers.items():
        if key.upper().replace("-", "_").removeprefix("HTTP_") == name:
            return value
    return None


def _budget(headers: httpx.Headers) -> CallBudget | None:
    """Return the bank's daily budget for this account and endpoint, None when the headers are absent."""
    limit = _int(_header(headers, "X_RATELIMIT_ACCOUNT_SUCCESS_LIMIT"))
    remaining = _int(_header(headers, "X_RATELIMIT_ACCOUNT_SUCCESS_REMAINING"))
    if limit is None or remaining is None:
        return None
    return CallBudget(limit, remaining, _int(_header(headers, "X_RATELIMIT_ACCOUNT_SUCCESS_RESET")))


def _is_daily(response: httpx.Response, summary: str, detail: str, kind: str) -> bool:
    """Tell the bank's daily allowance from GoCardless' per-minute limit: the account budget header says 0
    left, or the body names a per-day limit ("4/day", "Daily request limit …", type RateLimitError)."""
    budget = _budget(response.headers)
    if budget is not None and budget.remaining <= 0:
        return True
    return kind == "RateLimitError" or bool(_DAILY.search(f"{summary} {detail}"))


def _wait(response: httpx.Response, summary: str, detail: str) -> float | None:
    reset = _int(_header(response.headers, "X_RATELIMIT_ACCOUNT_SUCCESS_RESET"))
    if reset is not None:
        return float(reset)
    if found := _TRY_AGAIN.search(f"{summary} {detail}"):
        return float(found.group(1))
    return retry_after_seconds(response.headers.get("Retry-After"))


def _institution(item: dict[str, Any], country: str) -> Institution:
    countries = _list(item.get("countries")) or [country]
    return Institution(
        id=_str(item, "id"),
        name=_str(item, "name"),
        country=(country or str(countries[0])).upper(),
        bic=_str(item, "bic"),
        max_consent_days=_int(item.get("max_access_valid_for_days")),
        max_history_days=_int(item.get("transaction_total_days")),
    )


def _transaction(item: Any, *, booked: bool) -> Transaction | None:
    """Map one Berlin Group transaction; None for a pending one without amount or date (it is shown again
    once booked). Raises ``ProviderError`` for such a booked one: dropping it would lose money silently."""
    money = _dict(item, "transactionAmount")
    booking = _date(item.get("bookingDate")) or _date(item.get("valueDate")) or _date(item.get("bookingDateTime"))
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
    name = _str(item, "debtorName" if incoming else "creditorName")
    iban = _str(_dict(item, "debtorAccount" if incoming else "creditorAccount"), "iban")
    lines = [str(line) for line in _list(item.get("remittanceInformationUnstructuredArray")) if str(line).strip()]
    reference = _str(item, "remittanceInformationUnstructured") or "\n".join(lines)
    end_to_end = _str(item, "endToEndId")
    # Pending transactions often carry no id at all (and some banks give a new one once booked); "" tells
    # the caller to fall back to a content key, as for statements without bank ids.
    bank_id = _str(item, "transactionId") or _str(item, "internalTransactionId")
    return Transaction(
        id=bank_id,
        booking_date=booking,
        amount=amount,
        currency=_str(money, "currency"),
        value_date=_date(item.get("valueDate")),
        counterparty_name=name,
        counterparty_iban=iban,
        reference=reference or _str(item, "additionalInformation"),
        end_to_end_id="" if end_to_end.upper() == "NOTPROVIDED" else end_to_end,
        structured_reference=_str(item, "remittanceInformationStructured"),
        bank_id=bank_id,
        raw=item,
    )


def _amount(value: Any) -> Decimal:
    if isinstance(value, Decimal | int) and not isinstance(value, bool):
        return Decimal(value)
    try:
        return parse_dot_amount(str(value or ""))
    except ValueError:
        raise ProviderError(f"{NAME}: unreadable amount {str(value)[:20]!r}") from None


def _str(obj: Any, key: str) -> str:
    value = obj.get(key) if isinstance(obj, dict) else None
    return str(value).strip() if value is not None else ""


def _obj(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _dict(obj: Any, key: str) -> dict[str, Any]:
    return _obj(obj.get(key) if isinstance(obj, dict) else None)


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _int(value: Any) -> int | None:
    try:
        return int(str(value).strip()) if value is not None else None
    except ValueError:
        return None


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
