"""Workspace members, their roles, and the chat accounts linked to them.

Each public function is one database transaction; the ``*_in`` ones work inside a caller's
(another service's) transaction.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from reconbot.core.errors import SetupError
from reconbot.core.persistence.account_tables import MemberInviteRecord
from reconbot.core.persistence.bulk import insert_unless_present
from reconbot.core.persistence.chat_tables import (
    ChatChannelRecord,
    ChatIdentityRecord,
    LinkCodeRecord,
    MemberRecord,
    Platform,
)
from reconbot.core.persistence.database import session_scope
from reconbot.core.persistence.tables import utcnow
from reconbot.core.roles import Role, sees_bank_data
from reconbot.core.services.events import audit

LINK_CODE_LIFETIME = timedelta(days=2)


@dataclass(frozen=True, slots=True)
class Member:
    id: int
    workspace_id: int
    name: str
    role: Role


def _member(record: MemberRecord) -> Member:
    assert record.id is not None
    return Member(record.id, record.workspace_id, record.name, record.role)


def add_member(
    engine: Engine, workspace_id: int, name: str, role: Role, *, actor: str, email: str = "", slack_user: str = ""
) -> Member:
    """Add a member (or give a removed one back their place) with ``role``, linked to ``slack_user`` when given;
    return them. Raises SetupError for an empty name or a name already in use by a current member."""
    with session_scope(engine) as session:
        member = add_member_in(session, workspace_id, name, role, actor=actor, email=email)
        if slack_user:
            _link_identity_in(session, workspace_id, member.id, Platform.SLACK, slack_user, actor=actor)
        return member


def add_member_in(session: Session, workspace_id: int, name: str, role: Role, *, actor: str, email: str = "") -> Member:
    """``add_member`` inside the caller's transaction."""
    name = " ".join(name.split())
    if not name:
        raise SetupError("a member needs a name")
    row = {"workspace_id": workspace_id, "name": name, "role": role, "email": email, "created_at": utcnow()}
    inserted = insert_unless_present(session, MemberRecord, row, ["workspace_id", "name"])
    record = _by_name(session, workspace_id, name)
    assert record is not None
    if not inserted:
        if record.removed_at is None:
            raise SetupError(f"there is already a member called {name!r}")
        # A new person under an old name: the old login account and any old invitation must not come back.
        record.removed_at, record.role, record.email, record.account_id = None, role, email, None
        _withdraw_invitations(session, record.id)
    audit(session, workspace_id, actor, "member.added", "member", record.id, name=name, role=role.value)
    return _member(record)


def set_role(
    engine: Engine, workspace_id: int, member_id: int, role: Role, *, actor: str, acting: Role | None = None
) -> Member:
    """Change a member's role; return them. ``acting`` is the role of the person asking (None: the server's
    operator), held to ``check_owner_rule``. Raises SetupError for an unknown member, a refused owner change, or
    removing the last owner."""
    with session_scope(engine) as session:
        record = _current(session, workspace_id, member_id)
        if acting is not None:
            check_owner_rule(acting, role, record.role)
        return _set_role(session, workspace_id, member_id, role, actor=actor)


def _set_role(session: Session, workspace_id: int, member_id: int, role: Role, *, actor: str) -> Member:
    record = _current(session, workspace_id, member_id)
    if record.role is Role.OWNER and role is not Role.OWNER:
        _keep_an_owner(session, workspace_id, member_id)
    before, record.role = record.role, role
    _private_chats_follow(session, workspace_id, member_id, bank_data=sees_bank_data(role))
    audit(session, workspace_id, actor, "member.role_set", "member", member_id, role=role.value, was=before.value)
    return _member(record)


def remove_member(
    engine: Engine, workspace_id: int, member_id: int, *, actor: str, acting: Role | None = None
) -> Member:
    """Remove a member (their chat accounts are unlinked at once); return who was removed.

    Raises SetupError as ``set_role`` does."""
    with session_scope(engine) as session:
        if acting is not None:
            check_owner_rule(acting, _current(session, workspace_id, member_id).role)
        return _remove_member(session, workspace_id, member_id, actor=actor)


def _remove_member(session: Session, workspace_id: int, member_id: int, *, actor: str) -> Member:
    record = _current(session, workspace_id, member_id)
    if record.role is Role.OWNER:
        _keep_an_owner(session, workspace_id, member_id)
    record.removed_at = utcnow()
    _withdraw_invitations(session, member_id)
    _private_chats_follow(session, workspace_id, member_id, bank_data=False, removed=True)
    for identity in session.exec(select(ChatIdentityRecord).where(col(ChatIdentityRecord.member_id) == member_id)):
        session.delete(identity)
    audit(session, workspace_id, actor, "member.removed", "member", member_id, name=record.name)
    return _member(record)


def members(engine: Engine, workspace_id: int) -> list[Member]:
    """Return the workspace's current members, by name."""
    query = select(MemberRecord).where(
        col(MemberRecord.workspace_id) == workspace_id, col(MemberRecord.removed_at).is_(None)
    )
    with Session(engine) as session:
        return [_member(r) for r in session.exec(query.order_by(col(MemberRecord.name)))]


@dataclass(frozen=True, slots=True)
class RosterEntry:
    """A current member as the members page lists them: ``signed_in`` once they accepted an invitation,
    ``identities`` their linked chat accounts as ``platform:user id``."""

    id: int
    name: str
    email: str
    role: Role
    signed_in: bool
    identities: tuple[str, ...]


def roster(engine: Engine, workspace_id: int) -> list[RosterEntry]:
    """Return the workspace's current members, by name, with their sign-in and chat accounts."""
    with Session(engine) as session:
        return _roster(session, workspace_id)


def _roster(session: Session, workspace_id: int) -> list[RosterEntry]:
    query = select(MemberRecord).where(
        col(MemberRecord.workspace_id) == workspace_id, col(MemberRecord.removed_at).is_(None)
    )
    linked: dict[int, list[str]] = {}
    identities = select(ChatIdentityRecord).where(col(ChatIdentityRecord.workspace_id) == workspace_id)
    for identity in session.exec(identities.order_by(col(ChatIdentityRecord.id))):
        linked.setdefault(identity.member_id, []).append(f"{identity.platform.value}:{identity.user_id}")
    return [
        RosterEntry(r.id, r.name, r.email, r.role, r.account_id is not None, tuple(linked.get(r.id, ())))
        for r in session.exec(query.order_by(col(MemberRecord.name)))
        if r.id is not None
    ]


def check_owner_rule(acting: Role, *touched: Role) -> None:
    """Raise SetupError unless ``acting`` may touch the roles ``touched`` (the role given, changed or removed):
    only an owner makes owners or changes or removes one, so an admin cannot take the workspace over."""
    if acting is not Role.OWNER and Role.OWNER in touched:
        raise SetupError("only an owner may make someone an owner, or change or remove an owner")


def member_by_id(engine: Engine, workspace_id: int, member_id: int) -> Member:
    """Return the current member ``member_id`` of the workspace. Raises SetupError when there is none."""
    with Session(engine) as session:
        return _member(_current(session, workspace_id, member_id))


def find_member(engine: Engine, workspace_id: int, reference: str) -> Member:
    """Return the current member named ``reference`` (or with that id). Raises SetupError when there is none."""
    with Session(engine) as session:
        return _find_member(session, workspace_id, reference)


def _find_member(session: Session, workspace_id: int, reference: str) -> Member:
    record = _by_name(session, workspace_id, " ".join(reference.split()))
    if record is None and reference.isdigit():
        record = session.get(MemberRecord, int(reference))
    if record is None or record.workspace_id != workspace_id or record.removed_at is not None:
        raise SetupError(f"there is no member {reference!r}")
    return _member(record)


def link_identity(
    engine: Engine, workspace_id: int, member_id: int, platform: Platform, user_id: str, *, actor: str
) -> Member:
    """Link a chat account to a member (moving it from anyone it was linked to); return the member.

    Raises SetupError for an unknown member or an empty user id."""
    with session_scope(engine) as session:
        _link_identity_in(session, workspace_id, member_id, platform, user_id, actor=actor)
        return _member(_current(session, workspace_id, member_id))


def _link_identity_in(
    session: Session, workspace_id: int, member_id: int, platform: Platform, user_id: str, *, actor: str
) -> None:
    """``link_identity`` inside the caller's transaction."""
    _current(session, workspace_id, member_id)
    user_id = user_id.strip()
    if not user_id:
        raise SetupError(f"a {platform.value} user id is required")
    existing = _identity(session, workspace_id, platform, user_id)
    if existing is None:
        session.add(ChatIdentityRecord(workspace_id=workspace_id, member_id=member_id, platform=platform,
                                       user_id=user_id))  # fmt: skip
    else:
        existing.member_id = member_id
    audit(session, workspace_id, actor, "member.chat_linked", "member", member_id, platform=platform.value,
          user_id=user_id)  # fmt: skip


def member_for_in(session: Session, workspace_id: int, platform: Platform, user_id: str) -> Member | None:
    """Return the current member a chat account is linked to (None when it is linked to nobody current)."""
    identity = _identity(session, workspace_id, platform, user_id)
    if identity is None:
        return None
    record = session.get(MemberRecord, identity.member_id)
    return _member(record) if record is not None and record.removed_at is None else None


def issue_link_code(engine: Engine, workspace_id: int, member_id: int, *, actor: str, now: datetime) -> str:
    """Return a fresh one-time code that links the chat account sending it to the member (valid two days).

    Raises SetupError for an unknown member."""
    with session_scope(engine) as session:
        return _issue_link_code(session, workspace_id, member_id, actor=actor, now=now)


def _issue_link_code(session: Session, workspace_id: int, member_id: int, *, actor: str, now: datetime) -> str:
    _current(session, workspace_id, member_id)
    code = secrets.token_urlsafe(18)  # 24 characters of [A-Za-z0-9_-], as Telegram's start parameter allows
    session.add(LinkCodeRecord(code=code, workspace_id=workspace_id, member_id=member_id,
                               expires_at=now + LINK_CODE_LIFETIME))  # fmt: skip
    audit(session, workspace_id, actor, "member.link_code_issued", "member", member_id)
    return code


def use_link_code_in(
    session: Session, workspace_id: int, code: str, platform: Platform, user_id: str, *, now: datetime
) -> Member:
    """Link ``user_id`` to the member the code was issued for, once, in the caller's transaction; return the member.

    Raises SetupError for an unknown, used or expired code.
    """
    record = session.get(LinkCodeRecord, code.strip())
    if record is None or record.workspace_id != workspace_id:
        raise SetupError("this link is not valid; ask the workspace owner for a new one")
    if record.used_at is not None:
        raise SetupError("this link was already used; ask the workspace owner for a new one")
    if record.expires_at <= now:
        raise SetupError("this link has expired; ask the workspace owner for a new one")
    record.used_at, record.used_by = now, f"{platform.value}:{user_id}"
    _link_identity_in(session, workspace_id, record.member_id, platform, user_id, actor=f"{platform.value}:{user_id}")
    member = session.get(MemberRecord, record.member_id)
    assert member is not None
    return _member(member)


def _private_chats_follow(
    session: Session, workspace_id: int, member_id: int, *, bank_data: bool, removed: bool = False
) -> None:
    """Keep a member's private chats (a Telegram private chat's id is the user's id) in line with their role:
    a member who may no longer see bank data stops getting it there at once."""
    query = select(ChatIdentityRecord.user_id).where(
        col(ChatIdentityRecord.member_id) == member_id, col(ChatIdentityRecord.platform) == Platform.TELEGRAM
    )
    addresses = list(session.exec(query))
    if not addresses:
        return
    chats = select(ChatChannelRecord).where(
        col(ChatChannelRecord.workspace_id) == workspace_id,
        col(ChatChannelRecord.platform) == Platform.TELEGRAM,
        col(ChatChannelRecord.address).in_(addresses),
        col(ChatChannelRecord.group).is_(False),
    )
    for channel in session.exec(chats):
        channel.bank_data = bank_data
        if removed:
            channel.removed_at = utcnow()


def _by_name(session: Session, workspace_id: int, name: str) -> MemberRecord | None:
    query = select(MemberRecord).where(col(MemberRecord.workspace_id) == workspace_id, col(MemberRecord.name) == name)
    return session.exec(query).first()


def _withdraw_invitations(session: Session, member_id: int | None) -> None:
    # An unused sign-in link of a removed member must not let anyone in later.
    query = select(MemberInviteRecord).where(
        col(MemberInviteRecord.member_id) == member_id, col(MemberInviteRecord.used_at).is_(None)
    )
    for invitation in session.exec(query):
        invitation.used_at = utcnow()


def _current(session: Session, workspace_id: int, member_id: int) -> MemberRecord:
    record = session.get(MemberRecord, member_id)
    if record is None or record.workspace_id != workspace_id or record.removed_at is not None:
        raise SetupError(f"there is no member {member_id}")
    return record


def _identity(session: Session, workspace_id: int, platform: Platform, user_id: str) -> ChatIdentityRecord | None:
    query = select(ChatIdentityRecord).where(
        col(ChatIdentityRecord.workspace_id) == workspace_id,
        col(ChatIdentityRecord.platform) == platform,
        col(ChatIdentityRecord.user_id) == user_id,
    )
    return session.exec(query).first()


def _keep_an_owner(session: Session, workspace_id: int, member_id: int) -> None:
    query = select(MemberRecord.id).where(
        col(MemberRecord.workspace_id) == workspace_id,
        col(MemberRecord.role) == Role.OWNER,
        col(MemberRecord.removed_at).is_(None),
        col(MemberRecord.id) != member_id,
    )
    if session.exec(query).first() is None:
        raise SetupError("a workspace needs an owner: make someone else owner first")
