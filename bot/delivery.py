"""The delivery worker: outbox → chat messages → Slack and Telegram, at least once and never twice per event.

Each round routes new events (``reconbot.core.services.chat.routing``, worded by the handlers' composers),
folds a flood into a digest, and drains every channel with due messages in parallel, one message at a time
per channel, paced as the platform asks (≈1 message/s per chat, 3 s in a Telegram group). A rate limit
postpones the message by the time the platform named; a permanent refusal marks the channel as having a
problem and stops sending there.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine

from reconbot.bot.transport import ChatTransport, DeliveryError
from reconbot.core.persistence.chat_tables import Platform
from reconbot.core.persistence.tables import utcnow
from reconbot.core.services.chat.queue import (
    MAX_ATTEMPTS,
    ChannelView,
    Claimed,
    claim_next,
    due_channels,
    next_due,
    postpone,
    record_failure,
    record_sent,
)
from reconbot.core.services.chat.routing import DIGEST_AT, DigestComposer, EventComposer, fold_digest, route_events
from reconbot.handlers.digests import digest_body
from reconbot.handlers.messages import Message
from reconbot.handlers.notifications import compose_body

log = logging.getLogger(__name__)

POLL_SECONDS = 5.0


@dataclass
class DeliveryRound:
    """What one round did, for logs, tests and the benchmark."""

    routed: int = 0
    sent: int = 0
    edited: int = 0
    postponed: int = 0
    failed: int = 0
    digests: int = 0


class DeliveryWorker:
    """Drains the chat-message queue through one transport per (workspace, platform).

    ``compose`` and ``compose_digest`` word the events routing queues (the handlers' composers by default).
    """

    def __init__(
        self,
        engine: Engine,
        transports: Mapping[tuple[int, Platform], ChatTransport],
        *,
        clock: Callable[[], datetime] = utcnow,
        digest_at: int = DIGEST_AT,
        pace_scale: float = 1.0,
        compose: EventComposer = compose_body,
        compose_digest: DigestComposer = digest_body,
    ) -> None:
        self.engine = engine
        self.transports = transports
        self.clock = clock
        self.digest_at = digest_at
        self.compose = compose
        self.compose_digest = compose_digest
        self.pace_scale = pace_scale  # tests set 0: no waiting between messages
        self.name = f"{socket.gethostname()}:{os.getpid()}:{id(self):x}"
        self._wake = asyncio.Event()
        self._last_sent: dict[int, float] = {}

    def wake(self) -> None:
        """Start the next round now (a button press changed a message, an event was emitted)."""
        self._wake.set()

    async def run(self, stop: asyncio.Event, *, poll_seconds: float = POLL_SECONDS) -> None:
        """Deliver until ``stop`` is set: a round, then wait for a wake-up, the next postponed message, or the poll."""
        while not stop.is_set():
            self._wake.clear()
            try:
                await self.run_once()
            except Exception:  # one bad round must not end delivery; the next one retries
                log.exception("delivery round failed")
            await self._wait(stop, poll_seconds)

    async def _wait(self, stop: asyncio.Event, poll_seconds: float) -> None:
        timeout = poll_seconds
        due = next_due(self.engine)
        if due is not None:
            timeout = max(0.05, min(timeout, (due - self.clock()).total_seconds()))
        waiters = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(self._wake.wait())]
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED), timeout)
        for waiter in waiters:
            waiter.cancel()

    async def run_once(self) -> DeliveryRound:
        """Route new events and send (or edit) every message due now; return what was done."""
        done = DeliveryRound()
        # Route the whole backlog first, so a flood is folded into one digest rather than one per batch.
        for _ in range(100):
            routed = route_events(self.engine, self.clock(), self.compose)
            done.routed += routed
            if not routed:
                break
        channels = [
            c for c in due_channels(self.engine, self.clock()) if (c.workspace_id, c.platform) in self.transports
        ]
        await asyncio.gather(*(self._drain(channel, done) for channel in channels))
        return done

    async def _drain(self, channel: ChannelView, done: DeliveryRound) -> None:
        transport = self.transports[(channel.workspace_id, channel.platform)]
        digest = fold_digest(self.engine, channel.id, self.clock(), self.compose_digest, threshold=self.digest_at)
        if digest is not None:
            done.digests += 1
        while (claimed := claim_next(self.engine, channel, self.name, self.clock())) is not None:
            await self._pace(channel, transport)
            if not await self._deliver(transport, claimed, done):
                return

    async def _deliver(self, transport: ChatTransport, claimed: Claimed, done: DeliveryRound) -> bool:
        """Send or edit one message; return False when the channel should get no more this round."""
        message = Message.from_json(claimed.body)
        address = claimed.channel.address
        try:
            if claimed.ref:
                await transport.edit(address, claimed.ref, message)
                ref = claimed.ref
            else:
                ref = await transport.send(address, message)
        except DeliveryError as exc:
            return self._failed(claimed, exc, done)
        finally:
            self._last_sent[claimed.channel.id] = asyncio.get_running_loop().time()
        record_sent(self.engine, claimed, ref, self.clock())
        if claimed.ref:
            done.edited += 1
        else:
            done.sent += 1
        return True

    def _failed(self, claimed: Claimed, exc: DeliveryError, done: DeliveryRound) -> bool:
        now = self.clock()
        if exc.retry_after is not None:
            postpone(self.engine, claimed, now + timedelta(seconds=exc.retry_after), str(exc))
            done.postponed += 1
            return False
        if exc.permanent or claimed.attempts >= MAX_ATTEMPTS:
            log.warning("giving up on message %s in channel %s: %s", claimed.id, claimed.channel.id, exc)
            record_failure(self.engine, claimed, str(exc), now, permanent=exc.permanent)
            done.failed += 1
            return not exc.permanent or bool(claimed.ref)
        # A passing failure (network, 5xx): wait longer each time, up to 10 minutes.
        postpone(self.engine, claimed, now + timedelta(seconds=min(600, 5 * 2**claimed.attempts)), str(exc))
        done.postponed += 1
        return False

    async def _pace(self, channel: ChannelView, transport: ChatTransport) -> None:
        last = self._last_sent.get(channel.id)
        if last is None or not self.pace_scale:
            return
        wait = last + transport.group_pace(channel.address) * self.pace_scale - asyncio.get_running_loop().time()
        if wait > 0:
            await asyncio.sleep(wait)
