"""The one JSON reader: exact decimals, never floats, bad input as one error."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from reconbot.core.exact_json import JsonError, decimals_as_text, read_json


def test_fractions_stay_exact_decimals_and_whole_numbers_ints() -> None:
    found = read_json(b'{"gross": 1.10, "net": 0.1, "big": 1e3, "count": 12, "neg": -7.500}')
    assert found == {"gross": Decimal("1.10"), "net": Decimal("0.1"), "big": Decimal("1E+3"), "count": 12,
                     "neg": Decimal("-7.500")}  # fmt: skip
    assert str(found["gross"]) == "1.10" and isinstance(found["count"], int)
    assert not any(isinstance(value, float) for value in found.values())


def test_text_and_bytes_in_any_json_encoding_are_read() -> None:
    assert read_json('["Számla", 2.50]') == ["Számla", Decimal("2.50")]
    assert read_json('{"a": 1.5}'.encode("utf-16")) == {"a": Decimal("1.5")}


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_are_refused(constant: str) -> None:
    with pytest.raises(JsonError, match=constant):
        read_json(f'{{"amount": {constant}}}')


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (b'{"id": "evt-1", "type": ', "Expecting value"),
        (b"\x80abc", "can't decode byte 0x80"),
        (b"", "Expecting value"),
        (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
        (b'{"n": ' + b"9" * 5000 + b"}", "Exceeds the limit"),  # Python's int digit limit
    ],
    ids=["cut short", "not UTF-8", "empty", "deep", "huge int"],
)
def test_malformed_input_is_one_json_error(data: bytes, problem: str) -> None:
    with pytest.raises(JsonError, match=problem):
        read_json(data)


def test_input_above_the_limit_is_refused_before_parsing() -> None:
    with pytest.raises(JsonError, match="larger than 10 bytes"):
        read_json(b'{"a": "12345678"}', max_bytes=10)
    assert read_json(b"[1.0]", max_bytes=5) == [Decimal("1.0")]


def test_decimals_as_text_makes_a_parsed_body_storable_as_json() -> None:
    body = read_json(b'{"amount": {"value": 12.30, "currency": "EUR"}, "lines": [0.5, 3, "x", null, true]}')
    stored = decimals_as_text(body)
    assert stored == {"amount": {"value": "12.30", "currency": "EUR"}, "lines": ["0.5", 3, "x", None, True]}
    assert json.loads(json.dumps(stored)) == stored
