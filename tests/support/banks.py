"""Steps the bank-feed tests share: the owner's trip through the sandbox bank's consent page, invoices to pay."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from reconbot.core.banks import sandbox
from reconbot.core.persistence.bank_tables import BankConsentRecord
from reconbot.core.services.banks.connections import ConsentLink, complete_consent, connect_bank
from reconbot.core.services.banks.providers import BankFeeds
from reconbot.core.services.invoicing.imports import import_invoices
from tests.support.books import INVOICES_HEADER


async def visit_bank(link_url: str, *, approve: bool = True) -> httpx.Response:
    """Do what the owner does: open the sandbox bank's page, press Approve (or Refuse), land on our callback."""
    async with httpx.AsyncClient(follow_redirects=True, timeout=10) as browser:
        page = await browser.get(link_url)
        assert page.status_code == 200, page.text
        query = {k: v[0] for k, v in parse_qs(urlsplit(link_url).query).items()}
        form = {k: query[k] for k in ("reference", "state", "redirect_url")}
        return await browser.post(
            str(page.url.copy_with(query=None)), data={**form, "decision": "approve" if approve else "refuse"}
        )


async def connect_sandbox(feeds: BankFeeds, workspace_id: int, bank: str = "Sandbox Bank HU") -> ConsentLink:
    """Connect the sandbox bank through its consent page; return the link that was followed."""
    link = await connect_bank(feeds, workspace_id, "sandbox", bank, actor="test")
    landed = await visit_bank(link.url)
    assert landed.status_code == 200 and "connected" in landed.text, landed.text
    return link


def import_recent_invoices(engine: Engine, workspace_id: int, today: date, folder: Path, count: int = 12) -> None:
    """Store ``count`` HUF invoices issued in the days before ``today``, for the sandbox bank to pay."""
    lines = [INVOICES_HEADER]
    partners = ["Kovács és Társa Bt.", "Zöldkert Kft.", "Szabó Anna", "Nagy Péter e.v.", "Tóth Építő Zrt."]
    for n in range(count):
        issued = today - timedelta(days=30 - 2 * n)
        partner = partners[n % len(partners)]
        lines.append(
            f"E-TEST-2026-{n + 1:03d},issued,invoice,{partner},,,,{issued},{issued + timedelta(days=8)},"
            f"{(n + 1) * 12700},HUF,0,issued\n"
        )
    path = folder / "INVOICES.csv"
    path.write_text("".join(lines), encoding="utf-8")
    import_invoices(engine, workspace_id, path, actor="test")


async def connect_sandbox_directly(feeds: BankFeeds, workspace_id: int, bank: str = "SANDBOX_HU") -> int:
    """Connect the sandbox bank without a browser (the callback's parameters built by hand); return the id."""
    link = await connect_bank(feeds, workspace_id, "sandbox", bank, actor="test")
    with Session(feeds.engine) as session:
        attempt = session.exec(select(BankConsentRecord).where(col(BankConsentRecord.state) == link.state)).one()
    callback = {"code": sandbox.approval_code(attempt.start_reference), "state": link.state}
    await complete_consent(feeds, link.state, callback)
    return link.connection_id
