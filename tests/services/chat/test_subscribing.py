"""The subscribing policy: "here" is for those who set up chat, only a private chat gets bank data, and a link
code and its private chat are one transaction."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from reconbot.core.errors import SetupError
from reconbot.core.persistence.chat_tables import Platform
from reconbot.core.roles import Role
from reconbot.core.services.chat.setup import channels
from reconbot.core.services.chat.subscribing import caller, link_chat, subscribe_here
from reconbot.core.services.people.members import add_member, issue_link_code
from tests.fakes.clock import FakeClock
from tests.support.chat import SLACK_USERS


def test_here_is_for_those_who_set_up_chat_and_only_their_private_chat_gets_bank_data(
    engine: Engine, workspace_id: int, members: dict[Role, int]
) -> None:
    accountant = SLACK_USERS[Role.ACCOUNTANT]
    assert caller(engine, workspace_id, Platform.SLACK, accountant).bank_data
    assert not caller(engine, workspace_id, Platform.SLACK, accountant).may_set_up
    assert subscribe_here(engine, workspace_id, Platform.SLACK, accountant, "C9", private=False) is None
    assert channels(engine, workspace_id) == []
    shared = subscribe_here(engine, workspace_id, Platform.SLACK, SLACK_USERS[Role.OWNER], "C9", private=False)
    private = subscribe_here(engine, workspace_id, Platform.SLACK, SLACK_USERS[Role.OWNER], "D9", private=True)
    assert shared is not None and private is not None
    assert (shared.bank_data, shared.group, private.bank_data, private.group) == (False, True, True, False)


def test_a_link_code_and_its_private_chat_are_one_transaction(
    engine: Engine, workspace_id: int, clock: FakeClock
) -> None:
    member = add_member(engine, workspace_id, "Éva Nagy", Role.ACCOUNTANT, actor="test")
    code = issue_link_code(engine, workspace_id, member.id, actor="test", now=clock())
    with pytest.raises(SetupError):  # the private chat cannot be added: the code must stay unused
        link_chat(engine, workspace_id, code, Platform.TELEGRAM, "5005", " ", private=True, now=clock())
    assert caller(engine, workspace_id, Platform.TELEGRAM, "5005").member is None
    linked = link_chat(engine, workspace_id, code, Platform.TELEGRAM, "5005", "5005", private=True, now=clock())
    assert linked.name == "Éva Nagy"
    assert [(c.address, c.bank_data, c.name) for c in channels(engine, workspace_id)] == [("5005", True, "Éva Nagy")]
