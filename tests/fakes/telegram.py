"""A stateful fake of the Telegram Bot API (``FakeTelegram().app``), at ``/bot{token}/{method}`` as the real one.

It reads JSON, urlencoded and multipart bodies (aiogram sends forms, nested values as JSON text), answers in the
Bot API's envelope ``{"ok": …, "result" | "error_code", "description", "parameters"}`` and records every call in
``calls``. Use ``push_update`` to feed ``getUpdates`` (builders: ``message_update``, ``callback_update``) and
``wait_for`` to await calls the bot makes in the background. Trouble: ``limit_per_second`` per chat (429 with
``retry_after``), ``fail_chats`` (status, description), ``migrated_chats``, unknown tokens (401).

Like Telegram it parses HTML texts (unknown or unbalanced tags → "can't parse entities"), measures the parsed text
(4096 UTF-16 units), checks callback data (1–64 bytes) and refuses edits that change nothing. Simplifications:
a Message's ``text`` is the parsed text but carries no ``entities``; the HTML as sent is kept in ``html``.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

from aiohttp import web

TOKEN = "4242:AAFakeTelegramTokenForTests_0123456789"
BOT_USERNAME = "reconbot_test_bot"
TAGS = frozenset({"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "a", "code", "pre", "span",
                  "tg-spoiler", "tg-emoji", "blockquote"})  # fmt: skip
JSON_FIELDS = frozenset({"reply_markup", "allowed_updates", "link_preview_options", "reply_parameters", "entities"})
INT_FIELDS = frozenset({"message_id", "offset", "timeout", "limit", "cache_time"})
BOOL_FIELDS = frozenset({"show_alert", "drop_pending_updates"})
NOT_MODIFIED = ("Bad Request: message is not modified: specified new message content and reply markup are exactly "
                "the same as a current content and reply markup of the message")  # fmt: skip


class TelegramError(Exception):
    def __init__(self, status: int, description: str, **parameters: int) -> None:
        super().__init__(description)
        self.status, self.description, self.parameters = status, description, parameters


class _Parser(HTMLParser):
    """Telegram's HTML mode: the supported tags, properly nested; collects the text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.text: list[str] = []
        self.open: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in TAGS:
            raise TelegramError(400, f'Bad Request: can\'t parse entities: unsupported start tag "{tag}"')
        self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.open or self.open.pop() != tag:
            raise TelegramError(400, f'Bad Request: can\'t parse entities: unmatched end tag "{tag}"')

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse_html(source: str) -> str:
    """Return the text Telegram shows for ``source`` in HTML parse mode. Raises TelegramError like Telegram."""
    parser = _Parser()
    parser.feed(source)
    parser.close()
    if parser.open:
        raise TelegramError(400, f"Bad Request: can't parse entities: can't find end tag \"{parser.open[-1]}\"")
    return "".join(parser.text)


def user(user_id: int, name: str = "Anna", *, is_bot: bool = False, username: str | None = None) -> dict[str, Any]:
    found = {"id": user_id, "is_bot": is_bot, "first_name": name}
    return found | ({"username": username} if username else {})


def chat(chat_id: int) -> dict[str, Any]:
    """Return a Chat: positive ids are private chats, ``-100…`` supergroups, other negative ids groups."""
    if chat_id > 0:
        return {"id": chat_id, "type": "private", "first_name": "Anna"}
    return {"id": chat_id, "type": "supergroup" if str(chat_id).startswith("-100") else "group", "title": "Kert"}


def message_update(chat_id: int, user_id: int, text: str, *, reply_to: dict[str, Any] | None = None,
                   message_id: int = 1) -> dict[str, Any]:  # fmt: skip
    """Return an update carrying a text message (``/command`` gets its bot_command entity)."""
    message: dict[str, Any] = {"message_id": message_id, "date": int(time.time()), "chat": chat(chat_id),
                               "from": user(user_id), "text": text}  # fmt: skip
    if text.startswith("/"):
        message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
    if reply_to is not None:
        message["reply_to_message"] = reply_to
    return {"message": message}


def callback_update(message: dict[str, Any], user_id: int, data: str, query_id: str = "cq1") -> dict[str, Any]:
    """Return an update: ``user_id`` pressed a button with ``data`` under ``message`` (as the fake returned it)."""
    query = {"id": query_id, "from": user(user_id), "chat_instance": "ci1", "message": message, "data": data}
    return {"callback_query": query}


@dataclass
class Call:
    method: str
    params: dict[str, Any]


@dataclass
class FakeTelegram:
    """The fake Bot API's state and knobs; ``clock`` (seconds) drives ``limit_per_second``."""

    token: str = TOKEN
    limit_per_second: float | None = None
    fail_chats: dict[str, tuple[int, str]] = field(default_factory=dict)
    migrated_chats: dict[str, int] = field(default_factory=dict)
    poll_wait: float = 0.5  # longest a getUpdates waits for an update (real Telegram: ``timeout``)
    clock: Callable[[], float] = time.monotonic
    calls: list[Call] = field(default_factory=list)
    messages: dict[tuple[str, int], dict[str, Any]] = field(default_factory=dict)  # (chat id, message id) → Message
    html: dict[tuple[str, int], str] = field(default_factory=dict)  # the HTML each message was last sent with
    updates: list[dict[str, Any]] = field(default_factory=list)
    webhook: dict[str, Any] = field(default_factory=dict)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _next_message: defaultdict[str, int] = field(default_factory=lambda: defaultdict(int))
    _sent_at: defaultdict[str, deque[float]] = field(default_factory=lambda: defaultdict(deque))
    _changed: asyncio.Event = field(default_factory=asyncio.Event)  # replaced after every change
    _closing: bool = False

    @property
    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        app.on_shutdown.append(self._close)
        return app

    @property
    def me(self) -> dict[str, Any]:
        return user(int(self.token.split(":")[0]), "Reconbot", is_bot=True, username=BOT_USERNAME)

    def push_update(self, update: dict[str, Any]) -> int:
        """Queue ``update`` for getUpdates (an ``update_id`` is added unless given); return its id."""
        update.setdefault("update_id", next(self._ids))
        self.updates.append(update)
        self._notify()
        return int(update["update_id"])

    def calls_to(self, method: str) -> list[dict[str, Any]]:
        return [call.params for call in self.calls if call.method == method]

    async def wait_for(self, method: str, count: int = 1, timeout: float = 10) -> list[dict[str, Any]]:
        """Return the calls to ``method`` once there are ``count`` (made in the background). Raises TimeoutError."""
        if not await self._until(lambda: len(self.calls_to(method)) >= count, timeout):
            raise TimeoutError(f"expected {count} calls to {method}, got: {[call.method for call in self.calls]}")
        return self.calls_to(method)

    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    async def _until(self, ready: Callable[[], bool], timeout: float) -> bool:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                while not ready():
                    await self._changed.wait()
        return ready()

    async def _close(self, app: web.Application) -> None:
        self._closing = True  # ends waiting long polls, so the server can shut down at once
        self._notify()

    async def _handle(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.json_response({"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401)
        method = request.match_info["method"]
        params = await _params(request)
        self.calls.append(Call(method, params))
        self._notify()
        handler = getattr(self, f"_{method}", None)
        try:
            if handler is None:
                raise TelegramError(404, "Not Found")
            result = await handler(params)
        except TelegramError as error:
            body: dict[str, Any] = {"ok": False, "error_code": error.status, "description": error.description}
            return web.json_response(body | ({"parameters": error.parameters} if error.parameters else {}),
                                     status=error.status)  # fmt: skip
        return web.json_response({"ok": True, "result": result})

    def _check_chat(self, chat_id: str) -> None:
        if chat_id in self.fail_chats:
            raise TelegramError(*self.fail_chats[chat_id])
        if chat_id in self.migrated_chats:
            raise TelegramError(400, "Bad Request: group chat was upgraded to a supergroup chat",
                                migrate_to_chat_id=self.migrated_chats[chat_id])  # fmt: skip

    def _text(self, params: dict[str, Any]) -> str:
        source = str(params.get("text", ""))
        text = parse_html(source) if params.get("parse_mode") == "HTML" else source
        if not text.strip():
            raise TelegramError(400, "Bad Request: message text is empty")
        if len(text.encode("utf-16-le")) // 2 > 4096:
            raise TelegramError(400, "Bad Request: message is too long")
        for row in params.get("reply_markup", {}).get("inline_keyboard", []):
            for button in row:
                if "callback_data" in button and not 1 <= len(button["callback_data"].encode()) <= 64:
                    raise TelegramError(400, "Bad Request: BUTTON_DATA_INVALID")
        return text

    async def _getMe(self, params: dict[str, Any]) -> dict[str, Any]:
        return self.me

    async def _sendMessage(self, params: dict[str, Any]) -> dict[str, Any]:
        chat_id = params["chat_id"]
        self._check_chat(chat_id)
        text = self._text(params)
        if self.limit_per_second is not None:
            sent, now = self._sent_at[chat_id], self.clock()
            while sent and sent[0] <= now - 1:
                sent.popleft()
            if len(sent) >= self.limit_per_second:
                raise TelegramError(429, "Too Many Requests: retry after 1", retry_after=1)
            sent.append(now)
        self._next_message[chat_id] += 1
        message_id = self._next_message[chat_id]
        message = {"message_id": message_id, "date": int(time.time()), "chat": chat(int(chat_id)),
                   "from": self.me, "text": text}  # fmt: skip
        if "inline_keyboard" in params.get("reply_markup", {}):  # a Message shows only inline keyboards
            message["reply_markup"] = params["reply_markup"]
        key = (chat_id, message_id)
        self.messages[key], self.html[key] = message, params["text"]
        return message

    async def _edit(self, params: dict[str, Any], text: str | None) -> dict[str, Any]:
        key = (params["chat_id"], params["message_id"])
        self._check_chat(key[0])
        if key not in self.messages:
            raise TelegramError(400, "Bad Request: message to edit not found")
        old = self.messages[key]
        new = {**old, "text": old["text"] if text is None else text}
        new.pop("reply_markup", None)
        if "reply_markup" in params:
            new["reply_markup"] = params["reply_markup"]
        if new == old and (text is None or self.html[key] == params["text"]):
            raise TelegramError(400, NOT_MODIFIED)
        self.messages[key] = new | {"edit_date": int(time.time())}
        self.html[key] = params.get("text", self.html[key])
        return self.messages[key]

    async def _editMessageText(self, params: dict[str, Any]) -> dict[str, Any]:
        return await self._edit(params, self._text(params))

    async def _editMessageReplyMarkup(self, params: dict[str, Any]) -> dict[str, Any]:
        return await self._edit(params, None)

    async def _answerCallbackQuery(self, params: dict[str, Any]) -> bool:
        if len(str(params.get("text", ""))) > 200:
            raise TelegramError(400, "Bad Request: MESSAGE_TOO_LONG")
        return True

    async def _getUpdates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        if self.webhook:
            raise TelegramError(409, "Conflict: can't use getUpdates method while webhook is active; "
                                "use deleteWebhook to delete the webhook first")  # fmt: skip
        offset = params.get("offset", 0)
        self.updates = [update for update in self.updates if update["update_id"] >= offset]
        await self._until(lambda: bool(self.updates) or self._closing, min(params.get("timeout", 0), self.poll_wait))
        return self.updates[: params.get("limit", 100)]

    async def _setWebhook(self, params: dict[str, Any]) -> bool:
        self.webhook = {"url": params["url"], "secret_token": params.get("secret_token", "")}
        self.webhook["allowed_updates"] = params.get("allowed_updates", [])
        return True

    async def _deleteWebhook(self, params: dict[str, Any]) -> bool:
        self.webhook = {}
        return True


async def _params(request: web.Request) -> dict[str, Any]:
    """Return the call's parameters, typed as the Bot API reads them whatever the body's encoding."""
    if request.content_type == "application/json":
        raw: dict[str, Any] = await request.json()
    else:
        raw = {key: value for key, value in (await request.post()).items() if isinstance(value, str)}
        raw |= dict(request.query)
    params: dict[str, Any] = {}
    for key, value in raw.items():
        if isinstance(value, str) and key in JSON_FIELDS:
            value = json.loads(value)
        elif key in INT_FIELDS:
            value = int(value)
        elif key in BOOL_FIELDS and isinstance(value, str):
            value = value == "true"
        params[key] = str(value) if key == "chat_id" else value
    return params
