"""Open amounts of invoices while transactions are processed in booking order."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from decimal import Decimal

from reconbot.core.domain import Invoice, due_first
from reconbot.core.money import ZERO, to_minor_units


class Ledger:
    """What each invoice still expects, updated as allocations are made.

    Lookups by partner and by open amount stay cheap for large invoice sets;
    an allocation carries forward to every later transaction in the run.
    """

    def __init__(self, invoices: Sequence[Invoice], partner_of: Sequence[int]) -> None:
        self._invoices = invoices
        self.partner_of = partner_of
        # +1 when settling the invoice brings money in, -1 when it sends money out.
        self.flow: list[int] = [inv.flow_sign for inv in invoices]
        self.open: list[Decimal] = [inv.open_amount for inv in invoices]
        # The open amount in cents, for the subset-sum search; None when it has finer digits.
        self.open_cents: list[int | None] = [to_minor_units(amount) for amount in self.open]
        self._age = [(*due_first(inv.due_date, inv.issue_date), i) for i, inv in enumerate(invoices)]
        self._by_partner: dict[tuple[int, int, str], list[int]] = {}
        self._by_amount: dict[tuple[str, int, Decimal], set[int]] = {}
        for i, inv in enumerate(invoices):
            if self.open[i] > ZERO:
                sign = self.flow[i]
                self._by_partner.setdefault((partner_of[i], sign, inv.currency), []).append(i)
                self._by_amount.setdefault((inv.currency, sign, self.open[i]), set()).add(i)
        for opens in self._by_partner.values():
            opens.sort(key=self._age.__getitem__)

    def age_key(self, i: int) -> tuple[date, date, int]:
        """Return a sort key that puts the invoice due first (then issued first) first."""
        return self._age[i]

    def open_of(self, partners: Iterable[int], sign: int, currency: str) -> list[int]:
        """Return the partners' invoices still open for money flowing in direction ``sign``, oldest first."""
        found: list[int] = []
        lists = 0
        for partner in partners:
            opens = self._by_partner.get((partner, sign, currency))
            if opens:
                found += opens
                lists += 1
        if lists > 1:
            found.sort(key=self._age.__getitem__)
        return found

    def with_open_amount(self, currency: str, sign: int, amount: Decimal) -> set[int]:
        """Return the invoices whose open amount is exactly ``amount``."""
        return self._by_amount.get((currency, sign, amount), set())

    def allocate(self, i: int, amount: Decimal) -> None:
        """Book ``amount`` (a positive magnitude, at most the open amount) to invoice ``i``."""
        inv = self._invoices[i]
        before = self.open[i]
        if amount <= ZERO or amount > before:
            raise ValueError(f"cannot allocate {amount} to {inv.number} with {before} open")
        sign = self.flow[i]
        bucket = self._by_amount.get((inv.currency, sign, before))
        if bucket is not None:
            bucket.discard(i)
        after = before - amount
        self.open[i] = after
        self.open_cents[i] = to_minor_units(after)
        if after > ZERO:
            self._by_amount.setdefault((inv.currency, sign, after), set()).add(i)
        else:
            # Settled invoices leave the partner's list, so lookups never filter them again.
            self._by_partner[(self.partner_of[i], sign, inv.currency)].remove(i)
