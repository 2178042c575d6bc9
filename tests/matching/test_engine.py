"""The matching rules, each with Hungarian and Polish examples."""

from __future__ import annotations

from decimal import Decimal

import pytest

from reconbot.core.domain import Direction, InvoiceKind
from reconbot.core.matching import Flag, KnownPayer, MatchPolicy, MatchResult, MatchStatus, reconcile
from tests.matching.factories import inv, tx

KOVACS_IBAN = "HU42117730161111101800000000"
NOWAK_IBAN = "PL61109010140000071219812874"


def allocated(result: MatchResult) -> dict[str, Decimal]:
    return {a.invoice_number: a.amount for a in result.allocations}


def top(result: MatchResult) -> tuple[str, ...]:
    return result.candidates[0].invoice_numbers if result.candidates else ()


def numbers_in_top3(result: MatchResult) -> list[set[str]]:
    return [set(c.invoice_numbers) for c in result.candidates[:3]]


# -- direction -------------------------------------------------------------------------------


def test_incoming_money_pays_the_issued_invoice_it_quotes() -> None:
    [r] = reconcile([tx("127000", "Számla E-KERT-2025-12")], [inv("E-KERT-2025-12", "127000")])
    assert r.status is MatchStatus.MATCHED
    assert allocated(r) == {"E-KERT-2025-12": Decimal("127000")}
    assert r.reasons and r.reasons[0].code == "reference"


def test_incoming_money_never_pays_a_supplier_bill() -> None:
    bill = inv("FV 7/2025", "1230.00", currency="PLN", direction=Direction.RECEIVED, partner="Dostawca Sp. z o.o.")
    [r] = reconcile([tx("1230.00", "FV 7/2025", currency="PLN")], [bill])
    assert r.status is not MatchStatus.MATCHED
    assert any(x.code == "reference_ignored" for x in r.reasons)


def test_outgoing_money_pays_the_supplier_bill_it_quotes() -> None:
    bill = inv(
        "FA/2025/05/0012", "1230.00", currency="PLN", direction=Direction.RECEIVED, partner="Hurtownia Sp. z o.o."
    )
    [r] = reconcile([tx("-1230.00", "Faktura nr FA/2025/05/0012", currency="PLN")], [bill])
    assert allocated(r) == {"FA/2025/05/0012": Decimal("1230.00")}


def test_outgoing_refund_settles_an_issued_credit_note_and_incoming_never_does() -> None:
    note = inv("J-2025-3", "-15000", kind=InvoiceKind.CREDIT_NOTE)
    [refund] = reconcile([tx("-15000", "J-2025-3 jóváírás")], [note])
    assert allocated(refund) == {"J-2025-3": Decimal("15000")}
    [wrong] = reconcile([tx("15000", "J-2025-3")], [note])
    assert wrong.status is not MatchStatus.MATCHED


def test_other_currency_is_never_paired() -> None:
    [r] = reconcile([tx("400", "E-KERT-2025-12", currency="EUR")], [inv("E-KERT-2025-12", "400")])
    assert r.status is not MatchStatus.MATCHED


# -- references ------------------------------------------------------------------------------


def test_quote_of_12_pays_12_and_never_1() -> None:
    invoices = [inv("E-KERT-2025-1", "127000"), inv("E-KERT-2025-12", "127000")]
    [r] = reconcile([tx("127000", "szla: e-kert-2025-12")], invoices)
    assert allocated(r) == {"E-KERT-2025-12": Decimal("127000")}


def test_order_number_pays_its_invoice() -> None:
    invoices = [inv("E-SHOP-2025-88", "24990", order="WEB-104233")]
    [r] = reconcile([tx("24990", "Rendelés WEB-104233")], invoices)
    assert allocated(r) == {"E-SHOP-2025-88": Decimal("24990")}


def test_polish_split_payment_title() -> None:
    invoices = [inv("FV 12/05/2025", "1230.00", currency="PLN", partner="Nowak Sp. z o.o.")]
    ref = "/VAT/230,00/IDC/5260250995/INV/FV 12/05/2025/TXT/zaplata"
    [r] = reconcile([tx("1230.00", ref, currency="PLN")], invoices)
    assert allocated(r) == {"FV 12/05/2025": Decimal("1230.00")}


def test_number_split_across_two_bank_lines() -> None:
    [r] = reconcile([tx("50000", "Szamla E-KERT-202\n5-12 kifizetese")], [inv("E-KERT-2025-12", "50000")])
    assert r.status is MatchStatus.MATCHED


def test_several_numbers_that_add_up_make_one_allocation_each() -> None:
    invoices = [inv("FA/2025/05/0012", "100.00", currency="PLN"), inv("FA/2025/05/0013", "250.50", currency="PLN")]
    [r] = reconcile([tx("350.50", "FA/2025/05/0012 i FA/2025/05/0013", currency="PLN")], invoices)
    assert allocated(r) == {"FA/2025/05/0012": Decimal("100.00"), "FA/2025/05/0013": Decimal("250.50")}


def test_several_numbers_overpaid_allocate_all_and_flag_the_surplus() -> None:
    invoices = [inv("E-A-2025-1", "10000"), inv("E-A-2025-2", "20000")]
    [r] = reconcile([tx("31000", "E-A-2025-1, E-A-2025-2")], invoices)
    assert allocated(r) == {"E-A-2025-1": Decimal("10000"), "E-A-2025-2": Decimal("20000")}
    assert Flag.OVERPAYMENT in r.flags and r.surplus == Decimal("1000")


def test_several_numbers_that_do_not_add_up_are_a_suggestion() -> None:
    invoices = [inv("E-A-2025-1", "10000"), inv("E-A-2025-2", "20000"), inv("E-A-2025-3", "5000")]
    [r] = reconcile([tx("15000", "E-A-2025-1 E-A-2025-2 E-A-2025-3")], invoices)
    assert r.status is MatchStatus.SUGGESTED and not r.allocations
    # the two quoted invoices that do add up come first
    assert set(top(r)) == {"E-A-2025-1", "E-A-2025-3"}


# -- payer identity --------------------------------------------------------------------------


def test_known_iban_with_one_open_invoice_of_that_amount_is_automatic() -> None:
    invoices = [inv("E-A-2025-1", "45000", iban=KOVACS_IBAN), inv("E-A-2025-2", "30000", iban=KOVACS_IBAN)]
    [r] = reconcile([tx("45000", "köszönöm", iban="11773016-11111018")], invoices)
    assert allocated(r) == {"E-A-2025-1": Decimal("45000")}
    assert {x.code for x in r.reasons} >= {"payer_iban", "amount_exact", "amount_unique"}


def test_known_payer_but_another_combination_gives_the_amount_is_a_suggestion() -> None:
    invoices = [
        inv("E-A-2025-1", "45000", iban=KOVACS_IBAN),
        inv("E-A-2025-2", "30000", iban=KOVACS_IBAN),
        inv("E-A-2025-3", "15000", iban=KOVACS_IBAN),
    ]
    [r] = reconcile([tx("45000", "", iban=KOVACS_IBAN)], invoices)
    assert r.status is MatchStatus.SUGGESTED
    assert {"E-A-2025-1"} in numbers_in_top3(r) and {"E-A-2025-2", "E-A-2025-3"} in numbers_in_top3(r)


def test_the_one_combination_of_a_payers_invoices_is_suggested() -> None:
    invoices = [
        inv("FV 1/05/2025", "100.00", currency="PLN", iban=NOWAK_IBAN, partner="Jan Nowak"),
        inv("FV 2/05/2025", "250.00", currency="PLN", iban=NOWAK_IBAN, partner="Jan Nowak"),
        inv("FV 3/05/2025", "400.00", currency="PLN", iban=NOWAK_IBAN, partner="Jan Nowak"),
    ]
    [r] = reconcile([tx("500.00", "przelew", iban=NOWAK_IBAN, currency="PLN")], invoices)
    assert r.status is MatchStatus.SUGGESTED
    assert set(top(r)) == {"FV 1/05/2025", "FV 3/05/2025"}
    assert any(x.code == "amount_unique" for x in r.candidates[0].reasons)


@pytest.mark.parametrize(
    ("partner", "bank_name", "currency"),
    [
        ("Kovács és Társa Kft.", "KOVACS ES TARSA KORLATOLT FELELOSSEGU TARSASAG", "HUF"),
        ("Nagy Építő Zrt.", "NAGY EPITO ZRT.", "HUF"),
        ("Szabó Anna", "SZABO ANNA", "HUF"),
        ("Szabó Anna", "ANNA SZABO", "HUF"),
        ("Przedsiębiorstwo Handlowe Łuk Sp. z o.o.", "PRZEDSIEBIORSTWO HANDLOWE LUK SPOLKA Z OGRANICZONA", "PLN"),
        ("Jan Kowalski", "KOWALSKI JAN UL. DLUGA 5 00-001 WARSZAWA", "PLN"),
        ("Zakład Usługowy Mróz S.A.", "ZAKLAD USLUGOWY MROZ SPOLKA AKCYJNA", "PLN"),
    ],
)
def test_payer_recognised_by_name_despite_accents_legal_form_and_order(
    partner: str, bank_name: str, currency: str
) -> None:
    invoices = [inv("X-2025-1", "1200", partner=partner, currency=currency), inv("X-2025-2", "900", currency=currency)]
    [r] = reconcile([tx("1200", "", name=bank_name, currency=currency)], invoices)
    assert allocated(r) == {"X-2025-1": Decimal("1200")}
    assert any(x.code == "payer_name" for x in r.reasons)


def test_unknown_payer_is_never_matched_on_amount_alone() -> None:
    [r] = reconcile(
        [tx("45000", "", name="VALAKI MAS", iban="HU93116000060000000012345676")], [inv("E-A-2025-1", "45000")]
    )
    assert r.status is MatchStatus.SUGGESTED and not r.allocations
    assert top(r) == ("E-A-2025-1",)
    assert any(x.code == "payer_unknown" for x in r.reasons)


def test_learned_account_from_an_earlier_pairing_identifies_the_payer() -> None:
    invoices = [inv("E-A-2025-7", "8800", partner="Fekete Bt.", tax_id="23456789-2-13")]
    known = [KnownPayer("Fekete Bt.", "23456789-2-13", iban="HU93116000060000000012345676")]
    [r] = reconcile([tx("8800", "", iban="HU93116000060000000012345676")], invoices, known_payers=known)
    assert allocated(r) == {"E-A-2025-7": Decimal("8800")}
    assert any(x.code == "payer_iban_learned" and "learned" in x.text for x in r.reasons)


def test_name_learned_from_an_earlier_pairing_identifies_the_payer() -> None:
    # The bank prints the owner's name, not the company's; a person paired it once.
    invoices = [inv("E-A-2025-8", "15500", partner="Zöld Kert Bt."), inv("E-A-2025-9", "9000", partner="Más Kft.")]
    [before] = reconcile([tx("15500", "", name="KISS ZOLTAN EV")], invoices)
    known = [KnownPayer("Zöld Kert Bt.", name="Kiss Zoltán e.v.")]
    [after] = reconcile([tx("15500", "", name="KISS ZOLTAN EV")], invoices, known_payers=known)
    assert before.status is MatchStatus.SUGGESTED
    assert allocated(after) == {"E-A-2025-8": Decimal("15500")}


def test_account_learned_within_the_run_recognises_the_next_transfer() -> None:
    invoices = [inv("E-A-2025-7", "8800", partner="Fekete Bt."), inv("E-A-2025-9", "4100", partner="Fekete Bt.")]
    first = tx("8800", "E-A-2025-7", iban="HU93116000060000000012345676", day=3)
    second = tx("4100", "", iban="HU93116000060000000012345676", day=9)
    r1, r2 = reconcile([first, second], invoices)
    assert r1.status is MatchStatus.MATCHED
    assert allocated(r2) == {"E-A-2025-9": Decimal("4100")}


def test_an_account_shared_by_two_partners_never_decides_alone() -> None:
    invoices = [
        inv("E-A-2025-1", "5000", partner="Kiss Béla", iban=KOVACS_IBAN),
        inv("E-A-2025-2", "7000", partner="Kiss Béláné", iban=KOVACS_IBAN),
    ]
    [r] = reconcile([tx("5000", "", iban=KOVACS_IBAN)], invoices)
    assert r.status is MatchStatus.SUGGESTED and top(r) == ("E-A-2025-1",)


def test_split_payment_tax_id_identifies_the_payer() -> None:
    invoices = [inv("FV 9/2025", "615.00", currency="PLN", partner="Mróz S.A.", tax_id="PL5260250995")]
    [r] = reconcile([tx("615.00", "/VAT/115,00/IDC/5260250995/INV/zamowienie/TXT/", currency="PLN")], invoices)
    assert allocated(r) == {"FV 9/2025": Decimal("615.00")}


def test_supplier_bills_with_the_same_number_are_told_apart_by_the_payee() -> None:
    a = inv(
        "1/2025", "500.00", currency="PLN", direction=Direction.RECEIVED, partner="Alfa Sp. z o.o.", iban=NOWAK_IBAN
    )
    b = inv(
        "1/2025",
        "500.00",
        currency="PLN",
        direction=Direction.RECEIVED,
        partner="Beta S.A.",
        iban="PL27114020040000300201355387",
    )
    [r] = reconcile([tx("-500.00", "FV 1/2025", currency="PLN", iban=NOWAK_IBAN)], [a, b])
    assert r.status is MatchStatus.MATCHED and r.allocations[0].invoice_id == a.id


# -- amounts ---------------------------------------------------------------------------------


def test_partial_payment_with_reference_allocates_what_was_paid() -> None:
    [r] = reconcile([tx("50000", "E-KERT-2025-12 első részlet")], [inv("E-KERT-2025-12", "127000")])
    assert allocated(r) == {"E-KERT-2025-12": Decimal("50000")}
    assert Flag.PARTIAL_PAYMENT in r.flags


def test_foreign_transfer_with_fee_deducted_is_a_partial_payment_flagged_as_fee() -> None:
    [r] = reconcile(
        [tx("985.00", "INVOICE E-EXP-2025-4", currency="EUR")], [inv("E-EXP-2025-4", "1000.00", currency="EUR")]
    )
    assert allocated(r) == {"E-EXP-2025-4": Decimal("985.00")}
    assert Flag.PARTIAL_PAYMENT in r.flags and Flag.POSSIBLE_BANK_FEE in r.flags


def test_instalments_carry_forward_until_paid_then_a_further_transfer_is_a_double_payment() -> None:
    invoices = [inv("FV 3/06/2025", "900.00", currency="PLN")]
    payments = [tx("300.00", "rata FV 3/06/2025", currency="PLN", day=d) for d in (30, 10, 20, 40)]
    results = reconcile(payments, invoices)
    assert [allocated(r).get("FV 3/06/2025") for r in results] == [Decimal("300.00")] * 3 + [None]
    by_day = sorted(zip(payments, results, strict=True), key=lambda pr: pr[0].booking_date)
    assert Flag.PARTIAL_PAYMENT in by_day[0][1].flags and Flag.PARTIAL_PAYMENT not in by_day[2][1].flags
    assert Flag.ALREADY_PAID in by_day[3][1].flags and not by_day[3][1].allocations


def test_overpayment_allocates_the_open_amount_and_flags_the_surplus() -> None:
    [r] = reconcile([tx("130000", "E-KERT-2025-12")], [inv("E-KERT-2025-12", "127000", paid="27000")])
    assert allocated(r) == {"E-KERT-2025-12": Decimal("100000")}
    assert Flag.OVERPAYMENT in r.flags and r.surplus == Decimal("30000")


def test_payment_quoting_an_already_paid_invoice_allocates_nothing() -> None:
    [r] = reconcile([tx("127000", "E-KERT-2025-12")], [inv("E-KERT-2025-12", "127000", paid="127000")])
    assert r.status is not MatchStatus.MATCHED and not r.allocations
    assert Flag.ALREADY_PAID in r.flags


def test_reference_to_a_cancelled_invoice_allocates_nothing() -> None:
    [r] = reconcile([tx("127000", "E-KERT-2025-12")], [inv("E-KERT-2025-12", "127000", cancelled=True)])
    assert not r.allocations and Flag.CANCELLED_INVOICE in r.flags


def test_reference_naming_one_invoice_while_payer_and_amount_fit_another_is_a_suggestion() -> None:
    invoices = [
        inv("E-A-2025-21", "99000", partner="Másik Kft.", tax_id="11111111-2-41"),
        inv("E-A-2025-12", "45000", partner="Kovács és Társa Kft.", iban=KOVACS_IBAN),
    ]
    [r] = reconcile([tx("45000", "E-A-2025-21", iban=KOVACS_IBAN)], invoices)
    assert r.status is MatchStatus.SUGGESTED
    assert {"E-A-2025-12"} in numbers_in_top3(r) and {"E-A-2025-21"} in numbers_in_top3(r)
    assert any(x.code == "reference_conflict" for x in r.reasons)


def test_proforma_fully_paid_is_flagged() -> None:
    [r] = reconcile([tx("60000", "D-2025-4 díjbekérő")], [inv("D-2025-4", "60000", kind=InvoiceKind.PROFORMA)])
    assert allocated(r) == {"D-2025-4": Decimal("60000")} and Flag.PROFORMA_PAID in r.flags


def test_automatic_pairing_can_be_switched_off() -> None:
    [r] = reconcile(
        [tx("127000", "E-KERT-2025-12")], [inv("E-KERT-2025-12", "127000")], policy=MatchPolicy(automatic=False)
    )
    assert r.status is MatchStatus.SUGGESTED and top(r) == ("E-KERT-2025-12",)
    assert r.reasons[0].code == "automatic_off"


def test_results_keep_input_order_while_matching_in_booking_order() -> None:
    invoices = [inv("E-A-2025-1", "1000")]
    late, early = tx("1000", "E-A-2025-1", day=20, id="late"), tx("1000", "E-A-2025-1", day=5, id="early")
    r_late, r_early = reconcile([late, early], invoices)
    assert (r_late.transaction_id, r_early.transaction_id) == ("late", "early")
    assert r_early.status is MatchStatus.MATCHED and Flag.ALREADY_PAID in r_late.flags


def test_every_decision_is_explained() -> None:
    invoices = [inv("E-A-2025-1", "1000"), inv("E-A-2025-2", "2000", iban=KOVACS_IBAN)]
    txs = [tx("1000", "E-A-2025-1"), tx("2000", "", iban=KOVACS_IBAN), tx("777", "kártya")]
    for r in reconcile(txs, invoices):
        for c in r.candidates:
            assert c.reasons and 0 < c.confidence < 1
        if r.status is not MatchStatus.UNMATCHED:
            assert r.reasons or r.candidates[0].reasons


def test_invoices_without_tax_id_of_a_shared_name_are_one_partner() -> None:
    # Two companies are called "Fülöp Kristóf"; the person of that name has several invoices without
    # a tax id and pays from his account: he is one partner, so his account identifies him.
    iban = "HU97109652850671136800000000"
    invoices = [
        inv("E-A-2025-1", "5000", partner="Fülöp Kristóf e.v.", tax_id="11111111-1-11"),
        inv("E-A-2025-2", "6000", partner="Fülöp Kristóf Kft.", tax_id="22222222-2-22"),
        inv("E-A-2025-3", "224273", partner="Fülöp Kristóf", iban=iban),
        inv("E-A-2025-4", "1000", partner="Fülöp Kristóf", iban=iban),
        inv("E-A-2025-5", "239400", partner="Gránit-Sas Zrt.", tax_id="20713395-2-03"),
    ]
    [r] = reconcile([tx("224273", "Számla E-A-2025-5", iban=iban)], invoices)
    assert r.status is MatchStatus.SUGGESTED  # the text names another's invoice; payer and amount fit his own
    assert r.candidates[0].invoice_numbers == ("E-A-2025-3",)
