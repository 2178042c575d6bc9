"""Why: the evidence and rules behind each decision.

A reason is a stable code with its values; the English sentence is made from
them on demand, and a chat or web layer can word the same code in the
workspace's language.
"""

from __future__ import annotations

from decimal import Decimal
from typing import NamedTuple

from reconbot.core.money import format_amount

_TEMPLATES = {
    "reference": "{where} quotes {what} {number} (as {written})",
    "reference_partial": "{where} quotes part of {what} {number} (as {written})",
    "reference_ambiguous": "{written} fits {count} open invoices",
    "reference_ignored": "quotes {number}, but {why}",
    "reference_conflict": "the text names {referenced}, but payer and amount fit {other}",
    "reference_weak": "the number is only partly quoted and the amount does not settle it",
    "amount_exact": "the amount {amount} {currency} equals the open amount",
    "amount_sum": "the amount {amount} {currency} equals the open amounts of {count} invoices together",
    "amount_unique": "no other combination of the payer's open invoices gives this amount",
    "amount_ambiguous": "{count} or more sets of open invoices give this amount",
    "partial_payment": "pays {paid} {currency} of {open} {currency} open",
    "possible_bank_fee": "{shortfall} {currency} short, about what a transfer fee takes",
    "overpayment": "{surplus} {currency} more than is open; the surplus stays unallocated",
    "payer_iban": "the payer's account belongs to {partner}",
    "payer_iban_learned": "the payer's account belongs to {partner} (learned from an earlier pairing)",
    "payer_tax_id": "the payer quoted the tax id of {partner}",
    "payer_name": "the payer's name matches {partner}",
    "payer_name_partial": "the payer's name resembles {partner}",
    "payer_mismatch": "the payer is known as someone other than {partner}",
    "payer_several_names": "the tax id of {partner} is on invoices of other names too",
    "payer_unknown": "the payer is not known, so the amount alone decides nothing",
    "already_paid": "quotes {number}, which is already paid: possibly paid twice",
    "cancelled_invoice": "quotes {number}, which is cancelled",
    "automatic_off": "automatic pairing is switched off",
    "nothing_to_allocate": "the transaction has no unallocated money",
}
_WHERE = {
    "reference": "the remittance text",
    "end_to_end_id": "the end-to-end id",
    "structured_reference": "the structured reference",
}


class Reason(NamedTuple):
    """One piece of evidence or one rule applied: a stable ``code`` and the values it speaks of."""

    code: str
    args: tuple[tuple[str, str], ...] = ()

    @property
    def text(self) -> str:
        """Return the reason as an English sentence."""
        values = dict(self.args)
        values["where"] = _WHERE.get(values.get("field", ""), "the text")
        values["what"] = "order number" if values.get("kind") == "order" else "invoice number"
        return _TEMPLATES[self.code].format(**values)


def _reason(code: str, **args: str) -> Reason:
    return Reason(code, tuple(args.items()))


def reference(number: str, written: str, field: str, full: bool, kind: str) -> Reason:
    code = "reference" if full else "reference_partial"
    return _reason(code, number=number, written=written, field=field, kind=kind)


def reference_ambiguous(written: str, count: int) -> Reason:
    return _reason("reference_ambiguous", written=written, count=str(count))


def amount_exact(amount: Decimal, currency: str, count: int = 1) -> Reason:
    code = "amount_exact" if count == 1 else "amount_sum"
    return _reason(code, amount=format_amount(amount), currency=currency, count=str(count))


def partial(paid: Decimal, open_amount: Decimal, currency: str) -> Reason:
    return _reason("partial_payment", paid=format_amount(paid), open=format_amount(open_amount), currency=currency)


def bank_fee(shortfall: Decimal, currency: str) -> Reason:
    return _reason("possible_bank_fee", shortfall=format_amount(shortfall), currency=currency)


def overpaid(surplus: Decimal, currency: str) -> Reason:
    return _reason("overpayment", surplus=format_amount(surplus), currency=currency)


def payer(evidence: str, partner: str, learned: bool = False) -> Reason:
    """Return the reason for a payer recognised by ``evidence`` (``iban``, ``tax_id``, ``name``, ``name_partial``)."""
    code = f"payer_{evidence}" + ("_learned" if learned and evidence == "iban" else "")
    return _reason(code, partner=partner)


def payer_mismatch(partner: str) -> Reason:
    return _reason("payer_mismatch", partner=partner)


def several_names(partner: str) -> Reason:
    return _reason("payer_several_names", partner=partner)


ONLY_COMBINATION = Reason("amount_unique")
UNKNOWN_PAYER = Reason("payer_unknown")
WEAK_REFERENCE = Reason("reference_weak")
AUTOMATIC_OFF = Reason("automatic_off")
NOTHING_TO_ALLOCATE = Reason("nothing_to_allocate")


def several_combinations(count: int) -> Reason:
    return _reason("amount_ambiguous", count=str(count))


def already_paid(number: str) -> Reason:
    return _reason("already_paid", number=number)


def cancelled(number: str) -> Reason:
    return _reason("cancelled_invoice", number=number)


def wrong_side(number: str, why: str) -> Reason:
    return _reason("reference_ignored", number=number, why=why)


def conflict(referenced: str, other: str) -> Reason:
    return _reason("reference_conflict", referenced=referenced, other=other)
