"""The workspace's chat as the tests set it up (a plugin of the root conftest): members of every role linked to
Slack and Telegram accounts, the handlers' ``Chat``, channels, and a transport that records what it was sent.

The fixtures: ``members`` and ``chat``. ``INVOICES`` and ``PAYMENTS`` are the usual scenario, imported with
``books``: one payment that matches, one that asks which invoice it pays.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlalchemy import Engine

from reconbot.bot.transport import ChatTransport, DeliveryError
from reconbot.core.persistence.chat_tables import Platform
from reconbot.core.roles import Role
from reconbot.core.services.chat.actions import NewAction
from reconbot.core.services.chat.routing import EventFacts, route_events
from reconbot.core.services.chat.setup import add_channel
from reconbot.core.services.invoicing.sources import InvoiceSources
from reconbot.core.services.people.members import add_member, link_identity
from reconbot.handlers.context import Chat, ChatUser
from reconbot.handlers.messages import Message
from tests.fakes.clock import FakeClock, RecordingSleep
from tests.support.books import Books

# Chat accounts of the members the ``members`` fixture creates: Slack user ids and Telegram user ids.
SLACK_USERS = {
    Role.OWNER: "U0OWNER",
    Role.ACCOUNTANT: "U0ACCOUNT",
    Role.INVOICING: "U0INVOICE",
    Role.OPERATOR: "U0OPER",
}
TELEGRAM_USERS = {Role.OWNER: "1001", Role.ACCOUNTANT: "1002", Role.INVOICING: "1003", Role.OPERATOR: "1004"}
NAMES = {
    Role.OWNER: "Anna Kovács",
    Role.ACCOUNTANT: "Béla Szabó",
    Role.INVOICING: "Cili Tóth",
    Role.OPERATOR: "Dani Kiss",
}
# Three open invoices: E-1 is paid by a transfer quoting it; E-2 and E-3 both fit an anonymous 50 000 Ft.
INVOICES = [
    ("E-2026-1", "Kert Kft.", "127000"),
    ("E-2026-2", "Béta Bt.", "50000"),
    ("E-2026-3", "Gamma Zrt.", "50000"),
]
PAYMENTS = [
    ("T1", "127000", "Kert Kft.", "E-2026-1"),
    ("T2", "50000", "Ismeretlen Péter", "befizetés"),
]


@pytest.fixture
def members(engine: Engine, workspace_id: int) -> dict[Role, int]:
    """Four members (owner, accountant, invoicing, operator), each linked on both platforms; role → member id."""
    ids: dict[Role, int] = {}
    for role, name in NAMES.items():
        member = add_member(engine, workspace_id, name, role, actor="test", slack_user=SLACK_USERS[role])
        link_identity(engine, workspace_id, member.id, Platform.TELEGRAM, TELEGRAM_USERS[role], actor="test")
        ids[role] = member.id
    return ids


@pytest.fixture
def chat(engine: Engine, workspace_id: int, clock: FakeClock) -> Chat:
    sources = InvoiceSources(engine, clock=clock, sleep=RecordingSleep(), timeout_seconds=0.5)
    return Chat(engine, workspace_id, sources=sources, clock=clock)


def slack_user(role: Role) -> ChatUser:
    return ChatUser(Platform.SLACK, SLACK_USERS[role], NAMES[role])


def telegram_user(role: Role) -> ChatUser:
    return ChatUser(Platform.TELEGRAM, TELEGRAM_USERS[role], NAMES[role])


@dataclass
class RecordingTransport(ChatTransport):
    """A transport at reconbot's own interface (the platform stacks have their own tests against fake servers):
    records what was sent and edited, and raises the errors a test queues in ``failures``."""

    platform: str = "slack"
    sent: list[tuple[str, str, Message]] = field(default_factory=list)
    edited: list[tuple[str, str, Message]] = field(default_factory=list)
    failures: list[DeliveryError] = field(default_factory=list)

    async def send(self, address: str, message: Message) -> str:
        if self.failures:
            raise self.failures.pop(0)
        ref = f"m{len(self.sent) + 1}"
        self.sent.append((address, ref, message))
        return ref

    async def edit(self, address: str, ref: str, message: Message) -> None:
        if self.failures:
            raise self.failures.pop(0)
        self.edited.append((address, ref, message))


def add_channels(engine: Engine, workspace_id: int, *specs: tuple[Platform, str, bool]) -> list[int]:
    """Add channels (platform, address, bank data allowed); return their ids."""
    return [add_channel(engine, workspace_id, platform, address, actor="test", bank_data=bank_data).id
            for platform, address, bank_data in specs]  # fmt: skip


# The chat services on their own: a recording composer in place of the handlers' words.


@dataclass
class Composer:
    """Records the facts it is given; every event gets one button and a body naming its kind."""

    seen: list[EventFacts] = field(default_factory=list)
    silent: bool = False

    def __call__(self, facts: EventFacts, new_action: NewAction) -> dict[str, Any] | None:
        self.seen.append(facts)
        subject: dict[str, Any] = {"transaction_id": 0}
        if facts.question is not None:  # the button pairs with the last candidate
            last = facts.question.candidates[-1]
            subject = {"transaction_id": facts.question.transaction_id, "invoice_ids": list(last.invoice_ids)}
        action = new_action("pair", subject)
        return None if self.silent else {"title": facts.kind, "buttons": [{"label": "b", "action": action}]}

    def of(self, kind: str) -> list[EventFacts]:
        return [f for f in self.seen if f.kind == kind]


def routed(engine: Engine, workspace_id: int, books: Books, clock: FakeClock, composer: Composer) -> int:
    """Add a Slack channel with bank data, import ``INVOICES`` and ``PAYMENTS`` and route the events; return
    ``route_events``' count."""
    add_channels(engine, workspace_id, (Platform.SLACK, "C1", True))
    books.invoices(INVOICES)
    books.statement(PAYMENTS)
    return route_events(engine, clock(), composer)
