"""Signing in: argon2 hashes, first-run rules, the throttle, and a new password set on the server."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from reconbot.core.errors import SetupError
from reconbot.core.persistence.account_tables import LoginAccountRecord, LoginAttemptRecord
from reconbot.core.persistence.tables import Language
from reconbot.core.services.people.sessions import open_session, viewer_for
from reconbot.core.services.people.sign_in import (
    FAILURES_PER_EMAIL,
    THROTTLE_WINDOW,
    LoginRefused,
    LoginThrottled,
    authenticate,
    first_run,
    needs_first_run,
    set_password,
)
from tests.support.people import NOW, PASSWORD


def test_passwords_are_stored_as_argon2_hashes_and_emails_lower_cased(engine: Engine, owner: int) -> None:
    with Session(engine) as session:
        account = session.exec(select(LoginAccountRecord)).one()
    assert account.email == "anna@kert.test"
    assert account.password_hash.startswith("$argon2id$") and PASSWORD not in account.password_hash
    assert authenticate(engine, "ANNA@kert.test", PASSWORD, address="127.0.0.1", now=NOW) == account.id == owner


def test_first_run_refuses_short_passwords_and_stores_nothing(engine: Engine) -> None:
    with pytest.raises(SetupError, match="at least 10 characters"):
        first_run(engine, email="a@b.hu", password="short", owner_name="A", workspace_name="W", country="HU",
                  timezone="UTC", currency="HUF", language=Language.EN)  # fmt: skip
    with Session(engine) as session:
        assert session.exec(select(LoginAccountRecord)).all() == []
    assert needs_first_run(engine)


def test_first_run_happens_once(engine: Engine, owner: int) -> None:
    assert not needs_first_run(engine)
    with pytest.raises(SetupError, match="already set up"):
        first_run(engine, email="eve@evil.test", password=PASSWORD, owner_name="Eve", workspace_name="Kert",
                  country="HU", timezone="UTC", currency="HUF", language=Language.EN)  # fmt: skip
    with Session(engine) as session:
        assert session.exec(select(LoginAccountRecord.email)).all() == ["anna@kert.test"]


def test_failed_attempts_are_recorded_and_too_many_refuse_even_the_right_password(engine: Engine, owner: int) -> None:
    for minute in range(FAILURES_PER_EMAIL):
        with pytest.raises(LoginRefused):
            authenticate(engine, "anna@kert.test", "a wrong guess", address="10.0.0.1",
                         now=NOW + timedelta(minutes=minute))  # fmt: skip
    later = NOW + timedelta(minutes=FAILURES_PER_EMAIL)
    with pytest.raises(LoginThrottled) as refused:
        authenticate(engine, "anna@kert.test", PASSWORD, address="10.0.0.2", now=later)
    # The oldest counted failure (at NOW) leaves the window at NOW + THROTTLE_WINDOW.
    assert refused.value.retry_after == int((NOW + THROTTLE_WINDOW - later).total_seconds())
    with Session(engine) as session:
        failed = session.exec(select(LoginAttemptRecord).where(~col(LoginAttemptRecord.succeeded))).all()
    assert len(failed) == FAILURES_PER_EMAIL and {a.email for a in failed} == {"anna@kert.test"}
    assert authenticate(engine, "anna@kert.test", PASSWORD, address="10.0.0.2", now=NOW + THROTTLE_WINDOW) == owner


def test_an_unknown_email_is_refused_like_a_wrong_password(engine: Engine, owner: int) -> None:
    with pytest.raises(LoginRefused, match="wrong e-mail or password"):
        authenticate(engine, "nobody@kert.test", PASSWORD, address="10.0.0.1", now=NOW)


def test_a_new_password_replaces_the_old_one_and_signs_every_browser_out(engine: Engine, owner: int) -> None:
    browsers = [open_session(engine, owner, now=NOW) for _ in range(2)]
    assert all(viewer_for(engine, token, now=NOW) is not None for token in browsers)
    assert set_password(engine, " ANNA@kert.test ", "a brand new passphrase") == owner
    assert all(viewer_for(engine, token, now=NOW) is None for token in browsers)
    with pytest.raises(LoginRefused):
        authenticate(engine, "anna@kert.test", PASSWORD, address="10.0.0.1", now=NOW)
    assert authenticate(engine, "anna@kert.test", "a brand new passphrase", address="10.0.0.1", now=NOW) == owner


def test_a_new_password_needs_an_account_and_enough_characters(engine: Engine, owner: int) -> None:
    with pytest.raises(SetupError, match="no account signs in with"):
        set_password(engine, "bela@kert.test", "a brand new passphrase")
    token = open_session(engine, owner, now=NOW)
    with pytest.raises(SetupError, match="at least 10 characters"):
        set_password(engine, "anna@kert.test", "short")
    assert viewer_for(engine, token, now=NOW) is not None  # a refused change signs nobody out
