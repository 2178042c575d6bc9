"""The matching settings page through the real web app: shown, saved and audited; bad input changes nothing."""

from __future__ import annotations

from decimal import Decimal
from html import unescape

from sqlmodel import Session, col, select

from reconbot.core.persistence.tables import AuditEventRecord, WorkspaceRecord
from reconbot.core.roles import Role
from tests.support.panel import Panel

GOOD = {
    "auto_match": "on",
    "sync_times": "08:30, 17:00",
    "reminder_days": "10,3",
    "history_days": "30",
    "tolerance": "3",
}


def workspace(panel: Panel) -> WorkspaceRecord:
    with Session(panel.engine) as session:
        return session.get_one(WorkspaceRecord, panel.workspace_id)


async def test_the_page_shows_the_settings_and_saving_stores_and_audits_them(panel: Panel) -> None:
    owner = await panel.visitor()
    status, body = await owner.get("/settings")
    assert status == 200 and 'value="11:45,15:15,18:30"' in body and 'value="8,2"' in body and 'value="3"' in body
    status, body = await owner.post("/settings", {**GOOD, "auto_match": ""})
    assert status == 200 and "Matching settings saved." in body
    saved = workspace(panel)
    assert (saved.auto_match, saved.sync_times, saved.consent_reminder_days, saved.feed_history_days) == (
        False, "08:30, 17:00", "10,3", 30)  # fmt: skip
    with Session(panel.engine) as session:
        audit = session.exec(
            select(AuditEventRecord).where(col(AuditEventRecord.action) == "workspace.matching_settings")
        ).one()
    assert (
        audit.actor == "web:anna@kert.test" and audit.data["auto_match"] is False and audit.data["history_days"] == 30
    )
    status, body = await owner.post("/settings", {**GOOD, "tolerance": "2,5"})
    assert workspace(panel).auto_match is True and workspace(panel).amount_tolerance == Decimal("0.025")
    assert 'value="2.5"' in (await owner.get("/settings"))[1]


async def test_a_bad_setting_is_named_and_nothing_is_stored(panel: Panel) -> None:
    owner = await panel.visitor()
    for field, bad, said in (("sync_times", "25:00", "'25:00' is not a time like 11:45"),
                             ("reminder_days", "8,two", "'two' is not a positive whole number"),
                             ("history_days", "0", "from 1 to 730"),
                             ("history_days", "a week", "from 1 to 730"),
                             ("tolerance", "15", "a percentage from 0 to 10"),
                             ("tolerance", "three", "a percentage from 0 to 10")):  # fmt: skip
        status, page = await owner.post("/settings", {**GOOD, field: bad})
        body = unescape(page)
        assert status == 400 and said in body and body.count('class="error"') == 1, (field, body)
        assert f'value="{bad}"' in body  # what was typed stays in the form
        kept = workspace(panel)
        assert (kept.auto_match, kept.sync_times, kept.consent_reminder_days, kept.feed_history_days) == (
            True, "11:45,15:15,18:30", "8,2", 7)  # fmt: skip


async def test_only_owners_and_admins_see_or_change_the_settings(panel: Panel) -> None:
    for role in (Role.ACCOUNTANT, Role.OPERATOR, Role.INVOICING):
        visitor = await panel.visitor(role)
        assert (await visitor.get("/settings"))[0] == 403
        assert (await visitor.post("/settings", {**GOOD, "auto_match": ""}))[0] == 403
    assert workspace(panel).auto_match is True
    admin = await panel.visitor(Role.ADMIN)
    assert (await admin.post("/settings", {**GOOD, "auto_match": ""}))[0] == 200
    assert workspace(panel).auto_match is False
