"""The HTTP chokepoint's JSON readers: exact decimals from a provider's answer, error bodies read or left alone."""

from __future__ import annotations

from decimal import Decimal

import httpx
import pytest

from reconbot.core.errors import ProviderError
from reconbot.core.http_client import error_json, response_json


def answer(status: int, content: bytes, content_type: str = "application/json") -> httpx.Response:
    request = httpx.Request("GET", "https://api.example/v1/documents?token=secret")
    return httpx.Response(status, content=content, headers={"content-type": content_type}, request=request)


def test_a_json_answer_keeps_its_decimals_exact() -> None:
    found = response_json(answer(200, b'{"gross": 12.30, "items": [{"qty": 3}]}'), "billingo")
    assert found == {"gross": Decimal("12.30"), "items": [{"qty": 3}]} and str(found["gross"]) == "12.30"


def test_an_answer_that_is_no_json_is_a_temporary_error_naming_integration_path_and_status() -> None:
    with pytest.raises(ProviderError) as raised:
        response_json(answer(200, b"<html>maintenance</html>", "text/html"), "fakturownia")
    message = str(raised.value)
    assert message == "fakturownia: /v1/documents: expected JSON, got 'text/html' (HTTP 200)"
    assert not raised.value.permanent and raised.value.status == 200 and "secret" not in message


def test_an_error_body_is_read_when_it_is_json_and_none_otherwise() -> None:
    assert error_json(answer(422, b'{"message": "bad", "amount": 1.5}')) == {"message": "bad", "amount": Decimal("1.5")}
    assert error_json(answer(502, b"Bad Gateway", "text/plain")) is None
    assert error_json(answer(500, b"")) is None
