"""A fake GoCardless Bank Account Data API (v2) speaking its wire protocol, for tests.

Serve ``FakeGoCardless(...).app`` with ``tests.fakes.server.serve`` and point the provider's
``base_url`` at ``<served url>/api/v2``. Knobs let a test play the account owner (``link``,
``reject``), end access (``expire``, ``suspend``), spend the bank's daily allowance, and inject
failures (``fail_next``, ``rate_limit_next``, ``expire_access_tokens``).
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

PREFIX = "/api/v2"
ACCOUNT_ENDPOINTS = ("details", "balances", "transactions")
DAY = timedelta(days=1)


@dataclass
class Recorded:
    """One request the fake received."""

    method: str
    path: str  # without the /api/v2 prefix, e.g. "/accounts/acc-1/transactions/"
    query: dict[str, str]
    body: Any
    authorization: str
    status: int = 0


@dataclass
class FakeAccount:
    id: str
    iban: str
    currency: str = "EUR"
    name: str = ""
    owner_name: str = ""
    booked: list[dict[str, Any]] = field(default_factory=list)
    pending: list[dict[str, Any]] = field(default_factory=list)
    balances: list[dict[str, Any]] = field(default_factory=list)


def _error(
    status: int, summary: str, detail: str, kind: str = "", headers: dict[str, str] | None = None
) -> web.Response:
    body: dict[str, Any] = {"summary": summary, "detail": detail, "status_code": status}
    if kind:
        body["type"] = kind
    return web.json_response(body, status=status, headers=headers)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class FakeGoCardless:
    """In-memory GoCardless: tokens, institutions, agreements, requisitions and accounts.

    ``clock`` (aware UTC now) drives token expiry, agreement acceptance and the daily allowance;
    share it with the provider's ``ProviderContext`` to move time in a test.
    """

    def __init__(
        self,
        *,
        secret_id: str = "fake-secret-id",
        secret_key: str = "fake-secret-key",
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        daily_limit: int = 4,
        access_expires: int = 86400,
        refresh_expires: int = 2592000,
        daily_limit_headers_on_429: bool = True,
    ) -> None:
        self.secret_id = secret_id
        self.secret_key = secret_key
        self.clock = clock
        self.daily_limit = daily_limit
        self.access_expires = access_expires
        self.refresh_expires = refresh_expires
        self.daily_limit_headers_on_429 = daily_limit_headers_on_429
        self.requests: list[Recorded] = []
        self.issued_tokens: list[str] = []  # every access/refresh token handed out, to check none leaks
        self.institutions: dict[str, dict[str, Any]] = {}
        self.agreements: dict[str, dict[str, Any]] = {}
        self.requisitions: dict[str, dict[str, Any]] = {}
        self.accounts: dict[str, FakeAccount] = {}
        self._access: dict[str, datetime] = {}
        self._refresh: dict[str, datetime] = {}
        self._failures: list[list[Any]] = []  # [path substring, status, times left, body]
        self._rate_limits: list[int | float] = []  # Retry-After of each upcoming general 429
        self._calls: dict[tuple[str, str], tuple[int, datetime]] = {}  # (account, endpoint) -> (used, window start)
        self.add_institution("SANDBOXFINANCE_SFIN0000", "Sandbox Finance", bic="SFIN0000", countries=("XX",))
        self._app = web.Application(middlewares=[self._middleware])
        routes = [
            ("POST", "/token/new/", self._token_new),
            ("POST", "/token/refresh/", self._token_refresh),
            ("GET", "/institutions/", self._institutions),
            ("GET", "/institutions/{id}/", self._institution),
            ("POST", "/agreements/enduser/", self._create_agreement),
            ("GET", "/agreements/enduser/{id}/", self._agreement),
            ("POST", "/requisitions/", self._create_requisition),
            ("GET", "/requisitions/{id}/", self._requisition),
            ("GET", "/accounts/{id}/{endpoint}/", self._account_data),
        ]
        for method, path, handler in routes:
            self._app.router.add_route(method, PREFIX + path, handler)
        self._app.router.add_get("/fake-bank/{id}", self._bank_page)

    @property
    def app(self) -> web.Application:
        return self._app

    # --- knobs ---------------------------------------------------------------------------------------------

    def add_institution(
        self,
        id: str,
        name: str,
        *,
        bic: str = "",
        countries: Iterable[str] = ("HU",),
        transaction_total_days: int = 540,
        max_access_valid_for_days: int = 180,
    ) -> None:
        # The real API sends the two caps as strings.
        self.institutions[id] = {
            "id": id,
            "name": name,
            "bic": bic,
            "transaction_total_days": str(transaction_total_days),
            "max_access_valid_for_days": str(max_access_valid_for_days),
            "countries": [c.upper() for c in countries],
            "logo": f"https://cdn.example/{id}.png",
        }

    def add_account(
        self, account_id: str, iban: str, *, currency: str = "EUR", name: str = "", owner: str = ""
    ) -> None:
        self.accounts[account_id] = FakeAccount(account_id, iban, currency, name, owner)

    def add_transaction(
        self, account_id: str, amount: str | None = None, *, currency: str = "EUR", booked: bool = True, **fields: Any
    ) -> dict[str, Any]:
        """Add a Berlin Group transaction (``fields`` verbatim: bookingDate=…, debtorName=…); ``amount`` is the
        signed string of ``transactionAmount``. Returns the stored object."""
        item = dict(fields)
        if amount is not None:
            item["transactionAmount"] = {"amount": amount, "currency": currency}
        account = self.accounts[account_id]
        (account.booked if booked else account.pending).append(item)
        return item

    def add_balance(self, account_id: str, amount: str, kind: str, *, currency: str = "EUR", on: str = "") -> None:
        balance: dict[str, Any] = {"balanceAmount": {"amount": amount, "currency": currency}, "balanceType": kind}
        if on:
            balance["referenceDate"] = on
        self.accounts[account_id].balances.append(balance)

    def link(self, requisition_id: str, accounts: Iterable[str]) -> str:
        """Play the owner granting access to ``accounts``: status LN, agreement accepted now.

        Returns the URL the bank sends the owner back to (``redirect?ref=<reference>``).
        """
        requisition = self.requisitions[requisition_id]
        for account_id in accounts:
            if account_id not in self.accounts:
                self.add_account(account_id, f"HU42117730161111101800{len(self.accounts):06d}")
            requisition["accounts"].append(account_id)
        requisition["status"] = "LN"
        self.agreements[requisition["agreement"]]["accepted"] = _iso(self.clock())
        return f"{requisition['redirect']}?{urlencode({'ref': requisition['reference']})}"

    def reject(self, requisition_id: str) -> str:
        """Play the owner refusing at the bank: status RJ; returns the redirect with the error parameters."""
        requisition = self.requisitions[requisition_id]
        requisition["status"] = "RJ"
        query = {"ref": requisition["reference"], "error": "UserCancelledSession", "details": "User cancelled"}
        return f"{requisition['redirect']}?{urlencode(query)}"

    def set_status(self, requisition_id: str, status: str) -> None:
        self.requisitions[requisition_id]["status"] = status

    def expire(self, requisition_id: str) -> None:
        """End access: the requisition goes EX and its accounts answer 401 AccessExpiredError."""
        self.set_status(requisition_id, "EX")

    def suspend(self, requisition_id: str) -> None:
        """Suspend the requisition (status SU): its accounts answer 409 "Account suspended"."""
        self.set_status(requisition_id, "SU")

    def fail_next(
        self, path_substring: str, status: int = 503, times: int = 1, body: dict[str, Any] | None = None
    ) -> None:
        """Answer the next ``times`` requests whose path contains ``path_substring`` with ``status``."""
        self._failures.append([path_substring, status, times, body])

    def rate_limit_next(self, times: int = 1, retry_after: float = 1) -> None:
        """Answer the next ``times`` requests with GoCardless' general 429 and ``Retry-After``."""
        self._rate_limits.extend([retry_after] * times)

    def expire_access_tokens(self) -> None:
        """Invalidate every access token issued so far (refresh tokens keep working)."""
        self._access.clear()

    def count(self, path_substring: str, method: str | None = None) -> int:
        return sum(1 for r in self.requests if path_substring in r.path and method in (None, r.method))

    # --- plumbing ------------------------------------------------------------------------------------------

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Callable[[web.Request], Any]) -> web.StreamResponse:
        path = request.path.removeprefix(PREFIX)
        try:
            body: Any = await request.json() if request.can_read_body else None
        except ValueError:
            body = None
        recorded = Recorded(request.method, path, dict(request.query), body, request.headers.get("Authorization", ""))
        self.requests.append(recorded)
        response = await self._dispatch(request, path, handler)
        recorded.status = response.status
        return response

    async def _dispatch(
        self, request: web.Request, path: str, handler: Callable[[web.Request], Any]
    ) -> web.StreamResponse:
        for failure in self._failures:
            if failure[0] in path and failure[2] > 0:
                failure[2] -= 1
                status, body = failure[1], failure[3]
                if body is not None:
                    return web.json_response(body, status=status)
                if status == 401:
                    return _error(401, "Invalid token", "Token is invalid or expired")
                return _error(status, "Service temporarily unavailable", "Please try again later", "ServiceError")
        if self._rate_limits:
            wait = self._rate_limits.pop(0)
            return _error(
                429,
                "Rate limit exceeded",
                f"The rate limit for this resource is 100/minute. Please try again in {wait:.0f} seconds",
                headers={
                    "Retry-After": f"{wait:g}",
                    "HTTP_X_RATELIMIT_LIMIT": "100",
                    "HTTP_X_RATELIMIT_REMAINING": "0",
                },
            )
        if request.path.startswith(PREFIX) and not path.startswith("/token/"):
            scheme, _, token = request.headers.get("Authorization", "").partition(" ")
            if scheme != "Bearer" or not token:
                return _error(
                    401,
                    "Authentication credentials were not provided.",
                    "Authentication credentials were not provided.",
                )
            if self._access.get(token, datetime.min.replace(tzinfo=UTC)) <= self.clock():
                return _error(401, "Invalid token", "Token is invalid or expired")
        response: web.StreamResponse = await handler(request)
        return response

    def _issue(self, store: dict[str, datetime], seconds: int) -> str:
        token = secrets.token_urlsafe(24)
        store[token] = self.clock() + timedelta(seconds=seconds)
        self.issued_tokens.append(token)
        return token

    async def _token_new(self, request: web.Request) -> web.Response:
        body = await request.json()
        if body.get("secret_id") != self.secret_id or body.get("secret_key") != self.secret_key:
            return _error(401, "Authentication failed", "No active account found with the given credentials")
        return web.json_response({
            "access": self._issue(self._access, self.access_expires),
            "access_expires": self.access_expires,
            "refresh": self._issue(self._refresh, self.refresh_expires),
            "refresh_expires": self.refresh_expires,
        })  # fmt: skip

    async def _token_refresh(self, request: web.Request) -> web.Response:
        refresh = (await request.json()).get("refresh", "")
        if self._refresh.get(refresh, datetime.min.replace(tzinfo=UTC)) <= self.clock():
            return _error(401, "Invalid token", "Token is invalid or expired")
        return web.json_response(
            {"access": self._issue(self._access, self.access_expires), "access_expires": self.access_expires}
        )

    async def _institutions(self, request: web.Request) -> web.Response:
        country = request.query.get("country", "").upper()
        return web.json_response([i for i in self.institutions.values() if not country or country in i["countries"]])

    async def _institution(self, request: web.Request) -> web.Response:
        found = self.institutions.get(request.match_info["id"])
        return web.json_response(found) if found else _error(404, "Not found.", "Not found.")

    async def _create_agreement(self, request: web.Request) -> web.Response:
        body = await request.json()
        bank = self.institutions.get(body.get("institution_id", ""))
        if bank is None:
            return self._field_error(
                "institution_id",
                "Unknown Institution ID",
                "Get Institution IDs from /institutions/?country={$COUNTRY_CODE}",
            )
        history, access = body.get("max_historical_days", 90), body.get("access_valid_for_days", 90)
        if not 1 <= history <= int(bank["transaction_total_days"]):
            return self._field_error(
                "max_historical_days",
                "Incorrect max_historical_days",
                f"max_historical_days must be > 0 and <= {bank['transaction_total_days']}",
            )
        if not 1 <= access <= int(bank["max_access_valid_for_days"]):
            return self._field_error(
                "access_valid_for_days",
                "Incorrect access_valid_for_days",
                f"access_valid_for_days must be > 0 and <= {bank['max_access_valid_for_days']}",
            )
        agreement = {
            "id": str(uuid.uuid4()),
            "created": _iso(self.clock()),
            "institution_id": bank["id"],
            "max_historical_days": history,
            "access_valid_for_days": access,
            "access_scope": body.get("access_scope", list(ACCOUNT_ENDPOINTS)),
            "accepted": None,
            "reconfirmation": False,
        }
        self.agreements[agreement["id"]] = agreement
        return web.json_response(agreement, status=201)

    async def _agreement(self, request: web.Request) -> web.Response:
        found = self.agreements.get(request.match_info["id"])
        return web.json_response(found) if found else _error(404, "Not found.", "Not found.")

    async def _create_requisition(self, request: web.Request) -> web.Response:
        body = await request.json()
        if not body.get("redirect"):
            return self._field_error("redirect", "This field is required.", "This field is required.")
        if body.get("institution_id") not in self.institutions:
            return self._field_error("institution_id", "Unknown Institution ID", "Unknown Institution ID")
        agreement = self.agreements.get(body.get("agreement", ""))
        if body.get("agreement") and (agreement is None or agreement["institution_id"] != body["institution_id"]):
            return self._field_error("agreement", "Invalid agreement", "Agreement does not match the institution")
        if any(r["reference"] == body.get("reference") for r in self.requisitions.values()):
            return self._field_error("reference", "Client reference must be unique", "Client reference must be unique")
        language = body.get("user_language", "EN")
        if not (len(language) == 2 and language.isalpha() and language.isupper()):
            return self._field_error("user_language", "Invalid user_language", "Use an ISO 639-1 code, upper-case")
        requisition_id = str(uuid.uuid4())
        requisition = {
            "id": requisition_id,
            "created": _iso(self.clock()),
            "redirect": body["redirect"],
            "status": "CR",
            "institution_id": body["institution_id"],
            "agreement": body.get("agreement", ""),
            "reference": body.get("reference") or requisition_id,
            "accounts": [],
            "user_language": language,
            "link": str(request.url.with_path(f"/fake-bank/{requisition_id}").with_query(None)),
            "ssn": None,
            "account_selection": False,
            "redirect_immediate": False,
        }
        self.requisitions[requisition_id] = requisition
        return web.json_response(requisition, status=201)

    async def _requisition(self, request: web.Request) -> web.Response:
        found = self.requisitions.get(request.match_info["id"])
        if found is None:
            return _error(404, "Not found.", "Not found.")
        return web.json_response(found)

    async def _bank_page(self, request: web.Request) -> web.Response:
        return web.Response(text=f"Fake bank: log in to grant access for {request.match_info['id']}")

    async def _account_data(self, request: web.Request) -> web.Response:
        account = self.accounts.get(request.match_info["id"])
        endpoint = request.match_info["endpoint"]
        if account is None or endpoint not in ACCOUNT_ENDPOINTS:
            return _error(404, "Not found.", "Not found.")
        owner = next((r for r in self.requisitions.values() if account.id in r["accounts"]), None)
        status = owner["status"] if owner else "EX"
        what = f"Couldn't update account {endpoint}"
        if status == "SU":
            return _error(
                409,
                "Account suspended",
                "This account or its requisition was suspended due to numerous errors that occurred "
                "while accessing it.",
            )
        if status != "LN":
            return _error(
                401,
                what,
                "Access has expired or it has been revoked. To restore access reconnect the account.",
                "AccessExpiredError",
            )
        used, since = self._calls.get((account.id, endpoint), (0, self.clock()))
        if self.clock() >= since + DAY:
            used, since = 0, self.clock()
        reset = max(int((since + DAY - self.clock()).total_seconds()), 0)

        def budget(left: int) -> dict[str, str]:
            return {
                "HTTP_X_RATELIMIT_ACCOUNT_SUCCESS_LIMIT": str(self.daily_limit),
                "HTTP_X_RATELIMIT_ACCOUNT_SUCCESS_REMAINING": str(left),
                "HTTP_X_RATELIMIT_ACCOUNT_SUCCESS_RESET": str(reset),
            }

        if used >= self.daily_limit:
            detail = f"The rate limit for this resource is {self.daily_limit}/day. Please try again in {reset} seconds"
            return _error(
                429, "Rate limit exceeded", detail, headers=budget(0) if self.daily_limit_headers_on_429 else None
            )
        if endpoint == "transactions":
            try:
                start = date.fromisoformat(request.query.get("date_from", "1900-01-01"))
                end = date.fromisoformat(request.query.get("date_to", "9999-12-31"))
            except ValueError:
                return _error(400, "Invalid date", "date_from and date_to must be YYYY-MM-DD")
            payload: dict[str, Any] = {
                "transactions": {
                    "booked": [t for t in account.booked if _within(t, start, end)],
                    "pending": [t for t in account.pending if _within(t, start, end)],
                }
            }
        elif endpoint == "balances":
            payload = {"balances": account.balances}
        else:
            details = {"resourceId": account.id, "iban": account.iban, "currency": account.currency}
            details |= {k: v for k, v in (("name", account.name), ("ownerName", account.owner_name)) if v}
            payload = {"account": details}
        self._calls[(account.id, endpoint)] = (used + 1, since)
        return web.json_response(payload, headers=budget(self.daily_limit - used - 1))

    @staticmethod
    def _field_error(name: str, summary: str, detail: str) -> web.Response:
        return web.json_response({name: {"summary": summary, "detail": detail}, "status_code": 400}, status=400)


def _within(item: dict[str, Any], start: date, end: date) -> bool:
    when = item.get("bookingDate") or item.get("valueDate") or str(item.get("bookingDateTime") or "")[:10]
    return not when or start <= date.fromisoformat(when) <= end
