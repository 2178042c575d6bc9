"""The webhook contract for the owner's own invoicing system: HMAC-signed JSON events, checked before anything is read.

Header ``X-Reconbot-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>." + body>``,
keyed with the webhook secret ``reconbot invoicing setup own`` prints. A signature
older than five minutes is refused, so a captured request cannot be replayed later.

Body: ``{"id": "<event id>", "type": "invoice.created" | "invoice.updated" | "sale.paid", "data": {...}}``.

The invoice's PDF rides along an invoice event, so the signature covers it and the event names its invoice:
``data.pdf_base64`` holds the PDF file, base64-encoded (standard alphabet; line breaks allowed). It must
decode to at most ``MAX_PDF_BYTES`` (10 MiB) starting ``%PDF-``; a whole event body may be at most
``MAX_EVENT_BYTES``. A PDF rendered after the invoice was sent comes with an ``invoice.updated`` event
carrying the same invoice data; a later PDF of the same invoice is a new version of it in the archive.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from reconbot.core.domain import Direction, Invoice, InvoiceKind, status_for
from reconbot.core.errors import InputError
from reconbot.core.exact_json import JsonError, read_json
from reconbot.core.invoicing.model import SourceInvoice
from reconbot.core.invoicing.sales import Sale, parse_sale
from reconbot.core.invoicing.source import PDF_MAGIC
from reconbot.core.money import ZERO, is_currency

SIGNATURE_HEADER = "X-Reconbot-Signature"
TOLERANCE_SECONDS = 300
INVOICE_EVENTS = ("invoice.created", "invoice.updated")
SALE_PAID = "sale.paid"
MAX_PDF_BYTES = 10 * 1024 * 1024
# base64 makes 4 bytes of 3; the rest of an invoice event is a few kilobytes.
MAX_EVENT_BYTES = MAX_PDF_BYTES * 4 // 3 + 1024 * 1024


class SignatureError(Exception):
    """The request is not signed with the workspace's webhook secret (or too long ago); the message says which."""


def sign(secret: str, body: bytes, timestamp: int) -> str:
    """Return the signature header value for ``body`` sent at ``timestamp`` (what the own system must compute)."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def verify(secret: str, header: str, body: bytes, now: datetime) -> None:
    """Return when ``header`` signs ``body`` with ``secret`` within the tolerance; raises SignatureError if not."""
    parts = dict(part.strip().partition("=")[::2] for part in header.split(",") if "=" in part)
    # ASCII only: "²".isdigit() is true but int() refuses it, compare_digest refuses non-ASCII text,
    # and int() refuses more than 4300 digits; each would be a 500 instead of a 401.
    stamp, digest = parts.get("t", ""), parts.get("v1", "")
    if not (stamp.isascii() and stamp.isdigit() and len(stamp) <= 12) or not (digest and digest.isascii()):
        raise SignatureError(f"missing or malformed {SIGNATURE_HEADER} header")
    timestamp = int(stamp)
    if abs(now.timestamp() - timestamp) > TOLERANCE_SECONDS:
        raise SignatureError("the signature timestamp is more than 5 minutes away from now")
    if not hmac.compare_digest(sign(secret, body, timestamp), f"t={timestamp},v1={digest}"):
        raise SignatureError("the signature does not match the body")


@dataclass(frozen=True, slots=True)
class OwnEvent:
    """A verified, parsed webhook event: an invoice to store (``pdf``: its PDF when one came along), or a paid sale."""

    id: str
    type: str
    invoice: SourceInvoice | None = None
    sale: Sale | None = None
    pdf: bytes | None = None


def parse_event(body: bytes) -> OwnEvent:
    """Return the event in ``body``; raises InputError naming the field that is wrong (nothing is stored from it)."""
    try:
        data = read_json(body, max_bytes=MAX_EVENT_BYTES)
    except JsonError as exc:
        raise InputError("webhook", "body", f"not JSON ({exc})") from None
    if not isinstance(data, dict):
        raise InputError("webhook", "body", "must be a JSON object")
    event_id, kind = data.get("id"), data.get("type")
    if not isinstance(event_id, str) or not event_id.strip():
        raise InputError("webhook", "id", "the event id is missing")
    if kind in INVOICE_EVENTS:
        invoice = parse_invoice(data.get("data"), "data")
        return OwnEvent(event_id, kind, invoice=invoice, pdf=parse_pdf(data["data"], "data"))
    if kind == SALE_PAID:
        return OwnEvent(event_id, kind, sale=parse_sale(data.get("data"), "data"))
    raise InputError("webhook", "type", f"{kind!r} is not one of: {', '.join((*INVOICE_EVENTS, SALE_PAID))}")


def parse_invoice(data: Any, where: str) -> SourceInvoice:
    """Return the invoice an own system described; raises InputError for a missing or malformed field."""
    if not isinstance(data, dict):
        raise InputError("webhook", where, "must be a JSON object")
    partner = data.get("partner") or {}
    if not isinstance(partner, dict):
        raise InputError("webhook", f"{where}.partner", "must be a JSON object")
    external_id = _text(data, "id", where, required=True)
    currency = _text(data, "currency", where, required=True).upper()
    if not is_currency(currency):
        raise InputError("webhook", f"{where}.currency", f"{currency!r} is not an ISO 4217 currency code")
    gross = _amount(data, "gross", where, required=True)
    assert gross is not None  # required: _amount raised otherwise
    paid = _amount(data, "paid", where) or ZERO
    cancelled = data.get("cancelled", False) is True
    invoice = Invoice(
        id=external_id,
        number=_text(data, "number", where, required=True),
        direction=_choice(data, "direction", where, Direction, Direction.ISSUED),
        kind=_choice(data, "kind", where, InvoiceKind, InvoiceKind.INVOICE),
        gross=gross,
        currency=currency,
        paid=paid,
        status=status_for(gross, paid, cancelled),
        partner_name=_text(partner, "name", f"{where}.partner"),
        partner_tax_id=_text(partner, "tax_id", f"{where}.partner"),
        partner_iban=_text(partner, "iban", f"{where}.partner"),
        partner_email=_text(partner, "email", f"{where}.partner"),
        order_number=_text(data, "order_number", where),
        issue_date=_date(data, "issue_date", where, required=True),
        due_date=_date(data, "due_date", where),
    )
    return SourceInvoice(invoice)


def parse_pdf(data: dict[str, Any], where: str) -> bytes | None:
    """Return the PDF in ``data["pdf_base64"]``, None when there is none; raises InputError when it is not base64,
    not a PDF, or larger than ``MAX_PDF_BYTES``."""
    text = data.get("pdf_base64")
    if text in (None, ""):
        return None
    field = f"{where}.pdf_base64"
    if not isinstance(text, str):
        raise InputError("webhook", field, "must be the PDF file as base64 text")
    too_large = f"the PDF is larger than {MAX_PDF_BYTES // (1024 * 1024)} MiB"
    compact = "".join(text.split())
    if len(compact) > (MAX_PDF_BYTES + 2) // 3 * 4:  # refused before decoding it
        raise InputError("webhook", field, too_large)
    try:
        pdf = base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError):
        raise InputError("webhook", field, "is not valid base64") from None
    if len(pdf) > MAX_PDF_BYTES:
        raise InputError("webhook", field, too_large)
    if not pdf.startswith(PDF_MAGIC):
        raise InputError("webhook", field, "is not a PDF file (it must start with %PDF-)")
    return pdf


def _text(obj: dict[str, Any], key: str, where: str, *, required: bool = False) -> str:
    value = obj.get(key)
    if value in (None, ""):
        if required:
            raise InputError("webhook", f"{where}.{key}", "is missing")
        return ""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise InputError("webhook", f"{where}.{key}", "must be text")
    return str(value).strip()


def _amount(obj: dict[str, Any], key: str, where: str, *, required: bool = False) -> Decimal | None:
    text = _text(obj, key, where, required=required) if not isinstance(obj.get(key), Decimal) else str(obj[key])
    if not text:
        return None
    try:
        amount = Decimal(text)
    except ArithmeticError:
        raise InputError("webhook", f"{where}.{key}", f"{text!r} is not a number") from None
    if not amount.is_finite():
        raise InputError("webhook", f"{where}.{key}", f"{text!r} is not a number")
    return amount


def _date(obj: dict[str, Any], key: str, where: str, *, required: bool = False) -> Any:
    text = _text(obj, key, where, required=required)
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InputError("webhook", f"{where}.{key}", f"{text!r} is not a date (YYYY-MM-DD)") from None


def _choice(obj: dict[str, Any], key: str, where: str, enum: Any, default: Any) -> Any:
    text = _text(obj, key, where)
    if not text:
        return default
    try:
        return enum(text)
    except ValueError:
        allowed = ", ".join(member.value for member in enum)
        raise InputError("webhook", f"{where}.{key}", f"{text!r} is not one of: {allowed}") from None
