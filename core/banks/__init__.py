"""Bank feeds: account-information providers (PSD2) behind one interface.

``provider`` defines the interface, ``model`` the values it speaks in,
``errors`` what it raises; each provider is one small module (``enable_banking``,
``gocardless``, ``sandbox``) that talks HTTP only through ``reconbot.core.http_client``.
"""
