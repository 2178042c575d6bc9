"""``/reconbot status|unmatched|paid <number>|balance|here`` (Telegram ``/status`` …), whatever the platform.

Bank data (unmatched transactions, balances, who paid) is answered only to roles that may see it, and
always privately (``Reply.private``: Slack answers ephemerally, Telegram in the private chat).
"""

from __future__ import annotations

from sqlmodel import Session

from reconbot.core.errors import SetupError
from reconbot.core.persistence.database import session_scope
from reconbot.core.persistence.tables import WorkspaceRecord
from reconbot.core.roles import SETUP_ROLES, sees_bank_data
from reconbot.core.services.chat.setup import add_channel_in
from reconbot.core.services.people.members import Member, member_for_in, use_link_code_in
from reconbot.handlers.actions import language_of
from reconbot.handlers.context import Chat, ChatUser, Place
from reconbot.handlers.listing import balances, invoice_paid, status, unmatched_list
from reconbot.handlers.messages import Message, Reply
from reconbot.handlers.texts import text

COMMANDS = ("status", "unmatched", "paid", "balance", "here", "help")


async def run_command(chat: Chat, user: ChatUser, place: Place, text_: str) -> Reply:
    """Answer the command ``text_`` (``"paid E-2026-12"``; empty text shows help) for ``user`` at ``place``."""
    name, _, args = text_.strip().partition(" ")
    name = name.lstrip("/").split("@")[0].lower()
    with Session(chat.engine) as session:
        language = language_of(session, chat.workspace_id)
        member = member_for_in(session, chat.workspace_id, user.platform, user.user_id)
    if name in ("", "help", "start"):
        return Reply.say(text(language, "help"))
    if name not in COMMANDS:
        return Reply.say(text(language, "unknown_command", command=name[:40]) + "\n" + text(language, "help"))
    if member is None:
        return Reply.say(text(language, "not_linked"))
    bank = sees_bank_data(member.role)
    if name == "status":
        return Reply(message=status(chat, language, bank_data=bank), private=bank)
    if name == "paid":
        if not args.strip():
            return Reply.say(text(language, "paid.usage"))
        return Reply(message=invoice_paid(chat, language, args, bank_data=bank), private=bank)
    if name == "here":
        return _here(chat, user, place, member, language)
    if not bank:
        return Reply.say(text(language, "refused", role=member.role.value))
    if name == "unmatched":
        return Reply(message=unmatched_list(chat, language), private=True)
    return Reply(message=balances(chat, language), private=True)


def _here(chat: Chat, user: ChatUser, place: Place, member: Member, language: str) -> Reply:
    if member.role not in SETUP_ROLES:
        return Reply.say(text(language, "refused", role=member.role.value))
    with session_scope(chat.engine) as session:
        # Bank data goes to a private chat of a member who may see it; a shared channel waits for the owner's word.
        add_channel_in(session, chat.workspace_id, place.platform, place.address, actor=user.actor,
                    bank_data=True if place.private and sees_bank_data(member.role) else None,
                    group=not place.private)  # fmt: skip
    lines = () if place.private else (text(language, "here.bank"),)
    return Reply(message=Message(title=text(language, "here.done"), lines=lines))


async def start(chat: Chat, user: ChatUser, place: Place, code: str) -> Reply:
    """Telegram ``/start <code>``: link the user to the member the code was issued for, and make their private
    chat a notification channel; an empty code greets."""
    with Session(chat.engine) as session:
        language = language_of(session, chat.workspace_id)
        workspace = session.get(WorkspaceRecord, chat.workspace_id)
        workspace_name = workspace.name if workspace else ""
    if not code.strip():
        return Reply.say(text(language, "start.hello"))
    try:
        with session_scope(chat.engine) as session:
            member = use_link_code_in(session, chat.workspace_id, code, user.platform, user.user_id, now=chat.clock())
            if place.private:
                add_channel_in(session, chat.workspace_id, place.platform, place.address, actor=user.actor,
                            name=member.name, bank_data=sees_bank_data(member.role), group=False)  # fmt: skip
    except SetupError as exc:
        return Reply.say(str(exc))
    return Reply.say(text(language, "start.linked", name=member.name, role=member.role.value, workspace=workspace_name))
