"""Invitations: one use, a limited life, withdrawn with their member, and owners' links only for owners."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from reconbot.core.errors import SetupError
from reconbot.core.persistence.account_tables import LoginAccountRecord, LoginAttemptRecord, MemberInviteRecord
from reconbot.core.persistence.chat_tables import MemberRecord
from reconbot.core.roles import Role
from reconbot.core.services.people.invitations import INVITE_LIFETIME, accept_invite, invitation, invite, reinvite
from reconbot.core.services.people.members import add_member, remove_member
from reconbot.core.services.people.sessions import memberships, token_hash
from reconbot.core.services.people.sign_in import LoginRefused, authenticate
from reconbot.core.services.workspaces import open_workspace
from tests.support.people import NOW, PASSWORD


def _kert(engine: Engine, owner: int) -> int:
    return memberships(engine, owner)[0].workspace_id


def test_an_invitation_is_used_once_and_only_within_its_lifetime(engine: Engine, owner: int) -> None:
    kert = _kert(engine, owner)
    _, token = invite(engine, kert, "Béla", " Bela@Kert.test ", Role.ACCOUNTANT, actor="t", now=NOW)
    found = invitation(engine, token, now=NOW)
    assert (found.workspace_id, found.member_name, found.email) == (kert, "Béla", "bela@kert.test")
    assert not found.has_account
    with pytest.raises(SetupError, match="not valid"):
        invitation(engine, token, now=NOW + INVITE_LIFETIME)
    bela = accept_invite(engine, token, PASSWORD, now=NOW + INVITE_LIFETIME - timedelta(minutes=1))
    assert authenticate(engine, "bela@kert.test", PASSWORD, address="10.0.0.1", now=NOW) == bela
    with pytest.raises(SetupError, match="not valid"):
        accept_invite(engine, token, "another long password", now=NOW)
    with Session(engine) as session:  # only the token's digest is kept
        stored = session.exec(select(MemberInviteRecord.token_hash)).all()
    assert stored == [token_hash(token)]


def test_a_refused_acceptance_leaves_the_invitation_unused(engine: Engine, owner: int) -> None:
    _, token = invite(engine, _kert(engine, owner), "Béla", "bela@kert.test", Role.ACCOUNTANT, actor="t", now=NOW)
    with pytest.raises(SetupError, match="at least 10 characters"):
        accept_invite(engine, token, "short", now=NOW)
    with Session(engine) as session:
        assert session.exec(select(LoginAccountRecord.email)).all() == ["anna@kert.test"]
    assert invitation(engine, token, now=NOW).member_name == "Béla"
    assert accept_invite(engine, token, PASSWORD, now=NOW) > owner


def test_a_removed_members_invitation_is_withdrawn(engine: Engine, owner: int) -> None:
    kert = _kert(engine, owner)
    member_id, token = invite(engine, kert, "Béla", "bela@kert.test", Role.ACCOUNTANT, actor="t", now=NOW)
    remove_member(engine, kert, member_id, actor="t")
    with pytest.raises(SetupError, match="not valid"):
        accept_invite(engine, token, PASSWORD, now=NOW)
    with Session(engine) as session:
        assert session.exec(select(MemberRecord.account_id).where(col(MemberRecord.id) == member_id)).one() is None


def test_one_email_is_one_member_of_a_workspace(engine: Engine, owner: int) -> None:
    with pytest.raises(SetupError, match="already belongs to the member Anna"):
        invite(engine, _kert(engine, owner), "Anna K", "ANNA@kert.test", Role.ADMIN, actor="t", now=NOW)


def test_only_an_owner_invites_an_owner_or_gets_an_owners_sign_in_link(engine: Engine, owner: int) -> None:
    kert = _kert(engine, owner)
    with pytest.raises(SetupError, match="only an owner"):
        invite(engine, kert, "Eve", "eve@kert.test", Role.OWNER, actor="web:ada", now=NOW, acting=Role.ADMIN)
    with Session(engine) as session:
        assert session.exec(select(MemberRecord).where(col(MemberRecord.name) == "Eve")).first() is None
    # An owner invites a second owner, who has not signed in yet: whoever holds a fresh link would be them.
    cecil, _ = invite(engine, kert, "Cecil", "cecil@kert.test", Role.OWNER, actor="web:anna", now=NOW,
                      acting=Role.OWNER)  # fmt: skip
    with pytest.raises(SetupError, match="only an owner"):
        reinvite(engine, kert, cecil, actor="web:ada", now=NOW, acting=Role.ADMIN)
    with Session(engine) as session:
        links = session.exec(select(MemberInviteRecord).where(col(MemberInviteRecord.member_id) == cecil)).all()
    assert len(links) == 1
    fresh = reinvite(engine, kert, cecil, actor="web:anna", now=NOW, acting=Role.OWNER)
    assert invitation(engine, fresh, now=NOW).member_name == "Cecil"
    assert reinvite(engine, kert, cecil, actor="cli:operator", now=NOW)  # the server's operator may


def test_no_sign_in_link_for_a_member_who_signs_in_or_has_no_email(engine: Engine, owner: int) -> None:
    kert = _kert(engine, owner)
    with Session(engine) as session:
        anna = session.exec(select(MemberRecord.id).where(col(MemberRecord.account_id) == owner)).one()
    assert anna is not None
    with pytest.raises(SetupError, match="already signs in"):
        reinvite(engine, kert, anna, actor="t", now=NOW, acting=Role.OWNER)
    dora = add_member(engine, kert, "Dóra", Role.OPERATOR, actor="t").id
    with pytest.raises(SetupError, match="has no e-mail"):
        reinvite(engine, kert, dora, actor="t", now=NOW)
    with pytest.raises(SetupError, match="there is no member"):
        reinvite(engine, kert + 1000, dora, actor="t", now=NOW)  # another workspace's member is no member here


def test_a_wrong_existing_password_is_refused_and_counted_as_a_failed_sign_in(engine: Engine, owner: int) -> None:
    virag = open_workspace(engine, "virag", name="Virág Bt.").id
    _, token = invite(engine, virag, "Anna", "anna@kert.test", Role.ADMIN, actor="t", now=NOW)
    with pytest.raises(LoginRefused):
        accept_invite(engine, token, "not annas password", now=NOW, address="10.0.0.9")
    assert invitation(engine, token, now=NOW).has_account  # still unused
    assert {m.workspace_name for m in memberships(engine, owner)} == {"Kert"}
    with Session(engine) as session:
        attempts = session.exec(select(LoginAttemptRecord.address, LoginAttemptRecord.succeeded)).all()
    assert list(attempts) == [("10.0.0.9", False)]
