"""The fake Bot API itself: the body encodings it reads, and the rules it enforces like Telegram."""

from __future__ import annotations

from typing import Any

import aiohttp

from tests.fakes.telegram import TOKEN, FakeTelegram, message_update


async def call(api: str, method: str, token: str = TOKEN, **body: Any) -> tuple[int, dict[str, Any]]:
    async with aiohttp.ClientSession() as session, session.post(f"{api}/bot{token}/{method}", **body) as response:
        answer: dict[str, Any] = await response.json()
        return response.status, answer


async def test_json_and_multipart_bodies_are_read(api: str, fake: FakeTelegram) -> None:
    status, sent = await call(api, "sendMessage", json={"chat_id": 7, "text": "<b>hi</b>", "parse_mode": "HTML"})
    assert (status, sent["result"]["text"], sent["result"]["chat"]["type"]) == (200, "hi", "private")
    form = aiohttp.FormData({"chat_id": "7", "message_id": "1", "text": "bye"})
    form.add_field("file", b"\x00", filename="x.bin")  # a file part makes aiohttp send multipart
    status, edited = await call(api, "editMessageText", data=form)
    assert (status, edited["result"]["text"]) == (200, "bye")
    assert fake.calls_to("editMessageText") == [{"chat_id": "7", "message_id": 1, "text": "bye"}]


async def test_unknown_token_and_method(api: str) -> None:
    assert (await call(api, "getMe", token="1:wrong"))[0] == 401
    status, answer = await call(api, "sendSticker", json={})
    assert (status, answer) == (404, {"ok": False, "error_code": 404, "description": "Not Found"})


async def test_html_like_telegram(api: str) -> None:
    for text, error in [
        ("<p>x</p>", 'unsupported start tag "p"'),
        ("<b>x", 'can\'t find end tag "b"'),
        ("<b>x</i>", 'unmatched end tag "i"'),
        ("<b> </b>", "message text is empty"),
        ("x" * 4097, "message is too long"),
    ]:
        status, answer = await call(api, "sendMessage", json={"chat_id": 7, "text": text, "parse_mode": "HTML"})
        assert status == 400
        assert error in answer["description"]


async def test_get_updates_confirms_by_offset(api: str, fake: FakeTelegram) -> None:
    first = fake.push_update(message_update(7, 7, "a"))
    second = fake.push_update(message_update(7, 7, "b"))
    _, answer = await call(api, "getUpdates", json={})
    assert [update["update_id"] for update in answer["result"]] == [first, second]
    _, answer = await call(api, "getUpdates", json={"offset": second})
    assert [update["update_id"] for update in answer["result"]] == [second]
    _, answer = await call(api, "getUpdates", json={"offset": second + 1})
    assert answer["result"] == []
    await call(api, "setWebhook", json={"url": "https://example.test/hook"})
    assert (await call(api, "getUpdates", json={}))[0] == 409
