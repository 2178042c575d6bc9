"""What a button press answers, whatever platform it came from.

``reconbot.core.services.chat.presses`` decides a press (the action is this workspace's, the presser a
linked member whose role allows it, the decision not done yet), does it and records the message edits,
in one transaction. Here its neutral result becomes the ``Reply``, and ``render_press`` (pure) words what
was done and the message's next body, so a forged, replayed or second press (on any copy) only answers.
"""

from __future__ import annotations

from typing import Any

from reconbot.core.services.chat import actions as chat_actions
from reconbot.core.services.chat import presses
from reconbot.core.services.chat.actions import NewAction
from reconbot.core.services.chat.presses import Deed, Presser, PressResult, PressStatus, Rendered
from reconbot.handlers.context import Chat, ChatUser
from reconbot.handlers.listing import unmatched_list
from reconbot.handlers.messages import Button, Message, Reply
from reconbot.handlers.notifications import unmatched_message
from reconbot.handlers.texts import text


async def press(chat: Chat, user: ChatUser, action_id: str) -> Reply:
    """Do the action behind the opaque ``action_id`` for ``user``, once; return what to answer."""
    result = await presses.press(chat.engine, chat.workspace_id, _presser(user), action_id, render_press,
                                 now=chat.clock(), sources=chat.invoicing(), feeds=chat.feeds)  # fmt: skip
    language = result.language
    if result.status is PressStatus.DONE:
        chat.wake()  # the copies' edits wait in the queue; the worker sends them now, not at its next poll
        return Reply(toast=result.outcome[:200])
    if result.status is PressStatus.ASK_NUMBER:
        return Reply(toast=text(language, "ask_number"), ask_number=action_id)
    if result.status is PressStatus.SHOW_ALL:
        return Reply(message=unmatched_list(chat, language, limit=30), private=True)
    if result.status is PressStatus.RENEW and result.renewal is not None:
        title = text(language, "renew.title", bank=result.renewal.bank)
        message = Message(title=title, lines=(text(language, "renew.line"),),
                          buttons=(Button(text(language, "button.open_bank"), url=result.renewal.url),))  # fmt: skip
        return Reply(message=message, private=True, toast=title[:200])
    return Reply(toast=_refusal(result)[:200])


async def answer_number(chat: Chat, user: ChatUser, action_id: str, number: str) -> Reply:
    """Pair the transaction of a "Find invoice…" action with the invoice ``number`` the user typed; return the
    answer (the pairing, or why not)."""
    result = presses.answer_number(chat.engine, chat.workspace_id, _presser(user), action_id, number, render_press,
                                   now=chat.clock())  # fmt: skip
    if result.status is PressStatus.DONE:
        chat.wake()
        return Reply.say(result.outcome)
    if result.status is PressStatus.NO_INVOICE:
        return Reply.say(text(result.language, "paid.unknown", number=number.strip()[:60]))
    return Reply.say(_refusal(result))


def remember_prompt(chat: Chat, action_id: str, ref: str) -> None:
    """Remember that the prompt message ``ref`` (Telegram ``"<chat id>:<message id>"``) asks for ``action_id``."""
    chat_actions.remember_prompt(chat.engine, chat.workspace_id, action_id, ref)


def prompt_action(chat: Chat, ref: str) -> str | None:
    """Return the action id the prompt message ``ref`` asked a number for, or None."""
    return chat_actions.prompt_action(chat.engine, chat.workspace_id, ref)


def _presser(user: ChatUser) -> Presser:
    return Presser(user.platform, user.user_id)


def _refusal(result: PressResult) -> str:
    """Return the sentence telling why a press did nothing."""
    language = result.language
    if result.status is PressStatus.NOT_LINKED:
        return text(language, "not_linked")
    if result.status is PressStatus.REFUSED and result.role is not None:
        return text(language, "refused", role=result.role.value)
    if result.status is PressStatus.ALREADY_DONE:
        return text(language, "already_done", who=result.who or "?", outcome=result.outcome)
    if result.status is PressStatus.FAILED:
        return text(language, "action.failed", error=result.error)
    return text(language, "action.unknown")


_OUTCOMES = {"ignore": "done.ignored", "undo": "done.undone", "send_again": "done.send_again"}


def render_press(deed: Deed, body: dict[str, Any] | None, new_action: NewAction) -> Rendered:
    """Return the outcome of ``deed`` and the next body of its message (None when it has no copies): the outcome
    as its note, an Undo button after a pairing, the question asked again after an undo, no buttons otherwise."""
    language, who = deed.language, deed.who
    if deed.kind == "pair":
        outcome = text(language, "done.paired", numbers=", ".join(deed.numbers), who=who)
    elif deed.kind == "retry":
        outcome = text(language, "done.retry_queued", who=who, number=deed.document)
    elif deed.kind in ("final", "sale"):
        outcome = text(language, f"done.{deed.kind}", number=deed.document, who=who)
    else:
        outcome = text(language, _OUTCOMES[deed.kind], who=who)
    if body is None:
        return Rendered(outcome, None)
    base = Message.from_json(body)
    if deed.kind == "undo" and deed.question is not None:
        asked = unmatched_message(deed.question, language, new_action)
        return Rendered(outcome, Message(asked.title, asked.fields, asked.lines, outcome, asked.buttons).to_json())
    buttons: tuple[Button, ...] = ()
    if deed.kind == "pair":
        undo = new_action("undo", {"transaction_id": deed.subject["transaction_id"]})
        buttons = (Button(text(language, "button.undo"), action=undo),)
    return Rendered(outcome, Message(base.title, base.fields, base.lines, outcome, buttons).to_json())
