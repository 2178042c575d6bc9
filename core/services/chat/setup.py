"""Setting up chat: a workspace's bots (sealed tokens), the channels notifications go to.

Members, their roles and chat identities are in ``reconbot.core.services.people.members``.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from reconbot.core.encryption import seal, unseal
from reconbot.core.errors import SetupError
from reconbot.core.persistence.bulk import insert_unless_present
from reconbot.core.persistence.chat_tables import ChatChannelRecord, ChatConnectionRecord, Platform
from reconbot.core.persistence.database import session_scope
from reconbot.core.persistence.tables import utcnow
from reconbot.core.services.events import audit

# What each platform's bot needs, and the modes it can receive updates in (the first is the default).
REQUIRED: dict[Platform, dict[str, tuple[str, ...]]] = {
    Platform.SLACK: {"socket": ("bot_token", "app_token"), "http": ("bot_token", "signing_secret")},
    Platform.TELEGRAM: {"polling": ("bot_token",), "webhook": ("bot_token",)},
}
OPTIONAL: dict[Platform, tuple[str, ...]] = {
    Platform.SLACK: ("signing_secret", "app_token"),
    Platform.TELEGRAM: ("webhook_secret",),
}


@dataclass(frozen=True, slots=True)
class ChatConnection:
    """A workspace's bot on one platform, with its credentials unsealed (never log this)."""

    id: int
    workspace_id: int
    platform: Platform
    mode: str
    credentials: Mapping[str, str]
    bot_name: str

    def __repr__(self) -> str:  # keeps tokens out of logs and tracebacks
        return f"ChatConnection({self.id}, {self.platform.value}, {self.mode})"


def save_connection(
    engine: Engine, workspace_id: int, platform: Platform, mode: str, values: Mapping[str, str], *, actor: str,
    bot_name: str = "",
) -> dict[str, str]:  # fmt: skip
    """Store (or replace) the workspace's bot on ``platform``, its tokens sealed; return what was stored.

    A Telegram webhook gets a fresh ``webhook_secret`` (Telegram sends it back in
    ``X-Telegram-Bot-Api-Secret-Token``). Raises SetupError for an unknown mode or a missing token.
    """
    modes = REQUIRED[platform]
    if mode not in modes:
        raise SetupError(f"{platform.value}: mode must be one of {', '.join(modes)}, not {mode!r}")
    missing = [name for name in modes[mode] if not values.get(name, "").strip()]
    if missing:
        raise SetupError(f"{platform.value} in {mode} mode needs {', '.join(missing)}")
    allowed = {*modes[mode], *OPTIONAL[platform]}
    kept = {key: value.strip() for key, value in values.items() if key in allowed and value.strip()}
    if platform is Platform.TELEGRAM and mode == "webhook":
        kept.setdefault("webhook_secret", secrets.token_urlsafe(32))
    sealed = seal(kept)
    with session_scope(engine) as session:
        row = {"workspace_id": workspace_id, "platform": platform, "mode": mode, "credentials": sealed,
               "bot_name": bot_name, "created_at": utcnow()}  # fmt: skip
        if not insert_unless_present(session, ChatConnectionRecord, row, ["workspace_id", "platform"]):
            record = _connection(session, workspace_id, platform)
            assert record is not None
            record.mode, record.credentials = mode, sealed
            record.bot_name = bot_name or record.bot_name
        audit(session, workspace_id, actor, "chat_connection.set", "chat_connection", platform.value, mode=mode,
              fields=sorted(kept))  # fmt: skip
    return kept


def set_bot_name(engine: Engine, connection_id: int, bot_name: str) -> None:
    """Remember the bot's username as the platform reported it (Telegram deep links need it)."""
    with session_scope(engine) as session:
        record = session.get(ChatConnectionRecord, connection_id)
        if record is not None and record.bot_name != bot_name:
            record.bot_name = bot_name


def connections(engine: Engine, workspace_id: int | None = None) -> list[ChatConnection]:
    """Return the configured bots (of one workspace, or all), credentials unsealed."""
    with Session(engine) as session:
        query = select(ChatConnectionRecord).order_by(col(ChatConnectionRecord.id))
        if workspace_id is not None:
            query = query.where(col(ChatConnectionRecord.workspace_id) == workspace_id)
        return [
            ChatConnection(r.id, r.workspace_id, r.platform, r.mode, unseal(r.credentials), r.bot_name)
            for r in session.exec(query)
            if r.id is not None
        ]


def _connection(session: Session, workspace_id: int, platform: Platform) -> ChatConnectionRecord | None:
    query = select(ChatConnectionRecord).where(
        col(ChatConnectionRecord.workspace_id) == workspace_id, col(ChatConnectionRecord.platform) == platform
    )
    return session.exec(query).first()


@dataclass(frozen=True, slots=True)
class Channel:
    """A place notifications go to: ``kinds`` limits the events (empty: all), ``problem`` is why sending stopped."""

    id: int
    workspace_id: int
    platform: Platform
    address: str
    name: str
    kinds: tuple[str, ...]
    bank_data: bool
    group: bool
    problem: str


def _channel(record: ChatChannelRecord) -> Channel:
    assert record.id is not None
    return Channel(record.id, record.workspace_id, record.platform, record.address, record.name,
                   tuple(record.kinds), record.bank_data, record.group, record.problem)  # fmt: skip


def add_channel(
    engine: Engine, workspace_id: int, platform: Platform, address: str, *, actor: str, name: str = "",
    bank_data: bool | None = None, group: bool = True, kinds: list[str] | None = None,
) -> Channel:  # fmt: skip
    """Send notifications to ``address`` from now on (again, if it was removed); return the channel.

    An existing channel keeps its settings except those given (``bank_data`` None: unchanged, and off
    for a new channel); its problem is cleared, since adding it again is how a person says "the bot
    is back in the channel". Raises SetupError for an empty address.
    """
    with session_scope(engine) as session:
        return add_channel_in(session, workspace_id, platform, address, actor=actor, name=name, bank_data=bank_data,
                              group=group, kinds=kinds)  # fmt: skip


def add_channel_in(
    session: Session, workspace_id: int, platform: Platform, address: str, *, actor: str, name: str = "",
    bank_data: bool | None = None, group: bool = True, kinds: list[str] | None = None,
) -> Channel:  # fmt: skip
    """``add_channel`` inside the caller's transaction."""
    address = address.strip()
    if not address:
        raise SetupError(f"{platform.value}: a channel or chat id is required")
    row = {"workspace_id": workspace_id, "platform": platform, "address": address, "name": name,
           "kinds": kinds or [], "bank_data": bool(bank_data), "group": group, "problem": "",
           "created_at": utcnow()}  # fmt: skip
    inserted = insert_unless_present(session, ChatChannelRecord, row, ["workspace_id", "platform", "address"])
    record = _find_channel(session, workspace_id, platform, address)
    assert record is not None and record.id is not None
    if not inserted:
        record.removed_at, record.problem, record.problem_at = None, "", None
        record.name = name or record.name
        record.group = group
        if bank_data is not None:
            record.bank_data = bank_data
        if kinds is not None:
            record.kinds = kinds
    audit(session, workspace_id, actor, "chat_channel.added", "chat_channel", record.id, platform=platform.value,
          address=address, bank_data=record.bank_data, kinds=record.kinds)  # fmt: skip
    return _channel(record)


def remove_channel(engine: Engine, workspace_id: int, channel_id: int, *, actor: str) -> None:
    """Stop sending to the channel (its message history stays). Raises SetupError for an unknown channel."""
    with session_scope(engine) as session:
        record = session.get(ChatChannelRecord, channel_id)
        if record is None or record.workspace_id != workspace_id or record.removed_at is not None:
            raise SetupError(f"there is no channel {channel_id}")
        record.removed_at = utcnow()
        audit(session, workspace_id, actor, "chat_channel.removed", "chat_channel", channel_id)


def _find_channel(session: Session, workspace_id: int, platform: Platform, address: str) -> ChatChannelRecord | None:
    query = select(ChatChannelRecord).where(
        col(ChatChannelRecord.workspace_id) == workspace_id,
        col(ChatChannelRecord.platform) == platform,
        col(ChatChannelRecord.address) == address,
    )
    return session.exec(query).first()


def channels(engine: Engine, workspace_id: int) -> list[Channel]:
    """Return the workspace's channels notifications go to (not removed), oldest first."""
    with Session(engine) as session:
        return channels_in(session, workspace_id)


def channels_in(session: Session, workspace_id: int) -> list[Channel]:
    """``channels`` inside the caller's transaction."""
    query = select(ChatChannelRecord).where(
        col(ChatChannelRecord.workspace_id) == workspace_id, col(ChatChannelRecord.removed_at).is_(None)
    )
    return [_channel(r) for r in session.exec(query.order_by(col(ChatChannelRecord.id)))]
