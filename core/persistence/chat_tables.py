"""Tables of the chat side: members and their chat identities, chat connections and channels,
every message sent (one row per event and channel, so nothing is sent twice), and the buttons' actions.

Same conventions as ``reconbot.core.persistence.tables`` (imported from there, so these are in ``metadata``).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Index, String, Text, UniqueConstraint
from sqlmodel import Field

from reconbot.core.persistence.tables import Record, _created_at
from reconbot.core.persistence.types import JSONDocument, StrEnumType, UTCDateTime
from reconbot.core.roles import Role


class Platform(StrEnum):
    SLACK = "slack"
    TELEGRAM = "telegram"


class MessageStatus(StrEnum):
    PENDING = "pending"  # to send (or, once sent, to edit: ``needs_edit``), from ``next_attempt_at``
    SENDING = "sending"  # claimed by a worker; an old claim is taken over
    SENT = "sent"
    DIGESTED = "digested"  # told as part of the digest ``digest_id``
    FAILED = "failed"  # refused for good (channel gone, bot removed): the channel shows the problem


class MemberRecord(Record, table=True):
    """A person of the workspace, with the role that decides what they see and may do."""

    __tablename__ = "member"
    __table_args__ = (UniqueConstraint("workspace_id", "name"),)

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id")
    name: str
    role: Role = Field(sa_type=StrEnumType(Role))
    email: str = ""
    # The login account that signs in to the panel as this member; None until they accept an invitation.
    account_id: int | None = Field(default=None, foreign_key="login_account.id", index=True)
    created_at: datetime = _created_at()
    removed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class ChatIdentityRecord(Record, table=True):
    """A member's account on a chat platform: the Slack user id or the Telegram user id."""

    __tablename__ = "chat_identity"
    __table_args__ = (UniqueConstraint("workspace_id", "platform", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id")
    member_id: int = Field(foreign_key="member.id", index=True)
    platform: Platform = Field(sa_type=StrEnumType(Platform))
    user_id: str
    created_at: datetime = _created_at()


class LinkCodeRecord(Record, table=True):
    """A one-time code that links the chat account that sends it (Telegram ``/start <code>``) to a member."""

    __tablename__ = "chat_link_code"

    code: str = Field(primary_key=True, sa_type=String(64))
    workspace_id: int = Field(foreign_key="workspace.id", index=True)
    member_id: int = Field(foreign_key="member.id", index=True)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    used_by: str | None = None
    created_at: datetime = _created_at()


class ChatConnectionRecord(Record, table=True):
    """A workspace's bot on one platform: sealed tokens (``reconbot.core.encryption``) and how it receives updates."""

    __tablename__ = "chat_connection"
    __table_args__ = (UniqueConstraint("workspace_id", "platform"),)

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id")
    platform: Platform = Field(sa_type=StrEnumType(Platform))
    # Slack: "socket" (default, no public address needed) or "http"; Telegram: "polling" or "webhook".
    mode: str
    credentials: str = Field(sa_type=Text)  # sealed JSON; never stored or logged in the clear
    bot_name: str = ""  # the Telegram bot's username (for deep links) or the Slack bot user
    created_at: datetime = _created_at()


class ChatChannelRecord(Record, table=True):
    """Where notifications go: a Slack channel or a Telegram chat.

    ``kinds`` limits the events sent there (empty: all); bank data (payments, unmatched
    transactions) goes only where ``bank_data`` is set, which the owner decides for shared
    channels and reconbot sets for a private chat with a member allowed to see it.
    """

    __tablename__ = "chat_channel"
    __table_args__ = (UniqueConstraint("workspace_id", "platform", "address"),)

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id")
    platform: Platform = Field(sa_type=StrEnumType(Platform))
    address: str  # Slack channel id, Telegram chat id
    name: str = ""
    kinds: list[str] = Field(default_factory=list, sa_type=JSONDocument)
    bank_data: bool = False
    group: bool = True  # a channel or group many read (Telegram paces those at 20 messages a minute)
    problem: str = Field(default="", sa_type=Text)  # why sending stopped ("" when fine)
    problem_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = _created_at()
    removed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class ChatMessageRecord(Record, table=True):
    """One message in one channel: an event told there, or a digest of many.

    (``channel_id``, ``event_id``) is unique, so routing an event twice can never make two
    messages; a digest's ``event_id`` is ``digest:<uuid>``. ``body`` is the neutral message
    (``reconbot.handlers.messages.Message``) as JSON; ``ref`` is the platform's id of the sent message
    (Slack ``ts``, Telegram message id), used to edit it after a button press.
    """

    __tablename__ = "chat_message"
    __table_args__ = (
        UniqueConstraint("channel_id", "event_id"),
        # The worker: "this channel's messages due now".
        Index("ix_chat_message_due", "status", "next_attempt_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id", index=True)
    channel_id: int = Field(foreign_key="chat_channel.id")
    event_id: str = Field(sa_type=String(64))
    kind: str  # the event's kind, or "digest"
    body: dict[str, Any] = Field(default_factory=dict, sa_type=JSONDocument)
    status: MessageStatus = Field(default=MessageStatus.PENDING, sa_type=StrEnumType(MessageStatus))
    needs_edit: bool = False  # sent, and its body changed since (a button was pressed)
    edits: int = 0  # how often the body changed: an edit finishing counts only if no newer change came meanwhile
    next_attempt_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    claimed_by: str | None = None
    claimed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    attempts: int = 0
    last_error: str = Field(default="", sa_type=Text)
    ref: str = ""
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    digest_id: int | None = Field(default=None, foreign_key="chat_message.id", index=True)
    created_at: datetime = _created_at()


class ChatActionRecord(Record, table=True):
    """What a button does, behind the opaque ``id`` its payload carries.

    Buttons of one message share a ``decision``: once one of them is done, every copy of
    every one of them answers "already done by X". ``subject`` holds the ids it acts on.
    """

    __tablename__ = "chat_action"
    __table_args__ = (Index("ix_chat_action_decision", "workspace_id", "decision"),)

    id: str = Field(primary_key=True, sa_type=String(32))
    workspace_id: int = Field(foreign_key="workspace.id")
    decision: str = Field(sa_type=String(80))
    event_id: str = Field(default="", sa_type=String(64))  # the message's event, whose copies are edited
    kind: str
    subject: dict[str, Any] = Field(default_factory=dict, sa_type=JSONDocument)
    done_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    done_by: str | None = None  # the member's name, as "already done by X" shows it
    outcome: str = Field(default="", sa_type=Text)
    prompt_ref: str = ""  # a Telegram "reply with the invoice number" prompt this action is waiting on
    created_at: datetime = _created_at()
