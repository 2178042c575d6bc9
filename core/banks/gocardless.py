"""GoCardless Bank Account Data (formerly Nordigen): institutions, agreements, requisitions, accounts.

Flow: a token pair from the secret id/key; an end-user agreement (history and access days, scope);
a requisition that yields the bank link; once the owner has linked (status LN) the requisition's
accounts can be read. The requisition id is both ``ConsentStart.reference`` and ``Consent.reference``.
The HTTP side is ``Psd2Provider``'s; what the answers, error bodies and rate-limit headers mean is
``gocardless_wire``'s.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import httpx

from reconbot.core.banks import gocardless_wire as wire
from reconbot.core.banks.errors import ConsentExpiredError, ConsentRefusedError, ProviderError, RateLimitedError
from reconbot.core.banks.gocardless_wire import NAME
from reconbot.core.banks.model import (
    Balance,
    Consent,
    ConsentRequest,
    ConsentStart,
    ConsentState,
    ConsentStatus,
    FeedTransactions,
    Institution,
)
from reconbot.core.banks.provider import ProviderContext
from reconbot.core.banks.psd2 import Psd2Provider
from reconbot.core.http_client import response_json

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://bankaccountdata.gocardless.com/api/v2"
TOKEN_MARGIN = timedelta(seconds=60)  # renew a token this long before GoCardless says it ends
DEFAULT_ACCESS_DAYS = 90  # GoCardless' default, and what every bank accepts when it states no cap


@dataclass
class _Tokens:
    access: str
    access_until: datetime
    refresh: str
    refresh_until: datetime


class GoCardlessProvider(Psd2Provider):
    """GoCardless Bank Account Data client; every method raises ``ProviderError`` (or a subclass) on failure."""

    name = NAME
    credential_fields = ("secret_id", "secret_key")

    def __init__(
        self, secret_id: str, secret_key: str, context: ProviderContext, base_url: str = DEFAULT_BASE_URL
    ) -> None:
        # The hook sees each response before the retry policy: the bank's daily-limit 429 (pointless to retry)
        # must be told from GoCardless' per-minute one, which only its body and headers say.
        super().__init__(context, base_url, response_hooks=[self._stop_on_daily_limit])
        self._secret_id = secret_id
        self._secret_key = secret_key
        self._tokens: _Tokens | None = None
        self._token_lock = asyncio.Lock()

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
        found = await self._call("GET", "/institutions/", "listing banks", params={"country": country.lower()})
        return wire.institutions(found, country)

    async def start_connection(self, request: ConsentRequest) -> ConsentStart:
        """Create an end-user agreement and a requisition; return its bank link and the requisition id.

        History and access days are capped by the bank's own limits. Raises a permanent
        ``ProviderError`` for an unknown institution or a request GoCardless rejects.
        """
        found = await self._call("GET", f"/institutions/{request.institution_id}/", "reading the bank")
        bank = wire.institution(found if isinstance(found, dict) else {}, "")
        history = max(1, min(request.history_days, bank.max_history_days or request.history_days))
        wanted = math.ceil((request.valid_until - self._context.clock()).total_seconds() / 86400)
        access_days = max(1, min(wanted, bank.max_consent_days or DEFAULT_ACCESS_DAYS))
        agreement = await self._create(
            "/agreements/enduser/",
            "creating the agreement",
            wire.agreement_body(request.institution_id, history, access_days),
        )
        body = wire.requisition_body(request, wire.text(agreement, "id"))
        requisition = await self._create("/requisitions/", "creating the requisition", body)
        return ConsentStart(url=wire.text(requisition, "link"), reference=wire.text(requisition, "id"))

    async def finish_connection(self, start_reference: str, callback: Mapping[str, str]) -> Consent:
        """Return the consent of a linked requisition with each account's IBAN and currency.

        GoCardless redirects back with ``?ref=<our reference>`` and adds ``error``/``details`` when the
        bank flow failed. Raises ``ConsentRefusedError`` for those and for status RJ, ``ConsentExpiredError``
        for EX/SU, and a temporary ``ProviderError`` while the owner has not finished (CR, GC, UA, SA, GA).
        """
        if callback.get("error"):
            detail = " ".join(f"{callback['error']}: {callback.get('details', '')}".split())[:200]
            raise ConsentRefusedError(f"{NAME}: the bank did not grant access ({detail})")
        requisition = await self._call("GET", f"/requisitions/{start_reference}/", "reading the requisition")
        if callback.get("ref") and callback["ref"] != wire.text(requisition, "reference"):
            raise ProviderError(f"{NAME}: the callback belongs to another connection attempt", permanent=True)
        status = wire.text(requisition, "status")
        if status == "RJ":
            raise ConsentRefusedError(f"{NAME}: the owner refused access at the bank")
        if status in ("EX", "SU"):
            raise ConsentExpiredError(f"{NAME}: the connection expired before it was finished; start again")
        if status != "LN":
            raise ProviderError(f"{NAME}: the owner has not finished at the bank yet (status {status})")
        accounts = []
        for uid in requisition.get("accounts") or ():
            details = await self._call("GET", f"/accounts/{uid}/details/", "reading account details")
            accounts.append(wire.account(str(uid), details))
        valid_until = await self._valid_until(requisition)
        return Consent(start_reference, valid_until or self._context.clock(), tuple(accounts))

    async def consent_status(self, reference: str) -> ConsentStatus:
        """Return the requisition's state: LN valid (with its end), EX/SU expired, RJ rejected, else pending."""
        requisition = await self._call("GET", f"/requisitions/{reference}/", "reading the requisition")
        status = wire.text(requisition, "status")
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
        """Return when the requisition's agreement ends; None if it names none or the agreement does not say."""
        agreement_id = wire.text(requisition, "agreement")
        if not agreement_id:
            return None
        return wire.agreement_end(
            await self._call("GET", f"/agreements/enduser/{agreement_id}/", "reading the agreement")
        )

    # --- account data --------------------------------------------------------------------------------------

    async def transactions(self, reference: str, account_uid: str, date_from: date, date_to: date) -> FeedTransactions:
        """Return booked and pending transactions of ``[date_from, date_to]`` and today's remaining call budget.

        ``account_iban`` is left empty (the caller knows the account). Raises ``ConsentExpiredError`` when
        access ended, ``RateLimitedError(daily=True)`` when the bank's daily allowance is spent.
        """
        params = {"date_from": date_from.isoformat(), "date_to": date_to.isoformat()}
        response = await self._send("GET", f"/accounts/{account_uid}/transactions/", params=params)
        booked, pending = wire.transactions(self._checked(response, "reading transactions"))
        return FeedTransactions(booked=booked, pending=pending, budget=wire.budget(response.headers))

    async def balances(self, reference: str, account_uid: str) -> list[Balance]:
        """Return the account's balances (signed amounts); raises like ``transactions``."""
        return wire.balances(await self._call("GET", f"/accounts/{account_uid}/balances/", "reading balances"))

    # --- tokens and errors ---------------------------------------------------------------------------------

    async def _create(self, path: str, doing: str, body: Mapping[str, Any]) -> Any:
        # Creating twice would leave a stray agreement/requisition, so a POST is retried only when it surely
        # did not arrive (IntegrationHttp's idempotent=False); 401 means it was not performed either.
        return await self._call("POST", path, doing, json=body, idempotent=False)

    def _token_refused(self, response: httpx.Response) -> bool:
        # A 401 is about the token unless it says the consent ended (that one a new token cannot mend).
        return response.status_code == 401 and not wire.consent_ended(wire.problem(response))

    async def _bearer(self, *, renew: bool) -> str:
        """Return a usable access token: the cached one, else refreshed, else new (``renew`` skips the cache).

        Raises ``ProviderError`` (permanent) when GoCardless refuses the secret id/key.
        """
        async with self._token_lock:
            now = self._context.clock()
            tokens = self._tokens
            if tokens and not renew and now < tokens.access_until - TOKEN_MARGIN:
                return tokens.access
            if tokens and now < tokens.refresh_until - TOKEN_MARGIN:
                response = await self._http.request("POST", "/token/refresh/", json={"refresh": tokens.refresh})
                body = response_json(response, NAME) if response.status_code == 200 else None
                if access := wire.text(body, "access"):  # else (refresh refused) fall back to a new pair
                    tokens.access = access
                    tokens.access_until = now + timedelta(seconds=wire.integer(wire.text(body, "access_expires")) or 0)
                    return access
            response = await self._http.request(
                "POST", "/token/new/", json={"secret_id": self._secret_id, "secret_key": self._secret_key}
            )
            if response.status_code in (401, 403):
                summary, detail, _ = wire.problem(response)
                raise ProviderError(
                    f"{NAME}: the secret id/key were refused ({self._scrub(detail or summary)}); check them in "
                    "the GoCardless portal and run `reconbot bank setup`",
                    permanent=True,
                    status=response.status_code,
                )
            body = self._checked(response, "getting an access token")
            if not wire.text(body, "access"):
                raise ProviderError(f"{NAME}: the token answer holds no access token")
            self._tokens = _Tokens(
                access=wire.text(body, "access"),
                access_until=now + timedelta(seconds=wire.integer(body.get("access_expires")) or 0),
                refresh=wire.text(body, "refresh"),
                refresh_until=now + timedelta(seconds=wire.integer(body.get("refresh_expires")) or 0),
            )
            return self._tokens.access

    def _error(self, response: httpx.Response, doing: str) -> ProviderError:
        status = response.status_code
        found = wire.problem(response)
        summary, detail, _ = found
        text = summary if not detail or detail == summary else f"{summary}: {detail}"
        message = self._scrub(f"{NAME}: {doing}: {text or f'HTTP {status}'}")
        suspended = status == 409 and "/accounts/" in response.request.url.path  # "Account suspended"
        if wire.consent_ended(found) or suspended:
            return ConsentExpiredError(message + "; the owner must reconnect the account", status=status)
        if status == 429:
            daily = wire.is_daily(response, found)
            return RateLimitedError(message, retry_after=wire.wait_seconds(response, found), daily=daily)
        return ProviderError(message, permanent=400 <= status < 500, status=status)

    async def _stop_on_daily_limit(self, response: httpx.Response) -> None:
        """httpx response hook: raise ``RateLimitedError(daily=True)`` for the bank's daily-limit 429 so that
        IntegrationHttp does not retry it (a retry cannot succeed before the reset, and failures count
        towards the bank suspending the account)."""
        if response.status_code != 429 or "/accounts/" not in response.request.url.path:
            return
        await response.aread()
        if wire.is_daily(response, wire.problem(response)):
            path = response.request.url.path
            log.info("%s: daily limit reached for %s", NAME, path)
            raise self._error(response, f"reading {path.rstrip('/').rsplit('/', 1)[-1]}")

    def _scrub(self, text: str) -> str:
        """Return ``text`` with any credential or token blanked out (defence in depth for echoed values)."""
        secrets = [self._secret_id, self._secret_key]
        if self._tokens:
            secrets += [self._tokens.access, self._tokens.refresh]
        for secret in secrets:
            if secret:
                text = text.replace(secret, "***")
        return " ".join(text.split())
