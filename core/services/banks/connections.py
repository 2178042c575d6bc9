"""Connecting a bank: ask for a consent, complete it from the bank's redirect, renew it, disconnect.

A connection keeps its accounts (and so their transactions) across renewals; a
disconnected connection stops syncing and keeps everything it received.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from reconbot.core.banks.errors import ConsentRefusedError
from reconbot.core.banks.model import Consent, ConsentRequest, Institution
from reconbot.core.banks.provider import BankProvider
from reconbot.core.errors import ReconciliationError
from reconbot.core.parties import account_key, compact_iban
from reconbot.core.persistence.bank_tables import (
    BankConnectionRecord,
    BankConsentRecord,
    ConnectionStatus,
    ConsentAttemptStatus,
)
from reconbot.core.persistence.database import session_scope
from reconbot.core.persistence.tables import BankAccountRecord, WorkspaceRecord
from reconbot.core.services.banks.providers import BankFeeds
from reconbot.core.services.events import EventKind, audit, emit

# What we ask for when the bank does not say its cap; PSD2 (RTS 2022/2360) allows 180 days.
DEFAULT_CONSENT_DAYS = 180


@dataclass(frozen=True, slots=True)
class ConsentLink:
    """Where to send the owner to grant (or renew) a consent."""

    connection_id: int
    url: str
    state: str


@dataclass(frozen=True, slots=True)
class CompletedConsent:
    connection_id: int
    workspace_id: int
    institution_name: str
    valid_until: datetime
    accounts: int
    renewed: bool


@dataclass(frozen=True, slots=True)
class ConsentAttempt:
    """How a request for a consent stands: pending, refused (``error`` says why) or granted.

    ``valid_until`` is when the connection's consent ends (None until one was granted).
    """

    status: ConsentAttemptStatus
    error: str
    connection_id: int
    institution_name: str
    valid_until: datetime | None


async def connect_bank(
    feeds: BankFeeds,
    workspace_id: int,
    provider_name: str,
    institution_id: str,
    *,
    actor: str,
    country: str | None = None,
    history_days: int | None = None,
) -> ConsentLink:
    """Create a pending connection to ``institution_id`` and return the bank's consent page for it.

    Raises ``ProviderError`` when the provider is not set up or refuses, and
    ``ReconciliationError`` when it does not know the institution.
    """
    with Session(feeds.engine) as session:
        workspace = session.get(WorkspaceRecord, workspace_id)
        if workspace is None:
            raise ReconciliationError(f"workspace {workspace_id} does not exist")
        country = (country or workspace.country).upper()
        history_days = history_days or workspace.feed_history_days
    provider = feeds.provider(workspace_id, provider_name)
    try:
        institution = await _institution(provider, provider_name, country, institution_id)
        if institution.max_history_days:
            history_days = min(history_days, institution.max_history_days)
        with session_scope(feeds.engine) as session:
            connection = BankConnectionRecord(
                workspace_id=workspace_id,
                provider=provider_name,
                institution_id=institution.id,
                institution_name=institution.name,
                country=country,
                history_days=history_days,
                created_by=actor,
            )
            session.add(connection)
            session.flush()
            assert connection.id is not None
            connection_id = connection.id
            audit(session, workspace_id, actor, "bank_connection.created", "bank_connection", connection_id,
                  provider=provider_name, institution=institution.name)  # fmt: skip
        return await _ask_for_consent(feeds, provider, connection_id, institution)
    finally:
        await provider.aclose()


async def renew_connection(feeds: BankFeeds, connection_id: int, *, actor: str) -> ConsentLink:
    """Return a consent page that renews the connection's consent; its accounts and history stay.

    Raises ``ReconciliationError`` for an unknown or disconnected connection.
    """
    connection = _connection(feeds, connection_id)
    if connection.status is ConnectionStatus.DISCONNECTED:
        raise ReconciliationError(f"bank connection {connection_id} is disconnected; connect the bank again")
    provider = feeds.provider(connection.workspace_id, connection.provider)
    try:
        institution = await _institution(provider, connection.provider, connection.country, connection.institution_id)
        with session_scope(feeds.engine) as session:
            audit(session, connection.workspace_id, actor, "bank_connection.renewal_started", "bank_connection",
                  connection_id)  # fmt: skip
        return await _ask_for_consent(feeds, provider, connection_id, institution)
    finally:
        await provider.aclose()


async def _institution(provider: BankProvider, provider_name: str, country: str, wanted: str) -> Institution:
    institutions = await provider.institutions(country)
    for institution in institutions:
        if wanted in (institution.id, institution.name):
            return institution
    folded = wanted.casefold()
    close = [i for i in institutions if folded in i.name.casefold()]
    if len(close) == 1:
        return close[0]
    hint = f"; did you mean {', '.join(i.name for i in close[:5])}?" if close else ""
    raise ReconciliationError(f"{provider_name} knows no bank {wanted!r} in {country}{hint}")


async def _ask_for_consent(
    feeds: BankFeeds, provider: BankProvider, connection_id: int, institution: Institution
) -> ConsentLink:
    connection = _connection(feeds, connection_id)
    days = min(institution.max_consent_days or DEFAULT_CONSENT_DAYS, DEFAULT_CONSENT_DAYS)
    with Session(feeds.engine) as session:
        workspace = session.get(WorkspaceRecord, connection.workspace_id)
        language = workspace.language.value if workspace else "en"
    state = secrets.token_urlsafe(24)
    valid_until = feeds.clock() + timedelta(days=days)
    request = ConsentRequest(
        institution_id=institution.id,
        country=connection.country,
        redirect_url=feeds.callback_url,
        state=state,
        valid_until=valid_until,
        history_days=connection.history_days,
        language=language,
    )
    start = await provider.start_connection(request)
    with session_scope(feeds.engine) as session:
        session.add(
            BankConsentRecord(
                workspace_id=connection.workspace_id,
                connection_id=connection_id,
                state=state,
                start_reference=start.reference,
                url=start.url,
                requested_until=valid_until,
            )
        )
    return ConsentLink(connection_id, start.url, state)


async def complete_consent(feeds: BankFeeds, state: str, callback: Mapping[str, str]) -> CompletedConsent:
    """Finish the consent named by ``state`` from the bank's redirect parameters and return the connection.

    Completing the same consent twice (a reloaded callback page) returns the first
    result and asks the provider nothing. Raises ``ReconciliationError`` for an
    unknown state and ``ConsentRefusedError`` when the owner refused.
    """
    with Session(feeds.engine) as session:
        attempt = session.exec(select(BankConsentRecord).where(col(BankConsentRecord.state) == state)).first()
        if attempt is None:
            raise ReconciliationError("this bank authorisation link is unknown or was already replaced; start again")
        session.expunge(attempt)
    connection = _connection(feeds, attempt.connection_id)
    if attempt.status is ConsentAttemptStatus.GRANTED:
        assert attempt.id is not None
        return _completed(feeds, attempt.connection_id, attempt.id)
    if attempt.status is ConsentAttemptStatus.REFUSED:
        raise ConsentRefusedError(f"the consent was refused at the bank: {attempt.error}")
    provider = feeds.provider(connection.workspace_id, connection.provider)
    try:
        consent = await provider.finish_connection(attempt.start_reference, callback)
    except ConsentRefusedError as exc:
        _refused(feeds, attempt, str(exc))
        raise
    finally:
        await provider.aclose()
    return _store_consent(feeds, attempt, consent)


def consent_attempt(engine: Engine, state: str) -> ConsentAttempt | None:
    """Return how the consent request ``state`` stands, or None when there is no such request."""
    with Session(engine) as session:
        attempt = session.exec(select(BankConsentRecord).where(col(BankConsentRecord.state) == state)).first()
        if attempt is None:
            return None
        connection = session.get(BankConnectionRecord, attempt.connection_id)
        assert connection is not None  # a foreign key
        return ConsentAttempt(attempt.status, attempt.error, attempt.connection_id, connection.institution_name,
                              connection.consent_valid_until)  # fmt: skip


def _refused(feeds: BankFeeds, attempt: BankConsentRecord, reason: str) -> None:
    with session_scope(feeds.engine) as session:
        row = session.get(BankConsentRecord, attempt.id)
        connection = session.get(BankConnectionRecord, attempt.connection_id)
        assert row is not None and connection is not None
        row.status, row.error, row.finished_at = ConsentAttemptStatus.REFUSED, reason[:500], feeds.clock()
        if connection.status is ConnectionStatus.PENDING:
            connection.status = ConnectionStatus.REFUSED
        audit(session, row.workspace_id, "bank", "bank_consent.refused", "bank_connection", connection.id,
              reason=reason[:500])  # fmt: skip


def _store_consent(feeds: BankFeeds, attempt: BankConsentRecord, consent: Consent) -> CompletedConsent:
    now = feeds.clock()
    with session_scope(feeds.engine) as session:
        # Locked: two callbacks racing (a double click on the bank's "back" button) store it once.
        row = session.exec(
            select(BankConsentRecord).where(col(BankConsentRecord.id) == attempt.id).with_for_update()
        ).one()
        connection = session.exec(
            select(BankConnectionRecord).where(col(BankConnectionRecord.id) == row.connection_id).with_for_update()
        ).one()
        assert connection.id is not None
        if row.status is ConsentAttemptStatus.GRANTED:
            session.rollback()
            return _completed(feeds, connection.id, row.id or 0)
        renewed = connection.connected_at is not None
        row.status, row.finished_at = ConsentAttemptStatus.GRANTED, now
        connection.status = ConnectionStatus.ACTIVE
        connection.consent_reference = consent.reference
        connection.consent_valid_until = consent.valid_until
        connection.connected_at = now
        connection.expired_at = None
        _link_accounts(session, connection, consent)
        audit(session, connection.workspace_id, "bank", "bank_consent.granted", "bank_connection", connection.id,
              valid_until=consent.valid_until.isoformat(), accounts=len(consent.accounts), renewed=renewed)  # fmt: skip
        emit(
            session,
            connection.workspace_id,
            EventKind.BANK_CONNECTED,
            f"bank_connected:{connection.id}:{row.id}",
            {
                "connection_id": connection.id,
                "bank": connection.institution_name,
                "valid_until": consent.valid_until.isoformat(),
                "accounts": len(consent.accounts),
                "renewed": renewed,
            },
        )
        return CompletedConsent(connection.id, connection.workspace_id, connection.institution_name,
                                consent.valid_until, len(consent.accounts), renewed)  # fmt: skip


def _link_accounts(session: Session, connection: BankConnectionRecord, consent: Consent) -> None:
    """Attach the consent's accounts to the connection: the same account (by provider id, else IBAN and
    currency, e.g. one first known from a statement file) is reused, so its history continues."""
    existing = list(
        session.exec(select(BankAccountRecord).where(col(BankAccountRecord.workspace_id) == connection.workspace_id))
    )
    for account in consent.accounts:
        iban = compact_iban(account.iban)
        # A statement file may have named the same account in its domestic form: compare account keys.
        key = account_key(iban)
        found = next(
            (a for a in existing if a.connection_id == connection.id and a.provider_uid == account.uid), None
        ) or next((a for a in existing if key and account_key(a.iban) == key and a.currency == account.currency), None)
        if found is None:
            found = BankAccountRecord(workspace_id=connection.workspace_id, iban=iban, currency=account.currency)
            session.add(found)
            existing.append(found)
        found.connection_id = connection.id
        found.provider_uid = account.uid
        found.name = found.name or account.name


def _completed(feeds: BankFeeds, connection_id: int, attempt_id: int) -> CompletedConsent:
    """Return the result of a consent completed earlier (``attempt_id``), read back from the database."""
    connection = _connection(feeds, connection_id)
    with Session(feeds.engine) as session:
        accounts = session.exec(
            select(BankAccountRecord).where(col(BankAccountRecord.connection_id) == connection_id)
        ).all()
        renewed = (
            session.exec(
                select(BankConsentRecord.id).where(
                    col(BankConsentRecord.connection_id) == connection_id,
                    col(BankConsentRecord.status) == ConsentAttemptStatus.GRANTED,
                    col(BankConsentRecord.id) < attempt_id,
                )
            ).first()
            is not None
        )
    assert connection.consent_valid_until is not None
    return CompletedConsent(connection_id, connection.workspace_id, connection.institution_name,
                            connection.consent_valid_until, len(accounts), renewed)  # fmt: skip


def disconnect(feeds: BankFeeds, connection_id: int, *, actor: str) -> None:
    """Stop syncing the connection; its accounts and every transaction received stay.

    Raises ``ReconciliationError`` for an unknown connection.
    """
    with session_scope(feeds.engine) as session:
        connection = session.get(BankConnectionRecord, connection_id)
        if connection is None:
            raise ReconciliationError(f"there is no bank connection {connection_id}")
        if connection.status is ConnectionStatus.DISCONNECTED:
            return
        connection.status = ConnectionStatus.DISCONNECTED
        connection.disconnected_at = feeds.clock()
        audit(session, connection.workspace_id, actor, "bank_connection.disconnected", "bank_connection",
              connection_id)  # fmt: skip


def _connection(feeds: BankFeeds, connection_id: int) -> BankConnectionRecord:
    with Session(feeds.engine) as session:
        connection = session.get(BankConnectionRecord, connection_id)
        if connection is None:
            raise ReconciliationError(f"there is no bank connection {connection_id}")
        session.expunge(connection)
        return connection
