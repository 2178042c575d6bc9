"""JSON read with exact money: ``1.10`` becomes ``Decimal("1.10")``, never the float 1.1000000000000000888.

Every JSON reconbot reads from outside (provider answers, webhook events, sale files) goes through
``read_json``; ``decimals_as_text`` turns what it returned back into something a JSON column stores.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

# A provider's answer or a file larger than this is refused rather than held in memory; a bank's two years
# of transactions stay far below it. Webhooks pass their own, smaller limit.
MAX_BYTES = 64 * 1024 * 1024


class JsonError(ValueError):
    """The text is not JSON reconbot accepts: malformed, not UTF-8, too large, nested too deeply, or holding
    ``NaN``/``Infinity`` (which no amount may be)."""


def read_json(data: bytes | str, *, max_bytes: int = MAX_BYTES) -> Any:
    """Return the JSON value of ``data``: numbers with a fraction or an exponent as ``Decimal`` (digit for
    digit, ``1.10`` keeps its zero), whole numbers as ``int``; a float is never returned.

    Raises ``JsonError`` saying what is wrong.
    """
    if len(data) > max_bytes:
        raise JsonError(f"larger than {max_bytes} bytes")
    try:
        return json.loads(data, parse_float=Decimal, parse_constant=_refuse_constant)
    except RecursionError:
        # json's parser recurses per nesting level: "[[[[…" must be a bad input, not a crash.
        raise JsonError("nested too deeply") from None
    except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError, int digits over Python's limit
        raise JsonError(str(exc)) from None


def decimals_as_text(value: Any) -> Any:
    """Return ``value`` (as ``read_json`` gives it) with every Decimal replaced by its exact text, so a JSON
    column (whose encoder refuses Decimal) stores it without rounding."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {key: decimals_as_text(item) for key, item in value.items()}
    if isinstance(value, list):
        return [decimals_as_text(item) for item in value]
    return value


def _refuse_constant(name: str) -> Any:
    raise JsonError(f"{name} is not a number reconbot accepts")
