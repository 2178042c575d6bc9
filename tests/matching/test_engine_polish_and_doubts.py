"""More rules: the Polish cases of each, and the doubts that keep a pairing from being automatic."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from reconbot.core.domain import Direction, Invoice, InvoiceKind
from reconbot.core.matching import Flag, MatchStatus, reconcile
from tests.matching.factories import inv, tx

NOWAK = "PL61109010140000071219812874"
OTHER = "PL27114020040000300201355387"


def pln(number: str, gross: str, **kw: Any) -> Invoice:
    return inv(number, gross, currency="PLN", **kw)


def test_polish_boundaries_fv_1_never_paid_by_fv_11() -> None:
    invoices = [pln("FV 1/05/2025", "100.00"), pln("FV 11/05/2025", "100.00")]
    [r] = reconcile([tx("100.00", "zapłata FV 11/05/2025", currency="PLN")], invoices)
    assert [a.invoice_number for a in r.allocations] == ["FV 11/05/2025"]


def test_polish_number_without_its_prefix_pays_when_it_is_not_a_date() -> None:
    invoices = [pln("FV 1987/02/2025", "1843.56", partner="Gazmex sp.j.")]
    [r] = reconcile([tx("1843.56", "Faktura nr 1987/02/2025", currency="PLN")], invoices)
    assert r.status is MatchStatus.MATCHED


def test_a_date_like_number_needs_the_amount_to_confirm_it() -> None:
    invoices = [pln("FV 12/05/2025", "500.00", partner="Mróz S.A.")]
    [exact] = reconcile([tx("500.00", "przelew z dnia 12.05.2025", currency="PLN")], invoices)
    [short] = reconcile([tx("200.00", "przelew z dnia 12.05.2025", currency="PLN")], invoices)
    assert exact.status is MatchStatus.MATCHED
    assert short.status is MatchStatus.SUGGESTED and not short.allocations


def test_polish_already_paid_and_cancelled() -> None:
    invoices = [pln("FA/2025/05/0012", "300.00", paid="300.00"), pln("FA/2025/05/0013", "300.00", cancelled=True)]
    paid, cancelled = reconcile(
        [tx("300.00", "FA/2025/05/0012", currency="PLN"), tx("300.00", "FA/2025/05/0013", currency="PLN")],
        invoices,
    )
    assert Flag.ALREADY_PAID in paid.flags and not paid.allocations
    assert Flag.CANCELLED_INVOICE in cancelled.flags and not cancelled.allocations


def test_polish_unknown_payer_is_only_a_suggestion() -> None:
    [r] = reconcile(
        [tx("615.00", "opłata", name="ANNA ZIELINSKA", iban=OTHER, currency="PLN")],
        [pln("FV 9/2025", "615.00", partner="Mróz S.A.")],
    )
    assert r.status is MatchStatus.SUGGESTED and r.candidates[0].invoice_numbers == ("FV 9/2025",)


def test_polish_reference_naming_another_partners_invoice_while_the_payer_fits_their_own() -> None:
    invoices = [
        pln("FV 757/11/2024", "999.00", partner="Inny Sp. z o.o.", tax_id="5260250995"),
        pln("FV 758/11/2024", "1527.66", partner="Multicar sp.j.", iban=NOWAK),
    ]
    [r] = reconcile([tx("1527.66", "Faktura VAT nr FV 757/11/2024", iban=NOWAK, currency="PLN")], invoices)
    assert r.status is MatchStatus.SUGGESTED
    assert {c.invoice_numbers for c in r.candidates[:3]} >= {("FV 758/11/2024",), ("FV 757/11/2024",)}


def test_polish_supplier_bill_paid_by_outgoing_transfer_with_the_word_fv_added() -> None:
    # The supplier numbers its bills "75/12/2024"; we write "FV 75/12/2024", which is also one of ours.
    ours = pln("FV 75/12/2024", "503.13", partner="Klient Sp. z o.o.")
    bill = pln("75/12/2024", "503.13", direction=Direction.RECEIVED, partner="Stermed sp.j.", iban=NOWAK)
    [r] = reconcile([tx("-503.13", "FV 75/12/2024", iban=NOWAK, currency="PLN")], [ours, bill])
    assert [a.invoice_id for a in r.allocations] == [bill.id]


# -- doubts --------------------------------------------------------------------------------------


def test_machine_ids_do_not_pass_for_invoice_numbers() -> None:
    # A booking code "BK-TMU35F" must not be found in pieces inside a random end-to-end id.
    invoices = [inv("E-A-2025-5", "20000", order="BK-TMU35F"), inv("E-A-2025-6", "45000")]
    [r] = reconcile([tx("45000", "E-A-2025-6", e2e="4BA1E0F4C247E35F2A9C")], invoices)
    assert [a.invoice_number for a in r.allocations] == ["E-A-2025-6"]


def test_a_number_split_over_two_lines_is_not_doubted_for_its_pieces() -> None:
    invoices = [inv("E-NOVA-2025-7", "9000", currency="EUR"), inv("E-NOVA-2025-7760", "26158")]
    [r] = reconcile([tx("26158", "ALFOLD    E-NOVA-2025-7\n760 / ALFOLD")], invoices)
    assert [a.invoice_number for a in r.allocations] == ["E-NOVA-2025-7760"]


def test_a_text_naming_an_invoice_in_another_currency_is_a_doubt() -> None:
    # The payer's own invoice fits, but the text names another one, which is in EUR.
    iban = "HU42117730161111101800000000"
    invoices = [
        inv("2025-012768", "4261.00", currency="EUR", partner="Hegyalja Kft."),
        inv("2025-012786", "50800", partner="Bakony Zrt.", iban=iban),
    ]
    [r] = reconcile([tx("50800", "2025-12768", iban=iban)], invoices)
    assert r.status is MatchStatus.SUGGESTED and r.candidates[0].invoice_numbers == ("2025-012786",)


def test_a_loosely_quoted_number_pays_partially_only_for_its_own_partner() -> None:
    bill = inv("TRAN/43108/2025", "6611.25", currency="PLN", direction=Direction.RECEIVED, partner="Tranzyt S.A.")
    [r] = reconcile([tx("-19.27", "Umowa 43108/2025", name="KESTREL NORDIC S.R.O.", currency="PLN")], [bill])
    assert r.status is MatchStatus.SUGGESTED and not r.allocations


def test_someone_else_paying_in_full_by_full_number_is_automatic_but_flagged() -> None:
    iban = "HU93116000060000000012345676"
    invoices = [
        inv("E-A-2025-40", "70000", partner="Kis Bt."),
        inv("E-A-2025-41", "5000", partner="Nagy Zrt.", iban=iban),
    ]
    [r] = reconcile([tx("70000", "E-A-2025-40", iban=iban)], invoices)
    assert r.status is MatchStatus.MATCHED and Flag.PAYER_MISMATCH in r.flags


def test_the_same_person_paying_for_their_business_is_not_someone_else() -> None:
    invoices = [
        pln("FA/2024/12/0790", "499.00", partner="Karol Nowicki Transport Krajowy"),
        pln("FV 3098/12/2024", "7263.00", partner="Karol Nowicki"),
    ]
    [r] = reconcile([tx("120.00", "Faktura FA/2024/12/0790 część", name="NOWICKI KAROL", currency="PLN")], invoices)
    assert r.status is MatchStatus.MATCHED and Flag.PARTIAL_PAYMENT in r.flags


def test_an_overpayment_that_may_settle_more_of_the_payers_invoices_is_a_suggestion() -> None:
    iban = "HU42117730161111101800000000"
    invoices = [inv(f"E-A-2025-{n}", amount, iban=iban) for n, amount in ((1, "10000"), (2, "7000"), (3, "3000"))]
    [r] = reconcile([tx("20000", "E-A-2025-1", iban=iban)], invoices)
    assert r.status is MatchStatus.SUGGESTED
    assert set(r.candidates[0].invoice_numbers) == {"E-A-2025-1", "E-A-2025-2", "E-A-2025-3"}


def test_an_advance_invoice_and_a_received_credit_note() -> None:
    advance = inv("ELO-2025-3", "50000", kind=InvoiceKind.ADVANCE)
    note = pln(
        "KOR/2/2025", "-120.00", kind=InvoiceKind.CREDIT_NOTE, direction=Direction.RECEIVED, partner="Dostawca S.A."
    )
    paid_in, refunded = reconcile(
        [tx("50000", "előleg ELO-2025-3"), tx("120.00", "zwrot KOR/2/2025", currency="PLN")],
        [advance, note],
    )
    assert paid_in.allocations[0].amount == Decimal("50000")
    assert refunded.allocations[0].invoice_number == "KOR/2/2025"


def test_a_name_among_more_words_only_suggests() -> None:
    # "ZOLD KERT EPITO BT" contains every word of "Kert Építő Kft." but is another company.
    invoices = [inv("E-A-2025-1", "50000", partner="Kert Építő Kft."), inv("E-A-2025-2", "7000", partner="Más Bt.")]
    [r] = reconcile([tx("50000", "", name="ZOLD KERT EPITO BT")], invoices)
    assert r.status is MatchStatus.SUGGESTED and r.candidates[0].invoice_numbers == ("E-A-2025-1",)
    [person] = reconcile(
        [tx("50000", "", name="KOVACS JANOS ISTVAN")], [inv("E-A-2025-3", "50000", partner="Kovács János")]
    )
    assert person.status is MatchStatus.SUGGESTED


def test_the_banks_address_after_the_name_is_not_part_of_it() -> None:
    invoices = [pln("FV 9/05/2025", "430.50", partner="Jan Nowak"), pln("FV 10/05/2025", "99.00", partner="Ewa Lis")]
    [r] = reconcile([tx("430.50", "", name="JAN NOWAK UL. NIJAKA 1 M 2 31-234 KRAKOW", currency="PLN")], invoices)
    assert r.status is MatchStatus.MATCHED


def test_a_number_of_digits_alone_pays_partially_only_for_its_known_partner() -> None:
    invoices = [inv("100234", "80000", partner="Alfa Kft."), inv("E-A-2025-9", "20000", order="123456")]
    contract, customer = reconcile(
        [
            tx("30000", "Szerződés 100234", name="X Y", iban="HU93116000060000000012345676", day=3),
            tx("5000", "Ügyfélszám 123456", name="X Y", iban="HU93116000060000000012345676", day=4),
        ],
        invoices,
    )
    assert contract.status is MatchStatus.SUGGESTED and customer.status is MatchStatus.SUGGESTED
    [later] = reconcile([tx("20000", "", iban="HU93116000060000000012345676", day=9)], invoices)
    assert later.status is not MatchStatus.MATCHED  # nothing was learned about that account


def test_someone_else_paying_part_of_an_invoice_is_a_suggestion() -> None:
    invoices = [inv("E-B-2025-4", "100000", partner="Béta Kft."), inv("E-A-2025-5", "1000", partner="Acme Kft.")]
    [r] = reconcile([tx("30000", "E-B-2025-4", name="ACME KFT")], invoices)
    assert r.status is MatchStatus.SUGGESTED and not r.allocations
    assert any(reason.code == "payer_mismatch" for reason in r.reasons)
