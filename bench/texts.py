"""Remittance texts as Hungarian and Polish payers, banks and tax offices write them.

``{r}`` is an invoice number as written, ``{n}`` the payer's name. Every text
is checked afterwards by ``bench.refindex``; templates only need to be realistic.
"""

from __future__ import annotations

import random

from bench import names

SINGLE = {
    "HU": (
        "{r}",
        "{r}",
        "Számla: {r}",
        "számla {r}",
        "szla {r}",
        "Szla: {r}",
        "SZLA.: {r}",
        "{r} számla",
        "{r} sz. számla kiegyenlítése",
        "{r} számla ellenértéke",
        "Számlaszám: {r}",
        "Számla: Számla {r}",
        "SZLA {r} {n}",
        "{r} / {n}",
        "Közlemény: {r}",
        "ref: {r}",
        "{n} szla/{r}",
        "{r}/utalás",
    ),
    "PL": (
        "{r}",
        "{r}",
        "Faktura nr {r}",
        "zapłata za FV {r}",
        "FV {r}",
        "Faktura {r}",
        "Faktura VAT nr {r}",
        "Płatność za fakturę {r}",
        "Przelew za fakturę nr {r}",
        "Opłata za fakturę {r}",
        "ref: {r}",
        "Tytułem: {r}",
        "zapłata faktury {r} {n}",
        "Faktura nr FV {r}",
        "{n}/{r}/zapłata",
    ),
    "EN": ("Invoice {r}", "INV {r}", "Payment invoice {r}", "Rechnung {r}", "Inv. no. {r}", "{r}"),
}
PROFORMA = {
    "HU": ("Díjbekérő {r}", "{r} díjbekérő", "előleg {r}", "Számla: {r}", "{r}"),
    "PL": ("Proforma {r}", "zapłata za proformę {r}", "{r}", "Faktura proforma nr {r}"),
}
CREDIT_REFUND = {
    "HU": (
        "Jóváírás {r} visszautalás",
        "{r} jóváíró számla",
        "Visszatérítés {r}",
        "Helyesbítő számla {r}",
        "Visszautalás, számla: {r}",
    ),
    "PL": ("Zwrot wg korekty {r}", "Korekta {r} zwrot", "Zwrot nadpłaty {r}", "zwrot - faktura korygująca {r}"),
}
SUPPLIER = {
    "HU": ("Számla {r}", "{r}", "szla {r}", "{r} számla kiegyenlítése", "Számlaszám: {r} {w}", "{r} sz. számla"),
    "PL": ("Faktura {r}", "FV {r}", "zapłata {r}", "Płatność za fakturę {r}", "{r}", "Faktura nr {r} {w}"),
}
MULTI = {
    "HU": ("Számlák: {l}", "szla {l}", "{l}", "{l} számlák kiegyenlítése", "Számla: {l}"),
    "PL": ("Faktury: {l}", "FV {l}", "zapłata za faktury {l}", "{l}", "Faktury nr {l}"),
}
JOINERS = {"HU": (", ", " + ", "; ", " és ", " ", "/"), "PL": (", ", " + ", "; ", " i ", " ", "/")}
ORDER = {
    "HU": (
        "Rendelés #{o}",
        "rendelésszám: {o}",
        "Megrendelés {o}",
        "{o} rendelés",
        "Webshop rendelés {o}",
        "Foglalás: {o}",
        "{o}",
    ),
    "PL": ("Zamówienie nr {o}", "zamówienie {o}", "Rezerwacja {o}", "Zamówienie #{o} {n}", "{o}"),
}
INSTALMENT = {
    "HU": ("{r} {k}. részlet", "{r} részletfizetés", "Számla {r} - részlet"),
    "PL": ("{r} rata {k}", "Faktura {r} - rata", "{r} częściowa zapłata"),
}
PARTIAL = {"HU": ("{r} részfizetés", "Számla {r} részben"), "PL": ("{r} częściowa płatność", "Faktura {r} część")}
NO_REF = {
    "HU": (
        "",
        "Átutalás",
        "utalás",
        "Szolgáltatási díj",
        "Bérleti díj",
        "{n}",
        "Köszönjük",
        "Egyenleg rendezése",
        "Tagdíj",
        "Megbízási díj",
        "Számla kiegyenlítése",
        "számla",
        "Díj",
    ),
    "PL": (
        "",
        "Przelew",
        "Płatność",
        "zapłata",
        "Opłata",
        "Przelew środków",
        "{n}",
        "Należność",
        "zapłata za fakturę",
        "Faktura",
        "Usługa",
    ),
}
CARD = {
    "HU": ("POS vásárlás {m} {c}", "Kártyás vásárlás {m}", "VÁSÁRLÁS KÁRTYÁVAL {m} {c}", "Bankkártya {m} {c}"),
    "PL": ("Płatność kartą {m} {c}", "Zakup przy użyciu karty {m}", "BLIK {m} {c}", "Transakcja kartą {m}"),
}
MERCHANTS = {
    "HU": (
        "TESCO",
        "SPAR",
        "ALDI",
        "LIDL",
        "AUCHAN",
        "MOL",
        "OMV",
        "SHELL",
        "IKEA",
        "MEDIA MARKT",
        "DECATHLON",
        "ROSSMANN",
        "DM",
        "PENNY",
        "CBA",
        "OBI",
        "PRAKTIKER",
    ),
    "PL": (
        "BIEDRONKA",
        "ŻABKA",
        "LIDL",
        "ORLEN",
        "CARREFOUR",
        "LEROY MERLIN",
        "CASTORAMA",
        "ROSSMANN",
        "PEPCO",
        "ALLEGRO",
        "DINO",
        "STOKROTKA",
        "MEDIA EXPERT",
    ),
}
TAX = {
    "HU": (
        ("NEMZETI ADÓ- ÉS VÁMHIVATAL", "Áfa befizetés {mon}"),
        ("NAV", "SZJA és járulékok {mon}"),
        ("NAV", "Társasági adó előleg"),
        ("NAV", "Szociális hozzájárulási adó"),
        ("NAV", "Iparűzési adó"),
    ),
    "PL": (
        ("URZĄD SKARBOWY", "/TI/N{nip}/OKR/25M{mm}/SFP/VAT-7/TXT/VAT {mon}"),
        ("ZAKŁAD UBEZPIECZEŃ SPOŁECZNYCH", "Składki ZUS {mon}"),
        ("ZUS", "ZUS składki za {mon}"),
        ("URZĄD SKARBOWY", "PIT-4R zaliczka {mon}"),
    ),
}
SALARY = {
    "HU": ("Munkabér {mon}", "Bér {mon}", "Fizetés {mon}", "Munkabér előleg"),
    "PL": ("Wynagrodzenie za {mon}", "Pensja {mon}", "Wynagrodzenie", "Premia {mon}"),
}
FEES = {
    "HU": ("Számlavezetési díj", "Tranzakciós illeték", "Utalási díj", "Kártyadíj", "Csomagdíj"),
    "PL": ("Opłata za prowadzenie rachunku", "Prowizja za przelew", "Opłata za kartę", "Opłata miesięczna"),
}
INTEREST = {"HU": ("Kamatjóváírás", "Betéti kamat"), "PL": ("Kapitalizacja odsetek", "Odsetki")}
OWN = {
    "HU": ("Saját számlák közötti átvezetés", "Átvezetés", "Devizaszámlára"),
    "PL": ("Przelew własny", "Przelew między rachunkami", "Zasilenie rachunku"),
}
BANKS = {
    "HU": ("OTP BANK NYRT.", "K&H BANK ZRT.", "MBH BANK NYRT.", "ERSTE BANK HUNGARY ZRT."),
    "PL": ("PKO BP S.A.", "MBANK S.A.", "ING BANK ŚLĄSKI S.A.", "SANTANDER BANK POLSKA S.A."),
}
NUMBERLIKE = {
    "HU": (
        "Befizetés {d} {a} Ft",
        "Kölcsön visszafizetés {a}",
        "Szerződés {k}/{y}",
        "Ügyfélszám {k}",
        "Óvadék {d}",
        "Kaució {a} Ft {d}",
    ),
    "PL": (
        "Zwrot pożyczki {d}",
        "Zaliczka {a} zł z dnia {d}",
        "Umowa {k}/{y}",
        "Nr klienta {k}",
        "Kaucja {a} zł",
        "Wpłata {d}",
    ),
}


def _month(rng: random.Random, lang: str) -> str:
    pool = names.HU_MONTHS if lang == "HU" else names.PL_MONTHS
    return rng.choice(pool)


def fill(rng: random.Random, templates: tuple[str, ...], **values: str) -> str:
    """Return a random template of ``templates`` filled with ``values`` (missing ones left out)."""
    text = rng.choice(templates)
    for key, value in values.items():
        text = text.replace("{" + key + "}", value)
    return " ".join(text.split()) if "{" not in text else text


def number_list(rng: random.Random, lang: str, refs: list[str]) -> str:
    """Return several written invoice numbers joined the way payers list them."""
    return rng.choice(JOINERS[lang]).join(refs)


def card(rng: random.Random, lang: str) -> tuple[str, str]:
    """Return (merchant, text) of a card payment."""
    merchant = rng.choice(MERCHANTS[lang])
    city = rng.choice(names.HU_CITIES if lang == "HU" else names.PL_CITIES)
    return merchant, fill(rng, CARD[lang], m=merchant, c=city.upper())


def tax(rng: random.Random, lang: str, nip: str) -> tuple[str, str]:
    """Return (tax office, text) of a tax or social-security payment."""
    office, template = rng.choice(TAX[lang])
    text = template.replace("{mon}", _month(rng, lang)).replace("{nip}", nip)
    return office, text.replace("{mm}", f"{rng.randint(1, 9):02d}")


def salary(rng: random.Random, lang: str) -> str:
    """Return the text of a salary transfer."""
    return fill(rng, SALARY[lang], mon=_month(rng, lang))


def numberlike(rng: random.Random, lang: str) -> str:
    """Return text with dates, amounts or contract numbers that are not invoice numbers."""
    y, m, d = 2025, rng.randint(1, 6), rng.randint(1, 28)
    day = rng.choice(
        (
            f"{y}.{m:02d}.{d:02d}.",
            f"{d:02d}.{m:02d}.{y}",
            f"{y}-{m:02d}-{d:02d}",
            f"{d}/{m}/{y}",
            f"{y}. {names.HU_MONTHS[m - 1]} {d}." if lang == "HU" else f"{d} {names.PL_MONTHS[m - 1]} {y}",
        )
    )
    amount = rng.choice(
        (
            f"{rng.randint(1, 999)} {rng.randint(0, 999):03d}",
            f"{rng.randint(10, 9999)},00",
            f"{rng.randint(1, 99)}.{rng.randint(0, 999):03d}",
        )
    )
    return fill(rng, NUMBERLIKE[lang], d=day, a=amount, k=str(rng.randint(100, 99999)), y=str(y))
