"""Panel sessions: stored as digests, ending with expiry or membership, and switching between workspaces."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from reconbot.core.errors import SetupError
from reconbot.core.persistence.account_tables import WebSessionRecord
from reconbot.core.roles import Role
from reconbot.core.services.people.invitations import accept_invite, invite
from reconbot.core.services.people.members import remove_member
from reconbot.core.services.people.sessions import (
    close_session,
    memberships,
    open_session,
    switch_workspace,
    token_hash,
    viewer_for,
)
from reconbot.core.services.people.sign_in import LoginRefused
from reconbot.core.services.workspaces import open_workspace
from tests.support.people import NOW, PASSWORD


def test_a_session_ends_when_it_expires_or_its_member_is_removed(engine: Engine, owner: int) -> None:
    workspace_id = memberships(engine, owner)[0].workspace_id
    member_id, token = invite(engine, workspace_id, "Béla", "bela@kert.test", Role.ACCOUNTANT, actor="t", now=NOW)
    bela = accept_invite(engine, token, PASSWORD, now=NOW)
    session_token = open_session(engine, bela, now=NOW)
    seen = viewer_for(engine, session_token, now=NOW)
    assert seen is not None and seen.role is Role.ACCOUNTANT and seen.member_name == "Béla"
    assert viewer_for(engine, session_token, now=NOW + timedelta(days=15)) is None
    remove_member(engine, workspace_id, member_id, actor="t")
    assert viewer_for(engine, session_token, now=NOW) is None
    with Session(engine) as session:  # the cookie's token is never stored, only its digest
        stored = {s.token_hash for s in session.exec(select(WebSessionRecord))}
    assert session_token not in stored and token_hash(session_token) in stored


def test_an_accountant_of_two_workspaces_signs_in_once_and_switches(engine: Engine, owner: int) -> None:
    first = memberships(engine, owner)[0].workspace_id
    second = open_workspace(engine, "virag", name="Virág Bt.").id
    _, token = invite(engine, first, "Béla", "bela@kert.test", Role.ACCOUNTANT, actor="t", now=NOW)
    bela = accept_invite(engine, token, PASSWORD, now=NOW)
    _, token = invite(engine, second, "Béla", "bela@kert.test", Role.ACCOUNTANT_INVOICING, actor="t", now=NOW)
    with pytest.raises(LoginRefused):  # the e-mail already signs in: its own password confirms it
        accept_invite(engine, token, "another password", now=NOW)
    assert accept_invite(engine, token, PASSWORD, now=NOW) == bela
    assert {m.workspace_name for m in memberships(engine, bela)} == {"Kert", "Virág Bt."}
    session_token = open_session(engine, bela, now=NOW, workspace_id=first)
    switch_workspace(engine, session_token, second)
    seen = viewer_for(engine, session_token, now=NOW)
    assert seen is not None and seen.workspace_name == "Virág Bt." and seen.role is Role.ACCOUNTANT_INVOICING
    with pytest.raises(SetupError):
        switch_workspace(engine, open_session(engine, owner, now=NOW), second)


def test_a_new_session_opens_in_the_first_workspace_by_name(engine: Engine, owner: int) -> None:
    kert = memberships(engine, owner)[0].workspace_id
    almas = open_workspace(engine, "almas", name="Almás Kft.").id
    _, token = invite(engine, almas, "Anna", "anna@kert.test", Role.ADMIN, actor="t", now=NOW)
    accept_invite(engine, token, PASSWORD, now=NOW)
    assert [m.workspace_id for m in memberships(engine, owner)] == [almas, kert]
    seen = viewer_for(engine, open_session(engine, owner, now=NOW), now=NOW)
    assert seen is not None and seen.workspace_id == almas and seen.role is Role.ADMIN


def test_no_switch_to_a_workspace_one_was_removed_from_or_with_an_unknown_session(engine: Engine, owner: int) -> None:
    kert = memberships(engine, owner)[0].workspace_id
    virag = open_workspace(engine, "virag", name="Virág Bt.").id
    member_id, token = invite(engine, virag, "Anna", "anna@kert.test", Role.ADMIN, actor="t", now=NOW)
    accept_invite(engine, token, PASSWORD, now=NOW)
    session_token = open_session(engine, owner, now=NOW, workspace_id=kert)
    remove_member(engine, virag, member_id, actor="t")
    with pytest.raises(SetupError, match="not a member"):
        switch_workspace(engine, session_token, virag)
    with pytest.raises(SetupError, match="not a member"):
        switch_workspace(engine, "no such session", kert)
    seen = viewer_for(engine, session_token, now=NOW)
    assert seen is not None and seen.workspace_id == kert


def test_signing_out_ends_only_that_session(engine: Engine, owner: int) -> None:
    leaving, staying = open_session(engine, owner, now=NOW), open_session(engine, owner, now=NOW)
    close_session(engine, leaving)
    close_session(engine, "an unknown token")  # ignored
    assert viewer_for(engine, leaving, now=NOW) is None
    assert viewer_for(engine, staying, now=NOW) is not None
