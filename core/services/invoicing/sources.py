"""Which invoicing systems a workspace uses, with what credentials: stored sealed, opened only to build a client.

``own`` is the owner's in-house system: it has no API we call, it sends us signed webhooks,
so its only credential is the webhook secret reconbot generates.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from reconbot.core.encryption import seal, unseal
from reconbot.core.errors import ProviderError, ReconciliationError
from reconbot.core.invoicing.source import SOURCES, InvoiceSource, SourceContext, build_source, source_class
from reconbot.core.persistence.bulk import insert_unless_present
from reconbot.core.persistence.database import session_scope
from reconbot.core.persistence.invoicing_tables import InvoiceSourceRecord
from reconbot.core.persistence.tables import InvoicingMode, WorkspaceRecord, utcnow
from reconbot.core.services.events import audit
from reconbot.core.services.workspaces import Workspace, lock_workspace, workspace_of

OWN = "own"
SOURCE_NAMES = (*SOURCES, OWN)


@dataclass(frozen=True)
class InvoiceSources:
    """Everything the invoicing services share: the database, the clock, and how waits are made (tests replace them)."""

    engine: Engine
    clock: Callable[[], datetime] = utcnow
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    timeout_seconds: float = 30.0

    def source(self, workspace_id: int, name: str) -> InvoiceSource:
        """Return the client of system ``name`` built with the workspace's credentials.

        Raises ``ProviderError`` (permanent) when the name is unknown, has no API, or is not set up.
        """
        if name not in SOURCES:
            raise ProviderError(f"{name!r} is not an invoicing system reconbot can call; "
                                f"choose one of: {', '.join(SOURCES)}", permanent=True)  # fmt: skip
        context = SourceContext(clock=self.clock, sleep=self.sleep, timeout_seconds=self.timeout_seconds)
        return build_source(name, credentials(self.engine, workspace_id, name), context)


def credentials(engine: Engine, workspace_id: int, name: str) -> dict[str, str]:
    """Return the workspace's decrypted credentials for ``name``; raises ``ProviderError`` (permanent) if not set up."""
    with Session(engine) as session:
        record = find_source(session, workspace_id, name)
    if record is None:
        raise ProviderError(f"{name} is not set up; run `reconbot invoicing setup {name}` first", permanent=True)
    return unseal(record.credentials)


@dataclass(frozen=True, slots=True)
class WebhookCredentials:
    """What checks a pushed delivery: the workspace it is for, and the system's decrypted credentials there
    (the own system's ``webhook_secret``, Számlázz.hu's ``push_token``)."""

    workspace_id: int
    values: dict[str, str]


def webhook_credentials(engine: Engine, slug: str, name: str) -> WebhookCredentials | None:
    """Return the credentials of system ``name`` in the workspace whose slug is ``slug``, or None when there is no
    such workspace or it has not set the system up (the caller answers both alike, telling a stranger nothing)."""
    with Session(engine) as session:
        workspace = session.exec(select(WorkspaceRecord).where(col(WorkspaceRecord.slug) == slug)).first()
        if workspace is None or workspace.id is None:
            return None
        record = find_source(session, workspace.id, name)
        return WebhookCredentials(workspace.id, unseal(record.credentials)) if record is not None else None


def find_source(session: Session, workspace_id: int, name: str) -> InvoiceSourceRecord | None:
    """Return the workspace's source record ``name``, or None."""
    query = select(InvoiceSourceRecord).where(
        col(InvoiceSourceRecord.workspace_id) == workspace_id, col(InvoiceSourceRecord.name) == name
    )
    return session.exec(query).first()


def connected_sources(session: Session, workspace_id: int) -> list[str]:
    """Return the names of the systems the workspace has set up, ``own`` included, in setup order."""
    query = select(InvoiceSourceRecord.name).where(col(InvoiceSourceRecord.workspace_id) == workspace_id)
    return list(session.exec(query.order_by(col(InvoiceSourceRecord.id))))


def save_credentials(
    engine: Engine, workspace_id: int, name: str, values: Mapping[str, str], *, actor: str
) -> dict[str, str]:
    """Store (or replace) the workspace's credentials for ``name``, sealed, and return what was stored.

    ``own`` gets a fresh webhook secret (``webhook_secret``), Számlázz.hu a fresh push token
    (``push_token``) for its data push; the caller shows them once. Raises ``ProviderError``
    (permanent) for an unknown system, a missing field, or credentials the client rejects as malformed.
    """
    if name == OWN:
        kept = {"webhook_secret": values.get("webhook_secret") or secrets.token_urlsafe(32)}
    elif name in SOURCES:
        cls = source_class(name)
        missing = [f for f in cls.credential_fields if not values.get(f, "").strip()]
        if missing:
            raise ProviderError(f"{name}: missing {', '.join(missing)}", permanent=True)
        allowed = {*cls.credential_fields, *cls.optional_fields, "base_url"}
        kept = {key: value.strip() for key, value in values.items() if key in allowed and value.strip()}
        if not cls.lists_invoices:
            kept["push_token"] = values.get("push_token") or secrets.token_urlsafe(24)
        build_source(name, kept, SourceContext())  # refuses a malformed key now, not at the first write-back
    else:
        raise ProviderError(f"unknown invoicing system {name!r}; choose one of: {', '.join(SOURCE_NAMES)}",
                            permanent=True)  # fmt: skip
    sealed = seal(kept)
    with session_scope(engine) as session:
        now = utcnow()
        row = {"workspace_id": workspace_id, "name": name, "credentials": sealed, "last_error": "",
               "created_at": now, "updated_at": now}  # fmt: skip
        if not insert_unless_present(session, InvoiceSourceRecord, row, ["workspace_id", "name"]):
            record = find_source(session, workspace_id, name)
            assert record is not None
            record.credentials, record.updated_at = sealed, now
        # The audit names the fields that were set, never their values.
        audit(session, workspace_id, actor, "invoice_source.credentials_set", "invoice_source", name,
              fields=sorted(kept))  # fmt: skip
    return kept


def update_settings(
    engine: Engine,
    workspace_id: int,
    *,
    actor: str,
    proforma_mode: InvoicingMode | None = None,
    sale_mode: InvoicingMode | None = None,
    sale_source: str | None = None,
    vat_rate: Decimal | None = None,
) -> Workspace:
    """Change the workspace's invoicing settings (those given); return the workspace as it is now.

    Raises ProviderError (permanent) when ``sale_source`` is not a system reconbot can issue invoices in,
    and ReconciliationError for a VAT rate outside 0–99 %.
    """
    if sale_source and sale_source not in SOURCES:
        raise ProviderError(f"{sale_source!r} cannot issue invoices; choose one of: {', '.join(SOURCES)}",
                            permanent=True)  # fmt: skip
    if vat_rate is not None and not Decimal(0) <= vat_rate < 100:
        raise ReconciliationError(f"a VAT rate of {vat_rate} % is not between 0 and 99")
    with session_scope(engine) as session:
        workspace = lock_workspace(session, workspace_id)
        changed: dict[str, str] = {}
        if proforma_mode is not None:
            workspace.proforma_mode, changed["proforma_mode"] = proforma_mode, proforma_mode.value
        if sale_mode is not None:
            workspace.sale_mode, changed["sale_mode"] = sale_mode, sale_mode.value
        if sale_source is not None:
            workspace.sale_invoicing_source, changed["sale_source"] = sale_source, sale_source
        if vat_rate is not None:
            workspace.vat_rate, changed["vat_rate"] = vat_rate, str(vat_rate)
        audit(session, workspace_id, actor, "workspace.invoicing_settings", "workspace", workspace_id, **changed)
        session.flush()
        return workspace_of(workspace)
