"""The full loop on Slack with the real handlers: import → message posted → signed press → allocation stored →
message edited; the "Find invoice…" modal; a refused role; /reconbot."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from reconbot.bot.delivery import DeliveryWorker
from reconbot.core.persistence.chat_tables import Platform
from reconbot.core.persistence.tables import AllocationRecord, InvoiceRecord
from reconbot.core.roles import Role
from tests.fakes.clock import FakeClock
from tests.fakes.slack import FakeSlack
from tests.support.books import Books
from tests.support.chat import INVOICES, PAYMENTS, SLACK_USERS, add_channels
from tests.support.slack import HttpBot, block_actions, interaction, slash_command, view_submission

CHANNEL = "C1"


async def delivered(
    engine: Engine, workspace_id: int, http_bot: HttpBot, clock: FakeClock, books: Books
) -> DeliveryWorker:
    """Import invoices and payments and deliver their messages to the Slack channel through the fake; return the
    worker."""
    add_channels(engine, workspace_id, (Platform.SLACK, CHANNEL, True))
    books.invoices(INVOICES)
    books.statement(PAYMENTS)
    worker = DeliveryWorker(engine, {(workspace_id, Platform.SLACK): http_bot.bot.transport}, clock=clock, pace_scale=0)
    await worker.run_once()
    return worker


def question(fake: FakeSlack) -> tuple[str, dict[str, str]]:
    """Return the ts of the unmatched-payment message and its action buttons' values by label."""
    for call in fake.called("chat.postMessage"):
        if call.args["text"].startswith("Unmatched"):
            buttons = [e for b in call.args["blocks"] if b["type"] == "actions" for e in b["elements"]]
            ts = next(ts for (channel, ts), message in fake.messages.items() if message["text"] == call.args["text"])
            return ts, {e["text"]["text"]: e["value"] for e in buttons if "value" in e}
    raise AssertionError("no unmatched-payment message was posted")


def paired_numbers(engine: Engine) -> list[str]:
    with Session(engine) as session:
        query = (
            select(InvoiceRecord.number)
            .join(AllocationRecord, col(AllocationRecord.invoice_id) == col(InvoiceRecord.id))
            .where(col(AllocationRecord.undone_at).is_(None))
        )
        return sorted(session.exec(query))


def context_texts(message: dict[str, Any]) -> list[str]:
    return [e["text"] for b in message["blocks"] if b["type"] == "context" for e in b["elements"]]


async def test_a_pressed_candidate_pairs_once_and_the_slack_message_is_edited(
    engine: Engine, workspace_id: int, members: dict[Role, int], clock: FakeClock, books: Books,
    http_bot: HttpBot, fake_slack: FakeSlack,
) -> None:  # fmt: skip
    worker = await delivered(engine, workspace_id, http_bot, clock, books)
    ts, buttons = question(fake_slack)
    before = paired_numbers(engine)

    accountant = SLACK_USERS[Role.ACCOUNTANT]
    first = await http_bot.post(
        interaction(block_actions(buttons["Pair with E-2026-2"], user=accountant, channel=CHANNEL))
    )
    answered = await fake_slack.wait_for("chat.postEphemeral")
    owner = SLACK_USERS[Role.OWNER]
    second = await http_bot.post(interaction(block_actions(buttons["Pair with E-2026-3"], user=owner, channel=CHANNEL)))
    answered = await fake_slack.wait_for("chat.postEphemeral", count=2)
    await worker.run_once()

    assert first.status == second.status == 200
    assert [(c.args["user"], c.args["text"]) for c in answered] == [
        (accountant, "Paired with E-2026-2 by Béla Szabó"),
        (owner, "Already done by Béla Szabó: Paired with E-2026-2 by Béla Szabó"),
    ]
    assert paired_numbers(engine) == sorted([*before, "E-2026-2"])
    edit = next(c for c in fake_slack.called("chat.update") if c.args["ts"] == ts)
    assert edit.error == "" and edit.args["channel"] == CHANNEL
    assert context_texts(fake_slack.messages[(CHANNEL, ts)]) == ["Paired with E-2026-2 by Béla Szabó"]
    assert [e["text"]["text"] for b in edit.args["blocks"] if b["type"] == "actions" for e in b["elements"]] == ["Undo"]


async def test_find_invoice_pairs_the_number_typed_into_the_modal(
    engine: Engine, workspace_id: int, members: dict[Role, int], clock: FakeClock, books: Books,
    http_bot: HttpBot, fake_slack: FakeSlack,
) -> None:  # fmt: skip
    await delivered(engine, workspace_id, http_bot, clock, books)
    _, buttons = question(fake_slack)
    owner = SLACK_USERS[Role.OWNER]

    await http_bot.post(interaction(block_actions(buttons["Find invoice…"], user=owner, channel=CHANNEL)))
    view = (await fake_slack.wait_for("views.open"))[0].args["view"]
    await http_bot.post(interaction(view_submission(view["private_metadata"], "e-2026-3", user=owner)))
    answer = (await fake_slack.wait_for("chat.postEphemeral"))[0]

    assert view["private_metadata"] == f"{buttons['Find invoice…']}|{CHANNEL}"
    assert answer.args["text"] == "Paired with E-2026-3 by Anna Kovács" and answer.args["channel"] == CHANNEL
    assert "E-2026-3" in paired_numbers(engine)


async def test_a_role_without_pairing_rights_is_refused_and_nothing_changes(
    engine: Engine, workspace_id: int, members: dict[Role, int], clock: FakeClock, books: Books,
    http_bot: HttpBot, fake_slack: FakeSlack,
) -> None:  # fmt: skip
    await delivered(engine, workspace_id, http_bot, clock, books)
    _, buttons = question(fake_slack)
    before = paired_numbers(engine)

    operator = SLACK_USERS[Role.OPERATOR]
    await http_bot.post(interaction(block_actions(buttons["Pair with E-2026-2"], user=operator, channel=CHANNEL)))
    answer = (await fake_slack.wait_for("chat.postEphemeral"))[0]

    assert answer.args["text"] == "Sorry, your role (operator) may not do this."
    assert paired_numbers(engine) == before


async def test_a_forged_action_id_does_nothing(
    engine: Engine, workspace_id: int, members: dict[Role, int], http_bot: HttpBot, fake_slack: FakeSlack
) -> None:
    await http_bot.post(interaction(block_actions("forged-id-1234", user=SLACK_USERS[Role.OWNER])))

    answer = (await fake_slack.wait_for("chat.postEphemeral"))[0]
    assert answer.args["text"] == "This button no longer works."
    assert paired_numbers(engine) == []


async def test_the_slash_command_answers_help(
    workspace_id: int, members: dict[Role, int], http_bot: HttpBot, fake_slack: FakeSlack
) -> None:
    await http_bot.post(slash_command("help", user=SLACK_USERS[Role.OWNER], slack_url=http_bot.slack_url))

    answer = (await fake_slack.wait_for_response())[0]
    assert answer["response_type"] == "ephemeral" and answer["text"].startswith("Commands: status, unmatched")
