"""MT940 cases the corpus does not cover: Polish subfields, code pages, signs, envelopes, bad input."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from reconbot.core.domain import Transaction
from reconbot.core.errors import InputError
from reconbot.core.statements import Statement, parse_statement
from reconbot.core.statements.mt94x_details import read_details


def statement(
    *entries: str, opening: str = ":60F:C240301PLN1000,00", account: str = ":25:/PL61109010140000071219812874"
) -> str:
    body = "\n".join(entries)
    return f":20:ST240304/1\n{account}\n:28C:12/1\n{opening}\n{body}\n:62F:C240304PLN1000,00\n-\n"


def parse(text: str, encoding: str = "utf-8") -> Statement:
    return parse_statement(Path("wyciag.sta"), text.encode(encoding))


def only(text: str, encoding: str = "utf-8") -> Transaction:
    (transaction,) = parse(text, encoding).transactions
    return transaction


def failure(text: str) -> InputError:
    with pytest.raises(InputError) as caught:
        parse(text)
    assert caught.value.source == "wyciag.sta"
    return caught.value


POLISH_TILDE = (
    ":61:2403040304C1230,50NTRFNONREF//PB240304000123\n"
    ":86:020~00VE02~20FV 2024/03/0~2101 zapłata za usługi~22~23~24~25\n"
    "~3010901014~310000071219812874~32ŻÓŁTA SPÓŁKA Z OGRANICZ~33ONĄ ODPOWIEDZIALNOŚCIĄ\n"
    "~38PL61109010140000071219812874~60~63"
)


def test_polish_tilde_subfields() -> None:
    t = only(statement(POLISH_TILDE))
    assert t.reference == "FV 2024/03/0\n01 zapłata za usługi"
    assert t.counterparty_name == "ŻÓŁTA SPÓŁKA Z OGRANICZ ONĄ ODPOWIEDZIALNOŚCIĄ"
    assert t.counterparty_iban == "PL61109010140000071219812874"
    assert (t.id, t.bank_id) == ("PB240304000123", "PB240304000123")
    assert t.account_iban == "PL61109010140000071219812874"
    assert (t.raw or {})["code"] == "020"


def test_polish_angle_bracket_and_plus_subfields() -> None:
    angle = read_details("<00PRZELEW<20FAKTURA 17/2024<21 KOREKTA<32JAN KOWALSKI<38PL27114020040000300201355387")
    plus = read_details("+00PRZELEW+20FAKTURA 18/2024+32ANNA NOWAK+3310001 WARSZAWA")
    assert (angle.reference, angle.counterparty_name) == ("FAKTURA 17/2024\nKOREKTA", "JAN KOWALSKI")
    assert angle.counterparty_iban == "PL27114020040000300201355387"
    assert (plus.reference, plus.counterparty_name) == ("FAKTURA 18/2024", "ANNA NOWAK 10001 WARSZAWA")


def test_a_full_width_name_part_is_joined_without_a_space() -> None:
    # German subfields are 27 characters; a full one was cut mid-word.
    details = read_details("166?00GUTSCHRIFT?20RE 4711?32Muster Handelsgesellschaft?33 mbH")
    cut = read_details("166?00GUTSCHRIFT?20RE 4711?32Musterhandelsgesellschaft m?33it beschr. Haftung")
    assert details.counterparty_name == "Muster Handelsgesellschaft mbH"
    assert cut.counterparty_name == "Musterhandelsgesellschaft mit beschr. Haftung"


def test_sepa_end_to_end_reference_in_german_subfields() -> None:
    details = read_details("166?00GUTSCHRIFT?20EREF+E2E-12?21345?22SVWZ+Rechnung 2024-7")
    assert details.end_to_end_id == "E2E-12345"
    assert details.reference == "EREF+E2E-12\n345\nSVWZ+Rechnung 2024-7"


def test_free_text_is_kept_whole_with_its_lines() -> None:
    details = read_details("SZLA 2024/0042\nPelda Kft. atutalas\n100+20 EUR")
    assert details.reference == "SZLA 2024/0042\nPelda Kft. atutalas\n100+20 EUR"
    assert details.counterparty_name == ""


def test_mbank_outgoing_tokens() -> None:
    details = read_details(
        "PRZELEW ZEWNĘTRZNY; DLA: BIURO-MAX S.C.  UL. ŻÓŁTA 5\n30-001 KRAKÓW; NA RACH.: 27 1140 2004\n"
        "0000 3002 0135 5387; TYT.: FV/12/2024; TNR: 123.000001"
    )
    assert details.counterparty_name == "BIURO-MAX S.C."
    assert details.counterparty_iban == "27114020040000300201355387"
    assert details.reference == "FV/12/2024"
    assert details.extra == {"operation": "PRZELEW ZEWNĘTRZNY", "tnr": "123.000001"}


POLISH_TEXT = ":86:020~00PRZELEW~20Zażółć gęślą jaźń 7/2024~32Łukasz Ślęzak~38PL61109010140000071219812874"


@pytest.mark.parametrize("encoding", ["cp852", "cp1250", "utf-8"])
def test_polish_code_pages_are_recognised(encoding: str) -> None:
    t = only(statement(":61:2403040304D10,00NTRFNONREF//X1", POLISH_TEXT), encoding)
    assert t.reference == "Zażółć gęślą jaźń 7/2024"
    assert t.counterparty_name == "Łukasz Ślęzak"


def test_the_two_code_pages_really_differ() -> None:
    # Guards the test above: the same text must be different bytes in each code page.
    assert POLISH_TEXT.encode("cp852") != POLISH_TEXT.encode("cp1250")


def test_hungarian_windows_1250_text() -> None:
    text = statement(":61:2403040304C5000,00NTRFNONREF//HU1", ":86:Számla: 2024/0042, átutalás őrző űrlap")
    assert only(text, "cp1250").reference == "Számla: 2024/0042, átutalás őrző űrlap"


@pytest.mark.parametrize(
    ("mark", "amount"),
    [("C", "12.50"), ("D", "-12.50"), ("RC", "-12.50"), ("RD", "12.50"), ("c", "12.50"), ("d", "-12.50")],
)
def test_debit_credit_and_reversal_marks(mark: str, amount: str) -> None:
    t = only(statement(f":61:2403040305{mark}12,50NTRFNONREF//REF1"))
    assert t.amount == Decimal(amount)
    assert (t.value_date, t.booking_date) == (date(2024, 3, 4), date(2024, 3, 5))


def test_nonref_bank_reference_gives_a_derived_id_that_survives_reparsing() -> None:
    text = statement(":61:240304C12,50NTRFNONREF//NONREF\n:86:a", ":61:240304C12,50NTRFNONREF\n:86:a")
    first = parse(text).transactions
    again = parse(text).transactions
    assert [t.id for t in first] == [t.id for t in again]
    assert first[0].id.startswith("d-") and first[0].bank_id == ""
    # Two identical payments stay two.
    assert first[0].id != first[1].id


def test_swift_envelope_and_two_statements() -> None:
    one = statement(":61:240304C1,00NTRFNONREF//A1")
    two = statement(":61:240305D2,00NTRFNONREF//A2", account=":25:HU42117730161111101800000000")
    text = "{1:F01BANKHUHBAXXX0000000000}{2:O940BANKHUHBXXXXN}{4:\n" + one + "-}{5:}\n" + two
    first, second = parse(text).transactions
    assert (first.id, first.account_iban, first.amount) == ("A1", "PL61109010140000071219812874", Decimal(1))
    assert (second.id, second.account_iban, second.amount) == ("A2", "HU42117730161111101800000000", Decimal(-2))
    assert ((first.raw or {})["statement"], (second.raw or {})["statement"]) == ("ST240304/1", "ST240304/1")


def test_bad_value_date_names_the_line() -> None:
    error = failure(statement(":61:2404310431C1,00NTRFNONREF//A1"))
    assert (error.location, error.reason) == ("line 5", "'2404310431' does not start with a valid date")


def test_thirtieth_of_february_is_accepted_like_the_banks_mean_it() -> None:
    assert only(statement(":61:2402300301C1,00NTRFNONREF//A1")).value_date == date(2024, 2, 29)


def test_bad_amount_names_the_line() -> None:
    error = failure(statement(":61:240304C1,00NTRFNONREF//A1", ":61:240304C1,000,00NTRFNONREF//A2"))
    assert error.location == "line 6"
    assert "'1,000,00' is not an MT940 amount" in error.reason


def test_missing_currency() -> None:
    error = failure(":20:ST1\n:25:123\n:28C:1\n:61:240304C1,00NTRFNONREF//A1\n:86:x\n-\n")
    assert error.location == "line 4"
    assert error.reason.startswith("no currency")


def test_closing_balance_alone_gives_the_currency() -> None:
    assert only(statement(":61:240304C1,00NTRFNONREF//A1", opening=":28:1")).currency == "PLN"


def test_unknown_currency() -> None:
    error = failure(statement(":61:240304C1,00NTRFNONREF//A1", opening=":60F:C240301ZZZ1000,00"))
    assert (error.location, error.reason) == ("line 5", "'ZZZ' is not an ISO 4217 currency code")


def test_unreadable_tag_names_its_line() -> None:
    error = failure(statement(":61:240304C1,00NTRFNONREF//A1", opening=":60F:X240301PLN1000,00"))
    assert error.location == "line 4"
    assert "cannot read" in error.reason and "X240301PLN1000,00" in error.reason


def test_fragment_without_statement_header() -> None:
    with pytest.raises(InputError) as caught:
        parse(":61:240304C1,00NTRFNONREF//A1\n:86:x\n")
    assert caught.value.location == "line 1"
    assert "no :20: tag" in caught.value.reason


def test_statement_without_entries_is_fine() -> None:
    assert parse(statement()).transactions == ()
