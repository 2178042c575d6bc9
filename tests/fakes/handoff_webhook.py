"""A fake accountant's system that takes handed-off documents by webhook: it records every request, keeps each
idempotency key's document once, and can be told to fail."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from reconbot.core.handoff.webhook import IDEMPOTENCY_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, signature


@dataclass
class Delivery:
    key: str
    timestamp: str
    signature: str
    body: bytes

    @property
    def document(self) -> dict[str, Any]:
        parsed: dict[str, Any] = json.loads(self.body)
        return parsed


@dataclass
class FakeHandoffWebhook:
    """``failures`` answers 500 that many times first; ``always_fail`` answers 500 to everything."""

    secret: str = "accountant-signing-secret-7f3a"
    failures: int = 0
    always_fail: bool = False
    requests: list[Delivery] = field(default_factory=list)
    documents: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/hook", self._receive)
        return app

    def verified(self, delivery: Delivery) -> bool:
        """Return whether the delivery carries this secret's signature of its body."""
        return delivery.signature == signature(self.secret, delivery.timestamp, delivery.body)

    async def _receive(self, request: web.Request) -> web.Response:
        delivery = Delivery(request.headers.get(IDEMPOTENCY_HEADER, ""), request.headers.get(TIMESTAMP_HEADER, ""),
                            request.headers.get(SIGNATURE_HEADER, ""), await request.read())  # fmt: skip
        self.requests.append(delivery)
        if self.always_fail or self.failures > 0:
            self.failures -= 1
            return web.Response(status=500, text="temporarily broken")
        if not self.verified(delivery):
            return web.json_response({"error": "bad signature"}, status=401)
        if delivery.key in self.documents:
            return web.json_response({"status": "duplicate", "key": delivery.key})
        self.documents[delivery.key] = delivery.document
        return web.json_response({"status": "accepted", "key": delivery.key})
