"""Every camt file of the shared corpus against what Genkgo's PHP camt parser reads from it."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from reconbot.core.domain import Transaction
from reconbot.core.errors import InputError
from reconbot.core.statements import parse_statement
from reconbot.core.statements.common import compact_account
from tests.statements.camt_expected import Detail, Entry, load_entries
from tests.support.paths import REPO

# Collected before fixtures run, so this mirrors the shared_dir fixture's lookup.
CAMT_DIR = Path(os.environ.get("RECONBOT_SHARED_DIR", REPO.parent / "shared")) / "corpus" / "camt"
CASES = sorted(p.name for p in CAMT_DIR.glob("*.xml") if p.with_suffix(".json").exists())


@dataclass(frozen=True)
class Expected:
    amount: Decimal
    currency: str
    booking_date: date
    value_date: date | None
    reference: str
    structured: str
    end_to_end: str
    counterparty: tuple[str, str]
    bank_id: str
    id: str | None  # None: no bank id at all, so a derived "d-…" one
    account: str


def _joined(values: list[str]) -> str:
    return "\n".join(dict.fromkeys(v for v in values if v))


def _agreed(values: list[str]) -> str:
    return values[0] if len(set(values)) == 1 else ""


def _party(entry: Entry, detail: Detail) -> tuple[str, str]:
    # Ours is the party on the other side: the debtor of money coming in, the creditor of money going out.
    party = detail.debtor if entry.credit else detail.creditor
    return party or ("", "")


def expected_transactions(entry: Entry) -> list[Expected]:
    """Return what our model makes of one Genkgo entry (documented differences in comments)."""
    # Genkgo leaves BookgDt empty when the file has none; we fall back to the value date,
    # then to the report's creation date, because a transaction needs a booking date.
    booking = entry.booking_date or entry.value_date or entry.record_created
    assert booking is not None
    details = entry.details
    if len(details) > 1 and all(d.amount for d in details):
        # A batch booking becomes one transaction per TxDtls (Genkgo keeps one entry).
        result = []
        for index, d in enumerate(details, start=1):
            assert d.amount is not None
            entry_bank_id = f"{entry.account_servicer_ref}/{index}" if entry.account_servicer_ref else ""
            bank_id = d.account_servicer_ref or entry_bank_id
            ntry_id = f"{entry.entry_ref}/{index}" if entry.entry_ref else None
            result.append(
                Expected(
                    amount=d.amount[0],
                    currency=d.amount[1],
                    booking_date=booking,
                    value_date=entry.value_date,
                    reference=d.reference or entry.additional_info,
                    structured=_joined(d.structured),
                    end_to_end=d.end_to_end,
                    counterparty=_party(entry, d),
                    bank_id=bank_id,
                    id=bank_id or ntry_id,
                    account=entry.record_account,
                )
            )
        return result
    # One TxDtls, none, or a batch without per-detail amounts: one transaction for the booked
    # amount, with the texts of all details and the party only if they all name the same one.
    parties = [_party(entry, d) for d in details]
    bank_id = _agreed([d.account_servicer_ref for d in details]) if details else ""
    bank_id = bank_id or entry.account_servicer_ref
    return [
        Expected(
            amount=entry.amount,
            currency=entry.currency,
            booking_date=booking,
            value_date=entry.value_date,
            reference=_joined([d.reference or entry.additional_info for d in details]) or entry.additional_info,
            structured=_joined([_joined(d.structured) for d in details]),
            end_to_end=_agreed([d.end_to_end for d in details]) if details else "",
            counterparty=(_agreed([p[0] for p in parties]), _agreed([p[1] for p in parties])) if parties else ("", ""),
            bank_id=bank_id,
            id=bank_id or entry.entry_ref or None,
            account=entry.record_account,
        )
    ]


def _compare(ours: Transaction, expected: Expected) -> None:
    assert ours.amount == expected.amount
    assert ours.currency == expected.currency
    assert ours.booking_date == expected.booking_date
    assert ours.value_date == expected.value_date
    assert ours.reference == expected.reference
    assert ours.structured_reference == expected.structured
    assert ours.end_to_end_id == expected.end_to_end
    assert (ours.counterparty_name, ours.counterparty_iban) == (
        expected.counterparty[0],
        compact_account(expected.counterparty[1]),
    )
    assert ours.bank_id == expected.bank_id
    if expected.id is None:
        assert ours.id.startswith("d-")
    else:
        assert ours.id == expected.id
    assert ours.account_iban == expected.account


@pytest.mark.parametrize("name", CASES)
def test_corpus_file_matches_genkgo(name: str, shared_dir: Path) -> None:
    path = shared_dir / "corpus" / "camt" / name
    statement = parse_statement(path)
    version = re.match(r"camt0?(5\d)", name)
    assert version is not None
    assert statement.format == f"camt.0{version.group(1)}"
    entries = load_entries(path.with_suffix(".json"))
    # Pending (PDNG) entries can still change, so we do not import them at all.
    booked = [e for e in entries if e.status in ("BOOK", "")]
    # Genkgo's dump of a multi-statement file lists only the last statement's entries;
    # compare ours from the statements the dump shows.
    shown = {e.record_id for e in entries}
    ours = [t for t in statement.transactions if t.raw and t.raw["statement"] in shown] if shown else []
    expected = [x for e in booked for x in expected_transactions(e)]
    assert len(ours) == len(expected)
    for transaction, wanted in zip(ours, expected, strict=True):
        _compare(transaction, wanted)


def test_the_corpus_is_there_and_has_the_expected_shape(shared_dir: Path) -> None:
    # Guards the parametrisation above from silently shrinking.
    assert len(CASES) >= 24
    assert any(e.status == "PDNG" for name in CASES for e in load_entries((CAMT_DIR / name).with_suffix(".json")))


def test_every_booked_entry_of_a_multi_statement_file_is_imported(shared_dir: Path) -> None:
    statement = parse_statement(shared_dir / "corpus" / "camt" / "camt053.v2.multi.statement.xml")
    assert [(t.raw or {}).get("statement") for t in statement.transactions] == [
        "253EURNL26VAYB8060476890",
        "254EURNL26VAYB8060476890",
    ]
    assert [t.amount for t in statement.transactions] == [Decimal("8.85"), Decimal("-7.00")]


def test_pending_entries_are_skipped(shared_dir: Path) -> None:
    statement = parse_statement(shared_dir / "corpus" / "camt" / "camt052.v4.xml")
    assert statement.transactions == ()


def test_five_decimals_keep_their_digits(shared_dir: Path) -> None:
    statement = parse_statement(shared_dir / "corpus" / "camt" / "camt053.v2.five.decimals.xml")
    assert str(statement.transactions[0].amount) == "8.850"


def test_document_without_statement_is_rejected(shared_dir: Path) -> None:
    with pytest.raises(InputError) as caught:
        parse_statement(shared_dir / "corpus" / "camt" / "camt053.v2.wrong.xml")
    assert caught.value.source == "camt053.v2.wrong.xml"
    assert caught.value.location == "line 3, BkToCstmrStmt"
    assert "no Stmt element" in caught.value.reason
