"""Sending and editing Slack messages with slack_sdk's ``AsyncWebClient``, errors as ``DeliveryError``."""

from __future__ import annotations

from collections.abc import Awaitable

import aiohttp
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from reconbot.bot.slack.render import blocks, fallback_text
from reconbot.bot.transport import ChatTransport, DeliveryError
from reconbot.core.persistence.chat_tables import Platform
from reconbot.core.settings import slack_api_url
from reconbot.handlers.messages import Message

# Errors where the same call can never succeed: the channel shows the problem instead of retrying.
PERMANENT_ERRORS = frozenset({
    "channel_not_found", "not_in_channel", "is_archived", "invalid_auth", "not_authed", "account_inactive",
    "token_revoked", "token_expired", "missing_scope", "restricted_action", "msg_too_long", "invalid_blocks",
    "no_text", "team_access_not_granted",
})  # fmt: skip
# chat.update only: the message is gone or may no longer be edited.
PERMANENT_EDIT_ERRORS = frozenset({"message_not_found", "cant_update_message", "edit_window_closed"})


class SlackTransport(ChatTransport):
    """Posts and edits one bot's messages; ``client`` is the Web API client the Bolt app shares.

    slack_sdk itself waits out a 429's ``Retry-After`` up to ``max_retry_count`` times (and retries a
    dropped connection once); what still fails becomes a DeliveryError.
    """

    platform = Platform.SLACK.value

    def __init__(self, token: str, *, base_url: str | None = None, max_retry_count: int = 2) -> None:
        self.client = AsyncWebClient(token=token, base_url=base_url or slack_api_url())
        self.client.retry_handlers.append(AsyncRateLimitErrorRetryHandler(max_retry_count=max_retry_count))
        self._token = token

    def __repr__(self) -> str:  # the client holds the token; keep it out of reprs
        return f"SlackTransport({self.client.base_url})"

    async def send(self, address: str, message: Message) -> str:
        """Post ``message`` to the channel ``address``; return its ``ts``. Raises DeliveryError."""
        call = self.client.chat_postMessage(
            channel=address, text=fallback_text(message), blocks=blocks(message), unfurl_links=False
        )
        response = await self._call("chat.postMessage", call)
        return str(response["ts"])

    async def edit(self, address: str, ref: str, message: Message) -> None:
        """Replace the message ``ref`` (its ``ts``) in ``address`` with ``message``. Raises DeliveryError."""
        call = self.client.chat_update(channel=address, ts=ref, text=fallback_text(message), blocks=blocks(message))
        await self._call("chat.update", call, permanent=PERMANENT_EDIT_ERRORS)

    async def _call(
        self, method: str, call: Awaitable[AsyncSlackResponse], permanent: frozenset[str] = frozenset()
    ) -> AsyncSlackResponse:
        """Return the response of ``call``; raise DeliveryError (with no token in its text) when it failed."""
        try:
            return await call
        except SlackApiError as error:
            raise self._api_error(method, error, permanent) from None
        except (TimeoutError, SlackClientError, aiohttp.ClientError, OSError) as error:
            raise DeliveryError(self._scrub(f"slack {method}: {type(error).__name__}: {error}")) from None

    def _api_error(self, method: str, error: SlackApiError, permanent: frozenset[str]) -> DeliveryError:
        response = error.response
        data = response.data if isinstance(response.data, dict) else {}
        code = str(data.get("error", "")) or f"HTTP {response.status_code}"
        text = self._scrub(f"slack {method}: {code}")
        if response.status_code == 429 or code == "ratelimited":
            return DeliveryError(text, retry_after=_retry_after(response))
        return DeliveryError(text, permanent=code in PERMANENT_ERRORS or code in permanent)

    def _scrub(self, text: str) -> str:
        return text.replace(self._token, "***") if self._token else text


def _retry_after(response: AsyncSlackResponse) -> float:
    """Return the seconds Slack asked to wait (``Retry-After``), 1 when it did not say."""
    value = response.headers.get("Retry-After") if response.headers else None
    try:
        return max(float(value), 0.0) if value is not None else 1.0
    except (TypeError, ValueError):
        return 1.0
