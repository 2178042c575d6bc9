"""A fake Enable Banking API that speaks the real wire protocol, for tests (serve ``app`` with ``tests.fakes.server``).

Every API request must carry ``Authorization: Bearer <jwt>``, an RS256 JWT signed with the private key
matching ``public_key_pem``, header ``kid`` = the application id, and claims ``iss="enablebanking.com"``,
``aud="api.enablebanking.com"``, ``iat``, ``exp`` (checked against ``clock``; lifetime at most 24 h).
Failures answer like the real API: ``{"message", "code", "error", "detail"}``. The error codes come
from the API reference; the HTTP status paired with each (401 for ended sessions and bad tokens,
422 for invalid input, 404 for unknown ids) is a guess where the reference does not say.

The owner's visit to the bank is ``approve(authorization_id) -> code`` (or ``deny``), or a browser-like
GET of the ``url`` that ``POST /auth`` returned, with ``?decision=approve`` or ``?decision=deny``,
which redirects to the ``redirect_url`` with ``state`` and ``code`` (or ``error``).
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import jwt
from aiohttp import web
from aiohttp.typedefs import Handler
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

APPLICATION_ID = "5a1e0c4b-fake-4e11-a5b1-000000000001"
JWT_ISSUER = "enablebanking.com"
JWT_AUDIENCE = "api.enablebanking.com"
MAX_TOKEN_SECONDS = 86400

DEFAULT_ASPSPS: tuple[dict[str, Any], ...] = (
    {
        "name": "Nordea",
        "country": "FI",
        "bic": "NDEAFIHH",
        "maximum_consent_validity": 180 * 86400,
        "transaction_total_days": 730,
        "psu_types": ["business", "personal"],
        "beta": False,
    },
    {
        "name": "OTP Bank",
        "country": "HU",
        "bic": "OTPVHUHB",
        "maximum_consent_validity": 90 * 86400,
        "psu_types": ["business", "personal"],
        "beta": False,
    },
    {
        "name": "Mock ASPSP",
        "country": "FI",
        "maximum_consent_validity": 90 * 86400,
        "psu_types": ["personal"],
        "beta": True,
    },
)


def make_keypair() -> tuple[str, str]:
    """Return a fresh 2048-bit RSA keypair as (private PKCS#8 PEM, public SubjectPublicKeyInfo PEM)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    public = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    return private.decode(), public.decode()


def make_transaction(
    amount: str,
    indicator: str = "CRDT",
    booking_date: date | str | None = "2024-05-02",
    *,
    status: str = "BOOK",
    currency: str = "EUR",
    value_date: date | str | None = None,
    debtor_name: str = "",
    debtor_iban: str = "",
    creditor_name: str = "",
    creditor_iban: str = "",
    remittance: Sequence[str] = (),
    entry_reference: str | None = None,
    transaction_id: str | None = None,
    reference_number: str | None = None,
) -> dict[str, Any]:
    """Return a transaction in the API's JSON shape (amount unsigned text, direction in ``indicator``)."""
    tx: dict[str, Any] = {
        "transaction_amount": {"amount": amount, "currency": currency},
        "credit_debit_indicator": indicator,
        "status": status,
        "remittance_information": list(remittance),
    }
    for key, value in (("booking_date", booking_date), ("value_date", value_date)):
        if value is not None:
            tx[key] = value.isoformat() if isinstance(value, date) else value
    if debtor_name:
        tx["debtor"] = {"name": debtor_name}
    if debtor_iban:
        tx["debtor_account"] = {"iban": debtor_iban}
    if creditor_name:
        tx["creditor"] = {"name": creditor_name}
    if creditor_iban:
        tx["creditor_account"] = {"iban": creditor_iban}
    for key, text in (
        ("entry_reference", entry_reference),
        ("transaction_id", transaction_id),
        ("reference_number", reference_number),
    ):
        if text is not None:
            tx[key] = text
    return tx


def make_balance(
    amount: str, currency: str = "EUR", balance_type: str = "CLBD", reference_date: str | None = None
) -> dict[str, Any]:
    """Return a balance in the API's JSON shape (``amount`` signed text)."""
    balance: dict[str, Any] = {
        "name": balance_type,
        "balance_amount": {"amount": amount, "currency": currency},
        "balance_type": balance_type,
    }
    if reference_date:
        balance["reference_date"] = reference_date
    return balance


@dataclass(frozen=True)
class BankAccount:
    """An account the owner holds at the bank; each session that covers it gives it a new ``uid``."""

    iban: str
    currency: str = "EUR"
    name: str = ""


@dataclass
class RecordedRequest:
    """One request the fake received: ``status`` is what it answered, ``jwt_*`` its token once verified."""

    method: str
    path: str
    query: dict[str, str]
    body: Any = None
    jwt_header: dict[str, Any] | None = None
    jwt_claims: dict[str, Any] | None = None
    status: int = 0


@dataclass
class _Session:
    id: str
    status: str
    valid_until: datetime
    aspsp: dict[str, Any]
    psu_type: str
    accounts: list[str] = field(default_factory=list)
    pages_until_expiry: int | None = None


@dataclass
class _Account:
    uid: str
    session_id: str
    bank: BankAccount
    transactions: list[dict[str, Any]] = field(default_factory=list)
    balances: list[dict[str, Any]] = field(default_factory=list)


def _error(status: int, message: str, error: str | None = None, headers: dict[str, str] | None = None) -> web.Response:
    return web.json_response(
        {"message": message, "code": status, "error": error, "detail": None}, status=status, headers=headers
    )


async def _json_body(request: web.Request) -> Any:
    """Return the request's JSON body, or None when it has none or it is not JSON (aiohttp caches the bytes)."""
    try:
        return await request.json() if await request.read() else None
    except ValueError:
        return None


def _parse_date(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None


class FakeEnableBanking:
    """The fake API and its state; every knob below may be called between requests."""

    def __init__(
        self,
        public_key_pem: str,
        application_id: str = APPLICATION_ID,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        page_size: int = 50,
        aspsps: Sequence[dict[str, Any]] = DEFAULT_ASPSPS,
    ) -> None:
        self.application_id = application_id
        self.clock = clock
        self.page_size = page_size
        self.aspsps = [dict(aspsp) for aspsp in aspsps]
        #: what the owner holds at the bank; a session approved without explicit accounts covers these
        self.bank_accounts = [BankAccount("FI2112345600000785", "EUR", "Business account")]
        #: None accepts every redirect_url; otherwise only these (like the application's registered URLs)
        self.allowed_redirect_urls: set[str] | None = None
        self.requests: list[RecordedRequest] = []
        self.auth_requests: dict[str, dict[str, Any]] = {}  # authorization_id -> POST /auth body
        public_key = serialization.load_pem_public_key(public_key_pem.encode())
        if not isinstance(public_key, rsa.RSAPublicKey):
            raise ValueError("public_key_pem must be an RSA public key")
        self._public_key = public_key
        self._codes: dict[str, tuple[str, list[BankAccount]]] = {}  # unused code -> (authorization, accounts)
        self._sessions: dict[str, _Session] = {}
        self._accounts: dict[str, _Account] = {}
        self._continuations: dict[str, tuple[str, int]] = {}  # key -> (uid, offset)
        self._page_failures: dict[tuple[str, int], tuple[int, int]] = {}  # (uid, page) -> (status, times)
        self._rate_limit: tuple[int, float] = (0, 0.0)
        self._injected: dict[tuple[str, str], tuple[int, str | None, str, int]] = {}
        self._app = web.Application(middlewares=[self._middleware()])
        self._app.add_routes(
            [
                web.get("/aspsps", self._get_aspsps),
                web.post("/auth", self._post_auth),
                web.post("/sessions", self._post_sessions),
                web.get("/sessions/{session_id}", self._get_session),
                web.get("/accounts/{uid}/transactions", self._get_transactions),
                web.get("/accounts/{uid}/balances", self._get_balances),
                web.get("/bank/{authorization_id}", self._bank_page),
            ]
        )

    @property
    def app(self) -> web.Application:
        """The aiohttp application to serve."""
        return self._app

    # --- knobs ---------------------------------------------------------------------------------

    def approve(self, authorization_id: str, accounts: Sequence[BankAccount] | None = None) -> str:
        """Simulate the owner approving at the bank; return the code the bank redirects back with."""
        if authorization_id not in self.auth_requests:
            raise KeyError(authorization_id)
        code = secrets.token_urlsafe(12)
        self._codes[code] = (authorization_id, list(self.bank_accounts if accounts is None else accounts))
        return code

    def deny(self, authorization_id: str) -> dict[str, str]:
        """Simulate the owner refusing at the bank; return the callback's query parameters."""
        state = str(self.auth_requests[authorization_id].get("state", ""))
        return {"state": state, "error": "access_denied", "error_description": "User cancelled the authorisation"}

    def create_session(
        self,
        accounts: Sequence[BankAccount] | None = None,
        *,
        valid_until: datetime | None = None,
        aspsp: str = "Nordea",
        country: str = "FI",
    ) -> str:
        """Create an AUTHORIZED session directly (skipping the consent flow); return its id."""
        session = _Session(
            id=str(uuid.uuid4()),
            status="AUTHORIZED",
            valid_until=valid_until or self.clock() + timedelta(days=90),
            aspsp={"name": aspsp, "country": country},
            psu_type="business",
        )
        self._sessions[session.id] = session
        for account in self.bank_accounts if accounts is None else accounts:
            self.add_account(session.id, account)
        return session.id

    def add_account(self, session_id: str, account: BankAccount) -> str:
        """Add an account to a session; return its uid."""
        uid = str(uuid.uuid4())
        self._accounts[uid] = _Account(uid, session_id, account)
        self._sessions[session_id].accounts.append(uid)
        return uid

    def account_uids(self, session_id: str) -> list[str]:
        """Return the uids of a session's accounts."""
        return list(self._sessions[session_id].accounts)

    def add_transaction(self, uid: str, transaction: dict[str, Any]) -> None:
        """Add a transaction (API JSON shape, see ``make_transaction``); pages keep insertion order."""
        self._accounts[uid].transactions.append(transaction)

    def set_balances(self, uid: str, balances: Sequence[dict[str, Any]]) -> None:
        """Set the account's balances (API JSON shape, see ``make_balance``)."""
        self._accounts[uid].balances = list(balances)

    def expire_session(self, session_id: str, after_pages: int = 0) -> None:
        """End the session now, or after serving ``after_pages`` more transaction pages (expiry mid-sync)."""
        session = self._sessions[session_id]
        if after_pages:
            session.pages_until_expiry = after_pages
        else:
            session.status = "EXPIRED"

    def revoke_session(self, session_id: str) -> None:
        """Simulate the owner withdrawing the consent at the bank."""
        self._sessions[session_id].status = "REVOKED"

    def fail_page(self, uid: str, page_index: int, status: int = 500, times: int = 1) -> None:
        """Make transaction page ``page_index`` (0-based) of ``uid`` answer ``status`` the next ``times`` times."""
        self._page_failures[(uid, page_index)] = (status, times)

    def rate_limit(self, times: int, retry_after: float) -> None:
        """Answer the next ``times`` API requests with 429 and ``Retry-After: retry_after``."""
        self._rate_limit = (times, retry_after)

    def inject_error(
        self,
        method: str,
        path: str,
        status: int,
        error: str | None = None,
        message: str = "Injected error",
        times: int = 1,
    ) -> None:
        """Answer the next ``times`` requests to exactly ``method path`` with this error body."""
        self._injected[(method.upper(), path)] = (status, error, message, times)

    def requests_to(self, path_suffix: str) -> list[RecordedRequest]:
        """Return the recorded requests whose path ends with ``path_suffix``."""
        return [request for request in self.requests if request.path.endswith(path_suffix)]

    # --- protocol ------------------------------------------------------------------------------

    def _middleware(self) -> Any:
        @web.middleware
        async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
            raw = await request.read()
            body: Any = None
            if raw:
                try:
                    body = await request.json()
                except ValueError:
                    body = raw.decode(errors="replace")
            record = RecordedRequest(request.method, request.path, dict(request.query), body)
            self.requests.append(record)
            response = await self._gate(request, record) or await handler(request)
            record.status = response.status
            return response

        return middleware

    async def _gate(self, request: web.Request, record: RecordedRequest) -> web.StreamResponse | None:
        """Return the refusal for a request that fails authentication, rate limits or an injected error."""
        if request.path.startswith("/bank/"):
            return None  # the owner's browser, no API token
        verdict = self._verify_token(request.headers.get("Authorization", ""))
        if isinstance(verdict, web.Response):
            return verdict
        record.jwt_header, record.jwt_claims = verdict
        times, retry_after = self._rate_limit
        if times > 0:
            self._rate_limit = (times - 1, retry_after)
            return _error(429, "Too many requests", None, {"Retry-After": f"{retry_after:g}"})
        injected = self._injected.get((request.method, request.path))
        if injected and injected[3] > 0:
            status, error, message, left = injected
            self._injected[(request.method, request.path)] = (status, error, message, left - 1)
            return _error(status, message, error)
        return None

    def _verify_token(self, header: str) -> tuple[dict[str, Any], dict[str, Any]] | web.Response:
        """Return the valid token's header and claims, or the 401 the API answers."""
        if not header.startswith("Bearer "):
            return _error(401, "Authorization header is not provided", "AUTHORIZATION_NOT_PROVIDED")
        token = header.removeprefix("Bearer ").strip()
        try:
            head = jwt.get_unverified_header(token)
            if head.get("alg") != "RS256" or head.get("kid") != self.application_id:
                return _error(401, "Unknown application or wrong algorithm", "UNAUTHORIZED_ACCESS")
            claims = jwt.decode(
                token,
                self._public_key,
                algorithms=["RS256"],
                audience=JWT_AUDIENCE,
                issuer=JWT_ISSUER,
                options={"verify_exp": False, "verify_iat": False, "require": ["iss", "aud", "iat", "exp"]},
            )
        except jwt.PyJWTError as exc:
            return _error(401, f"Invalid token: {type(exc).__name__}", "UNAUTHORIZED_ACCESS")
        iat, exp, now = claims["iat"], claims["exp"], self.clock().timestamp()
        if not isinstance(iat, int) or not isinstance(exp, int):
            return _error(401, "Invalid token: iat and exp must be integers", "UNAUTHORIZED_ACCESS")
        if exp <= now or iat > now + 60 or exp - iat > MAX_TOKEN_SECONDS:
            return _error(401, "Token is expired, not yet valid or lives longer than 24 hours", "UNAUTHORIZED_ACCESS")
        return head, claims

    async def _get_aspsps(self, request: web.Request) -> web.StreamResponse:
        country = request.query.get("country", "").upper()
        return web.json_response({"aspsps": [a for a in self.aspsps if not country or a["country"] == country]})

    async def _post_auth(self, request: web.Request) -> web.StreamResponse:
        body = await _json_body(request)
        if not isinstance(body, dict):
            return _error(422, "Request body must be a JSON object", "WRONG_REQUEST_PARAMETERS")
        aspsp_ref = body.get("aspsp") or {}
        aspsp = next(
            (a for a in self.aspsps if a["name"] == aspsp_ref.get("name") and a["country"] == aspsp_ref.get("country")),
            None,
        )
        if aspsp is None:
            return _error(422, "Wrong ASPSP name provided", "WRONG_ASPSP_PROVIDED")
        try:
            valid_until = datetime.fromisoformat(str((body.get("access") or {}).get("valid_until")))
        except ValueError:
            return _error(422, "access.valid_until must be an RFC 3339 date-time", "WRONG_REQUEST_PARAMETERS")
        now = self.clock()
        if valid_until.tzinfo is None or not now < valid_until <= now + timedelta(
            seconds=aspsp["maximum_consent_validity"]
        ):
            return _error(422, "access.valid_until is outside the ASPSP's consent validity", "WRONG_REQUEST_PARAMETERS")
        redirect_url = body.get("redirect_url")
        if not redirect_url or not body.get("state"):
            return _error(422, "redirect_url and state are required", "WRONG_REQUEST_PARAMETERS")
        if self.allowed_redirect_urls is not None and redirect_url not in self.allowed_redirect_urls:
            return _error(403, "Redirect URI not allowed", "REDIRECT_URI_NOT_ALLOWED")
        if body.get("psu_type", "personal") not in aspsp.get("psu_types", ["personal"]):
            return _error(422, "PSU type not supported by the ASPSP", "WRONG_REQUEST_PARAMETERS")
        authorization_id = str(uuid.uuid4())
        self.auth_requests[authorization_id] = body
        url = str(request.url.origin() / "bank" / authorization_id)
        return web.json_response({"url": url, "authorization_id": authorization_id, "psu_id_hash": "fake"})

    async def _post_sessions(self, request: web.Request) -> web.StreamResponse:
        body = await _json_body(request)
        code = body.get("code") if isinstance(body, dict) else None
        issued = self._codes.pop(str(code), None) if code else None
        if issued is None:
            return _error(422, "Wrong authorization code provided", "WRONG_AUTHORIZATION_CODE")
        authorization_id, accounts = issued
        auth = self.auth_requests[authorization_id]
        session_id = self.create_session(
            accounts,
            valid_until=datetime.fromisoformat(auth["access"]["valid_until"]),
            aspsp=auth["aspsp"]["name"],
            country=auth["aspsp"]["country"],
        )
        session = self._sessions[session_id]
        session.psu_type = auth.get("psu_type", "personal")
        return web.json_response(
            {
                "session_id": session_id,
                "aspsp": session.aspsp,
                "psu_type": session.psu_type,
                "access": {"valid_until": session.valid_until.isoformat()},
                "accounts": [self._account_resource(self._accounts[uid]) for uid in session.accounts],
            }
        )

    async def _get_session(self, request: web.Request) -> web.StreamResponse:
        session = self._sessions.get(request.match_info["session_id"])
        if session is None:
            return _error(404, "No session found matching provided id", "SESSION_DOES_NOT_EXIST")
        return web.json_response(
            {
                "status": self._status(session),
                "accounts": list(session.accounts),
                "accounts_data": [{"uid": uid, "identification_hash": f"hash-{uid}"} for uid in session.accounts],
                "aspsp": session.aspsp,
                "psu_type": session.psu_type,
                "access": {"valid_until": session.valid_until.isoformat()},
            }
        )

    async def _get_transactions(self, request: web.Request) -> web.StreamResponse:
        account, refusal = self._readable_account(request.match_info["uid"])
        if refusal is not None or account is None:
            return refusal or _error(404, "No account found", "ACCOUNT_DOES_NOT_EXIST")
        query = request.query
        offset = 0
        if "continuation_key" in query:
            continuation = self._continuations.get(query["continuation_key"])
            if continuation is None or continuation[0] != account.uid:
                return _error(422, "Wrong continuation key provided", "WRONG_CONTINUATION_KEY")
            offset = continuation[1]
        try:
            date_from, date_to = _parse_date(query.get("date_from")), _parse_date(query.get("date_to"))
        except ValueError:
            return _error(422, "date_from and date_to must be ISO dates", "WRONG_REQUEST_PARAMETERS")
        if date_to and not date_from:
            return _error(422, "date_from must be provided if date_to provided", "DATE_TO_WITHOUT_DATE_FROM")
        if date_from and date_to and date_from > date_to:
            return _error(422, "date_from should be less than or equal date_to", "WRONG_DATE_INTERVAL")
        page_index = offset // self.page_size
        status, times = self._page_failures.get((account.uid, page_index), (0, 0))
        if times > 0:
            self._page_failures[(account.uid, page_index)] = (status, times - 1)
            return _error(status, "Error interacting with ASPSP", "ASPSP_ERROR")
        matching = [tx for tx in account.transactions if self._in_window(tx, date_from, date_to)]
        page = matching[offset : offset + self.page_size]
        key: str | None = None
        if offset + self.page_size < len(matching):
            key = secrets.token_urlsafe(12)
            self._continuations[key] = (account.uid, offset + self.page_size)
        session = self._sessions[account.session_id]
        if session.pages_until_expiry is not None:
            session.pages_until_expiry -= 1
            if session.pages_until_expiry <= 0:
                session.status, session.pages_until_expiry = "EXPIRED", None
        return web.json_response({"transactions": page, "continuation_key": key})

    async def _get_balances(self, request: web.Request) -> web.StreamResponse:
        account, refusal = self._readable_account(request.match_info["uid"])
        if refusal is not None or account is None:
            return refusal or _error(404, "No account found", "ACCOUNT_DOES_NOT_EXIST")
        return web.json_response({"balances": account.balances})

    async def _bank_page(self, request: web.Request) -> web.StreamResponse:
        authorization_id = request.match_info["authorization_id"]
        auth = self.auth_requests.get(authorization_id)
        if auth is None:
            return web.Response(status=404, text="Unknown authorisation")
        decision = request.query.get("decision")
        if decision in ("approve", "deny"):
            params = (
                {"state": auth["state"], "code": self.approve(authorization_id)}
                if decision == "approve"
                else self.deny(authorization_id)
            )
            separator = "&" if "?" in auth["redirect_url"] else "?"
            raise web.HTTPFound(f"{auth['redirect_url']}{separator}{urlencode(params)}")
        return web.Response(
            content_type="text/html",
            text=(
                f"<h1>{auth['aspsp']['name']}</h1><p>Share your accounts?</p>"
                '<a href="?decision=approve">Approve</a> <a href="?decision=deny">Deny</a>'
            ),
        )

    # --- helpers -------------------------------------------------------------------------------

    def _status(self, session: _Session) -> str:
        if session.status == "AUTHORIZED" and session.valid_until <= self.clock():
            return "EXPIRED"
        return session.status

    def _readable_account(self, uid: str) -> tuple[_Account | None, web.Response | None]:
        account = self._accounts.get(uid)
        if account is None:
            return None, _error(404, "No account found matching provided id", "ACCOUNT_DOES_NOT_EXIST")
        status = self._status(self._sessions[account.session_id])
        refusals = {
            "EXPIRED": ("Session is expired", "EXPIRED_SESSION"),
            "REVOKED": ("Session is revoked", "REVOKED_SESSION"),
            "CLOSED": ("Session is closed", "CLOSED_SESSION"),
        }
        if status in refusals:
            return account, _error(401, *refusals[status])
        if status != "AUTHORIZED":
            return account, _error(422, "Wrong session status", "WRONG_SESSION_STATUS")
        return account, None

    @staticmethod
    def _in_window(tx: dict[str, Any], date_from: date | None, date_to: date | None) -> bool:
        text = tx.get("booking_date") or tx.get("value_date") or tx.get("transaction_date")
        if not text:
            return True
        day = date.fromisoformat(str(text)[:10])
        return (date_from is None or day >= date_from) and (date_to is None or day <= date_to)

    @staticmethod
    def _account_resource(account: _Account) -> dict[str, Any]:
        return {
            "uid": account.uid,
            "account_id": {"iban": account.bank.iban},
            "name": account.bank.name,
            "currency": account.bank.currency,
            "cash_account_type": "CACC",
            "identification_hash": f"hash-{account.bank.iban}",
            "usage": "ORGA",
        }
