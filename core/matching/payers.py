"""Who paid: partner identity from IBANs, tax ids and names as banks print them."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import IntEnum
from itertools import combinations

from reconbot.core.domain import Invoice
from reconbot.core.parties import account_key, cut_word, name_tokens, tax_key

_MAX_NAME_WORDS = 7  # a bank's name field with an address rarely has more; bounds the subsets tried


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
class KnownPayer:
    """What a confirmed pairing taught us: this account, or this name as banks print it, pays for a partner."""

    partner_name: str
    partner_tax_id: str = ""
    iban: str = ""
    name: str = ""


class PartnerDirectory:
    """The partners behind a set of invoices, and lookups from what a bank says about a payer.

    Partners are numbered 0…n-1. Invoices with the same tax id are one partner;
    an invoice without a tax id joins the one partner with the same name when
    there is exactly one such, else partners are told apart by name.
    """

    def __init__(self, invoices: Sequence[Invoice], known_payers: Iterable[KnownPayer] = ()) -> None:
        self.names: list[str] = []
        self._tokens: list[frozenset[str]] = []
        self._by_tax: dict[str, int] = {}
        self._by_name: dict[frozenset[str], set[int]] = {}
        self._by_account: dict[str, set[int]] = {}
        self._learned: set[str] = set()  # account keys known from pairings rather than from invoices
        self._by_words: dict[tuple[frozenset[str], str], Payer] = {}
        self._untaxed: dict[frozenset[str], int] = {}  # the partner of a name's invoices without tax id
        # Partners whose tax id is on invoices of unrelated names: a renamed company, a Hungarian VAT
        # group's number, or a tax id typed on the wrong customer. Their open invoices need a person.
        self.several_names: set[int] = set()
        # Partners with a tax id first, so that a name-only invoice finds its company whatever the order.
        self.of_invoice: list[int] = [-1] * len(invoices)
        for with_tax in (True, False):
            for i, inv in enumerate(invoices):
                if bool(tax_key(inv.partner_tax_id)) is with_tax:
                    self.of_invoice[i] = self._partner(inv.partner_name, inv.partner_tax_id)
        for inv, partner in zip(invoices, self.of_invoice, strict=True):
            self._link_account(inv.partner_iban, partner)
        for known in known_payers:
            partner = self._partner(known.partner_name, known.partner_tax_id)
            self.learn_account(known.iban, partner)
            if words := name_tokens(known.name):
                self._by_name.setdefault(words, set()).add(partner)
        self._by_cut = self._index_cut_names()

    def _partner(self, name: str, tax_id: str) -> int:
        tax = tax_key(tax_id)
        tokens = name_tokens(name)
        if tax and tax in self._by_tax:
            partner = self._by_tax[tax]
            known = self._tokens[partner]
            if tokens and known and not (tokens <= known or known <= tokens):
                self.several_names.add(partner)
            return partner
        if not tax:
            same_name = self._by_name.get(tokens, set()) if tokens else set()
            if len(same_name) == 1:
                return next(iter(same_name))
            # Several companies share this name: the invoices without a tax id are one more partner,
            # the same one for all of them, not a new one each.
            if tokens in self._untaxed:
                return self._untaxed[tokens]
        partner = len(self.names)
        self.names.append(name)
        self._tokens.append(tokens)
        if tax:
            self._by_tax[tax] = partner
        elif tokens:
            self._untaxed[tokens] = partner
        if tokens:
            self._by_name.setdefault(tokens, set()).add(partner)
        return partner

    def _index_cut_names(self) -> dict[tuple[frozenset[str], str], list[int]]:
        """Return partners under each of their names with one word cut to its first five letters."""
        by_cut: dict[tuple[frozenset[str], str], list[int]] = {}
        for partner, words in enumerate(self._tokens):
            if len(words) >= 2:
                for word in words:
                    if len(word) >= 5:
                        by_cut.setdefault((words - {word}, word[:5]), []).append(partner)
        return by_cut

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
        key = (words, cut_word(name))
        known = self._by_words.get(key)
        if known is None:
            # Names are fixed for the run (only accounts are learned), so each is looked up once.
            known = self._by_words[key] = self._lookup_name(*key)
        return known

    def _lookup_name(self, words: frozenset[str], cut: str) -> Payer:
        exact = self._by_name.get(words)
        if exact:
            return Payer(frozenset(exact), PayerEvidence.NAME)
        # The payer's words may be the partner's with the last one cut short (banks cut long names),
        # which is the partner's name; or the partner's name may be among more words, which only
        # suggests it ("ZOLD KERT EPITO BT" is not "Kert Építő Kft."). Names have a handful of words,
        # so trying every subset of the payer's words costs a few look-ups.
        whole: set[int] = set()
        within: set[int] = set()
        ordered = sorted(words)[:_MAX_NAME_WORDS]
        for size in range(1, len(ordered) + 1):
            for subset in combinations(ordered, size):
                rest = frozenset(subset)
                if size < len(words):
                    within.update(self._by_name.get(rest, ()))
                if len(cut) >= 5 and cut not in rest:
                    for p in self._by_cut.get((rest, cut[:5]), ()):
                        if next(iter(self._tokens[p] - rest)).startswith(cut):
                            (whole if size + 1 == len(words) else within).add(p)
        if whole:
            return Payer(frozenset(whole), PayerEvidence.NAME if len(whole) == 1 else PayerEvidence.NAME_PARTIAL)
        if not within:
            return UNKNOWN
        longest = max(len(self._tokens[p]) for p in within)
        return Payer(frozenset(p for p in within if len(self._tokens[p]) == longest), PayerEvidence.NAME_PARTIAL)
