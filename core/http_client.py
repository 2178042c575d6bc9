"""The one HTTP chokepoint of every integration: bank feeds, invoicing systems, handoff webhooks.

Each provider holds one ``IntegrationHttp``: a base URL, an ``httpx.AsyncClient``
and the retry policy — timeouts, connection errors, 5xx and 429 are retried with
exponential backoff that honours ``Retry-After``. Other 4xx answers are returned
for the provider to interpret (401 may mean "consent expired"), because only the
provider knows what they mean.

Logs name the integration, method, path and status only: never query strings,
headers or bodies, which carry tokens.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from reconbot.core.errors import ProviderError, RateLimitedError
from reconbot.core.exact_json import JsonError, read_json

log = logging.getLogger(__name__)
# httpx logs every request's full URL, query string included, at INFO; ours above says what is safe to.
logging.getLogger("httpx").setLevel(logging.WARNING)

RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """Return the wait a ``Retry-After`` header asks for (delta-seconds or an HTTP date), or None if absent/bad."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max((when - (now or datetime.now(UTC))).total_seconds(), 0.0)


class IntegrationHttp:
    """An HTTP client for one integration, with retries and redacted logging.

    ``max_attempts`` bounds how often one request is sent; ``max_wait`` is the
    longest single ``Retry-After`` we sit out (longer ones raise ``RateLimitedError``
    so the scheduler can come back later instead of holding a worker).
    """

    def __init__(
        self,
        name: str,
        base_url: str,
        *,
        timeout: float = 30.0,
        max_attempts: int = 4,
        backoff: float = 1.0,
        max_wait: float = 60.0,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        headers: Mapping[str, str] | None = None,
        response_hooks: Sequence[Callable[[httpx.Response], Awaitable[None]]] = (),
    ) -> None:
        self.name = name
        self.max_attempts = max_attempts
        self.backoff = backoff
        self.max_wait = max_wait
        self._sleep = sleep
        # A hook sees every response before the retry policy does; raising from it ends the request at once
        # (GoCardless: a bank's daily limit 429 must not be retried).
        self._client = httpx.AsyncClient(
            base_url=base_url,
            timeout=timeout,
            headers=dict(headers or {}),
            event_hooks={"response": list(response_hooks)},
        )

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        data: Mapping[str, Any] | None = None,
        files: Any = None,
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        idempotent: bool = True,
    ) -> httpx.Response:
        """Send the request, retrying what may succeed later; return the first final response.

        A final response is any 2xx–4xx other than 429. Raises ``RateLimitedError``
        when 429 persists or asks for a wait above ``max_wait``, and ``ProviderError``
        when the service keeps failing (5xx, timeouts). A request that is not
        ``idempotent`` is retried only when it surely did not reach the server
        (connection refused), so it is never performed twice.
        """
        last_problem = ""
        for attempt in range(1, self.max_attempts + 1):
            try:
                response = await self._client.request(
                    method, path, params=params, json=json, data=data, files=files, content=content, headers=headers
                )
            except httpx.ConnectError as exc:
                last_problem = f"cannot connect ({type(exc).__name__})"
            except httpx.TransportError as exc:
                last_problem = f"no answer ({type(exc).__name__})"
                if not idempotent:
                    raise ProviderError(f"{self.name}: {method} {path}: {last_problem}; not retried") from None
            else:
                log.info("%s %s %s -> %s", self.name, method, path, response.status_code)
                if response.status_code not in RETRYABLE_STATUSES:
                    return response
                await response.aread()
                wait = retry_after_seconds(response.headers.get("Retry-After"))
                if response.status_code == 429:
                    if (wait is not None and wait > self.max_wait) or attempt == self.max_attempts:
                        raise RateLimitedError(
                            f"{self.name}: rate limited on {path}" + (f"; retry in {wait:.0f} s" if wait else ""),
                            retry_after=wait,
                        )
                elif not idempotent:
                    raise ProviderError(f"{self.name}: {method} {path}: HTTP {response.status_code}; not retried",
                                        status=response.status_code)  # fmt: skip
                last_problem = f"HTTP {response.status_code}"
                if attempt < self.max_attempts:
                    await self._sleep(min(wait if wait is not None else self._delay(attempt), self.max_wait))
                continue
            log.info("%s %s %s -> %s", self.name, method, path, last_problem)
            if attempt < self.max_attempts:
                await self._sleep(self._delay(attempt))
        raise ProviderError(f"{self.name}: {path}: {last_problem} after {self.max_attempts} attempts")

    def _delay(self, attempt: int) -> float:
        return min(self.backoff * 2.0 ** (attempt - 1), self.max_wait)

    async def aclose(self) -> None:
        await self._client.aclose()


def response_json(response: httpx.Response, integration: str) -> Any:
    """Return the JSON body with exact decimals (``reconbot.core.exact_json.read_json``).

    Raises a temporary ``ProviderError`` naming the integration, path and status when the body is not
    JSON: a gateway's error page answered with 200 may be JSON again next time.
    """
    try:
        return read_json(response.content)
    except JsonError:
        kind = response.headers.get("content-type")
        raise ProviderError(
            f"{integration}: {response.request.url.path}: expected JSON, got {kind!r} (HTTP {response.status_code})",
            status=response.status_code,
        ) from None


def error_json(response: httpx.Response) -> Any:
    """Return the parsed body of a failed answer (to read the provider's error code and message from), or None
    when it is no JSON: an HTML error page, an empty body."""
    try:
        return read_json(response.content)
    except JsonError:
        return None
