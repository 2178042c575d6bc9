"""A chat message as every platform can show it: plain text parts and buttons, no markup.

``bot/`` renders it (Slack Block Kit, Telegram HTML and an inline keyboard) and escapes the
text; handlers and the delivery worker build and store it (``to_json``/``from_json``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Style(StrEnum):
    DEFAULT = "default"
    PRIMARY = "primary"
    DANGER = "danger"


@dataclass(frozen=True, slots=True)
class Button:
    """A button: either an action (``action`` is the opaque ``chat_action`` id) or a link (``url``)."""

    label: str
    action: str = ""
    url: str = ""
    style: Style = Style.DEFAULT


@dataclass(frozen=True, slots=True)
class Message:
    """``title`` is one bold line; ``fields`` are label/value pairs; ``lines`` free text; ``note`` small print
    (who did what); ``buttons`` in the order shown."""

    title: str
    fields: tuple[tuple[str, str], ...] = ()
    lines: tuple[str, ...] = ()
    note: str = ""
    buttons: tuple[Button, ...] = field(default=())

    def plain_text(self) -> str:
        """Return the whole message as plain text (notification previews, Slack's ``text`` fallback)."""
        parts = [self.title, *(f"{label}: {value}" for label, value in self.fields), *self.lines]
        if self.note:
            parts.append(self.note)
        return "\n".join(parts)

    def to_json(self) -> dict[str, Any]:
        """Return the message as JSON values, as ``chat_message.body`` stores it."""
        return {
            "title": self.title,
            "fields": [list(pair) for pair in self.fields],
            "lines": list(self.lines),
            "note": self.note,
            "buttons": [{"label": b.label, "action": b.action, "url": b.url, "style": b.style.value}
                        for b in self.buttons],
        }  # fmt: skip

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Message:
        """Return the message ``to_json`` produced."""
        return cls(
            title=data["title"],
            fields=tuple((str(label), str(value)) for label, value in data.get("fields", [])),
            lines=tuple(data.get("lines", [])),
            note=data.get("note", ""),
            buttons=tuple(
                Button(b["label"], b.get("action", ""), b.get("url", ""), Style(b.get("style", "default")))
                for b in data.get("buttons", [])
            ),
        )


@dataclass(frozen=True, slots=True)
class Reply:
    """What a command or a button press answers.

    ``message`` is shown to the person who asked (Slack: ephemeral; Telegram: in the chat,
    or in a private chat when ``private`` and the chat is shared); ``toast`` is the short
    answer to a press (Telegram's callback answer, ≤200 characters); ``ask_number`` asks the
    person for an invoice number for the action id it holds (Slack: a modal; Telegram: a
    reply prompt whose message id is remembered with ``reconbot.handlers.actions.remember_prompt``).
    """

    message: Message | None = None
    toast: str = ""
    private: bool = False
    ask_number: str = ""

    @classmethod
    def say(cls, sentence: str, *, private: bool = False) -> Reply:
        """Return a reply that is just ``sentence``: as a one-line message, and as the press's toast."""
        return cls(message=Message(title=sentence), toast=sentence[:200], private=private)
