"""Bank CSV exports (K&H, mBank): split the text into rows and hand them to the profile reader."""

from __future__ import annotations

import csv
import io

from reconbot.core.statements.common import csv_rows
from reconbot.core.statements.identity import with_ids
from reconbot.core.statements.model import Statement
from reconbot.core.statements.profiles import CSV_PROFILES
from reconbot.core.statements.tables import Profile, read_table

# The header sits below a preamble in some exports (mBank), but never this far down.
_HEADER_SEARCH_LINES = 60


def csv_profile(text: str) -> Profile | None:
    """Return the bank profile whose header row appears near the top of ``text``, or None."""
    head = "\n".join(text.splitlines()[:_HEADER_SEARCH_LINES])
    for profile in CSV_PROFILES:
        try:
            rows = list(csv.reader(io.StringIO(head, newline=""), delimiter=profile.delimiter))
        except csv.Error:
            continue
        if profile.header_index(rows) is not None:
            return profile
    return None


def parse_bank_csv(text: str, profile: Profile, source: str) -> Statement:
    """Return the transactions of a bank CSV export already decoded to ``text``.

    Raises InputError for malformed CSV and for anything ``read_table`` rejects.
    """
    rows = list(csv_rows(text, source, profile.delimiter))
    transactions = read_table(rows, profile, source, unit="line")
    return Statement(format=profile.format, source=source, transactions=tuple(with_ids(transactions)))
