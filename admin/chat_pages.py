"""Chat: the workspace's Slack and Telegram bots, the channels notifications go to, and a test message.

Tokens are checked with the platform before they are stored (Telegram's getMe, Slack's auth.test, which
also tell the bot's name), stored sealed, and shown only masked. After every change the running bots
follow at once (``CHAT_RELOAD_KEY``).
"""

from __future__ import annotations

from aiohttp import web

from reconbot.admin.member_pages import refuse
from reconbot.admin.rendering import CHAT_RELOAD_KEY, feeds, now, redirect_with, render, viewer
from reconbot.admin.security import requires
from reconbot.bot.runtime import verify_credentials
from reconbot.core.encryption import mask
from reconbot.core.errors import SetupError
from reconbot.core.persistence.chat_tables import Platform
from reconbot.core.roles import SETUP_ROLES
from reconbot.core.services.chat import queue as chat_messages
from reconbot.core.services.chat import setup as chat_setup
from reconbot.core.services.chat.routing import BANK_KINDS
from reconbot.core.services.events import EventKind
from reconbot.handlers.notifications import trial_message

KIND_LABELS = {
    EventKind.PAYMENT_MATCHED: "Payment received and paired",
    EventKind.PARTIAL_PAYMENT: "Partial payment",
    EventKind.OVERPAYMENT: "Overpayment",
    EventKind.POSSIBLE_DOUBLE_PAYMENT: "Possible double payment",
    EventKind.UNMATCHED_TRANSACTION: "Unmatched transaction",
    EventKind.PROFORMA_PAID: "Proforma paid",
    EventKind.FINAL_INVOICE_ISSUED: "Final invoice issued",
    EventKind.SALE_PAID: "Sale paid",
    EventKind.SALE_INVOICED: "Sale invoiced",
    EventKind.WRITE_BACK_FAILED: "Payment write-back failed",
    EventKind.HANDOFF_FAILED: "Handing a document to the accountant failed",
    EventKind.BANK_CONNECTED: "Bank connected",
    EventKind.CONSENT_EXPIRING: "Bank access ending soon",
    EventKind.CONSENT_EXPIRED: "Bank access ended",
    EventKind.SYNC_FAILING: "Sync failing",
    EventKind.SYNC_RECOVERED: "Sync working again",
}
MODES = {
    Platform.SLACK: {"socket": "Socket Mode (no public address needed)", "http": "HTTP (Slack posts to this server)"},
    Platform.TELEGRAM: {"polling": "Long polling (no public address needed)",
                        "webhook": "Webhook (Telegram posts to this server)"},
}  # fmt: skip
SECRET_FIELDS = {
    Platform.SLACK: {"bot_token": "Bot token (xoxb-…)", "app_token": "App-level token (xapp-…, Socket Mode)",
                     "signing_secret": "Signing secret (HTTP mode)"},
    Platform.TELEGRAM: {"bot_token": "Bot token (from @BotFather)"},
}  # fmt: skip


def register(app: web.Application) -> None:
    app.router.add_get("/chat", chat_page)
    app.router.add_post("/chat/{platform:slack|telegram}", connection_post)
    app.router.add_post("/chat/channels", channel_post)
    app.router.add_post("/chat/channels/{channel_id:\\d{1,18}}/remove", remove_channel_post)
    app.router.add_post("/chat/channels/{channel_id:\\d{1,18}}/test", test_post)


def _error(request: web.Request, exc: SetupError, title: str) -> web.Response:
    return refuse(request, exc, title, back="/chat")


@requires(SETUP_ROLES)
async def chat_page(request: web.Request) -> web.Response:
    """Each platform's bot (mode, name, masked credentials, the address to give it) and the channels."""
    workspace_id = viewer(request).workspace_id
    engine = feeds(request).engine
    bots = {c.platform: c for c in chat_setup.connections(engine, workspace_id)}
    platforms = []
    for platform in Platform:
        connection = bots.get(platform)
        masked = {name: mask(value) for name, value in connection.credentials.items()} if connection else {}
        endpoint = ""
        if connection is not None and connection.mode in ("http", "webhook"):
            endpoint = f"{feeds(request).public_url.rstrip('/')}/{platform.value}/{connection.id}"
        platforms.append({"platform": platform.value, "connection": connection, "masked": masked,
                          "endpoint": endpoint, "modes": MODES[platform],
                          "fields": SECRET_FIELDS[platform]})  # fmt: skip
    channels = chat_setup.channels(engine, workspace_id)
    return render(request, "chat.html", platforms=platforms, channels=channels, kinds=KIND_LABELS,
                  bank_kinds=BANK_KINDS)  # fmt: skip


@requires(SETUP_ROLES)
async def connection_post(request: web.Request) -> web.StreamResponse:
    """Check the bot's credentials with the platform, store them sealed, and let the running bots follow.
    An empty field keeps the value stored before (so a mode can change without typing tokens again)."""
    platform = Platform(request.match_info["platform"])
    form = {key: str(value).strip() for key, value in (await request.post()).items()}
    workspace_id = viewer(request).workspace_id
    engine = feeds(request).engine
    mode = form.get("mode", "")
    before = {c.platform: c for c in chat_setup.connections(engine, workspace_id)}.get(platform)
    kept = dict(before.credentials) if before is not None else {}
    values = {name: form.get(name) or kept.get(name, "") for name in SECRET_FIELDS[platform]}
    try:
        if mode not in MODES[platform]:
            raise SetupError(f"choose how the {platform.value} bot receives updates")
        bot_name = await verify_credentials(platform, values)
        chat_setup.save_connection(engine, workspace_id, platform, mode, values, actor=viewer(request).actor,
                                   bot_name=bot_name)  # fmt: skip
    except SetupError as exc:
        return _error(request, exc, f"{platform.value.capitalize()} not saved")
    request.app[CHAT_RELOAD_KEY]()
    name = f" as @{bot_name}" if bot_name else ""
    raise redirect_with(request, "/chat", f"{platform.value.capitalize()} bot connected{name} in {mode} mode.")


def _private(platform: Platform, address: str) -> bool:
    """Return True for a one-person chat: a Telegram user's id (groups are negative) or a Slack DM (D…)."""
    if platform is Platform.TELEGRAM:
        return address.isdigit()
    return address.startswith("D")


@requires(SETUP_ROLES)
async def channel_post(request: web.Request) -> web.StreamResponse:
    """Send notifications (all, or the chosen kinds) to a Slack channel or Telegram chat."""
    posted = await request.post()
    form = {key: str(value).strip() for key, value in posted.items()}
    kinds = [str(kind) for kind in posted.getall("kinds", []) if str(kind) in KIND_LABELS]
    address = form.get("address", "")
    try:
        try:
            platform = Platform(form.get("platform", ""))
        except ValueError:
            raise SetupError("choose Slack or Telegram") from None
        if len(address) > 100 or any(c.isspace() for c in address):
            raise SetupError(f"{address[:100]!r} is not a channel or chat id")
        who = viewer(request)
        chat_setup.add_channel(feeds(request).engine, who.workspace_id, platform, address, actor=who.actor,
                               name=form.get("name", "")[:100], bank_data=form.get("bank_data") == "on",
                               group=not _private(platform, address), kinds=kinds)  # fmt: skip
    except SetupError as exc:
        return _error(request, exc, "Channel not linked")
    request.app[CHAT_RELOAD_KEY]()
    raise redirect_with(request, "/chat", f"Notifications go to {platform.value} {address} from now on.")


def _channel_id(request: web.Request) -> int:
    return int(request.match_info["channel_id"])


@requires(SETUP_ROLES)
async def remove_channel_post(request: web.Request) -> web.StreamResponse:
    """Stop sending to a channel (its message history stays)."""
    try:
        chat_setup.remove_channel(feeds(request).engine, viewer(request).workspace_id, _channel_id(request),
                                  actor=viewer(request).actor)  # fmt: skip
    except SetupError as exc:
        return _error(request, exc, "Channel not removed")
    raise redirect_with(request, "/chat", "The channel gets no more notifications.")


@requires(SETUP_ROLES)
async def test_post(request: web.Request) -> web.StreamResponse:
    """Queue a test message for the channel; the delivery worker sends it as it sends every notification."""
    who = viewer(request)
    engine = feeds(request).engine
    channel_id = _channel_id(request)
    listed = {c.id: c for c in chat_setup.channels(engine, who.workspace_id)}
    channel = listed.get(channel_id)
    bots = {c.platform for c in chat_setup.connections(engine, who.workspace_id)}
    try:
        if channel is None:
            raise SetupError(f"there is no channel {channel_id}")
        if channel.platform not in bots:
            raise SetupError(f"connect the {channel.platform.value} bot first")
        body = trial_message(who.language.value, who.workspace_name, who.member_name).to_json()
        chat_messages.queue_test_message(engine, who.workspace_id, channel_id, body, actor=viewer(request).actor,
                                         now=now(request))  # fmt: skip
    except SetupError as exc:
        return _error(request, exc, "No test message sent")
    request.app[CHAT_RELOAD_KEY]()  # wakes the delivery worker, so the message goes now
    raise redirect_with(request, "/chat", f"A test message is on its way to {channel.name or channel.address}.")
