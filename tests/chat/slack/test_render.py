"""Block Kit rendering: layout, escaping, Slack's limits, all checked by slack_sdk's own models."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

from reconbot.bot.slack.render import blocks, escape, fallback_text, fit, modal, read_metadata
from reconbot.handlers.messages import Button, Message, Style


def validated(rendered: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Return the blocks as slack_sdk re-serialises them; ``to_dict()`` raises on anything over a limit."""
    assert 1 <= len(rendered) <= 50
    parsed = [Block.parse(block) for block in rendered]
    return [block.to_dict() for block in parsed if block is not None]


UNMATCHED = Message(
    title="Unmatched payment: 127 000 Ft from Kovács & Társa <Kft>",
    fields=(("Reference", "E-2026-12 > paid"), ("Booked", "2026-03-02")),
    lines=("Which invoice is it?", "E-2026-12 (amount and name)"),
    note="Paired by Anna",
    buttons=(
        Button("Pair with E-2026-12", action="a1b2c3", style=Style.PRIMARY),
        Button("Find invoice…", action="d4e5f6"),
        Button("Not an invoice payment", action="g7h8", style=Style.DANGER),
        Button("Open the bank", url="https://bank.example/consent?x=1&y=2"),
    ),
)


def test_a_message_becomes_title_fields_lines_note_and_one_actions_block() -> None:
    rendered = validated(blocks(UNMATCHED))

    assert [block["type"] for block in rendered] == ["section", "section", "section", "context", "actions"]
    assert rendered[0]["text"] == {
        "type": "mrkdwn",
        "text": "*Unmatched payment: 127 000 Ft from Kovács &amp; Társa &lt;Kft&gt;*",
    }
    assert [f["text"] for f in rendered[1]["fields"]] == ["*Reference:* E-2026-12 &gt; paid", "*Booked:* 2026-03-02"]
    assert rendered[2]["text"]["text"] == "Which invoice is it?\nE-2026-12 (amount and name)"
    assert rendered[3]["elements"] == [{"type": "mrkdwn", "text": "Paired by Anna"}]


def test_action_buttons_carry_only_the_opaque_id_and_link_buttons_a_url() -> None:
    elements = validated(blocks(UNMATCHED))[-1]["elements"]

    assert [(e["action_id"], e.get("value"), e.get("url"), e.get("style")) for e in elements] == [
        ("rb_0", "a1b2c3", None, "primary"),
        ("rb_1", "d4e5f6", None, None),
        ("rb_2", "g7h8", None, "danger"),
        ("rb_link_3", None, "https://bank.example/consent?x=1&y=2", None),
    ]
    assert elements[1]["text"] == {"type": "plain_text", "text": "Find invoice…", "emoji": True}


def test_more_than_ten_fields_are_split_over_sections() -> None:
    message = Message("Status", fields=tuple((f"Account {i}", f"{i} Ft") for i in range(23)))

    sections = validated(blocks(message))[1:]

    assert [len(section["fields"]) for section in sections] == [10, 10, 3]


def test_long_texts_are_cut_to_slacks_limits_without_breaking_an_entity() -> None:
    message = Message("&" * 5000, lines=("<" * 4000,), note="x" * 3500, buttons=(Button("B" * 200, action="a"),))

    rendered = validated(blocks(message))

    assert len(rendered[0]["text"]["text"]) <= 3000 and rendered[0]["text"]["text"].endswith("&amp;…*")
    assert rendered[1]["text"]["text"].endswith("&lt;…")
    assert len(rendered[2]["elements"][0]["text"]) == 3000
    assert rendered[3]["elements"][0]["text"]["text"] == "B" * 74 + "…"


def test_many_lines_fill_sections_and_the_buttons_survive_the_fifty_block_limit() -> None:
    message = Message("Digest", lines=tuple("y" * 2000 for _ in range(80)), buttons=(Button("Show all", action="s"),))

    rendered = validated(blocks(message))

    assert len(rendered) == 50
    assert rendered[-1]["elements"][0]["value"] == "s"


def test_a_button_with_nothing_to_do_is_left_out_and_an_empty_message_still_renders() -> None:
    assert [b["type"] for b in validated(blocks(Message("Hi", buttons=(Button("Nothing"),))))] == ["section"]
    assert validated(blocks(Message(""))) == [{"type": "section", "text": {"type": "mrkdwn", "text": "…"}}]


def test_an_id_or_url_too_long_for_slack_is_refused_rather_than_cut() -> None:
    with pytest.raises(ValueError, match="action id"):
        blocks(Message("x", buttons=(Button("b", action="a" * 2001),)))
    with pytest.raises(ValueError, match="URL"):
        blocks(Message("x", buttons=(Button("b", url="https://x/" + "a" * 3000),)))


def test_fallback_text_is_the_escaped_plain_text() -> None:
    assert fallback_text(UNMATCHED).splitlines()[:2] == [
        "Unmatched payment: 127 000 Ft from Kovács &amp; Társa &lt;Kft&gt;",
        "Reference: E-2026-12 &gt; paid",
    ]
    assert len(fallback_text(Message("z" * 10_000))) == 3000


def test_fit_escapes_and_cuts_between_characters() -> None:
    assert escape("a&b<c>d") == "a&amp;b&lt;c&gt;d"
    assert fit("&&&&", 10) == "&amp;…"
    assert fit("short", 10) == "short"


texts = st.text(st.characters(codec="utf-8"), max_size=4000)
opaque_ids = st.text("abcdefghijklmnopqrstuvwxyz0123456789-_", min_size=1, max_size=64)
buttons = st.one_of(
    st.builds(Button, texts, action=opaque_ids, style=st.sampled_from(Style)),
    st.builds(Button, texts, url=st.from_regex(r"\Ahttps://[a-z]{1,20}\.example/[a-z0-9?=&]{0,200}\Z")),
)
messages = st.builds(
    Message,
    title=texts,
    fields=st.lists(st.tuples(texts, texts), max_size=25).map(tuple),
    lines=st.lists(texts, max_size=30).map(tuple),
    note=texts,
    buttons=st.lists(buttons, max_size=30).map(tuple),
)


@settings(max_examples=150, deadline=None)
@given(messages)
def test_every_message_renders_to_blocks_slack_sdk_accepts(message: Message) -> None:
    rendered = validated(blocks(message))

    action_ids = [e["action_id"] for block in rendered if block["type"] == "actions" for e in block["elements"]]
    assert len(action_ids) == len(set(action_ids))
    assert all(len(e["text"]["text"]) <= 75 for b in rendered if b["type"] == "actions" for e in b["elements"])
    assert all(len(f["text"]) <= 2000 for b in rendered for f in b.get("fields", []))
    assert 1 <= len(fallback_text(message)) <= 3000


@settings(max_examples=100, deadline=None)
@given(title=texts, label=texts, action_id=opaque_ids, channel=st.from_regex(r"\A[CDG][A-Z0-9]{0,12}\Z"))
def test_the_find_modal_is_a_valid_view_that_remembers_action_and_channel(
    title: str, label: str, action_id: str, channel: str
) -> None:
    view = modal(action_id, title, label, channel=channel)

    View(**view).to_dict()  # raises SlackObjectFormationError on a broken view
    assert view["callback_id"] == "rb_find"
    assert view["blocks"][0]["block_id"] == "number" and view["blocks"][0]["element"]["action_id"] == "number"
    assert read_metadata(view["private_metadata"]) == (action_id, channel)


def test_a_modal_action_id_must_not_contain_the_separator() -> None:
    with pytest.raises(ValueError, match="'\\|'"):
        modal("a|b", "Find invoice", "Invoice")
