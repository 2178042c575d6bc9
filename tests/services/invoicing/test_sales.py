"""Paid sales become invoices: the pure mapping, and exactly one document per sale however it is asked for."""

from __future__ import annotations

import asyncio
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from reconbot.core.errors import InputError, ReconciliationError
from reconbot.core.invoicing.model import PaymentMethod
from reconbot.core.invoicing.sales import InvoicingDefaults, invoice_order, parse_sale
from reconbot.core.persistence.invoicing_tables import OperationStatus, SaleRecord, SourceOperationRecord
from reconbot.core.services.invoicing.sales import invoice_sale, record_sale
from reconbot.core.services.invoicing.sources import InvoiceSources
from reconbot.core.services.invoicing.write_back import run_due
from tests.fakes.szamlazz import FakeSzamlazz
from tests.support.databases import DIALECTS

HU = InvoicingDefaults(currency="HUF", language="hu", country="HU")
TODAY = date(2026, 3, 2)


def sale(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": "S-1042", "total": "12700", "paid": "12700", "payment_method": "Card",
        "customer": {"name": "Kiss Anna", "email": "anna@example.hu", "phone": "+36 30 123 4567",
                     "address": {"country": "HU", "post_code": "1011", "city": "Budapest", "street": "Fő utca 1."}},
    }  # fmt: skip
    data.update(changes)
    return data


@pytest.mark.parametrize(
    ("method", "expected"),
    [("Cash", PaymentMethod.CASH), ("Card", PaymentMethod.CARD), ("Online card", PaymentMethod.CARD),
     ("Barion", PaymentMethod.CARD), ("Bank transfer", PaymentMethod.TRANSFER), ("PayPal", PaymentMethod.PAYPAL),
     ("Other", PaymentMethod.CASH), ("online_card", PaymentMethod.CARD)],
)  # fmt: skip
def test_payment_methods_map_as_the_product_documents_say(method: str, expected: PaymentMethod) -> None:
    assert invoice_order(parse_sale(sale(payment_method=method)), HU, "k", TODAY).method is expected


def test_a_buyer_with_email_gets_it_and_company_data_goes_inline() -> None:
    customer = {**sale()["customer"], "company_name": "ABC Kft.", "tax_number": "12345678-1-23"}
    order = invoice_order(parse_sale(sale(customer=customer)), HU, "reconbot-w1-sale-1", TODAY)

    assert order.send_email is True and order.buyer.email == "anna@example.hu"
    assert (order.buyer.invoice_name, order.buyer.tax_number) == ("ABC Kft.", "12345678-1-23")
    assert (order.currency, order.language, order.external_key) == ("HUF", "hu", "reconbot-w1-sale-1")


def test_a_walk_in_sale_is_a_private_person_and_no_email_goes_out() -> None:
    order = invoice_order(parse_sale(sale(customer=None)), HU, "k", TODAY)

    assert (order.buyer.name, order.buyer.email, order.send_email) == ("Magánszemély", "", False)


def test_the_sale_s_currency_and_language_win_over_the_workspace() -> None:
    order = invoice_order(parse_sale(sale(currency="eur", language="en", total="50", paid="50")), HU, "k", TODAY)

    assert (order.currency, order.language, order.gross) == ("EUR", "en", Decimal("50"))


def test_a_tip_is_its_own_zero_vat_line_and_the_rest_carries_the_country_rate() -> None:
    order = invoice_order(parse_sale(sale(total="13700", paid="13700", tip="1000")), HU, "k", TODAY)

    goods, tip = order.lines
    assert (goods.gross, goods.vat_rate, goods.net + goods.vat) == (Decimal("12700"), Decimal(27), Decimal("12700"))
    assert goods.net == Decimal("10000.00")
    assert (tip.name, tip.gross, tip.vat_rate, tip.vat) == ("Borravaló", Decimal("1000"), Decimal(0), Decimal("0.00"))


def test_items_keep_their_own_rates_and_must_add_up_to_the_total() -> None:
    items = [{"name": "Hajvágás", "quantity": "2", "unit_price": "5000", "vat_rate": "27"},
             {"name": "Sampon", "unit_price": "2700", "vat_rate": "5"}]  # fmt: skip
    order = invoice_order(parse_sale(sale(items=items)), HU, "k", TODAY)
    assert [(line.name, line.gross, line.vat_rate) for line in order.lines] == [
        ("Hajvágás", Decimal("10000"), Decimal("27")), ("Sampon", Decimal("2700"), Decimal("5"))]  # fmt: skip

    with pytest.raises(InputError, match=r"sale: items: the items and tip add up to 12000, the total is 12700"):
        parse_sale(sale(items=[{"name": "x", "quantity": "2", "unit_price": "6000"}]))


def test_a_partial_payment_never_becomes_an_invoice() -> None:
    with pytest.raises(ReconciliationError, match=r"not fully paid \(6350 of 12700 HUF\)"):
        invoice_order(parse_sale(sale(paid="6350")), HU, "k", TODAY)


@pytest.mark.parametrize(
    ("changes", "message"),
    [({"id": ""}, "sale: id: is missing"), ({"total": "12,7"}, "sale: total: '12,7' is not a number"),
     ({"payment_method": "Crypto"}, "sale: payment_method: 'Crypto' is not one of"),
     ({"currency": "FORINT"}, "sale: currency: 'FORINT' is not an ISO 4217"),
     ({"language": "de"}, "sale: language: 'de' is not one of"), ({"date": "2026-13-01"}, "sale: date:"),
     ({"total": 12.7}, "sale: total: must be a number or a decimal string"),
     ({"customer": {"email": "nope"}}, "sale.customer: email: 'nope' is not an e-mail address")],
)  # fmt: skip
def test_bad_sales_are_refused_naming_the_field(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(InputError) as caught:
        parse_sale(sale(**changes))
    assert str(caught.value).startswith(message)


def _documents_for(fake: FakeSzamlazz) -> list[Any]:
    return [d for d in fake.created() if not d.settings.get("dijbekero")]


async def test_a_paid_sale_is_invoiced_in_szamlazz_once_with_its_mapping(
    engine: Engine, workspace_id: int, sources: InvoiceSources, szamlazz: FakeSzamlazz
) -> None:
    recorded = record_sale(engine, workspace_id, parse_sale(sale(payment_method="Barion", total="13700",
                                                                  paid="13700", tip="1000")),
                           origin="api", actor="api:pos")  # fmt: skip
    assert recorded.operation_id is not None
    [done] = await run_due(sources)
    assert done.status is OperationStatus.DONE, done.last_error

    [request] = [r for r in szamlazz.requests if r.operation == "create"]
    assert request.text("fejlec/fizmod") == "bankkártya"
    assert request.text("vevo/sendEmail") == "true" and request.text("vevo/email") == "anna@example.hu"
    assert request.texts("tetelek/tetel/afakulcs") == ["27", "0"]
    assert request.text("beallitasok/szamlaKulsoAzon") == f"reconbot-w{workspace_id}-sale-{recorded.sale_id}"

    again = record_sale(engine, workspace_id, parse_sale(sale(payment_method="Barion", total="13700", paid="13700",
                                                               tip="1000")), origin="api", actor="api:pos")  # fmt: skip
    assert again.invoiced and again.operation_id is None
    assert await run_due(sources) == [] and len(_documents_for(szamlazz)) == 1
    with Session(engine) as session:
        stored = session.get(SaleRecord, recorded.sale_id)
        assert stored is not None and stored.invoice_id is not None


async def test_a_partially_paid_sale_waits_and_is_invoiced_when_the_rest_arrives(
    engine: Engine, workspace_id: int, sources: InvoiceSources, szamlazz: FakeSzamlazz
) -> None:
    half = record_sale(engine, workspace_id, parse_sale(sale(paid="6350")), origin="api", actor="api:pos")
    with pytest.raises(ReconciliationError, match="not fully paid"):
        await invoice_sale(sources, workspace_id, half.sale_id, actor="slack:U1")
    assert (half.operation_id, _documents_for(szamlazz)) == (None, [])

    full = record_sale(engine, workspace_id, parse_sale(sale()), origin="api", actor="api:pos")
    assert full.sale_id == half.sale_id and full.operation_id is not None
    await run_due(sources)
    assert len(_documents_for(szamlazz)) == 1


async def test_a_timeout_after_the_system_issued_the_invoice_is_resolved_by_lookup(
    engine: Engine, workspace_id: int, sources: InvoiceSources, szamlazz: FakeSzamlazz
) -> None:
    szamlazz.stall_next_create(1.5)
    recorded = record_sale(engine, workspace_id, parse_sale(sale()), origin="api", actor="api:pos")
    assert recorded.operation_id is not None
    [first] = await run_due(sources)
    assert (first.status, first.attempts) == (OperationStatus.PENDING, 1)
    sources.clock.advance(minutes=1)  # type: ignore[attr-defined]

    second = await invoice_sale(sources, workspace_id, recorded.sale_id, actor="api:pos")

    assert second.status is OperationStatus.DONE and second.id == first.id
    assert len(_documents_for(szamlazz)) == 1


@pytest.mark.skipif("postgresql" not in DIALECTS, reason="needs PostgreSQL (RECONBOT_TEST_DATABASE_URL)")
@pytest.mark.parametrize("migrated_url", ["postgresql"], indirect=True)
async def test_two_workers_asking_for_the_same_sale_s_invoice_at_once_get_one_document(
    engine: Engine, workspace_id: int, sources: InvoiceSources, szamlazz: FakeSzamlazz
) -> None:
    from reconbot.core.persistence.tables import InvoicingMode
    from reconbot.core.services.invoicing.sources import update_settings

    update_settings(engine, workspace_id, actor="test", sale_mode=InvoicingMode.MANUAL)
    recorded = record_sale(engine, workspace_id, parse_sale(sale()), origin="api", actor="api:pos")
    szamlazz.stall_next_create(0.3)  # keeps the first request in flight while the second asks

    def worker(actor: str) -> Any:  # each worker has its own thread, event loop and connections
        return asyncio.run(invoice_sale(sources, workspace_id, recorded.sale_id, actor=actor, timeout=10))

    first, second = await asyncio.gather(asyncio.to_thread(worker, "api:a"), asyncio.to_thread(worker, "api:b"))

    assert first.id == second.id and first.status is second.status is OperationStatus.DONE
    assert first.result["number"] == second.result["number"]
    assert len(_documents_for(szamlazz)) == 1
    assert szamlazz.count("create") == 1
    with Session(engine) as session:
        operations = session.exec(select(SourceOperationRecord).where(col(SourceOperationRecord.sale_id) ==
                                                                      recorded.sale_id)).all()  # fmt: skip
    assert [o.attempts for o in operations] == [1]
