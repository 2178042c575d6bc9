"""Chat platform adapters (Slack, Telegram) and the delivery worker that takes the outbox to them.

Each platform translates neutral messages (``reconbot.handlers.messages``) to its wire format and its
interactions back to handler calls; nothing here touches the database but through ``core/services``.
"""
