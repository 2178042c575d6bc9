"""What the matching engine decides, and why."""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from typing import NamedTuple

from reconbot.core.matching.reasons import Reason
from reconbot.core.money import ZERO


class MatchStatus(StrEnum):
    MATCHED = "matched"  # allocated automatically
    SUGGESTED = "suggested"  # ranked candidates wait for a person
    UNMATCHED = "unmatched"  # nothing sensible to propose


class Flag(StrEnum):
    PARTIAL_PAYMENT = "partial_payment"
    OVERPAYMENT = "overpayment"
    ALREADY_PAID = "already_paid"  # quotes an invoice that is paid: a possible double payment
    CANCELLED_INVOICE = "cancelled_invoice"
    POSSIBLE_BANK_FEE = "possible_bank_fee"  # short by what a foreign transfer fee usually takes
    PROFORMA_PAID = "proforma_paid"  # a proforma became fully paid: its final invoice is due
    PAYER_MISMATCH = "payer_mismatch"  # the payer is known as someone else than the invoice's partner


class AllocationDraft(NamedTuple):
    """Money from the transaction booked to one invoice; ``amount`` is a positive magnitude."""

    invoice_id: str
    invoice_number: str
    amount: Decimal


class Candidate(NamedTuple):
    """One proposed pairing: the invoices it would settle, how sure we are, and why.

    ``allocations`` is what confirming it would book: the invoice due first
    gets money first, so when the money does not cover every invoice of the
    set the last ones may get none.
    """

    invoice_ids: tuple[str, ...]
    invoice_numbers: tuple[str, ...]
    allocations: tuple[AllocationDraft, ...]
    confidence: Decimal  # 0.01 … 0.99
    reasons: tuple[Reason, ...]


class MatchResult(NamedTuple):
    """The engine's decision for one transaction.

    ``allocations`` is non-empty exactly when ``status`` is MATCHED, and
    ``candidates`` (ranked best first) exactly when it is SUGGESTED.
    ``reasons`` explain the decision itself (the evidence for an automatic
    pairing, or what kept it from being automatic); ``confidence`` is that of
    the pairing made or of the best candidate; ``surplus`` is money left
    unallocated.
    """

    transaction_id: str
    status: MatchStatus
    allocations: tuple[AllocationDraft, ...] = ()
    candidates: tuple[Candidate, ...] = ()
    flags: tuple[Flag, ...] = ()
    reasons: tuple[Reason, ...] = ()
    confidence: Decimal = ZERO
    surplus: Decimal = ZERO
