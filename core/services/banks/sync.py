"""Syncing a bank connection: fetch each account's window, store it once, record balances, match, report.

Each account is stored in its own database transaction together with its new
sync position, so a crash mid-sync leaves every account either fully synced or
untouched, and the next sync fetches an overlapping window and stores nothing twice.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import delete, func, update
from sqlalchemy import select as select_rows
from sqlmodel import Session, col, select

from reconbot.core.banks.errors import ConsentExpiredError, ProviderError, RateLimitedError
from reconbot.core.banks.feed_merge import PENDING_DATE_DRIFT_DAYS, FeedMerge, StoredFeedRow, merge_feed
from reconbot.core.banks.model import Balance, FeedTransactions
from reconbot.core.banks.provider import BankProvider
from reconbot.core.domain import Transaction
from reconbot.core.errors import ReconciliationError
from reconbot.core.persistence.bank_tables import BankBalanceRecord, BankConnectionRecord, ConnectionStatus
from reconbot.core.persistence.bulk import chunks, insert_unless_present
from reconbot.core.persistence.database import session_scope
from reconbot.core.persistence.mapping import TRANSACTION_COLUMNS, transaction_from_row, transaction_values
from reconbot.core.persistence.tables import (
    BankAccountRecord,
    BankTransactionRecord,
    OutboxEventRecord,
    WorkspaceRecord,
    utcnow,
)
from reconbot.core.services.banks.consents import expire_connection
from reconbot.core.services.banks.providers import BankFeeds
from reconbot.core.services.events import EventKind, audit, emit
from reconbot.core.services.reconciliation.matching import MatchingOutcome, run_matching
from reconbot.core.services.workspaces import lock_workspace
from reconbot.core.statements.identity import content_keys, with_ids

# Later syncs fetch again this many days before the last one's end: banks book late.
OVERLAP_DAYS = 5


@dataclass(frozen=True, slots=True)
class AccountSync:
    """What one account's sync did; ``skipped`` or ``error`` say why nothing was fetched."""

    account_id: int
    iban: str
    new: int = 0
    updated: int = 0
    dropped: int = 0
    skipped: str = ""
    error: str = ""


@dataclass(frozen=True, slots=True)
class ConnectionSync:
    connection_id: int
    accounts: list[AccountSync] = field(default_factory=list)
    expired: bool = False
    matching: MatchingOutcome = field(default_factory=MatchingOutcome)


async def sync_connection(feeds: BankFeeds, connection_id: int, *, actor: str = "scheduler") -> ConnectionSync:
    """Fetch, store and match every account of an active connection; return what happened per account.

    Provider failures are recorded on the account (and announced once when they
    persist), not raised. Raises ``ReconciliationError`` when the connection does not
    exist or is not active (expired ones need renewing first).
    """
    connection, workspace, accounts = _load(feeds, connection_id)
    now = feeds.clock()
    if connection.consent_valid_until is not None and connection.consent_valid_until <= now:
        _expire(feeds, connection_id, "the consent period ended")
        return ConnectionSync(connection_id, expired=True)
    today = now.astimezone(ZoneInfo(workspace.timezone)).date()
    provider = feeds.provider(workspace.id or 0, connection.provider)
    results: list[AccountSync] = []
    matched = MatchingOutcome()
    try:
        for account in accounts:
            try:
                result, outcome = await _sync_account(feeds, provider, connection, account, today, actor)
            except ConsentExpiredError as exc:
                _expire(feeds, connection_id, str(exc))
                return ConnectionSync(connection_id, results, expired=True, matching=matched)
            results.append(result)
            matched = _added(matched, outcome)
    finally:
        await provider.aclose()
    return ConnectionSync(connection_id, results, matching=matched)


def require_active(feeds: BankFeeds, connection_id: int) -> None:
    """Raise ``ReconciliationError`` unless the connection exists and is active."""
    _load(feeds, connection_id)


def _load(
    feeds: BankFeeds, connection_id: int
) -> tuple[BankConnectionRecord, WorkspaceRecord, list[BankAccountRecord]]:
    with Session(feeds.engine) as session:
        connection = session.get(BankConnectionRecord, connection_id)
        if connection is None:
            raise ReconciliationError(f"there is no bank connection {connection_id}")
        if connection.status is not ConnectionStatus.ACTIVE:
            hint = "; renew it first" if connection.status is ConnectionStatus.EXPIRED else ""
            raise ReconciliationError(f"bank connection {connection_id} is {connection.status.value}{hint}")
        workspace = session.get(WorkspaceRecord, connection.workspace_id)
        accounts = list(
            session.exec(
                select(BankAccountRecord)
                .where(col(BankAccountRecord.connection_id) == connection_id)
                .order_by(col(BankAccountRecord.id))
            )
        )
        assert workspace is not None
        for record in (connection, workspace, *accounts):
            session.expunge(record)
    return connection, workspace, accounts


def _limit(account: BankAccountRecord, default: int | None, today: date) -> tuple[int, int | None]:
    """Return the syncs made today and the daily allowance (None: no known limit)."""
    made = account.calls_made if account.calls_on == today else 0
    return made, account.call_limit or default


async def _sync_account(
    feeds: BankFeeds,
    provider: BankProvider,
    connection: BankConnectionRecord,
    account: BankAccountRecord,
    today: date,
    actor: str,
) -> tuple[AccountSync, MatchingOutcome]:
    assert account.id is not None and connection.consent_reference is not None
    made, limit = _limit(account, provider.daily_call_limit, today)
    if limit is not None and made >= limit:
        return AccountSync(account.id, account.iban, skipped=f"the bank allows {limit} syncs a day"), MatchingOutcome()
    start = _window_start(feeds, account, connection.history_days, today)
    try:
        fetched = await provider.transactions(connection.consent_reference, account.provider_uid, start, today)
        balances = await provider.balances(connection.consent_reference, account.provider_uid)
    except ConsentExpiredError:
        raise
    except RateLimitedError as exc:
        if exc.daily:
            _spend_calls(feeds, account.id, today, limit or made + 1, limit)
            return AccountSync(account.id, account.iban, skipped="the bank's daily limit is used up"), MatchingOutcome()
        return _failed(feeds, account, str(exc)), MatchingOutcome()
    except ProviderError as exc:
        return _failed(feeds, account, str(exc)), MatchingOutcome()
    return _store(feeds, connection, account, fetched, balances, (start, today), actor)


def _window_start(feeds: BankFeeds, account: BankAccountRecord, history_days: int, today: date) -> date:
    start = account.synced_through - timedelta(days=OVERLAP_DAYS) if account.synced_through else None
    if start is None:
        return today - timedelta(days=history_days)
    with Session(feeds.engine) as session:
        oldest_pending: date | None = session.execute(
            select_rows(func.min(BankTransactionRecord.booking_date)).where(
                col(BankTransactionRecord.bank_account_id) == account.id, col(BankTransactionRecord.pending)
            )
        ).scalar()
    # A transaction still pending from before the overlap is fetched again, so its booking is seen.
    return min(start, oldest_pending) if oldest_pending else start


def _store(
    feeds: BankFeeds,
    connection: BankConnectionRecord,
    account: BankAccountRecord,
    fetched: FeedTransactions,
    balances: list[Balance],
    window: tuple[date, date],
    actor: str,
) -> tuple[AccountSync, MatchingOutcome]:
    assert account.id is not None
    booked, pending = with_ids(fetched.booked), with_ids(fetched.pending)
    now = feeds.clock()
    with session_scope(feeds.engine) as session:
        workspace = lock_workspace(session, connection.workspace_id)
        stored = _stored_rows(session, account.id, window[0] - timedelta(days=PENDING_DATE_DRIFT_DAYS), window[1])
        merge = merge_feed(stored, booked, pending, window)
        touched = _apply(session, connection.workspace_id, account.id, merge, {row.id: row for row in stored})
        record = session.get(BankAccountRecord, account.id)
        assert record is not None
        made, _ = _limit(record, None, window[1])
        had_failing_event = _failing_announced(session, record)
        record.synced_through = window[1]
        record.last_sync_at = record.last_success_at = now
        record.last_error, record.failing_since = "", None
        record.calls_on, record.calls_made = window[1], made + 1
        if fetched.budget is not None:
            record.call_limit = fetched.budget.limit
            record.calls_made = max(record.calls_made, fetched.budget.limit - fetched.budget.remaining)
        _store_balances(session, record, balances, window[1], now)
        outcome = run_matching(session, workspace, transaction_ids=touched) if touched else MatchingOutcome()
        result = AccountSync(account.id, record.iban, len(merge.inserts), len(merge.updates), len(merge.deletes))
        audit(session, connection.workspace_id, actor, "bank.synced", "bank_account", account.id,
              window=[window[0].isoformat(), window[1].isoformat()], new=result.new, updated=result.updated,
              dropped=result.dropped)  # fmt: skip
        if had_failing_event:
            emit(session, connection.workspace_id, EventKind.SYNC_RECOVERED, f"sync_recovered:{had_failing_event}",
                 {"account_id": account.id, "iban": record.iban, "bank": connection.institution_name})  # fmt: skip
    return result, outcome


def _stored_rows(session: Session, account_id: int, start: date, end: date) -> list[StoredFeedRow]:
    query = select_rows(
        *TRANSACTION_COLUMNS, col(BankTransactionRecord.pending)
    ).where(
        col(BankTransactionRecord.bank_account_id) == account_id,
        col(BankTransactionRecord.booking_date) >= start,
        col(BankTransactionRecord.booking_date) <= end,
    )  # fmt: skip
    rows = []
    for row in session.execute(query):
        tx = transaction_from_row(row[:-1])
        rows.append(StoredFeedRow(int(tx.id), tx.bank_id, bool(row[-1]), tx))
    return rows


def _apply(
    session: Session, workspace_id: int, account_id: int, merge: FeedMerge, stored: dict[int, StoredFeedRow]
) -> list[int]:
    """Write the merge; return the ids of rows that are new and booked, or newly booked (to be matched)."""
    keys = _free_keys(
        session, account_id, [(t, None) for t, _ in merge.inserts] + [(t, row_id) for row_id, t, _ in merge.updates]
    )
    touched: list[int] = []
    for (row_id, t, is_pending), key in zip(merge.updates, keys[len(merge.inserts) :], strict=True):
        record = session.get(BankTransactionRecord, row_id)
        assert record is not None
        was_pending = stored[row_id].pending
        # A booked row may already be allocated: only its ids may change, never its money.
        values = transaction_values(t) if was_pending else {"external_id": t.id, "bank_id": t.bank_id, "raw": t.raw}
        for name, value in {**values, "dedupe_key": key, "pending": is_pending}.items():
            setattr(record, name, value)
        if was_pending and not is_pending:
            touched.append(row_id)
    session.flush()
    now = utcnow()
    for (t, is_pending), key in zip(merge.inserts, keys, strict=False):
        record = BankTransactionRecord(
            **transaction_values(t), workspace_id=workspace_id, bank_account_id=account_id, dedupe_key=key,
            pending=is_pending, created_at=now,
        )  # fmt: skip
        session.add(record)
        session.flush()
        if not is_pending:
            assert record.id is not None
            touched.append(record.id)
    if merge.deletes:
        session.execute(delete(BankTransactionRecord).where(col(BankTransactionRecord.id).in_(merge.deletes)))
    return touched


def _free_keys(session: Session, account_id: int, items: list[tuple[Transaction, int | None]]) -> list[str]:
    """Return a dedupe key per transaction (``bank:<id>`` or ``content:<digest>``), suffixed ``~2``, ``~3`` …
    until no other row of the account holds it. ``items`` pair each transaction with its row id when it
    is already stored (its own key is not a clash)."""
    digests = content_keys([t for t, _ in items])
    wanted = [f"bank:{t.bank_id}" if t.bank_id else f"content:{c}" for (t, _), c in zip(items, digests, strict=True)]
    holders: dict[str, int] = {}  # key -> row id holding it
    keys: list[str] = []
    pending_check = sorted(set(wanted))
    while pending_check:
        for chunk in chunks(pending_check):
            query = select_rows(col(BankTransactionRecord.dedupe_key), col(BankTransactionRecord.id)).where(
                col(BankTransactionRecord.bank_account_id) == account_id,
                col(BankTransactionRecord.dedupe_key).in_(chunk),
            )
            holders.update({key: row_id for key, row_id in session.execute(query)})
        checked = set(pending_check)
        pending_check = []
        keys = []
        used: set[str] = set()
        for key, (_, own) in zip(wanted, items, strict=True):
            n, candidate = 1, key
            while candidate in used or (candidate in holders and holders[candidate] != own):
                n += 1
                candidate = f"{key}~{n}"
            if candidate not in checked and candidate not in holders:
                pending_check.append(candidate)
            used.add(candidate)
            keys.append(candidate)
        pending_check = sorted(set(pending_check) - checked)
    return keys


def _store_balances(
    session: Session, account: BankAccountRecord, balances: list[Balance], today: date, now: datetime
) -> None:
    for balance in balances:
        day = balance.reference_date or today
        values = {
            "workspace_id": account.workspace_id,
            "bank_account_id": account.id,
            "kind": balance.kind,
            "amount": balance.amount,
            "currency": balance.currency,
            "reference_date": day,
            "fetched_at": now,
        }
        if not insert_unless_present(session, BankBalanceRecord, values, ["bank_account_id", "kind", "reference_date"]):
            session.execute(
                update(BankBalanceRecord)
                .where(
                    col(BankBalanceRecord.bank_account_id) == account.id,
                    col(BankBalanceRecord.kind) == balance.kind,
                    col(BankBalanceRecord.reference_date) == day,
                )
                .values(amount=balance.amount, currency=balance.currency, fetched_at=now)
            )  # fmt: skip


def _failing_announced(session: Session, account: BankAccountRecord) -> str:
    """Return the dedupe key of the "sync failing" event of the account's current failure run, if one was sent."""
    if account.failing_since is None:
        return ""
    key = f"sync_failing:{account.id}:{account.failing_since.isoformat()}"
    found = session.exec(
        select(OutboxEventRecord.id).where(
            col(OutboxEventRecord.workspace_id) == account.workspace_id, col(OutboxEventRecord.dedupe_key) == key
        )
    ).first()
    return key if found else ""


def _failed(feeds: BankFeeds, account: BankAccountRecord, error: str) -> AccountSync:
    """Record a failed sync; the second failure in a row announces "sync failing", once per run of failures."""
    assert account.id is not None
    now = feeds.clock()
    with session_scope(feeds.engine) as session:
        record = session.get(BankAccountRecord, account.id)
        assert record is not None
        first = record.failing_since is None
        record.last_sync_at, record.last_error = now, error[:1000]
        record.failing_since = record.failing_since or now
        connection = session.get(BankConnectionRecord, record.connection_id)
        audit(session, record.workspace_id, "bank", "bank.sync_failed", "bank_account", record.id, error=error[:1000])
        if not first:
            assert record.failing_since is not None
            emit(
                session,
                record.workspace_id,
                EventKind.SYNC_FAILING,
                f"sync_failing:{record.id}:{record.failing_since.isoformat()}",
                {
                    "account_id": record.id,
                    "iban": record.iban,
                    "error": error[:300],
                    "bank": connection.institution_name if connection else "",
                    "failing_since": record.failing_since.isoformat(),
                },
            )
    return AccountSync(account.id, account.iban, error=error)


def _spend_calls(feeds: BankFeeds, account_id: int, today: date, made: int, limit: int | None) -> None:
    with session_scope(feeds.engine) as session:
        record = session.get(BankAccountRecord, account_id)
        assert record is not None
        record.calls_on, record.calls_made = today, made
        record.call_limit = record.call_limit or limit


def _expire(feeds: BankFeeds, connection_id: int, reason: str) -> None:
    with session_scope(feeds.engine) as session:
        connection = session.get(BankConnectionRecord, connection_id)
        assert connection is not None
        expire_connection(session, connection, feeds.clock(), reason)


def _added(a: MatchingOutcome, b: MatchingOutcome) -> MatchingOutcome:
    return MatchingOutcome(a.matched + b.matched, a.suggested + b.suggested, a.unmatched + b.unmatched,
                           a.allocations + b.allocations)  # fmt: skip
