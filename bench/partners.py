"""Partners of the workspace: tax ids, IBANs, name clusters, and which names are unique or unknown."""

from __future__ import annotations

import random
from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import combinations

from bench import names
from bench.model import Partner

HU_BANKS = ("117", "104", "107", "120", "109", "116", "101", "100")
PL_BANKS = ("1020", "1140", "1050", "1090", "1240", "2490", "1160", "1870")
WORKSPACE_CODES = ("KERT", "VIRA", "NOVA", "LUMA", "ORIO", "TERA", "ZEFI", "MIRA")


def _weighted_check(digits: str, weights: tuple[int, ...]) -> int:
    total = sum(int(d) * weights[i % len(weights)] for i, d in enumerate(digits))
    return (10 - total % 10) % 10


_LETTER_DIGITS = {"HU": "1730", "PL": "2521"}  # ISO 13616: A=10 … Z=35


def _iban(country: str, bban: str) -> str:
    # The BBANs generated here are all digits, so only the country letters need converting.
    numeric = int(bban + _LETTER_DIGITS[country] + "00")
    return f"{country}{98 - numeric % 97:02d}{bban}"


def iban_valid(iban: str) -> bool:
    """Return True when ``iban`` passes the ISO 13616 mod-97 check."""
    text = iban.replace(" ", "").upper()
    if len(text) < 15 or not text.isalnum():
        return False
    rearranged = text[4:] + text[:4]
    return int("".join(str(int(c, 36)) for c in rearranged)) % 97 == 1


def hu_iban(rng: random.Random) -> str:
    """Return a valid Hungarian IBAN whose GIRO account number also carries valid check digits."""
    head = rng.choice(HU_BANKS) + f"{rng.randrange(10000):04d}"
    head += str(_weighted_check(head, (9, 7, 3, 1)))
    if rng.random() < 0.5:  # 2×8-digit accounts are padded with eight zeros in the IBAN
        body = f"{rng.randrange(10**7):07d}"
        body += str(_weighted_check(body, (9, 7, 3, 1))) + "00000000"
    else:
        body = f"{rng.randrange(10**15):015d}"
        body += str(_weighted_check(body, (9, 7, 3, 1)))
    return _iban("HU", head + body)


def pl_iban(rng: random.Random) -> str:
    """Return a valid Polish IBAN with a valid bank sort-code check digit."""
    sort = rng.choice(PL_BANKS) + f"{rng.randrange(1000):03d}"
    sort += str(_weighted_check(sort, (3, 9, 7, 1, 3, 9, 7)))
    return _iban("PL", sort + f"{rng.randrange(10**16):016d}")


def hu_tax_id(rng: random.Random) -> str:
    """Return a Hungarian tax number ``12345678-2-42`` with a valid check digit."""
    base = str(rng.randint(1, 3)) + f"{rng.randrange(10**6):06d}"
    base += str(_weighted_check(base, (9, 7, 3, 1)))
    county = rng.choice(("02", "03", "05", "07", "09", "13", "14", "15", "16", "19", "20", "41", "42", "43", "44"))
    return f"{base}-{rng.choice('2222223')}-{county}"


def pl_nip(rng: random.Random) -> str:
    """Return a Polish NIP (ten digits, mod-11 check digit)."""
    weights = (6, 5, 7, 2, 3, 4, 5, 6, 7)
    while True:
        digits = str(rng.randint(1, 9)) + f"{rng.randrange(10**8):08d}"
        check = sum(int(d) * w for d, w in zip(digits, weights, strict=True)) % 11
        if check != 10:
            return digits + str(check)


def new_iban(rng: random.Random, country: str) -> str:
    """Return a fresh IBAN of ``country`` (HU or PL)."""
    return hu_iban(rng) if country == "HU" else pl_iban(rng)


class NameIndex:
    """The token sets of all partner names, to tell whether a name is unique, shared or unknown."""

    def __init__(self) -> None:
        self.exact: dict[tuple[str, ...], list[int]] = {}
        self.postings: dict[str, set[int]] = {}
        self.tokens: dict[int, tuple[str, ...]] = {}

    def add(self, pid: int, tokens: tuple[str, ...]) -> None:
        """Register partner ``pid`` under its name tokens."""
        self.exact.setdefault(tokens, []).append(pid)
        self.tokens[pid] = tokens
        for t in tokens:
            self.postings.setdefault(t, set()).add(pid)

    def related(self, tokens: Iterable[str], exclude: int = -1) -> bool:
        """Return True when another partner's tokens equal, contain or are contained in ``tokens``.

        Token containment (``Alfa`` vs ``Alfa Építő``) is where fuzzy name matching
        gets unsure, so such names count as neither unique nor unknown.
        """
        toks = tuple(sorted(set(tokens)))
        if not toks:
            return True
        for k in range(1, len(toks) + 1):
            for sub in combinations(toks, k):
                if any(pid != exclude for pid in self.exact.get(sub, ())):
                    return True
        posting_sets = sorted((self.postings.get(t, set()) for t in toks), key=len)
        common = set(posting_sets[0])
        for s in posting_sets[1:]:
            common &= s
            if not common:
                return False
        common.discard(exclude)
        return bool(common)


@dataclass(slots=True)
class Workspace:
    """The business whose books we reconcile."""

    country: str  # "HU", "PL" or "mixed"
    name: str
    code: str  # letters in the main Hungarian series, e.g. E-KERT-2025-12
    code2: str  # letters of the second Hungarian series, e.g. KRT-2025-00012
    tax_id: str
    nip: str
    ibans: dict[str, str] = field(default_factory=dict)  # currency -> own account


def make_workspace(rng: random.Random, country: str) -> Workspace:
    """Return the workspace: a Hungarian, Polish, or Hungarian company with a Polish branch."""
    code = rng.choice(WORKSPACE_CODES)
    form = "Sp. z o.o." if country == "PL" else "Kft."
    ws = Workspace(
        country=country,
        name=f"{code.title()}-Line Kereskedelmi {form}",
        code=code,
        code2=code[0] + code[2:],
        tax_id=hu_tax_id(rng),
        nip=pl_nip(rng),
    )
    if country in ("HU", "mixed"):
        ws.ibans["HUF"] = hu_iban(rng)
        ws.ibans["EUR"] = hu_iban(rng)
    if country in ("PL", "mixed"):
        ws.ibans["PLN"] = pl_iban(rng)
        ws.ibans.setdefault("EUR", pl_iban(rng))
    return ws


def _countries(country: str) -> tuple[str, ...]:
    return ("HU", "PL") if country == "mixed" else (country,)


def _new_partner(rng: random.Random, pid: int, country: str, role: str) -> Partner:
    r = rng.random()
    kind = (
        ("company" if r < 0.85 else "sole")
        if role == "supplier"
        else ("person" if r < 0.5 else "company" if r < 0.92 else "sole")
    )
    given = family = legal = ""
    if kind == "person":
        given, family = names.person(rng, country)
        core = name = names.person_name(given, family, country)
    elif kind == "sole":
        given, family = names.person(rng, country)
        if country == "HU":
            core, legal = names.person_name(given, family, "HU"), "ev"
            name = f"{core} e.v."
        else:
            core = name = f"{given} {family} {rng.choice(names.PL_ACTIVITIES)}"
    else:
        core = names.company_core(rng, country)
        forms = names.HU_COMPANY_FORMS if country == "HU" else names.PL_COMPANY_FORMS
        legal = rng.choices([f for f, _ in forms], weights=[w for _, w in forms])[0]
        name = f"{core} {names.LEGAL_FORMS[legal][1]}"
    p = Partner(
        id=pid, country=country, kind=kind, role=role, name=name, core=core, legal=legal, given=given, family=family
    )
    if kind != "person":
        p.tax_id = hu_tax_id(rng) if country == "HU" else pl_nip(rng)
    p.iban, p.iban2 = new_iban(rng, country), new_iban(rng, country)
    if role == "supplier":
        p.iban_policy = "all" if r < 0.9 else "some"
        p.eur_share = 1.0 if rng.random() < 0.1 else 0.0
    else:
        q = rng.random()
        if kind == "person":
            p.iban_policy = "all" if q < 0.05 else "some" if q < 0.1 else "none"
        else:
            p.iban_policy = "all" if q < 0.25 else "some" if q < 0.5 else "none"
        e = rng.random()
        p.eur_share = 1.0 if e < 0.08 else 0.3 if e < 0.15 else 0.0
    return p


def make_partners(
    rng: random.Random, n_customers: int, n_suppliers: int, ws: Workspace
) -> tuple[list[Partner], NameIndex]:
    """Return the partners (customers first) and the index of their names.

    Names repeat on purpose (common person names, popular company names); each
    partner gets a cluster id shared by all partners whose names fold alike, and
    ``name_clean`` when its name alone identifies it beyond doubt.
    """
    countries = _countries(ws.country)
    ws_tokens = set(names.name_tokens(ws.name))
    partners: list[Partner] = []
    index = NameIndex()
    tax_ids: set[str] = {ws.tax_id, ws.nip}
    for pid in range(n_customers + n_suppliers):
        role = "customer" if pid < n_customers else "supplier"
        while True:
            p = _new_partner(rng, pid, rng.choice(countries), role)
            toks = names.name_tokens(p.name)
            # The workspace's own name must never look like a partner (own transfers are noise).
            if (not p.tax_id or p.tax_id not in tax_ids) and not (set(toks) <= ws_tokens or ws_tokens <= set(toks)):
                break
        tax_ids.add(p.tax_id)
        partners.append(p)
        index.add(pid, toks)
    clusters: dict[tuple[str, ...], int] = {}
    for p in partners:
        p.cluster = clusters.setdefault(index.tokens[p.id], len(clusters))
    near = _near_clusters(clusters)
    for p in partners:
        short = min((names.LEGAL_FORMS[p.legal][1], *names.LEGAL_FORMS[p.legal][3]), key=len) if p.legal else ""
        fits = len(f"{p.core} {short}".strip()) <= 35
        p.name_clean = fits and p.cluster not in near and not index.related(index.tokens[p.id], exclude=p.id)
    for p in partners:
        if p.role == "supplier":
            letters = "".join(c for c in names.strip_accents(p.core).upper() if c.isalpha())
            p.code = (letters[:4] if len(letters) >= 3 else "SUP") if letters[:4] != ws.code else letters[:3] + "X"
            p.style = rng.randrange(6)
            p.seq = rng.randint(1, 300) if rng.random() < 0.6 else rng.randint(1000, 60000)
    return partners, index


def _near_clusters(clusters: dict[tuple[str, ...], int]) -> set[int]:
    """Return the clusters whose folded name is one edit away from another cluster's (``Polmex``/``Polmed``).

    A fuzzy matcher tolerating typos cannot tell such names apart, so neither
    counts as identifying its partner by name alone. Two strings one edit apart
    share a one-deletion variant (or one is a deletion of the other).
    """
    variants: dict[str, set[int]] = {}
    for toks, cid in clusters.items():
        key = " ".join(toks)
        for v in {key, *(key[:i] + key[i + 1 :] for i in range(len(key)))}:
            variants.setdefault(v, set()).add(cid)
    near: set[int] = set()
    for members in variants.values():
        if len(members) > 1:
            near |= members
    return near


def unknown_identity(rng: random.Random, country: str, index: NameIndex, ibans_in_use: set[str]) -> tuple[str, str]:
    """Return (bank-printed name, IBAN) of a payer that matches no partner by IBAN or by name.

    The IBAN is fresh and remembered in ``ibans_in_use``; the name's tokens are
    neither equal to, nor contained in, nor containing any partner's tokens.
    """
    while True:
        iban = new_iban(rng, country)
        if iban not in ibans_in_use:
            ibans_in_use.add(iban)
            break
    for _ in range(60):
        if rng.random() < 0.8:
            given, family = names.person(rng, country)
            text = f"{family} {given}" if rng.random() < 0.5 else f"{given} {family}"
        else:
            text = names.foreign_company(rng)
        if not index.related(names.name_tokens(text)):
            return names.strip_accents(text).upper() if rng.random() < 0.7 else text, iban
    syllables = ("ka", "ro", "vi", "len", "tor", "mas", "quin", "zed")
    while True:  # a made-up family name is unknown almost surely; the check makes it certain
        made_up = "".join(rng.choice(syllables) for _ in range(4)).title()
        text = f"{made_up} {rng.choice(names.HU_MALE if country == 'HU' else names.PL_MALE)}"
        if not index.related(names.name_tokens(text)):
            return text, iban
