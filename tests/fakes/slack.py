"""A fake of the Slack Web API (``/api/<method>``, form or JSON bodies, ``Authorization: Bearer``), the
``response_url`` of interactions (``/respond/<key>``) and a Socket Mode WebSocket (``/link``).

Point slack_sdk at it with ``AsyncWebClient(base_url=f"{url}/api/")``. Every API call is recorded in
``calls`` (method, parsed arguments, status, error, time); ``messages`` holds each posted message as
last edited. Knobs: ``limit_per_second`` (chat.postMessage per channel; beyond it HTTP 429 with
``Retry-After``), ``fail_channels`` (channel → error code), and a wrong token answers ``invalid_auth``.
Blocks and views are checked with slack_sdk's models, as Slack would refuse what they refuse.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web
from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

BOT_TOKEN = "xoxb-1111-2222-fakebotsecret"
APP_TOKEN = "xapp-1-A0FAKE-3333-fakeappsecret"
TEAM_ID, BOT_USER_ID, BOT_ID = "T0FAKE", "U0BOT", "B0BOT"
JSON_ARGS = ("blocks", "view", "attachments")  # arguments slack_sdk sends JSON-encoded inside a form body


@dataclass
class Call:
    method: str
    args: dict[str, Any]
    status: int = 200
    error: str = ""  # Slack's error code when not ok
    at: float = 0.0  # ``clock()`` when it arrived


@dataclass
class FakeSlack:
    """The fake's state and knobs; ``clock`` (seconds) times the rate limit and the records."""

    bot_token: str = BOT_TOKEN
    app_token: str = APP_TOKEN
    limit_per_second: int = 0  # chat.postMessage per channel per second; 0: no limit
    retry_after: int = 1
    fail_channels: dict[str, str] = field(default_factory=dict)
    clock: Callable[[], float] = time.monotonic
    calls: list[Call] = field(default_factory=list)
    messages: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    responses: list[dict[str, Any]] = field(default_factory=list)  # bodies posted to a response_url
    acks: list[dict[str, Any]] = field(default_factory=list)  # Socket Mode acknowledgements
    _sent: dict[str, deque[float]] = field(default_factory=lambda: defaultdict(deque), repr=False)
    _ts: itertools.count[int] = field(default_factory=lambda: itertools.count(100, 100), repr=False)
    _sockets: list[web.WebSocketResponse] = field(default_factory=list, repr=False)
    _changed: asyncio.Condition = field(default_factory=asyncio.Condition, repr=False)

    def app(self) -> web.Application:
        """Return the aiohttp application serving the fake."""
        app = web.Application()
        app.router.add_post("/api/{method}", self._api)
        app.router.add_post("/respond/{key}", self._respond)
        app.router.add_get("/link", self._socket)
        app.on_shutdown.append(self._close_sockets)
        return app

    def called(self, method: str) -> list[Call]:
        """Return the recorded calls of ``method`` (``"chat.postMessage"``), oldest first."""
        return [call for call in self.calls if call.method == method]

    async def wait_for(self, method: str, count: int = 1, timeout: float = 10.0) -> list[Call]:
        """Return the calls of ``method`` once there are ``count`` of them (Bolt answers before its listener
        finishes). Raises TimeoutError when they do not come within ``timeout`` seconds."""
        await self._wait(lambda: len(self.called(method)) >= count, timeout)
        return self.called(method)

    async def wait_for_response(self, count: int = 1, timeout: float = 10.0) -> list[dict[str, Any]]:
        """Return the bodies posted to response URLs once there are ``count``. Raises TimeoutError."""
        await self._wait(lambda: len(self.responses) >= count, timeout)
        return self.responses

    async def push(self, kind: str, payload: dict[str, Any], timeout: float = 10.0) -> dict[str, Any]:
        """Send a Socket Mode envelope (``kind``: interactive, slash_commands, events_api) to the connected
        app; return its acknowledgement. Raises TimeoutError when no app is connected or none acks."""
        await self._wait(lambda: bool(self._sockets), timeout)
        envelope_id = f"env-{next(self._ts)}"
        envelope = {"envelope_id": envelope_id, "type": kind, "payload": payload, "accepts_response_payload": True}
        await self._sockets[-1].send_str(json.dumps(envelope))
        await self._wait(lambda: any(ack.get("envelope_id") == envelope_id for ack in self.acks), timeout)
        return next(ack for ack in self.acks if ack.get("envelope_id") == envelope_id)

    async def _wait(self, ready: Callable[[], bool], timeout: float) -> None:
        async with asyncio.timeout(timeout), self._changed:
            await self._changed.wait_for(ready)

    async def _changed_now(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        args = await _arguments(request)
        call = Call(method, args, at=self.clock())
        status, body, headers = self._answer(method, args, _token(request, args))
        if method == "apps.connections.open" and body.get("ok"):
            body["url"] = f"ws://{request.host}/link"
        call.status, call.error = status, "" if body.get("ok") else str(body.get("error", ""))
        self.calls.append(call)
        await self._changed_now()
        return web.json_response(body, status=status, headers=headers)

    def _answer(self, method: str, args: dict[str, Any], token: str) -> tuple[int, dict[str, Any], dict[str, str]]:
        wanted = self.app_token if method == "apps.connections.open" else self.bot_token
        if not token:
            return 200, _error("not_authed"), {}
        if token != wanted:
            return 200, _error("invalid_auth"), {}
        handler = getattr(self, "_" + method.replace(".", "_"), None)
        if handler is None:
            return 200, _error("unknown_method"), {}
        channel = str(args.get("channel", ""))
        if channel and channel in self.fail_channels:
            return 200, _error(self.fail_channels[channel]), {}
        if method == "chat.postMessage" and self._over_limit(channel):
            return 429, _error("ratelimited"), {"Retry-After": str(self.retry_after)}
        body: dict[str, Any] = handler(args)
        return 200, body, {}

    def _over_limit(self, channel: str) -> bool:
        """Return whether one more message to ``channel`` now exceeds ``limit_per_second``; count it if not."""
        if not self.limit_per_second:
            return False
        now, sent = self.clock(), self._sent[channel]
        while sent and sent[0] <= now - 1.0:
            sent.popleft()
        if len(sent) >= self.limit_per_second:
            return True
        sent.append(now)
        return False

    def _auth_test(self, args: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "url": "https://fake.slack.com/", "team": "Fake", "user": "reconbot",
                "team_id": TEAM_ID, "user_id": BOT_USER_ID, "bot_id": BOT_ID}  # fmt: skip

    def _chat_postMessage(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = str(args.get("channel", ""))
        if not channel:
            return _error("channel_not_found")
        problem = _message_problem(args)
        if problem:
            return _error(problem)
        ts = self._next_ts()
        message = {"type": "message", "text": args.get("text", ""), "blocks": args.get("blocks", []),
                   "ts": ts, "bot_id": BOT_ID, "user": BOT_USER_ID}  # fmt: skip
        self.messages[(channel, ts)] = message
        return {"ok": True, "channel": channel, "ts": ts, "message": message}

    def _chat_update(self, args: dict[str, Any]) -> dict[str, Any]:
        channel, ts = str(args.get("channel", "")), str(args.get("ts", ""))
        message = self.messages.get((channel, ts))
        if message is None:
            return _error("message_not_found")
        problem = _message_problem(args)
        if problem:
            return _error(problem)
        message |= {"text": args.get("text", ""), "blocks": args.get("blocks", []), "edited": {"user": BOT_USER_ID}}
        return {"ok": True, "channel": channel, "ts": ts, "text": message["text"], "message": message}

    def _chat_postEphemeral(self, args: dict[str, Any]) -> dict[str, Any]:
        if not args.get("channel") or not args.get("user"):
            return _error("invalid_arguments")
        problem = _message_problem(args)
        return _error(problem) if problem else {"ok": True, "message_ts": self._next_ts()}

    def _views_open(self, args: dict[str, Any]) -> dict[str, Any]:
        view = args.get("view")
        if not args.get("trigger_id") or not isinstance(view, dict):
            return _error("invalid_arguments")
        try:
            View(**view).to_dict()
        except (SlackObjectFormationError, TypeError, KeyError):
            return _error("invalid_arguments")
        return {"ok": True, "view": {"id": f"V{next(self._ts)}", "team_id": TEAM_ID, **view}}

    def _apps_connections_open(self, args: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "url": ""}  # ``_api`` fills in the WebSocket URL on this server

    def _next_ts(self) -> str:
        n = next(self._ts)
        return f"{1700000000 + n // 1_000_000}.{n % 1_000_000:06d}"

    async def _respond(self, request: web.Request) -> web.Response:
        self.responses.append({"key": request.match_info["key"], **await request.json()})
        await self._changed_now()
        return web.Response(text="ok")

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        socket = web.WebSocketResponse()
        await socket.prepare(request)
        self._sockets.append(socket)
        await socket.send_str(json.dumps({"type": "hello", "num_connections": len(self._sockets)}))
        await self._changed_now()
        try:
            async for frame in socket:
                if frame.type == WSMsgType.TEXT:
                    self.acks.append(json.loads(frame.data))
                    await self._changed_now()
        finally:
            self._sockets.remove(socket)
        return socket

    async def _close_sockets(self, app: web.Application) -> None:
        for socket in list(self._sockets):
            await socket.close()


def _error(code: str) -> dict[str, Any]:
    return {"ok": False, "error": code}


def _message_problem(args: dict[str, Any]) -> str:
    """Return Slack's error for a message's text and blocks ("" when fine): no_text, invalid_blocks."""
    message_blocks = args.get("blocks") or []
    if not args.get("text") and not message_blocks:
        return "no_text"
    if not isinstance(message_blocks, list) or len(message_blocks) > 50:
        return "invalid_blocks"
    try:
        for block in message_blocks:
            parsed = Block.parse(block)
            if parsed is None:
                return "invalid_blocks"
            parsed.to_dict()
    except (SlackObjectFormationError, TypeError, KeyError):
        return "invalid_blocks"
    return ""


def _token(request: web.Request, args: dict[str, Any]) -> str:
    header = request.headers.get("Authorization", "")
    return header.removeprefix("Bearer ").strip() if header.startswith("Bearer ") else str(args.get("token", ""))


async def _arguments(request: web.Request) -> dict[str, Any]:
    """Return the call's arguments from a JSON or form body (JSON-encoded values such as ``blocks`` decoded)."""
    if request.content_type == "application/json":
        body = await request.json()
        return dict(body) if isinstance(body, dict) else {}
    args: dict[str, Any] = {key: str(value) for key, value in (await request.post()).items()}
    args |= {key: value for key, value in request.query.items() if key not in args}
    for key in JSON_ARGS:
        if isinstance(args.get(key), str):
            try:
                args[key] = json.loads(args[key])
            except json.JSONDecodeError:
                args[key] = None
    return args
