"""Sign-in accounts: hashes, sessions that end with membership, invitations to a second workspace."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from reconbot.core.errors import SetupError
from reconbot.core.persistence.account_tables import LoginAccountRecord, WebSessionRecord
from reconbot.core.persistence.database import session_scope
from reconbot.core.persistence.tables import Language
from reconbot.core.roles import Role
from reconbot.core.services.people.accounts import (
    LoginRefused,
    accept_invite,
    authenticate,
    first_run,
    invite,
    memberships,
    open_session,
    switch_workspace,
    viewer_for,
)
from reconbot.core.services.people.members import remove_member
from reconbot.core.services.workspaces import ensure_workspace

NOW = datetime(2026, 3, 2, 9, tzinfo=UTC)
PASSWORD = "correct horse battery"


def _owner(engine: Engine) -> int:
    return first_run(engine, email="Anna@Kert.test", password=PASSWORD, owner_name="Anna", workspace_name="Kert",
                     country="HU", timezone="Europe/Budapest", currency="HUF", language=Language.HU)  # fmt: skip


def test_passwords_are_stored_as_argon2_hashes_and_emails_lower_cased(engine: Engine) -> None:
    _owner(engine)
    with Session(engine) as session:
        account = session.exec(select(LoginAccountRecord)).one()
    assert account.email == "anna@kert.test"
    assert account.password_hash.startswith("$argon2id$") and PASSWORD not in account.password_hash
    assert authenticate(engine, "ANNA@kert.test", PASSWORD, address="127.0.0.1", now=NOW) == account.id


def test_first_run_refuses_short_passwords_and_stores_nothing(engine: Engine) -> None:
    with pytest.raises(SetupError, match="at least 10 characters"):
        first_run(engine, email="a@b.hu", password="short", owner_name="A", workspace_name="W", country="HU",
                  timezone="UTC", currency="HUF", language=Language.EN)  # fmt: skip
    with Session(engine) as session:
        assert session.exec(select(LoginAccountRecord)).all() == []


def test_a_session_ends_when_it_expires_or_its_member_is_removed(engine: Engine) -> None:
    owner = _owner(engine)
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
        assert session_token not in {s.token_hash for s in session.exec(select(WebSessionRecord))}


def test_an_accountant_of_two_workspaces_signs_in_once_and_switches(engine: Engine) -> None:
    owner = _owner(engine)
    first = memberships(engine, owner)[0].workspace_id
    with session_scope(engine) as session:
        second = ensure_workspace(session, "virag", name="Virág Bt.").id
    assert second is not None
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
