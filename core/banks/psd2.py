"""What the PSD2 clients (Enable Banking, GoCardless) share: authorised JSON calls over ``IntegrationHttp``.

Each provider states what differs, in its own class: how it gets a bearer token (``_bearer``),
whether a refused token is worth renewing once (``_token_refused``), what a failed answer means
(``_error``), the headers every call carries, and the response hook that stops a daily-limit 429
from being retried. Wire parsing lives beside each client (``enable_banking_wire``, ``gocardless_wire``).
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

import httpx

from reconbot.core.banks.errors import ProviderError
from reconbot.core.banks.provider import BankProvider, ProviderContext
from reconbot.core.http_client import IntegrationHttp, response_json


class Psd2Provider(BankProvider):
    """A bank provider reached over HTTPS with a bearer token; subclasses say how (see the module docstring)."""

    def __init__(
        self,
        context: ProviderContext,
        base_url: str,
        *,
        headers: Mapping[str, str] | None = None,
        response_hooks: Sequence[Callable[[httpx.Response], Awaitable[None]]] = (),
    ) -> None:
        self._context = context
        self._http = IntegrationHttp(
            self.name,
            base_url,
            timeout=context.timeout_seconds,
            sleep=context.sleep,
            headers=headers,
            response_hooks=response_hooks,
        )

    @abstractmethod
    async def _bearer(self, *, renew: bool) -> str:
        """Return the token for the next call; ``renew`` asks for a fresh one because the last was refused."""

    def _token_refused(self, response: httpx.Response) -> bool:
        """Return True when ``response`` refused the token itself, so a renewed one may pass (default: never)."""
        return False

    @abstractmethod
    def _error(self, response: httpx.Response, doing: str) -> ProviderError:
        """Return the error a failed (non-2xx) answer means; ``doing`` names the call for the message."""

    async def _send(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        json: Any = None,
        idempotent: bool = True,
    ) -> httpx.Response:
        """Send an authorised request and return its final answer, whatever the status; a refused token is
        renewed once. Raises what ``IntegrationHttp.request`` raises (rate limits, persistent failures)."""
        response = await self._authorised(method, path, params, json, idempotent, renew=False)
        if self._token_refused(response):
            response = await self._authorised(method, path, params, json, idempotent, renew=True)
        return response

    async def _call(
        self,
        method: str,
        path: str,
        doing: str,
        *,
        params: Mapping[str, str] | None = None,
        json: Any = None,
        idempotent: bool = True,
    ) -> Any:
        """Send an authorised request; return the JSON body of its 2xx answer, decimals exact.

        Raises what ``_error`` makes of any other answer, and ``ProviderError`` when the body is not JSON.
        """
        return self._checked(await self._send(method, path, params=params, json=json, idempotent=idempotent), doing)

    def _checked(self, response: httpx.Response, doing: str) -> Any:
        """Return the JSON body of a 2xx answer; raises what ``_error`` makes of any other."""
        if not response.is_success:
            raise self._error(response, doing)
        return response_json(response, self.name)

    async def _authorised(
        self, method: str, path: str, params: Mapping[str, str] | None, json: Any, idempotent: bool, *, renew: bool
    ) -> httpx.Response:
        headers = {"Authorization": f"Bearer {await self._bearer(renew=renew)}"}
        return await self._http.request(method, path, params=params, json=json, headers=headers, idempotent=idempotent)

    async def aclose(self) -> None:
        """Close the HTTP connections."""
        await self._http.aclose()
