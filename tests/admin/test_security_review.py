"""What a security review of the panel found, each kept fixed: redirects, revived members, invitation guessing,
owners made by admins, ids too large for the database, malformed filters."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from reconbot.core.persistence.database import session_scope
from reconbot.core.roles import Role
from reconbot.core.services.people.invitations import invite
from reconbot.core.services.people.members import find_member, remove_member
from reconbot.core.services.people.sessions import open_session, viewer_for
from reconbot.core.services.people.sign_in import FAILURES_PER_EMAIL
from tests.support.panel import OWNER_EMAIL, Panel
from tests.support.people import PASSWORD


async def test_sign_in_never_redirects_off_site(panel: Panel) -> None:
    for target in ("//evil.example", "/\t/evil.example", "/\\evil.example", "https://evil.example/", "/\n/evil"):
        visitor = await panel.visitor(None)  # each sign-in gives the browser a new CSRF key
        async with visitor.http.post(panel.url + "/login", allow_redirects=False,
                                     data={"csrf_token": visitor.csrf, "email": OWNER_EMAIL, "password": PASSWORD,
                                           "next": target}) as response:  # fmt: skip
            assert response.status == 303 and response.headers["Location"] == "/", target


async def test_a_removed_member_name_given_to_someone_new_does_not_bring_the_old_account_back(panel: Panel) -> None:
    old_bob = panel.account_for(Role.ACCOUNTANT, "Bob Book")
    token = open_session(panel.engine, old_bob, now=panel.clock(), workspace_id=panel.workspace_id)
    carl, carl_link = invite(panel.engine, panel.workspace_id, "Carl", "carl@kert.test", Role.OPERATOR, actor="t",
                             now=panel.clock())  # fmt: skip
    remove_member(panel.engine, panel.workspace_id, find_member(panel.engine, panel.workspace_id, "Bob Book").id,
                  actor="t")  # fmt: skip
    remove_member(panel.engine, panel.workspace_id, carl, actor="t")
    owner = await panel.visitor()
    for name in ("Bob Book", "Carl"):
        status, _ = await owner.post("/members/invite", {"name": name, "email": f"new.{name[:3]}@kert.test",
                                                         "role": "admin"})  # fmt: skip
        assert status == 200, name
    assert viewer_for(panel.engine, token, now=panel.clock()) is None  # the old Bob's browser stays out
    assert (await (await panel.visitor(None)).get(f"/invite/{carl_link}"))[0] == 404  # the old Carl's link too


async def test_invitation_links_are_no_way_around_the_sign_in_throttle(panel: Panel) -> None:
    visitor = await panel.visitor(None)
    owner_link = invite_for_existing(panel)
    for _ in range(FAILURES_PER_EMAIL):
        status, _ = await visitor.post(f"/invite/{owner_link}", {"password": "a wrong guess!!"})
        assert status == 400
    status, body = await visitor.post(f"/invite/{owner_link}", {"password": PASSWORD})
    assert status == 400 and "too many failed sign-ins" in body


def invite_for_existing(panel: Panel) -> str:
    """Return an invitation of another workspace's member with the owner's e-mail (an account that exists)."""
    from reconbot.core.services.workspaces import ensure_workspace

    with session_scope(panel.engine) as session:
        other = ensure_workspace(session, "virag", name="Virág Bt.").id
    assert other is not None
    _, token = invite(panel.engine, other, "Anna", OWNER_EMAIL, Role.ADMIN, actor="t", now=panel.clock())
    return token


async def test_an_admin_gets_no_sign_in_link_of_an_owner_who_has_not_signed_in_yet(panel: Panel) -> None:
    # Whoever opens such a link chooses the password and signs in as that owner.
    cecil, _ = invite(panel.engine, panel.workspace_id, "Cecil", "cecil@kert.test", Role.OWNER, actor="t",
                      now=panel.clock())  # fmt: skip
    admin = await panel.visitor(Role.ADMIN, name="Ada Admin")
    status, body = await admin.post(f"/members/{cecil}/reinvite")
    assert status == 400 and "only an owner may" in body.lower() and "/invite/" not in body
    status, body = await (await panel.visitor()).post(f"/members/{cecil}/reinvite")
    assert status == 200 and "/invite/" in body


async def test_only_an_owner_makes_owners_or_changes_or_removes_one(panel: Panel) -> None:
    admin = await panel.visitor(Role.ADMIN, name="Ada Admin")
    status, body = await admin.post("/members/invite", {"name": "Eve", "email": "eve@kert.test", "role": "owner"})
    assert status == 400 and "only an owner may" in body.lower()
    ada = find_member(panel.engine, panel.workspace_id, "Ada Admin").id
    anna = find_member(panel.engine, panel.workspace_id, "Anna Kovács").id
    assert (await admin.post(f"/members/{ada}/role", {"role": "owner"}))[0] == 400
    assert (await admin.post(f"/members/{anna}/remove"))[0] == 400
    assert (await admin.post(f"/members/{anna}/role", {"role": "operator"}))[0] == 400
    owner = await panel.visitor()
    assert (await owner.post(f"/members/{ada}/role", {"role": "owner"}, follow=False))[0] == 303


async def test_ids_too_large_for_the_database_are_not_found_and_bad_filters_are_told(panel: Panel) -> None:
    owner = await panel.visitor()
    huge = "9" * 30
    for path in (f"/workbench/{huge}", f"/invoices/{huge}"):
        assert (await owner.get(path))[0] == 404, path
    for path in (f"/members/{huge}/remove", f"/bank/{huge}/sync", f"/chat/channels/{huge}/remove"):
        assert (await owner.post(path))[0] == 404, path
    assert (await owner.get("/audit?until=9999-12-31"))[0] == 200
    assert (await owner.get("/audit?after=20260101T000000.000000_" + "9" * 25))[0] == 400
    status, _ = await owner.post("/settings", {"auto_match": "on", "sync_times": "11:45", "reminder_days": "8,2",
                                               "history_days": "7", "tolerance": "sNaN"})  # fmt: skip
    assert status == 400


async def test_a_page_asked_for_before_sign_in_comes_back_with_its_whole_query(panel: Panel) -> None:
    visitor = await panel.visitor(None)
    async with visitor.http.get(panel.url + "/workbench?status=all&q=abc", allow_redirects=False) as response:
        location = urlsplit(response.headers["Location"])
    assert location.path == "/login" and parse_qs(location.query) == {"next": ["/workbench?status=all&q=abc"]}
