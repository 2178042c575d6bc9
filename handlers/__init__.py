"""Platform-independent words behind chat buttons, commands and notifications.

The services in ``reconbot.core.services.chat`` decide and store; these modules turn their neutral results
into ``Message``/``Reply`` and pass them pure composers and renderers. No database work happens here.
"""
