"""The interface every handoff receiver implements, and the registry that builds them.

A receiver is thin: it delivers one ``Document`` and returns what the other side answered,
or raises ``ProviderError`` (``permanent`` when sending again cannot help). It stores nothing;
``reconbot.core.services.handoff.sending`` decides what to send and records how it went.
"""

from __future__ import annotations

import asyncio
import time
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import ClassVar

from reconbot.core.errors import ProviderError
from reconbot.core.handoff.model import Document


@dataclass(frozen=True)
class ReceiverContext:
    """What a receiver may need from its surroundings, so tests can replace each piece: ``timestamp`` gives
    Unix seconds for signatures, ``sleep`` is what in-request retries wait with."""

    timeout_seconds: float = 30.0
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    timestamp: Callable[[], int] = field(default=lambda: int(time.time()))


class Receiver(ABC):
    """One way of handing documents over. ``send`` may be called again for a document it already delivered
    (a crash between sending and recording): each receiver makes that harmless in its own way."""

    #: the kind users type (``reconbot handoff setup webhook``) and that is stored with the receiver
    kind: ClassVar[str]
    #: the settings it needs (all stored sealed); ``secret_fields`` are never shown back
    required: ClassVar[tuple[str, ...]] = ()
    secret_fields: ClassVar[tuple[str, ...]] = ()

    @classmethod
    @abstractmethod
    def from_settings(cls, settings: Mapping[str, str], context: ReceiverContext) -> Receiver:
        """Return a receiver built from its decrypted settings; raises ``ProviderError`` (permanent) when one is
        missing or malformed."""

    @abstractmethod
    async def send(self, document: Document) -> str:
        """Deliver the document; return the receiver's answer in one line (status and excerpt).

        Raises ``ProviderError``: permanent when the receiver refused it for good."""

    async def aclose(self) -> None:  # noqa: B027 - most receivers hold nothing to close
        """Release what the receiver holds (connections)."""


def check_settings(kind: str, settings: Mapping[str, str], required: tuple[str, ...]) -> None:
    """Raise a permanent ``ProviderError`` naming the first required setting that is missing or blank."""
    for name in required:
        if not str(settings.get(name, "")).strip():
            raise ProviderError(f"{kind} receiver: the setting {name!r} is missing", permanent=True)


def receiver_class(kind: str) -> type[Receiver]:
    """Return the receiver class of ``kind``; raises ``ProviderError`` (permanent) for an unknown kind."""
    from reconbot.core.handoff.email import EmailReceiver
    from reconbot.core.handoff.folder import FolderReceiver
    from reconbot.core.handoff.webhook import WebhookReceiver

    classes: dict[str, type[Receiver]] = {c.kind: c for c in (WebhookReceiver, EmailReceiver, FolderReceiver)}
    if kind not in classes:
        raise ProviderError(f"there is no {kind!r} receiver; choose one of {', '.join(classes)}", permanent=True)
    return classes[kind]
