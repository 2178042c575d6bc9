"""Noise scenarios: transactions that must get no allocation at all."""

from __future__ import annotations

from decimal import Decimal

from bench import names, texts
from bench.context import Ctx, home_currency, ws_country
from bench.ledger import count_subsets
from bench.model import ALREADY_PAID, NOISE, Inv, Txn
from bench.scen_paid import ref_exact_with


def _amount(ctx: Ctx, currency: str, low: int, high: int) -> Decimal:
    """Return a random amount between ``low`` and ``high`` whole units (HUF whole, others with cents)."""
    if currency == "HUF":
        return Decimal(ctx.rng.randint(low, high))
    return Decimal(ctx.rng.randint(low * 100, high * 100)).scaleb(-2)


def _plain(
    ctx: Ctx, amount: Decimal, currency: str, who: tuple[str, str], text: str, scenario: str, e2e: str = ""
) -> Txn:
    lag = 1 if ctx.rng.random() < 0.1 else 0
    return Txn(amount, currency, who[0], who[1], text, e2e, NOISE, scenario, value_lag=lag)


def _home(ctx: Ctx) -> tuple[str, str]:
    lang = ws_country(ctx.ws, ctx.rng)
    return lang, home_currency(lang)


def card_payment(ctx: Ctx) -> Txn:
    """Return a card payment at a shop (outgoing, no IBAN)."""
    lang, cur = _home(ctx)
    for _ in range(10):
        merchant, text = texts.card(ctx.rng, lang)
        if ctx.is_clean(text) and not ctx.names.related(names.name_tokens(merchant)):
            break
    else:
        merchant, text = "", "Kártyás vásárlás" if lang == "HU" else "Płatność kartą"
    amount = _amount(ctx, cur, 300, 60000) if cur == "HUF" else _amount(ctx, cur, 3, 600)
    return _plain(ctx, -amount, cur, (merchant, ""), text, "card_payment")


def tax(ctx: Ctx) -> Txn | None:
    """Return a tax or social-security payment (NAV, Urząd Skarbowy, ZUS)."""
    lang, cur = _home(ctx)
    office, text = texts.tax(ctx.rng, lang, ctx.ws.nip)
    if not ctx.is_clean(text):
        return None
    amount = _amount(ctx, cur, 20000, 3000000) if cur == "HUF" else _amount(ctx, cur, 200, 30000)
    return _plain(ctx, -amount, cur, (office, ctx.tax_iban[lang]), text, "tax")


def salary(ctx: Ctx) -> Txn | None:
    """Return a salary transfer to an employee (no partner)."""
    lang, cur = _home(ctx)
    text = texts.salary(ctx.rng, lang)
    if not ctx.is_clean(text):
        return None
    amount = _amount(ctx, cur, 250000, 900000) if cur == "HUF" else _amount(ctx, cur, 4000, 15000)
    return _plain(ctx, -amount, cur, ctx.rng.choice(ctx.employees[lang]), text, "salary")


def bank_fee(ctx: Ctx) -> Txn:
    """Return a bank fee or the Hungarian transaction duty."""
    lang, cur = _home(ctx)
    amount = _amount(ctx, cur, 150, 15000) if cur == "HUF" else _amount(ctx, cur, 1, 60)
    who = (ctx.rng.choice(texts.BANKS[lang]) if ctx.rng.random() < 0.5 else "", "")
    return _plain(ctx, -amount, cur, who, ctx.rng.choice(texts.FEES[lang]), "bank_fee")


def interest(ctx: Ctx) -> Txn:
    """Return interest credited by the bank."""
    lang, cur = _home(ctx)
    amount = _amount(ctx, cur, 1, 20000) if cur == "HUF" else Decimal(ctx.rng.randint(1, 30000)).scaleb(-2)
    return _plain(
        ctx, amount, cur, (ctx.rng.choice(texts.BANKS[lang]), ""), ctx.rng.choice(texts.INTEREST[lang]), "interest"
    )


def own_transfer(ctx: Ctx) -> Txn:
    """Return a transfer between the workspace's own accounts (either direction)."""
    lang, _ = _home(ctx)
    cur = ctx.rng.choice(sorted(ctx.ws.ibans))
    other = ctx.rng.choice([v for k, v in sorted(ctx.ws.ibans.items()) if k != cur])
    amount = _amount(ctx, cur, 100000, 5000000) if cur == "HUF" else _amount(ctx, cur, 1000, 50000)
    name = names.strip_accents(ctx.ws.name).upper() if ctx.rng.random() < 0.6 else ctx.ws.name
    sign = 1 if ctx.rng.random() < 0.5 else -1
    return _plain(ctx, amount * sign, cur, (name, other), ctx.rng.choice(texts.OWN[lang]), "own_transfer")


def _quoting_settled(ctx: Ctx, pool: str, scenario: str, flags: list[str]) -> Txn | None:
    inv = ctx.ledger.pick(ctx.rng, pool, ctx.day, need_open=False)
    if inv is None:
        return None
    amount = abs(inv.gross)
    group = ctx.ledger.small_group(inv)
    # Otherwise the payer's other open invoices might fit the amount, and the truth would be one of them.
    if group is None or count_subsets((i.open for i in group), amount, cap=1) != 0:
        return None
    return _quoting(ctx, inv, amount, scenario, flags)


def already_paid(ctx: Ctx) -> Txn | None:
    """Return a transfer quoting an invoice paid before the statement (a possible double payment)."""
    return _quoting_settled(ctx, "paid", "already_paid", [ALREADY_PAID])


def cancelled_ref(ctx: Ctx) -> Txn | None:
    """Return a transfer quoting a cancelled invoice."""
    return _quoting_settled(ctx, "cancelled", "cancelled_ref", [])


def duplicate_in_statement(ctx: Ctx) -> Txn | None:
    """Return a referenced exact payment, and schedule the same payment again days later.

    The first is an unambiguous ``ref_exact``; the repeat must allocate nothing
    and be flagged ``already_paid``.
    """
    got = ref_exact_with(ctx, "iss_small", texts.SINGLE, plain=True)
    if got is None:
        return None
    txn, inv = got
    txn.variant = "seed:dup"
    amount = abs(txn.amount)
    group = ctx.ledger.small_group(inv)
    if group is not None and count_subsets((i.open for i in group), amount, cap=1) == 0:
        ctx.ledger.locked.add(inv.cluster)
        seed = ctx.txn_id()
        ctx.schedule(lambda c: _repeat(c, inv, amount, seed))
    return txn


def _repeat(ctx: Ctx, inv: Inv, amount: Decimal, seed: str) -> Txn | None:
    ctx.ledger.locked.discard(inv.cluster)
    group = ctx.ledger.small_group(inv)
    if inv.open > 0 or group is None or count_subsets((i.open for i in group), amount, cap=1) != 0:
        return None
    return _quoting(ctx, inv, amount, "duplicate_in_statement", [ALREADY_PAID], seed)


def _quoting(ctx: Ctx, inv: Inv, amount: Decimal, scenario: str, flags: list[str], depends_on: str = "") -> Txn | None:
    """Return a payment of ``amount`` from ``inv``'s partner quoting ``inv`` (already settled), or None."""
    p = ctx.partner(inv)
    built = ctx.ref_text([inv], texts.SINGLE, who=ctx.short_name(p))
    if built is None:
        return None
    inv.retired = True
    who = ctx.payer(p)
    return Txn(
        amount * inv.flow,
        inv.currency,
        who[0],
        who[1],
        built[0],
        built[1],
        NOISE,
        scenario,
        flags=flags,
        variant=built[2],
        depends_on=depends_on,
    )


def unknown_amount_collision(ctx: Ctx) -> Txn | None:
    """Return a transfer without reference from an unknown payer whose amount several open invoices have."""
    count = ctx.ledger.count_amount
    inv = ctx.ledger.pick(ctx.rng, "iss", ctx.day, pred=lambda i: count(i.currency, i.flow, i.open) >= 2)
    if inv is None:
        return None
    who = ctx.unknown(ctx.lang(inv))
    ref = ctx.no_ref_text(ctx.lang(inv), "")
    return Txn(inv.open, inv.currency, who[0], who[1], ref[0], ref[1], NOISE, "unknown_amount_collision")


def numberlike_text(ctx: Ctx) -> Txn | None:
    """Return a transfer with dates, amounts or contract numbers in the text, but no invoice number."""
    lang, cur = _home(ctx)
    sign = 1 if ctx.rng.random() < 0.7 else -1
    amount = _amount(ctx, cur, 1000, 500000) if cur == "HUF" else _amount(ctx, cur, 10, 5000)
    if ctx.ledger.count_amount(cur, sign, amount):
        return None
    for _ in range(10):
        text, e2e = texts.numberlike(ctx.rng, lang), ctx.e2e_noise()
        if ctx.is_clean(text, e2e):
            return _plain(ctx, amount * sign, cur, ctx.unknown(lang), text, "numberlike_text", e2e)
    return None
