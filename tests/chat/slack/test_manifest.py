"""The Slack app manifest in the repository asks for what the bot uses."""

from __future__ import annotations

from typing import Any

import yaml

from reconbot.bot.slack.app import SlackBot
from reconbot.handlers.context import Chat
from tests.support.paths import REPO
from tests.support.slack import CONNECTION_ID, connection


def manifest() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((REPO / "slack-manifest.yaml").read_text(encoding="utf-8"))
    return loaded


def test_the_manifest_enables_socket_mode_interactivity_and_the_command() -> None:
    app = manifest()

    assert app["settings"]["socket_mode_enabled"] is True
    assert app["settings"]["interactivity"]["is_enabled"] is True
    assert [command["command"] for command in app["features"]["slash_commands"]] == ["/reconbot"]
    assert {"chat:write", "commands", "im:write"} <= set(app["oauth_config"]["scopes"]["bot"])


def test_the_commented_http_address_is_the_bots_web_path(chat: Chat, workspace_id: int) -> None:
    text = (REPO / "slack-manifest.yaml").read_text(encoding="utf-8")
    bot = SlackBot(connection(workspace_id, "http"), chat)

    assert text.count("# request_url: https://<your host>/slack/<connection id>") == 1
    assert bot.web_path == f"/slack/{CONNECTION_ID}"
