"""Members and roles: who belongs to the workspace, inviting people, their roles, and their chat accounts.

Invitation links and Telegram link codes are secrets: they are shown once, on the page that answers the
form post (never in a redirect's flash cookie, never stored in the clear).
"""

from __future__ import annotations

from aiohttp import web

from reconbot.admin.rendering import feeds, now, redirect_with, render, viewer
from reconbot.admin.security import requires
from reconbot.core.errors import SetupError
from reconbot.core.persistence.chat_tables import Platform
from reconbot.core.roles import SETUP_ROLES, Role
from reconbot.core.services.chat import setup as chat_setup
from reconbot.core.services.people import invitations, members

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
    return members.member_by_id(feeds(request).engine, viewer(request).workspace_id, member_id)


@requires(SETUP_ROLES)
async def members_page(request: web.Request) -> web.Response:
    """The members with their roles, sign-in and chat accounts, and the forms that change them."""
    workspace_id = viewer(request).workspace_id
    people = members.roster(feeds(request).engine, workspace_id)
    telegram = [c for c in chat_setup.connections(feeds(request).engine, workspace_id)
                if c.platform is Platform.TELEGRAM]  # fmt: skip
    return render(request, "members.html", people=people, roles=ROLE_LABELS, telegram=bool(telegram))


@requires(SETUP_ROLES)
async def invite_post(request: web.Request) -> web.Response:
    """Add a member who signs in with their e-mail, and show their invitation link once."""
    form = await _form(request)
    try:
        role = _role(form.get("role", ""))
        who = viewer(request)
        _, token = invitations.invite(feeds(request).engine, who.workspace_id, form.get("name", ""),
                                      form.get("email", ""), role, actor=who.actor, now=now(request),
                                      acting=who.role)  # fmt: skip
    except SetupError as exc:
        return refuse(request, exc, "Not invited")
    return _link_page(request, form.get("name", ""), invitation_link(request, token), invited=True)


@requires(SETUP_ROLES)
async def reinvite_post(request: web.Request) -> web.Response:
    """Show a fresh sign-in link for a member (a lost password, an expired invitation)."""
    member_id = _member_id(request)
    who = viewer(request)
    try:
        name = _member(request, member_id).name
        token = invitations.reinvite(feeds(request).engine, who.workspace_id, member_id, actor=who.actor,
                                     now=now(request), acting=who.role)  # fmt: skip
    except SetupError as exc:
        return refuse(request, exc, "No link made")
    return _link_page(request, name, invitation_link(request, token), invited=False)


def _link_page(request: web.Request, name: str, link: str, *, invited: bool) -> web.Response:
    response = render(request, "members_link.html", name=" ".join(name.split()), link=link, invited=invited,
                      lifetime_days=invitations.INVITE_LIFETIME.days)  # fmt: skip
    response.headers["Cache-Control"] = "no-store"  # the link signs someone in: keep it out of caches
    return response


@requires(SETUP_ROLES)
async def role_post(request: web.Request) -> web.StreamResponse:
    """Give a member another role (the last owner keeps theirs)."""
    form = await _form(request)
    try:
        role = _role(form.get("role", ""))
        who = viewer(request)
        member = members.set_role(feeds(request).engine, who.workspace_id, _member_id(request), role,
                                  actor=who.actor, acting=who.role)  # fmt: skip
    except SetupError as exc:
        return refuse(request, exc, "Role not changed")
    raise redirect_with(request, "/members", f"{member.name} is now {ROLE_LABELS[member.role]}.")


@requires(SETUP_ROLES)
async def remove_post(request: web.Request) -> web.StreamResponse:
    """Remove a member: they can no longer sign in, and their chat accounts are unlinked."""
    who = viewer(request)
    try:
        removed = members.remove_member(feeds(request).engine, who.workspace_id, _member_id(request),
                                        actor=who.actor, acting=who.role)  # fmt: skip
    except SetupError as exc:
        return refuse(request, exc, "Not removed")
    raise redirect_with(request, "/members", f"{removed.name} was removed.")


@requires(SETUP_ROLES)
async def slack_post(request: web.Request) -> web.StreamResponse:
    """Link a Slack user id to a member (their button presses and commands then act as them)."""
    form = await _form(request)
    user_id = form.get("slack_user", "")
    try:
        if user_id and not user_id.isalnum():
            raise SetupError(f"{user_id!r} is not a Slack user id (it looks like U012AB3CD)")
        member = members.link_identity(feeds(request).engine, viewer(request).workspace_id, _member_id(request),
                                       Platform.SLACK, user_id, actor=viewer(request).actor)  # fmt: skip
    except SetupError as exc:
        return refuse(request, exc, "Not linked")
    raise redirect_with(request, "/members", f"{member.name} is linked to Slack user {user_id}.")


@requires(SETUP_ROLES)
async def telegram_post(request: web.Request) -> web.Response:
    """Show a one-time Telegram link (valid two days) that links the chat account opening it to the member."""
    workspace_id = viewer(request).workspace_id
    engine = feeds(request).engine
    try:
        member = members.member_by_id(engine, workspace_id, _member_id(request))
        code = members.issue_link_code(engine, workspace_id, member.id, actor=viewer(request).actor, now=now(request))
    except SetupError as exc:
        return refuse(request, exc, "No link made")
    bots = [c for c in chat_setup.connections(engine, workspace_id) if c.platform is Platform.TELEGRAM]
    bot_name = bots[0].bot_name if bots else ""
    link = f"https://t.me/{bot_name}?start={code}" if bot_name else ""
    response = render(request, "members_telegram.html", name=member.name, link=link, code=code,
                      days=members.LINK_CODE_LIFETIME.days)  # fmt: skip
    response.headers["Cache-Control"] = "no-store"
    return response
