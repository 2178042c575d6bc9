"""HTTP mode: Slack's signed requests posted to the bot's real aiohttp endpoint, through Bolt, to the handlers."""

from __future__ import annotations

import json
import logging

import pytest

from reconbot.core.persistence.chat_tables import Platform
from reconbot.core.roles import Role
from reconbot.handlers.context import ChatUser, Place
from reconbot.handlers.messages import Button, Message, Reply
from tests.fakes.slack import APP_TOKEN, BOT_TOKEN, FakeSlack
from tests.support.chat import SLACK_USERS
from tests.support.slack import (
    CHANNEL,
    SIGNING_SECRET,
    Handlers,
    HttpBot,
    block_actions,
    interaction,
    slash_command,
    view_submission,
)

OWNER = SLACK_USERS[Role.OWNER]
PAIRED = Message("Paired", lines=("E-2026-12 is paid in full",), buttons=(Button("Undo", action="undo1"),))


async def test_a_signed_button_press_is_acknowledged_and_handed_to_press(
    http_bot: HttpBot, stand_ins: Handlers, fake_slack: FakeSlack
) -> None:
    stand_ins.replies["press"] = Reply(toast="Paired with E-2026-12")

    response = await http_bot.post(interaction(block_actions("a1b2c3", user=OWNER)))

    assert response.status == 200
    ephemeral = (await fake_slack.wait_for("chat.postEphemeral"))[0]
    assert stand_ins.calls == [("press", (ChatUser(Platform.SLACK, OWNER, "anna"), "a1b2c3"))]
    assert ephemeral.args == {"channel": CHANNEL, "user": OWNER, "text": "Paired with E-2026-12", "team_id": "T0FAKE"}
    assert len(fake_slack.called("auth.test")) == 1  # Bolt's single-workspace authorisation, with the bot token


async def test_a_reply_message_is_shown_ephemerally_as_blocks(
    http_bot: HttpBot, stand_ins: Handlers, fake_slack: FakeSlack
) -> None:
    stand_ins.replies["press"] = Reply(message=PAIRED, toast="Done")

    await http_bot.post(interaction(block_actions("a1b2c3", user=OWNER)))

    ephemeral = (await fake_slack.wait_for("chat.postEphemeral"))[0]
    assert ephemeral.error == ""  # the fake validated the blocks with slack_sdk's models
    assert [b["type"] for b in ephemeral.args["blocks"]] == ["section", "section", "actions"]
    assert ephemeral.args["text"] == "Paired\nE-2026-12 is paid in full"


@pytest.mark.parametrize("signature", ["wrong secret", "missing"])
async def test_a_request_without_a_valid_signature_is_refused_and_nothing_runs(
    http_bot: HttpBot, stand_ins: Handlers, fake_slack: FakeSlack, signature: str
) -> None:
    body = interaction(block_actions("a1b2c3", user=OWNER))

    response = await http_bot.post(body, secret="not-" + SIGNING_SECRET, signed=signature != "missing")

    assert response.status == 401
    assert stand_ins.calls == [] and fake_slack.calls == []


async def test_a_link_button_click_is_only_acknowledged(
    http_bot: HttpBot, stand_ins: Handlers, fake_slack: FakeSlack
) -> None:
    response = await http_bot.post(interaction(block_actions("", user=OWNER, action_id="rb_link_3")))

    assert response.status == 200
    assert stand_ins.calls == [] and fake_slack.called("chat.postEphemeral") == []


async def test_find_invoice_opens_the_modal_and_its_submission_answers_the_number(
    http_bot: HttpBot, stand_ins: Handlers, fake_slack: FakeSlack
) -> None:
    stand_ins.replies["press"] = Reply(ask_number="find42")
    stand_ins.replies["answer_number"] = Reply(toast="Paired with E-2026-12")

    await http_bot.post(interaction(block_actions("find42", user=OWNER)))
    opened = (await fake_slack.wait_for("views.open"))[0]
    view = opened.args["view"]
    submitted = await http_bot.post(interaction(view_submission(view["private_metadata"], " E-2026-12 ", user=OWNER)))

    assert opened.error == "" and opened.args["trigger_id"] == "1111.2222.trigger"
    assert (view["callback_id"], view["title"]["text"]) == ("rb_find", "Find invoice")
    assert submitted.status == 200
    ephemeral = (await fake_slack.wait_for("chat.postEphemeral"))[0]
    assert stand_ins.calls[1] == ("answer_number", (ChatUser(Platform.SLACK, OWNER, "anna"), "find42", "E-2026-12"))
    assert (ephemeral.args["channel"], ephemeral.args["user"]) == (CHANNEL, OWNER)


async def test_an_empty_number_keeps_the_modal_open_with_an_error(http_bot: HttpBot, stand_ins: Handlers) -> None:
    response = await http_bot.post(interaction(view_submission(f"find42|{CHANNEL}", "  ", user=OWNER)))

    assert response.status == 200
    assert json.loads(await response.text()) == {
        "response_action": "errors",
        "errors": {"number": "Reply with the invoice number"},
    }
    assert stand_ins.calls == []


@pytest.mark.parametrize(
    ("channel", "channel_name", "private"),
    [(CHANNEL, "general", False), ("D0DIRECT", "directmessage", True), ("D0OTHER", "privategroup", True)],
)
async def test_the_slash_command_runs_and_answers_ephemerally(
    http_bot: HttpBot, stand_ins: Handlers, fake_slack: FakeSlack, channel: str, channel_name: str, private: bool
) -> None:
    stand_ins.replies["run_command"] = Reply(message=Message("reconbot status", lines=("Unmatched: 3",)))
    body = slash_command(
        "  status ", user=OWNER, channel=channel, channel_name=channel_name, slack_url=http_bot.slack_url
    )

    response = await http_bot.post(body)

    assert response.status == 200
    answer = (await fake_slack.wait_for_response())[0]
    user = ChatUser(Platform.SLACK, OWNER, "anna")
    assert stand_ins.calls == [("run_command", (user, Place(Platform.SLACK, channel, private=private), "status"))]
    assert answer["key"] == "command" and answer["response_type"] == "ephemeral"
    assert answer["text"] == "reconbot status\nUnmatched: 3"
    assert answer["blocks"][0]["text"]["text"] == "*reconbot status*"


async def test_a_failing_handler_is_logged_without_tokens_and_the_user_told(
    http_bot: HttpBot, stand_ins: Handlers, fake_slack: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    stand_ins.fail = True
    caplog.set_level(logging.DEBUG)

    await http_bot.post(interaction(block_actions("a1b2c3", user=OWNER)))
    await http_bot.post(slash_command("status", user=OWNER, slack_url=http_bot.slack_url))

    ephemeral = (await fake_slack.wait_for("chat.postEphemeral"))[0]
    answer = (await fake_slack.wait_for_response())[0]
    assert ephemeral.args["text"] == answer["text"] == "Something went wrong; the error is logged."
    assert "press broke" in caplog.text and "run_command broke" in caplog.text
    for secret in (BOT_TOKEN, APP_TOKEN, SIGNING_SECRET):
        assert secret not in caplog.text
