"""Chat platform adapters (Slack, Telegram) and the outbox delivery worker.

Arrives with the chat issue; until then the core writes its events to the outbox table.
"""
