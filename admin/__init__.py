"""The web side of reconbot: one aiohttp application (``app``) for the bank's consent callback, the
sandbox bank's consent page and ``/healthz`` now; the admin panel and chat endpoints join it later."""
