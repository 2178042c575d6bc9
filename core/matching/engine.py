"""The matching engine: pure and deterministic, every decision explained.

Transactions are taken in booking order against a ledger of open amounts, so
an allocation carries forward to later transactions. A transaction is paired
automatically only when the evidence leaves no doubt; otherwise it gets
ranked candidates with their reasons.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from reconbot.core.domain import Invoice, InvoiceKind, InvoiceStatus, Transaction
from reconbot.core.matching import reasons
from reconbot.core.matching.combinations import SubsetSearch, subsets_summing_to
from reconbot.core.matching.ledger import Ledger
from reconbot.core.matching.model import AllocationDraft, Flag, MatchResult, MatchStatus
from reconbot.core.matching.numbers import Strength
from reconbot.core.matching.payers import KnownPayer, PartnerDirectory, Payer
from reconbot.core.matching.proposals import PAYER_POINTS, Proposal, Proposals, reference_points
from reconbot.core.matching.reasons import Reason
from reconbot.core.matching.references import (
    UNUSABLE,
    USABLE,
    USABLE_ELSEWHERE,
    KeyKind,
    ReferenceIndex,
    parse_split_payment,
    reference_fields,
)
from reconbot.core.money import ZERO, to_minor_units

_NOT_EXACT = frozenset({Flag.PARTIAL_PAYMENT, Flag.OVERPAYMENT})
_SPLIT_MARK = re.compile("/IDC/", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class MatchPolicy:
    """A workspace's matching settings."""

    automatic: bool = True  # pair automatically when the evidence is unambiguous
    fee_tolerance: Decimal = Decimal("0.03")  # a shortfall up to this share is flagged as a likely bank fee
    max_candidates: int = 5


@dataclass(slots=True)
class _Ref:
    """An open invoice the payer's text names, with the best way it was named."""

    invoice: int
    strength: Strength
    kind: KeyKind
    field: str
    written: str
    ambiguous: bool  # the same words name other open invoices too

    def rank(self) -> tuple[bool, Strength]:
        return (not self.ambiguous, self.strength)


@dataclass(slots=True)
class _Case:
    """Everything known about the transaction being matched."""

    tx: Transaction
    sign: int  # +1 money in, -1 money out
    remaining: Decimal  # money not yet allocated, as a magnitude
    payer: Payer
    proposals: Proposals
    refs: list[_Ref] = field(default_factory=list)  # open invoices named, due first
    settled: list[int] = field(default_factory=list)  # named invoices already paid
    cancelled: list[int] = field(default_factory=list)
    foreign: bool = False  # names an invoice this money cannot pay (other currency or direction)
    notes: list[Reason] = field(default_factory=list)


class MatchingEngine:
    """Matches transactions against one set of invoices, remembering what it has allocated."""

    def __init__(
        self,
        invoices: Sequence[Invoice],
        *,
        policy: MatchPolicy | None = None,
        known_payers: Iterable[KnownPayer] = (),
        references: ReferenceIndex | None = None,
    ) -> None:
        """Prepare to match against ``invoices``; ``references`` may bring their number index ready-made."""
        self.invoices = invoices
        self.policy = policy or MatchPolicy()
        self.partners = PartnerDirectory(invoices, known_payers)
        self.ledger = Ledger(invoices, self.partners.of_invoice)
        self.references = references or ReferenceIndex.of_numbers((inv.number, inv.order_number) for inv in invoices)

    def match_all(
        self,
        transactions: Sequence[Transaction],
        allocated: Mapping[str, Decimal] | None = None,
        on_progress: Callable[[int], None] | None = None,
        suggest_only: Collection[str] = (),
    ) -> list[MatchResult]:
        """Return one decision per transaction, in the order given.

        Transactions are processed in booking order (ties keep the given order)
        so that each allocation carries forward; ``allocated`` gives money of a
        transaction allocated before this run, by transaction id; transactions
        in ``suggest_only`` (a person undid their pairing) are never paired
        automatically; ``on_progress`` hears the number done now and then.
        """
        allocated = allocated or {}
        results: list[MatchResult | None] = [None] * len(transactions)
        for done, k in enumerate(sorted(range(len(transactions)), key=lambda k: (transactions[k].booking_date, k))):
            tx = transactions[k]
            results[k] = self.match(tx, allocated.get(tx.id, ZERO), automatic=tx.id not in suggest_only)
            if on_progress is not None and done % 2000 == 0:
                on_progress(done)
        return [r for r in results if r is not None]

    def match(self, tx: Transaction, already_allocated: Decimal = ZERO, *, automatic: bool = True) -> MatchResult:
        """Return the decision for ``tx``; automatic allocations are booked in the engine's ledger.

        With ``automatic`` false (or the policy's), the pairing the engine would make is only suggested.
        """
        remaining = abs(tx.amount) - already_allocated
        if remaining <= ZERO:
            return MatchResult(tx.id, MatchStatus.UNMATCHED, reasons=(reasons.NOTHING_TO_ALLOCATE,))
        sign = 1 if tx.amount > ZERO else -1
        split = parse_split_payment(tx.reference) if _SPLIT_MARK.search(tx.reference) else None
        payer = self.partners.identify(tx.counterparty_iban, tx.counterparty_name, split.tax_id if split else "")
        case = _Case(
            tx,
            sign,
            remaining,
            payer,
            Proposals(self.ledger, remaining, tx.currency, self.policy.fee_tolerance),
        )
        self._gather_references(case)
        if case.refs:
            decision, blockers = self._by_reference(case)
        else:
            decision, blockers = self._by_payer(case)
            if case.payer.unique is None:
                # Not knowing who paid, the open invoices of exactly this amount are worth a look.
                self._propose_by_amount_alone(case)
            if not case.payer.partners:
                blockers.append(reasons.UNKNOWN_PAYER)
        if decision is not None and (case.settled or case.cancelled or case.foreign):
            decision = None  # a text that also names another invoice, paid, cancelled or foreign, needs a person
        if decision is not None and not (automatic and self.policy.automatic):
            decision, blockers = None, [reasons.AUTOMATIC_OFF]
        if decision is not None:
            return self._book(case, decision)
        return self._suggest(case, blockers)

    # -- evidence ---------------------------------------------------------------------------

    def _gather_references(self, case: _Case) -> None:
        tx = case.tx
        best: dict[int, _Ref] = {}
        settled: set[int] = set()
        cancelled: set[int] = set()
        fields = reference_fields(tx.reference, tx.end_to_end_id, tx.structured_reference)
        currency, sign, flow, invoices = tx.currency, case.sign, self.ledger.flow, self.invoices

        def usable(i: int) -> int:
            if flow[i] != sign:
                return UNUSABLE
            return USABLE if invoices[i].currency == currency else USABLE_ELSEWHERE

        for hit in self.references.find(fields, usable):
            if not hit.usable:
                case.foreign = True
                for i in hit.invoices[:1]:
                    inv = invoices[i]
                    why = f"it is in {inv.currency}" if inv.currency != currency else "money flows the other way for it"
                    case.notes.append(reasons.wrong_side(inv.number, why))
                continue
            compatible = hit.invoices
            open_ = [i for i in compatible if self.ledger.open[i] > ZERO]
            if not open_:
                for i in compatible:
                    (cancelled if invoices[i].status is InvoiceStatus.CANCELLED else settled).add(i)
                continue
            ambiguous = len(open_) > 1
            if ambiguous and case.payer.unique is not None:
                # Bills of different suppliers share numbers; the payee tells them apart.
                own = [i for i in open_ if self.ledger.partner_of[i] == case.payer.unique]
                if len(own) == 1:
                    open_, ambiguous = own, False
            for i in open_:
                ref = _Ref(i, hit.strength, hit.kind, hit.field, hit.written, ambiguous)
                old = best.get(i)
                if old is None or ref.rank() > old.rank():
                    best[i] = ref
        case.refs = sorted(best.values(), key=lambda r: self.ledger.age_key(r.invoice))
        case.settled = sorted(settled - best.keys())
        case.cancelled = sorted(cancelled - best.keys())
        case.notes = case.notes[:3]
        case.notes += [reasons.already_paid(self.invoices[i].number) for i in case.settled]
        case.notes += [reasons.cancelled(self.invoices[i].number) for i in case.cancelled]

    # -- the reference route ----------------------------------------------------------------

    def _by_reference(self, case: _Case) -> tuple[Proposal | None, list[Reason]]:
        """Propose the named invoices; return the pairing when the text settles it, else the doubts."""
        if len(case.refs) > 1:
            for ref in case.refs:
                case.proposals.add([ref.invoice], self._ref_points(case, ref), self._ref_reasons(case, [ref]))
        blockers: list[Reason] = []
        vague = [r for r in case.refs if r.ambiguous and r.strength >= Strength.PARTIAL]
        if vague:
            same_words = sum(1 for r in case.refs if r.written == vague[0].written)
            blockers.append(reasons.reference_ambiguous(vague[0].written, same_words))
        clean = [r for r in case.refs if not r.ambiguous]
        strong = [r for r in clean if r.strength >= Strength.PARTIAL]
        weak_too = len(strong) < len(case.refs)
        chosen_refs = self._settled_by_amount(case, clean, strong) if weak_too else strong
        if chosen_refs is None:
            # Digit-only quotes (which may be dates) the amount does not confirm: only suggestions.
            blockers.append(reasons.WEAK_REFERENCE)
            chosen_refs = strong or clean
        if not chosen_refs:
            if len(case.refs) == 1:
                ref = case.refs[0]
                case.proposals.add([ref.invoice], self._ref_points(case, ref), self._ref_reasons(case, [ref]))
            self._by_payer(case, exclude=set())
            return None, blockers
        chosen = [r.invoice for r in chosen_refs]
        points = min(self._ref_points(case, r) for r in chosen_refs) + (5 if len(chosen_refs) > 1 else 0)
        decision = case.proposals.add(chosen, points, self._ref_reasons(case, chosen_refs))
        exact = not decision.flags & _NOT_EXACT
        if not exact and not blockers and any(self._loosely_quoted(case, r) for r in chosen_refs):
            blockers.append(reasons.WEAK_REFERENCE)
        if len(chosen_refs) > 1:
            self._propose_subsets_of(case, chosen_refs)
            if Flag.PARTIAL_PAYMENT in decision.flags:
                blockers.append(decision.reasons[-1])  # the amounts do not add up
        elif Flag.OVERPAYMENT in decision.flags:
            blockers += self._lump_sum_doubts(case, chosen_refs[0], decision)
        mismatch = self._mismatch(case.payer, chosen)
        if mismatch:
            # Someone else paying is plausible only for a number quoted in full and the exact amount.
            decision.flags.add(Flag.PAYER_MISMATCH)
            if not exact or any(r.strength < Strength.FULL for r in chosen_refs):
                blockers.append(reasons.payer_mismatch(self.invoices[chosen[0]].partner_name))
        if blockers or not exact or mismatch or case.settled or case.cancelled or case.foreign:
            # In doubt, the payer's own open invoices are candidates too, and may contradict the text.
            fitting, _ = self._by_payer(case, exclude=set(chosen))
            if fitting is not None and (not exact or mismatch):
                other = ", ".join(self.invoices[i].number for i in fitting.invoices)
                blockers.append(reasons.conflict(self.invoices[chosen[0]].number, other))
        if blockers:
            return None, blockers
        decision.teaches = exact and all(r.strength >= Strength.NUMERIC for r in chosen_refs)
        return decision, []

    def _loosely_quoted(self, case: _Case, ref: _Ref) -> bool:
        # A number quoted without its prefix ("43108/2025" for TRAN/43108/2025) pays less or more
        # than is open only when the payer is known to be that invoice's partner.
        return ref.strength < Strength.FULL and self.ledger.partner_of[ref.invoice] not in case.payer.partners

    def _settled_by_amount(self, case: _Case, clean: list[_Ref], strong: list[_Ref]) -> list[_Ref] | None:
        """Return the quoted invoices the amount confirms when some are quoted by digits only.

        All of them, if together they are exactly what was paid; the fully quoted
        ones, if they alone are; None when the amount settles neither.
        """
        for refs in (clean, strong):
            if refs and sum((self.ledger.open[r.invoice] for r in refs), ZERO) == case.remaining:
                return refs
        return None

    def _lump_sum_doubts(self, case: _Case, ref: _Ref, decision: Proposal) -> list[Reason]:
        # One number quoted, more money paid: the surplus may settle that payer's other open invoices.
        if case.payer.unique is None:
            return []
        inv = self.invoices[ref.invoice]
        others = [i for i in self.ledger.open_of([case.payer.unique], case.sign, inv.currency) if i != ref.invoice]
        search = self._subsets(others, decision.surplus)
        for solution in search.solutions:
            case.proposals.add(
                [ref.invoice, *solution], self._ref_points(case, ref) + 5, self._ref_reasons(case, [ref])
            )
        return [reasons.overpaid(decision.surplus, inv.currency)] if search.solutions else []

    def _propose_subsets_of(self, case: _Case, refs: list[_Ref]) -> None:
        search = self._subsets([r.invoice for r in refs], case.remaining)
        for solution in search.solutions:
            chosen = [r for r in refs if r.invoice in solution]
            points = min(self._ref_points(case, r) for r in chosen)
            case.proposals.add(solution, points, self._ref_reasons(case, chosen))

    def _ref_points(self, case: _Case, ref: _Ref) -> int:
        points = reference_points(ref.strength, ref.kind, ref.ambiguous)
        if self.ledger.partner_of[ref.invoice] in case.payer.partners:
            points += PAYER_POINTS[case.payer.evidence] // 2
        elif self._mismatch(case.payer, [ref.invoice]):
            points -= 15
        return points

    def _ref_reasons(self, case: _Case, refs: list[_Ref]) -> list[Reason]:
        out = [
            reasons.reference(
                self.invoices[r.invoice].number, r.written, r.field, r.strength >= Strength.NUMERIC, r.kind.value
            )
            for r in refs
        ]
        partners = {self.ledger.partner_of[r.invoice] for r in refs}
        if case.payer.partners and partners <= case.payer.partners:
            out.append(self._payer_reason(case.payer, next(iter(partners))))
        elif self._mismatch(case.payer, [r.invoice for r in refs]):
            out.append(reasons.payer_mismatch(self.invoices[refs[0].invoice].partner_name))
        return out

    def _mismatch(self, payer: Payer, invoices: list[int]) -> bool:
        """Return True when the payer is known as someone unrelated to the partner of one of ``invoices``."""
        if payer.unique is None:
            return False
        return any(not self.partners.related(payer.unique, self.ledger.partner_of[i]) for i in invoices)

    # -- the payer route --------------------------------------------------------------------

    def _by_payer(self, case: _Case, exclude: set[int] | None = None) -> tuple[Proposal | None, list[Reason]]:
        """Propose the payer's open invoices that fit the amount.

        Returns the automatic pairing (a known payer's only open invoice of
        exactly this amount, with no other combination giving it) or None, and
        the doubts. When ``exclude`` is given (the invoices a text named), the
        first value is instead the payer's one exact fit among the rest, if any.
        """
        payer = case.payer
        opens = [
            i
            for i in self.ledger.open_of(payer.partners, case.sign, case.tx.currency)
            if not exclude or i not in exclude
        ]
        if not opens:
            return None, []
        who = self._payer_reason(payer, next(iter(payer.partners)))
        points = PAYER_POINTS[payer.evidence] - (10 if len(payer.partners) > 1 else 0)
        search = self._subsets(opens, case.remaining)
        unique = search.unique
        for solution in search.solutions:
            extra = reasons.ONLY_COMBINATION if unique else reasons.several_combinations(len(search.solutions))
            case.proposals.add(solution, points - 5 * (len(solution) > 1) - 8 * (unique is None), [who, extra])
        if not search.solutions:
            for i in [i for i in opens if self.ledger.open[i] > case.remaining][:3]:
                case.proposals.add([i], points, [who])
            if sum((self.ledger.open[i] for i in opens), ZERO) < case.remaining:
                case.proposals.add(opens[:10], points, [who])
        doubts = [reasons.several_combinations(len(search.solutions))] if len(search.solutions) > 1 else []
        if unique is None or payer.unique is None:
            return None, doubts
        fit = case.proposals.add(unique, points, [who, reasons.ONLY_COMBINATION])
        fit.teaches = True
        if exclude is not None:
            return fit, doubts
        if payer.unique in self.partners.several_names:
            # Which of the names paid is a person's call; the amount alone fits any of them.
            return None, [*doubts, reasons.several_names(self.partners.names[payer.unique])]
        return (fit, doubts) if len(unique) == 1 else (None, doubts)

    def _propose_by_amount_alone(self, case: _Case) -> None:
        same = self.ledger.with_open_amount(case.tx.currency, case.sign, case.remaining)
        if 0 < len(same) <= 5:
            for i in sorted(same):
                case.proposals.add([i], 4 - 4 * len(same), [reasons.UNKNOWN_PAYER])

    def _payer_reason(self, payer: Payer, partner: int) -> Reason:
        return reasons.payer(payer.evidence.name.lower(), self.partners.names[partner], payer.learned)

    def _subsets(self, invoices: list[int], target: Decimal) -> SubsetSearch:
        """Return subsets of ``invoices`` (as invoice positions) whose open amounts sum to ``target``."""
        cents = self.ledger.open_cents
        amounts = [cents[i] for i in invoices]
        goal = to_minor_units(target)
        if goal is None or any(a is None for a in amounts):
            return SubsetSearch((), exhaustive=False)
        search = subsets_summing_to([a or 0 for a in amounts], goal)
        solutions = tuple(tuple(invoices[k] for k in solution) for solution in search.solutions)
        return SubsetSearch(solutions, search.exhaustive)

    # -- results ----------------------------------------------------------------------------

    def _book(self, case: _Case, decision: Proposal) -> MatchResult:
        flags = set(decision.flags)
        for i, amount in decision.allocations:
            self.ledger.allocate(i, amount)
            if self.invoices[i].kind is InvoiceKind.PROFORMA and self.ledger.open[i] == ZERO:
                flags.add(Flag.PROFORMA_PAID)
        partners = {self.ledger.partner_of[i] for i in decision.invoices}
        if decision.teaches and case.tx.counterparty_iban and len(partners) == 1:
            # The next transfer from this account will be recognised without a reference.
            self.partners.learn_account(case.tx.counterparty_iban, next(iter(partners)))
        allocations = tuple(
            AllocationDraft(self.invoices[i].id, self.invoices[i].number, amount) for i, amount in decision.allocations
        )
        return MatchResult(
            case.tx.id,
            MatchStatus.MATCHED,
            allocations,
            flags=_ordered(flags),
            reasons=tuple(decision.reasons),
            confidence=decision.confidence,
            surplus=decision.surplus,
        )

    def _suggest(self, case: _Case, blockers: list[Reason]) -> MatchResult:
        ranked = case.proposals.ranked(self.policy.max_candidates)
        flags: set[Flag] = set()
        if case.settled:
            flags.add(Flag.ALREADY_PAID)
        if case.cancelled:
            flags.add(Flag.CANCELLED_INVOICE)
        if ranked:
            flags |= ranked[0].flags & {Flag.PARTIAL_PAYMENT, Flag.OVERPAYMENT, Flag.POSSIBLE_BANK_FEE}
        status = MatchStatus.SUGGESTED if ranked else MatchStatus.UNMATCHED
        why = tuple(dict.fromkeys([*blockers, *case.notes]))
        return MatchResult(
            case.tx.id,
            status,
            candidates=tuple(p.to_candidate(self.invoices) for p in ranked),
            flags=_ordered(flags),
            reasons=why,
            confidence=ranked[0].confidence if ranked else ZERO,
            surplus=case.remaining,
        )


def _ordered(flags: set[Flag]) -> tuple[Flag, ...]:
    return tuple(f for f in Flag if f in flags) if flags else ()


def reconcile(
    transactions: Sequence[Transaction],
    invoices: Sequence[Invoice],
    *,
    policy: MatchPolicy | None = None,
    known_payers: Iterable[KnownPayer] = (),
    allocated: Mapping[str, Decimal] | None = None,
) -> list[MatchResult]:
    """Return one decision per transaction, in the order given (see ``MatchingEngine.match_all``).

    The inputs are not changed.
    """
    engine = MatchingEngine(invoices, policy=policy, known_payers=known_payers)
    return engine.match_all(transactions, allocated)
