"""A paid sale, as an own system (a till, a booking tool) reports it, and the invoice it becomes.

Pure functions: ``parse_sale`` checks the JSON a webhook or the CLI received, and
``invoice_order`` turns a fully paid sale into the provider-independent invoice to issue
(payment-method mapping, buyer inline or "private person", e-mail only with an address,
workspace currency and language unless the sale says otherwise, tip as its own 0 % line).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from reconbot.core.errors import InputError, ReconciliationError
from reconbot.core.invoicing.model import Buyer, InvoiceLine, InvoiceOrder, PaymentMethod
from reconbot.core.money import ZERO, format_amount, is_currency

# What the product documents list, and what each means to an invoicing system.
SALE_METHODS: dict[str, PaymentMethod] = {
    "cash": PaymentMethod.CASH,
    "card": PaymentMethod.CARD,
    "online card": PaymentMethod.CARD,
    "barion": PaymentMethod.CARD,
    "bank transfer": PaymentMethod.TRANSFER,
    "paypal": PaymentMethod.PAYPAL,
    "other": PaymentMethod.CASH,
}
LANGUAGES = ("hu", "pl", "en")
# The buyer of a walk-in sale, and the line of a sale that lists no items, in the invoice's language.
PRIVATE_PERSON = {"hu": "Magánszemély", "pl": "Osoba prywatna", "en": "Private person"}
SALE_LINE = {"hu": "Értékesítés", "pl": "Sprzedaż", "en": "Sale"}
TIP_LINE = {"hu": "Borravaló", "pl": "Napiwek", "en": "Tip"}
UNIT = {"hu": "db", "pl": "szt.", "en": "pcs"}
COUNTRY_VAT = {"HU": Decimal(27), "PL": Decimal(23)}
CENT = Decimal("0.01")


@dataclass(frozen=True, slots=True)
class SaleItem:
    """One item of a sale; ``unit_price`` is gross, ``vat_rate`` a percentage (None: the workspace's)."""

    name: str
    quantity: Decimal
    unit_price: Decimal
    unit: str = ""
    vat_rate: Decimal | None = None


@dataclass(frozen=True, slots=True)
class Sale:
    """A sale as reported: ``total`` is gross with the tip included; ``customer`` None for a walk-in."""

    id: str
    total: Decimal
    paid: Decimal
    method: PaymentMethod
    currency: str | None = None
    language: str | None = None
    sold_on: date | None = None
    tip: Decimal = ZERO
    customer: Buyer | None = None
    items: tuple[SaleItem, ...] = ()

    @property
    def fully_paid(self) -> bool:
        return self.paid >= self.total


@dataclass(frozen=True, slots=True)
class InvoicingDefaults:
    """What a sale that says nothing takes from its workspace."""

    currency: str
    language: str
    country: str
    vat_rate: Decimal | None = None

    @property
    def vat(self) -> Decimal:
        return self.vat_rate if self.vat_rate is not None else COUNTRY_VAT.get(self.country, Decimal(27))


def invoice_order(sale: Sale, defaults: InvoicingDefaults, external_key: str, today: date) -> InvoiceOrder:
    """Return the invoice to issue for a fully paid sale.

    Raises ReconciliationError when the sale is not fully paid: a partial payment never issues an invoice.
    """
    currency = sale.currency or defaults.currency
    if not sale.fully_paid:
        raise ReconciliationError(
            f"sale {sale.id} is not fully paid ({format_amount(sale.paid)} of {format_amount(sale.total)} "
            f"{currency}); its invoice is issued once it is"
        )
    language = sale.language or defaults.language
    customer = sale.customer
    buyer = customer if customer is not None and customer.invoice_name else _private_person(customer, language)
    lines = [_line(item, defaults.vat) for item in sale.items]
    if not lines:
        goods = sale.total - sale.tip
        lines.append(_line(SaleItem(SALE_LINE[language], Decimal(1), goods, UNIT[language]), defaults.vat))
    if sale.tip > ZERO:
        lines.append(_line(SaleItem(TIP_LINE[language], Decimal(1), sale.tip, UNIT[language], ZERO), ZERO))
    day = sale.sold_on or today
    return InvoiceOrder(
        external_key=external_key,
        buyer=buyer,
        lines=tuple(lines),
        currency=currency,
        language=language,
        method=sale.method,
        issue_date=today,
        fulfillment_date=day,
        due_date=today,
        send_email=bool(buyer.email),
        paid=True,
    )


def _private_person(customer: Buyer | None, language: str) -> Buyer:
    # A walk-in: no name to put on the invoice; keep whatever contact the till did record.
    name = PRIVATE_PERSON[language]
    if customer is None:
        return Buyer(name=name)
    return Buyer(name=name, email=customer.email, phone=customer.phone, country=customer.country,
                 post_code=customer.post_code, city=customer.city, address=customer.address)  # fmt: skip


def _line(item: SaleItem, default_rate: Decimal) -> InvoiceLine:
    rate = item.vat_rate if item.vat_rate is not None else default_rate
    gross = item.unit_price * item.quantity
    net = (gross * 100 / (100 + rate)).quantize(CENT, ROUND_HALF_UP)
    return InvoiceLine(item.name, item.quantity, item.unit, net, gross - net, gross, rate)


# --- reading a sale from JSON --------------------------------------------------------------------


def parse_sale(data: Any, where: str = "sale") -> Sale:
    """Return the sale described by ``data`` (parsed JSON, numbers as Decimal or strings).

    Raises InputError naming the field (``sale.customer.email``) and what is wrong with it.
    """
    obj = _object(data, where)
    sale_id = _text(obj, "id", where, required=True)
    total = _required_amount(obj, "total", where)
    paid = _required_amount(obj, "paid", where)
    tip = _amount(obj, "tip", where) or ZERO
    method_name = _text(obj, "payment_method", where, required=True)
    method = SALE_METHODS.get(method_name.strip().casefold().replace("_", " "))
    if method is None:
        raise InputError(where, "payment_method", f"{method_name!r} is not one of: Cash, Card, Online card, Barion, "
                         "Bank transfer, PayPal, Other")  # fmt: skip
    currency = _text(obj, "currency", where).upper() or None
    if currency is not None and not is_currency(currency):
        raise InputError(where, "currency", f"{currency!r} is not an ISO 4217 currency code")
    language = _text(obj, "language", where).lower() or None
    if language is not None and language not in LANGUAGES:
        raise InputError(where, "language", f"{language!r} is not one of: {', '.join(LANGUAGES)}")
    sold_on = _date(obj, "date", where)
    customer = _customer(obj.get("customer"), f"{where}.customer") if obj.get("customer") is not None else None
    raw_items = obj.get("items") or []
    if not isinstance(raw_items, list):
        raise InputError(where, "items", "must be a list")
    items = tuple(_item(item, f"{where}.items[{k}]") for k, item in enumerate(raw_items))
    if total <= ZERO or paid < ZERO or tip < ZERO:
        raise InputError(where, "total", "total must be positive, paid and tip not negative")
    if tip >= total:
        raise InputError(
            where, "tip", f"the tip {format_amount(tip)} is not less than the total {format_amount(total)}"
        )
    if items:
        listed = sum((i.unit_price * i.quantity for i in items), ZERO) + tip
        if listed != total:
            raise InputError(where, "items", f"the items and tip add up to {format_amount(listed)}, "
                             f"the total is {format_amount(total)}")  # fmt: skip
    return Sale(sale_id, total, paid, method, currency, language, sold_on, tip, customer, items)


def sale_json(sale: Sale) -> dict[str, Any]:
    """Return the sale as JSON values (amounts as decimal text), the inverse of ``parse_sale``."""
    customer = sale.customer
    return {
        "id": sale.id, "total": format_amount(sale.total), "paid": format_amount(sale.paid),
        "payment_method": next(k for k, v in SALE_METHODS.items() if v is sale.method),
        "currency": sale.currency or "", "language": sale.language or "",
        "date": sale.sold_on.isoformat() if sale.sold_on else "", "tip": format_amount(sale.tip),
        "customer": None if customer is None else {
            "name": customer.name, "email": customer.email, "phone": customer.phone,
            "company_name": customer.company_name, "tax_number": customer.tax_number,
            "address": {"country": customer.country, "post_code": customer.post_code, "city": customer.city,
                        "street": customer.address},
        },
        "items": [{"name": i.name, "quantity": format_amount(i.quantity), "unit": i.unit,
                   "unit_price": format_amount(i.unit_price),
                   "vat_rate": None if i.vat_rate is None else format_amount(i.vat_rate)} for i in sale.items],
    }  # fmt: skip


def _customer(data: Any, where: str) -> Buyer:
    obj = _object(data, where)
    address = _object(obj.get("address") or {}, f"{where}.address")
    country = _text(address, "country", f"{where}.address").upper()
    if country and len(country) != 2:
        raise InputError(f"{where}.address", "country", f"{country!r} is not an ISO 3166 two-letter code")
    email = _text(obj, "email", where)
    if email and ("@" not in email or " " in email):
        raise InputError(where, "email", f"{email!r} is not an e-mail address")
    return Buyer(
        name=_text(obj, "name", where),
        email=email,
        phone=_text(obj, "phone", where),
        country=country,
        post_code=_text(address, "post_code", f"{where}.address"),
        city=_text(address, "city", f"{where}.address"),
        address=_text(address, "street", f"{where}.address"),
        company_name=_text(obj, "company_name", where),
        tax_number=_text(obj, "tax_number", where),
    )


def _item(data: Any, where: str) -> SaleItem:
    obj = _object(data, where)
    name = _text(obj, "name", where, required=True)
    quantity = _amount(obj, "quantity", where) or Decimal(1)
    price = _required_amount(obj, "unit_price", where)
    rate = _amount(obj, "vat_rate", where)
    if quantity <= ZERO or price < ZERO or (rate is not None and not ZERO <= rate < 100):
        raise InputError(where, "", "quantity must be positive, unit_price not negative, vat_rate 0–99")
    return SaleItem(name, quantity, price, _text(obj, "unit", where), rate)


def _object(data: Any, where: str) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise InputError(where, "", "must be a JSON object")
    return data


def _text(obj: dict[str, Any], key: str, where: str, *, required: bool = False) -> str:
    value = obj.get(key)
    if value is None or value == "":
        if required:
            raise InputError(where, key, "is missing")
        return ""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise InputError(where, key, "must be text")
    return str(value).strip()


def _required_amount(obj: dict[str, Any], key: str, where: str) -> Decimal:
    amount = _amount(obj, key, where)
    if amount is None:
        raise InputError(where, key, "is missing")
    return amount


def _amount(obj: dict[str, Any], key: str, where: str) -> Decimal | None:
    value = obj.get(key)
    if value is None or value == "":
        return None
    # Callers parse JSON with exact_json.read_json (12.30 stays Decimal); a float is refused, never rounded.
    if isinstance(value, bool) or not isinstance(value, (str, int, Decimal)):
        raise InputError(where, key, "must be a number or a decimal string")
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        raise InputError(where, key, f"{value!r} is not a number") from None
    if not amount.is_finite():
        raise InputError(where, key, f"{value!r} is not a number")
    return amount


def _date(obj: dict[str, Any], key: str, where: str) -> date | None:
    value = _text(obj, key, where)
    if not value:
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        raise InputError(where, key, f"{value!r} is not a date (YYYY-MM-DD)") from None
