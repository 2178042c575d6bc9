"""Bank feeds: account-information providers (PSD2) behind one interface.

``provider`` defines the interface and registry, ``model`` the values it speaks in, ``errors`` what
it raises, ``feed_merge`` how a fetched window meets what is stored. Each PSD2 provider is a client
(``enable_banking``, ``gocardless``, on ``psd2``'s authorised calls through
``reconbot.core.http_client``) beside its wire format (``enable_banking_wire``, ``gocardless_wire``).
The sandbox bank is its protocol (``sandbox``) and a pure payment simulation (``sandbox_activity``,
with the names and texts of ``sandbox_payers``).
"""
