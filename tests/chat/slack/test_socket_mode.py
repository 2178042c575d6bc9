"""Socket Mode: the real AsyncSocketModeHandler connects to the fake's WebSocket and receives interactions."""

from __future__ import annotations

from collections.abc import AsyncIterator
from urllib.parse import parse_qsl

import pytest

from reconbot.bot.slack.app import SlackBot
from reconbot.core.errors import ProviderError, SetupError
from reconbot.core.persistence.chat_tables import Platform
from reconbot.core.roles import Role
from reconbot.handlers.context import Chat, ChatUser, Place
from reconbot.handlers.messages import Reply
from tests.fakes.slack import APP_TOKEN, FakeSlack
from tests.support.chat import SLACK_USERS
from tests.support.slack import CHANNEL, Handlers, block_actions, connection, slash_command

OWNER = SLACK_USERS[Role.OWNER]


@pytest.fixture
async def socket_bot(chat: Chat, workspace_id: int, slack_url: str) -> AsyncIterator[SlackBot]:
    bot = SlackBot(connection(workspace_id, "socket"), chat, base_url=f"{slack_url}/api/")
    await bot.start()
    try:
        yield bot
    finally:
        await bot.stop()


async def test_a_button_press_arrives_over_the_websocket_and_is_acknowledged(
    socket_bot: SlackBot, fake_slack: FakeSlack, stand_ins: Handlers
) -> None:
    stand_ins.replies["press"] = Reply(toast="Paired with E-2026-12")

    ack = await fake_slack.push("interactive", block_actions("a1b2c3", user=OWNER))

    ephemeral = (await fake_slack.wait_for("chat.postEphemeral"))[0]
    assert ack["envelope_id"].startswith("env-")
    assert stand_ins.calls == [("press", (ChatUser(Platform.SLACK, OWNER, "anna"), "a1b2c3"))]
    assert (ephemeral.args["channel"], ephemeral.args["text"]) == (CHANNEL, "Paired with E-2026-12")
    assert [call.error for call in fake_slack.called("apps.connections.open")] == [""]  # opened with the app token


async def test_a_slash_command_arrives_over_the_websocket(
    socket_bot: SlackBot, fake_slack: FakeSlack, stand_ins: Handlers, slack_url: str
) -> None:
    stand_ins.replies["run_command"] = Reply(toast="Commands: status, unmatched")
    payload = dict(parse_qsl(slash_command("", user=OWNER, channel="D0DM", channel_name="directmessage",
                                           slack_url=slack_url)))  # fmt: skip

    await fake_slack.push("slash_commands", payload)

    answer = (await fake_slack.wait_for_response())[0]
    user = ChatUser(Platform.SLACK, OWNER, "anna")
    assert stand_ins.calls == [("run_command", (user, Place(Platform.SLACK, "D0DM", private=True), ""))]
    assert (answer["text"], answer["response_type"]) == ("Commands: status, unmatched", "ephemeral")


async def test_a_refused_app_token_fails_start_without_showing_it(
    chat: Chat, workspace_id: int, slack_url: str, fake_slack: FakeSlack
) -> None:
    wrong = "xapp-1-A0FAKE-9999-wrongsecret"
    bot = SlackBot(connection(workspace_id, "socket", app_token=wrong), chat, base_url=f"{slack_url}/api/")

    with pytest.raises(ProviderError, match="invalid_auth") as caught:
        await bot.start()

    assert caught.value.permanent and wrong not in str(caught.value) and APP_TOKEN not in str(caught.value)
    assert fake_slack.called("apps.connections.open")[0].error == "invalid_auth"
    await bot.stop()  # nothing was opened: a no-op


@pytest.mark.parametrize(("mode", "missing"), [("socket", "app_token"), ("http", "signing_secret"), ("rtm", "")])
def test_a_bot_needs_the_credentials_of_its_mode(chat: Chat, workspace_id: int, mode: str, missing: str) -> None:
    values = {missing: ""} if missing else {}

    with pytest.raises(SetupError, match=missing or "unknown mode"):
        SlackBot(connection(workspace_id, mode, **values), chat)
