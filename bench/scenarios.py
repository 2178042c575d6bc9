"""The scenario catalogue with default proportions.

A weight is the share of *fresh* statement slots that start the scenario
(percent, normalised). Some scenarios add later transactions of their own
(``instalment``, ``iban_learned``, ``duplicate_in_statement``), so realised
shares differ slightly; ``manifest.json`` records the realised counts.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bench import scen_ambiguous as amb
from bench import scen_noise as noise
from bench import scen_paid as paid
from bench.context import Ctx
from bench.model import AMBIGUOUS, NOISE, UNAMBIGUOUS, Txn


@dataclass(frozen=True, slots=True)
class Scenario:
    """A way a transaction happens, with the category its (first) transaction is labelled with."""

    name: str
    category: str
    weight: float
    build: Callable[[Ctx], Txn | None]


SCENARIOS: tuple[Scenario, ...] = (
    Scenario("ref_exact", UNAMBIGUOUS, 24, paid.ref_exact),
    Scenario("ref_split_line", UNAMBIGUOUS, 3, paid.ref_split_line),
    Scenario("ref_e2e_only", UNAMBIGUOUS, 3, paid.ref_e2e_only),
    Scenario("ref_split_payment", UNAMBIGUOUS, 2, paid.ref_split_payment),
    Scenario("order_number", UNAMBIGUOUS, 4, paid.order_number),
    Scenario("multi_exact", UNAMBIGUOUS, 3, paid.multi_exact),
    Scenario("multi_overpaid", UNAMBIGUOUS, 1, paid.multi_overpaid),
    Scenario("ref_overpaid", UNAMBIGUOUS, 1.5, paid.ref_overpaid),
    Scenario("ref_partial", UNAMBIGUOUS, 2, paid.ref_partial),
    Scenario("ref_fee_deducted", UNAMBIGUOUS, 1.5, paid.ref_fee_deducted),
    Scenario("instalment", UNAMBIGUOUS, 2, paid.instalment),
    Scenario("payer_iban_amount", UNAMBIGUOUS, 4, paid.payer_iban_amount),
    Scenario("payer_name_amount", UNAMBIGUOUS, 3, paid.payer_name_amount),
    Scenario("iban_learned", UNAMBIGUOUS, 1.5, paid.iban_learned),
    Scenario("supplier_bill", UNAMBIGUOUS, 8, paid.supplier_bill),
    Scenario("credit_note_refund", UNAMBIGUOUS, 1.5, paid.credit_note_refund),
    Scenario("proforma_ref", UNAMBIGUOUS, 3, paid.proforma_ref),
    Scenario("amb_combination", AMBIGUOUS, 2, amb.amb_combination),
    Scenario("amb_same_amount", AMBIGUOUS, 2, amb.amb_same_amount),
    Scenario("amb_unknown_payer", AMBIGUOUS, 2, amb.amb_unknown_payer),
    Scenario("amb_partial_no_ref", AMBIGUOUS, 1.5, amb.amb_partial_no_ref),
    Scenario("amb_ref_typo", AMBIGUOUS, 1, amb.amb_ref_typo),
    Scenario("amb_multi_mismatch", AMBIGUOUS, 1.5, amb.amb_multi_mismatch),
    Scenario("card_payment", NOISE, 6, noise.card_payment),
    Scenario("tax", NOISE, 1.5, noise.tax),
    Scenario("salary", NOISE, 2, noise.salary),
    Scenario("bank_fee", NOISE, 1.5, noise.bank_fee),
    Scenario("interest", NOISE, 0.5, noise.interest),
    Scenario("own_transfer", NOISE, 1, noise.own_transfer),
    Scenario("already_paid", NOISE, 1.5, noise.already_paid),
    Scenario("duplicate_in_statement", NOISE, 1, noise.duplicate_in_statement),
    Scenario("cancelled_ref", NOISE, 1, noise.cancelled_ref),
    Scenario("unknown_amount_collision", NOISE, 1.5, noise.unknown_amount_collision),
    Scenario("numberlike_text", NOISE, 1.5, noise.numberlike_text),
)
BY_NAME = {s.name: s for s in SCENARIOS}
DEFAULT_WEIGHTS = {s.name: s.weight for s in SCENARIOS}


def parse_weights(text: str) -> dict[str, float]:
    """Return weights from ``"ref_exact=30,card_payment=0"``; unknown names raise ValueError."""
    out: dict[str, float] = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        name, _, value = item.partition("=")
        name = name.strip()
        if name not in BY_NAME:
            raise ValueError(f"unknown scenario {name!r}; known: {', '.join(BY_NAME)}")
        weight = float(value)
        if weight < 0:
            raise ValueError(f"weight of {name} must not be negative")
        out[name] = weight
    return out
