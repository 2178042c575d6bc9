"""Members and roles: who belongs to the workspace, inviting people, their roles, and their chat accounts.

Invitation links and Telegram link codes are secrets: they are shown once, on the page that answers the
form post (never in a redirect's flash cookie, never stored in the clear).
"""

from __future__ import annotations

from aiohttp import web
from sqlmodel import Session

from admin.rendering import feeds, now, redirect_with, render, viewer
from admin.security import requires
from core.errors import SetupError
from core.persistence.chat_tables import Platform
from core.persistence.database import session_scope
from core.roles import SETUP_ROLES, Role
from core.services import accounts, chat_setup, members

ROLE_LABELS = {
    Role.OWNER: "owner",
    Role.ADMIN: "admin",
    Role.ACCOUNTANT: "accountant",
    Role.ACCOUNTANT_INVOICING: "accountant who may invoice",
    Role.INVOICING: "invoicing",
    Role.OPERATOR: "operator",
}


def register(app: web.Application) -> None:
    app.router.add_get("/members", members_page)
    app.router.add_post("/members/invite", invite_post)
    app.router.add_post("/members/{member_id:\\d{1,18}}/reinvite", reinvite_post)
    app.router.add_post("/members/{member_id:\\d{1,18}}/role", role_post)
    app.router.add_post("/members/{member_id:\\d{1,18}}/remove", remove_post)
    app.router.add_post("/members/{member_id:\\d{1,18}}/slack", slack_post)
    app.router.add_post("/members/{member_id:\\d{1,18}}/telegram", telegram_post)


def refuse(request: web.Request, exc: SetupError, title: str, back: str = "/members") -> web.Response:
    """Return the 400 page saying, as one sentence, why a form was not done, with a link ``back``."""
    text = str(exc).rstrip(".")
    return render(request, "message.html", status=400, ok=False, title=title,
                  message=text[:1].upper() + text[1:] + ".", back=back)  # fmt: skip


def invitation_link(request: web.Request, token: str) -> str:
    """Return the address that accepts the invitation ``token``."""
    return f"{feeds(request).public_url.rstrip('/')}/invite/{token}"


async def _form(request: web.Request) -> dict[str, str]:
    return {key: str(value).strip() for key, value in (await request.post()).items()}


def _role(value: str) -> Role:
    try:
        return Role(value)
    except ValueError:
        raise SetupError(f"{value or 'an empty role'!r} is not a role") from None


def _member_id(request: web.Request) -> int:
    return int(request.match_info["member_id"])


def _member(request: web.Request, member_id: int) -> members.Member:
    with Session(feeds(request).engine) as session:
        return members.member_by_id(session, viewer(request).workspace_id, member_id)


@requires(SETUP_ROLES)
async def members_page(request: web.Request) -> web.Response:
    """The members with their roles, sign-in and chat accounts, and the forms that change them."""
    workspace_id = viewer(request).workspace_id
    with Session(feeds(request).engine) as session:
        people = members.roster(session, workspace_id)
    telegram = [c for c in chat_setup.connections(feeds(request).engine, workspace_id)
                if c.platform is Platform.TELEGRAM]  # fmt: skip
    return render(request, "members.html", people=people, roles=ROLE_LABELS, telegram=bool(telegram))


@requires(SETUP_ROLES)
async def invite_post(request: web.Request) -> web.Response:
    """Add a member who signs in with their e-mail, and show their invitation link once."""
    form = await _form(request)
    try:
        role = _role(form.get("role", ""))
        members.check_owner_rule(viewer(request).role, role)
        who = viewer(request)
        _, token = accounts.invite(feeds(request).engine, who.workspace_id, form.get("name", ""),
                                   form.get("email", ""), role, actor=who.actor, now=now(request))  # fmt: skip
    except SetupError as exc:
        return refuse(request, exc, "Not invited")
    return _link_page(request, form.get("name", ""), invitation_link(request, token), invited=True)


@requires(SETUP_ROLES)
async def reinvite_post(request: web.Request) -> web.Response:
    """Show a fresh sign-in link for a member (a lost password, an expired invitation)."""
    member_id = _member_id(request)
    try:
        name = _member(request, member_id).name
        token = accounts.reinvite(feeds(request).engine, viewer(request).workspace_id, member_id,
                                  actor=viewer(request).actor, now=now(request))  # fmt: skip
    except SetupError as exc:
        return refuse(request, exc, "No link made")
    return _link_page(request, name, invitation_link(request, token), invited=False)


def _link_page(request: web.Request, name: str, link: str, *, invited: bool) -> web.Response:
    response = render(request, "members_link.html", name=" ".join(name.split()), link=link, invited=invited,
                      lifetime_days=accounts.INVITE_LIFETIME.days)  # fmt: skip
    response.headers["Cache-Control"] = "no-store"  # the link signs someone in: keep it out of caches
    return response


@requires(SETUP_ROLES)
async def role_post(request: web.Request) -> web.StreamResponse:
    """Give a member another role (the last owner keeps theirs)."""
    form = await _form(request)
    try:
        role = _role(form.get("role", ""))
        members.check_owner_rule(viewer(request).role, role, _member(request, _member_id(request)).role)
        with session_scope(feeds(request).engine) as session:
            member = members.set_role(session, viewer(request).workspace_id, _member_id(request), role,
                                      actor=viewer(request).actor)  # fmt: skip
    except SetupError as exc:
        return refuse(request, exc, "Role not changed")
    raise redirect_with(request, "/members", f"{member.name} is now {ROLE_LABELS[member.role]}.")


@requires(SETUP_ROLES)
async def remove_post(request: web.Request) -> web.StreamResponse:
    """Remove a member: they can no longer sign in, and their chat accounts are unlinked."""
    member_id = _member_id(request)
    try:
        found = _member(request, member_id)
        name = found.name
        members.check_owner_rule(viewer(request).role, found.role)
        with session_scope(feeds(request).engine) as session:
            members.remove_member(session, viewer(request).workspace_id, member_id, actor=viewer(request).actor)
    except SetupError as exc:
        return refuse(request, exc, "Not removed")
    raise redirect_with(request, "/members", f"{name} was removed.")


@requires(SETUP_ROLES)
async def slack_post(request: web.Request) -> web.StreamResponse:
    """Link a Slack user id to a member (their button presses and commands then act as them)."""
    form = await _form(request)
    user_id = form.get("slack_user", "")
    try:
        if user_id and not user_id.isalnum():
            raise SetupError(f"{user_id!r} is not a Slack user id (it looks like U012AB3CD)")
        with session_scope(feeds(request).engine) as session:
            member = members.member_by_id(session, viewer(request).workspace_id, _member_id(request))
            members.link_identity(session, viewer(request).workspace_id, member.id, Platform.SLACK, user_id,
                                  actor=viewer(request).actor)  # fmt: skip
    except SetupError as exc:
        return refuse(request, exc, "Not linked")
    raise redirect_with(request, "/members", f"{member.name} is linked to Slack user {user_id}.")


@requires(SETUP_ROLES)
async def telegram_post(request: web.Request) -> web.Response:
    """Show a one-time Telegram link (valid two days) that links the chat account opening it to the member."""
    workspace_id = viewer(request).workspace_id
    engine = feeds(request).engine
    try:
        with session_scope(engine) as session:
            member = members.member_by_id(session, workspace_id, _member_id(request))
            code = members.issue_link_code(
                session, workspace_id, member.id, actor=viewer(request).actor, now=now(request)
            )
    except SetupError as exc:
        return refuse(request, exc, "No link made")
    bots = [c for c in chat_setup.connections(engine, workspace_id) if c.platform is Platform.TELEGRAM]
    bot_name = bots[0].bot_name if bots else ""
    link = f"https://t.me/{bot_name}?start={code}" if bot_name else ""
    response = render(request, "members_telegram.html", name=member.name, link=link, code=code,
                      days=members.LINK_CODE_LIFETIME.days)  # fmt: skip
    response.headers["Cache-Control"] = "no-store"
    return response
