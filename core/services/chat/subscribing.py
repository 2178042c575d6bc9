"""Who is talking to the bot, and chats that subscribe themselves: ``/here``, Telegram ``/start <code>``.

The policy lives here: who may see bank data in a command's answer, who may point notifications at a
chat, and which chats get bank data (a private chat of a member allowed to see it; a shared channel
waits for the owner's word in the panel).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine
from sqlmodel import Session

from reconbot.core.persistence.chat_tables import Platform
from reconbot.core.persistence.database import session_scope
from reconbot.core.persistence.tables import WorkspaceRecord
from reconbot.core.roles import SETUP_ROLES, sees_bank_data
from reconbot.core.services.chat.setup import Channel, add_channel_in
from reconbot.core.services.people.members import Member, member_for_in, use_link_code_in


@dataclass(frozen=True, slots=True)
class Caller:
    """A chat account as the workspace knows it: ``member`` is None when the account is not linked.

    ``bank_data``: the member may see bank transactions and balances (answered privately);
    ``may_set_up``: the member may point notifications at a chat.
    """

    language: str
    workspace_name: str
    member: Member | None

    @property
    def bank_data(self) -> bool:
        return self.member is not None and sees_bank_data(self.member.role)

    @property
    def may_set_up(self) -> bool:
        return self.member is not None and self.member.role in SETUP_ROLES


def caller(engine: Engine, workspace_id: int, platform: Platform, user_id: str) -> Caller:
    """Return who the chat account is in the workspace ("en" and no name for an unknown workspace)."""
    with Session(engine) as session:
        workspace = session.get(WorkspaceRecord, workspace_id)
        member = member_for_in(session, workspace_id, platform, user_id)
    if workspace is None:
        return Caller("en", "", member)
    return Caller(workspace.language.value, workspace.name, member)


def subscribe_here(
    engine: Engine, workspace_id: int, platform: Platform, user_id: str, address: str, *, private: bool
) -> Channel | None:
    """Make the chat ``address`` a notification channel at the word of the member linked to ``user_id``; return
    the channel, None when that account's member may not set up chat (nothing changes then).

    A private chat of a member who may see bank data gets bank data; a shared chat keeps what the owner chose
    (none, for a new one). Raises SetupError for an empty address.
    """
    with session_scope(engine) as session:
        member = member_for_in(session, workspace_id, platform, user_id)
        if member is None or member.role not in SETUP_ROLES:
            return None
        bank_data = True if private and sees_bank_data(member.role) else None
        return add_channel_in(session, workspace_id, platform, address, actor=f"{platform.value}:{user_id}",
                              bank_data=bank_data, group=not private)  # fmt: skip


def link_chat(
    engine: Engine, workspace_id: int, code: str, platform: Platform, user_id: str, address: str, *, private: bool,
    now: datetime,
) -> Member:  # fmt: skip
    """Link ``user_id`` to the member the one-time ``code`` was issued for and, when the chat is private, make it
    a notification channel (with bank data if the member may see it), in one transaction; return the member.

    Raises SetupError for an unknown, used or expired code; nothing is linked then.
    """
    with session_scope(engine) as session:
        member = use_link_code_in(session, workspace_id, code, platform, user_id, now=now)
        if private:
            add_channel_in(session, workspace_id, platform, address, actor=f"{platform.value}:{user_id}",
                           name=member.name, bank_data=sees_bank_data(member.role), group=False)  # fmt: skip
        return member
