"""The arguments of ``reconbot chat …`` and ``reconbot members …``; their code loads when one runs."""

from __future__ import annotations

import argparse

from reconbot.cli.books_parser import later, row_id

ROLES = ("owner", "admin", "accountant", "accountant_invoicing", "invoicing", "operator")


def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the chat and member commands to the command line."""
    chat = sub.add_parser("chat", help="Slack and Telegram: connect a bot, choose channels, see delivery")
    cmd = chat.add_subparsers(dest="what", required=True, metavar="ACTION")

    p = cmd.add_parser("slack", help="connect the workspace's Slack app (tokens from the environment or a prompt)")
    p.add_argument("--mode", choices=("socket", "http"), default="socket",
                   help="socket: no public address needed (default); http: Slack posts to your address")  # fmt: skip
    p.set_defaults(run=later("setup_slack", "reconbot.cli.chat"))

    p = cmd.add_parser("telegram", help="connect the workspace's Telegram bot (token from the environment or a prompt)")
    p.add_argument("--mode", choices=("polling", "webhook"), default="polling",
                   help="polling: no public address needed (default); webhook: Telegram posts to you")  # fmt: skip
    p.set_defaults(run=later("setup_telegram", "reconbot.cli.chat"))

    p = cmd.add_parser("channel", help="send notifications to a Slack channel or Telegram chat")
    p.add_argument("platform", choices=("slack", "telegram"))
    p.add_argument("address", help="Slack channel id (C…) or Telegram chat id")
    p.add_argument("--name", default="", help="a name to show for it")
    p.add_argument("--bank-data", action="store_true",
                   help="also payments and transactions: only where no invoicing/operator member reads")  # fmt: skip
    p.add_argument("--kinds", default="", help="only these events, comma-separated (default: all)")
    p.set_defaults(run=later("add_channel", "reconbot.cli.chat"))

    p = cmd.add_parser("remove-channel", help="stop sending to a channel (its history stays)")
    p.add_argument("channel", type=row_id)
    p.set_defaults(run=later("remove_channel", "reconbot.cli.chat"))

    p = cmd.add_parser("status", help="channels, their problems, and the messages waiting or failed")
    p.set_defaults(run=later("status", "reconbot.cli.chat"))

    members = sub.add_parser("members", help="the workspace's people, their roles and chat accounts")
    cmd = members.add_subparsers(dest="what", required=True, metavar="ACTION")

    p = cmd.add_parser("add", help="add a member with a role")
    p.add_argument("name")
    p.add_argument("--role", choices=ROLES, required=True)
    p.add_argument("--slack", help="the member's Slack user id (U…)")
    p.add_argument("--email", default="")
    p.set_defaults(run=later("add_member", "reconbot.cli.chat"))

    p = cmd.add_parser("invite", help="print a link to sign in to the web panel (a new member, or a new link)")
    p.add_argument("name")
    p.add_argument("--email", default="", help="the e-mail a new member signs in with")
    p.add_argument("--role", choices=ROLES, help="a new member's role")
    p.set_defaults(run=later("invite_member", "reconbot.cli.chat"))

    p = cmd.add_parser(
        "password",
        help="set a new web-panel password for an account (asked for, or from "
        "RECONBOT_NEW_PASSWORD) and sign its browsers out",
    )
    p.add_argument("email")
    p.set_defaults(run=later("set_password", "reconbot.cli.chat"))

    p = cmd.add_parser("list", help="members, roles and linked chat accounts")
    p.set_defaults(run=later("list_members", "reconbot.cli.chat"))

    p = cmd.add_parser("role", help="change a member's role")
    p.add_argument("name")
    p.add_argument("role", choices=ROLES)
    p.set_defaults(run=later("set_role", "reconbot.cli.chat"))

    p = cmd.add_parser("remove", help="remove a member (their chat accounts are unlinked at once)")
    p.add_argument("name")
    p.set_defaults(run=later("remove_member", "reconbot.cli.chat"))

    p = cmd.add_parser("link", help="link a chat account: a Slack user id, or a Telegram deep link to send them")
    p.add_argument("name")
    p.add_argument("--slack", help="the member's Slack user id (U…); without it a Telegram link is made")
    p.set_defaults(run=later("link_member", "reconbot.cli.chat"))
