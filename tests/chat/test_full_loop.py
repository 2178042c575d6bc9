"""The whole loop on both platforms at once, through the real slack-bolt and aiogram stacks and their fake
servers, with the invoices in (fake) Billingo: import a statement → the question appears in Slack and
Telegram → the accountant presses a candidate in Telegram → the allocation is stored and written back to
Billingo → both messages are edited → the owner's press in Slack answers "already done" and changes nothing."""

from __future__ import annotations

from decimal import Decimal

import aiohttp
from aiohttp import web
from sqlalchemy import Engine

from reconbot.bot.delivery import DeliveryWorker
from reconbot.bot.slack.app import SlackBot
from reconbot.bot.telegram import TelegramBot
from reconbot.core.persistence.chat_tables import Platform
from reconbot.core.roles import Role
from reconbot.core.services.invoicing.sources import InvoiceSources
from reconbot.core.services.invoicing.sync import sync_source
from reconbot.core.services.invoicing.write_back import run_due
from reconbot.handlers.context import Chat
from tests.fakes.billingo import FakeBillingo
from tests.fakes.clock import FakeClock
from tests.fakes.server import serve
from tests.fakes.slack import FakeSlack
from tests.fakes.telegram import FakeTelegram, callback_update
from tests.support.books import Books
from tests.support.chat import SLACK_USERS, TELEGRAM_USERS, add_channels
from tests.support.slack import HttpBot, block_actions, connection, interaction
from tests.support.telegram import telegram_connection

SLACK_CHANNEL = "C0FINANCE"
OWNER_CHAT = int(TELEGRAM_USERS[Role.OWNER])


async def test_press_in_telegram_pairs_writes_back_and_edits_both_platforms(
    engine: Engine, workspace_id: int, members: dict[Role, int], chat: Chat, clock: FakeClock, books: Books,
    billingo: FakeBillingo,
) -> None:  # fmt: skip
    first = billingo.seed_invoice("50000", number="INV-2026-000101")
    billingo.seed_invoice("50000", number="INV-2026-000102")
    sources = chat.invoicing()
    assert (await sync_source(sources, workspace_id, "billingo", actor="test")).received.stored.new == 2
    add_channels(
        engine, workspace_id, (Platform.SLACK, SLACK_CHANNEL, True), (Platform.TELEGRAM, str(OWNER_CHAT), True)
    )

    slack, telegram = FakeSlack(), FakeTelegram()
    async with serve(slack.app()) as slack_url, serve(telegram.app) as telegram_url:
        slack_bot = SlackBot(connection(workspace_id, "http"), chat, base_url=f"{slack_url}/api/")
        telegram_bot = TelegramBot(telegram_connection(engine, workspace_id, "webhook"), chat, api_base=telegram_url)
        web_app = web.Application()
        slack_bot.mount(web_app)
        telegram_bot.mount(web_app)
        transports = {(workspace_id, Platform.SLACK): slack_bot.transport,
                      (workspace_id, Platform.TELEGRAM): telegram_bot.transport}  # fmt: skip
        worker = DeliveryWorker(engine, transports, clock=clock, pace_scale=0)
        async with serve(web_app) as url, aiohttp.ClientSession() as session:
            # 1. A statement arrives; the question is posted on both platforms.
            books.statement([("T7", "50000", "Ismeretlen Péter", "befizetés")])
            assert (await worker.run_once()).sent == 2
            [posted] = slack.called("chat.postMessage")
            assert posted.args["text"].startswith("Unmatched payment: HUF50,000 from Ismeretlen Péter")
            (key, question) = next(iter(telegram.messages.items()))
            buttons = {row[0]["text"]: row[0] for row in question["reply_markup"]["inline_keyboard"]}
            assert set(buttons) == {"Pair with INV-2026-000101", "Pair with INV-2026-000102", "Find invoice…",
                                    "Not an invoice payment"}  # fmt: skip

            # 2. The accountant presses the first candidate in Telegram (the webhook, with its secret).
            secret = telegram_bot.connection.credentials["webhook_secret"]
            press = callback_update(
                question, int(TELEGRAM_USERS[Role.ACCOUNTANT]), buttons["Pair with INV-2026-000101"]["callback_data"]
            )
            async with session.post(url + telegram_bot.web_path, json=press | {"update_id": 1},
                                    headers={"X-Telegram-Bot-Api-Secret-Token": secret}) as response:  # fmt: skip
                assert response.status == 200
            [answer] = await telegram.wait_for("answerCallbackQuery")
            assert answer["text"] == "Paired with INV-2026-000101 by Béla Szabó"

            # 3. The payment is written back to Billingo, once.
            await run_due(InvoiceSources(engine, clock=clock))
            [payment] = billingo.payments[first["id"]]
            assert Decimal(str(payment["price"])) == Decimal("50000")

            # 4. Both copies are edited to show the outcome, with an Undo button.
            assert (await worker.run_once()).edited == 2
            [update] = slack.called("chat.update")
            assert update.args["ts"] == posted.args.get("ts", update.args["ts"])
            assert "Paired with INV-2026-000101 by Béla Szabó" in str(update.args["blocks"])
            [edit] = telegram.calls_to("editMessageText")
            assert "Paired with INV-2026-000101 by Béla Szabó" in edit["text"]
            assert [row[0]["text"] for row in edit["reply_markup"]["inline_keyboard"]] == ["Undo"]

            # 5. The owner presses the other candidate on the Slack copy: already done, nothing changes.
            value = next(e["value"] for b in posted.args["blocks"] if b["type"] == "actions" for e in b["elements"]
                         if e["text"]["text"] == "Pair with INV-2026-000102")  # fmt: skip
            body = interaction(block_actions(value, user=SLACK_USERS[Role.OWNER], channel=SLACK_CHANNEL))
            await HttpBot(slack_bot, url + slack_bot.web_path, slack_url, session).post(body)
            [ephemeral] = await slack.wait_for("chat.postEphemeral")
            assert ephemeral.args["text"].startswith("Already done by Béla Szabó")
            await run_due(InvoiceSources(engine, clock=clock))
            assert sum(len(p) for p in billingo.payments.values()) == 1
            assert (await worker.run_once()).edited == 0
        await telegram_bot.stop()
    assert key[0] == str(OWNER_CHAT)
