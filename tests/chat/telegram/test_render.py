"""Telegram HTML and inline keyboards: escaped, within Telegram's limits, buttons carrying only the opaque id."""

from __future__ import annotations

import string

import pytest
from aiogram.types import InlineKeyboardMarkup
from hypothesis import given
from hypothesis import strategies as st

from reconbot.bot.telegram.render import LIMIT, Action, html, keyboard, units
from reconbot.handlers.messages import Button, Message, Style
from tests.fakes.telegram import parse_html

ALPHABET = string.ascii_letters + string.digits + "_-"  # secrets.token_urlsafe's characters
LONGEST_ID = 32  # chat_action.id is a String(32)


def test_message_as_html_with_every_part_escaped() -> None:
    message = Message(
        title="Payment <received> & matched",
        fields=(("Invoice", "E-2026/12"), ("Payer", "Kovács & Fia <Bt.>")),
        lines=("Still open: 0 Ft",),
        note="Paired by Anna <owner>",
    )
    assert html(message) == (
        "<b>Payment &lt;received&gt; &amp; matched</b>\n"
        "Invoice: E-2026/12\n"
        "Payer: Kovács &amp; Fia &lt;Bt.&gt;\n"
        "Still open: 0 Ft\n"
        "<i>Paired by Anna &lt;owner&gt;</i>"
    )
    assert parse_html(html(message)) == message.plain_text()


def test_too_long_message_is_cut_at_the_limit_keeping_title_and_note() -> None:
    message = Message(title="Unmatched", lines=tuple(f"{n:04} <&> " + "x" * 90 for n in range(200)), note="by Anna")
    text = html(message)
    assert units(text) <= LIMIT
    assert text.startswith("<b>Unmatched</b>\n0000 &lt;&amp;&gt; ")
    assert text.endswith("…\n<i>by Anna</i>")
    parse_html(text)  # no entity or tag was cut in half


def test_huge_title_and_note_still_fit() -> None:
    text = html(Message(title="🧾" * 5000, note="n" * 5000))
    assert units(text) <= LIMIT
    assert parse_html(text).startswith("🧾🧾")


@given(
    title=st.text(max_size=3000),
    lines=st.lists(st.text(max_size=900), max_size=12),
    note=st.text(max_size=700),
)
def test_any_text_renders_as_valid_html_within_the_limit(title: str, lines: list[str], note: str) -> None:
    text = html(Message(title=title, lines=tuple(lines), note=note))
    assert units(text) <= LIMIT
    shown = parse_html(text)
    assert shown.startswith(title) or "…" in shown


def test_buttons_one_per_row_actions_by_id_links_by_url() -> None:
    message = Message(
        title="Unmatched: 127 000 Ft",
        buttons=(
            Button("E-2026-12", action="a" * LONGEST_ID, style=Style.PRIMARY),
            Button("Not an invoice payment", action="ign_1", style=Style.DANGER),
            Button("Renew", url="https://bank.example/renew?x=1&y=2"),
        ),
    )
    markup = keyboard(message)
    assert isinstance(markup, InlineKeyboardMarkup)
    rows = markup.inline_keyboard
    assert [len(row) for row in rows] == [1, 1, 1]
    assert [row[0].callback_data for row in rows] == ["rb:" + "a" * LONGEST_ID, "rb:ign_1", None]
    assert rows[2][0].url == "https://bank.example/renew?x=1&y=2"
    assert all(row[0].style is None for row in rows)  # styles are not shown on Telegram


def test_message_without_buttons_has_no_keyboard() -> None:
    assert keyboard(Message(title="Sync failing")) is None


@given(st.text(ALPHABET, min_size=1, max_size=LONGEST_ID))
def test_every_action_id_we_issue_packs_within_64_bytes_and_back(action_id: str) -> None:
    packed = Action(id=action_id).pack()
    assert len(packed.encode()) <= 64
    assert Action.unpack(packed).id == action_id


def test_an_id_beyond_64_bytes_is_refused() -> None:
    with pytest.raises(ValueError):
        Action(id="x" * 62).pack()
    with pytest.raises(ValueError):
        keyboard(Message(title="t", buttons=(Button("B", action="é" * 31),)))
