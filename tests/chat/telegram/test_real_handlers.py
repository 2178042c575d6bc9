"""The bot through the real handlers (no stand-ins): a "Find invoice…" press, its prompt and the typed answer."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from reconbot.bot.telegram import TelegramBot
from reconbot.bot.telegram.render import Action, html
from reconbot.core.persistence.chat_tables import ChatActionRecord, Platform
from reconbot.core.persistence.database import session_scope
from reconbot.core.roles import Role
from reconbot.core.services.chat.actions import new_action_in
from reconbot.core.services.workspaces import language_of
from reconbot.handlers import commands
from reconbot.handlers.context import Chat, Place
from reconbot.handlers.texts import text
from tests.fakes.telegram import FakeTelegram, callback_update, message_update
from tests.support.chat import telegram_user
from tests.support.telegram import Handled

GROUP = -1001234567890
OWNER = 1001


@pytest.fixture
def find_action(engine: Engine, workspace_id: int, members: object) -> str:
    """A "Find invoice…" button's action id for an (imagined) unmatched transaction."""
    with session_scope(engine) as session:
        return new_action_in(session, workspace_id, "decision-1", "event-1")("find", {"transaction_id": 1})


async def test_find_invoice_asks_remembers_and_answers(
    polling_bot: TelegramBot,
    fake: FakeTelegram,
    handled: Handled,
    engine: Engine,
    workspace_id: int,
    find_action: str,
) -> None:
    language = language_of(engine, workspace_id)
    button_message = {"message_id": 5, "date": 0, "chat": {"id": GROUP, "type": "supergroup", "title": "Kert"},
                      "from": fake.me, "text": "Unmatched"}  # fmt: skip
    await handled.wait(fake.push_update(callback_update(button_message, OWNER, Action(id=find_action).pack())))

    (prompt,) = fake.calls_to("sendMessage")
    (answered,) = fake.calls_to("answerCallbackQuery")
    assert answered["text"] == text(language, "ask_number")
    assert text(language, "ask_number") in prompt["text"]
    assert prompt["reply_markup"]["force_reply"] is True
    with Session(engine) as session:
        action = session.get(ChatActionRecord, find_action)
        assert action is not None
        assert action.prompt_ref == f"{GROUP}:1"

    reply_update = message_update(GROUP, OWNER, "E-404", reply_to=fake.messages[(str(GROUP), 1)], message_id=6)
    await handled.wait(fake.push_update(reply_update))
    _, reply = fake.calls_to("sendMessage")
    assert reply["chat_id"] == str(GROUP)
    assert "E-404" in reply["text"]


async def test_help_through_the_real_commands(polling_bot: TelegramBot, fake: FakeTelegram, chat: Chat) -> None:
    expected = await commands.run_command(chat, telegram_user(Role.OWNER), Place(Platform.TELEGRAM, "1"), "help")
    assert expected.message is not None and expected.message.title.startswith("Commands: status, unmatched")
    fake.push_update(message_update(OWNER, OWNER, "/help"))
    (sent,) = await fake.wait_for("sendMessage")
    assert sent["text"] == html(expected.message)
    assert fake.messages[(str(OWNER), 1)]["text"] == expected.message.plain_text()
