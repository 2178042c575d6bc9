"""Enable Banking (api.enablebanking.com): account information over PSD2 for banks across Europe.

Every call carries a self-signed RS256 JWT (header ``kid`` = application id). A consent is an
Enable Banking *session*: ``POST /auth`` gives the bank page and an authorization id, the bank
redirects back with ``?code=``, and ``POST /sessions`` turns the code into a session whose
accounts are read by ``uid``. The HTTP side is ``Psd2Provider``'s (retries, Retry-After); what the
answers and error codes mean is ``enable_banking_wire``'s.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any, ClassVar
from urllib.parse import quote

import httpx
import jwt
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from reconbot.core.banks import enable_banking_wire as wire
from reconbot.core.banks.enable_banking_wire import NAME
from reconbot.core.banks.errors import ConsentRefusedError, ProviderError
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
from reconbot.core.domain import Transaction

DEFAULT_BASE_URL = "https://api.enablebanking.com"
JWT_ISSUER = "enablebanking.com"
JWT_AUDIENCE = "api.enablebanking.com"
TOKEN_LIFETIME = timedelta(hours=1)
TOKEN_RENEW_BEFORE = timedelta(minutes=5)
MAX_PAGES = 1000  # a runaway continuation chain ends in an error, never an endless loop


class EnableBankingProvider(Psd2Provider):
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
        super().__init__(
            context, base_url, headers={"Accept": "application/json"}, response_hooks=[_stop_on_daily_limit]
        )
        self._application_id = application_id
        self._key = private_key
        self._token: tuple[str, datetime] | None = None  # (jwt, expiry)

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
        return wire.institutions(
            await self._object("GET", "/aspsps", "bank list", params={"country": country}), country
        )

    async def start_connection(self, request: ConsentRequest) -> ConsentStart:
        """Start an authorisation; return the bank page and the authorization id.

        ``valid_until`` must not exceed now + the bank's ``maximum_consent_validity`` (the caller caps
        it with ``Institution.max_consent_days``); Enable Banking refuses longer ones.
        """
        body = wire.auth_body(request)
        return wire.consent_start(await self._object("POST", "/auth", "start consent", json=body, idempotent=False))

    async def finish_connection(self, start_reference: str, callback: Mapping[str, str]) -> Consent:
        """Exchange the callback's ``code`` for a session; return it with its accounts.

        Raises ``ConsentRefusedError`` when the callback carries ``error`` (the owner refused or the
        bank failed), ``ProviderError`` (permanent) when the code is missing, unknown or used.
        ``start_reference`` is not needed: the code alone names the authorisation.
        """
        if callback.get("error"):
            detail = callback.get("error_description") or ""
            raise ConsentRefusedError(
                wire.one_line(f"{NAME}: consent not granted: {callback['error']}" + (f": {detail}" if detail else ""))
            )
        code = callback.get("code") or ""
        if not code:
            raise ProviderError(f"{NAME}: the bank's callback carries neither code nor error", permanent=True)
        answer = await self._object("POST", "/sessions", "finish consent", json={"code": code}, idempotent=False)
        return wire.consent(answer)

    async def consent_status(self, reference: str) -> ConsentStatus:
        """Return the session's state (an AUTHORIZED session past ``valid_until`` counts as expired)."""
        response = await self._send("GET", f"/sessions/{_segment(reference)}")
        if not response.is_success:
            code = wire.error_code(response)
            if code == "REVOKED_SESSION":
                return ConsentStatus(ConsentState.REVOKED)
            if code in wire.SESSION_ENDED:
                return ConsentStatus(ConsentState.EXPIRED)
        answer = wire.answer_object(self._checked(response, "consent status"), "consent status")
        return wire.session_status(answer, self._context.clock())

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
            found, key = wire.transaction_page(await self._object("GET", path, "transactions", params=params))
            for is_booked, tx in found:
                if tx.bank_id and (is_booked, tx.bank_id) in seen_ids:
                    continue  # a bank repeating an entry across pages: entry_reference is unique per account
                seen_ids.add((is_booked, tx.bank_id))
                (booked if is_booked else pending).append(tx)
            if not key:
                return FeedTransactions(booked=tuple(booked), pending=tuple(pending))
            if key in seen_keys:
                raise ProviderError(f"{NAME}: transactions: the API repeated a continuation key")
            seen_keys.add(key)
            params = {**window, "continuation_key": key}
        raise ProviderError(f"{NAME}: transactions: more than {MAX_PAGES} pages")

    async def balances(self, reference: str, account_uid: str) -> list[Balance]:
        """Return the account's balances (signed amounts; ``kind`` is the ISO type, e.g. CLBD, ITAV)."""
        return wire.balances(await self._object("GET", f"/accounts/{_segment(account_uid)}/balances", "balances"))

    # --- plumbing ------------------------------------------------------------------------------

    async def _bearer(self, *, renew: bool) -> str:
        """Return a JWT, reusing the cached one until five minutes before it expires.

        ``renew`` is never asked for: a refused self-signed token means a wrong key, which a new one keeps.
        """
        now = self._context.clock()
        if self._token is None or now >= self._token[1] - TOKEN_RENEW_BEFORE:
            issued = int(now.timestamp())
            expires = issued + int(TOKEN_LIFETIME.total_seconds())
            claims = {"iss": JWT_ISSUER, "aud": JWT_AUDIENCE, "iat": issued, "exp": expires}
            token = jwt.encode(claims, self._key, algorithm="RS256", headers={"kid": self._application_id})
            self._token = (token, datetime.fromtimestamp(expires, UTC))
        return self._token[0]

    def _error(self, response: httpx.Response, doing: str) -> ProviderError:
        return wire.error_for(response, doing)

    async def _object(
        self,
        method: str,
        path: str,
        what: str,
        *,
        params: Mapping[str, str] | None = None,
        json: Any = None,
        idempotent: bool = True,
    ) -> dict[str, Any]:
        """Return the JSON object a 2xx answer holds; raises ``ProviderError`` for any other answer."""
        body = await self._call(method, path, what, params=params, json=json, idempotent=idempotent)
        return wire.answer_object(body, what)


async def _stop_on_daily_limit(response: httpx.Response) -> None:
    """Raise at once for a 429 that says the bank's daily allowance is used up: retrying cannot help today."""
    if response.status_code == 429:
        await response.aread()
        if wire.error_code(response) in wire.DAILY_LIMIT_CODES:
            raise wire.error_for(response, "reading the account")


def _segment(value: str) -> str:
    return quote(value, safe="")
