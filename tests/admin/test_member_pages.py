"""Members and roles in the panel: inviting, sign-in links, roles, removing, and linking Slack accounts."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from reconbot.core.persistence.tables import AuditEventRecord
from reconbot.core.roles import Role
from reconbot.core.services.people.members import find_member
from tests.support.panel import OWNER_EMAIL, Panel, Visitor
from tests.support.people import PASSWORD


def row(body: str, name: str) -> str:
    """Return the members table's row of ``name`` (failing when there is none)."""
    found = [chunk for chunk in body.split("<tr>") if f"<td>{name}" in chunk]
    assert len(found) == 1, f"no single row for {name}"
    return found[0].split("</tr>")[0]


def member_id(panel: Panel, name: str) -> int:
    return find_member(panel.engine, panel.workspace_id, name).id


async def invite(panel: Panel, owner: Visitor, name: str, email: str, role: Role) -> str:
    """Invite through the page; return the invitation token it showed."""
    status, body = await owner.post("/members/invite", {"name": name, "email": email, "role": role.value})
    assert status == 200, body
    link = re.search(rf'value="{re.escape(panel.feeds.public_url)}/invite/([A-Za-z0-9_-]+)"', body)
    assert link, body
    return link[1]


async def test_an_invitation_link_shown_once_signs_the_member_in(engine: Engine, panel: Panel) -> None:
    owner = await panel.visitor()
    status, body = await owner.get("/members")
    assert status == 200 and "signed in" in row(body, "Anna Kovács")
    token = await invite(panel, owner, "Béla Szabó", "bela@kert.test", Role.ACCOUNTANT)
    _, body = await owner.get("/members")
    assert "invited" in row(body, "Béla Szabó") and token not in body  # the link is not shown again

    bela = await panel.visitor(None)
    status, body = await bela.get(f"/invite/{token}")
    assert status == 200 and "Béla Szabó" in body
    status, body = await bela.post(f"/invite/{token}", {"password": PASSWORD, "password_again": PASSWORD})
    assert status == 200 and "Welcome to Kert-Építő Kft.!" in body
    _, body = await owner.get("/members")
    assert "signed in" in row(body, "Béla Szabó") and "accountant" in row(body, "Béla Szabó")
    with Session(engine) as session:
        actors = session.exec(
            select(AuditEventRecord.actor).where(col(AuditEventRecord.action) == "member.added",
                                                 col(AuditEventRecord.entity_id) == str(member_id(panel, "Béla Szabó")))
        ).all()  # fmt: skip
    assert actors == [f"web:{OWNER_EMAIL}"]


async def test_a_bad_invitation_is_refused_with_one_message_and_nothing_stored(panel: Panel) -> None:
    owner = await panel.visitor()
    status, body = await owner.post("/members/invite", {"name": "Cili", "email": "not-an-address", "role": "invoicing"})
    assert status == 400 and "is not an e-mail address" in body
    status, body = await owner.post("/members/invite", {"name": "Cili", "email": "c@kert.test", "role": "boss"})
    assert status == 400 and "&#39;boss&#39; is not a role" in body
    _, body = await owner.get("/members")
    assert "Cili" not in body


async def test_a_role_is_set_and_a_new_sign_in_link_replaces_a_lost_one(panel: Panel) -> None:
    owner = await panel.visitor()
    await invite(panel, owner, "Dani Kiss", "dani@kert.test", Role.ACCOUNTANT)
    dani = member_id(panel, "Dani Kiss")
    status, body = await owner.post(f"/members/{dani}/role", {"role": "operator"})
    assert status == 200 and "Dani Kiss is now operator." in body
    assert '<option value="operator" selected>' in row(body, "Dani Kiss")

    status, body = await owner.post(f"/members/{dani}/reinvite")
    assert status == 200 and "A new sign-in link for Dani Kiss" in body
    token = re.search(r"/invite/([A-Za-z0-9_-]+)\"", body)
    assert token
    status, body = await (await panel.visitor(None)).get(f"/invite/{token[1]}")
    assert status == 200 and "Dani Kiss" in body
    with Session(panel.engine) as session:
        done = session.exec(
            select(AuditEventRecord.action, AuditEventRecord.actor).where(
                col(AuditEventRecord.entity_id) == str(dani), col(AuditEventRecord.entity_type) == "member"
            )
        ).all()
    assert {("member.role_set", f"web:{OWNER_EMAIL}"), ("member.sign_in_link_issued", f"web:{OWNER_EMAIL}")} <= set(
        done
    )


async def test_the_last_owner_stays_and_others_can_be_removed(panel: Panel) -> None:
    owner = await panel.visitor()
    anna = member_id(panel, "Anna Kovács")
    status, body = await owner.post(f"/members/{anna}/remove")
    assert status == 400 and "A workspace needs an owner" in body
    status, body = await owner.post(f"/members/{anna}/role", {"role": "admin"})
    assert status == 400 and "A workspace needs an owner" in body
    await invite(panel, owner, "Béla Szabó", "bela@kert.test", Role.ACCOUNTANT)
    status, body = await owner.post(f"/members/{member_id(panel, 'Béla Szabó')}/remove")
    assert status == 200 and "Béla Szabó was removed." in body
    assert "signed in" in row(body, "Anna Kovács") and "<td>Béla Szabó" not in body


async def test_a_slack_user_is_linked_to_a_member(panel: Panel) -> None:
    owner = await panel.visitor()
    anna = member_id(panel, "Anna Kovács")
    status, body = await owner.post(f"/members/{anna}/slack", {"slack_user": "U0ANNA"})
    assert status == 200 and "slack:U0ANNA" in row(body, "Anna Kovács")
    status, body = await owner.post(f"/members/{anna}/slack", {"slack_user": "<U0 x>"})
    assert status == 400 and "is not a Slack user id" in body


@pytest.mark.parametrize("role", [Role.ACCOUNTANT, Role.ACCOUNTANT_INVOICING, Role.INVOICING, Role.OPERATOR])
async def test_only_owners_and_admins_manage_members(panel: Panel, role: Role) -> None:
    visitor = await panel.visitor(role)
    anna = member_id(panel, "Anna Kovács")
    assert (await visitor.get("/members"))[0] == 403
    for path, data in (("/members/invite", {"name": "Eve", "email": "eve@kert.test", "role": "owner"}),
                       (f"/members/{anna}/role", {"role": "operator"}), (f"/members/{anna}/remove", {}),
                       (f"/members/{anna}/reinvite", {}), (f"/members/{anna}/telegram", {}),
                       (f"/members/{anna}/slack", {"slack_user": "U0EVE"})):  # fmt: skip
        status, body = await visitor.post(path, data)
        assert status == 403 and "/invite/" not in body, path
    _, body = await (await panel.visitor()).get("/members")
    assert "Eve" not in body and '<option value="owner" selected>' in row(body, "Anna Kovács")
    assert "U0EVE" not in body


async def test_an_admin_manages_members(panel: Panel) -> None:
    admin = await panel.visitor(Role.ADMIN)
    assert (await admin.get("/members"))[0] == 200
    await invite(panel, admin, "Béla Szabó", "bela@kert.test", Role.ACCOUNTANT)
