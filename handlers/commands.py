"""``/reconbot status|unmatched|paid <number>|balance|here`` (Telegram ``/status`` …), whatever the platform.

Bank data (unmatched transactions, balances, who paid) is answered only to roles that may see it
(``Caller.bank_data``, decided in the service), and always privately (``Reply.private``: Slack answers
ephemerally, Telegram in the private chat).
"""

from __future__ import annotations

from reconbot.core.errors import SetupError
from reconbot.core.roles import Role
from reconbot.core.services.chat.subscribing import Caller, caller, link_chat, subscribe_here
from reconbot.handlers.context import Chat, ChatUser, Place
from reconbot.handlers.listing import balances, invoice_paid, status, unmatched_list
from reconbot.handlers.messages import Message, Reply
from reconbot.handlers.texts import text

COMMANDS = ("status", "unmatched", "paid", "balance", "here", "help")


async def run_command(chat: Chat, user: ChatUser, place: Place, text_: str) -> Reply:
    """Answer the command ``text_`` (``"paid E-2026-12"``; empty text shows help) for ``user`` at ``place``."""
    name, _, args = text_.strip().partition(" ")
    name = name.lstrip("/").split("@")[0].lower()
    who = caller(chat.engine, chat.workspace_id, user.platform, user.user_id)
    language = who.language
    if name in ("", "help", "start"):
        return Reply.say(text(language, "help"))
    if name not in COMMANDS:
        return Reply.say(text(language, "unknown_command", command=name[:40]) + "\n" + text(language, "help"))
    if who.member is None:
        return Reply.say(text(language, "not_linked"))
    bank = who.bank_data
    if name == "status":
        return Reply(message=status(chat, language, bank_data=bank), private=bank)
    if name == "paid":
        if not args.strip():
            return Reply.say(text(language, "paid.usage"))
        return Reply(message=invoice_paid(chat, language, args, bank_data=bank), private=bank)
    if name == "here":
        return _here(chat, user, place, who, who.member.role)
    if not bank:
        return Reply.say(text(language, "refused", role=who.member.role.value))
    if name == "unmatched":
        return Reply(message=unmatched_list(chat, language), private=True)
    return Reply(message=balances(chat, language), private=True)


def _here(chat: Chat, user: ChatUser, place: Place, who: Caller, role: Role) -> Reply:
    refused = Reply.say(text(who.language, "refused", role=role.value))
    if not who.may_set_up:
        return refused
    channel = subscribe_here(chat.engine, chat.workspace_id, user.platform, user.user_id, place.address,
                             private=place.private)  # fmt: skip
    if channel is None:  # the role changed since the question above
        return refused
    lines = () if place.private else (text(who.language, "here.bank"),)
    return Reply(message=Message(title=text(who.language, "here.done"), lines=lines))


async def start(chat: Chat, user: ChatUser, place: Place, code: str) -> Reply:
    """Telegram ``/start <code>``: link the user to the member the code was issued for, and make their private
    chat a notification channel; an empty code greets."""
    who = caller(chat.engine, chat.workspace_id, user.platform, user.user_id)
    if not code.strip():
        return Reply.say(text(who.language, "start.hello"))
    try:
        member = link_chat(chat.engine, chat.workspace_id, code, user.platform, user.user_id, place.address,
                           private=place.private, now=chat.clock())  # fmt: skip
    except SetupError as exc:
        return Reply.say(str(exc))
    return Reply.say(text(who.language, "start.linked", name=member.name, role=member.role.value,
                          workspace=who.workspace_name))  # fmt: skip
