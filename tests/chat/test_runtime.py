"""``reconbot run``'s chat part: every configured bot is built, mounted and started, and the worker delivers."""

from __future__ import annotations

import pytest
from aiohttp import web
from sqlalchemy import Engine

from bot.runtime import ChatRuntime
from core.persistence.chat_tables import Platform
from core.services.chat_setup import save_connection
from tests.chat.conftest import INVOICES, PAYMENTS, Books, add_channels
from tests.fakes.server import serve
from tests.fakes.slack import BOT_TOKEN, FakeSlack


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
        assert [r.canonical for r in app.router.resources()] == [f"/slack/{runtime.bots[0].connection.id}"]
        add_channels(engine, workspace_id, (Platform.SLACK, "C1", True))
        books.invoices(INVOICES)
        books.statement(PAYMENTS)
        await runtime.start()
        try:
            await fake.wait_for("chat.postMessage", count=2)
        finally:
            await runtime.stop()
    assert sorted(c.args["channel"] for c in fake.called("chat.postMessage")) == ["C1", "C1"]


async def test_no_bot_configured_means_nothing_to_start(engine: Engine, workspace_id: int) -> None:
    runtime = ChatRuntime(engine)
    assert runtime.bots == []
    await runtime.start()
    await runtime.stop()
