"""``/metrics``: the installation's numbers in Prometheus's text format, read from the database on each scrape.

Not public: with ``RECONBOT_METRICS_TOKEN`` set, a scrape must send ``Authorization: Bearer <token>``; without
it, only requests from this machine (127.0.0.1 or ::1) that came through no proxy are answered, and only while
browsers reach reconbot on this machine too (``RECONBOT_PUBLIC_URL`` unset or local): behind a proxy, set the token.
"""

from __future__ import annotations

import hmac
import os
from collections.abc import Callable, Iterator
from datetime import datetime
from urllib.parse import urlsplit

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import Engine

from reconbot.admin.rendering import feeds
from reconbot.core.services.status.metrics import snapshot
from reconbot.core.services.status.overview import scheduler_lock_held

TOKEN_ENV = "RECONBOT_METRICS_TOKEN"
LOCAL_ADDRESSES = frozenset({"127.0.0.1", "::1"})
# Headers a reverse proxy adds: a request carrying one came from elsewhere, whatever its socket address says.
PROXY_HEADERS = ("Forwarded", "X-Forwarded-For", "X-Real-IP")

# name, help, label names, the snapshot's field
_GAUGES = (
    ("reconbot_bank_transactions", "Stored bank transactions by status.", ["workspace", "status"], "transactions"),
    ("reconbot_open_invoices", "Invoices not fully paid, by direction.", ["workspace", "direction"], "open_invoices"),
    ("reconbot_chat_messages", "Chat messages by delivery status.", ["workspace", "status"], "chat_messages"),
    ("reconbot_chat_oldest_pending_seconds", "Age of the oldest chat message not yet sent.", ["workspace"],
     "oldest_pending_chat_seconds"),
    ("reconbot_write_back_operations", "Writes to invoicing systems by status.", ["workspace", "status"],
     "operations"),
    ("reconbot_bank_connections", "Bank connections by status.", ["workspace", "status"], "connections"),
    ("reconbot_bank_account_seconds_since_sync", "Seconds since the account's last successful sync.",
     ["workspace", "account"], "since_last_sync_seconds"),
    ("reconbot_consent_days_left", "Days until an active connection's consent ends.", ["workspace", "connection"],
     "consent_days_left"),
)  # fmt: skip


class DatabaseCollector(Collector):
    """Reads the database on every ``collect`` (each scrape), so the numbers are never stale."""

    def __init__(self, engine: Engine, clock: Callable[[], datetime]) -> None:
        self.engine, self.clock = engine, clock

    def collect(self) -> Iterator[GaugeMetricFamily]:
        found = snapshot(self.engine, self.clock())
        for name, documentation, labels, attribute in _GAUGES:
            gauge = GaugeMetricFamily(name, documentation, labels=labels)
            for values, value in sorted(getattr(found, attribute).items()):
                gauge.add_metric(list(values), float(value))
            yield gauge
        held = scheduler_lock_held(self.engine)
        if held is not None:
            yield GaugeMetricFamily(
                "reconbot_scheduler_running", "1 when a process holds the scheduler's lock.", value=int(held)
            )


def allowed(request: web.Request) -> bool:
    """Return True when the request may read the metrics (the module docstring says who may)."""
    token = os.environ.get(TOKEN_ENV, "")
    if token:
        sent = request.headers.get("Authorization", "")
        return hmac.compare_digest(sent.encode(), f"Bearer {token}".encode())
    # A local proxy's requests come from 127.0.0.1 too, often without any forwarding header: when browsers reach
    # reconbot at another address than this machine's own, only the token opens the metrics.
    local_site = urlsplit(feeds(request).public_url).hostname in ("127.0.0.1", "localhost", "::1")
    return local_site and request.remote in LOCAL_ADDRESSES and not any(h in request.headers for h in PROXY_HEADERS)


async def metrics(request: web.Request) -> web.Response:
    """Return the metrics, or 401/403 to a scraper that may not read them."""
    if not allowed(request):
        if os.environ.get(TOKEN_ENV):
            return web.Response(status=401, text="Send Authorization: Bearer <RECONBOT_METRICS_TOKEN>.\n",
                                headers={"WWW-Authenticate": 'Bearer realm="metrics"'})  # fmt: skip
        return web.Response(status=403, text=f"Only local scrapes; set {TOKEN_ENV} to allow others.\n")
    registry = CollectorRegistry(auto_describe=False)
    registry.register(DatabaseCollector(feeds(request).engine, feeds(request).clock))
    body = generate_latest(registry)
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST, "Cache-Control": "no-store"})


def register(app: web.Application) -> None:
    app.router.add_get("/metrics", metrics)
