"""Plain records shared by the generator modules: money helpers, partners, invoices, transactions."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

ZERO = Decimal(0)
ONE = Decimal(1)
CENT = Decimal("0.01")

# Categories of a labelled transaction.
UNAMBIGUOUS = "unambiguous"
AMBIGUOUS = "ambiguous"
NOISE = "noise"

# The flags the contract guarantees; the scorer compares only these.
PARTIAL = "partial_payment"
OVERPAID = "overpayment"
ALREADY_PAID = "already_paid"
CORE_FLAGS = frozenset({PARTIAL, OVERPAID, ALREADY_PAID})


def quantum(currency: str) -> Decimal:
    """Return the smallest amount written for ``currency``: 1 for HUF, 0.01 otherwise."""
    return ONE if currency == "HUF" else CENT


def money(amount: Decimal, currency: str) -> Decimal:
    """Return ``amount`` rounded half-up to the currency's quantum."""
    return amount.quantize(quantum(currency), rounding=ROUND_HALF_UP)


def fmt(amount: Decimal, currency: str) -> str:
    """Return the CSV text of an amount: ``127000`` for HUF, ``1250.00`` for PLN and EUR."""
    return format(money(amount, currency), "f")


@dataclass(slots=True)
class Partner:
    """A customer or supplier of the workspace, as the invoices name it."""

    id: int
    country: str  # "HU" or "PL"
    kind: str  # "company", "person" or "sole" (sole trader named after a person)
    role: str  # "customer" or "supplier"
    name: str  # exactly as printed on invoices
    core: str  # the name without its legal form (persons: the full name)
    legal: str  # legal form id from bench.names.LEGAL_FORMS, "" for persons
    given: str = ""
    family: str = ""
    tax_id: str = ""
    iban: str = ""  # main account, the one printed on invoices when the policy allows
    iban2: str = ""  # a second account, never printed on any invoice
    iban_policy: str = "none"  # "all", "some" or "none": how often invoices carry ``iban``
    cluster: int = -1  # partners whose names fold to the same key share a cluster
    name_clean: bool = False  # the name alone identifies this partner beyond doubt
    eur_share: float = 0.0
    subscription: Decimal | None = None  # a monthly fee repeated on many invoices
    code: str = ""  # suppliers: the letters in their own numbering
    style: int = 0  # suppliers: index of their numbering style
    seq: int = 0  # suppliers: their running number


@dataclass(slots=True)
class Inv:
    """An invoice plus the generator's ledger view of it.

    ``paid0``/``status0`` are what invoices.csv says; ``open`` is the amount a
    correct engine still considers open at the current point of the statement
    (it changes only with automatic allocations). ``flow`` is +1 when settling
    it brings money in and -1 when it sends money out.
    """

    idx: int
    number: str
    direction: str
    kind: str
    partner: int
    cluster: int
    gross: Decimal
    currency: str
    paid0: Decimal
    status0: str
    iban_on: bool
    order: str
    issue: date
    due: date
    flow: int
    open: Decimal
    retired: bool = False  # used by an ambiguous or noise scenario; never picked again


@dataclass(slots=True)
class Txn:
    """One generated bank transaction with its label."""

    amount: Decimal  # signed: positive is incoming
    currency: str
    name: str
    iban: str
    reference: str
    e2e: str
    category: str
    scenario: str
    expected: list[tuple[str, Decimal]] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)
    expected_any: list[list[tuple[str, Decimal]]] | None = None
    variant: str = ""
    depends_on: str = ""  # id of an earlier transaction this label relies on
    value_lag: int = 0  # value date = booking date minus this many days
