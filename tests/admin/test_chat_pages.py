"""The Chat page and Telegram links on the Members page, against the fake Slack and Telegram servers, with the
chat runtime running as ``reconbot run`` runs it: what the panel saves takes effect without a restart."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass

import aiohttp
import pytest

from reconbot.admin.app import create_app
from reconbot.bot.runtime import ChatRuntime
from reconbot.core.encryption import mask
from reconbot.core.roles import Role
from reconbot.core.services.chat.setup import channels, connections
from tests.admin.test_member_pages import member_id, row
from tests.fakes.server import serve
from tests.fakes.slack import BOT_TOKEN, FakeSlack
from tests.fakes.telegram import BOT_USERNAME, TOKEN, FakeTelegram, message_update
from tests.support.panel import Panel

GROUP = "-100500"


@dataclass
class Live:
    """The panel served together with the chat runtime (its reload wired in), and the fake platforms."""

    panel: Panel
    runtime: ChatRuntime
    telegram: FakeTelegram
    slack: FakeSlack


@pytest.fixture
async def live(panel: Panel, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Live]:
    telegram, slack = FakeTelegram(), FakeSlack()
    async with serve(telegram.app) as telegram_url, serve(slack.app()) as slack_url:
        monkeypatch.setenv("RECONBOT_TELEGRAM_API_URL", telegram_url)
        monkeypatch.setenv("RECONBOT_SLACK_API_URL", f"{slack_url}/api/")
        runtime = ChatRuntime(panel.engine, feeds=panel.feeds, public_url=panel.feeds.public_url)
        app = create_app(panel.feeds, chat_reload=runtime.reload_soon)
        runtime.mount(app)
        async with serve(app) as url:
            await runtime.start()
            served = dataclasses.replace(panel, url=url, _clients=[])
            try:
                yield Live(served, runtime, telegram, slack)
            finally:
                await runtime.stop()
                await served.close()


async def connect_telegram(live: Live) -> None:
    status, body = await (await live.panel.visitor()).post("/chat/telegram", {"mode": "polling", "bot_token": TOKEN})
    assert status == 200 and f"Telegram bot connected as @{BOT_USERNAME} in polling mode." in body
    await live.runtime.settle()


async def test_a_telegram_token_is_checked_stored_masked_and_starts_the_bot_at_once(live: Live) -> None:
    owner = await live.panel.visitor()
    status, body = await owner.post("/chat/telegram", {"mode": "polling", "bot_token": "4242:AAwrongTokenForTests_000"})
    assert status == 400 and "Telegram refused this bot token" in body
    status, body = await owner.post("/chat/telegram", {"mode": "polling", "bot_token": "not a token"})
    assert status == 400 and "not a Telegram bot token" in body
    assert connections(live.panel.engine) == []

    await connect_telegram(live)
    _, body = await owner.get("/chat")
    assert f"@{BOT_USERNAME}" in body and mask(TOKEN) in body
    assert TOKEN not in body and TOKEN.split(":")[1] not in body
    (connection,) = connections(live.panel.engine)
    assert connection.bot_name == BOT_USERNAME and connection.credentials == {"bot_token": TOKEN}
    await live.telegram.wait_for("getUpdates")  # the running process polls with the new token, no restart


async def test_a_linked_channel_gets_one_test_message_through_the_delivery_worker(live: Live) -> None:
    owner = await live.panel.visitor()
    await connect_telegram(live)
    status, body = await owner.post("/chat/channels", {"platform": "telegram", "address": GROUP, "name": "Pénzügy",
                                                       "kinds": "payment_matched", "bank_data": "on"})  # fmt: skip
    assert status == 200 and f"Notifications go to telegram {GROUP} from now on." in body
    assert "Payment received and paired" in body and "Pénzügy" in body
    (channel,) = channels(live.panel.engine, live.panel.workspace_id)
    assert (channel.kinds, channel.bank_data, channel.group) == (("payment_matched",), True, True)

    status, body = await owner.post(f"/chat/channels/{channel.id}/test")
    assert status == 200 and "A test message is on its way to Pénzügy." in body
    (sent,) = await live.telegram.wait_for("sendMessage")
    assert sent["chat_id"] == GROUP and "reconbot tesztüzenet – Kert-Építő Kft." in sent["text"]
    await live.runtime.settle()
    assert (await live.runtime.worker.run_once()).sent == 0
    assert len(live.telegram.calls_to("sendMessage")) == 1

    status, body = await owner.post(f"/chat/channels/{channel.id}/remove")
    assert status == 200 and GROUP not in body.split("<h2>Channels and chats</h2>")[1].split("<form")[0]


async def test_a_members_telegram_link_links_them_through_the_running_bot(live: Live) -> None:
    owner = await live.panel.visitor()
    await connect_telegram(live)
    anna = member_id(live.panel, "Anna Kovács")
    status, body = await owner.post(f"/members/{anna}/telegram")
    link = re.search(rf"https://t\.me/{BOT_USERNAME}\?start=([A-Za-z0-9_-]{{24}})", body)
    assert status == 200 and link, body
    live.telegram.push_update(message_update(555, 555, f"/start {link[1]}"))
    (reply,) = await live.telegram.wait_for("sendMessage")
    assert reply["chat_id"] == "555" and "Anna Kovács" in reply["text"]
    _, body = await owner.get("/members")
    assert "telegram:555" in row(body, "Anna Kovács")


async def test_slack_in_http_mode_shows_its_request_address_and_serves_it_at_once(live: Live) -> None:
    owner = await live.panel.visitor()
    status, body = await owner.post("/chat/slack", {"mode": "http", "bot_token": BOT_TOKEN,
                                                    "signing_secret": "0123456789abcdef-signing"})  # fmt: skip
    assert status == 200 and "Slack bot connected as @reconbot in http mode." in body
    (connection,) = connections(live.panel.engine)
    assert f"{live.panel.feeds.public_url}/slack/{connection.id}" in body
    assert BOT_TOKEN not in body and "0123456789abcdef" not in body and mask(BOT_TOKEN) in body
    # A mode change keeps the stored tokens when the fields are left empty.
    status, body = await owner.post("/chat/slack", {"mode": "http", "bot_token": "", "signing_secret": ""})
    assert status == 200 and connections(live.panel.engine)[0].credentials["bot_token"] == BOT_TOKEN
    await live.runtime.settle()
    async with aiohttp.ClientSession() as http, http.post(f"{live.panel.url}/slack/{connection.id}", data=b"{}") as r:
        assert r.status == 401  # Bolt, reached through the route mounted before the bot existed, wants a signature
    status, body = await owner.post("/chat/slack", {"mode": "socket", "bot_token": "xoxb-wrong-token-0000"})
    assert status == 400 and "Slack refused this bot token (invalid_auth)" in body


@pytest.mark.parametrize("role", [Role.ACCOUNTANT, Role.ACCOUNTANT_INVOICING, Role.INVOICING, Role.OPERATOR])
async def test_only_owners_and_admins_set_up_chat(panel: Panel, role: Role) -> None:
    visitor = await panel.visitor(role)
    assert (await visitor.get("/chat"))[0] == 403
    for path, data in (("/chat/telegram", {"mode": "polling", "bot_token": TOKEN}),
                       ("/chat/slack", {"mode": "socket", "bot_token": BOT_TOKEN}),
                       ("/chat/channels", {"platform": "telegram", "address": GROUP, "bank_data": "on"}),
                       ("/chat/channels/1/test", {}), ("/chat/channels/1/remove", {})):  # fmt: skip
        assert (await visitor.post(path, data))[0] == 403, path
    assert connections(panel.engine) == []
    assert channels(panel.engine, panel.workspace_id) == []
    assert (await (await panel.visitor(Role.ADMIN)).get("/chat"))[0] == 200
