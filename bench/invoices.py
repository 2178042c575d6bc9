"""The workspace's invoices before the statement: numbers, amounts, partners, states."""

from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import Decimal

from bench import numbering
from bench.model import ZERO, Inv, Partner, money
from bench.partners import Workspace

PRICE_LIST = {
    "HUF": tuple(Decimal(x) for x in (12700, 25400, 38100, 63500, 127000, 190500, 254000, 9990, 19990, 49990)),
    "PLN": tuple(
        Decimal(x)
        for x in ("123.00", "246.00", "369.00", "615.00", "1230.00", "99.99", "199.00", "499.00", "2460.00", "49.20")
    ),
    "EUR": tuple(Decimal(x) for x in ("100.00", "250.00", "490.00", "1000.00", "1500.00", "99.00")),
}
_MEDIAN = {"HUF": 90000.0, "PLN": 1800.0, "EUR": 900.0}
# VAT rates with cumulative shares.
_VAT = {
    "HU": ((Decimal("0.27"), 0.85), (Decimal("0.18"), 0.88), (Decimal("0.05"), 0.93), (ZERO, 1.0)),
    "PL": ((Decimal("0.23"), 0.85), (Decimal("0.08"), 0.93), (Decimal("0.05"), 0.97), (ZERO, 1.0)),
}
_ORDER_CHARS = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
LOOKBACK_DAYS = 120  # invoices are issued from this long before the statement starts


def gross_amount(rng: random.Random, currency: str, country: str) -> Decimal:
    """Return a realistic positive gross amount: price-list items, or net plus VAT."""
    if rng.random() < 0.25:
        r = rng.random()
        return rng.choice(PRICE_LIST[currency]) * (1 if r < 0.7 else 2 if r < 0.9 else 3)
    # The random draw is turned into integer minor units at once; money stays Decimal.
    raw = min(max(rng.lognormvariate(0, 1.1) * _MEDIAN[currency], _MEDIAN[currency] / 60), _MEDIAN[currency] * 80)
    if currency == "HUF":
        net = Decimal(int(raw))
        if rng.random() < 0.5:
            net = (net / 1000).to_integral_value() * 1000 or Decimal(1000)
    else:
        net = Decimal(int(raw * 100)).scaleb(-2)
        if rng.random() < 0.5:
            net = net.to_integral_value() or Decimal(10)
    rate = ZERO
    if currency != "EUR" or rng.random() >= 0.6:  # most EUR invoices are reverse-charge
        r = rng.random()
        rate = next(vat for vat, share in _VAT[country] if r < share)
    return money(net * (1 + rate), currency)


class _Numbers:
    """Running numbers of the workspace's own series (yearly for Hungarian, monthly for Polish)."""

    def __init__(self, ws: Workspace) -> None:
        self.ws = ws
        self.seq: dict[tuple[str, int, int], int] = {}

    def next(self, series: str, day: date) -> str:
        """Return the next number of ``series`` for an invoice issued on ``day``."""
        month = 0 if series in ("E", "S", "B", "D") else day.month
        key = (series, day.year, month)
        self.seq[key] = n = self.seq.get(key, 0) + 1
        return numbering.own_number(series, day.year, day.month, n, self.ws.code, self.ws.code2)


def _own_series(rng: random.Random, country: str, kind: str) -> str:
    if country == "HU":
        if kind == "proforma":
            return "D"
        if kind != "invoice":
            return "E"
        r = rng.random()
        return numbering.OWN_HU_SERIES[0 if r < 0.5 else 1 if r < 0.7 else 2]
    special = {"proforma": "PRO", "credit_note": "KOR", "advance": "FZAL"}.get(kind)
    return special or numbering.OWN_PL_SERIES[0 if rng.random() < 0.55 else 1]


def _status(rng: random.Random, issue: date, start: date) -> str:
    age = (start - issue).days
    p_paid = 0.25 + 0.5 * min(1.0, age / LOOKBACK_DAYS) if age > 0 else 0.08
    r = rng.random()
    if r < 0.03:
        return "cancelled"
    if r < 0.07:
        return "partially_paid"
    return "paid" if r < 0.07 + p_paid else "issued"


def _order_number(rng: random.Random, counter: list[int], seen: set[str]) -> str:
    if rng.random() < 0.6:
        counter[0] += rng.randint(1, 3)
        return str(counter[0])
    while True:
        code = "".join(rng.choice(_ORDER_CHARS) for _ in range(6))
        text = f"{rng.choice(('BK', 'RZ'))}-{code}"
        if any(c.isdigit() for c in code) and text not in seen:
            seen.add(text)
            return text


def make_invoices(
    rng: random.Random, ws: Workspace, partners: list[Partner], n: int, start: date, days: int
) -> list[Inv]:
    """Return ``n`` invoices issued from ``LOOKBACK_DAYS`` before ``start`` until the statement ends.

    About 15 % are supplier bills. States depend on age: older invoices are
    mostly paid; a few are cancelled or partially paid. Customers' volumes are
    heavy-tailed; some companies bill the same monthly fee again and again.
    """
    customers = [p for p in partners if p.role == "customer"]
    suppliers = [p for p in partners if p.role == "supplier"]
    span = LOOKBACK_DAYS + days - 3
    first = start - timedelta(days=LOOKBACK_DAYS)
    issues = sorted(first + timedelta(days=rng.randrange(span)) for _ in range(n))
    received = [bool(suppliers) and rng.random() < 0.15 for _ in range(n)]
    # Persons buy once or twice; companies' volumes are heavy-tailed (a few big customers).
    c_weights = [rng.uniform(0.15, 0.5) if p.kind == "person" else rng.lognormvariate(0.0, 0.9) for p in customers]
    s_weights = [rng.lognormvariate(0.5, 1.0) for _ in suppliers]
    n_recv = sum(received)
    c_pick = iter(rng.choices(customers, weights=c_weights, k=n - n_recv))
    s_pick = iter(rng.choices(suppliers, weights=s_weights, k=n_recv) if suppliers else [])
    subs: dict[int, Decimal] = {}
    for p in customers:
        if p.kind == "company" and rng.random() < 0.2:
            cur = "HUF" if p.country == "HU" else "PLN"
            subs[p.id] = gross_amount(rng, cur, p.country)
    numbers = _Numbers(ws)
    own_numbers: set[str] = set()
    order_counter, order_seen = [rng.randint(1_020_000, 1_090_000)], set[str]()
    out: list[Inv] = []
    pending: list[tuple[int, Partner]] = []
    last: dict[int, Inv] = {}  # each customer's latest invoice
    for i, issue in enumerate(issues):
        if received[i]:
            pending.append((i, next(s_pick)))
            out.append(_placeholder(i, issue))
            continue
        p = next(c_pick)
        r = rng.random()
        kind = "invoice" if r < 0.85 else "proforma" if r < 0.93 else "advance" if r < 0.96 else "credit_note"
        number = numbers.next(_own_series(rng, p.country, kind), issue)
        own_numbers.add(number)
        home = "HUF" if p.country == "HU" else "PLN"
        cur = "EUR" if rng.random() < p.eur_share else home
        if p.id in subs and cur == home and rng.random() < 0.7:
            gross = subs[p.id]
            if rng.random() < 0.3:  # the fee changes now and then (usage, price increase)
                subs[p.id] = gross_amount(rng, cur, p.country)
        elif p.id in last and last[p.id].currency == cur and rng.random() < 0.12:
            gross = abs(last[p.id].gross)  # a repeat order: the same amount again
        else:
            gross = gross_amount(rng, cur, p.country)
        if kind == "credit_note":
            gross = -money(gross * Decimal(rng.choice(("1", "0.5", "0.25", "0.1"))), cur)
        order = ""
        if kind in ("invoice", "proforma") and rng.random() < (0.4 if p.kind == "person" else 0.05):
            order = _order_number(rng, order_counter, order_seen)
        out.append(_finish(rng, i, number, "issued", kind, p, gross, cur, issue, start, order))
        last[p.id] = out[-1]
    for i, p in pending:
        issue = out[i].issue
        p.seq += rng.randint(1, 3) if p.seq < 1000 else rng.randint(1, 40)
        number = numbering.supplier_number(p.country, p.style, p.code, issue.year, issue.month, p.seq)
        while number in own_numbers:
            # A number string names one direction only (the contract allocates by number), so a
            # supplier whose style reproduces one of our numbers switches to another style.
            p.style = (p.style + 1) % 6
            number = numbering.supplier_number(p.country, p.style, p.code, issue.year, issue.month, p.seq)
        cur = "EUR" if rng.random() < p.eur_share else ("HUF" if p.country == "HU" else "PLN")
        gross = gross_amount(rng, cur, p.country)
        kind = "invoice"
        if rng.random() < 0.02:
            kind, gross = "credit_note", -money(gross / 4, cur)
        out[i] = _finish(rng, i, number, "received", kind, p, gross, cur, issue, start, "")
    return out


def _placeholder(i: int, issue: date) -> Inv:
    return Inv(i, "", "", "", -1, -1, ZERO, "", ZERO, "", False, "", issue, issue, 0, ZERO)


def _finish(
    rng: random.Random,
    i: int,
    number: str,
    direction: str,
    kind: str,
    p: Partner,
    gross: Decimal,
    cur: str,
    issue: date,
    start: date,
    order: str,
) -> Inv:
    status = _status(rng, issue, start)
    paid = ZERO
    if status == "paid":
        paid = gross
    elif status == "partially_paid":
        paid = money(gross * Decimal(rng.choice(("0.2", "0.3", "0.5", "0.6"))), cur)
        if paid == ZERO or abs(paid) >= abs(gross):
            status, paid = "issued", ZERO
    iban_on = p.iban_policy == "all" or (p.iban_policy == "some" and rng.random() < 0.5)
    flow = 1 if (direction == "issued") == (gross > 0) else -1
    open_amount = ZERO if status in ("paid", "cancelled") else abs(gross) - abs(paid)
    due = issue + timedelta(days=rng.choice((8, 8, 15, 30)))
    return Inv(
        i,
        number,
        direction,
        kind,
        p.id,
        p.cluster,
        gross,
        cur,
        paid,
        status,
        iban_on,
        order,
        issue,
        due,
        flow,
        open_amount,
    )
