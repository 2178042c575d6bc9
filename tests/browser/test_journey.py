"""The newcomer's whole way, in a real browser: first run → the sandbox bank through its consent page → a
Telegram bot and group linked → a suggested payment paired on the workbench → the group is told, once.

Every page on the way is saved as a screenshot (README shows some of them).
"""

from __future__ import annotations

import asyncio
import re
from typing import Any

from sqlmodel import Session, col, select

from reconbot.core.domain import TransactionStatus
from reconbot.core.persistence.chat_tables import ChatIdentityRecord
from reconbot.core.persistence.tables import AllocationRecord, BankTransactionRecord, InvoiceRecord
from tests.browser.journey import first_run
from tests.fakes.telegram import BOT_USERNAME, TOKEN, message_update
from tests.support.browser import LiveSite, snap

GROUP = -100500
ANNA_ON_TELEGRAM = 555


def _suggested(site: LiveSite) -> list[int]:
    with Session(site.engine) as session:
        query = select(BankTransactionRecord.id).where(
            col(BankTransactionRecord.status) == TransactionStatus.SUGGESTED, ~col(BankTransactionRecord.pending)
        )
        return [i for i in session.exec(query) if i is not None]


async def test_a_newcomer_connects_the_sandbox_links_telegram_and_pairs_a_payment(
    live_site: LiveSite, page: Any
) -> None:
    site = live_site
    await first_run(page, site.url, shoot=True)

    # The sandbox bank: its consent page, Approve, back to reconbot, which syncs at once.
    await page.click("text=Try the sandbox bank")
    await page.wait_for_selector("text=Approve")
    assert "Sandbox Bank HU" in await page.inner_text("main")
    await snap(page, "03-sandbox-consent")
    await page.click("text=Approve")
    await page.wait_for_selector("text=Open the workbench")
    assert "Sandbox Bank HU connected" in await page.inner_text("main")
    await snap(page, "04-bank-connected")
    suggested = _suggested(site)
    assert suggested, "the sandbox's customers left nothing for a person to check"

    # Telegram: the bot token, a group for notifications, a test message that arrives once.
    await page.goto(site.url + "/chat")
    await page.fill("#telegram-bot_token", TOKEN)
    await page.click("text=Connect Telegram")
    await page.wait_for_load_state()
    assert f"@{BOT_USERNAME}" in await page.inner_text("main")
    assert TOKEN not in await page.content()
    await page.select_option("#channel-platform", "telegram")
    await page.fill("#channel-address", str(GROUP))
    await page.fill("#channel-name", "Kert pénzügy")
    for box in await page.locator("input[name=kinds]").all():
        await box.check()
    await page.check("input[name=bank_data]")
    await page.click("button:has-text('Link')")
    await page.wait_for_load_state()
    await page.click("text=Send a test message")
    await page.wait_for_load_state()
    await snap(page, "05-chat")
    await site.telegram.wait_for("sendMessage")
    # Anna links her own Telegram account through the deep link the Members page gives her.
    await page.goto(site.url + "/members")
    await page.click("text=Telegram link…")
    link = await page.input_value("input[aria-label='Telegram link']")
    code = re.fullmatch(rf"https://t\.me/{BOT_USERNAME}\?start=(\S+)", link)
    assert code is not None, link
    site.telegram.push_update(message_update(ANNA_ON_TELEGRAM, ANNA_ON_TELEGRAM, f"/start {code.group(1)}"))
    for _ in range(100):
        with Session(site.engine) as session:
            if session.exec(select(ChatIdentityRecord)).first() is not None:
                break
        await asyncio.sleep(0.1)
    await page.goto(site.url + "/members")
    assert f"telegram:{ANNA_ON_TELEGRAM}" in await page.inner_text("main")
    await snap(page, "06-members")

    # The workbench: open a suggested payment, read the reasons, pair it with the first candidate.
    await page.goto(site.url + "/workbench")
    await snap(page, "07-workbench")
    transaction = suggested[0]
    await page.goto(f"{site.url}/workbench/{transaction}")
    await snap(page, "08-workbench-transaction")
    await page.locator("form[action$='/pair'] button").first.click()
    await page.wait_for_load_state()
    assert "Paired with" in await page.inner_text("main")
    await snap(page, "09-paired")
    with Session(site.engine) as session:
        allocations = session.exec(
            select(AllocationRecord).where(col(AllocationRecord.transaction_id) == transaction)
        ).all()
        tx = session.get_one(BankTransactionRecord, transaction)
    assert [a.created_by for a in allocations] == ["web:anna@kert.test"] or len(allocations) > 1
    assert all(a.created_by == "web:anna@kert.test" and a.undone_at is None for a in allocations)
    assert tx.status is TransactionStatus.MATCHED

    # The group hears everything once, paced at one message per 3 s: the bank connected, a digest of the first
    # sync's events (they waited for a channel), and the test message. The pairing Anna made herself is not
    # announced back (chat tells people what they did not see happen).
    with Session(site.engine) as session:
        paired = session.get_one(InvoiceRecord, allocations[0].invoice_id).number

    def to_group() -> list[str]:
        return [m["text"] for m in site.telegram.calls_to("sendMessage") if str(m["chat_id"]) == str(GROUP)]

    for _ in range(200):
        if any("tesztüzenet" in text for text in to_group()):
            break
        await asyncio.sleep(0.1)
    await asyncio.sleep(4)  # another paced round: nothing more
    told = to_group()
    assert len(told) == 3 and "Sandbox Bank HU" in told[0] and "banki esemény" in told[1], told
    assert sum("tesztüzenet" in text for text in told) == 1, told
    assert not any(paired in text for text in told), told

    # Every other page, for the screenshots and to see each one render for the owner.
    pages = (("/bank", "10-bank"), ("/invoices", "11-invoices"), ("/invoicing", "12-invoicing"),
             ("/settings", "13-settings"), ("/audit", "14-audit"), ("/status", "15-status"),
             ("/handoff", "17-handoff"), ("/archive", "18-archive"), ("/", "16-home"))  # fmt: skip
    for path, name in pages:
        response = await page.goto(site.url + path)
        assert response is not None and response.status == 200, path
        await snap(page, name)
