"""Who paid: names banks cut at their field's end, and tax ids shared by unrelated names."""

from __future__ import annotations

from reconbot.core.matching import MatchStatus, reconcile
from reconbot.core.parties import cut_word, name_tokens
from tests.matching.factories import inv, tx

AKAC = "HU92104602236047873502115580"


def test_a_name_cut_at_the_fields_end_is_the_partners_name() -> None:
    invoices = [
        inv("E-K-2025-1", "84000", partner="Kertészeti és Építőipari Szolgáltató Kft."),
        inv("E-K-2025-2", "84000", partner="Bodnár Bt."),
    ]
    [r] = reconcile([tx("84000", "", name="KERTESZETI ES EPITOIPARI SZOLGALTA")], invoices)
    assert r.status is MatchStatus.MATCHED and r.allocations[0].invoice_number == "E-K-2025-1"


def test_a_short_name_was_not_cut() -> None:
    # Nowak is a surname of its own, and a 13-letter name fits every bank's field.
    [r] = reconcile(
        [tx("499.00", "", name="NOWAK JUSTYNA", currency="PLN")],
        [inv("FA/2025/03/3750", "499.00", partner="Justyna Nowakowska", currency="PLN")],
    )
    assert r.status is MatchStatus.SUGGESTED and not r.allocations
    assert cut_word("NOWAK JUSTYNA") == ""


def test_only_the_last_word_can_have_been_cut() -> None:
    assert cut_word("KERTESZETI ES EPITOIPARI SZOLGALTA") == "SZOLGALTA"
    [r] = reconcile(
        [tx("499.00", "", name="NOWAK JUSTYNA ZAKLAD FRYZJERSKI ANNA", currency="PLN")],
        [inv("FA/2025/03/3751", "499.00", partner="Nowakowska Justyna Zakład Fryzjerski Anna", currency="PLN")],
    )
    assert r.status is not MatchStatus.MATCHED


def test_a_legal_form_cut_at_the_fields_end_is_dropped() -> None:
    assert name_tokens("KOVACS ES TARSA KORLATOLT FELELOS") == name_tokens("Kovács és Társa Kft.")
    assert name_tokens("ZIELONY OGROD SPOLKA Z OGRANICZONA ODPO") == name_tokens("Zielony Ogród Sp. z o.o.")
    assert "TARSA" in name_tokens("KOVACS ES TARSA")  # a short name keeps its words


def test_a_tax_id_on_invoices_of_unrelated_names_needs_a_person() -> None:
    # A renamed company, a VAT group's number, or a typing slip: which of them paid is not certain.
    invoices = [
        inv("E-V-2025-1", "127000", partner="Akác-Kapos Zrt.", tax_id="27406069-2-07", iban=AKAC),
        inv("E-V-2025-2", "63500", partner="Körös Biztonságtechnikai Kft.", tax_id="27406069-2-02", issued=5),
    ]
    by_amount, by_number = reconcile(
        [tx("63500", "Egyenleg rendezése", name="AKÁC-KAPOS ZRT.", iban=AKAC), tx("127000", "E-V-2025-1", day=12)],
        invoices,
    )
    assert by_amount.status is MatchStatus.SUGGESTED and not by_amount.allocations
    assert "payer_several_names" in {reason.code for reason in by_amount.reasons}
    assert {c.invoice_numbers for c in by_amount.candidates} >= {("E-V-2025-2",)}
    assert by_number.status is MatchStatus.MATCHED  # the number quoted in full still settles it


def test_the_same_company_under_a_longer_name_is_one_partner() -> None:
    invoices = [
        inv("E-V-2025-3", "10000", partner="Akác-Kapos Zrt.", tax_id="27406069-2-07", iban=AKAC),
        inv("E-V-2025-4", "25000", partner="Akác-Kapos Kereskedelmi Zrt.", tax_id="27406069-2-07", issued=5),
    ]
    [r] = reconcile([tx("25000", "", iban=AKAC)], invoices)
    assert r.status is MatchStatus.MATCHED and r.allocations[0].invoice_number == "E-V-2025-4"
