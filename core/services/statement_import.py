"""Importing a bank statement file into a workspace: every transaction stored once, then matched."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, insert
from sqlalchemy import select as select_rows
from sqlmodel import Session, col, select

from core.domain import Transaction
from core.persistence.database import session_scope
from core.persistence.mapping import transaction_values
from core.persistence.tables import BankAccountRecord, BankTransactionRecord, ImportBatchRecord, ImportKind, utcnow
from core.progress import Progress, no_progress
from core.services.events import audit
from core.services.matching_run import MatchingOutcome, run_matching
from core.services.workspaces import lock_workspace
from core.statements import parse_statement
from core.statements.identity import dedupe_keys


@dataclass(frozen=True, slots=True)
class StatementImport:
    """What importing one statement file did."""

    filename: str
    format: str
    rows: int  # transactions in the file
    new: int  # of them stored now; the rest were already there
    matching: MatchingOutcome


def import_statement(
    engine: Engine, workspace_id: int, path: Path, *, actor: str, progress: Progress = no_progress
) -> StatementImport:
    """Store the file's transactions that are not stored yet, match everything pending, and return the counts.

    The file is parsed before anything is written: a file that fails to parse
    raises InputError and stores nothing. Importing the same or an overlapping
    file again stores no transaction twice.
    """
    data = path.read_bytes()
    progress("Reading statement", 0, 1)
    statement = parse_statement(path, data)
    keys = dedupe_keys(statement.transactions)
    with session_scope(engine) as session:
        workspace = lock_workspace(session, workspace_id)
        batch = ImportBatchRecord(
            workspace_id=workspace_id,
            kind=ImportKind.STATEMENT,
            filename=path.name,
            sha256=hashlib.sha256(data).hexdigest(),
            format=statement.format,
            row_count=len(statement.transactions),
            new_count=0,
            actor=actor,
        )
        session.add(batch)
        session.flush()
        assert batch.id is not None
        new = _store_new(session, workspace_id, batch.id, statement.transactions, keys, progress)
        batch.new_count = new
        outcome = run_matching(session, workspace, progress=progress)
        audit(
            session,
            workspace_id,
            actor,
            "statement.imported",
            "import_batch",
            batch.id,
            filename=path.name,
            format=statement.format,
            rows=len(statement.transactions),
            new=new,
        )
    return StatementImport(path.name, statement.format, len(statement.transactions), new, outcome)


def _store_new(
    session: Session,
    workspace_id: int,
    batch_id: int,
    transactions: tuple[Transaction, ...],
    keys: list[str],
    progress: Progress,
) -> int:
    accounts: dict[tuple[str, str], int] = {}
    by_account: dict[int, list[tuple[Transaction, str]]] = {}
    for tx, key in zip(transactions, keys, strict=True):
        account = ("".join(tx.account_iban.split()).upper(), tx.currency)
        if account not in accounts:
            accounts[account] = _account_id(session, workspace_id, *account)
        by_account.setdefault(accounts[account], []).append((tx, key))
    stored = 0
    for account_id, items in by_account.items():
        known = _known_keys(session, account_id, [key for _, key in items])
        rows: list[dict[str, Any]] = []
        for tx, key in items:
            if key in known:
                continue
            known.add(key)
            rows.append(
                {
                    **transaction_values(tx),
                    "workspace_id": workspace_id,
                    "bank_account_id": account_id,
                    "import_batch_id": batch_id,
                    "dedupe_key": key,
                    "created_at": utcnow(),
                }
            )
        for start in range(0, len(rows), 5000):
            session.execute(insert(BankTransactionRecord), rows[start : start + 5000])
            progress("Storing transactions", stored + start, len(rows))
        stored += len(rows)
    return stored


def _account_id(session: Session, workspace_id: int, iban: str, currency: str) -> int:
    query = select(BankAccountRecord).where(
        col(BankAccountRecord.workspace_id) == workspace_id,
        col(BankAccountRecord.iban) == iban,
        col(BankAccountRecord.currency) == currency,
    )
    account = session.exec(query).first()
    if account is None:
        account = BankAccountRecord(workspace_id=workspace_id, iban=iban, currency=currency)
        session.add(account)
        session.flush()
    assert account.id is not None
    return account.id


def _known_keys(session: Session, account_id: int, keys: list[str]) -> set[str]:
    known: set[str] = set()
    for start in range(0, len(keys), 900):
        query = select_rows(col(BankTransactionRecord.dedupe_key)).where(
            col(BankTransactionRecord.bank_account_id) == account_id,
            col(BankTransactionRecord.dedupe_key).in_(keys[start : start + 900]),
        )
        known.update(session.execute(query).scalars())
    return known
