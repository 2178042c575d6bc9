"""A neutral ``Message`` as Telegram shows it: HTML text (parse mode HTML) and an inline keyboard."""

from __future__ import annotations

from html import escape

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.keyboard import InlineKeyboardBuilder

from reconbot.handlers.messages import Message

LIMIT = 4096  # Telegram's longest message text, counted in UTF-16 code units
NOTE_BUDGET = 512  # the note (who did what) is kept even when the body is cut, so it gets a share of its own
ELLIPSIS = "…"


class Action(CallbackData, prefix="rb"):
    """A button's callback data: only the opaque action id, resolved (with a permission check) on the server.

    ``pack()`` raises ValueError beyond Telegram's 64 bytes or when ``id`` holds the separator ``:``.
    """

    id: str


def units(text: str) -> int:
    """Return the length of ``text`` as Telegram counts it: UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def _clip(text: str, budget: int) -> str:
    """Return ``text`` escaped, cut at a character boundary and ended with … if its escaped form takes more
    than ``budget`` UTF-16 units (an entity such as ``&amp;`` is never split)."""
    escaped = escape(text, quote=False)
    if units(escaped) <= budget:
        return escaped
    kept: list[str] = []
    used = units(ELLIPSIS)
    for char in text:
        piece = escape(char, quote=False)
        if used + units(piece) > budget:
            break
        kept.append(piece)
        used += units(piece)
    return "".join(kept) + ELLIPSIS if used <= budget else ""


def html(message: Message) -> str:
    """Return ``message`` as Telegram HTML: the title bold, fields as "label: value", the lines, the note in italics.

    All text is escaped. A message too long for Telegram keeps its title and note and loses the end of its body
    (marked with …), so the result never exceeds ``LIMIT`` UTF-16 units.
    """
    note = f"<i>{_clip(message.note, NOTE_BUDGET)}</i>" if message.note else ""
    budget = LIMIT - (units(note) + 1 if note else 0)
    rows: list[str] = []
    if message.title:
        rows.append(f"<b>{_clip(message.title, budget - len('<b></b>'))}</b>")
        budget -= units(rows[0])
    body = [f"{label}: {value}" for label, value in message.fields] + list(message.lines)
    for raw in body:
        cost = 1 if rows else 0  # the newline before this row
        row = _clip(raw, budget - cost)
        if raw and not row:
            break
        rows.append(row)
        budget -= units(row) + cost
        if row != escape(raw, quote=False):
            break  # this row was cut: nothing after it fits
    if note:
        rows.append(note)
    return "\n".join(rows)


def keyboard(message: Message) -> InlineKeyboardMarkup | None:
    """Return the message's buttons, one per row (action buttons carry ``Action(id=…)``, link buttons a URL),
    or None when it has none. Button styles are ignored. Raises ValueError for an action id that does not fit
    Telegram's 64-byte callback data."""
    builder = InlineKeyboardBuilder()
    for button in message.buttons:
        if button.action:
            builder.button(text=button.label, callback_data=Action(id=button.action))
        elif button.url:
            builder.button(text=button.label, url=button.url)
    if not list(builder.buttons):
        return None
    builder.adjust(1)
    return builder.as_markup()
