"""Read the Genkgo PHP camt dumps (``corpus/camt/*.json``) into plain expected values.

The dumps serialise each object once and write ``"__RECURSIVITY__"`` where it appears again.
Keys are in alphabetical order, so the marker in a list such as ``getTransactionDetails``
stands for the singular getter written just before it (``getTransactionDetail``: the first).
Amounts are in minor units (ISO 4217 exponent), already signed by CreditDebitIndicator; dates
are converted to UTC.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from babel.numbers import get_currency_precision

MARK = "__RECURSIVITY__"


@dataclass(frozen=True)
class Detail:
    amount: tuple[Decimal, str] | None
    reference: str  # Ustrd lines joined with "\n", else AddtlTxInf, else ""
    structured: list[str]
    end_to_end: str
    account_servicer_ref: str
    debtor: tuple[str, str] | None  # (name, account) of Dbtr, else of UltmtDbtr with no account
    creditor: tuple[str, str] | None


@dataclass(frozen=True)
class Entry:
    amount: Decimal
    currency: str
    credit: bool
    reversal: bool
    status: str
    booking_date: date | None
    value_date: date | None
    account_servicer_ref: str
    entry_ref: str
    additional_info: str
    details: list[Detail]
    record_id: str
    record_created: date | None
    record_account: str


def _amount(money: dict[str, Any] | None) -> tuple[Decimal, str] | None:
    if money is None:
        return None
    currency = money["getCurrency"]["getCode"]
    return Decimal(money["getAmount"]).scaleb(-get_currency_precision(currency)), currency


def _date(value: dict[str, Any] | None) -> date | None:
    return date.fromisoformat(value["0"][:10]) if value else None


def _party(parties: list[dict[str, Any]], direct: str) -> tuple[str, str] | None:
    by_type = {p["getRelatedPartyType"]["__CLASS__"].rsplit("\\", 1)[-1]: p for p in parties}
    party = by_type.get(direct)
    if party and party["getRelatedPartyType"].get("getName"):
        account = (party["getAccount"] or {}).get("getIdentification") or ""
        return party["getRelatedPartyType"]["getName"], account
    ultimate = by_type.get("Ultimate" + direct)
    if ultimate and ultimate["getRelatedPartyType"].get("getName"):
        account = (party["getAccount"] or {}).get("getIdentification") or "" if party else ""
        return ultimate["getRelatedPartyType"]["getName"], account
    if party:
        return "", (party["getAccount"] or {}).get("getIdentification") or ""
    return None


def _detail(raw: dict[str, Any]) -> Detail:
    info = raw["getRemittanceInformation"] or {}
    ustrd = [info["getUnstructuredBlock"] if b == MARK else b for b in info.get("getUnstructuredBlocks", [])]
    blocks = [info["getStructuredBlock"] if b == MARK else b for b in info.get("getStructuredBlocks", [])]
    structured = []
    for block in blocks:
        ref = block["getCreditorReferenceInformation"]
        ref = info["getCreditorReferenceInformation"] if ref == MARK else ref
        if ref and ref.get("getRef"):
            structured.append(ref["getRef"])
    reference = "\n".join(u["getMessage"] for u in ustrd) or raw["getAdditionalTransactionInformation"] or ""
    refs = raw["getReference"] or {}
    return Detail(
        amount=_amount(raw["getAmount"]) or _amount(raw["getAmountDetails"]),
        reference=reference,
        structured=structured,
        end_to_end=refs.get("getEndToEndId") or "",
        account_servicer_ref=refs.get("getAccountServicerReference") or "",
        debtor=_party(raw["getRelatedParties"], "Debtor"),
        creditor=_party(raw["getRelatedParties"], "Creditor"),
    )


def load_entries(path: Path) -> list[Entry]:
    """Return the entries of one dump, in file order."""
    message = json.loads(path.read_text())
    entries = []
    for raw in message["getEntries"]:
        record = raw["getRecord"]
        amount = _amount(raw["getAmount"])
        assert amount is not None
        details = [raw["getTransactionDetail"] if d == MARK else d for d in raw["getTransactionDetails"]]
        entries.append(
            Entry(
                amount=amount[0],
                currency=amount[1],
                credit=raw["getCreditDebitIndicator"] == "CRDT",
                reversal=bool(raw["getReversalIndicator"]),
                status=raw["getStatus"] or "",
                booking_date=_date(raw["getBookingDate"]),
                value_date=_date(raw["getValueDate"]),
                account_servicer_ref=raw["getAccountServicerReference"] or "",
                entry_ref=raw["getReference"] or "",
                additional_info=raw["getAdditionalInfo"] or "",
                details=[_detail(d) for d in details],
                record_id=record["getId"],
                record_created=_date(record["getCreatedOn"]),
                record_account=record["getAccount"]["getIdentification"],
            )
        )
    return entries
