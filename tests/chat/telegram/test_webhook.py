"""Webhook mode: the bot registers its URL and secret, and its endpoint handles only requests carrying the secret."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp import web
from sqlalchemy import Engine

from reconbot.bot.telegram import TelegramBot
from reconbot.core.errors import SetupError
from reconbot.core.persistence.chat_tables import Platform
from reconbot.core.services.chat.setup import connections
from reconbot.handlers.context import Chat
from reconbot.handlers.messages import Message, Reply
from tests.fakes.server import serve
from tests.fakes.telegram import BOT_USERNAME, FakeTelegram, message_update
from tests.support.telegram import Handlers, telegram_connection

GROUP = -1001234567890


@pytest.fixture
async def webhook_bot(engine: Engine, workspace_id: int, chat: Chat, api: str) -> AsyncIterator[TelegramBot]:
    bot = TelegramBot(telegram_connection(engine, workspace_id, "webhook"), chat, api_base=api)
    yield bot
    await bot.stop()


@pytest.fixture
async def endpoint(webhook_bot: TelegramBot) -> AsyncIterator[str]:
    """The URL of the bot's webhook endpoint on a local web server."""
    app = web.Application()
    webhook_bot.mount(app)
    async with serve(app) as url:
        yield url + webhook_bot.web_path


async def test_start_registers_the_webhook_with_its_secret(
    webhook_bot: TelegramBot, fake: FakeTelegram, engine: Engine, workspace_id: int
) -> None:
    await webhook_bot.start()
    assert fake.webhook == {
        "url": f"http://127.0.0.1:8000/telegram/{webhook_bot.connection.id}",
        "secret_token": webhook_bot.connection.credentials["webhook_secret"],
        "allowed_updates": ["message", "callback_query"],
    }
    assert not fake.calls_to("getUpdates")
    assert connections(engine, workspace_id)[0].bot_name == BOT_USERNAME


async def test_an_update_with_the_secret_is_handled(
    webhook_bot: TelegramBot, endpoint: str, fake: FakeTelegram, handlers: Handlers
) -> None:
    handlers.replies["run_command"] = Reply(Message(title="3 unmatched"))
    secret = webhook_bot.connection.credentials["webhook_secret"]
    status = await _post(endpoint, message_update(GROUP, 1001, "/unmatched") | {"update_id": 1}, secret)
    assert status == 200
    (sent,) = await fake.wait_for("sendMessage")
    assert (sent["chat_id"], sent["text"]) == (str(GROUP), "<b>3 unmatched</b>")
    assert handlers.calls[0][1][-1] == "unmatched"


@pytest.mark.parametrize("secret", ["wrong-secret", None])
async def test_an_update_without_the_secret_is_refused(
    webhook_bot: TelegramBot, endpoint: str, fake: FakeTelegram, handlers: Handlers, secret: str | None
) -> None:
    status = await _post(endpoint, message_update(GROUP, 1001, "/unmatched") | {"update_id": 1}, secret)
    assert status == 401
    assert handlers.calls == []  # refused before any handling begins
    assert not fake.calls_to("sendMessage")


def test_a_webhook_without_a_secret_is_refused(chat: Chat) -> None:
    from reconbot.core.services.chat.setup import ChatConnection

    connection = ChatConnection(1, chat.workspace_id, Platform.TELEGRAM, "webhook", {"bot_token": "1:x"}, "")
    with pytest.raises(SetupError, match="webhook_secret"):
        TelegramBot(connection, chat)


def test_polling_mode_mounts_nothing(chat: Chat) -> None:
    from reconbot.core.services.chat.setup import ChatConnection

    connection = ChatConnection(1, chat.workspace_id, Platform.TELEGRAM, "polling", {"bot_token": "1:x"}, "")
    app = web.Application()
    TelegramBot(connection, chat, api_base="http://127.0.0.1:9").mount(app)
    assert not list(app.router.routes())


async def _post(url: str, update: dict[str, object], secret: str | None) -> int:
    headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret is not None else {}
    async with aiohttp.ClientSession() as session, session.post(url, json=update, headers=headers) as response:
        return response.status
