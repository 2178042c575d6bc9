"""``reconbot chat …`` and ``reconbot members …``: chat setup from the command line."""

from __future__ import annotations

import argparse
import getpass
import os

from reconbot.cli.books import cli_actor, open_books, workspace_for
from reconbot.core.errors import SetupError
from reconbot.core.persistence.chat_tables import Platform
from reconbot.core.persistence.tables import utcnow
from reconbot.core.roles import Role
from reconbot.core.services.chat import queue as chat_queue
from reconbot.core.services.chat import setup as chat_setup
from reconbot.core.services.people import invitations, members, sign_in
from reconbot.core.settings import public_url

# Tokens come from these variables, or a prompt; never from an argument (it would sit in shell history).
TOKEN_ENV = {
    "bot_token": "RECONBOT_SLACK_BOT_TOKEN",
    "app_token": "RECONBOT_SLACK_APP_TOKEN",
    "signing_secret": "RECONBOT_SLACK_SIGNING_SECRET",
}
TELEGRAM_TOKEN_ENV = "RECONBOT_TELEGRAM_BOT_TOKEN"


def _secret(variable: str, prompt: str) -> str:
    return os.environ.get(variable, "").strip() or getpass.getpass(prompt)


def setup_slack(args: argparse.Namespace) -> int:
    """Store the Slack app's tokens, encrypted, for Socket Mode or HTTP mode."""
    needed = chat_setup.REQUIRED[Platform.SLACK][args.mode]
    values = {name: _secret(TOKEN_ENV[name], f"Slack {name.replace('_', ' ')}: ") for name in needed}
    with open_books() as engine:
        workspace_id = workspace_for(engine, args.workspace)
        chat_setup.save_connection(engine, workspace_id, Platform.SLACK, args.mode, values, actor=cli_actor())
        (connection,) = [c for c in chat_setup.connections(engine, workspace_id) if c.platform is Platform.SLACK]
    print(f"slack: connected in {args.mode} mode (tokens stored encrypted)")
    if args.mode == "http":
        print(f"set the app's Request URL (interactivity and /reconbot) to {public_url()}/slack/{connection.id}")
    print("next: invite the bot to a channel, then type `/reconbot here` there (or `reconbot chat channel slack C…`)")
    return 0


def setup_telegram(args: argparse.Namespace) -> int:
    """Store the Telegram bot's token, encrypted, for long polling or a webhook."""
    token = _secret(TELEGRAM_TOKEN_ENV, "Telegram bot token (from @BotFather): ")
    with open_books() as engine:
        workspace_id = workspace_for(engine, args.workspace)
        chat_setup.save_connection(engine, workspace_id, Platform.TELEGRAM, args.mode, {"bot_token": token},
                                   actor=cli_actor())  # fmt: skip
    print(f"telegram: connected in {args.mode} mode (token stored encrypted)")
    print("next: `reconbot members link NAME` gives each member a link that connects their private chat")
    return 0


def add_channel(args: argparse.Namespace) -> int:
    """Send notifications to a channel or chat."""
    kinds = [k.strip() for k in args.kinds.split(",") if k.strip()]
    with open_books() as engine:
        workspace_id = workspace_for(engine, args.workspace)
        channel = chat_setup.add_channel(engine, workspace_id, Platform(args.platform), args.address,
                                         actor=cli_actor(), name=args.name, bank_data=args.bank_data,
                                         kinds=kinds or None)  # fmt: skip
    bank = ", with bank data" if channel.bank_data else ", no bank data"
    print(f"channel {channel.id}: {args.platform} {args.address}{bank}")
    return 0


def remove_channel(args: argparse.Namespace) -> int:
    """Stop sending to a channel."""
    with open_books() as engine:
        workspace_id = workspace_for(engine, args.workspace)
        chat_setup.remove_channel(engine, workspace_id, args.channel, actor=cli_actor())
    print(f"channel {args.channel}: removed")
    return 0


def status(args: argparse.Namespace) -> int:
    """Print the bots, the channels with their problems, and the messages by status."""
    with open_books() as engine:
        workspace_id = workspace_for(engine, args.workspace)
        bots = chat_setup.connections(engine, workspace_id)
        listed = chat_setup.channels(engine, workspace_id)
        counts = chat_queue.message_counts(engine, workspace_id)
    for bot in bots:
        print(f"{bot.platform.value} bot: {bot.mode} mode" + (f" (@{bot.bot_name})" if bot.bot_name else ""))
    if not bots:
        print("no chat bot is connected; run `reconbot chat slack` or `reconbot chat telegram`")
    for channel in listed:
        problem = f"\tPROBLEM: {channel.problem}" if channel.problem else ""
        bank = "bank data" if channel.bank_data else "no bank data"
        print(f"{channel.id}\t{channel.platform.value}\t{channel.address}\t{channel.name}\t{bank}{problem}")
    summary = ", ".join(f"{state} {n}" for state, n in sorted(counts.items()))
    print(f"messages: {summary or 'none yet'}")
    return 0


def add_member(args: argparse.Namespace) -> int:
    """Add a member, optionally with their Slack user id."""
    with open_books() as engine:
        workspace_id = workspace_for(engine, args.workspace)
        member = members.add_member(engine, workspace_id, args.name, Role(args.role), actor=cli_actor(),
                                    email=args.email, slack_user=args.slack or "")  # fmt: skip
    print(f"member {member.id}: {member.name} ({member.role.value})")
    return 0


def invite_member(args: argparse.Namespace) -> int:
    """Print a one-time link to the web panel: inviting a new member (with --email and --role), or a new
    sign-in link for an existing one."""
    with open_books() as engine:
        workspace_id = workspace_for(engine, args.workspace)
        try:
            existing: members.Member | None = members.find_member(engine, workspace_id, args.name)
        except SetupError:
            existing = None
        if existing is not None and not args.email and not args.role:
            token = invitations.reinvite(engine, workspace_id, existing.id, actor=cli_actor(), now=utcnow())
            name = existing.name
        else:
            if not args.email or not args.role:
                raise SetupError(f"to invite {args.name!r}, give --email and --role")
            _, token = invitations.invite(engine, workspace_id, args.name, args.email, Role(args.role),
                                          actor=cli_actor(), now=utcnow())  # fmt: skip
            name = " ".join(args.name.split())
    print(f"send {name} this link to sign in (one use, valid {invitations.INVITE_LIFETIME.days} days):")
    print(f"{public_url().rstrip('/')}/invite/{token}")
    return 0


def set_password(args: argparse.Namespace) -> int:
    """Set a forgotten panel password anew (only whoever runs reconbot can: the panel offers no reset)."""
    password = os.environ.get("RECONBOT_NEW_PASSWORD", "")
    if not password:
        password = getpass.getpass("New password: ")
        if getpass.getpass("Again: ") != password:
            raise SetupError("the two passwords differ")
    with open_books() as engine:
        sign_in.set_password(engine, args.email, password)
    print(f"{args.email.strip().lower()} has a new password; every browser signed in with it was signed out")
    return 0


def list_members(args: argparse.Namespace) -> int:
    """Print the members, their roles and linked chat accounts."""
    with open_books() as engine:
        workspace_id = workspace_for(engine, args.workspace)
        people = members.roster(engine, workspace_id)
    for person in people:
        print(f"{person.id}\t{person.name}\t{person.role.value}\t{', '.join(person.identities) or '-'}")
    if not people:
        print("no members yet; run `reconbot members add NAME --role owner`")
    return 0


def set_role(args: argparse.Namespace) -> int:
    """Change a member's role."""
    with open_books() as engine:
        workspace_id = workspace_for(engine, args.workspace)
        member = members.find_member(engine, workspace_id, args.name)
        members.set_role(engine, workspace_id, member.id, Role(args.role), actor=cli_actor())
    print(f"{member.name}: {args.role}")
    return 0


def remove_member(args: argparse.Namespace) -> int:
    """Remove a member."""
    with open_books() as engine:
        workspace_id = workspace_for(engine, args.workspace)
        member = members.find_member(engine, workspace_id, args.name)
        members.remove_member(engine, workspace_id, member.id, actor=cli_actor())
    print(f"{member.name}: removed")
    return 0


def link_member(args: argparse.Namespace) -> int:
    """Link a Slack user id, or print a one-time Telegram link (valid two days) to send the member."""
    with open_books() as engine:
        workspace_id = workspace_for(engine, args.workspace)
        telegram = [c for c in chat_setup.connections(engine, workspace_id) if c.platform is Platform.TELEGRAM]
        member = members.find_member(engine, workspace_id, args.name)
        if args.slack:
            members.link_identity(engine, workspace_id, member.id, Platform.SLACK, args.slack, actor=cli_actor())
            print(f"{member.name}: linked to Slack user {args.slack}")
            return 0
        code = members.issue_link_code(engine, workspace_id, member.id, actor=cli_actor(), now=utcnow())
    bot_name = telegram[0].bot_name if telegram else ""
    if bot_name:
        print(f"send {member.name} this link (one use, valid 2 days): https://t.me/{bot_name}?start={code}")
    else:
        print(f"{member.name}: in a private chat with the bot, send: /start {code}  (one use, valid 2 days)")
        print("(start `reconbot run` once with the Telegram bot connected, and the next link is a t.me link)")
    return 0
