"""Fixtures for the chat tests: a workspace with members of every role, linked to Slack and Telegram accounts."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine

from reconbot.bot.transport import ChatTransport, DeliveryError
from reconbot.core.persistence.chat_tables import Platform
from reconbot.core.persistence.database import session_scope
from reconbot.core.roles import Role
from reconbot.core.services.banks.statements import import_statement
from reconbot.core.services.chat.setup import add_channel
from reconbot.core.services.invoicing.imports import import_invoices
from reconbot.core.services.invoicing.sources import InvoiceSources, save_credentials
from reconbot.core.services.people.members import add_member, link_identity
from reconbot.core.services.workspaces import ensure_workspace
from reconbot.handlers.context import Chat, ChatUser
from reconbot.handlers.messages import Message
from tests.fakes.billingo import API_KEY, FakeBillingo
from tests.fakes.clock import FakeClock, RecordingSleep
from tests.fakes.server import serve

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


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 3, 2, 9, 0, tzinfo=UTC))


@pytest.fixture
async def billingo(engine: Engine, workspace_id: int, clock: FakeClock) -> AsyncIterator[FakeBillingo]:
    """A fake Billingo the workspace's invoicing is set up against."""
    fake = FakeBillingo(clock=clock)
    async with serve(fake.app) as url:
        save_credentials(engine, workspace_id, "billingo", {"api_key": API_KEY, "base_url": f"{url}/v3"},
                         actor="test")  # fmt: skip
        yield fake


@pytest.fixture
def workspace_id(engine: Engine) -> int:
    with session_scope(engine) as session:
        workspace = ensure_workspace(session, "kert", name="Kert-Építő Kft.", country="HU", currency="HUF")
    assert workspace.id is not None
    return workspace.id


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


INVOICES_HEADER = (
    "number,direction,kind,partner_name,partner_tax_id,partner_iban,order_number,issue_date,due_date,"
    "gross_amount,currency,paid_amount,status\n"
)
STATEMENT_HEADER = (
    "id,booking_date,value_date,amount,currency,counterparty_name,counterparty_iban,reference,end_to_end_id\n"
)
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


@dataclass
class Books:
    """Writes invoice and statement files for the workspace and imports them, as a user would."""

    engine: Engine
    workspace_id: int
    folder: Path
    files: int = 0

    def invoices(self, rows: list[tuple[str, str, str]], *, kind: str = "invoice") -> None:
        lines = [
            f"{n},issued,{kind},{partner},,,,2026-02-20,2026-03-10,{gross},HUF,0,issued" for n, partner, gross in rows
        ]
        import_invoices(self.engine, self.workspace_id, self._write(INVOICES_HEADER, lines), actor="cli:test")

    def statement(self, rows: list[tuple[str, str, str, str]]) -> None:
        lines = [f"{tid},2026-03-02,2026-03-02,{amount},HUF,{payer},,{ref}," for tid, amount, payer, ref in rows]
        import_statement(self.engine, self.workspace_id, self._write(STATEMENT_HEADER, lines), actor="cli:test")

    def _write(self, header: str, lines: list[str]) -> Path:
        self.files += 1
        path = self.folder / f"file-{self.files}.csv"
        path.write_text(header + "\n".join(lines) + "\n", encoding="utf-8")
        return path


@pytest.fixture
def books(engine: Engine, workspace_id: int, tmp_path: Path) -> Books:
    return Books(engine, workspace_id, tmp_path)


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
