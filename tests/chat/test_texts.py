"""The three languages say the same things, and amounts read as each language writes them."""

from __future__ import annotations

import string
from decimal import Decimal

import pytest

from reconbot.handlers.texts import LANGUAGES, TEXTS, money, text


def placeholders(sentence: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(sentence) if name}


@pytest.mark.parametrize("key", sorted(TEXTS))
def test_every_sentence_exists_in_every_language_with_the_same_placeholders(key: str) -> None:
    forms = TEXTS[key]
    assert set(forms) == set(LANGUAGES)
    assert all(forms[language].strip() for language in LANGUAGES)
    assert {language: placeholders(forms[language]) for language in LANGUAGES} == {
        language: placeholders(forms["en"]) for language in LANGUAGES
    }


@pytest.mark.parametrize(
    ("amount", "currency", "language", "expected"),
    [
        ("127000", "HUF", "hu", "127\xa0000\xa0Ft"),
        ("1230", "PLN", "pl", "1\xa0230,00\xa0zł"),
        ("1230", "EUR", "en", "€1,230.00"),
        ("1230.5", "EUR", "hu", "1\xa0230,50\xa0EUR"),
    ],
)
def test_money_is_written_the_readers_way(amount: str, currency: str, language: str, expected: str) -> None:
    assert money(Decimal(amount), currency, language) == expected


def test_a_hungarian_workspace_reads_hungarian() -> None:
    assert text("hu", "paid.title", amount=money(Decimal(127000), "HUF", "hu"), payer="Kert Kft.") == (
        "Befizetés érkezett: 127\xa0000\xa0Ft, befizető: Kert Kft."
    )
