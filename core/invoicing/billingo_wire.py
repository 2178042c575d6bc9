"""Billingo API v3 wire format: JSON out with exact Decimals, and the mapping to reconbot's values.

Answers are read by ``reconbot.core.http_client.response_json``, so their fractional numbers arrive as
Decimal, never float.

Facts are from Billingo's OpenAPI 3.0.14 (client-api/billingo-python ``.github/specs/openapi.yml``);
where that spec is silent the choice made is marked "unverified".
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

import httpx
import orjson

from reconbot.core.domain import Direction, Invoice, InvoiceKind, status_for
from reconbot.core.errors import ProviderError
from reconbot.core.http_client import error_json
from reconbot.core.invoicing.model import Buyer, InvoiceLine, InvoiceOrder, PaymentEntry, PaymentMethod, SourceInvoice
from reconbot.core.money import ZERO

NAME = "billingo"

# DocumentType -> kind. "modification" (helyesbítő) may raise or lower an invoice, so it is left out with
# drafts, offers, waybills, receipts and the rest, none of which is a claim on anybody.
KINDS: dict[str, InvoiceKind] = {
    "invoice": InvoiceKind.INVOICE,
    "proforma": InvoiceKind.PROFORMA,
    "advance": InvoiceKind.ADVANCE,
    "cancellation": InvoiceKind.CREDIT_NOTE,
}

PAYMENT_METHODS: dict[PaymentMethod, str] = {
    PaymentMethod.TRANSFER: "wire_transfer",
    PaymentMethod.CASH: "cash",
    PaymentMethod.CARD: "bankcard",
    PaymentMethod.PAYPAL: "paypal",
}

# DocumentLanguage enum; "us" is American English. Polish and anything else Billingo lacks gets English.
LANGUAGES = frozenset({"de", "en", "fr", "hr", "hu", "it", "ro", "sk", "us"})

# The percentages of the Vat enum (it also holds exemption codes such as AAM, TAM, which we never send).
VAT_PERCENTS = frozenset({Decimal(n) for n in range(28)} | {Decimal("5.5"), Decimal("7.7"), Decimal("9.5")})

# Billingo requires all four address parts of a partner; a buyer without them gets these placeholders
# (unverified that NAV accepts them for a private person; the shop should collect real addresses).
DEFAULT_COUNTRY = "HU"
DEFAULT_POST_CODE = "0000"
DEFAULT_CITY = "-"
DEFAULT_ADDRESS = "-"


# --- JSON out with exact money ------------------------------------------------------------------------------


def _encode(value: Any) -> Any:
    if isinstance(value, Decimal):
        # A JSON number written digit for digit: Billingo wants numbers (type: number) and a float would round.
        return orjson.Fragment(format(value, "f").encode())
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"cannot encode {type(value).__name__}")


def dumps(body: Any) -> bytes:
    """Return ``body`` as JSON bytes, Decimals as exact JSON numbers; raises TypeError for other odd types."""
    return orjson.dumps(body, default=_encode)


def error_text(response: httpx.Response) -> str:
    """Return Billingo's own error message on one line (``{"error": {"message"}}``, or for 422
    ``{"message", "errors": [{"field", "message"}]}``), or "" when the body says nothing."""
    body = error_json(response)
    if not isinstance(body, dict):
        return ""
    error = body.get("error")
    parts = [str(error.get("message") or "")] if isinstance(error, dict) else [str(body.get("message") or "")]
    for item in body.get("errors") or ():
        if isinstance(item, dict) and item.get("message"):
            field = str(item.get("field") or "")
            parts.append(f"{field}: {item['message']}" if field else str(item["message"]))
    return " ".join("; ".join(p for p in parts if p).split())[:300]


# --- reading documents --------------------------------------------------------------------------------------


def decimal(value: Any) -> Decimal:
    """Return a JSON number (or numeric string) as a Decimal; None and "" are zero; raises a temporary
    ProviderError for anything else."""
    if value is None or value == "":
        return ZERO
    try:
        return Decimal(str(value))
    except InvalidOperation:
        raise ProviderError(f"{NAME}: expected an amount, got {str(value)[:40]!r}") from None


def _date(value: Any) -> date | None:
    try:
        return date.fromisoformat(str(value)[:10]) if value else None
    except ValueError:
        return None


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def kind_of(document: Mapping[str, Any]) -> InvoiceKind | None:
    """Return the kind of a Billingo document, or None for a type reconbot does not track."""
    return KINDS.get(_text(document.get("type")))


def signed_gross(document: Mapping[str, Any]) -> Decimal:
    """Return the document's gross total, negative for a cancellation (storno) whatever sign Billingo sends."""
    gross = decimal(document.get("gross_total"))
    return -abs(gross) if kind_of(document) is InvoiceKind.CREDIT_NOTE else gross


def paid_from_status(document: Mapping[str, Any]) -> Decimal | None:
    """Return the paid amount that ``payment_status`` alone implies, or None for ``partially_paid``
    (then only the payment history says how much)."""
    status = _text(document.get("payment_status"))
    if status == "paid":
        return signed_gross(document)
    if status == "partially_paid":
        return None
    return ZERO  # outstanding, expired, none


def payments_total(payments: Any) -> Decimal:
    """Return the sum of a PaymentHistory array's prices."""
    return sum((decimal(p.get("price")) for p in payments if isinstance(p, dict)), ZERO)


def to_source_invoice(
    document: Mapping[str, Any], paid: Decimal, *, proforma_id: str = "", external_key: str = ""
) -> SourceInvoice:
    """Return a tracked document (see ``kind_of``) as a SourceInvoice; ``paid`` carries the gross's sign.

    Raises ``ProviderError`` for a document of a type reconbot does not track.
    """
    kind = kind_of(document)
    if kind is None:
        raise ProviderError(f"{NAME}: document {document.get('id')} is a {document.get('type')!r}, not an invoice")
    gross = signed_gross(document)
    paid = -abs(paid) if gross < ZERO else paid
    # document_partner is the copy printed on the document; the spec marks ``partner`` deprecated.
    partner = document.get("document_partner") or document.get("partner") or {}
    emails = partner.get("emails") or []
    settings = document.get("settings") or {}
    invoice = Invoice(
        id=_text(document.get("id")),
        number=_text(document.get("invoice_number")),
        direction=Direction.ISSUED,  # v3 lists only documents we issued; supplier invoices are not in it
        kind=kind,
        gross=gross,
        currency=_text(document.get("currency")),
        paid=paid,
        status=status_for(gross, paid, bool(document.get("cancelled"))),
        partner_name=_text(partner.get("name")),
        partner_tax_id=_text(partner.get("taxcode")),
        partner_iban=_text(partner.get("iban")),
        partner_email=_text(emails[0]) if emails else "",
        order_number=_text(settings.get("order_number")),
        issue_date=_date(document.get("invoice_date")),
        due_date=_date(document.get("due_date")),
    )
    # The spec's Document has no vendor_id; read it when Billingo sends it anyway (unverified).
    return SourceInvoice(
        invoice, proforma_id=proforma_id, external_key=external_key or _text(document.get("vendor_id"))
    )


# --- writing ------------------------------------------------------------------------------------------------


def payment_body(payment: PaymentEntry) -> dict[str, Any]:
    """Return the PaymentHistory entry for ``payment``; its voucher number is reconbot's key."""
    return {
        "date": payment.paid_on.isoformat(),
        "price": payment.amount,
        "payment_method": PAYMENT_METHODS[payment.method],
        "voucher_number": payment.key,
    }


def tax_type(buyer: Buyer) -> str:
    """Return Billingo's PartnerTaxType: a Hungarian tax number, a foreign one, or none (a private person)."""
    if not buyer.tax_number:
        return "NO_TAX_NUMBER"
    return "HAS_TAX_NUMBER" if (buyer.country or DEFAULT_COUNTRY).upper() == "HU" else "FOREIGN"


def partner_body(buyer: Buyer) -> dict[str, Any]:
    """Return the Partner to create for ``buyer``, address placeholders filled in where the buyer gave none."""
    body: dict[str, Any] = {
        "name": buyer.invoice_name,
        "address": {
            "country_code": (buyer.country or DEFAULT_COUNTRY).upper(),
            "post_code": buyer.post_code or DEFAULT_POST_CODE,
            "city": buyer.city or DEFAULT_CITY,
            "address": buyer.address or DEFAULT_ADDRESS,
        },
        "emails": [buyer.email] if buyer.email else [],
        "taxcode": buyer.tax_number,
        "tax_type": tax_type(buyer),
    }
    if buyer.phone:
        body["phone"] = buyer.phone
    return body


def same_partner(found: Mapping[str, Any], wanted: Mapping[str, Any]) -> bool:
    """Return True when a listed partner is the one ``partner_body`` describes (name, tax number, address and
    e-mail all equal), so that reusing it puts no stale detail on the invoice."""
    address, want = found.get("address") or {}, wanted["address"]
    return (
        _text(found.get("name")) == wanted["name"]
        and _text(found.get("taxcode")) == wanted["taxcode"]
        and all(_text(address.get(k)).upper() == str(want[k]).upper() for k in want)
        and set(wanted["emails"]) <= {_text(e) for e in found.get("emails") or ()}
    )


def vat_code(rate: Decimal) -> str:
    """Return the Vat enum value for a percentage (27 -> "27%", 5.5 -> "5,5%"); raises a permanent
    ProviderError for a rate Billingo does not offer."""
    if rate not in VAT_PERCENTS:
        raise ProviderError(f"{NAME}: Billingo offers no {format(rate, 'f')} % VAT rate", permanent=True)
    if rate == rate.to_integral_value():
        return f"{int(rate)}%"
    return f"{format(rate.normalize(), 'f').replace('.', ',')}%"


def item_body(line: InvoiceLine) -> dict[str, Any]:
    """Return the DocumentProductData for ``line``, priced gross so the total is what the buyer was charged.

    When the line gross is no whole number of cents per unit, the line goes as one unit at its total
    (the quantity moves into the name), because a rounded unit price would change the total.
    """
    quantity, unit, name = line.quantity, line.unit, line.name
    unit_price = line.gross / quantity if quantity else line.gross
    if not quantity or unit_price != round(unit_price, 2) or unit_price * quantity != line.gross:
        name = f"{line.name} ({format(quantity.normalize(), 'f')} {unit})".strip()
        quantity, unit_price = Decimal(1), line.gross
    return {
        "name": name,
        "unit_price": unit_price,
        "unit_price_type": "gross",
        "quantity": quantity,
        "unit": unit or "db",  # unit is required; "db" (darab, piece) is Billingo's usual default
        "vat": vat_code(line.vat_rate),
    }


def document_body(order: InvoiceOrder, partner_id: int | str, block_id: int | str) -> dict[str, Any]:
    """Return the DocumentInsert issuing ``order`` (the invoice date is always the day Billingo issues it:
    DocumentInsert has no field for it, so ``order.issue_date`` cannot be sent)."""
    language = order.language.lower()
    body: dict[str, Any] = {
        "vendor_id": order.external_key,
        "partner_id": int(partner_id),
        "block_id": int(block_id),
        "type": "invoice",
        "fulfillment_date": order.fulfillment_date.isoformat(),
        "due_date": order.due_date.isoformat(),
        "payment_method": PAYMENT_METHODS[order.method],
        "language": language if language in LANGUAGES else "en",  # no Polish template: English instead
        "currency": order.currency.upper(),
        "electronic": True,  # an e-invoice: it is e-mailed, never printed
        "paid": order.paid,
        "items": [item_body(line) for line in order.lines],
    }
    if order.comment:
        body["comment"] = order.comment
    return body
