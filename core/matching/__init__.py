"""The matching engine: pure functions over plain data, no I/O.

``reconcile(transactions, invoices)`` returns one explained decision per transaction.
"""

from reconbot.core.matching.engine import MatchingEngine, MatchPolicy, reconcile
from reconbot.core.matching.model import AllocationDraft, Candidate, Flag, MatchResult, MatchStatus
from reconbot.core.matching.payers import KnownPayer
from reconbot.core.matching.reasons import Reason

__all__ = [
    "AllocationDraft",
    "Candidate",
    "Flag",
    "KnownPayer",
    "MatchPolicy",
    "MatchResult",
    "MatchStatus",
    "MatchingEngine",
    "Reason",
    "reconcile",
]
