"""The workbench (transactions waiting for a person, their candidates, pair / unpair / ignore) and invoice search.

Bank transactions are for the bank-data roles only; every member may search invoices, but the payments behind
an invoice are shown to bank-data roles alone.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from urllib.parse import urlencode

from aiohttp import web

from reconbot.admin.rendering import feeds, form_error, redirect_with, render, viewer
from reconbot.admin.security import requires
from reconbot.core.domain import TransactionStatus
from reconbot.core.errors import InputError, ReconciliationError
from reconbot.core.money import format_amount, parse_dot_amount, parse_local_amount
from reconbot.core.roles import BANK_DATA_ROLES, PAIRING_ROLES, may_pair
from reconbot.core.services.reconciliation import pairing, workbench
from reconbot.core.services.reconciliation.workbench import NEEDS_PERSON, TransactionFilter

# The status tabs: their key in the address, label, and the statuses they show.
TABS: dict[str, tuple[str, tuple[TransactionStatus, ...]]] = {
    "open": ("Needs a person", NEEDS_PERSON),
    "suggested": ("Suggested", (TransactionStatus.SUGGESTED,)),
    "unmatched": ("Unmatched", (TransactionStatus.UNMATCHED,)),
    "matched": ("Matched", (TransactionStatus.MATCHED,)),
    "ignored": ("Set aside", (TransactionStatus.IGNORED,)),
    "all": ("All", tuple(TransactionStatus)),
}


def register(app: web.Application) -> None:
    app.router.add_get("/workbench", transactions)
    app.router.add_get(r"/workbench/{id:\d{1,18}}", transaction)
    app.router.add_post(r"/workbench/{id:\d{1,18}}/pair", pair_candidate)
    app.router.add_post(r"/workbench/{id:\d{1,18}}/pair-number", pair_number)
    app.router.add_post(r"/workbench/{id:\d{1,18}}/unpair", unpair)
    app.router.add_post(r"/workbench/{id:\d{1,18}}/ignore", ignore)
    app.router.add_post(r"/workbench/{id:\d{1,18}}/unignore", unignore)


def _day(text: str, label: str) -> date | None:
    if not text.strip():
        return None
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise InputError(label, "", f"{text.strip()[:20]!r} is not a date like 2026-03-02") from None


def _id(text: str, label: str) -> int | None:
    if not text.strip():
        return None
    if not text.strip().isdigit() or len(text.strip()) > 18:
        raise InputError(label, "", "choose one from the list")
    return int(text.strip())


@requires(BANK_DATA_ROLES)
async def transactions(request: web.Request) -> web.Response:
    """The list of transactions: status tabs with counts, filters, one page and the link to the next."""
    who, engine, q = viewer(request), feeds(request).engine, request.query
    tab = q.get("status", "open")
    if tab not in TABS:
        return form_error(request, "Choose one of the status tabs.")
    try:
        where = TransactionFilter(TABS[tab][1], _id(q.get("account", ""), "account"), _day(q.get("from", ""), "from"),
                                  _day(q.get("to", ""), "to"), q.get("q", "")[:200])  # fmt: skip
        page = workbench.transactions_page(engine, who.workspace_id, where, after=q.get("after", ""))
    except InputError as exc:
        return form_error(request, str(exc))
    # Counting a text search means reading every transaction; the tabs then go without numbers.
    shown: dict[str, str | None] = dict.fromkeys(TABS)
    if not where.text.strip():
        counts = workbench.status_counts(engine, who.workspace_id, where)
        for key, (_, statuses) in TABS.items():
            parts = [counts[s.value] for s in statuses]
            total = sum(min(n, workbench.COUNT_CAP) for n in parts)
            shown[key] = f"{total:,}+" if max(parts) > workbench.COUNT_CAP else f"{total:,}"
    values = {key: q.get(key, "") for key in ("account", "from", "to", "q")}
    kept = {k: v for k, v in values.items() if v}
    tabs = [(key, label, shown[key], "?" + urlencode({"status": key, **kept})) for key, (label, _) in TABS.items()]
    next_link = "?" + urlencode({"status": tab, **kept, "after": page.next_cursor}) if page.next_cursor else None
    first_link = "?" + urlencode({"status": tab, **kept}) if q.get("after") else None
    return render(request, "workbench.html", page=page, tab=tab, tabs=tabs, filters=values, next_link=next_link,
                  first_link=first_link, accounts=workbench.accounts(engine, who.workspace_id))  # fmt: skip


def _show(request: web.Request, *, error: str = "", status: int = 200) -> web.Response:
    who = viewer(request)
    detail = workbench.transaction_detail(feeds(request).engine, who.workspace_id, int(request.match_info["id"]))
    if detail is None:
        return form_error(request, "There is no such transaction in this workspace.", status=404, title="Not found")
    return render(request, "workbench_detail.html", status=status, detail=detail, error=error,
                  may_pair=may_pair(who.role), expected=format_amount(detail.transaction.allocated))  # fmt: skip


@requires(BANK_DATA_ROLES)
async def transaction(request: web.Request) -> web.Response:
    """One transaction: its allocations, the engine's candidates with their reasons, and what can be done."""
    return _show(request)


def _expected(text: str) -> Decimal:
    """Return how much of the transaction was allocated when the form was shown (guards double posts)."""
    try:
        return parse_dot_amount(text)
    except ValueError:
        raise ReconciliationError("this form is out of date; look at the transaction again") from None


async def _act(request: web.Request, action: str) -> web.Response:
    """Do what a detail page's form asks and go back to the page with what was done, or show why not (400)."""
    who, engine = viewer(request), feeds(request).engine
    tx_id, form, actor = int(request.match_info["id"]), await request.post(), who.actor
    seen = str(form.get("expected", ""))
    try:
        if action == "pair":
            suggestion = _id(str(form.get("suggestion", "")), "suggestion")
            booked = workbench.pair_candidate(engine, who.workspace_id, transaction_id=tx_id,
                                              suggestion_id=suggestion or 0, expected_allocated=_expected(seen),
                                              actor=actor)  # fmt: skip
            done = "Paired with " + ", ".join(b.invoice_number for b in booked)
        elif action == "pair-number":
            raw = str(form.get("amount", "")).strip()
            amount = parse_local_amount(raw) if raw else None
            booked = workbench.pair_by_number(engine, who.workspace_id, transaction_id=tx_id,
                                              number=str(form.get("number", ""))[:100], amount=amount,
                                              expected_allocated=_expected(seen), actor=actor)  # fmt: skip
            done = "Paired with " + ", ".join(b.invoice_number for b in booked)
        elif action == "unpair":
            undone = pairing.unpair(engine, who.workspace_id, allocation_id=_id(str(form.get("allocation", "")),
                                    "allocation") or 0, actor=actor)  # fmt: skip
            done = f"Pairing with {undone.invoice_number} undone"
        elif action == "ignore":
            pairing.ignore(engine, who.workspace_id, transaction_id=tx_id, actor=actor)
            done = "Set aside: it needs no invoice"
        else:
            pairing.unignore(engine, who.workspace_id, transaction_id=tx_id, actor=actor)
            done = "Brought back to matching"
    except (ReconciliationError, InputError, ValueError) as exc:
        message = str(exc) if not isinstance(exc, InputError) else exc.reason
        if isinstance(exc, ValueError):
            message = "the amount is not a number like 12 500 or 12500.50"
        return _show(request, error=message[:1].upper() + message[1:] + ".", status=400)
    raise redirect_with(request, f"/workbench/{tx_id}", done + ".")


@requires(PAIRING_ROLES)
async def pair_candidate(request: web.Request) -> web.Response:
    return await _act(request, "pair")


@requires(PAIRING_ROLES)
async def pair_number(request: web.Request) -> web.Response:
    return await _act(request, "pair-number")


@requires(PAIRING_ROLES)
async def unpair(request: web.Request) -> web.Response:
    return await _act(request, "unpair")


@requires(PAIRING_ROLES)
async def ignore(request: web.Request) -> web.Response:
    return await _act(request, "ignore")


@requires(PAIRING_ROLES)
async def unignore(request: web.Request) -> web.Response:
    return await _act(request, "unignore")
