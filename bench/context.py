"""The generator's state while it walks the statement in booking order, and shared building blocks."""

from __future__ import annotations

import heapq
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from bench import names, numbering, texts
from bench.ledger import Ledger
from bench.model import Inv, Partner, Txn, money
from bench.partners import NameIndex, Workspace, new_iban, unknown_identity
from bench.refindex import RefIndex

FollowUp = Callable[["Ctx"], Txn | None]
LINE = 35  # banks print remittance text in lines of 35 characters


@dataclass(slots=True)
class Settings:
    """What to generate."""

    transactions: int
    invoices: int
    seed: int
    country: str = "mixed"
    start: date = date(2025, 3, 1)
    days: int = 122
    weights: dict[str, float] = field(default_factory=dict)


class Ctx:
    """Everything a scenario needs: data, ledger, referee, random source, clock and scheduler."""

    def __init__(
        self,
        cfg: Settings,
        rng: random.Random,
        ws: Workspace,
        partners: list[Partner],
        name_index: NameIndex,
        ledger: Ledger,
        refs: RefIndex,
        by_number: dict[str, list[int]],
    ) -> None:
        self.cfg, self.rng, self.ws, self.partners = cfg, rng, ws, partners
        self.names, self.ledger, self.refs, self.by_number = name_index, ledger, refs, by_number
        self.inv = ledger.inv
        self.iban_seen: set[int] = {i.partner for i in ledger.inv if i.iban_on}  # partners with an IBAN on invoices
        self.slot = 0
        self.day = cfg.start
        self._heap: list[tuple[int, int, FollowUp]] = []
        self._seq = 0
        self.ibans_in_use: set[str] = {p.iban for p in partners} | {p.iban2 for p in partners}
        self.ibans_in_use |= set(ws.ibans.values())
        countries = ("HU", "PL") if ws.country == "mixed" else (ws.country,)
        self.employees = {c: [self.unknown(c) for _ in range(25)] for c in countries}
        self.tax_iban = {"HU": new_iban(rng, "HU"), "PL": new_iban(rng, "PL")}
        self.ibans_in_use |= set(self.tax_iban.values())

    # -- clock and scheduler -------------------------------------------------
    def txn_id(self, slot: int | None = None) -> str:
        """Return the id of the transaction at ``slot`` (default: the current one)."""
        return f"T{(self.slot if slot is None else slot) + 1:07d}"

    def date_of(self, slot: int) -> date:
        """Return the booking date of ``slot``: the statement period spread evenly over the slots."""
        return self.cfg.start + timedelta(days=slot * self.cfg.days // self.cfg.transactions)

    def schedule(self, fn: FollowUp, min_days: int = 3, max_days: int = 25) -> None:
        """Run ``fn`` at the first slot at least ``min_days``..``max_days`` (random) after today.

        At least three days apart, so that a value date one or two days before the
        booking date can never swap the order of dependent transactions.
        """
        target = self.day + timedelta(days=self.rng.randint(min_days, max_days))
        per_day = self.cfg.transactions / self.cfg.days
        slot = max(self.slot + 1, int((target - self.cfg.start).days * per_day) + 1)
        while self.date_of(slot) < target:
            slot += 1
        self._seq += 1
        heapq.heappush(self._heap, (slot, self._seq, fn))

    def due(self) -> FollowUp | None:
        """Return a follow-up due at the current slot, if any."""
        if self._heap and self._heap[0][0] <= self.slot:
            return heapq.heappop(self._heap)[2]
        return None

    # -- parties -------------------------------------------------------------
    def partner(self, inv: Inv) -> Partner:
        """Return the partner of ``inv``."""
        return self.partners[inv.partner]

    def lang(self, inv: Inv) -> str:
        """Return the language of remittance texts about ``inv`` (its partner's country)."""
        return self.partners[inv.partner].country

    def payer(self, p: Partner, clean: bool = False) -> tuple[str, str]:
        """Return (bank-printed name, IBAN) of ``p`` sending or receiving money.

        ``clean`` renders the name with only accents, case, legal form and name
        order varied, and uses the partner's second account, which no invoice
        shows, so that only the name identifies the payer.
        """
        name = names.bank_name(p.kind, p.country, p.core, p.legal, p.given, p.family, self.rng, clean)
        return name, (p.iban2 if clean else p.iban)

    def unknown(self, country: str) -> tuple[str, str]:
        """Return (name, IBAN) of someone who is no partner by IBAN or by name."""
        return unknown_identity(self.rng, country, self.names, self.ibans_in_use)

    # -- texts ---------------------------------------------------------------
    def e2e_noise(self) -> str:
        """Return an end-to-end id as banks fill it when the payer gave none."""
        r = self.rng.random()
        if r < 0.45:
            return "NOTPROVIDED"
        if r < 0.75:
            return ""
        width = self.rng.choice((16, 20, 32))
        return f"{self.rng.getrandbits(4 * width):0{width}X}"

    def is_clean(self, *parts: str) -> bool:
        """Return True when ``parts`` mention no invoice (of either direction) and no order number."""
        found = self.refs.scan(*parts)
        return not found.invoices and not found.orders

    def no_ref_text(self, lang: str, who: str) -> tuple[str, str]:
        """Return (reference, end-to-end id) without any invoice or order number."""
        for _ in range(10):
            text, e2e = texts.fill(self.rng, texts.NO_REF[lang], n=who), self.e2e_noise()
            if self.is_clean(text, e2e):
                return text, e2e
        return "", ""

    def wrap(self, text: str) -> str:
        """Return ``text`` cut into bank lines of 35 characters joined by newlines."""
        return "\n".join(text[i : i + LINE] for i in range(0, len(text), LINE))

    def split_inside(self, text: str, written: str, filler: str) -> str | None:
        """Return ``text`` laid out so that the first bank line ends inside ``written``.

        The intro before the number is padded (with ``filler`` words, then spaces,
        as fixed-width bank fields do) so that the 35-character cut falls strictly
        inside the number. None when the intro is too long for that.
        """
        pos = text.find(written)
        if pos < 0 or len(written) < 2:
            return None
        need = LINE - self.rng.randint(1, min(len(written) - 1, LINE - 1))
        base = text[:pos].rstrip()
        if filler and len(filler) + len(base) + 2 <= need:
            base = f"{filler} {base}".strip()
        if base and len(base) + 1 > need:
            return None
        full = base + " " * (need - len(base)) + text[pos:]
        return full[:LINE] + "\n" + full[LINE:]

    def ref_text(
        self,
        invs: list[Inv],
        templates: Mapping[str, tuple[str, ...]],
        *,
        mode: str = "text",
        plain: bool = False,
        who: str = "",
        allow: frozenset[int] = frozenset(),
        lang: str = "",
        extra: dict[str, str] | None = None,
    ) -> tuple[str, str, str] | None:
        """Return (reference, end-to-end id, variant tags) that mention exactly ``invs``.

        ``mode``: ``text`` (remittance, sometimes wrapped at 35), ``split`` (the
        number cut across two bank lines), ``e2e`` (only the end-to-end id
        carries the number), ``splitpay`` (Polish /VAT/…/INV/…/TXT/ format).
        Mentions of invoices of the other flow are allowed (the engine must
        respect direction), as are ``allow`` (same number, other supplier).
        None when no attempt satisfies the referee.
        """
        lang = lang or self.lang(invs[0])
        flow, target = invs[0].flow, {i.idx for i in invs}
        for attempt in range(8):
            easy = plain or attempt >= 5
            written, tags = [], []
            for inv in invs:
                w, t = numbering.write_number(inv.number, self.rng, easy)
                written.append(w)
                tags += t
            e2e = self.e2e_noise()
            if mode == "e2e":
                e2e = written[0].replace(" ", self.rng.choice(("", "-")))
                text, _ = self.no_ref_text(lang, who)
                tags.append("e2e")
            elif mode == "splitpay":
                inv = invs[0]
                vat = money(inv.open * Decimal(23) / Decimal(123), inv.currency)
                idc = self.ws.nip
                txt = self.rng.choice(("zapłata", "faktura", "płatność", who[:20].strip() or "przelew"))
                text = f"/VAT/{format(vat, 'f').replace('.', ',')}/IDC/{idc}/INV/{written[0]}/TXT/{txt}"
                tags.append("splitpay")
            elif len(invs) > 1:
                text = texts.fill(self.rng, texts.MULTI[lang], l=texts.number_list(self.rng, lang, written), n=who)
            else:
                text = texts.fill(self.rng, templates[lang], r=written[0], n=who, w=self.ws.code, **(extra or {}))
            if mode == "split":
                laid = self.split_inside(text, written[0], who)
                if laid is None:
                    continue
                text = laid
                tags.append("split")
            elif mode == "text" and len(text) > LINE and self.rng.random() < 0.1:
                text = self.wrap(text)
                tags.append("wrapped")
            found = self.refs.scan(text, e2e)
            got = {i for i in found.invoices if self.inv[i].flow == flow}
            if not found.orders and target <= got and got - target <= allow:
                return text, e2e, "+".join(tags)
        return None

    def order_text(self, inv: Inv, who: str) -> tuple[str, str] | None:
        """Return (reference, e2e) quoting only ``inv``'s order number, or None."""
        lang = self.lang(inv)
        for _ in range(6):
            text = texts.fill(self.rng, texts.ORDER[lang], o=inv.order, n=who)
            e2e = self.e2e_noise()
            found = self.refs.scan(text, e2e)
            if found.orders == {inv.idx} and not any(self.inv[i].flow == inv.flow for i in found.invoices):
                return text, e2e
        return None

    def short_name(self, p: Partner) -> str:
        """Return a partner name fit for a remittance text (no address, no digits)."""
        return p.core if self.rng.random() < 0.5 else names.strip_accents(p.core).upper()

    def txn(
        self,
        inv: Inv,
        amount: Decimal,
        who: tuple[str, str],
        ref: tuple[str, str],
        category: str,
        scenario: str,
        expected: list[tuple[str, Decimal]] | None = None,
        flags: list[str] | None = None,
        variant: str = "",
        depends_on: str = "",
        expected_any: list[list[tuple[str, Decimal]]] | None = None,
    ) -> Txn:
        """Return a labelled transaction of ``amount`` (positive) in ``inv``'s direction and currency."""
        r = self.rng.random()
        lag = 0 if r < 0.85 else 1 if r < 0.97 else 2
        return Txn(
            amount * inv.flow,
            inv.currency,
            who[0],
            who[1],
            ref[0],
            ref[1],
            category,
            scenario,
            expected=expected or [],
            flags=flags or [],
            expected_any=expected_any,
            variant=variant,
            depends_on=depends_on,
            value_lag=lag,
        )


def ws_country(ws: Workspace, rng: random.Random) -> str:
    """Return the workspace's country, or a random one of HU/PL for a mixed workspace."""
    return ws.country if ws.country != "mixed" else rng.choice(("HU", "PL"))


def home_currency(country: str) -> str:
    """Return the home currency of ``country``."""
    return "HUF" if country == "HU" else "PLN"
