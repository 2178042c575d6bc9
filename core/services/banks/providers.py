"""Which provider a workspace's bank feed talks to, with what credentials: stored sealed, opened only to build it."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from reconbot.core.banks.errors import ProviderError
from reconbot.core.banks.provider import BankProvider, ProviderContext, build_provider, provider_class
from reconbot.core.encryption import seal, unseal
from reconbot.core.persistence.bank_tables import BankProviderRecord
from reconbot.core.persistence.bulk import insert_unless_present
from reconbot.core.persistence.database import session_scope
from reconbot.core.persistence.tables import utcnow
from reconbot.core.services.banks.sandbox import invoices_to_pay
from reconbot.core.services.events import audit
from reconbot.core.settings import public_url

CALLBACK_PATH = "/bank/callback"


@dataclass(frozen=True)
class BankFeeds:
    """Everything the bank-feed services share: the database, the clock, and how waits and links are made.

    Tests replace ``clock`` and ``sleep``; ``public_url`` is where the bank sends the owner back.
    """

    engine: Engine
    clock: Callable[[], datetime] = utcnow
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    public_url: str = field(default_factory=public_url)

    @property
    def callback_url(self) -> str:
        return self.public_url + CALLBACK_PATH

    def provider(self, workspace_id: int, name: str) -> BankProvider:
        """Return provider ``name`` built with the workspace's credentials.

        Raises ``ProviderError`` (permanent) when the name is unknown or its credentials are not set up.
        """
        credentials: Mapping[str, str] = {}
        if provider_class(name).credential_fields:
            credentials = self._credentials(workspace_id, name)
        context = ProviderContext(
            public_url=self.public_url,
            clock=self.clock,
            sleep=self.sleep,
            invoices_to_pay=partial(invoices_to_pay, self.engine, workspace_id),
        )
        return build_provider(name, credentials, context)

    def _credentials(self, workspace_id: int, name: str) -> dict[str, str]:
        with Session(self.engine) as session:
            record = session.exec(
                select(BankProviderRecord).where(
                    col(BankProviderRecord.workspace_id) == workspace_id, col(BankProviderRecord.provider) == name
                )
            ).first()
        if record is None:
            raise ProviderError(f"{name} is not set up; run `reconbot bank setup {name}` first", permanent=True)
        return unseal(record.credentials)


def save_credentials(engine: Engine, workspace_id: int, name: str, values: Mapping[str, str], *, actor: str) -> None:
    """Store (or replace) the workspace's credentials for provider ``name``, sealed.

    Raises ``ProviderError`` (permanent) for an unknown provider, a missing field, or
    credentials the provider rejects as malformed (checked by building it).
    """
    fields = provider_class(name).credential_fields
    missing = [f for f in fields if not values.get(f, "").strip()]
    if missing:
        raise ProviderError(f"{name}: missing {', '.join(missing)}", permanent=True)
    kept = {key: value for key, value in values.items() if key in fields or key == "base_url"}
    build_provider(name, kept, ProviderContext())  # refuses a malformed key now, not at the first sync
    sealed = seal(kept)
    with session_scope(engine) as session:
        values_row = {"workspace_id": workspace_id, "provider": name, "credentials": sealed, "created_at": utcnow(),
                      "updated_at": utcnow()}  # fmt: skip
        if not insert_unless_present(session, BankProviderRecord, values_row, ["workspace_id", "provider"]):
            record = session.exec(
                select(BankProviderRecord).where(
                    col(BankProviderRecord.workspace_id) == workspace_id, col(BankProviderRecord.provider) == name
                )
            ).one()
            record.credentials = sealed
            record.updated_at = utcnow()
        # The audit names the fields that were set, never their values.
        audit(session, workspace_id, actor, "bank_provider.credentials_set", "bank_provider", name, fields=sorted(kept))
