"""``/metrics`` through the real web app: values match what is stored, and only allowed scrapers read them."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlmodel import Session

from reconbot.admin.metrics import TOKEN_ENV
from reconbot.core.domain import Direction, InvoiceStatus
from reconbot.core.persistence.database import session_scope
from reconbot.core.persistence.tables import InvoiceRecord, WorkspaceRecord
from tests.admin.test_status_pages import IBAN, seed
from tests.support.panel import Panel

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


async def scrape(panel: Panel, headers: dict[str, str] | None = None) -> tuple[int, str]:
    async with aiohttp.ClientSession() as http, http.get(panel.url + "/metrics", headers=headers) as response:
        return response.status, await response.text()


def samples(text: str) -> Samples:
    return {(s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}  # fmt: skip


def value(found: Samples, name: str, **labels: str) -> float:
    return found[(name, frozenset(labels.items()))]


async def test_the_gauges_match_what_is_stored(panel: Panel) -> None:
    seeded = seed(panel.engine, panel.workspace_id, panel.clock())
    with session_scope(panel.engine) as session:
        for n, paid in enumerate([InvoiceStatus.ISSUED, InvoiceStatus.PARTIALLY_PAID, InvoiceStatus.PAID]):
            session.add(InvoiceRecord(workspace_id=panel.workspace_id, direction=Direction.ISSUED, number=f"N{n}",
                                      issue_date=date(2026, 2, 1), gross=Decimal("1000"), currency="HUF",
                                      status=paid, source="csv", natural_key=f"k{n}"))  # fmt: skip
    with Session(panel.engine) as session:
        workspace = session.get(WorkspaceRecord, panel.workspace_id)
        assert workspace is not None
        slug = workspace.slug
    status, text = await scrape(panel)
    assert status == 200
    found = samples(text)
    assert value(found, "reconbot_bank_transactions", workspace=slug, status="unmatched") == 3
    assert value(found, "reconbot_bank_transactions", workspace=slug, status="matched") == 1
    assert value(found, "reconbot_bank_transactions", workspace=slug, status="ignored") == 0
    assert value(found, "reconbot_open_invoices", workspace=slug, direction="issued") == 2
    assert value(found, "reconbot_chat_messages", workspace=slug, status="pending") == 2
    assert value(found, "reconbot_chat_messages", workspace=slug, status="failed") == 0
    assert value(found, "reconbot_chat_oldest_pending_seconds", workspace=slug) == 90 * 60
    assert value(found, "reconbot_write_back_operations", workspace=slug, status="failed") == 1
    assert value(found, "reconbot_write_back_operations", workspace=slug, status="pending") == 1
    assert value(found, "reconbot_bank_connections", workspace=slug, status="active") == 1
    account, connection = str(seeded.account_id), str(seeded.connection_id)
    assert value(found, "reconbot_bank_account_seconds_since_sync", workspace=slug, account=account) == 2 * 3600
    assert value(found, "reconbot_consent_days_left", workspace=slug, connection=connection) == 10
    assert value(found, "reconbot_scheduler_running") == 0
    assert IBAN not in text and "Kert" not in text  # ids and the slug only


async def test_with_a_token_set_only_scrapes_bearing_it_are_answered(
    panel: Panel, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(TOKEN_ENV, "scrape-token-0123456789")
    status, text = await scrape(panel)
    assert status == 401 and "reconbot_" not in text
    status, _ = await scrape(panel, {"Authorization": "Bearer wrong-token"})
    assert status == 401
    status, text = await scrape(panel, {"Authorization": "Bearer scrape-token-0123456789"})
    assert status == 200 and "reconbot_bank_transactions" in text


async def test_without_a_token_only_local_scrapes_that_came_through_no_proxy_are_answered(
    panel: Panel, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(TOKEN_ENV, raising=False)
    status, text = await scrape(panel)  # the test server listens on 127.0.0.1
    assert status == 200 and "reconbot_bank_transactions" in text
    status, text = await scrape(panel, {"X-Forwarded-For": "203.0.113.7"})
    assert status == 403 and "reconbot_" not in text
