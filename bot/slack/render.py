"""A neutral ``Message`` as Slack Block Kit, within Slack's limits, and the "Find invoice…" modal.

Every text is escaped (``&``, ``<``, ``>``) and cut to fit; an opaque action id or a URL is never cut,
since a shortened one would point at something else: those raise ValueError instead.
"""

from __future__ import annotations

from typing import Any

from reconbot.handlers.messages import Button, Message, Style

ACTION_PREFIX = "rb_"  # action buttons: rb_<i>; link buttons: rb_link_<i> (acknowledged, nothing else)
LINK_PREFIX = "rb_link_"
FIND_CALLBACK = "rb_find"
NUMBER_BLOCK = "number"
NUMBER_ACTION = "number"

# Slack's limits (slack_sdk's validators check most of them; docs.slack.dev states the rest).
TEXT_MAX = 3000  # section text, context text, fallback text we send
FIELD_MAX = 2000  # one section field
FIELDS_PER_SECTION = 10
BUTTON_TEXT_MAX = 75
BUTTON_VALUE_MAX = 2000
URL_MAX = 3000
BUTTONS_PER_ACTIONS = 25
BLOCKS_MAX = 50
VIEW_TITLE_MAX = 24
VIEW_SUBMIT_MAX = 24
PRIVATE_METADATA_MAX = 3000
ELLIPSIS = "…"


def escape(text: str) -> str:
    """Return ``text`` with Slack's control characters as entities (``&amp;``, ``&lt;``, ``&gt;``)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def fit(text: str, limit: int) -> str:
    """Return ``text`` escaped and, when longer than ``limit``, cut to ``limit`` characters ending in "…".

    The cut falls between characters of the original text, never inside an entity such as ``&amp;``.
    """
    escaped = escape(text)
    if len(escaped) <= limit:
        return escaped
    kept: list[str] = []
    size = 0
    for char in text:
        piece = escape(char)
        if size + len(piece) > limit - len(ELLIPSIS):
            break
        kept.append(piece)
        size += len(piece)
    return "".join(kept) + ELLIPSIS


def blocks(message: Message) -> list[dict[str, Any]]:
    """Return the Block Kit blocks of ``message``: title, fields, lines, note, then the buttons.

    At most 50 blocks: when the text would need more, the last text sections are dropped (the
    buttons and the note stay). Raises ValueError for a button whose action id or URL is too long.
    """
    head: list[dict[str, Any]] = []
    if message.title:
        head.append(_section(f"*{fit(message.title, TEXT_MAX - 2)}*"))
    for start in range(0, len(message.fields), FIELDS_PER_SECTION):
        chunk = message.fields[start : start + FIELDS_PER_SECTION]
        head.append({"type": "section", "fields": [_field(label, value) for label, value in chunk]})
    head.extend(_section(text) for text in _line_chunks(message.lines))
    tail: list[dict[str, Any]] = []
    if message.note:
        tail.append({"type": "context", "elements": [{"type": "mrkdwn", "text": fit(message.note, TEXT_MAX)}]})
    tail.extend(_actions(message.buttons))
    tail = tail[-BLOCKS_MAX:]
    head = head[: BLOCKS_MAX - len(tail)]
    if not head and not tail:  # Slack refuses a message with nothing in it
        head.append(_section(ELLIPSIS))
    return head + tail


def fallback_text(message: Message) -> str:
    """Return the message as escaped plain text (≤3000 characters): notifications and clients without blocks."""
    return fit(message.plain_text(), TEXT_MAX) or ELLIPSIS


def modal(action_id: str, title: str, label: str, *, channel: str = "", submit: str = "OK") -> dict[str, Any]:
    """Return the "Find invoice…" modal view asking for an invoice number for ``action_id``.

    Its ``private_metadata`` is ``"<action id>|<channel>"`` (read back with ``read_metadata``), so the
    submission can answer in the channel the button was pressed in. Raises ValueError for an action id
    containing "|" or too long to fit.
    """
    if "|" in action_id:
        raise ValueError("an action id for the modal must not contain '|'")
    metadata = f"{action_id}|{channel}"
    if len(metadata) > PRIVATE_METADATA_MAX:
        raise ValueError("the action id is too long for a modal's private_metadata")
    return {
        "type": "modal",
        "callback_id": FIND_CALLBACK,
        "private_metadata": metadata,
        "title": _plain(title, VIEW_TITLE_MAX),
        "submit": _plain(submit, VIEW_SUBMIT_MAX),
        "blocks": [
            {
                "type": "input",
                "block_id": NUMBER_BLOCK,
                "label": _plain(label, FIELD_MAX),
                "element": {"type": "plain_text_input", "action_id": NUMBER_ACTION, "max_length": 100},
            }
        ],
    }


def read_metadata(private_metadata: str) -> tuple[str, str]:
    """Return the action id and the channel id (maybe "") that ``modal`` stored in ``private_metadata``."""
    action_id, _, channel = private_metadata.partition("|")
    return action_id, channel


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def _field(label: str, value: str) -> dict[str, str]:
    name = fit(label, 200)
    return {"type": "mrkdwn", "text": f"*{name}:* {fit(value, FIELD_MAX - len(name) - 4)}"}


def _plain(text: str, limit: int) -> dict[str, Any]:
    return {"type": "plain_text", "text": fit(text, limit) or ELLIPSIS, "emoji": True}


def _line_chunks(lines: tuple[str, ...]) -> list[str]:
    """Return the lines joined into as few section texts as fit in 3000 characters each."""
    chunks: list[str] = []
    current = ""
    for line in lines:
        piece = fit(line, TEXT_MAX) or " "
        if current and len(current) + 1 + len(piece) > TEXT_MAX:
            chunks.append(current)
            current = ""
        current = f"{current}\n{piece}" if current else piece
    chunks.append(current)
    return [chunk for chunk in chunks if chunk.strip()]


def _actions(buttons: tuple[Button, ...]) -> list[dict[str, Any]]:
    elements = [element for i, button in enumerate(buttons) if (element := _button(i, button))]
    return [
        {"type": "actions", "elements": elements[start : start + BUTTONS_PER_ACTIONS]}
        for start in range(0, len(elements), BUTTONS_PER_ACTIONS)
    ]


def _button(i: int, button: Button) -> dict[str, Any] | None:
    """Return the button element, or None for a button with neither an action nor a URL (it could do nothing)."""
    element: dict[str, Any] = {"type": "button", "text": _plain(button.label, BUTTON_TEXT_MAX)}
    if button.action:
        if len(button.action) > BUTTON_VALUE_MAX:
            raise ValueError("a button's action id is longer than Slack's 2000-character value")
        element |= {"action_id": f"{ACTION_PREFIX}{i}", "value": button.action}
    elif button.url:
        if len(button.url) > URL_MAX:
            raise ValueError("a button's URL is longer than Slack's 3000 characters")
        element |= {"action_id": f"{LINK_PREFIX}{i}", "url": button.url}
    else:
        return None
    if button.style in (Style.PRIMARY, Style.DANGER):
        element["style"] = button.style.value
    return element
