"""Fakturownia's JSON wire format: invoices in (to ``SourceInvoice``), invoices and payments out.

Fakturownia sends amounts as decimal strings ("123.45"; the README's own input examples
also use "72,57"), dates as ``YYYY-MM-DD`` and ``updated_at`` as an ISO timestamp with an
offset. We send every amount as a decimal string too: the README's examples do so
(``"total_price_gross": "-10"``, ``"tax": "23"``), and it keeps Decimal exact without floats.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import httpx

from reconbot.core.domain import Direction, Invoice, InvoiceKind, status_for
from reconbot.core.errors import ProviderError
from reconbot.core.http_client import error_json
from reconbot.core.invoicing.model import InvoiceOrder, PaymentEntry, PaymentMethod, SourceInvoice
from reconbot.core.money import ZERO
from reconbot.core.parties import compact_iban

NAME = "fakturownia"

# Fakturownia's document kinds we keep; the rest (estimate, kp/kw cash slips, notes…) are not invoices to match.
KINDS: dict[str, InvoiceKind] = {
    "vat": InvoiceKind.INVOICE,
    "final": InvoiceKind.INVOICE,
    "bill": InvoiceKind.INVOICE,
    "receipt": InvoiceKind.INVOICE,
    "proforma": InvoiceKind.PROFORMA,
    "advance": InvoiceKind.ADVANCE,
    "correction": InvoiceKind.CREDIT_NOTE,
}

PAYMENT_TYPES: dict[PaymentMethod, str] = {
    PaymentMethod.TRANSFER: "transfer",
    PaymentMethod.CASH: "cash",
    PaymentMethod.CARD: "card",
    PaymentMethod.PAYPAL: "paypal",
}

# The README's `lang` values; ISO 639-1 codes it spells differently are translated, unknown ones become English.
LANGUAGES = frozenset("pl en de fr cz ru es it nl hr ar sk sl el et cn hu tr fa".split())
_ISO_TO_LANG = {"cs": "cz", "zh": "cn"}


def error_text(response: httpx.Response) -> str:
    """Return Fakturownia's error message on one line: ``{"code": "error", "message": ...}`` where the message
    is text or ``{field: [problems]}`` (the latter shape is assumed, Rails-style; unverified)."""
    body = error_json(response)
    message: Any = body
    if isinstance(body, dict):
        message = body.get("message") or body.get("error") or body.get("errors")
    if isinstance(message, dict):
        parts = []
        for field, problems in message.items():
            listed = problems if isinstance(problems, list) else [problems]
            parts.append(f"{field} {', '.join(str(p) for p in listed)}")
        message = "; ".join(parts)
    elif isinstance(message, list):
        message = "; ".join(str(m) for m in message)
    return " ".join(str(message or "").split())[:300]


def amount(value: Any) -> Decimal:
    """Return a Fakturownia amount ("123.45", "72,57", 12, Decimal) as Decimal; empty means zero.

    Raises ``ProviderError`` for anything else, so a changed format cannot turn into a wrong amount.
    """
    if value is None or value == "":
        return ZERO
    if isinstance(value, bool):
        raise ProviderError(f"{NAME}: unexpected amount {value!r}")
    if isinstance(value, int | Decimal):
        return Decimal(value)
    text = "".join(str(value).split())
    if "," in text and "." not in text:
        text = text.replace(",", ".")
    try:
        result = Decimal(text)
    except InvalidOperation:
        raise ProviderError(f"{NAME}: unexpected amount {str(value)[:40]!r}") from None
    if not result.is_finite():
        raise ProviderError(f"{NAME}: unexpected amount {str(value)[:40]!r}")
    return result


def decimal_text(value: Decimal) -> str:
    """Return ``value`` as plain decimal text ("12.50", "23"), never in exponent form."""
    return format(value, "f")


def rate_text(rate: Decimal) -> str:
    """Return a VAT rate as Fakturownia's ``tax`` wants it: "23", "0", "5.5" (no trailing zeros)."""
    return format(rate.normalize(), "f")


def parse_date(value: Any) -> date | None:
    """Return ``YYYY-MM-DD`` (or the date part of a timestamp) as a date; None when absent or malformed."""
    if not value:
        return None
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def parse_moment(value: Any) -> datetime | None:
    """Return an ISO timestamp as an aware datetime (UTC when it names no offset); None when absent or malformed."""
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _text(item: Mapping[str, Any], key: str) -> str:
    value = item.get(key)
    return "" if value is None else str(value).strip()


def _flag(value: Any) -> bool:
    return value is True or str(value).strip().lower() in ("1", "true", "yes")


def is_income(item: Mapping[str, Any]) -> bool:
    """Return True for an income (issued) document; ``income`` is 1/0, "1"/"0" or true/false."""
    value = item.get("income", 1)
    return value is None or _flag(value)


def to_source_invoice(item: Mapping[str, Any]) -> SourceInvoice | None:
    """Return the invoice a Fakturownia document describes, or None for a kind reconbot does not track.

    For a cost invoice (``income`` 0) the partner is the seller. A correction's gross and paid are
    negative. Cancellation is read from ``status == "rejected"`` or a ``cancelled`` flag (unverified:
    the README documents cancelling, not how a cancelled document reads). Raises ``ProviderError``
    for a document without an id or with a malformed amount.
    """
    kind = KINDS.get(_text(item, "kind"))
    if kind is None:
        return None
    doc_id = _text(item, "id")
    if not doc_id:
        raise ProviderError(f"{NAME}: a document without an id in the answer")
    gross = amount(item.get("price_gross"))
    paid = amount(item.get("paid"))
    status = _text(item, "status")
    if status == "paid" and paid == ZERO:
        paid = gross  # marked paid without a payment amount (status change only): it is settled all the same
    if kind is InvoiceKind.CREDIT_NOTE:
        gross, paid = -abs(gross), -abs(paid)
    cancelled = status == "rejected" or _flag(item.get("cancelled")) or _flag(item.get("canceled"))
    income = is_income(item)
    side = "buyer" if income else "seller"
    proforma_id = _text(item, "from_invoice_id") if kind is InvoiceKind.INVOICE else ""
    oid = _text(item, "oid")
    invoice = Invoice(
        id=doc_id,
        number=_text(item, "number"),
        direction=Direction.ISSUED if income else Direction.RECEIVED,
        kind=kind,
        gross=gross,
        currency=_text(item, "currency").upper(),
        paid=paid,
        status=status_for(gross, paid, cancelled),
        partner_name=_text(item, f"{side}_name"),
        partner_tax_id=_text(item, f"{side}_tax_no"),
        # Only a supplier's account is on the document (seller_bank_account); ours is no partner's IBAN.
        partner_iban="" if income else compact_iban(_text(item, "seller_bank_account")),
        partner_email=_text(item, f"{side}_email"),
        order_number=oid,
        issue_date=parse_date(item.get("issue_date")),
        due_date=parse_date(item.get("payment_to")),
    )
    return SourceInvoice(
        invoice=invoice,
        modified_at=parse_moment(item.get("updated_at")),
        proforma_id=proforma_id,
        external_key=oid,
    )


def payment_marker(key: str) -> str:
    """Return how a payment carries reconbot's key: in brackets, so "reconbot-p4" never matches "reconbot-p42"."""
    return f"[{key}]"


def carries_key(payment: Mapping[str, Any], key: str) -> bool:
    """Return True when a Fakturownia payment's description or name carries ``key``."""
    marker = payment_marker(key)
    return marker in _text(payment, "description") or marker in _text(payment, "name")


def payment_body(invoice_id: str, number: str, payment: PaymentEntry) -> dict[str, Any]:
    """Return the ``banking_payment`` object registering ``payment`` on invoice ``invoice_id``."""
    marker = payment_marker(payment.key)
    return {
        "name": f"{number} payment {marker}",
        "price": decimal_text(payment.amount),
        "invoice_id": wire_id(invoice_id),
        "paid": True,
        "kind": "api",
        "paid_date": payment.paid_on.isoformat(),
        "currency": payment.currency,
        # The key goes into the description (and the name) so a retry can find the payment again.
        "description": f"{payment.note} {marker}".strip(),
    }


def wire_id(external_id: str) -> int | str:
    """Return a document id as Fakturownia spells it in JSON: a number when it is one."""
    return int(external_id) if external_id.isdigit() else external_id


def language(code: str) -> str:
    """Return Fakturownia's ``lang`` for an ISO 639-1 code (``cs`` -> ``cz``); English when it has none."""
    lang = _ISO_TO_LANG.get(code.lower(), code.lower())
    return lang if lang in LANGUAGES else "en"


def invoice_body(order: InvoiceOrder) -> dict[str, Any]:
    """Return the ``invoice`` object issuing ``order``: a VAT invoice with the buyer inline, one position per line."""
    buyer = order.buyer
    body: dict[str, Any] = {
        "kind": "vat",
        "oid": order.external_key,
        "issue_date": order.issue_date.isoformat(),
        "sell_date": order.fulfillment_date.isoformat(),
        "payment_to": order.due_date.isoformat(),
        "payment_type": PAYMENT_TYPES[order.method],
        "currency": order.currency,
        "lang": language(order.language),
        "buyer_name": buyer.invoice_name,
        # A private person: "0" (the README documents "1" for a company; "0" is assumed to be its opposite).
        "buyer_company": "1" if buyer.is_company else "0",
        "positions": [
            {
                "name": line.name,
                "quantity": decimal_text(line.quantity),
                "quantity_unit": line.unit,
                "total_price_gross": decimal_text(line.gross),
                "tax": rate_text(line.vat_rate),
            }
            for line in order.lines
        ],
    }
    # Only what we know: an empty field would blank the matching client card's value (assumed behaviour).
    optional = {
        "buyer_email": buyer.email,
        "buyer_phone": buyer.phone,
        "buyer_street": buyer.address,
        "buyer_city": buyer.city,
        "buyer_post_code": buyer.post_code,
        "buyer_country": buyer.country.upper(),
        "buyer_tax_no": buyer.tax_number if buyer.is_company else "",
    }
    body |= {key: value for key, value in optional.items() if value}
    if order.paid:
        body |= {"status": "paid", "paid": decimal_text(order.gross), "paid_date": order.issue_date.isoformat()}
    else:
        body["status"] = "issued"
    if order.comment:
        body["description"] = order.comment
    return body
