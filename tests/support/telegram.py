"""Telegram as the tests set it up: the workspace's bot stored as ``reconbot run`` reads it, a record of the updates
the dispatcher has finished with, and stand-ins for the handlers that record what they were asked."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiogram import Dispatcher
from aiogram.types import TelegramObject, Update
from sqlalchemy import Engine

from reconbot.core.persistence.chat_tables import Platform
from reconbot.core.services.chat.setup import ChatConnection, connections, save_connection
from reconbot.handlers.context import Chat, ChatUser, Place
from reconbot.handlers.messages import Reply
from tests.fakes.telegram import TOKEN


def telegram_connection(engine: Engine, workspace_id: int, mode: str) -> ChatConnection:
    """Store the workspace's Telegram bot in ``mode`` and return it as ``reconbot run`` would read it."""
    save_connection(engine, workspace_id, Platform.TELEGRAM, mode, {"bot_token": TOKEN}, actor="test")
    (connection,) = connections(engine, workspace_id)
    return connection


class Handled:
    """The ids of the updates the dispatcher has finished with (recorded by an outer middleware)."""

    def __init__(self, dispatcher: Dispatcher) -> None:
        self.ids: set[int] = set()
        self._changed = asyncio.Event()
        dispatcher.update.outer_middleware(self)

    async def __call__(
        self, handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]], event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:  # fmt: skip
        try:
            return await handler(event, data)
        finally:
            if isinstance(event, Update):
                self.ids.add(event.update_id)
            self._changed.set()
            self._changed = asyncio.Event()

    async def wait(self, update_id: int, timeout: float = 10) -> None:
        """Return once update ``update_id`` is handled. Raises TimeoutError."""
        async with asyncio.timeout(timeout):
            while update_id not in self.ids:
                await self._changed.wait()


@dataclass
class Handlers:
    """Stand-ins for ``handlers.commands`` / ``handlers.actions``: each records its call and returns ``replies``
    (by function name) or raises ``raises``; prompts are remembered in ``prompts``."""

    replies: dict[str, Reply] = field(default_factory=dict)
    raises: Exception | None = None
    calls: list[tuple[str, tuple[Any, ...]]] = field(default_factory=list)
    prompts: dict[str, str] = field(default_factory=dict)

    def fake(self, name: str) -> Callable[..., Awaitable[Reply]]:
        async def handler(chat: Chat, user: ChatUser, *args: Any) -> Reply:
            self.calls.append((name, (user, *args)))
            if self.raises is not None:
                raise self.raises
            return self.replies.get(name, Reply())

        return handler

    def remember_prompt(self, chat: Chat, action_id: str, ref: str) -> None:
        self.prompts[ref] = action_id

    def prompt_action(self, chat: Chat, ref: str) -> str | None:
        self.calls.append(("prompt_action", (ref,)))
        return self.prompts.get(ref)

    def places(self) -> list[Place]:
        return [arg for _, args in self.calls for arg in args if isinstance(arg, Place)]
