"""SlackTransport through the real AsyncWebClient against the fake Slack Web API."""

from __future__ import annotations

import types

import pytest
from slack_sdk.http_retry import builtin_async_handlers

from reconbot.bot.slack.render import blocks
from reconbot.bot.slack.transport import SlackTransport
from reconbot.bot.transport import DeliveryError
from reconbot.handlers.messages import Button, Message
from tests.fakes.clock import FakeClock, RecordingSleep
from tests.fakes.server import free_port, serve
from tests.fakes.slack import BOT_TOKEN, FakeSlack
from tests.support.slack import CHANNEL

MESSAGE = Message("Payment received: 127 000 Ft from Kovács & Társa", buttons=(Button("Undo", action="u1"),))
DONE = Message("Payment received: 127 000 Ft from Kovács & Társa", note="Paired by Anna")


async def test_send_posts_blocks_and_fallback_and_returns_the_ts(
    transport: SlackTransport, fake_slack: FakeSlack
) -> None:
    first = await transport.send(CHANNEL, MESSAGE)
    second = await transport.send(CHANNEL, MESSAGE)

    assert (first, second) == ("1700000000.000100", "1700000000.000200")
    call = fake_slack.called("chat.postMessage")[0]
    assert call.args["channel"] == CHANNEL and call.args["unfurl_links"] is False
    assert call.args["text"] == "Payment received: 127 000 Ft from Kovács &amp; Társa"
    assert call.args["blocks"] == blocks(MESSAGE)


async def test_edit_replaces_the_message(transport: SlackTransport, fake_slack: FakeSlack) -> None:
    ts = await transport.send(CHANNEL, MESSAGE)

    await transport.edit(CHANNEL, ts, DONE)

    assert fake_slack.messages[(CHANNEL, ts)]["blocks"] == blocks(DONE)
    assert fake_slack.called("chat.update")[0].args | {"blocks": None} == {
        "channel": CHANNEL, "ts": ts, "text": "Payment received: 127 000 Ft from Kovács &amp; Társa\nPaired by Anna",
        "blocks": None,
    }  # fmt: skip


async def test_editing_a_message_slack_does_not_know_is_permanent(transport: SlackTransport) -> None:
    with pytest.raises(DeliveryError, match="message_not_found") as caught:
        await transport.edit(CHANNEL, "1600000000.000001", DONE)

    assert caught.value.permanent


@pytest.mark.parametrize(
    ("error", "permanent"),
    [("channel_not_found", True), ("not_in_channel", True), ("is_archived", True), ("account_inactive", True),
     ("missing_scope", True), ("restricted_action", True), ("msg_too_long", True), ("fatal_error", False),
     ("internal_error", False)],
)  # fmt: skip
async def test_slack_errors_become_permanent_or_transient(
    transport: SlackTransport, fake_slack: FakeSlack, error: str, permanent: bool
) -> None:
    fake_slack.fail_channels["C0GONE"] = error

    with pytest.raises(DeliveryError, match=error) as caught:
        await transport.send("C0GONE", MESSAGE)

    assert caught.value.permanent is permanent and caught.value.retry_after is None


async def test_a_refused_token_is_permanent_and_never_shown(slack_url: str, fake_slack: FakeSlack) -> None:
    stale = "xoxb-9999-revoked-token-do-not-print"
    transport = SlackTransport(stale, base_url=f"{slack_url}/api/")

    with pytest.raises(DeliveryError) as caught:
        await transport.send(CHANNEL, MESSAGE)

    assert caught.value.permanent and "invalid_auth" in str(caught.value)
    assert stale not in str(caught.value) and stale not in repr(caught.value) and stale not in repr(transport)
    assert fake_slack.called("chat.postMessage")[0].error == "invalid_auth"


async def test_an_unreachable_slack_is_transient_and_never_shows_the_token() -> None:
    transport = SlackTransport(BOT_TOKEN, base_url=f"http://127.0.0.1:{free_port()}/api/")

    with pytest.raises(DeliveryError) as caught:
        await transport.send(CHANNEL, MESSAGE)

    assert not caught.value.permanent and BOT_TOKEN not in str(caught.value)


@pytest.fixture
def limited_slack(monkeypatch: pytest.MonkeyPatch, clock: FakeClock) -> tuple[FakeSlack, RecordingSleep]:
    """A fake allowing 1 message/s per channel on a clock that moves only while slack_sdk waits out a 429."""
    seconds = RecordingSleep(clock=clock)
    # slack_sdk's rate-limit handler sleeps Retry-After (+ jitter) with asyncio.sleep; let it sleep on our clock.
    monkeypatch.setattr(builtin_async_handlers, "asyncio", types.SimpleNamespace(sleep=seconds))
    return FakeSlack(limit_per_second=1, clock=clock.seconds), seconds


async def test_a_429_is_waited_out_by_slack_sdk_and_the_message_goes_through(
    limited_slack: tuple[FakeSlack, RecordingSleep],
) -> None:
    fake, seconds = limited_slack
    async with serve(fake.app()) as url:
        transport = SlackTransport(BOT_TOKEN, base_url=f"{url}/api/")
        first = await transport.send(CHANNEL, MESSAGE)
        second = await transport.send(CHANNEL, MESSAGE)
        other_channel = await transport.send("C0OTHER", MESSAGE)

    assert [call.status for call in fake.called("chat.postMessage")] == [200, 429, 200, 200]
    assert len({first, second, other_channel}) == 3 and len(fake.messages) == 3
    assert len(seconds.waits) == 1 and 1 <= seconds.waits[0] < 2  # Retry-After: 1, plus slack_sdk's jitter


async def test_a_429_that_outlasts_the_retries_reports_retry_after(
    limited_slack: tuple[FakeSlack, RecordingSleep],
) -> None:
    fake, seconds = limited_slack
    fake.retry_after = 7
    async with serve(fake.app()) as url:
        transport = SlackTransport(BOT_TOKEN, base_url=f"{url}/api/", max_retry_count=0)
        await transport.send(CHANNEL, MESSAGE)
        with pytest.raises(DeliveryError, match="ratelimited") as caught:
            await transport.send(CHANNEL, MESSAGE)

    assert caught.value.retry_after == 7 and not caught.value.permanent
    assert [call.status for call in fake.called("chat.postMessage")] == [200, 429] and seconds.waits == []
