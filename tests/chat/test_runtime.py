"""``reconbot run``'s chat part: every configured bot is built, mounted and started, and the worker delivers."""

from __future__ import annotations

import aiohttp
import pytest
from aiohttp import web
from sqlalchemy import Engine

from reconbot.bot.runtime import ChatRuntime
from reconbot.core.persistence.chat_tables import Platform
from reconbot.core.services.chat.setup import connections, save_connection
from tests.fakes.server import serve
from tests.fakes.slack import BOT_TOKEN, FakeSlack
from tests.fakes.telegram import TOKEN, FakeTelegram, message_update
from tests.support.books import Books
from tests.support.chat import INVOICES, PAYMENTS, add_channels


async def test_the_runtime_delivers_through_the_configured_bot_and_mounts_its_endpoint(
    engine: Engine, workspace_id: int, books: Books, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = FakeSlack()
    async with serve(fake.app()) as url:
        monkeypatch.setenv("RECONBOT_SLACK_API_URL", f"{url}/api/")
        save_connection(engine, workspace_id, Platform.SLACK, "http",
                        {"bot_token": BOT_TOKEN, "signing_secret": "s3cret"}, actor="test")  # fmt: skip
        runtime = ChatRuntime(engine, public_url="https://reconbot.example")
        app = web.Application()
        runtime.mount(app)
        add_channels(engine, workspace_id, (Platform.SLACK, "C1", True))
        books.invoices(INVOICES)
        books.statement(PAYMENTS)
        await runtime.start()
        try:
            async with serve(app) as served, aiohttp.ClientSession() as http:
                # The bot's endpoint answers (Bolt refuses an unsigned request); no other connection has one.
                for path, status in ((runtime.bots[0].web_path, 401), ("/slack/999", 404), ("/telegram/1", 404)):
                    async with http.post(served + path, data=b"{}") as response:
                        assert response.status == status, path
            await fake.wait_for("chat.postMessage", count=2)
        finally:
            await runtime.stop()
    assert sorted(c.args["channel"] for c in fake.called("chat.postMessage")) == ["C1", "C1"]


async def test_no_bot_configured_means_nothing_to_start(engine: Engine, workspace_id: int) -> None:
    runtime = ChatRuntime(engine)
    assert runtime.bots == []
    await runtime.start()
    await runtime.stop()


async def test_reload_follows_connections_saved_while_running_and_serves_their_webhook(
    engine: Engine, workspace_id: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = FakeTelegram()
    async with serve(fake.app) as api:
        monkeypatch.setenv("RECONBOT_TELEGRAM_API_URL", api)
        runtime = ChatRuntime(engine, public_url="https://reconbot.example")
        app = web.Application()
        runtime.mount(app)
        await runtime.start()
        try:
            async with serve(app) as served, aiohttp.ClientSession() as http:
                save_connection(engine, workspace_id, Platform.TELEGRAM, "webhook", {"bot_token": TOKEN}, actor="t")
                (connection,) = connections(engine, workspace_id)
                assert await runtime.reload() == [connection.id]
                path = f"/telegram/{connection.id}"
                assert fake.webhook["url"] == "https://reconbot.example" + path
                update = message_update(1001, 1001, "hi") | {"update_id": 1}
                async with http.post(served + path, json=update) as response:
                    assert response.status == 401  # the catch-all route reached the bot, which wants the secret
                secret = {"X-Telegram-Bot-Api-Secret-Token": connection.credentials["webhook_secret"]}
                async with http.post(served + path, json=update, headers=secret) as response:
                    assert response.status == 200
                assert await runtime.reload() == []  # nothing changed: the running bot stays
                save_connection(engine, workspace_id, Platform.TELEGRAM, "polling", {"bot_token": TOKEN}, actor="t")
                assert await runtime.reload() == [connection.id]
                await fake.wait_for("getUpdates")
                assert fake.webhook == {}
                async with http.post(served + path, json=update, headers=secret) as response:
                    assert response.status == 404  # a polling bot has no endpoint
        finally:
            await runtime.stop()
