"""Importing a bank statement file into a workspace: every transaction stored once, then matched."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, insert
from sqlalchemy import select as select_rows
from sqlmodel import Session, col, select

from reconbot.core.domain import Transaction
from reconbot.core.parties import account_key, compact_iban
from reconbot.core.persistence.bulk import chunks
from reconbot.core.persistence.database import session_scope
from reconbot.core.persistence.mapping import transaction_values
from reconbot.core.persistence.tables import (
    BankAccountRecord,
    BankTransactionRecord,
    ImportBatchRecord,
    ImportKind,
    utcnow,
)
from reconbot.core.progress import Progress, no_progress
from reconbot.core.services.events import audit
from reconbot.core.services.reconciliation.matching import MatchingOutcome, run_matching
from reconbot.core.services.workspaces import lock_workspace
from reconbot.core.statements import Statement, parse_statement
from reconbot.core.statements.identity import content_keys, dedupe_keys


@dataclass(frozen=True, slots=True)
class StatementImport:
    """What importing one statement file did."""

    filename: str
    format: str
    rows: int  # transactions in the file
    new: int  # of them stored now; the rest were already there
    matching: MatchingOutcome


@dataclass(frozen=True, slots=True)
class StatementFile:
    """A statement file read and checked, ready to store."""

    name: str
    sha256: str
    statement: Statement


def read_statement_file(path: Path) -> StatementFile:
    """Return the parsed file; raises InputError (nothing is stored then) when it cannot be read."""
    data = path.read_bytes()
    return StatementFile(path.name, hashlib.sha256(data).hexdigest(), parse_statement(path, data))


def import_statement(
    engine: Engine, workspace_id: int, path: Path, *, actor: str, progress: Progress = no_progress
) -> StatementImport:
    """Store the file's transactions that are not stored yet, match everything pending, and return the counts.

    The file is parsed before anything is written: a file that fails to parse
    raises InputError and stores nothing. Importing the same or an overlapping
    file again stores no transaction twice.
    """
    progress("Reading statement", 0, 1)
    return store_statement(engine, workspace_id, read_statement_file(path), actor=actor, progress=progress)


def store_statement(
    engine: Engine, workspace_id: int, file: StatementFile, *, actor: str, progress: Progress = no_progress
) -> StatementImport:
    """Store a statement read by ``read_statement_file``, in one database transaction, then match; see above."""
    statement = file.statement
    with session_scope(engine) as session:
        workspace = lock_workspace(session, workspace_id)
        batch = ImportBatchRecord(
            workspace_id=workspace_id,
            kind=ImportKind.STATEMENT,
            filename=file.name,
            sha256=file.sha256,
            format=statement.format,
            row_count=len(statement.transactions),
            new_count=0,
            actor=actor,
        )
        session.add(batch)
        session.flush()
        assert batch.id is not None
        new = _store_new(session, workspace_id, batch.id, statement.transactions, progress)
        batch.new_count = new
        outcome = run_matching(session, workspace, progress=progress)
        audit(
            session,
            workspace_id,
            actor,
            "statement.imported",
            "import_batch",
            batch.id,
            filename=file.name,
            format=statement.format,
            rows=len(statement.transactions),
            new=new,
        )
    return StatementImport(file.name, statement.format, len(statement.transactions), new, outcome)


def _store_new(
    session: Session, workspace_id: int, batch_id: int, transactions: tuple[Transaction, ...], progress: Progress
) -> int:
    keyed = list(zip(transactions, dedupe_keys(transactions), content_keys(transactions), strict=True))
    accounts: dict[tuple[str, str], int] = {}
    by_account: dict[int, list[tuple[Transaction, str, str]]] = {}
    for tx, key, content in keyed:
        account = (compact_iban(tx.account_iban), tx.currency)
        if account not in accounts:
            accounts[account] = _account_id(session, workspace_id, *account)
        by_account.setdefault(accounts[account], []).append((tx, key, content))
    stored = 0
    now = utcnow()
    for account_id, items in by_account.items():
        # A bank id seen before on another transaction (banks reuse them) is told apart by content.
        keys = [key.partition("~")[0] for _, key, _ in items]
        keys += [_told_apart(key, content) for _, key, content in items if key.startswith("bank:")]
        known = _stored(session, account_id, keys)
        rows: list[dict[str, Any]] = []
        for tx, key, content in items:
            if key.startswith("bank:"):
                base, apart = key.partition("~")[0], _told_apart(key, content)
                if known.get(base) == (tx.booking_date, tx.amount) or apart in known:
                    continue
                key = base if base not in known else apart
            elif key in known:
                continue
            known[key] = (tx.booking_date, tx.amount)
            rows.append(
                {
                    **transaction_values(tx),
                    "workspace_id": workspace_id,
                    "bank_account_id": account_id,
                    "import_batch_id": batch_id,
                    "dedupe_key": key,
                    "created_at": now,
                }
            )
        for start in range(0, len(rows), 5000):
            session.execute(insert(BankTransactionRecord), rows[start : start + 5000])
            progress("Storing transactions", stored + start, len(rows))
        stored += len(rows)
    return stored


def _told_apart(key: str, content: str) -> str:
    return f"{key.partition('~')[0]}~{content}"


def _account_id(session: Session, workspace_id: int, iban: str, currency: str) -> int:
    # The same account reads "HU42 1177 …" in one export and "11773016-…" in another: compare their keys.
    query = select(BankAccountRecord).where(
        col(BankAccountRecord.workspace_id) == workspace_id, col(BankAccountRecord.currency) == currency
    )
    wanted = account_key(iban) or iban
    for account in session.exec(query):
        if (account_key(account.iban) or account.iban) == wanted and account.id is not None:
            return account.id
    account = BankAccountRecord(workspace_id=workspace_id, iban=iban, currency=currency)
    session.add(account)
    session.flush()
    assert account.id is not None
    return account.id


def _stored(session: Session, account_id: int, keys: list[str]) -> dict[str, tuple[date, Decimal]]:
    """Return the booking date and amount stored under each of ``keys`` that is stored."""
    found: dict[str, tuple[date, Decimal]] = {}
    for chunk in chunks(keys):
        query = select_rows(
            col(BankTransactionRecord.dedupe_key), col(BankTransactionRecord.booking_date),
            col(BankTransactionRecord.amount),
        ).where(
            col(BankTransactionRecord.bank_account_id) == account_id,
            col(BankTransactionRecord.dedupe_key).in_(chunk),
        )  # fmt: skip
        found.update({key: (booked, amount) for key, booked, amount in session.execute(query)})
    return found
