"""Ambiguous scenarios: a right answer exists, but only as a suggestion, never automatically.

The ledger is left as it is (suggestions are not booked); the invoices
involved are retired so that no later scenario builds on them.
"""

from __future__ import annotations

from decimal import Decimal

from bench import numbering, texts
from bench.context import Ctx
from bench.ledger import count_subsets
from bench.model import AMBIGUOUS, Inv, Txn, money
from bench.scen_paid import part_amount


def _retire(invs: list[Inv]) -> None:
    for inv in invs:
        inv.retired = True


def _known(ctx: Ctx, pool: str = "") -> tuple[Inv, list[Inv], bool] | None:
    """Return an invoice whose payer an engine surely knows, its payer group, and whether by name.

    Known means an IBAN shown on the partner's invoices, or a name that alone
    identifies the partner (then the transfer comes from an unseen account).
    Without ``pool`` both kinds are drawn; with it, the kind follows the payer.
    """
    if pool and ctx.rng.random() < 0.7:
        inv = ctx.ledger.pick(ctx.rng, pool, ctx.day)
        clean = inv is not None and (
            inv.partner not in ctx.iban_seen or (ctx.partners[inv.partner].name_clean and ctx.rng.random() < 0.35)
        )
    else:  # the pool was built before the statement; groups shrink, so look elsewhere too
        clean = ctx.rng.random() < 0.35
        inv = ctx.ledger.pick(ctx.rng, "name_clean" if clean else "iban_known", ctx.day)
    if inv is None:
        return None
    group = ctx.ledger.small_group(inv)
    return None if group is None else (inv, group, clean)


def _siblings(ctx: Ctx, inv: Inv, group: list[Inv]) -> list[Inv]:
    return [i for i in group if i.partner == inv.partner and i.idx != inv.idx and not i.retired and i.issue <= ctx.day]


def _no_ref(
    ctx: Ctx,
    inv: Inv,
    invs: list[Inv],
    clean: bool,
    scenario: str,
    amount: Decimal,
    expected: list[tuple[str, Decimal]],
    **extra: list[list[tuple[str, Decimal]]],
) -> Txn:
    p = ctx.partner(inv)
    ref = ctx.no_ref_text(ctx.lang(inv), ctx.short_name(p))
    _retire(invs)
    return ctx.txn(
        inv, amount, ctx.payer(p, clean), ref, AMBIGUOUS, scenario, expected, expected_any=extra.get("expected_any")
    )


def amb_combination(ctx: Ctx) -> Txn | None:
    """Return a transfer without reference paying the only combination of a known payer's open invoices."""
    got = _known(ctx)
    if got is None:
        return None
    inv, group, clean = got
    others = _siblings(ctx, inv, group)
    if not others:
        return None
    chosen = sorted([inv, *ctx.rng.sample(others, min(len(others), ctx.rng.choice((1, 1, 2))))], key=lambda i: i.idx)
    amount = sum((i.open for i in chosen), Decimal(0))
    if count_subsets((i.open for i in group), amount, cap=2) != 1:
        return None
    return _no_ref(ctx, inv, chosen, clean, "amb_combination", amount, [(i.number, i.open) for i in chosen])


def amb_same_amount(ctx: Ctx) -> Txn | None:
    """Return a transfer without reference from a known payer with two open invoices of that amount.

    Either invoice is a right answer (``expected_any``).
    """
    got = _known(ctx, "twins")
    if got is None:
        return None
    inv, group, clean = got
    twins = [b for b in _siblings(ctx, inv, group) if b.open == inv.open]
    if not twins or count_subsets((i.open for i in group), inv.open, cap=3) != 2:
        return None
    twin = ctx.rng.choice(twins)
    options = [[(inv.number, inv.open)], [(twin.number, twin.open)]]
    return _no_ref(ctx, inv, [inv, twin], clean, "amb_same_amount", inv.open, options[0], expected_any=options)


def amb_unknown_payer(ctx: Ctx) -> Txn | None:
    """Return a transfer without reference from an unknown payer, of an amount exactly one open invoice has."""
    count = ctx.ledger.count_amount
    inv = ctx.ledger.pick(ctx.rng, "iss", ctx.day, pred=lambda i: count(i.currency, i.flow, i.open) == 1)
    if inv is None:
        return None
    who = ctx.unknown(ctx.lang(inv))
    ref = ctx.no_ref_text(ctx.lang(inv), "")
    _retire([inv])
    return ctx.txn(inv, inv.open, who, ref, AMBIGUOUS, "amb_unknown_payer", [(inv.number, inv.open)])


def amb_partial_no_ref(ctx: Ctx) -> Txn | None:
    """Return a transfer without reference paying part of a known payer's only open invoice."""
    got = _known(ctx, "single_open")
    if got is None:
        return None
    inv, group, clean = got
    amount = part_amount(ctx, inv)
    if len(group) != 1 or not Decimal(0) < amount < inv.open:
        return None
    return _no_ref(ctx, inv, [inv], clean, "amb_partial_no_ref", amount, [(inv.number, amount)])


def amb_ref_typo(ctx: Ctx) -> Txn | None:
    """Return a transfer quoting a mistyped number that names another invoice, IBAN and amount fitting the own.

    The payer (by IBAN on its invoices) has exactly one open invoice of that
    amount and no combination adding up to it; the quoted invoice belongs to
    another partner and does not have that amount open. Truth: the own invoice.
    """
    inv = ctx.ledger.pick(ctx.rng, "iban_known", ctx.day)
    if inv is None:
        return None
    group = ctx.ledger.small_group(inv)
    if group is None or not ctx.ledger.fits_exactly(group, inv.open, allowed=1):
        return None
    candidates = numbering.typos(inv.number)
    ctx.rng.shuffle(candidates)
    other = None
    for number in candidates:
        for k in ctx.by_number.get(number, ()):
            b = ctx.inv[k]
            if (
                b.cluster != inv.cluster
                and b.flow == inv.flow
                and b.open != inv.open
                and not b.retired
                and b.cluster not in ctx.ledger.locked
            ):
                other = b
                break
        if other is not None:
            break
    if other is None:
        return None
    p = ctx.partner(inv)
    built = ctx.ref_text([other], texts.SINGLE, who=ctx.short_name(p), lang=ctx.lang(inv))
    if built is None:
        return None
    _retire([inv, other])
    return ctx.txn(
        inv, inv.open, ctx.payer(p), built[:2], AMBIGUOUS, "amb_ref_typo", [(inv.number, inv.open)], variant=built[2]
    )


def amb_multi_mismatch(ctx: Ctx) -> Txn | None:
    """Return a transfer quoting several invoices of a known payer but paying less than their sum.

    Truth: the quoted set. The label carries their open amounts; only the set is scored,
    because no split of the money is right.
    """
    got = _known(ctx)
    if got is None:
        return None
    inv, group, clean = got
    others = _siblings(ctx, inv, group)
    if not others:
        return None
    chosen = sorted([inv, *ctx.rng.sample(others, min(len(others), ctx.rng.choice((1, 1, 2))))], key=lambda i: i.idx)
    total = sum((i.open for i in chosen), Decimal(0))
    amount = money(total * Decimal(ctx.rng.choice(("0.4", "0.5", "0.6", "0.75", "0.9"))), inv.currency)
    if not Decimal(0) < amount < total or count_subsets((i.open for i in group), amount, cap=1) != 0:
        return None
    p = ctx.partner(inv)
    built = ctx.ref_text(chosen, texts.SINGLE, who=ctx.short_name(p))
    if built is None:
        return None
    expected = [(i.number, i.open) for i in chosen]  # the set is the truth; how to split the money is not
    _retire(chosen)
    return ctx.txn(
        inv, amount, ctx.payer(p, clean), built[:2], AMBIGUOUS, "amb_multi_mismatch", expected, variant=built[2]
    )
