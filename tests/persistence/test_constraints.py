"""The database refuses duplicates and dangling references by itself, whatever the services do."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import Engine, func
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from reconbot.core.persistence.database import session_scope
from reconbot.core.persistence.tables import (
    AliasKind,
    BankAccountRecord,
    BankTransactionRecord,
    InvoiceRecord,
    OutboxEventRecord,
    PayerAliasRecord,
)
from tests.persistence.factories import add_account, add_invoice, add_transaction, add_workspace


def count(engine: Engine, model: type[object]) -> int:
    with session_scope(engine) as session:
        return session.exec(select(func.count()).select_from(model)).one()


def test_same_transaction_twice_on_one_account_is_refused(engine: Engine) -> None:
    with session_scope(engine) as session:
        account = add_account(session, add_workspace(session))
    with pytest.raises(IntegrityError), session_scope(engine) as session:
        add_transaction(session, account, dedupe_key="bank:42")
        add_transaction(session, account, dedupe_key="bank:42", amount=Decimal("1"))
    assert count(engine, BankTransactionRecord) == 0  # the first one went with the rollback


def test_same_dedupe_key_on_another_account_is_fine(engine: Engine) -> None:
    with session_scope(engine) as session:
        workspace = add_workspace(session)
        add_transaction(session, add_account(session, workspace, iban="HU1"), dedupe_key="bank:42")
        add_transaction(session, add_account(session, workspace, iban="HU2"), dedupe_key="bank:42")
    assert count(engine, BankTransactionRecord) == 2


def test_a_later_import_cannot_duplicate_a_stored_transaction(engine: Engine) -> None:
    with session_scope(engine) as session:
        account = add_account(session, add_workspace(session))
        add_transaction(session, account, dedupe_key="content:abc#2")
    with pytest.raises(IntegrityError), session_scope(engine) as session:
        add_transaction(session, account, dedupe_key="content:abc#2")
    assert count(engine, BankTransactionRecord) == 1


def test_account_is_unique_per_workspace_iban_and_currency(engine: Engine) -> None:
    with session_scope(engine) as session:
        workspace = add_workspace(session)
        add_account(session, workspace, iban="")
        assert workspace.id is not None
        session.add(BankAccountRecord(workspace_id=workspace.id, iban="", currency="EUR"))  # another currency
    with pytest.raises(IntegrityError), session_scope(engine) as session:
        add_account(session, workspace, iban="")
    assert count(engine, BankAccountRecord) == 2


def test_outbox_dedupe_key_is_unique_per_workspace(engine: Engine) -> None:
    with session_scope(engine) as session:
        first, second = add_workspace(session, "first"), add_workspace(session, "second")
        assert first.id is not None and second.id is not None
        for workspace_id in (first.id, second.id):
            session.add(OutboxEventRecord(workspace_id=workspace_id, kind="payment_matched", dedupe_key="tx:1"))
    with pytest.raises(IntegrityError), session_scope(engine) as session:
        session.add(OutboxEventRecord(workspace_id=first.id, kind="payment_matched", dedupe_key="tx:1"))
    assert count(engine, OutboxEventRecord) == 2


def test_outbox_ids_are_uuids_assigned_before_insert(engine: Engine) -> None:
    with session_scope(engine) as session:
        workspace = add_workspace(session)
        assert workspace.id is not None
        event = OutboxEventRecord(workspace_id=workspace.id, kind="overpayment", dedupe_key="tx:2")
        assert len(event.id) == 36
        session.add(event)
    with session_scope(engine) as session:
        assert session.get(OutboxEventRecord, event.id) is not None


def test_invoice_natural_key_is_unique_per_workspace(engine: Engine) -> None:
    with session_scope(engine) as session:
        workspace = add_workspace(session)
        add_invoice(session, workspace, "INV-1")
        add_invoice(session, add_workspace(session, "other"), "INV-1")
    with pytest.raises(IntegrityError), session_scope(engine) as session:
        add_invoice(session, workspace, "INV-1")
    assert count(engine, InvoiceRecord) == 2


def test_invoice_external_id_is_unique_per_source_but_may_be_missing(engine: Engine) -> None:
    with session_scope(engine) as session:
        workspace = add_workspace(session)
        add_invoice(session, workspace, "INV-1", external_id="b-77")
        add_invoice(session, workspace, "INV-2")  # no external id: NULLs never collide
        add_invoice(session, workspace, "INV-3")
    with pytest.raises(IntegrityError), session_scope(engine) as session:
        add_invoice(session, workspace, "INV-4", external_id="b-77")
    assert count(engine, InvoiceRecord) == 3


def test_payer_alias_is_learned_once(engine: Engine) -> None:
    with session_scope(engine) as session:
        workspace = add_workspace(session)
        assert workspace.id is not None
        workspace_id = workspace.id

    def alias(partner_key: str) -> PayerAliasRecord:
        return PayerAliasRecord(
            workspace_id=workspace_id,
            kind=AliasKind.IBAN,
            value="HU42117730161111101800000000",
            partner_key=partner_key,
        )

    with session_scope(engine) as session:
        session.add(alias("tax:12345678"))
        session.add(alias("tax:87654321"))  # one account paying for two partners is fine
    with pytest.raises(IntegrityError), session_scope(engine) as session:
        session.add(alias("tax:12345678"))
    assert count(engine, PayerAliasRecord) == 2


def test_foreign_keys_are_enforced(engine: Engine) -> None:
    # SQLite ignores foreign keys unless every connection turns them on.
    with session_scope(engine) as session:
        workspace = add_workspace(session)
    assert workspace.id is not None
    with pytest.raises(IntegrityError), session_scope(engine) as session:
        session.add(
            BankTransactionRecord(
                workspace_id=workspace.id,
                bank_account_id=999,
                dedupe_key="bank:1",
                external_id="1",
                booking_date=date(2025, 3, 14),
                amount=Decimal("1"),
                currency="HUF",
            )
        )
    assert count(engine, BankTransactionRecord) == 0
