"""The transport against the fake Bot API: what is sent, and how every kind of failure reaches the worker."""

from __future__ import annotations

import traceback

import pytest

from reconbot.bot.telegram import ChatMigrated, TelegramTransport
from reconbot.bot.transport import DeliveryError
from reconbot.handlers.messages import Button, Message
from tests.fakes.clock import FakeClock
from tests.fakes.server import free_port
from tests.fakes.telegram import TOKEN, FakeTelegram

GROUP = "-1001234567890"
PAID = Message(title="Paid: E-2026-12", fields=(("Amount", "127 000 Ft"),), buttons=(Button("Undo", action="u1"),))


def assert_no_token(error: BaseException) -> None:
    shown = "".join(traceback.format_exception(error)) + repr(error)
    assert TOKEN not in shown
    assert TOKEN.split(":")[1] not in shown


async def test_send_posts_html_with_keyboard_and_returns_the_message_id(
    transport: TelegramTransport, fake: FakeTelegram
) -> None:
    first = await transport.send(GROUP, PAID)
    second = await transport.send(GROUP, Message(title="Sync failing"))
    assert (first, second) == ("1", "2")
    (call, _) = fake.calls_to("sendMessage")
    assert call["chat_id"] == GROUP
    assert call["parse_mode"] == "HTML"
    assert call["link_preview_options"] == {"is_disabled": True}
    assert call["reply_markup"] == {"inline_keyboard": [[{"text": "Undo", "callback_data": "rb:u1"}]]}
    assert fake.messages[(GROUP, 1)]["text"] == "Paid: E-2026-12\nAmount: 127 000 Ft"


async def test_edit_replaces_text_and_drops_buttons(transport: TelegramTransport, fake: FakeTelegram) -> None:
    ref = await transport.send(GROUP, PAID)
    await transport.edit(GROUP, ref, Message(title="Paid: E-2026-12", note="Undone by Anna"))
    edited = fake.messages[(GROUP, int(ref))]
    assert edited["text"] == "Paid: E-2026-12\nUndone by Anna"
    assert "reply_markup" not in edited


async def test_edit_with_nothing_changed_counts_as_done(transport: TelegramTransport, fake: FakeTelegram) -> None:
    ref = await transport.send(GROUP, PAID)
    await transport.edit(GROUP, ref, PAID)
    assert len(fake.calls_to("editMessageText")) == 1  # Telegram said "not modified"; no retry, no error


async def test_edit_of_a_missing_message_is_permanent(transport: TelegramTransport) -> None:
    with pytest.raises(DeliveryError, match="message to edit not found") as caught:
        await transport.edit(GROUP, "99", PAID)
    assert caught.value.permanent


async def test_flood_control_asks_the_worker_to_wait(
    transport: TelegramTransport, fake: FakeTelegram, clock: FakeClock
) -> None:
    fake.limit_per_second = 1
    fake.clock = clock.seconds  # the clock stands still: both sends fall in the same second
    await transport.send(GROUP, PAID)
    with pytest.raises(DeliveryError) as caught:
        await transport.send(GROUP, PAID)
    assert caught.value.retry_after == 1
    assert not caught.value.permanent
    assert len(fake.messages) == 1


@pytest.mark.parametrize(
    ("status", "description"),
    [
        (403, "Forbidden: bot was kicked from the group chat"),
        (403, "Forbidden: bot was blocked by the user"),
        (400, "Bad Request: chat not found"),
    ],
)
async def test_chat_problems_are_permanent(
    transport: TelegramTransport, fake: FakeTelegram, status: int, description: str
) -> None:
    fake.fail_chats[GROUP] = (status, description)
    with pytest.raises(DeliveryError) as caught:
        await transport.send(GROUP, PAID)
    assert caught.value.permanent
    assert description in str(caught.value)
    assert GROUP in str(caught.value)
    assert_no_token(caught.value)


async def test_a_migrated_group_names_its_new_id(transport: TelegramTransport, fake: FakeTelegram) -> None:
    fake.migrated_chats["-4242"] = -1004242
    with pytest.raises(ChatMigrated) as caught:
        await transport.send("-4242", PAID)
    assert caught.value.permanent
    assert caught.value.new_address == "-1004242"
    assert "-1004242" in str(caught.value)


async def test_server_errors_are_transient(transport: TelegramTransport, fake: FakeTelegram) -> None:
    fake.fail_chats[GROUP] = (502, "Bad Gateway")
    with pytest.raises(DeliveryError) as caught:
        await transport.send(GROUP, PAID)
    assert not caught.value.permanent
    assert caught.value.retry_after is None


async def test_a_revoked_token_is_permanent_and_never_shown(api: str) -> None:
    transport = TelegramTransport("4242:RevokedTokenThatMustNotLeak", base=api)
    try:
        with pytest.raises(DeliveryError) as caught:
            await transport.send(GROUP, PAID)
    finally:
        await transport.close()
    assert caught.value.permanent
    assert "token" in str(caught.value)
    shown = "".join(traceback.format_exception(caught.value)) + repr(caught.value) + repr(transport)
    assert "RevokedTokenThatMustNotLeak" not in shown


async def test_an_unreachable_server_is_transient_and_hides_the_token() -> None:
    transport = TelegramTransport(TOKEN, base=f"http://127.0.0.1:{free_port()}")
    try:
        with pytest.raises(DeliveryError) as caught:
            await transport.send(GROUP, PAID)
    finally:
        await transport.close()
    assert not caught.value.permanent
    assert_no_token(caught.value)


def test_groups_are_paced_at_20_messages_a_minute() -> None:
    transport = TelegramTransport(TOKEN, base="http://127.0.0.1:9")
    assert transport.group_pace(GROUP) == 3.0
    assert transport.group_pace("-4242") == 3.0
    assert transport.group_pace("1001") == 1.0
    assert TOKEN.split(":")[1] not in repr(transport)
