"""The signed webhook receiver: each document POSTed as JSON to the accountant's system.

Headers: ``X-Reconbot-Timestamp`` (Unix seconds), ``X-Reconbot-Signature: sha256=<hex>``
(HMAC-SHA256 with the shared secret over ``<timestamp>.<body>``), and ``Idempotency-Key``
(the same for every sending of one document, so the receiver keeps only the first).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from urllib.parse import urlsplit

from reconbot.core.errors import ProviderError
from reconbot.core.handoff.model import Document
from reconbot.core.handoff.receiver import Receiver, ReceiverContext, check_settings
from reconbot.core.http_client import IntegrationHttp

SIGNATURE_HEADER = "X-Reconbot-Signature"
TIMESTAMP_HEADER = "X-Reconbot-Timestamp"
IDEMPOTENCY_HEADER = "Idempotency-Key"
_EXCERPT = 200


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """Return the signature header value of ``body`` sent at ``timestamp``: ``sha256=<hex HMAC>``."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


class WebhookReceiver(Receiver):
    kind = "webhook"
    required = ("url", "secret")
    secret_fields = ("secret",)

    def __init__(self, url: str, secret: str, context: ReceiverContext) -> None:
        self.url, self._secret, self._context = url, secret, context
        parts = urlsplit(url)
        # httpx would add a slash to a base URL's path: the client gets the origin, each request the path.
        self._path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        # One attempt per sending: the handoff job retries with its own backoff and keeps count.
        origin = f"{parts.scheme}://{parts.netloc}"
        self._http = IntegrationHttp(
            "handoff webhook", origin, timeout=context.timeout_seconds, max_attempts=1, sleep=context.sleep
        )

    @classmethod
    def from_settings(cls, settings: Mapping[str, str], context: ReceiverContext) -> WebhookReceiver:
        check_settings(cls.kind, settings, cls.required)
        url = settings["url"].strip()
        if urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).netloc:
            raise ProviderError(f"webhook receiver: {url!r} is not an http(s) address", permanent=True)
        return cls(url, settings["secret"], context)

    async def send(self, document: Document) -> str:
        body = json.dumps(document.as_json(), ensure_ascii=False, sort_keys=True).encode()
        timestamp = str(self._context.timestamp())
        headers = {
            "Content-Type": "application/json",
            TIMESTAMP_HEADER: timestamp,
            SIGNATURE_HEADER: signature(self._secret, timestamp, body),
            IDEMPOTENCY_HEADER: document.idempotency_key,
        }
        response = await self._http.request("POST", self._path, content=body, headers=headers)
        excerpt = " ".join(response.text.split())[:_EXCERPT]
        answer = f"HTTP {response.status_code}" + (f" {excerpt}" if excerpt else "")
        if response.is_success:
            return answer
        # 408 and 429 may pass later; any other refusal will be repeated for the same document.
        raise ProviderError(f"webhook refused the document: {answer}", permanent=response.status_code not in (408, 429),
                            status=response.status_code)  # fmt: skip

    async def aclose(self) -> None:
        await self._http.aclose()
