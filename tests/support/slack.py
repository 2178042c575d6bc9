"""Slack as the tests speak it: the bot's connection and signing secret, Slack's signed requests and
interaction payloads, a bot served in HTTP mode, and stand-ins for the handlers that record what they were asked."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import aiohttp
import pytest
from slack_sdk.signature import SignatureVerifier

from reconbot.bot.slack.app import SlackBot
from reconbot.core.persistence.chat_tables import Platform
from reconbot.core.services.chat.setup import ChatConnection
from reconbot.handlers import actions, commands
from reconbot.handlers.context import Chat
from reconbot.handlers.messages import Reply
from tests.fakes.slack import APP_TOKEN, BOT_TOKEN

SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
CONNECTION_ID = 7
CHANNEL = "C0GENERAL"


@dataclass
class Handlers:
    """Stand-ins for ``handlers.actions``/``handlers.commands``: record each call, answer ``replies``."""

    replies: dict[str, Reply] = field(default_factory=dict)  # function name → its answer
    calls: list[tuple[str, tuple[Any, ...]]] = field(default_factory=list)
    fail: bool = False
    _changed: asyncio.Condition = field(default_factory=asyncio.Condition, repr=False)

    def install(self, monkeypatch: pytest.MonkeyPatch) -> None:
        for module, name in ((actions, "press"), (actions, "answer_number"), (commands, "run_command")):
            monkeypatch.setattr(module, name, self._stand_in(name))

    def _stand_in(self, name: str) -> Callable[..., Any]:
        async def stand_in(chat: Chat, *args: Any) -> Reply:
            self.calls.append((name, args))
            async with self._changed:
                self._changed.notify_all()
            if self.fail:
                raise RuntimeError(f"{name} broke")
            return self.replies.get(name, Reply())

        return stand_in

    async def wait(self, count: int = 1, timeout: float = 10.0) -> list[tuple[str, tuple[Any, ...]]]:
        """Return the calls once there are ``count`` (listeners run after Bolt answered). Raises TimeoutError."""
        async with asyncio.timeout(timeout), self._changed:
            await self._changed.wait_for(lambda: len(self.calls) >= count)
        return self.calls


def connection(workspace_id: int, mode: str, **credentials: str) -> ChatConnection:
    values = {"bot_token": BOT_TOKEN, "app_token": APP_TOKEN, "signing_secret": SIGNING_SECRET} | credentials
    return ChatConnection(CONNECTION_ID, workspace_id, Platform.SLACK, mode, values, "reconbot")


@dataclass
class HttpBot:
    """A bot in HTTP mode served on a local port: ``post`` sends Slack's signed requests to its endpoint."""

    bot: SlackBot
    url: str  # the bot's endpoint
    slack_url: str  # the fake Slack (response URLs point there)
    session: aiohttp.ClientSession

    async def post(self, body: str, *, secret: str = SIGNING_SECRET, signed: bool = True) -> aiohttp.ClientResponse:
        """POST a form ``body`` as Slack does, signed with ``secret``; return the (read) response."""
        timestamp = str(int(time.time()))
        headers = {"Content-Type": "application/x-www-form-urlencoded", "X-Slack-Request-Timestamp": timestamp}
        if signed:
            signature = SignatureVerifier(secret).generate_signature(timestamp=timestamp, body=body)
            assert signature is not None
            headers["X-Slack-Signature"] = signature
        async with self.session.post(self.url, data=body.encode(), headers=headers) as response:
            await response.read()
            return response


# Slack's interaction payloads, trimmed to what Bolt and the adapter read (shapes from docs.slack.dev).


def interaction(payload: dict[str, Any]) -> str:
    """Return the form body Slack posts an interaction payload in."""
    return urlencode({"payload": json.dumps(payload)})


def block_actions(
    value: str, *, user: str, channel: str = CHANNEL, action_id: str = "rb_0", slack_url: str = ""
) -> dict[str, Any]:
    return {
        "type": "block_actions",
        "team": {"id": "T0FAKE", "domain": "kert"},
        "user": {"id": user, "username": "anna", "name": "anna", "team_id": "T0FAKE"},
        "api_app_id": "A0FAKE",
        "token": "legacy-verification-token",
        "container": {"type": "message", "message_ts": "1700000000.000100", "channel_id": channel,
                      "is_ephemeral": False},
        "trigger_id": "1111.2222.trigger",
        "channel": {"id": channel, "name": "general"},
        "message": {"type": "message", "ts": "1700000000.000100", "text": "Unmatched payment", "blocks": []},
        "response_url": f"{slack_url}/respond/action",
        "actions": [{"type": "button", "action_id": action_id, "block_id": "b1", "value": value,
                     "text": {"type": "plain_text", "text": "Pair"}, "action_ts": "1700000001.000200"}],
    }  # fmt: skip


def view_submission(private_metadata: str, number: str, *, user: str) -> dict[str, Any]:
    return {
        "type": "view_submission",
        "team": {"id": "T0FAKE", "domain": "kert"},
        "user": {"id": user, "username": "anna", "name": "anna", "team_id": "T0FAKE"},
        "api_app_id": "A0FAKE",
        "token": "legacy-verification-token",
        "trigger_id": "3333.4444.trigger",
        "view": {"id": "V0MODAL", "team_id": "T0FAKE", "type": "modal", "callback_id": "rb_find",
                 "private_metadata": private_metadata, "blocks": [], "hash": "1700000002.abc",
                 "state": {"values": {"number": {"number": {"type": "plain_text_input", "value": number}}}}},
    }  # fmt: skip


def slash_command(
    text: str, *, user: str, channel: str = CHANNEL, channel_name: str = "general", slack_url: str
) -> str:
    """Return the form body of ``/reconbot <text>``."""
    return urlencode({
        "token": "legacy-verification-token", "team_id": "T0FAKE", "team_domain": "kert", "channel_id": channel,
        "channel_name": channel_name, "user_id": user, "user_name": "anna", "command": "/reconbot", "text": text,
        "api_app_id": "A0FAKE", "response_url": f"{slack_url}/respond/command", "trigger_id": "5555.6666.trigger",
    })  # fmt: skip
