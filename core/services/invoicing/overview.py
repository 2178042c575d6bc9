"""What the panel's invoicing page and ``reconbot invoicing`` show and ask: the connected systems (credentials
masked, last sync and error), the writes waiting, the fields each system's setup needs, and saving credentials
without retyping a secret kept."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, func
from sqlmodel import Session, col, select

from reconbot.core.encryption import mask, unseal
from reconbot.core.errors import SecretKeyError
from reconbot.core.invoicing.source import SOURCES, source_class
from reconbot.core.persistence.invoicing_tables import InvoiceSourceRecord, OperationStatus, SourceOperationRecord
from reconbot.core.services.invoicing.sources import OWN, SOURCE_NAMES, find_source, save_credentials
from reconbot.core.services.invoicing.write_back import OperationView

# Fields that name things rather than open them: shown as they are.
PLAIN_FIELDS = frozenset({"account", "block_id", "base_url"})
LABELS = {
    "billingo": "Billingo",
    "fakturownia": "Fakturownia",
    "szamlazz": "Számlázz.hu",
    OWN: "Own invoicing system (signed webhooks)",
}
FIELD_LABELS = {
    "api_key": "API key",
    "api_token": "API token",
    "account": "Account (https://ACCOUNT.fakturownia.pl)",
    "agent_key": "Agent key",
    "block_id": "Document block id (optional; default: the first)",
    "base_url": "API address (only for a proxy or test server)",
}


@dataclass(frozen=True, slots=True)
class SetupField:
    name: str
    label: str
    secret: bool
    required: bool


@dataclass(frozen=True, slots=True)
class SourceView:
    name: str
    label: str
    fields: dict[str, str]  # stored credentials, secrets masked
    last_sync_at: datetime | None
    last_success_at: datetime | None
    last_error: str
    calls_api: bool  # has a "test connection" call
    lists_invoices: bool  # "sync now" pulls; Számlázz.hu looks numbers up instead


@dataclass(frozen=True, slots=True)
class WritesWaiting:
    waiting: int
    failed: int


def setup_fields(name: str) -> list[SetupField]:
    """Return the fields the panel asks for to set up system ``name`` (none for ``own``: its secret is made)."""
    if name not in SOURCES:
        return []
    cls = source_class(name)
    found = [SetupField(f, FIELD_LABELS.get(f, f), f not in PLAIN_FIELDS, True) for f in cls.credential_fields]
    found += [SetupField(f, FIELD_LABELS.get(f, f), f not in PLAIN_FIELDS, False)
              for f in (*cls.optional_fields, "base_url") if f not in cls.credential_fields]  # fmt: skip
    return list({f.name: f for f in found}.values())


def source_views(engine: Engine, workspace_id: int) -> list[SourceView]:
    """Return the workspace's connected systems in setup order, every secret masked."""
    with Session(engine) as session:
        records = session.exec(
            select(InvoiceSourceRecord)
            .where(col(InvoiceSourceRecord.workspace_id) == workspace_id)
            .order_by(col(InvoiceSourceRecord.id))
        ).all()
    views = []
    for record in records:
        try:
            values = unseal(record.credentials)
        except SecretKeyError:
            values = {}  # stored with another key: set the credentials again
        shown = {key: value if key in PLAIN_FIELDS else mask(value) for key, value in values.items()}
        api = record.name in SOURCES
        views.append(SourceView(record.name, LABELS.get(record.name, record.name), shown, record.last_sync_at,
                                record.last_success_at, record.last_error, api,
                                api and source_class(record.name).lists_invoices))  # fmt: skip
    return views


def writes_waiting(engine: Engine, workspace_id: int) -> WritesWaiting:
    """Return how many writes to invoicing systems wait and how many failed for good."""
    with Session(engine) as session:
        counts = dict(session.exec(
            select(SourceOperationRecord.status, func.count())
            .where(col(SourceOperationRecord.workspace_id) == workspace_id)
            .group_by(col(SourceOperationRecord.status))).all())  # fmt: skip
    return WritesWaiting(counts.get(OperationStatus.PENDING, 0) + counts.get(OperationStatus.RUNNING, 0),
                         counts.get(OperationStatus.FAILED, 0))  # fmt: skip


def recent_operations(
    engine: Engine, workspace_id: int, *, finished: bool = False, limit: int = 50
) -> list[OperationView]:
    """Return the workspace's latest writes to invoicing systems, newest first: those waiting, running or failed,
    and with ``finished`` the done and cancelled ones too."""
    with Session(engine) as session:
        query = select(SourceOperationRecord).where(col(SourceOperationRecord.workspace_id) == workspace_id)
        if not finished:
            query = query.where(col(SourceOperationRecord.status).in_(
                [OperationStatus.PENDING, OperationStatus.RUNNING, OperationStatus.FAILED]))  # fmt: skip
        found = session.exec(query.order_by(col(SourceOperationRecord.id).desc()).limit(limit))
        return [OperationView.of(record) for record in found]


def save_source_credentials(
    engine: Engine, workspace_id: int, name: str, sent: Mapping[str, str], *, actor: str
) -> dict[str, str]:
    """Store system ``name``'s credentials from a form; a field left empty keeps its stored value (a secret need
    not be retyped to change another field). Returns what was stored; raises ``ProviderError`` as
    ``invoice_sources.save_credentials`` does."""
    if name not in SOURCE_NAMES:
        return save_credentials(engine, workspace_id, name, sent, actor=actor)  # refuses with the list of names
    with Session(engine) as session:
        record = find_source(session, workspace_id, name)
    try:
        stored = unseal(record.credentials) if record is not None else {}
    except SecretKeyError:
        stored = {}
    if name == OWN:
        return save_credentials(engine, workspace_id, name, {}, actor=actor)  # a fresh secret each time
    values = {**stored, **{key: value.strip() for key, value in sent.items() if value.strip()}}
    return save_credentials(engine, workspace_id, name, values, actor=actor)
