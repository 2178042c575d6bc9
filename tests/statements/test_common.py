"""The shared helpers: code page guessing, header keys, account numbers, dates."""

from __future__ import annotations

from datetime import date

import pytest

from reconbot.core.statements.common import account_from_text, decode_text, header_key, is_iban, iso_date, parse_date

POLISH = "Przelew za fakturę FV/7/2024 - Łódź, Świętokrzyska 5, zażółć gęślą jaźń"
HUNGARIAN = "Átutalás: SZLA-42, Győr, Kőrösi út 7, tűzőgép"


@pytest.mark.parametrize("text", [POLISH, HUNGARIAN])
@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1250", "cp852"])
def test_code_page_is_guessed_from_the_letters(text: str, encoding: str) -> None:
    assert decode_text(text.encode(encoding)) == text


def test_any_bytes_decode() -> None:
    assert len(decode_text(bytes(range(256)))) == 256


def test_header_key_ignores_case_accents_hash_and_spacing() -> None:
    assert header_key("  #Data  Księgowania ") == header_key("data ksiegowania") == "data ksiegowania"
    assert header_key("Tytuł") == "tytul"
    assert header_key("ÖSSZEG DEVIZANEME") == "osszeg devizaneme"


def test_iban_check_sum() -> None:
    assert is_iban("HU42117730161111101800000000")
    assert is_iban("PL61109010140000071219812874")
    assert not is_iban("HU43117730161111101800000000")
    assert not is_iban("BPHKPLPK")


@pytest.mark.parametrize(
    ("text", "account"),
    [
        ("PL61109010140000071219812874", "PL61109010140000071219812874"),
        ("/PL61 1090 1014 0000 0712 1981 2874", "PL61109010140000071219812874"),
        ("BPHKPLPK/61109010140000071219812874", "61109010140000071219812874"),
        ("BPHKPLPK/320000546101", "BPHKPLPK/320000546101"),
        ("UBRTHUHB/123456789150ABCDEF002/HUF", "UBRTHUHB/123456789150ABCDEF002/HUF"),
    ],
)
def test_account_from_mt940_tag_25(text: str, account: str) -> None:
    assert account_from_text(text) == account


def test_dates() -> None:
    assert iso_date("2024-03-01T23:30:00+01:00") == date(2024, 3, 1)
    assert parse_date("2024.03.01.", ("%Y.%m.%d.",)) == date(2024, 3, 1)
    with pytest.raises(ValueError, match=r"'20240301' is not a date \(expected YYYY-MM-DD\)"):
        iso_date("20240301")
    with pytest.raises(ValueError, match=r"'1\.3\.2024' is not a date \(expected YYYY\.MM\.DD\.\)"):
        parse_date("1.3.2024", ("%Y.%m.%d.",))
