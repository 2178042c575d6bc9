"""Who is asking, where, and what the handlers may use: the platform-free input of every action."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Engine

from reconbot.core.persistence.chat_tables import Platform
from reconbot.core.persistence.tables import utcnow
from reconbot.core.services.banks.providers import BankFeeds
from reconbot.core.services.invoicing.sources import InvoiceSources


@dataclass(frozen=True, slots=True)
class ChatUser:
    """A chat account: ``user_id`` is the Slack user id or the Telegram user id (as text)."""

    platform: Platform
    user_id: str
    name: str = ""

    @property
    def actor(self) -> str:
        """Return the actor as the audit trail and allocations record it: ``slack:U123``, ``telegram:42``."""
        return f"{self.platform.value}:{self.user_id}"


@dataclass(frozen=True, slots=True)
class Place:
    """Where a command was typed: ``private`` is a direct message or private chat with the bot."""

    platform: Platform
    address: str
    private: bool = False


def _no_wake() -> None:
    return None


@dataclass(frozen=True)
class Chat:
    """What the handlers of one workspace's bot work with.

    ``feeds`` renews bank consents (the Renew button); ``wake`` tells the delivery worker that messages
    wait to be sent or edited (so an edit after a button press happens at once, not at the next poll);
    ``public_url`` is the admin panel's address.
    """

    engine: Engine
    workspace_id: int
    sources: InvoiceSources | None = None
    clock: Callable[[], datetime] = utcnow
    wake: Callable[[], None] = field(default=_no_wake)
    public_url: str = "http://127.0.0.1:8000"
    feeds: BankFeeds | None = None

    def invoicing(self) -> InvoiceSources:
        """Return the invoicing services (made from the engine when none were given)."""
        return self.sources or InvoiceSources(self.engine, clock=self.clock)
