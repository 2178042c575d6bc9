"""``reconbot members …`` and ``reconbot chat …`` as a user types them."""

from __future__ import annotations

import re

import pytest
from sqlmodel import Session, select

from reconbot.core.persistence.chat_tables import ChatConnectionRecord
from reconbot.core.persistence.database import create_engine_for
from reconbot.core.persistence.tables import utcnow
from reconbot.core.services.people.invitations import accept_invite, invitation
from reconbot.core.services.people.sign_in import authenticate
from tests.cli.test_books import books  # noqa: F401 - the fixture pointing the commands at the test database
from tests.support.cli import run


def test_members_roles_and_links(books: str, capsys: pytest.CaptureFixture[str]) -> None:  # noqa: F811
    assert run(capsys, "members", "add", "Anna Kovács", "--role", "owner", "--slack", "U0ANNA")[0] == 0
    assert run(capsys, "members", "add", "Béla Szabó", "--role", "accountant")[0] == 0
    code, _, err = run(capsys, "members", "add", "Béla Szabó", "--role", "operator")
    assert code == 1 and err == "reconbot: there is already a member called 'Béla Szabó'\n"

    code, out, _ = run(capsys, "members", "link", "Béla Szabó")
    assert code == 0 and re.search(r"send: /start [A-Za-z0-9_-]{24}\s", out), out
    code, _, err = run(capsys, "members", "role", "Anna Kovács", "admin")
    assert code == 1 and "a workspace needs an owner" in err
    assert run(capsys, "members", "role", "Béla Szabó", "accountant_invoicing")[0] == 0
    code, out, _ = run(capsys, "members", "list")
    assert out.splitlines() == ["1\tAnna Kovács\towner\tslack:U0ANNA", "2\tBéla Szabó\taccountant_invoicing\t-"]
    assert run(capsys, "members", "remove", "Béla Szabó")[0] == 0
    assert "Béla" not in run(capsys, "members", "list")[1]


def test_bots_are_stored_encrypted_and_channels_listed_with_their_rights(
    books: str,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("RECONBOT_SLACK_BOT_TOKEN", "xoxb-123-secret-bot-token")
    monkeypatch.setenv("RECONBOT_SLACK_APP_TOKEN", "xapp-1-secret-app-token")
    code, out, _ = run(capsys, "chat", "slack")
    assert code == 0 and "socket mode" in out and "secret" not in out
    with Session(create_engine_for(books)) as session:
        stored = session.exec(select(ChatConnectionRecord)).one()
    assert "xoxb" not in stored.credentials and "secret" not in stored.credentials

    assert run(capsys, "chat", "channel", "slack", "C0FIN", "--name", "#finance", "--bank-data")[0] == 0
    assert run(capsys, "chat", "channel", "telegram", "-100200", "--name", "Office")[0] == 0
    code, out, _ = run(capsys, "chat", "status")
    assert out.splitlines() == [
        "slack bot: socket mode",
        "1\tslack\tC0FIN\t#finance\tbank data",
        "2\ttelegram\t-100200\tOffice\tno bank data",
        "messages: none yet",
    ]
    assert run(capsys, "chat", "remove-channel", "2")[0] == 0
    code, _, err = run(capsys, "chat", "remove-channel", "2")
    assert code == 1 and err == "reconbot: there is no channel 2\n"


def test_telegram_webhook_mode_makes_its_own_secret(
    books: str,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("RECONBOT_TELEGRAM_BOT_TOKEN", "123456:secret-telegram-token")
    code, out, _ = run(capsys, "chat", "telegram", "--mode", "webhook")
    assert code == 0 and "webhook mode" in out and "secret-telegram" not in out
    from reconbot.core.services.chat.setup import connections

    (connection,) = connections(create_engine_for(books))
    assert len(connection.credentials["webhook_secret"]) >= 32
    assert "secret-telegram" not in repr(connection)


def test_members_invite_prints_a_panel_link_and_a_new_one_for_an_existing_member(
    books: str,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("RECONBOT_PUBLIC_URL", "https://reconbot.example")
    code, out, _ = run(capsys, "members", "invite", "Béla Szabó", "--email", "Bela@Kert.test", "--role", "accountant")
    first = re.search(r"^https://reconbot\.example/invite/([A-Za-z0-9_-]+)$", out, re.MULTILINE)
    assert code == 0 and first, out
    code, out, _ = run(capsys, "members", "invite", "Béla Szabó")
    again = re.search(r"^https://reconbot\.example/invite/([A-Za-z0-9_-]+)$", out, re.MULTILINE)
    assert code == 0 and again and again[1] != first[1], out
    engine = create_engine_for(books)
    found = invitation(engine, again[1], now=utcnow())
    assert (found.member_name, found.email) == ("Béla Szabó", "bela@kert.test")
    accept_invite(engine, first[1], "correct horse battery", now=utcnow())
    assert "Béla Szabó\taccountant" in run(capsys, "members", "list")[1]
    code, _, err = run(capsys, "members", "invite", "Béla Szabó")  # signs in already: no link resets a password
    assert code == 1 and "reconbot members password bela@kert.test" in err
    monkeypatch.setenv("RECONBOT_NEW_PASSWORD", "short")
    code, _, err = run(capsys, "members", "password", "bela@kert.test")
    assert code == 1 and "at least 10 characters" in err
    monkeypatch.setenv("RECONBOT_NEW_PASSWORD", "a brand new passphrase")
    code, out, _ = run(capsys, "members", "password", "Bela@kert.test")
    assert code == 0 and "bela@kert.test has a new password" in out
    assert authenticate(engine, "bela@kert.test", "a brand new passphrase", address="cli", now=utcnow())

    code, _, err = run(capsys, "members", "invite", "Cili Tóth")
    assert code == 1 and "give --email and --role" in err
    assert run(capsys, "members", "add", "Dani Kiss", "--role", "operator")[0] == 0
    code, _, err = run(capsys, "members", "invite", "Dani Kiss")
    assert code == 1 and "Dani Kiss has no e-mail address" in err
