"""The audit log page through the real web app: events newest first, filters, exact keyset paging, roles."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from reconbot.core.persistence.database import session_scope
from reconbot.core.persistence.tables import AuditEventRecord, Language, WorkspaceRecord
from reconbot.core.roles import Role
from reconbot.core.services.events import audit
from reconbot.core.services.invoicing.sources import save_credentials
from reconbot.core.services.people.members import add_member
from reconbot.core.services.status.audit_log import PAGE_SIZE
from tests.support.panel import Panel

EVENT_ID = re.compile(r'<tr id="event-(\d+)">')
OLDER = re.compile(r'<a href="([^"]+)" rel="next">Older')


async def test_a_member_added_shows_up_first_with_its_details_in_the_workspace_time(panel: Panel) -> None:
    add_member(panel.engine, panel.workspace_id, "Béla Szabó", Role.ACCOUNTANT, actor="web:anna@kert.test")
    with Session(panel.engine) as session:
        event = session.exec(select(AuditEventRecord).order_by(col(AuditEventRecord.id).desc())).first()
    assert event is not None and event.action == "member.added"
    status, body = await (await panel.visitor()).get("/audit")
    assert status == 200
    assert EVENT_ID.findall(body)[0] == str(event.id)  # newest first
    row = body[body.index(f'id="event-{event.id}"') :].split("</tr>")[0]
    local = event.created_at.astimezone(ZoneInfo("Europe/Budapest")).strftime("%Y-%m-%d %H:%M:%S")
    assert local in row and "web:anna@kert.test" in row and "member.added" in row
    assert "name=Béla Szabó; role=accountant" in row


async def test_paging_shows_every_event_exactly_once_even_when_many_share_a_moment(panel: Panel) -> None:
    moment = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    with session_scope(panel.engine) as session:
        for n in range(2 * PAGE_SIZE + 7):  # 60 events at the same instant straddle the first page's end
            record = AuditEventRecord(workspace_id=panel.workspace_id, actor="test", action="test.paged",
                                      entity_type="thing", entity_id=str(n),
                                      created_at=moment if n < 60 else moment - timedelta(minutes=n))  # fmt: skip
            session.add(record)
    with Session(panel.engine) as session:
        query = select(AuditEventRecord.id).where(col(AuditEventRecord.workspace_id) == panel.workspace_id)
        expected = [str(i) for i in session.exec(query.order_by(col(AuditEventRecord.created_at).desc(),
                                                                 col(AuditEventRecord.id).desc()))]  # fmt: skip
    owner = await panel.visitor()
    seen: list[str] = []
    sizes = []
    path: str | None = "/audit"
    while path is not None:
        status, body = await owner.get(path.replace("&amp;", "&"))
        assert status == 200
        ids = EVENT_ID.findall(body)
        seen += ids
        sizes.append(len(ids))
        older = OLDER.search(body)
        path = older.group(1) if older else None
    assert seen == expected
    assert sizes[:-1] == [PAGE_SIZE] * (len(sizes) - 1) and 0 < sizes[-1] <= PAGE_SIZE


async def test_filters_by_action_actor_and_day_keep_to_what_was_asked(panel: Panel) -> None:
    with session_scope(panel.engine) as session:
        audit(session, panel.workspace_id, "web:anna@kert.test", "member.role_set", "member", 1, role="admin")
        audit(session, panel.workspace_id, "scheduler", "bank.synced", "bank_account", 1, new=3)
    owner = await panel.visitor()
    _, body = await owner.get("/audit?action=member.")
    assert "member.role_set" in body and "bank.synced" not in body
    _, body = await owner.get("/audit?actor=SCHED")
    assert "bank.synced" in body and "member.role_set" not in body
    today = datetime.now(ZoneInfo("Europe/Budapest")).date()
    _, body = await owner.get(f"/audit?since={today + timedelta(days=1)}")
    assert not EVENT_ID.findall(body) and "No audit events match these filters." in body
    _, body = await owner.get(f"/audit?since={today}&until={today}&action=bank.")
    assert len(EVENT_ID.findall(body)) == 1
    status, body = await owner.get("/audit?since=yesterday")
    assert status == 400 and "not a date like 2026-03-02" in body
    status, _ = await owner.get("/audit?after=garbage")
    assert status == 400


async def test_credentials_saved_are_audited_without_their_values(panel: Panel) -> None:
    save_credentials(panel.engine, panel.workspace_id, "billingo", {"api_key": "sekret-billingo-key-123"},
                     actor="web:anna@kert.test")  # fmt: skip
    _, body = await (await panel.visitor()).get("/audit")
    assert "invoice_source.credentials_set" in body and "fields=api_key" in body
    assert "sekret-billingo-key-123" not in body


async def test_only_owners_and_admins_read_the_log_and_only_their_workspace(panel: Panel) -> None:
    with session_scope(panel.engine) as session:
        other = WorkspaceRecord(slug="other", name="Other Kft.", country="HU", language=Language.EN)
        session.add(other)
        session.flush()
        assert other.id is not None
        other_id = other.id
    add_member(panel.engine, other_id, "Eve Other", Role.OWNER, actor="web:eve@other.test")
    for role in (Role.OPERATOR, Role.INVOICING, Role.ACCOUNTANT):
        status, body = await (await panel.visitor(role)).get("/audit")
        assert status == 403 and "This page is for admin, owner" in body and "event-" not in body
    status, body = await (await panel.visitor(Role.ADMIN)).get("/audit")
    assert status == 200 and "Admin Tester" in body and "Eve Other" not in body
