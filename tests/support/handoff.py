"""The handoff as the tests set it up (a plugin of the root conftest): issued invoices and payments to hand over,
a served receiving webhook, the mailbox of a local SMTP server, and the steps every handoff test takes.

The fixtures: ``handoff_books`` (the rows the handoff reads, in the workspace ``workspace_id``) and ``webhook``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest
from aiosmtpd.smtp import SMTP, Envelope, Session
from sqlalchemy import Engine

from reconbot.core.domain import AllocationMethod, Direction, InvoiceKind
from reconbot.core.handoff.receiver import ReceiverContext
from reconbot.core.persistence.database import session_scope
from reconbot.core.persistence.tables import AllocationRecord, BankAccountRecord, BankTransactionRecord, InvoiceRecord
from reconbot.core.services.handoff.sending import send_due
from reconbot.core.services.handoff.setup import setup_receiver
from tests.fakes.clock import FakeClock
from tests.fakes.handoff_webhook import FakeHandoffWebhook
from tests.fakes.server import serve

CONTEXT = ReceiverContext(timeout_seconds=2.0)


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
def handoff_books(engine: Engine, workspace_id: int, clock: FakeClock) -> Books:
    return Books(engine, workspace_id, clock)


@dataclass
class Webhook:
    fake: FakeHandoffWebhook
    url: str


@pytest.fixture
async def webhook() -> AsyncIterator[Webhook]:
    fake = FakeHandoffWebhook()
    async with serve(fake.app) as url:
        yield Webhook(fake, f"{url}/hook")


def connect(books: Books, webhook: Webhook, *, auto: bool) -> None:
    setup_receiver(books.engine, books.workspace_id, "webhook", {"url": webhook.url, "secret": webhook.fake.secret},
                   actor="cli:anna", now=books.clock(), auto_mode=auto)  # fmt: skip


async def run(books: Books, *, force: bool = True) -> tuple[int, int, int, int]:
    done = await send_due(books.engine, books.clock(), force=force, context=CONTEXT)
    return done.marked, done.sent, done.retrying, done.failed


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
