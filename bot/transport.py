"""The one interface the delivery worker sends through; one small class per platform implements it."""

from __future__ import annotations

from abc import ABC, abstractmethod

from reconbot.handlers.messages import Message


class DeliveryError(Exception):
    """Sending failed. ``permanent``: retrying cannot help (channel gone, bot removed, token revoked) and
    the channel should show the problem; ``retry_after``: the platform asked to wait this many seconds."""

    def __init__(self, message: str, *, permanent: bool = False, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.permanent = permanent
        self.retry_after = retry_after


class ChatTransport(ABC):
    """Sends and edits messages on one platform, for one bot."""

    platform: str

    @abstractmethod
    async def send(self, address: str, message: Message) -> str:
        """Post ``message`` to the channel or chat ``address``; return the platform's id of the new message.

        Raises DeliveryError.
        """

    @abstractmethod
    async def edit(self, address: str, ref: str, message: Message) -> None:
        """Replace the message ``ref`` in ``address`` with ``message``. Raises DeliveryError."""

    def group_pace(self, address: str) -> float:
        """Return the least number of seconds between two messages to ``address`` (≈1 message/s per chat)."""
        return 1.0
