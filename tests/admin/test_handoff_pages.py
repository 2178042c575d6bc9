"""The accountant handoff page: receivers set up by owners, invoices marked by invoicing roles, sent once,
the backfill used once, and each document's state shown."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from reconbot.core.roles import Role
from reconbot.core.services.handoff.sending import MAX_ATTEMPTS
from reconbot.core.services.invoicing.imports import import_invoices
from tests.fakes.handoff_webhook import FakeHandoffWebhook
from tests.fakes.server import serve
from tests.support.books import INVOICES_HEADER
from tests.support.panel import Panel

INVOICES = INVOICES_HEADER + (
    "E-2026-1,issued,invoice,Fekete Bt.,23456789-2-13,,,2026-02-20,2026-03-06,127000,HUF,0,issued\n"
    "E-2026-2,issued,invoice,Zöld Kert Kft.,,,,2026-02-25,2026-03-10,45000,HUF,0,issued\n"
)


@pytest.fixture
async def receiver() -> AsyncIterator[tuple[FakeHandoffWebhook, str]]:
    fake = FakeHandoffWebhook()
    async with serve(fake.app) as url:
        yield fake, f"{url}/hook"


def invoice_ids(panel: Panel, tmp_path: Path) -> None:
    path = tmp_path / "invoices.csv"
    path.write_text(INVOICES, encoding="utf-8")
    import_invoices(panel.engine, panel.workspace_id, path, actor="test")


async def test_an_owner_sets_up_a_webhook_and_an_invoicing_member_hands_an_invoice_over_once(
    panel: Panel, receiver: tuple[FakeHandoffWebhook, str], tmp_path: Path
) -> None:
    fake, url = receiver
    invoice_ids(panel, tmp_path)
    owner = await panel.visitor()
    status, body = await owner.post("/handoff/webhook", {"url": url, "secret": fake.secret, "interval": "30"})
    assert status == 200 and "The webhook receiver is saved." in body and "Manual mode" in body
    assert fake.secret not in body
    assert body.count("not sent") == 2

    clerk = await panel.visitor(Role.INVOICING)
    _, page = await clerk.get("/handoff")
    assert "Mark for sending" in page and "Set up" not in page  # invoicing roles mark; they do not set up
    invoice = int(page.split('name="invoice" value="')[1].split('"')[0])
    status, body = await clerk.post("/handoff/mark", {"invoice": str(invoice)})
    assert status == 200 and "waiting to be sent" in body
    status, body = await clerk.post("/handoff/send")
    assert status == 200 and "Sent 1;" in body and body.count("not sent") == 1
    await clerk.post("/handoff/send")
    assert len(fake.requests) == 1  # sent once, however often someone presses


async def test_the_backfill_marks_from_a_day_once_and_the_page_says_it_was_used(
    panel: Panel, receiver: tuple[FakeHandoffWebhook, str], tmp_path: Path
) -> None:
    fake, url = receiver
    invoice_ids(panel, tmp_path)
    owner = await panel.visitor()
    await owner.post("/handoff/webhook", {"url": url, "secret": fake.secret, "interval": "30"})
    status, body = await owner.post("/handoff/backfill", {"from": "2026-02-24"})
    assert status == 200 and "1 documents from 2026-02-24 are waiting to be sent." in body
    assert "it can be used only once" in body and 'action="/handoff/backfill"' not in body
    status, body = await owner.post("/handoff/backfill", {"from": "2026-01-01"})
    assert status == 400 and "only once" in body


async def test_roles_bad_input_and_secrets(panel: Panel, receiver: tuple[FakeHandoffWebhook, str]) -> None:
    _, url = receiver
    operator = await panel.visitor(Role.OPERATOR)
    assert (await operator.get("/handoff"))[0] == 403
    accountant = await panel.visitor(Role.ACCOUNTANT)
    assert (await accountant.get("/handoff"))[0] == 200
    assert (await accountant.post("/handoff/mark", {"invoice": "1"}))[0] == 403
    assert (await accountant.post("/handoff/webhook", {"url": url, "secret": "s"}))[0] == 403
    owner = await panel.visitor()
    status, body = await owner.post("/handoff/webhook", {"url": "not an address", "secret": "s3cret-value-long"})
    assert status == 400 and "Not saved:" in body and "s3cret-value-long" not in body
    assert (await owner.post("/handoff/backfill", {"from": "yesterday"}))[0] == 400
    assert (await owner.post("/handoff/mark", {"invoice": "9" * 30}))[0] == 400


async def test_a_document_that_failed_is_listed_and_an_invoicing_member_sends_it_again(
    panel: Panel, receiver: tuple[FakeHandoffWebhook, str], tmp_path: Path
) -> None:
    fake, url = receiver
    invoice_ids(panel, tmp_path)
    owner = await panel.visitor()
    await owner.post("/handoff/webhook", {"url": url, "secret": fake.secret, "interval": "30"})
    await owner.post("/handoff/backfill", {"from": "2026-02-24"})
    fake.always_fail = True
    for _ in range(MAX_ATTEMPTS):
        await owner.post("/handoff/send")
        panel.clock.advance(hours=5)
    clerk = await panel.visitor(Role.INVOICING)
    status, body = await clerk.get("/handoff")
    assert status == 200 and "Could not be handed over" in body and "HTTP 500" in body
    item = body.split('action="/handoff/items/')[1].split("/")[0]
    assert (await (await panel.visitor(Role.ACCOUNTANT)).post(f"/handoff/items/{item}/again"))[0] == 403
    fake.always_fail = False
    status, body = await clerk.post(f"/handoff/items/{item}/again")
    assert status == 200 and "Marked again" in body and "Could not be handed over" not in body
    status, body = await clerk.post("/handoff/send")
    assert "Sent 1;" in body
