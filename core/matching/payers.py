"""Who paid: partner identity from IBANs, tax ids and names as banks print them."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import IntEnum

from core.domain import Invoice
from core.parties import account_key, name_tokens, tax_key


class PayerEvidence(IntEnum):
    """How the payer was recognised; the order is the strength of the evidence."""

    NONE = 0
    NAME_PARTIAL = 1  # every word of the partner's name appears, among many others, or a shared name
    NAME = 2  # the name matches (accents, legal form, word order aside)
    TAX_ID = 3  # the payer quoted its tax id (Polish split payment)
    IBAN = 4  # the account is on the partner's invoices or was confirmed before


@dataclass(frozen=True, slots=True)
class Payer:
    """The partners a transaction's payer may be, and how we know."""

    partners: frozenset[int]
    evidence: PayerEvidence
    learned: bool = False

    @property
    def unique(self) -> int | None:
        """Return the one partner when the payer is recognised unambiguously, else None."""
        if len(self.partners) == 1 and self.evidence >= PayerEvidence.NAME:
            return next(iter(self.partners))
        return None


UNKNOWN = Payer(frozenset(), PayerEvidence.NONE)


@dataclass(frozen=True, slots=True)
class KnownAccount:
    """An account that a confirmed pairing taught us belongs to a partner."""

    iban: str
    partner_name: str
    partner_tax_id: str = ""


class PartnerDirectory:
    """The partners behind a set of invoices, and lookups from what a bank says about a payer.

    Partners are numbered 0…n-1. Invoices with the same tax id are one partner;
    an invoice without a tax id joins the one partner with the same name when
    there is exactly one such, else partners are told apart by name.
    """

    def __init__(self, invoices: Sequence[Invoice], known_accounts: Iterable[KnownAccount] = ()) -> None:
        self.names: list[str] = []
        self._tokens: list[frozenset[str]] = []
        self._by_tax: dict[str, int] = {}
        self._by_name: dict[frozenset[str], set[int]] = {}
        self._by_account: dict[str, set[int]] = {}
        self._by_word: dict[str, list[int]] = {}
        self._learned: set[str] = set()  # account keys known from pairings rather than from invoices
        # Partners with a tax id first, so that a name-only invoice finds its company whatever the order.
        self.of_invoice: list[int] = [-1] * len(invoices)
        for with_tax in (True, False):
            for i, inv in enumerate(invoices):
                if bool(tax_key(inv.partner_tax_id)) is with_tax:
                    self.of_invoice[i] = self._partner(inv.partner_name, inv.partner_tax_id)
        for inv, partner in zip(invoices, self.of_invoice, strict=True):
            self._link_account(inv.partner_iban, partner)
        for known in known_accounts:
            self.learn_account(known.iban, self._partner(known.partner_name, known.partner_tax_id))

    def _partner(self, name: str, tax_id: str) -> int:
        tax = tax_key(tax_id)
        if tax and tax in self._by_tax:
            return self._by_tax[tax]
        tokens = name_tokens(name)
        same_name = self._by_name.get(tokens, set()) if tokens else set()
        if not tax and len(same_name) == 1:
            return next(iter(same_name))
        partner = len(self.names)
        self.names.append(name)
        self._tokens.append(tokens)
        if tax:
            self._by_tax[tax] = partner
        if tokens:
            self._by_name.setdefault(tokens, set()).add(partner)
            for word in tokens:
                self._by_word.setdefault(word, []).append(partner)
        return partner

    def _link_account(self, iban: str, partner: int) -> None:
        key = account_key(iban)
        if key:
            self._by_account.setdefault(key, set()).add(partner)

    def learn_account(self, iban: str, partner: int) -> None:
        """Remember that ``iban`` paid for ``partner`` (a pairing made with strong evidence)."""
        key = account_key(iban)
        if key and partner not in self._by_account.get(key, ()):
            self._learned.add(key)
        self._link_account(iban, partner)

    def related(self, a: int, b: int) -> bool:
        """Return True for the same partner, or two whose names contain each other.

        ``Karol Nowicki`` paying for ``Karol Nowicki Transport Krajowy`` is one person and his business.
        """
        if a == b:
            return True
        ta, tb = self._tokens[a], self._tokens[b]
        return bool(ta and tb) and (ta <= tb or tb <= ta)

    def identify(self, iban: str, name: str, tax_id: str = "") -> Payer:
        """Return who the payer is, judged by account, then quoted tax id, then name."""
        key = account_key(iban)
        by_account = self._by_account.get(key) if key else None
        if by_account:
            return Payer(frozenset(by_account), PayerEvidence.IBAN, learned=key in self._learned)
        tax = tax_key(tax_id)
        if tax and tax in self._by_tax:
            return Payer(frozenset((self._by_tax[tax],)), PayerEvidence.TAX_ID)
        return self._identify_by_name(name)

    def _identify_by_name(self, name: str) -> Payer:
        words = name_tokens(name)
        if not words:
            return UNKNOWN
        exact = self._by_name.get(words)
        if exact:
            return Payer(frozenset(exact), PayerEvidence.NAME)
        # Every word of the partner's name is in the payer's (which may carry an address or a
        # truncated tail); a truncated last word counts when the partner's word starts with it.
        candidates: set[int] = set()
        for word in words:
            partners = self._by_word.get(word)
            if partners and len(partners) < 2000:
                candidates.update(partners)
        covered = [p for p in candidates if self._covers(words, self._tokens[p])]
        if not covered:
            return UNKNOWN
        longest = max(len(self._tokens[p]) for p in covered)
        best = frozenset(p for p in covered if len(self._tokens[p]) == longest)
        # A one-word partner name (a surname) inside a longer payer name is too weak to rely on.
        strong = longest >= 2 and len(best) == 1
        return Payer(best, PayerEvidence.NAME if strong else PayerEvidence.NAME_PARTIAL)

    @staticmethod
    def _covers(payer_words: frozenset[str], partner_words: frozenset[str]) -> bool:
        missing = partner_words - payer_words
        if not missing:
            return True
        if len(missing) > 1 or len(partner_words) < 2:
            return False
        # Banks cut long names short; the cut word is one of the payer's words that the partner's name lacks.
        (word,) = missing
        return any(len(w) >= 5 and word.startswith(w) for w in payer_words - partner_words)
