"""Candidate pairings under construction, scored by the evidence behind them."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from reconbot.core.domain import Invoice
from reconbot.core.matching import reasons
from reconbot.core.matching.ledger import Ledger
from reconbot.core.matching.model import AllocationDraft, Candidate, Flag
from reconbot.core.matching.numbers import Strength
from reconbot.core.matching.payers import PayerEvidence
from reconbot.core.matching.reasons import Reason
from reconbot.core.matching.references import KeyKind
from reconbot.core.money import ZERO

# Points of evidence; a candidate's confidence is its points / 100. Reference first, then amount,
# then payer, as the peers that users trust most weigh them (kivitendo's points, Odoo's order).
REFERENCE_POINTS = {Strength.FULL: 55, Strength.NUMERIC: 50, Strength.PARTIAL: 45, Strength.DIGITS: 30}
ORDER_POINTS = {Strength.FULL: 50, Strength.NUMERIC: 46, Strength.PARTIAL: 42, Strength.DIGITS: 30}
PAYER_POINTS = {
    PayerEvidence.IBAN: 25,
    PayerEvidence.TAX_ID: 25,
    PayerEvidence.NAME: 18,
    PayerEvidence.NAME_PARTIAL: 8,
    PayerEvidence.NONE: 0,
}
AMOUNT_EXACT, AMOUNT_FEE, AMOUNT_OVER, AMOUNT_PARTIAL = 30, 18, 12, 8


def reference_points(strength: Strength, kind: KeyKind, ambiguous: bool) -> int:
    """Return the points a quoted number earns."""
    table = ORDER_POINTS if kind is KeyKind.ORDER else REFERENCE_POINTS
    return table[strength] - (15 if ambiguous else 0)


@dataclass(slots=True)
class Proposal:
    """A set of invoices the transaction might settle, what it would book, and why."""

    invoices: tuple[int, ...]  # due first
    allocations: list[tuple[int, Decimal]]
    points: int
    reasons: list[Reason]
    flags: set[Flag] = field(default_factory=set)
    surplus: Decimal = ZERO
    # Booked, it shows whose account paid: a full number with the exact amount, or a known payer.
    teaches: bool = False

    @property
    def confidence(self) -> Decimal:
        """Return the points as a confidence between 0.01 and 0.99."""
        return Decimal(min(max(self.points, 1), 99)) / 100

    def to_candidate(self, invoices: Sequence[Invoice]) -> Candidate:
        """Return the public, immutable form of this proposal."""
        drafts = tuple(AllocationDraft(invoices[i].id, invoices[i].number, amount) for i, amount in self.allocations)
        ids = tuple(invoices[i].id for i in self.invoices)
        numbers = tuple(invoices[i].number for i in self.invoices)
        return Candidate(ids, numbers, drafts, self.confidence, tuple(self.reasons))


class Proposals:
    """The candidates gathered for one transaction, one per distinct set of invoices."""

    def __init__(self, ledger: Ledger, remaining: Decimal, currency: str, fee_tolerance: Decimal) -> None:
        self._ledger = ledger
        self._remaining = remaining
        self._currency = currency
        self._fee_tolerance = fee_tolerance
        self._by_set: dict[tuple[int, ...], Proposal] = {}

    def add(self, invoices: Iterable[int], points: int, evidence: list[Reason]) -> Proposal:
        """Propose settling ``invoices`` with the transaction's money; return the (possibly better) proposal.

        The money goes to the invoice due first, then the next, each up to its
        open amount; the amount's fit (exact, short, over) adds its points and reason.
        """
        ordered = list(invoices)
        if len(ordered) > 1:
            ordered = sorted(set(ordered), key=self._ledger.age_key)
        key = tuple(sorted(ordered))
        left, allocations = self._remaining, []
        for i in ordered:
            open_amount = self._ledger.open[i]
            amount = open_amount if open_amount < left else left  # equal: written as the bank wrote it
            if amount > ZERO:
                allocations.append((i, amount))
                left -= amount
        total_open = sum((self._ledger.open[i] for i in ordered), ZERO)
        flags: set[Flag] = set()
        why = list(evidence)
        if left > ZERO:
            points += AMOUNT_OVER
            flags.add(Flag.OVERPAYMENT)
            why.append(reasons.overpaid(left, self._currency))
        elif self._remaining == total_open:
            points += AMOUNT_EXACT
            why.append(reasons.amount_exact(self._remaining, self._currency, len(ordered)))
        else:
            shortfall = total_open - self._remaining
            flags.add(Flag.PARTIAL_PAYMENT)
            why.append(reasons.partial(self._remaining, total_open, self._currency))
            if shortfall <= total_open * self._fee_tolerance:
                points += AMOUNT_FEE
                flags.add(Flag.POSSIBLE_BANK_FEE)
                why.append(reasons.bank_fee(shortfall, self._currency))
            else:
                points += AMOUNT_PARTIAL
        proposal = Proposal(tuple(ordered), allocations, points, why, flags, max(left, ZERO))
        old = self._by_set.get(key)
        if old is not None and old.points >= points:
            return old
        self._by_set[key] = proposal
        return proposal

    def ranked(self, limit: int) -> list[Proposal]:
        """Return the best ``limit`` proposals: most points, then the invoice due first, then fewer invoices."""

        def rank(p: Proposal) -> tuple[int, tuple[object, ...], int]:
            return (-p.points, self._ledger.age_key(p.allocations[0][0]) if p.allocations else (), len(p.invoices))

        return sorted(self._by_set.values(), key=rank)[:limit]
