"""Fixtures of the handoff tests: a workspace with issued invoices and payments, a served webhook, an SMTP server."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from sqlalchemy import Engine

from reconbot.core.domain import AllocationMethod, Direction, InvoiceKind
from reconbot.core.persistence.database import session_scope
from reconbot.core.persistence.tables import AllocationRecord, BankAccountRecord, BankTransactionRecord, InvoiceRecord
from reconbot.core.services.workspaces import ensure_workspace
from tests.banks.conftest import FakeClock
from tests.fakes.handoff_webhook import FakeHandoffWebhook
from tests.fakes.server import free_port, serve


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 3, 2, 9, 0, tzinfo=UTC))


@dataclass
class Books:
    """Writes the rows the handoff reads: issued invoices, and payments matched to them."""

    engine: Engine
    workspace_id: int
    clock: FakeClock

    def invoice(self, number: str, *, issued: date = date(2026, 3, 1), kind: InvoiceKind = InvoiceKind.INVOICE,
                direction: Direction = Direction.ISSUED, gross: str = "127000",
                source: str = "csv") -> int:  # fmt: skip
        with session_scope(self.engine) as session:
            record = InvoiceRecord(workspace_id=self.workspace_id, direction=direction, kind=kind, number=number,
                                   partner_name="Zöld Kert Bt.", partner_tax_id="12345678-2-13", issue_date=issued,
                                   gross=Decimal(gross), currency="HUF", source=source,
                                   natural_key=f"{direction.value}:{number}", created_at=self.clock())  # fmt: skip
            session.add(record)
            session.flush()
            assert record.id is not None
            return record.id

    def payment(self, invoice_id: int, amount: str, *, key: str) -> int:
        with session_scope(self.engine) as session:
            account = BankAccountRecord(workspace_id=self.workspace_id, iban=f"HU{key}", currency="HUF")
            session.add(account)
            session.flush()
            assert account.id is not None
            transaction = BankTransactionRecord(workspace_id=self.workspace_id, bank_account_id=account.id,
                                                dedupe_key=key, external_id=key, booking_date=date(2026, 3, 5),
                                                amount=Decimal(amount), currency="HUF",
                                                counterparty_name="Zöld Kert Bt.", reference="payment")  # fmt: skip
            session.add(transaction)
            session.flush()
            assert transaction.id is not None
            allocation = AllocationRecord(workspace_id=self.workspace_id, transaction_id=transaction.id,
                                          invoice_id=invoice_id, amount=Decimal(amount), currency="HUF",
                                          method=AllocationMethod.MANUAL, created_by="cli:test")  # fmt: skip
            session.add(allocation)
            session.flush()
            assert allocation.id is not None
            return allocation.id


@pytest.fixture
def books(engine: Engine, clock: FakeClock) -> Books:
    with session_scope(engine) as session:
        workspace = ensure_workspace(session, "kert", name="Kert-Építő Kft.", country="HU", currency="HUF")
    assert workspace.id is not None
    return Books(engine, workspace.id, clock)


@dataclass
class Webhook:
    fake: FakeHandoffWebhook
    url: str


@pytest.fixture
async def webhook() -> AsyncIterator[Webhook]:
    fake = FakeHandoffWebhook()
    async with serve(fake.app) as url:
        yield Webhook(fake, f"{url}/hook")


class Mailbox:
    """An aiosmtpd handler keeping every message it accepts."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.recipients: list[list[str]] = []

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        assert isinstance(envelope.content, bytes)
        parsed = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        self.messages.append(parsed)
        self.recipients.append(list(envelope.rcpt_tos))
        return "250 2.0.0 Ok: queued as FAKE1"


@dataclass
class Smtp:
    mailbox: Mailbox
    port: int


@pytest.fixture
def smtp() -> Iterator[Smtp]:
    mailbox, port = Mailbox(), free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield Smtp(mailbox, port)
    finally:
        controller.stop()
