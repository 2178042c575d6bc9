"""Telegram: the aiogram bot (``TelegramBot``), its transport for the delivery worker, and HTML rendering."""

from reconbot.bot.telegram.app import TelegramBot
from reconbot.bot.telegram.transport import ChatMigrated, TelegramTransport

__all__ = ["ChatMigrated", "TelegramBot", "TelegramTransport"]
