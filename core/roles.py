"""Workspace members' roles and what each may see and do.

The rule comes from the Számlázz.hu autokassza documents reconbot grew from: bank
transactions and balances are for the account owner, administrators and accountants
(including those who may invoice) only; invoicing-only users and operators never see them.
"""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    OWNER = "owner"
    ADMIN = "admin"
    ACCOUNTANT = "accountant"
    ACCOUNTANT_INVOICING = "accountant_invoicing"  # an accountant who may issue invoices
    INVOICING = "invoicing"
    OPERATOR = "operator"


BANK_DATA_ROLES = frozenset({Role.OWNER, Role.ADMIN, Role.ACCOUNTANT, Role.ACCOUNTANT_INVOICING})
# Pairing books bank money to invoices, so it needs sight of the bank data.
PAIRING_ROLES = BANK_DATA_ROLES
INVOICING_ROLES = frozenset({Role.OWNER, Role.ADMIN, Role.ACCOUNTANT_INVOICING, Role.INVOICING})
# Who may point notifications at a channel or link other people's chat accounts.
SETUP_ROLES = frozenset({Role.OWNER, Role.ADMIN})


def sees_bank_data(role: Role) -> bool:
    """Return True when ``role`` may see bank transactions and balances."""
    return role in BANK_DATA_ROLES


def may_pair(role: Role) -> bool:
    """Return True when ``role`` may pair, unpair or ignore bank transactions."""
    return role in PAIRING_ROLES


def may_invoice(role: Role) -> bool:
    """Return True when ``role`` may issue invoices (final invoices of proformas, invoices of sales)."""
    return role in INVOICING_ROLES
