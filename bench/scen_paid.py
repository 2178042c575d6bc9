"""Unambiguous scenarios: evidence a careful engine must act on automatically.

Each builder returns a labelled transaction (or None when the data offers no
fitting case right now) and books the expected allocations in the ledger, so
later scenarios see what a correct engine would see.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import ROUND_CEILING, Decimal

from bench import texts
from bench.context import Ctx
from bench.ledger import count_subsets
from bench.model import OVERPAID, PARTIAL, UNAMBIGUOUS, Inv, Txn, money

_ROUND = {"HUF": Decimal(1000), "PLN": Decimal(10), "EUR": Decimal(10)}
_MIN_INSTALMENT = {"HUF": Decimal(20000), "PLN": Decimal(200), "EUR": Decimal(100)}
_FEES = tuple(Decimal(x) for x in ("5.00", "7.50", "10.00", "12.00", "15.00", "20.00", "25.00", "35.00"))
MULTI_GROUP_MAX = 40  # partners with more open invoices are not used for multi-invoice transfers


def pay(ctx: Ctx, pairs: list[tuple[Inv, Decimal]]) -> list[tuple[str, Decimal]]:
    """Book ``pairs`` in the ledger and return them as expected allocations."""
    for inv, amount in pairs:
        ctx.ledger.apply(inv, amount)
    return [(inv.number, amount) for inv, amount in pairs]


def no_other_fit(ctx: Ctx, inv: Inv, amount: Decimal) -> bool:
    """Return True when no combination of the payer's open invoices adds up to ``amount``.

    Needed whenever a reference names ``inv`` but ``amount`` is not its open
    amount: otherwise amount and payer might "clearly fit another" invoice.
    """
    group = ctx.ledger.small_group(inv)
    return group is not None and count_subsets((i.open for i in group), amount, cap=1) == 0


def surplus(ctx: Ctx, currency: str, base: Decimal) -> Decimal:
    """Return a realistic overpayment on top of ``base``: a round sum more, or rounded up."""
    step = _ROUND[currency] * 10
    rounded_up = (base / step).to_integral_value(rounding=ROUND_CEILING) * step
    if rounded_up > base and ctx.rng.random() < 0.4:
        return rounded_up - base
    if currency == "HUF":
        return Decimal(ctx.rng.choice((1, 100, 1000, 5000, 10000)))
    return Decimal(ctx.rng.choice(("0.01", "1.00", "10.00", "50.00")))


def ref_exact_with(
    ctx: Ctx,
    pool: str,
    templates: Mapping[str, tuple[str, ...]],
    scenario: str = "ref_exact",
    mode: str = "text",
    plain: bool = False,
    lang: str = "",
) -> tuple[Txn, Inv] | None:
    """Return a transfer paying exactly the open amount of a pooled invoice and quoting it, and the invoice."""
    inv = ctx.ledger.pick(ctx.rng, pool, ctx.day)
    if inv is None:
        return None
    p = ctx.partner(inv)
    allow: frozenset[int] = frozenset()
    if inv.direction == "received":
        same = [k for k in ctx.by_number[inv.number] if k != inv.idx]
        if same and not inv.iban_on:  # a number shared by suppliers needs the payee's IBAN to decide
            return None
        allow = frozenset(same)
    built = ctx.ref_text([inv], templates, mode=mode, plain=plain, who=ctx.short_name(p), allow=allow, lang=lang)
    if built is None:
        return None
    who = ctx.payer(p)
    amount = inv.open
    expected = pay(ctx, [(inv, amount)])
    return ctx.txn(inv, amount, who, built[:2], UNAMBIGUOUS, scenario, expected, variant=built[2]), inv


def _simple(
    pool: str, templates: Mapping[str, tuple[str, ...]], scenario: str, mode: str = "text"
) -> Callable[[Ctx], Txn | None]:
    def build(ctx: Ctx) -> Txn | None:
        got = ref_exact_with(ctx, pool, templates, scenario, mode)
        return got[0] if got else None

    build.__doc__ = f"Return a ``{scenario}`` transaction (see bench.scenarios), or None."
    return build


ref_exact = _simple("iss", texts.SINGLE, "ref_exact")
ref_split_line = _simple("iss", texts.SINGLE, "ref_split_line", "split")
ref_e2e_only = _simple("iss", texts.SINGLE, "ref_e2e_only", "e2e")
ref_split_payment = _simple("iss_pln_co", texts.SINGLE, "ref_split_payment", "splitpay")
proforma_ref = _simple("proforma", texts.PROFORMA, "proforma_ref")
credit_note_refund = _simple("credit", texts.CREDIT_REFUND, "credit_note_refund")
supplier_bill = _simple("recv", texts.SUPPLIER, "supplier_bill")


def order_number(ctx: Ctx) -> Txn | None:
    """Return a transfer quoting only the webshop or booking number, paying the exact amount."""
    inv = ctx.ledger.pick(ctx.rng, "order", ctx.day)
    if inv is None:
        return None
    p = ctx.partner(inv)
    ref = ctx.order_text(inv, ctx.short_name(p))
    if ref is None:
        return None
    amount = inv.open
    return ctx.txn(inv, amount, ctx.payer(p), ref, UNAMBIGUOUS, "order_number", pay(ctx, [(inv, amount)]))


def _multi(ctx: Ctx, over: bool) -> Txn | None:
    inv = ctx.ledger.pick(ctx.rng, "iss_small" if over else "iss", ctx.day)
    if inv is None or len(ctx.ledger.groups[(inv.cluster, inv.currency, inv.flow)]) > MULTI_GROUP_MAX:
        return None
    own = [
        i
        for i in ctx.ledger.own_open(inv)
        if i.idx != inv.idx and i.kind in ("invoice", "advance") and not i.retired and i.issue <= ctx.day
    ]
    if not own:
        return None
    chosen = sorted([inv, *ctx.rng.sample(own, min(len(own), ctx.rng.choice((1, 1, 1, 2, 2, 3))))], key=lambda i: i.idx)
    amount = sum((i.open for i in chosen), Decimal(0))
    flags: list[str] = []
    if over:
        amount += surplus(ctx, inv.currency, amount)
        if not no_other_fit(ctx, inv, amount):
            return None
        flags = [OVERPAID]
    p = ctx.partner(inv)
    built = ctx.ref_text(chosen, texts.SINGLE, who=ctx.short_name(p))
    if built is None:
        return None
    expected = pay(ctx, [(i, i.open) for i in chosen])
    scenario = "multi_overpaid" if over else "multi_exact"
    return ctx.txn(inv, amount, ctx.payer(p), built[:2], UNAMBIGUOUS, scenario, expected, flags, built[2])


def multi_exact(ctx: Ctx) -> Txn | None:
    """Return a transfer quoting several invoices of one partner and paying exactly their sum."""
    return _multi(ctx, False)


def multi_overpaid(ctx: Ctx) -> Txn | None:
    """Return a transfer quoting several invoices and paying more than their sum."""
    return _multi(ctx, True)


def ref_overpaid(ctx: Ctx) -> Txn | None:
    """Return a transfer quoting one invoice and paying more than its open amount."""
    inv = ctx.ledger.pick(ctx.rng, "iss_small", ctx.day)
    if inv is None:
        return None
    amount = inv.open + surplus(ctx, inv.currency, inv.open)
    if not no_other_fit(ctx, inv, amount):
        return None
    p = ctx.partner(inv)
    built = ctx.ref_text([inv], texts.SINGLE, who=ctx.short_name(p))
    if built is None:
        return None
    expected = pay(ctx, [(inv, inv.open)])
    return ctx.txn(inv, amount, ctx.payer(p), built[:2], UNAMBIGUOUS, "ref_overpaid", expected, [OVERPAID], built[2])


def part_amount(ctx: Ctx, inv: Inv) -> Decimal:
    """Return a round part (a quarter to nine tenths) of the open amount of ``inv``."""
    share = Decimal(ctx.rng.choice(("0.25", "0.3", "0.4", "0.5", "0.6", "0.75", "0.9")))
    step = _ROUND[inv.currency] if ctx.rng.random() < 0.7 else Decimal(1)
    return money((inv.open * share / step).to_integral_value() * step, inv.currency)


def ref_partial(ctx: Ctx) -> Txn | None:
    """Return a transfer quoting one invoice and paying only part of it."""
    inv = ctx.ledger.pick(ctx.rng, "iss_small", ctx.day)
    if inv is None:
        return None
    amount = part_amount(ctx, inv)
    if not Decimal(0) < amount < inv.open or not no_other_fit(ctx, inv, amount):
        return None
    p = ctx.partner(inv)
    templates = {k: texts.SINGLE[k] + texts.PARTIAL[k] for k in texts.PARTIAL}
    built = ctx.ref_text([inv], templates, who=ctx.short_name(p))
    if built is None:
        return None
    expected = pay(ctx, [(inv, amount)])
    inv.retired = True  # see ref_fee_deducted
    return ctx.txn(inv, amount, ctx.payer(p), built[:2], UNAMBIGUOUS, "ref_partial", expected, [PARTIAL], built[2])


def ref_fee_deducted(ctx: Ctx) -> Txn | None:
    """Return a foreign EUR transfer quoting one invoice, the bank fees deducted on the way."""
    inv = ctx.ledger.pick(ctx.rng, "iss_eur", ctx.day)
    if inv is None:
        return None
    fee = ctx.rng.choice(_FEES)
    amount = inv.open - fee
    if amount < inv.open / 2 or not no_other_fit(ctx, inv, amount):
        return None
    p = ctx.partner(inv)
    lang = "EN" if ctx.rng.random() < 0.6 else ""
    built = ctx.ref_text([inv], texts.SINGLE, who=ctx.short_name(p), lang=lang)
    if built is None:
        return None
    expected = pay(ctx, [(inv, amount)])
    # A later, unrelated use of this invoice would rely on the engine having booked this partial
    # payment; one miss would then turn into a wrong allocation. Instalments say so via depends_on.
    inv.retired = True
    return ctx.txn(inv, amount, ctx.payer(p), built[:2], UNAMBIGUOUS, "ref_fee_deducted", expected, [PARTIAL], built[2])


def _instalments_fit(ctx: Ctx, inv: Inv, parts: list[Decimal]) -> bool:
    group = ctx.ledger.small_group(inv)
    if group is None:
        return False
    others = [i.open for i in group if i.idx != inv.idx]
    left = inv.open
    for amount in parts:
        allowed = 1 if amount == left else 0
        if count_subsets([*others, left], amount, cap=allowed + 1) != allowed:
            return False
        left -= amount
    return True


def instalment(ctx: Ctx) -> Txn | None:
    """Return the first of two or three transfers that pay one invoice in instalments.

    The later ones are scheduled days apart; the payer's cluster stays locked
    meanwhile, so that no other scenario changes what the checks relied on.
    """
    inv = ctx.ledger.pick(ctx.rng, "iss_small", ctx.day, pred=lambda i: i.open >= _MIN_INSTALMENT[i.currency])
    if inv is None:
        return None
    k = ctx.rng.choice((2, 2, 3))
    step = _ROUND[inv.currency]
    first = money((inv.open / k / step).to_integral_value() * step, inv.currency)
    parts = [first] * (k - 1) + [inv.open - first * (k - 1)]
    if first <= 0 or parts[-1] <= 0 or not _instalments_fit(ctx, inv, parts):
        return None
    return _instalment_step(ctx, inv, parts, 0, "")


def _instalment_step(ctx: Ctx, inv: Inv, parts: list[Decimal], step: int, previous: str) -> Txn | None:
    amount, last = parts[step], step == len(parts) - 1
    ctx.ledger.locked.discard(inv.cluster)
    p = ctx.partner(inv)
    templates = {k: texts.SINGLE[k] + texts.INSTALMENT[k] for k in texts.INSTALMENT}
    built = ctx.ref_text([inv], templates, who=ctx.short_name(p), extra={"k": str(step + 1)})
    if built is None or (step and not _instalments_fit(ctx, inv, parts[step:])):
        if step:  # an abandoned plan leaves a part-paid invoice nobody else should build on
            inv.retired = True
        return None
    expected = pay(ctx, [(inv, amount)])
    txn = ctx.txn(
        inv,
        amount,
        ctx.payer(p),
        built[:2],
        UNAMBIGUOUS,
        "instalment",
        expected,
        [] if last else [PARTIAL],
        built[2],
        previous,
    )
    if not last:
        ctx.ledger.locked.add(inv.cluster)
        me = ctx.txn_id()
        ctx.schedule(lambda c: _instalment_step(c, inv, parts, step + 1, me))
    return txn


def _amount_only(ctx: Ctx, pool: str, clean: bool, scenario: str) -> Txn | None:
    inv = ctx.ledger.pick(ctx.rng, pool, ctx.day)
    if inv is None:
        return None
    group = ctx.ledger.small_group(inv)
    if group is None or not ctx.ledger.fits_exactly(group, inv.open, allowed=1):
        return None
    p = ctx.partner(inv)
    ref = ctx.no_ref_text(ctx.lang(inv), ctx.short_name(p))
    amount = inv.open
    return ctx.txn(inv, amount, ctx.payer(p, clean), ref, UNAMBIGUOUS, scenario, pay(ctx, [(inv, amount)]))


def payer_iban_amount(ctx: Ctx) -> Txn | None:
    """Return a transfer without reference from an IBAN shown on the payer's invoices.

    The payer has exactly one open invoice of that amount and no combination of
    its open invoices adds up to it.
    """
    return _amount_only(ctx, "iban_known", False, "payer_iban_amount")


def payer_name_amount(ctx: Ctx) -> Txn | None:
    """Return a transfer without reference from an unseen account whose holder name clearly is the payer."""
    return _amount_only(ctx, "name_clean", True, "payer_name_amount")


def iban_learned(ctx: Ctx) -> Txn | None:
    """Return a referenced payment from an IBAN no invoice shows, and schedule a later one without reference.

    The later transfer is unambiguous only because the engine learned the IBAN
    from the first; it pays another invoice of the same partner whose amount is
    unique among the payer's open invoices (and no combination adds up to it).
    """
    got = ref_exact_with(ctx, "iban_unknown", texts.SINGLE, plain=True)
    if got is None:
        return None
    txn, seed = got
    txn.variant = "seed:learn"
    group = ctx.ledger.small_group(seed)
    if group is None:
        return txn
    later = [
        b
        for b in group
        if b.partner == seed.partner
        and not b.retired
        and b.issue <= ctx.day
        and ctx.ledger.fits_exactly(group, b.open, allowed=1)
    ]
    if later:
        target, seed_id = ctx.rng.choice(later), ctx.txn_id()
        ctx.ledger.locked.add(seed.cluster)
        ctx.schedule(lambda c: _learned(c, target, seed_id))
    return txn


def _learned(ctx: Ctx, inv: Inv, seed_id: str) -> Txn | None:
    ctx.ledger.locked.discard(inv.cluster)
    group = ctx.ledger.small_group(inv)
    if group is None or inv.open <= 0 or not ctx.ledger.fits_exactly(group, inv.open, allowed=1):
        return None
    p = ctx.partner(inv)
    ref = ctx.no_ref_text(ctx.lang(inv), "")
    amount = inv.open
    return ctx.txn(
        inv, amount, ctx.payer(p), ref, UNAMBIGUOUS, "iban_learned", pay(ctx, [(inv, amount)]), depends_on=seed_id
    )
