"""What a statement parser returns."""

from __future__ import annotations

from dataclasses import dataclass

from reconbot.core.domain import Transaction


@dataclass(frozen=True, slots=True)
class Statement:
    """The transactions read from one statement file.

    ``format`` names the detected format (``camt.053``, ``mt940``, ``csv``,
    ``csv-kh``, ``csv-mbank``, ``xlsx-otp`` …); ``source`` is the file name used
    in messages. Every transaction has a non-empty, stable ``id``.
    """

    format: str
    source: str
    transactions: tuple[Transaction, ...]
