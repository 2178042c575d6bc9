"""One workspace's Slack bot: a Bolt ``AsyncApp`` receiving button presses, the "Find invoice…" modal and
``/reconbot``, over Socket Mode (default) or signed HTTP requests, and handing them to ``handlers/``.

The handlers are looked up on their modules at call time (``actions.press``), not imported by name.
Every listener acknowledges first (Slack allows 3 seconds) and answers the person ephemerally; the
original message is edited by the delivery worker, not here.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from reconbot.bot.platform import ChatBot
from reconbot.bot.slack import render
from reconbot.bot.slack.transport import SlackTransport
from reconbot.core.errors import ProviderError, SetupError
from reconbot.core.persistence.chat_tables import Platform
from reconbot.core.services.chat.setup import ChatConnection
from reconbot.core.services.workspaces import language_of
from reconbot.handlers import actions, commands, texts
from reconbot.handlers.context import Chat, ChatUser, Place
from reconbot.handlers.messages import Reply

log = logging.getLogger(__name__)

PRESS = re.compile(rf"^{render.ACTION_PREFIX}\d+$")
LINK = re.compile(rf"^{render.LINK_PREFIX}\d+$")
REFUSED_APP_TOKEN = frozenset({"invalid_auth", "not_authed", "token_revoked", "account_inactive", "missing_scope"})


class SlackBot(ChatBot):
    """The Slack bot of ``connection`` (mode ``socket``: needs ``bot_token`` and ``app_token``; mode ``http``:
    ``bot_token`` and ``signing_secret``). ``base_url`` points the Web API elsewhere (default
    ``reconbot.core.settings.slack_api_url()``). Raises SetupError when a credential the mode needs is missing.
    """

    def __init__(
        self, connection: ChatConnection, chat: Chat, *, base_url: str | None = None, max_retry_count: int = 2
    ) -> None:
        super().__init__(connection, chat)
        credentials = connection.credentials
        needed = {"socket": ("bot_token", "app_token"), "http": ("bot_token", "signing_secret")}.get(connection.mode)
        if needed is None:
            raise SetupError(f"slack: unknown mode {connection.mode!r}; use socket or http")
        missing = [name for name in needed if not credentials.get(name)]
        if missing:
            raise SetupError(f"slack in {connection.mode} mode needs {', '.join(missing)}")
        self._transport = SlackTransport(credentials["bot_token"], base_url=base_url, max_retry_count=max_retry_count)
        # The signing secret is passed even when empty: Bolt would otherwise read SLACK_SIGNING_SECRET.
        self.app = AsyncApp(
            client=self._transport.client,
            signing_secret=credentials.get("signing_secret", ""),
            process_before_response=False,
            name=f"reconbot-slack-{connection.id}",
        )
        self.app.action(PRESS)(self._on_press)
        self.app.action(LINK)(self._on_link)
        self.app.view(render.FIND_CALLBACK)(self._on_find)
        self.app.command("/reconbot")(self._on_command)
        self._socket: AsyncSocketModeHandler | None = None

    def __repr__(self) -> str:
        return f"SlackBot({self.connection!r})"

    @property
    def transport(self) -> SlackTransport:
        """Return the transport the delivery worker posts and edits this bot's messages through."""
        return self._transport

    def web_handler(self) -> Callable[[web.Request], Awaitable[web.StreamResponse]] | None:
        """In HTTP mode, return the handler of Slack's request URL (``web_path``); otherwise None."""
        return self.handle_http if self.connection.mode == "http" else None

    async def handle_http(self, request: web.Request) -> web.Response:
        """Return Bolt's answer to a request from Slack: 401 when its signature is missing or wrong."""
        response = await self.app.async_dispatch(await to_bolt_request(request))
        return await to_aiohttp_response(response)

    async def start(self) -> None:
        """Connect Socket Mode (in HTTP mode there is nothing to start).

        Raises ProviderError when Slack refuses the app-level token (``permanent``) or cannot be reached.
        """
        if self.connection.mode != "socket" or self._socket is not None:
            return
        app_token = self.connection.credentials["app_token"]
        # Ask for the WebSocket URL ourselves: slack_sdk's connect() would retry a refused token forever.
        try:
            opened = await self._transport.client.apps_connections_open(app_token=app_token)
        except SlackApiError as error:
            data = error.response.data if isinstance(error.response.data, dict) else {}
            code = str(data.get("error", "")) or f"HTTP {error.response.status_code}"
            raise ProviderError(f"slack: Socket Mode refused: {code}", permanent=code in REFUSED_APP_TOKEN) from None
        except (aiohttp.ClientError, OSError, TimeoutError) as error:
            raise ProviderError(f"slack: cannot reach Slack for Socket Mode ({type(error).__name__})") from None
        handler = AsyncSocketModeHandler(self.app, app_token)
        handler.client.wss_uri = str(opened["url"])
        await handler.connect_async()  # type: ignore[no-untyped-call]
        self._socket = handler

    async def stop(self) -> None:
        """Close the Socket Mode connection, if one is open."""
        if self._socket is not None:
            socket, self._socket = self._socket, None
            await socket.close_async()  # type: ignore[no-untyped-call]

    # Listeners: Bolt passes arguments by name, so these parameter names are part of the contract.

    async def _on_press(
        self, ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], client: AsyncWebClient
    ) -> None:
        await ack()
        user = _user(body.get("user") or {})
        channel = str((body.get("channel") or {}).get("id", ""))
        try:
            reply = await actions.press(self.chat, user, str(action.get("value", "")))
            if reply.ask_number:
                language = self._language()
                view = render.modal(
                    reply.ask_number, texts.text(language, "find.title"), texts.text(language, "find.label"),
                    channel=channel,
                )  # fmt: skip
                await client.views_open(trigger_id=body["trigger_id"], view=view)
            elif reply.toast or reply.message:
                await self._ephemeral(client, channel, user, reply)
        except Exception:
            log.exception("slack: a button press failed (workspace %s)", self.chat.workspace_id)
            await self._sorry(client, channel, user)

    async def _on_link(self, ack: AsyncAck) -> None:
        await ack()  # Slack sends link button clicks too and shows a warning unless they are acknowledged

    async def _on_find(self, ack: AsyncAck, body: dict[str, Any], view: dict[str, Any], client: AsyncWebClient) -> None:
        number = _typed_number(view)
        if not number:
            await ack(
                response_action="errors", errors={render.NUMBER_BLOCK: texts.text(self._language(), "ask_number")}
            )
            return
        await ack()
        user = _user(body.get("user") or {})
        action_id, channel = render.read_metadata(str(view.get("private_metadata", "")))
        try:
            reply = await actions.answer_number(self.chat, user, action_id, number)
            await self._ephemeral(client, channel, user, reply)
        except Exception:
            log.exception("slack: a typed invoice number failed (workspace %s)", self.chat.workspace_id)
            await self._sorry(client, channel, user)

    async def _on_command(self, ack: AsyncAck, command: dict[str, Any], respond: AsyncRespond) -> None:
        await ack()
        user = ChatUser(Platform.SLACK, str(command.get("user_id", "")), str(command.get("user_name", "")))
        channel = str(command.get("channel_id", ""))
        private = command.get("channel_name") == "directmessage" or channel.startswith("D")
        try:
            reply = await commands.run_command(
                self.chat, user, Place(Platform.SLACK, channel, private=private), str(command.get("text", "")).strip()
            )
            text, reply_blocks = _payload(reply)
            if text:
                await respond(text=text, blocks=reply_blocks, response_type="ephemeral")
        except Exception:
            log.exception("slack: /reconbot failed (workspace %s)", self.chat.workspace_id)
            await respond(text=texts.text(self._language(), "error.logged"), response_type="ephemeral")

    async def _ephemeral(self, client: AsyncWebClient, channel: str, user: ChatUser, reply: Reply) -> None:
        """Show ``reply`` to ``user`` only, in ``channel`` (nothing when there is no channel or nothing to say)."""
        text, reply_blocks = _payload(reply)
        if channel and text:
            await client.chat_postEphemeral(channel=channel, user=user.user_id, text=text, blocks=reply_blocks)

    async def _sorry(self, client: AsyncWebClient, channel: str, user: ChatUser) -> None:
        if not channel:
            return
        try:
            await client.chat_postEphemeral(
                channel=channel, user=user.user_id, text=texts.text(self._language(), "error.logged")
            )
        except Exception:  # Slack itself failing is already logged once; do not mask the first error
            log.warning("slack: could not tell the user about the error (workspace %s)", self.chat.workspace_id)

    def _language(self) -> str:
        return language_of(self.chat.engine, self.chat.workspace_id)


def _user(user: dict[str, Any]) -> ChatUser:
    return ChatUser(Platform.SLACK, str(user.get("id", "")), str(user.get("name") or user.get("username") or ""))


def _typed_number(view: dict[str, Any]) -> str:
    """Return what was typed into the modal's input, stripped ("" when nothing)."""
    values = ((view.get("state") or {}).get("values") or {}).get(render.NUMBER_BLOCK) or {}
    return str((values.get(render.NUMBER_ACTION) or {}).get("value") or "").strip()


def _payload(reply: Reply) -> tuple[str, list[dict[str, Any]] | None]:
    """Return the fallback text and the blocks (None: text only) showing ``reply``; ("", None) when empty.

    A reply with a message shows the message (its toast, the short form for Telegram, would repeat it).
    """
    if reply.message is not None:
        return render.fallback_text(reply.message), render.blocks(reply.message)
    return render.fit(reply.toast, render.TEXT_MAX), None
