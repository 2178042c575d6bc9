"""Finding invoice numbers however people write them."""

from __future__ import annotations

import pytest

from reconbot.core.matching.numbers import Strength
from reconbot.core.matching.references import KeyKind, ReferenceIndex, parse_split_payment, reference_fields


def index(*numbers: str) -> ReferenceIndex:
    idx = ReferenceIndex()
    for i, number in enumerate(numbers):
        idx.add(i, number)
    return idx


def found(idx: ReferenceIndex, text: str) -> dict[int, Strength]:
    out: dict[int, Strength] = {}
    for hit in idx.find([("reference", text)]):
        for i in hit.invoices:
            out[i] = max(out.get(i, Strength.DIGITS), hit.strength)
    return out


@pytest.mark.parametrize(
    "text",
    [
        "E-KERT-2025-12",
        "e-kert-2025-12",
        "Számla: E-KERT-2025-12 köszönöm",
        "szla E KERT 2025 12",
        "E.KERT.2025.12",
        "E/KERT/2025/12",
        "EKERT202512",
        "E-KERT-2025-0012",
        "szla szla E-KERT-2025-12",
        "utalas/E-KERT-2025-12/koszi",
        "Számla E-KERT-20\n25-12",
    ],
)
def test_hungarian_number_in_any_writing(text: str) -> None:
    idx = index("E-KERT-2025-12", "E-KERT-2025-1", "E-KERT-2025-120")
    assert found(idx, text) == {0: Strength.FULL}


@pytest.mark.parametrize(
    "text",
    [
        "Faktura nr FV 12/05/2025",
        "zapłata za fv 12-05-2025",
        "FV12/05/2025",
        "FV FV 12/5/2025",
        "/VAT/23,00/IDC/5260250995/INV/FV 12/05/2025/TXT/zaplata",
    ],
)
def test_polish_number_in_any_writing(text: str) -> None:
    idx = index("FV 12/05/2025", "FV 1/05/2025", "FV 12/05/2024")
    assert found(idx, text) == {0: Strength.FULL}


def test_boundaries_never_match_a_prefix_of_another_number() -> None:
    idx = index("E-KERT-2025-1")
    for text in ("E-KERT-2025-12", "E-KERT-2025-10 és -11", "EKERT202512", "E-KERT-2025-1234"):
        assert found(idx, text) == {}, text


def test_leading_zeros_dropped_and_prefix_word_dropped() -> None:
    idx = index("ABC-2025-00123", "FA/2025/05/0012")
    assert found(idx, "ABC-2025-123") == {0: Strength.FULL}
    assert found(idx, "szamla 2025/123") == {0: Strength.PARTIAL}
    assert found(idx, "2025/05/12 faktura") == {1: Strength.DIGITS}
    assert found(idx, "FA 2025 5 12") == {1: Strength.FULL}


def test_partial_prefix_is_weaker_than_full_number() -> None:
    idx = index("E-KERT-2025-12")
    assert found(idx, "KERT-2025-12") == {0: Strength.PARTIAL}


def test_longest_number_wins_over_one_inside_it() -> None:
    # KERT-2025-12 is another series' number, but the payer wrote E-KERT-2025-12.
    idx = index("E-KERT-2025-12", "KERT-2025-12")
    assert found(idx, "E-KERT-2025-12") == {0: Strength.FULL}
    assert found(idx, "KERT-2025-12") == {1: Strength.FULL}


def test_year_month_and_short_numbers_are_not_keys() -> None:
    idx = index("E-KERT-2025-12", "17")
    assert found(idx, "bérleti díj 2025-12") == {}
    assert found(idx, "17 db") == {}


def test_several_numbers_in_one_text() -> None:
    idx = index("FA/2025/05/0012", "FA/2025/05/0013", "FA/2025/05/0014")
    assert set(found(idx, "FA/2025/05/0012, FA/2025/05/0013")) == {0, 1}


def test_order_number_is_an_alternative_key() -> None:
    idx = ReferenceIndex()
    idx.add(0, "E-SHOP-2025-7")
    idx.add(0, "WEB-104233", KeyKind.ORDER)
    [hit] = idx.find([("reference", "rendelés WEB104233")])
    assert hit.kind is KeyKind.ORDER and hit.invoices == (0,)


def test_number_in_end_to_end_id_and_creditor_reference() -> None:
    idx = index("ABC-2025-00123", "INV9981")
    hits = idx.find(reference_fields("", "ABC-2025-123", ""))
    assert [(h.invoices, h.field) for h in hits] == [((0,), "end_to_end_id")]
    hits = idx.find(reference_fields("", "NOTPROVIDED", "RF18INV9981"))
    assert {h.invoices for h in hits} == {(1,)}


def test_split_payment_fields() -> None:
    split = parse_split_payment("/VAT/230,00/IDC/PL5260250995/INV/FV 12/05/2025/TXT/Zapłata za\n fakturę")
    assert split is not None
    assert (split.vat, split.tax_id, split.invoice) == ("230,00", "PL5260250995", "FV 12/05/2025")
    assert parse_split_payment("zapłata FV 12/05/2025") is None
